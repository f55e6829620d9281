package dev.baton.bench;

import dev.baton.policy.FairPolicy;
import dev.baton.policy.Job;
import dev.baton.policy.JobSpec;
import dev.baton.policy.Match;
import dev.baton.policy.PolicyEngine;
import dev.baton.policy.Selector;
import dev.baton.policy.TaskInfo;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

/**
 * What registering a job through the API costs when many are registered already: every
 * registration re-classifies every process, under the lock the event loop takes per event. One
 * operation registers a pid job and removes it, over {@code processes} processes and {@code jobs}
 * pid jobs already registered. Run with {@link PolicyTickBench} by {@code make bench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // with the agent's JVM options, as PolicyTickBench
public class JobRegistrationBench {

  @Param({"1000"})
  public int processes;

  @Param({"0", "4000"})
  public int jobs;

  private PolicyEngine engine;
  private Job job;

  @Setup(Level.Trial)
  public void setUp() {
    engine = new PolicyEngine(new FairPolicy(), List.of(), () -> 1_000_000_000L);
    for (int pid = 1; pid <= processes; pid++) {
      String comm = "p" + pid;
      engine.taskAppeared(new TaskInfo(pid, pid, comm, Match.ANY_UID, pid, 0, () -> "/", () -> comm));
    }
    for (int i = 0; i < jobs; i++) {
      engine.registerJob(new Job("j" + i, Selector.pids(processes + 1 + i), JobSpec.vod("t")));
    }
    job = new Job("new", Selector.pids(processes / 2), JobSpec.vod("t"));
  }

  @Benchmark
  public boolean registerAndRemove() {
    engine.registerJob(job);
    return engine.removeJob(job.id());
  }
}
