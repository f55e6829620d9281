package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Baton's scheduling behaviour on a real sched_ext kernel, measured in one guest boot per kernel
 * (integration-tests/scripts/sched-classes.sh): classes and preemption, EDF, wakeup preemption
 * below LIVE, tasks a higher scheduling class preempted handed back, weights, the starvation
 * guard, the stale-heartbeat fallback and pid-reuse safety, with hints written through the
 * agent's API. Timing in an emulated guest on a shared host is noisy: every assertion compares
 * two policies measured in the same seconds (or with a SCHED_FIFO noise floor), never absolute
 * times.
 * Subclasses choose the kernel.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SchedulerScenarios {

  Vm.Result run;
  Map<String, String> facts;

  /** The cached kernel version to boot. */
  abstract String kernel();

  /** The script's mode: "full", or "core" without the scenarios that each cost a JVM start. */
  abstract String mode();

  @BeforeAll
  void bootOnce() {
    run =
        Vm.guest(
            List.of("--cpus", "2", "--kernel", kernel()),
            Duration.ofSeconds(1500),
            "sh",
            "integration-tests/scripts/sched-classes.sh",
            mode());
    facts = run.facts();
  }

  /** The cached kernels, newest (the default) first, as bin/baton vm --list-kernels prints them. */
  static List<String> cachedKernels() {
    Vm.Result r = Vm.host(Duration.ofSeconds(30), "bin/baton", "vm", "--list-kernels");
    assertThat(r.exitCode()).as("bin/baton vm --list-kernels: " + r.output()).isZero();
    return r.output().lines().map(l -> l.split(" ")[0]).filter(l -> !l.isBlank()).toList();
  }

  @Test
  void attachesAndDetachesCleanly() {
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(facts.get("kernel")).startsWith(kernel());
    assertThat(facts.get("state_attached")).as(agentLog()).isEqualTo("enabled");
    assertThat(facts.get("ops")).isEqualTo("baton");
    // It leaves by a handover (exit 9, the scheduler attached); removing the pins detaches it.
    assertThat(facts.get("agent_exit")).as(agentLog()).isEqualTo("9");
    assertThat(facts.get("unpin_exit")).isEqualTo("0");
    assertThat(facts.get("state_detached")).isEqualTo("disabled");
    assertThat(stats()).containsEntry("hints_invalid", 0L);
  }

  /**
   * Every JVM thread of the agent goes ahead of NORMAL work, not the event loop's alone: the loop
   * shares locks with the others (the heap's, the JVM's), and a holder preempted behind NORMAL
   * hogs can keep it waiting for seconds.
   */
  @Test
  void theAgentsWholeProcessIsInteractive() {
    assertThat(facts.get("agent_hint"))
        .as(agentLog())
        .contains("\"tgid\":")
        .contains("\"class\":\"interactive\"")
        .contains("\"alive\":true");
  }

  @Test
  void kernelThreadsAreInteractiveAndUserTasksNormalByDefault() {
    // A preempted khugepaged holding the agent's mmap_lock, NORMAL behind hogs, stalled the agent
    // for seconds: kernel threads go before NORMAL work.
    assertThat(facts.get("default_kthread"))
        .as("GET /v1/hints/<khugepaged>")
        .contains("\"comm\":\"khugepaged\"", "\"scheduled_as\":\"interactive\"");
    assertThat(facts.get("default_hog"))
        .as("GET /v1/hints/<an unhinted hog>")
        .contains("\"scheduled_as\":\"normal\"");
  }

  @Test
  void liveMeetsDeadlinesThatNormalMissesUnderHogs() {
    long jobs = num("live_jobs");
    assertThat(num("live_rounds")).isEqualTo(3);
    assertThat(num("normal_jobs")).isEqualTo(jobs);
    // LIVE within 10% of jobs of what SCHED_FIFO managed in the same seconds ...
    assertThat(num("live_misses"))
        .as(deadlineFacts("live", "normal", "fifo"))
        .isLessThanOrEqualTo(num("fifo_misses") + jobs / 10);
    // ... while the same task as NORMAL misses many more.
    assertThat(num("normal_misses"))
        .as(deadlineFacts("live", "normal", "fifo"))
        .isGreaterThanOrEqualTo(num("live_misses") + jobs / 5);
    assertThat(stats().get("kicks")).isPositive();
  }

  @Test
  void edfMeetsDeadlinesThatFifoOrderMisses() {
    String all = deadlineFacts("edf_live_short", "edf_live_long", "edf_fifo_short", "edf_fifo_long");
    long shortJobs = num("edf_live_short_jobs");
    // Run-to-completion in arrival order makes the short-period task wait behind the long job.
    assertThat(num("edf_fifo_short_misses")).as(all).isGreaterThanOrEqualTo(shortJobs / 4);
    // The host's share: SCHED_FIFO's miss rate in the first scenario, where nothing else could
    // have delayed it (an emulated guest on a shared host loses whole vCPUs for a while).
    double noise = (double) num("fifo_misses") / num("fifo_jobs");
    long longJobs = num("edf_live_long_jobs");
    assertThat(num("edf_live_short_misses"))
        .as(all)
        .isLessThanOrEqualTo(shortJobs / 10 + (long) Math.ceil(noise * shortJobs));
    assertThat(num("edf_live_long_misses"))
        .as(all)
        .isLessThanOrEqualTo(longJobs / 10 + (long) Math.ceil(noise * longJobs));
  }

  @Test
  void overrunningLiveTasksGoAfterEveryLiveTaskOnTime() {
    String all = deadlineFacts("overrun");
    assertThat(num("overrun_jobs")).as(all).isGreaterThan(40);
    assertThat(facts.get("overrun_state")).as("still attached: no task starved").isEqualTo("enabled");
    // The hogs overran long ago: the loop's frames preempt them at once and are late only by
    // what the host takes (measured: none late, woken within 0.9 ms). Hogs that kept their EDF
    // rank with a deadline from now made the loop wait for it (40 ms) and a slice: 75-85 ms
    // late at most; with the deadline only moved back from where it was, up to 3.3 s.
    assertThat(num("overrun_max_late_us")).as(all).isLessThan(25_000);
    // Counted once a burst (from an overrun to the next sleep): the hogs count once each.
    assertThat(stats().get("live_overruns")).as(all).isPositive();
  }

  /**
   * A cgroup's cpu.max holds while Baton runs: the kernel's own bandwidth control only holds
   * tasks of its fair class, which then has none. Measured on 7.3: 19.5% of a CPU for a cgroup
   * limited to 20% with two hogs against two others, 30% for one running alone in a cgroup
   * limited to 50% whose parent is limited to 30%.
   */
  @Test
  void aCgroupsCpuMaxHolds() {
    String all = facts.entrySet().stream().filter(e -> e.getKey().startsWith("cpumax")).toList().toString();
    assertThat(facts.get("cpumax_state")).as(all).isEqualTo("enabled");
    // 25% of a CPU, give or take a tick a period; uncapped, its two hogs would take one CPU of two.
    assertThat(share("cpumax_limited")).as(all).isBetween(0.15, 0.35);
    // Set back to max, its hogs get their share at once: one CPU of two (measured 0.92-1.02 in
    // 2 s windows on 7.2, 0.96 on 7.3; a busy host's guest, 0.67), twice what the limit allowed.
    assertThat(share("cpumax_lifted")).as(all).isGreaterThan(0.5);
    // Alone on its CPU, nothing but the limits hold it back: its own cgroup's 50% and, tighter,
    // the 30% of that cgroup's parent (counting only its own cgroup's, it would get 0.5).
    // Measured 0.30-0.31 on 7.2, also in a guest whose TSC the kernel had found unstable, where
    // it got 0.13-0.19 with the budgets on scx_bpf_now()'s clock (which then lags in a timer on
    // an idle CPU) and 0.42-0.64 with late ticks' overdrafts forgiven beyond one quota.
    assertThat(share("cpumax_lone")).as(all).isBetween(0.2, 0.4);
    assertThat(stats().get("cpu_max_throttles")).as(all).isPositive();
  }

  /** CPU time over wall time of a cpumax phase. */
  private double share(String phase) {
    return (double) num(phase + "_usage_us") / num(phase + "_wall_us");
  }

  @Test
  void aLiveTaskIsJudgedOverrunningFromTheMomentItOverrunsNotAtItsSlicesEnd() {
    String all = deadlineFacts("midrun");
    assertThat(num("midrun_jobs")).as(all).isGreaterThan(60);
    assertThat(facts.get("midrun_state")).as("still attached").isEqualTo("enabled");
    // A frame waits at most for the burst's 10 ms on time and a tick (measured: none late of 426
    // in 20 s, woken within 12 ms). Judged by the deadline it started its run with until it
    // slept, the burst kept frames waiting for whole bursts: 63 of 107 late, 57 ms at most.
    assertThat(num("midrun_max_late_us")).as(all).isLessThan(10_000);
  }

  @Test
  void anOverrunLiveTaskIsNotStarvedByOnTimeLiveWork() {
    String all = "overload_hog_ms=" + facts.get("overload_hog_ms") + " " + agentLog();
    assertThat(facts.get("overload_state")).as("still attached").isEqualTo("enabled");
    // Behind on-time work that never lets up it waits about OVERRUN_DELAY_NS and its deadline
    // (120 ms), then runs a slice (20 ms): measured 507 ms of the 3 s. Put after every on-time
    // deadline instead it ran only while all three slept at once: 118 ms.
    assertThat(num("overload_hog_ms")).as(all).isGreaterThan(250);
  }

  @Test
  void aNormalTaskThatSleepsOftenPreemptsHogsAsItWakes() {
    String all = deadlineFacts("wake", "wake_fifo") + " stats=" + stats();
    long jobs = num("wake_jobs");
    assertThat(num("wake_rounds")).isEqualTo(1);
    assertThat(num("wake_fifo_jobs")).isEqualTo(jobs);
    // Waiting for a hog's slice to end (100 ms), it would miss nearly every 1 ms deadline. Within
    // 10% of jobs of what SCHED_FIFO managed in the same seconds; measured alone: 5% missed.
    assertThat(num("wake_misses")).as(all).isLessThanOrEqualTo(num("wake_fifo_misses") + jobs / 10);
    assertThat(stats().get("wake_preempts")).as(all).isPositive();
  }

  @Test
  void aTaskPreemptedByAHigherClassIsHandedBackToItsQueue() {
    String all = deadlineFacts("rt") + " stats=" + stats();
    assertThat(num("rt_rounds")).isEqualTo(1);
    assertThat(num("rt_fifo_rounds")).isEqualTo(1);
    assertThat(num("rt_fifo_jobs")).as(all).isPositive();
    // Each of the FIFO loop's jobs preempts a hog or the NORMAL loop on CPU 1, whose tasks are
    // then handed back (measured: 2755 for 3000 jobs). Left at the head of the local queue, none.
    assertThat(num("rt_reenqueued")).as(all).isGreaterThanOrEqualTo(num("rt_fifo_jobs") / 10);
  }

  @Test
  void weightsSplitOneCpuTwoToOne() {
    assertThat(facts.get("weights_heavy_put")).isEqualTo("200");
    double ratio = (double) num("weights_heavy_ns") / num("weights_light_ns");
    assertThat(ratio).as("heavy/light CPU time").isBetween(2 * 0.85, 2 * 1.15);
  }

  /**
   * An upgrade's handover: systemd starts the next agent seconds after this one exits, longer
   * than stale_ms, and the hints (live jobs' classes) must not lapse meanwhile.
   */
  @Test
  void afterAHandoverTheHintsHoldForTheGraceThenGoStale() {
    assertThat(facts.get("handover_post")).isEqualTo("200");
    assertThat(run.section("agent"))
        .contains("baton: hints kept for 8000 ms (handover_grace_ms) + stale_ms, or until the next agent adopts the scheduler");
    assertThat(ratio("stale_handover_kept")).as("no agent, within the grace: 400:100 still").isGreaterThan(3.0);
    assertThat(ratio("stale_handover_gone")).as("no agent, grace and stale_ms past: equal weights").isBetween(0.7, 1.4);
    assertThat(facts.get("handover_state")).isEqualTo("enabled");
  }

  @Test
  void hintsAreIgnoredWhileTheHeartbeatIsStaleAndUsedAgainAfter() {
    assertThat(ratio("stale_fresh")).as("400:100 with a fresh heartbeat").isGreaterThan(3.0);
    assertThat(ratio("stale_stopped")).as("agent stopped: both tasks NORMAL, equal weight").isBetween(0.7, 1.4);
    assertThat(ratio("stale_resumed")).as("agent running again").isGreaterThan(3.0);
    assertThat(stats().get("stale_periods")).isPositive();
    assertThat(stats().get("stale_enqueues")).isPositive();
    assertThat(stats().get("stale_ns")).isGreaterThanOrEqualTo(1_000_000_000L);
  }

  @Test
  void aProcessGivenADeadTasksPidDoesNotInheritItsHint() {
    assertThat(facts.get("reuse_a_put")).isEqualTo("200");
    double aShare = share("reuse_a_ns", "reuse_c_with_a_ns");
    assertThat(aShare).as("A hinted IDLE against a NORMAL hog").isLessThan(0.3);
    assertThat(facts.get("reuse_pid_taken")).isEqualTo("yes");
    assertThat(run.section("probe")).anyMatch(l -> l.startsWith("reused pid="));
    double bShare = share("reuse_b_ns", "reuse_c_with_b_ns");
    assertThat(bShare).as("B, with A's pid, against the same hog: NORMAL").isBetween(0.35, 0.65);
  }

  @Test
  void lowerClassesProgressUnderFullLoadAndNothingIsEjected() {
    // The guard serves a class, which its two hogs share: measured 0.86-0.96 s together, ~1 s
    // for IDLE's one.
    assertThat(num("starve_batch_ns") + num("starve_pinned_batch_ns"))
        .as("BATCH CPU time in 10 s")
        .isGreaterThan(500_000_000L);
    assertThat(num("starve_idle_ns")).as("IDLE CPU time in 10 s").isGreaterThan(300_000_000L);
    // Only CPU 0 may run the pinned one, and the guard serves BATCH on the other CPU too: CPU 0
    // still comes to it (at least a 10 ms guard slice every 7 x 100 ms); measured 0.47-0.52 s.
    assertThat(num("starve_pinned_batch_ns")).as("pinned BATCH CPU time in 10 s").isGreaterThan(100_000_000L);
    assertThat(num("starve_batch_ns")).as("the other BATCH hog's").isGreaterThan(100_000_000L);
    // IDLE by its cgroup's hint: it gets the guard's share, well under a NORMAL hog's. It joined
    // the cgroup after fork with the cpu controller off, so the kernel never told sched_ext.
    assertThat(facts.get("cgroup_background_put")).isEqualTo("200");
    assertThat(facts.get("cgroup_controllers")).doesNotContain("cpu");
    assertThat(num("starve_idle_ns")).isLessThan(num("starve_normal_ns") / 2);
    assertThat(facts.get("starve_state")).isEqualTo("enabled");
    assertThat(facts.get("starve_agent_alive")).isEqualTo("yes");
    assertThat(stats().get("guard")).isPositive();
    assertThat(run.section("agent")).noneMatch(l -> l.contains("the kernel ended the scheduler"));
  }

  long num(String key) {
    String v = facts.get(key);
    assertThat(v).as("fact %s missing; output:\n%s", key, run.output()).isNotNull();
    return Long.parseLong(v);
  }

  private double ratio(String prefix) {
    return (double) num(prefix + "_heavy_ns") / Math.max(1, num(prefix + "_light_ns"));
  }

  private double share(String mine, String other) {
    return (double) num(mine) / Math.max(1, num(mine) + num(other));
  }

  private String deadlineFacts(String... names) {
    StringBuilder sb = new StringBuilder();
    facts.forEach(
        (k, v) -> {
          if (Arrays.stream(names).anyMatch(n -> k.startsWith(n + "_"))) {
            sb.append(k).append('=').append(v).append(' ');
          }
        });
    return sb.toString();
  }

  /** The scheduler's counters as the agent printed them when it stopped ("baton: stats k=v ..."). */
  Map<String, Long> stats() {
    String line =
        run.section("agent").stream()
            .filter(l -> l.startsWith("baton: stats "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no stats line in the agent's log:\n" + agentLog()));
    return Arrays.stream(line.substring("baton: stats ".length()).split(" "))
        .map(kv -> kv.split("="))
        .collect(java.util.stream.Collectors.toMap(kv -> kv[0], kv -> Long.parseLong(kv[1])));
  }

  private String agentLog() {
    return String.join("\n", run.section("agent"));
  }
}
