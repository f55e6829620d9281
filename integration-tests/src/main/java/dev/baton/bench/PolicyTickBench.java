package dev.baton.bench;

import dev.baton.policy.Decision;
import dev.baton.policy.FairPolicy;
import dev.baton.policy.Job;
import dev.baton.policy.JobSpec;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.Match;
import dev.baton.policy.Policy;
import dev.baton.policy.PolicyEngine;
import dev.baton.policy.Selector;
import dev.baton.policy.TaskInfo;
import dev.baton.policy.Tenant;
import dev.baton.policy.transcode.TranscodePolicy;
import dev.baton.policy.transcode.TranscodeSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * What the policy engine costs the agent's event loop, natively (JMH): one 100 ms policy period
 * of a farm host (every active task's runtime sample, the live jobs' frame reports, then the
 * tick that decides and diffs the hints), and one runtime sample alone, the per-event path.
 *
 * <p>The host: per {@code scale}, 2 CPUs, 4 live jobs (30 and 60 fps, two threads each), two VOD
 * tenants of 4 jobs of 2 threads each, and 150 tasks no job selects (kernel threads, daemons),
 * a tenth of them active in a period. VOD threads' CPU varies by up to a fifth period to period,
 * so some weights cross the dead band and are rewritten, as on a real host. The baseline run
 * side by side is the same host under the {@code fair} policy, which decides nothing: what is
 * left is the engine's bookkeeping. {@code gc.alloc.rate.norm} is the bytes allocated per
 * operation; the per-event path must show none.
 *
 * <p>Run by {@code make bench} (integration-tests/bench/policy-tick.sh), with {@link
 * JobRegistrationBench}; writes the summary JSON named on the command line and JMH's own next to
 * it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// The fork inherits this JVM's options: policy-tick.sh starts it with the agent's (deploy/jvm.args).
@Fork(1)
public class PolicyTickBench {

  static final long PERIOD_NS = 100_000_000L;

  @Param({"transcode", "fair"})
  public String policy;

  @Param({"1", "10"})
  public int scale;

  private final long[] clock = {1_000_000_000L};
  private PolicyEngine engine;
  private int[] vodPids;
  private int[] livePids;
  private int[] otherPids;
  private String[] liveJobs;
  private long[] liveFrames;
  private int[] liveFps;
  private long rng = 0x9E3779B97F4A7C15L;
  private int nextSamplePid;

  @Setup(Level.Trial)
  public void setUp() {
    int cpus = 2 * scale;
    Policy p =
        switch (policy) {
          case "transcode" ->
              new TranscodePolicy(
                  TranscodeSettings.DEFAULTS, List.of(new Tenant("a", 100), new Tenant("b", 200)), cpus);
          case "fair" -> new FairPolicy();
          default -> throw new IllegalArgumentException("policy " + policy);
        };
    LongSupplier now = () -> clock[0];
    engine = new PolicyEngine(p, List.of(), now);
    int pid = 1000;
    List<Integer> other = new ArrayList<>();
    for (int i = 0; i < 150 * scale; i++, pid++) {
      engine.taskAppeared(task(pid, pid, "kworker"));
      other.add(pid);
    }
    int nrLive = 4 * scale;
    liveJobs = new String[nrLive];
    liveFrames = new long[nrLive];
    liveFps = new int[nrLive];
    livePids = new int[2 * nrLive];
    for (int j = 0; j < nrLive; j++, pid += 2) {
      liveFps[j] = j % 2 == 0 ? 30 : 60;
      liveJobs[j] = "live" + j;
      engine.taskAppeared(task(pid, pid, "enc-live"));
      engine.taskAppeared(task(pid + 1, pid, "enc-live"));
      livePids[2 * j] = pid;
      livePids[2 * j + 1] = pid + 1;
      // Declared cost: together the live jobs need about three quarters of the CPUs.
      long periodUs = LiveSpec.periodUs(liveFps[j]);
      LiveSpec spec = new LiveSpec(periodUs, periodUs * 3 * cpus / (4 * nrLive));
      engine.registerJob(new Job(liveJobs[j], Selector.pids(pid), JobSpec.live("default", spec)));
    }
    int nrVod = 8 * scale;
    vodPids = new int[2 * nrVod];
    for (int j = 0; j < nrVod; j++, pid += 2) {
      engine.taskAppeared(task(pid, pid, "enc-vod"));
      engine.taskAppeared(task(pid + 1, pid, "enc-vod"));
      vodPids[2 * j] = pid;
      vodPids[2 * j + 1] = pid + 1;
      engine.registerJob(new Job("vod" + j, Selector.pids(pid), JobSpec.vod(j % 2 == 0 ? "a" : "b")));
    }
    otherPids = other.stream().mapToInt(Integer::intValue).toArray();
    for (int i = 0; i < 100; i++) {
      period(); // past the live jobs' first lag windows, so every branch of the tick is warm
    }
  }

  private static TaskInfo task(int pid, int tgid, String comm) {
    return new TaskInfo(pid, tgid, comm, Match.ANY_UID, pid * 1_000L, 0, () -> "/", () -> comm);
  }

  /** A number in [0, bound), cheap and the same every run. */
  private int next(int bound) {
    rng ^= rng << 13;
    rng ^= rng >>> 7;
    rng ^= rng << 17;
    return (int) ((rng >>> 33) % bound);
  }

  /** One policy period: its samples and frame reports, then the tick. */
  @Benchmark
  public Decision period() {
    clock[0] += PERIOD_NS;
    long share = PERIOD_NS * 2 * scale / 4 / vodPids.length; // VOD gets about a quarter
    for (int pid : vodPids) {
      long cpu = share - share / 10 + share * next(20) / 100;
      engine.runtimeSample(pid, cpu, 3 * cpu, 2);
    }
    for (int pid : livePids) {
      engine.runtimeSample(pid, PERIOD_NS * 3 / 16, PERIOD_NS / 50, 3);
    }
    for (int i = 0; i < otherPids.length / 10; i++) {
      engine.runtimeSample(otherPids[next(otherPids.length)], 200_000, 10_000, 1);
    }
    for (int j = 0; j < liveJobs.length; j++) {
      liveFrames[j] += liveFps[j] / 10;
      engine.frameProgress(liveJobs[j], liveFrames[j]);
    }
    return engine.tick();
  }

  /** One runtime sample: what the event loop does per ring-buffer record. */
  @Benchmark
  public void sample() {
    int pid = vodPids[nextSamplePid];
    nextSamplePid = nextSamplePid + 1 == vodPids.length ? 0 : nextSamplePid + 1;
    engine.runtimeSample(pid, 1_000_000, 300_000, 1);
  }

  /** usage: PolicyTickBench OUT.json — runs the benchmarks, prints a table, writes the figures. */
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: PolicyTickBench <out.json>");
      System.exit(2);
    }
    Path out = Path.of(args[0]);
    Path jmhOut = out.resolveSibling(out.getFileName().toString().replaceFirst("\\.json$", "") + "-jmh.json");
    java.nio.file.Files.createDirectories(out.toAbsolutePath().getParent());
    long start = System.nanoTime();
    Collection<RunResult> results =
        new Runner(
                new OptionsBuilder()
                    .include(PolicyTickBench.class.getName() + "\\.")
                    .include(JobRegistrationBench.class.getName() + "\\.")
                    .addProfiler(GCProfiler.class)
                    .resultFormat(org.openjdk.jmh.results.format.ResultFormatType.JSON)
                    .result(jmhOut.toString())
                    .timeUnit(TimeUnit.NANOSECONDS)
                    .warmupTime(TimeValue.seconds(1))
                    .build())
            .run();
    Report report = new Report();
    Report.print("%n%-10s %-6s %-6s %14s %14s %10s", "policy", "scale", "op", "ns/op", "B/op", "vs fair");
    for (String op : List.of("period", "sample")) {
      for (int scale : new int[] {1, 10}) {
        double fairNs = score(results, op, "fair", scale).getScore();
        for (String policy : List.of("transcode", "fair")) {
          RunResult r = find(results, op, policy, scale);
          double ns = r.getPrimaryResult().getScore();
          Result<?> alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
          double bytes = alloc == null ? Double.NaN : alloc.getScore();
          String key = op + "." + policy + ".scale" + scale;
          report.put(key + ".ns", ns).put(key + ".ns_error", finite(r.getPrimaryResult().getScoreError()));
          if (Double.isFinite(bytes)) {
            report.put(key + ".alloc_bytes", bytes);
          }
          report.put(key + ".vs_fair", ns / fairNs);
          Report.print("%-10s %-6d %-6s %14.0f %14.1f %10.2f", policy, scale, op, ns, bytes, ns / fairNs);
        }
      }
    }
    for (RunResult r : results) {
      if (r.getParams().getBenchmark().startsWith(JobRegistrationBench.class.getName())) {
        int jobs = Integer.parseInt(r.getParams().getParam("jobs"));
        String processes = r.getParams().getParam("processes");
        double ns = r.getPrimaryResult().getScore();
        report.put("register_remove.processes" + processes + ".jobs" + jobs + ".ns", ns);
        Report.print("register + remove a job, %s processes, %d jobs registered: %.0f ns", processes, jobs, ns);
      }
    }
    report.put("jmh_results", jmhOut.toString());
    report.put("bench_seconds", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
    report.writeJson(out);
    Report.print("%nWrote %s and %s", out, jmhOut);
  }

  private static double finite(double d) {
    return Double.isFinite(d) ? d : 0;
  }

  private static Result<?> score(Collection<RunResult> results, String op, String policy, int scale) {
    return find(results, op, policy, scale).getPrimaryResult();
  }

  private static RunResult find(Collection<RunResult> results, String op, String policy, int scale) {
    return results.stream()
        .filter(r -> r.getParams().getBenchmark().endsWith("." + op))
        .filter(r -> policy.equals(r.getParams().getParam("policy")))
        .filter(r -> Integer.toString(scale).equals(r.getParams().getParam("scale")))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no result for " + op + " " + policy + " " + scale));
  }
}
