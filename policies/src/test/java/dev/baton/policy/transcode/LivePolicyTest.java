package dev.baton.policy.transcode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.policy.Decision;
import dev.baton.policy.FakeClock;
import dev.baton.policy.Hint;
import dev.baton.policy.HintChange;
import dev.baton.policy.Job;
import dev.baton.policy.JobSpec;
import dev.baton.policy.JobStatus;
import dev.baton.policy.JobStatus.Health;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.PolicyEngine;
import dev.baton.policy.SchedClass;
import dev.baton.policy.Selector;
import dev.baton.policy.Tasks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** Live jobs: deadlines from the frame period, lag reaction, and infeasible-job reports. */
class LivePolicyTest {

  private static final int TICK_MS = 10;
  private static final int FPS = 50; // 20 ms period; judged over 30 periods = 600 ms

  private final FakeClock clock = new FakeClock(1_000_000_000L);
  private final Tasks tasks = new Tasks();
  private final PolicyEngine engine =
      new PolicyEngine(
          new TranscodePolicy(TranscodeSettings.DEFAULTS, List.of(), 2), List.of(), clock);
  private final List<JobStatus> events = new ArrayList<>();
  private long frames;
  private long ticks;
  private double wakeupDebt;

  private void liveJob(String id, int pid, long frameCostUs) {
    engine.taskAppeared(tasks.task(pid, pid, "ffmpeg", 1000, "/farm/live", ""));
    engine.registerJob(
        new Job(id, Selector.pids(pid), JobSpec.live("acme", LiveSpec.ofFps(FPS, frameCostUs))));
  }

  /**
   * Runs {@code ms}, each tick giving {@code pid} these shares of a CPU; reports frames if fps > 0.
   */
  private void run(long ms, int pid, double cpu, double wait, double reportedFps) {
    run(ms, pid, cpu, wait, reportedFps, 1000 / TICK_MS);
  }

  /** The same, with the job's tasks waking {@code wakeupsPerS} times a second in all. */
  private void run(long ms, int pid, double cpu, double wait, double reportedFps, double wakeupsPerS) {
    for (long t = 0; t < ms; t += TICK_MS) {
      clock.advanceMs(TICK_MS);
      wakeupDebt += wakeupsPerS * TICK_MS / 1000;
      long wakeups = (long) wakeupDebt;
      wakeupDebt -= wakeups;
      engine.runtimeSample(pid, (long) (cpu * TICK_MS * 1e6), (long) (wait * TICK_MS * 1e6), wakeups);
      if (reportedFps > 0 && ++ticks % 10 == 0) {
        frames += Math.round(reportedFps / 10);
        engine.frameProgress("live", frames);
      }
      tick();
    }
  }

  /** Live jobs a, b and c (pids 10, 20, 30), no cost declared, registered in that order. */
  private void threeJobsOfUnknownCost() {
    liveJob("a", 10, 0);
    clock.advanceMs(1);
    liveJob("b", 20, 0);
    clock.advanceMs(1);
    liveJob("c", 30, 0);
  }

  /**
   * Runs {@code ms}; each tick every pid in {@code shares} gets {CPU share, waiting share,
   * wakeups in the tick}.
   */
  private void runAll(long ms, Map<Integer, double[]> shares) {
    for (long t = 0; t < ms; t += TICK_MS) {
      clock.advanceMs(TICK_MS);
      shares.forEach(
          (pid, s) -> engine.runtimeSample(pid, (long) (s[0] * TICK_MS * 1e6), (long) (s[1] * TICK_MS * 1e6), (long) s[2]));
      tick();
    }
  }

  private Decision tick() {
    Decision d = engine.tick();
    events.addAll(d.statusChanges());
    return d;
  }

  private Hint hint(int pid) {
    return engine.task(pid).orElseThrow().hint();
  }

  private JobStatus status(String job) {
    return engine.status(job).orElseThrow();
  }

  @Test
  void liveTasksGetEdfWithTheFramePeriodMinusTheMarginAsDeadline() {
    liveJob("live", 10, 0);
    tick();
    assertThat(hint(10)).isEqualTo(Hint.live(100, 0, 18_000));
    assertThat(status("live").health()).isEqualTo(Health.MEASURING);
  }

  @Test
  void aLaggingJobGetsEarlierDeadlinesThenRecovers() {
    liveJob("live", 10, 10_000); // needs 0.5 CPUs
    run(590, 10, 0.3, 0.7, 0);
    assertThat(status("live").health()).isEqualTo(Health.MEASURING);
    run(20, 10, 0.3, 0.7, 0);
    assertThat(status("live").health()).isEqualTo(Health.LAGGING);
    assertThat(hint(10)).as("the slice stays the class's").isEqualTo(Hint.live(100, 0, 16_000));
    run(600, 10, 0.3, 0.7, 0);
    assertThat(hint(10)).as("one step per window").isEqualTo(Hint.live(100, 0, 14_000));
    run(5_000, 10, 0.3, 0.7, 0);
    assertThat(hint(10)).as("at most live_lag_levels").isEqualTo(Hint.live(100, 0, 12_000));
    assertThat(status("live").lagLevel()).isEqualTo(3);
    assertThat(status("live").reason()).contains("got 0.30 of 0.50 CPUs");

    run(3_000, 10, 0.5, 0.1, 0);
    assertThat(status("live").lagLevel()).as("levels come back slowly").isEqualTo(3);
    run(20_000, 10, 0.5, 0.1, 0);
    assertThat(status("live").health()).isEqualTo(Health.ON_TIME);
    assertThat(hint(10)).isEqualTo(Hint.live(100, 0, 18_000));
    assertThat(events)
        .extracting(JobStatus::health, JobStatus::lagLevel)
        .startsWith(
            org.assertj.core.groups.Tuple.tuple(Health.MEASURING, 0),
            org.assertj.core.groups.Tuple.tuple(Health.LAGGING, 1),
            org.assertj.core.groups.Tuple.tuple(Health.LAGGING, 2),
            org.assertj.core.groups.Tuple.tuple(Health.LAGGING, 3))
        .endsWith(org.assertj.core.groups.Tuple.tuple(Health.ON_TIME, 0));
  }

  @Test
  void noLevelPullsTheDeadlineBelowWhatATaskRunsBetweenSleeps() {
    liveJob("live", 10, 15_000); // needs 0.75 CPUs
    // 0.6 CPUs in 50 wakeups a second: 12 ms between sleeps, which a 15 ms deadline holds with
    // BURST_HEADROOM (level 1: 16 ms) and a 14 ms one does not (level 2). First a while on
    // time, not waiting, so that the smoothed rates have settled.
    run(3_000, 10, 0.6, 0.0, 0, 50);
    assertThat(status("live").lagLevel()).isZero();
    run(5_000, 10, 0.6, 0.4, 0, 50);
    assertThat(status("live").health()).isEqualTo(Health.LAGGING);
    assertThat(status("live").lagLevel()).isEqualTo(1);
    assertThat(hint(10).deadlineUs()).isEqualTo(16_000);
    // Shorter runs between sleeps (the same CPU in 100 wakeups) let it climb again.
    run(5_000, 10, 0.6, 0.4, 0, 100);
    assertThat(status("live").lagLevel()).isEqualTo(3);
    assertThat(hint(10).deadlineUs()).isEqualTo(12_000);
  }

  @Test
  void aJobThatNeverSleepsClimbsNoLevel() {
    liveJob("live", 10, 15_000);
    run(5_000, 10, 0.6, 0.4, 0, 0);
    assertThat(status("live").health()).isEqualTo(Health.LAGGING);
    assertThat(status("live").lagLevel()).isZero();
    assertThat(hint(10).deadlineUs()).isEqualTo(18_000);
  }

  @Test
  void aSlowJobThatIsNotWaitingForCpuIsNotPushed() {
    liveJob("live", 10, 10_000);
    run(2_000, 10, 0.3, 0.0, 0); // its input is slow, not the scheduler
    assertThat(status("live").health()).isEqualTo(Health.ON_TIME);
    assertThat(hint(10).deadlineUs()).isEqualTo(18_000);
  }

  @Test
  void frameReportsJudgeProgressAndMeasureTheCostPerFrame() {
    liveJob("live", 10, 0);
    run(2_000, 10, 0.4, 0.3, 40); // 40 of 50 fps while waiting
    JobStatus s = status("live");
    assertThat(s.health()).isEqualTo(Health.LAGGING);
    assertThat(s.reason()).contains("40.0 of 50.0 fps");
    assertThat(s.demandCpus())
        .as("0.4 CPUs for 40 fps: 10 ms a frame, 0.5 CPUs at 50 fps")
        .isCloseTo(0.5, Offset.offset(0.02));
  }

  @Test
  void framesOnTimeMeanOnTimeEvenWhileWaiting() {
    liveJob("live", 10, 0);
    run(2_000, 10, 0.5, 0.3, 50);
    assertThat(status("live").health()).isEqualTo(Health.ON_TIME);
  }

  @Test
  void withLagSlicesConfiguredEachLevelAlsoHalvesTheSlice() {
    PolicyEngine e =
        new PolicyEngine(
            new TranscodePolicy(
                TranscodeSettings.of(Map.of("live_lag_slice_us", 2_000L)), List.of(), 2),
            List.of(),
            clock);
    e.taskAppeared(tasks.task(10, 10, "ffmpeg", 0, "/", ""));
    e.registerJob(
        new Job("live", Selector.pids(10), JobSpec.live("t", LiveSpec.ofFps(FPS, 10_000))));
    List<Integer> slices = new ArrayList<>();
    for (int ms = 0; ms < 3_000; ms += TICK_MS) {
      clock.advanceMs(TICK_MS);
      e.runtimeSample(10, 3_000_000, 7_000_000, 1);
      e.tick();
      int slice = e.task(10).orElseThrow().hint().sliceUs();
      if (slices.isEmpty() || slices.getLast() != slice) {
        slices.add(slice);
      }
    }
    assertThat(slices).containsExactly(0, 2_000, 1_000, 500);
  }

  @Test
  void aJobThatNeverWokeHasNoResponseTimeToReport() {
    liveJob("live", 10, 0);
    // Running, never sleeping: no response time to judge by, and none made up.
    run(1_000, 10, 1.0, 0, 0, 0);
    assertThat(status("live").reason())
        .contains("no wakeup in the last window")
        .doesNotContain("ms from wakeup");
  }

  @Test
  void aJobThatStopsWakingIsJudgedBusyNotByAResponseTimeThatDecays() {
    liveJob("live", 10, 0); // 20 ms frames, 18 ms deadline
    run(3_000, 10, 0.5, 0.3, 0, FPS);
    assertThat(status("live").reason()).contains("ms from wakeup to sleep");
    // Backlogged: runnable all the time, never sleeping. The smoothed wakeup rate only decays
    // towards zero; a response time divided by it would be astronomical, and is not reported.
    run(10_000, 10, 0.6, 0.4, 0, 0);
    assertThat(status("live").reason())
        .contains("no wakeup in the last window")
        .doesNotContainPattern("\\d{5,}");
    assertThat(status("live").health()).isEqualTo(Health.LAGGING);
  }

  @Test
  void withoutCostOrFramesLagIsAResponseLongerThanTheDeadline() {
    liveJob("live", 10, 0); // 20 ms frames, 18 ms deadline
    // Once a frame: 10 ms running and 6 ms waiting, on time though it waits.
    run(3_000, 10, 0.5, 0.3, 0, FPS);
    assertThat(status("live").health()).isEqualTo(Health.ON_TIME);
    assertThat(status("live").reason())
        .containsPattern("(15\\.[5-9]|16\\.[0-4]) ms from wakeup to sleep against a 18\\.0 ms deadline");
    // 10 ms running and 10 ms waiting a frame: late on average.
    run(2_000, 10, 0.5, 0.5, 0, FPS);
    assertThat(status("live").health()).isEqualTo(Health.LAGGING);
    assertThat(status("live").demandCpus()).isNaN();
  }

  @Test
  void withoutCostOrFramesABackloggedJobThatWaitsIsLagging() {
    liveJob("live", 10, 0);
    run(1_000, 10, 0.7, 0.3, 0, 0); // never sleeps: behind on its frames
    assertThat(status("live").health()).isEqualTo(Health.LAGGING);
    liveJob("solo", 20, 0);
    run(1_000, 20, 1.0, 0.0, 0, 0); // busy, but no scheduler holds it back
    assertThat(status("solo").health()).isEqualTo(Health.ON_TIME);
  }

  @Test
  void theNewestJobThatDoesNotFitIsReportedAndDemotedAndReadmittedWhenRoomIsMade() {
    // Two CPUs, 90% for live work: 1.8 CPUs. Each job needs 16 ms per 20 ms frame: 0.8 CPUs.
    liveJob("a", 10, 16_000);
    clock.advanceMs(1);
    liveJob("b", 20, 16_000);
    clock.advanceMs(1);
    liveJob("c", 30, 16_000);
    tick();
    assertThat(status("a").health()).isEqualTo(Health.MEASURING);
    assertThat(status("c").health()).isEqualTo(Health.INFEASIBLE);
    assertThat(status("c").reason()).contains("needs 0.80 CPUs").contains("hold 1.60 of the 1.80");
    assertThat(events)
        .filteredOn(e -> e.health() == Health.INFEASIBLE)
        .extracting(JobStatus::jobId)
        .containsExactly("c");
    assertThat(hint(10).schedClass()).isEqualTo(SchedClass.LIVE);
    assertThat(hint(20).schedClass()).isEqualTo(SchedClass.LIVE);
    assertThat(hint(30))
        .as("demoted, so it cannot take CPU from a and b")
        .isEqualTo(Hint.of(SchedClass.NORMAL, 100, 0));

    engine.removeJob("a");
    Decision d = tick();
    assertThat(status("c").health()).isNotEqualTo(Health.INFEASIBLE);
    assertThat(d.hints())
        .contains(new HintChange(HintChange.Target.TASK, 30, Hint.live(100, 0, 18_000)));
  }

  @Test
  void aJobWhoseMeasuredCostDoesNotFitIsReportedOnceMeasured() {
    liveJob("old", 10, 16_000); // declared: 0.8 CPUs
    clock.advanceMs(1);
    liveJob("live", 20, 0); // cost unknown until measured
    tick();
    assertThat(status("live").health()).isEqualTo(Health.MEASURING);
    // 0.6 CPUs buy 20 frames a second: 30 ms a frame, 1.5 CPUs at 50 fps; 0.8 + 1.5 > 1.8.
    for (int i = 0; i < 100; i++) {
      engine.runtimeSample(10, 8_000_000, 0, 1);
      run(10, 20, 0.6, 0.4, 20);
    }
    JobStatus s = status("live");
    assertThat(s.health()).isEqualTo(Health.INFEASIBLE);
    assertThat(s.demandCpus()).isCloseTo(1.5, Offset.offset(0.05));
    assertThat(hint(20).schedClass()).isEqualTo(SchedClass.NORMAL);
    assertThat(hint(10).schedClass()).isEqualTo(SchedClass.LIVE);
  }

  @Test
  void inAnOverloadTheNewestJobOfUnknownCostYieldsAndIsTriedAgainOnceItFits() {
    // Three jobs of unknown cost, backlogged (never sleeping) and waiting, holding 1.89 of the
    // 1.8 CPUs live work may have on 2 CPUs: overloaded. Judged over 600 ms windows.
    threeJobsOfUnknownCost();
    double[] backlogged = {0.63, 0.3, 0};
    runAll(700, Map.of(10, backlogged, 20, backlogged, 30, backlogged));
    assertThat(status("c").health()).isEqualTo(Health.INFEASIBLE);
    assertThat(status("c").reason())
        .contains("live work held 1.89 of the 1.80 CPUs this host gives it and lagged")
        .contains("declare frame_cost_us");
    assertThat(hint(30)).isEqualTo(Hint.of(SchedClass.NORMAL, 100, 0));
    assertThat(hint(10).schedClass()).isEqualTo(SchedClass.LIVE);
    assertThat(hint(20).schedClass()).isEqualTo(SchedClass.LIVE);
    // Still overloaded a moment later (the smoothed load has not fallen yet): one job a window.
    runAll(100, Map.of(10, backlogged, 20, backlogged, 30, new double[] {0.2, 0.8, 0}));
    assertThat(status("b").health()).isNotEqualTo(Health.INFEASIBLE);

    // a and b on time at 0.6 CPUs each: c, runnable on 0.93 CPUs when it yielded, does not fit
    // beside their 1.2 (an overload is 90% of 1.8), past its hold-off.
    double[] onTime = {0.6, 0.1, 1};
    runAll(3_000, Map.of(10, onTime, 20, onTime, 30, new double[] {0.2, 0.8, 0}));
    assertThat(status("a").health()).isEqualTo(Health.ON_TIME);
    assertThat(status("b").health()).isEqualTo(Health.ON_TIME);
    assertThat(status("c").health()).isEqualTo(Health.INFEASIBLE);
    assertThat(status("c").reason()).contains("newest job of unknown cost yields");
    assertThat(events).filteredOn(e -> e.health() == Health.INFEASIBLE).extracting(JobStatus::jobId).containsOnly("c");

    // a leaves: 0.6 + 0.93 fits, and c is live again.
    engine.removeJob("a");
    runAll(100, Map.of(20, onTime, 30, new double[] {0.2, 0.8, 0}));
    assertThat(status("c").health()).isNotEqualTo(Health.INFEASIBLE);
    assertThat(hint(30).schedClass()).isEqualTo(SchedClass.LIVE);
  }

  @Test
  void aJobOfUnknownCostThatYieldsAgainWaitsTwiceAsLong() {
    liveJob("a", 10, 0);
    clock.advanceMs(1);
    liveJob("c", 30, 0);
    double[] backlogged = {0.9, 0.1, 0};
    Map<Integer, double[]> overload = Map.of(10, backlogged, 30, backlogged);
    // c out, a on time at 0.3 CPUs: c (runnable on 1 CPU) fits again once its hold-off is over.
    Map<Integer, double[]> calm = Map.of(10, new double[] {0.3, 0.1, 1}, 30, new double[] {0.2, 0.8, 0});
    for (int yield = 1; yield <= 3; yield++) {
      for (int ms = 0; engine.status("c").map(JobStatus::health).orElse(null) != Health.INFEASIBLE; ms += TICK_MS) {
        assertThat(ms).as("yield %d", yield).isLessThan(5_000);
        runAll(TICK_MS, overload);
      }
      long holdOffMs = 600L << (yield - 1); // one window, then two, then four
      runAll(holdOffMs - 50, calm);
      assertThat(status("c").health()).as("yield %d, within its hold-off", yield).isEqualTo(Health.INFEASIBLE);
      runAll(100, calm);
      assertThat(status("c").health()).as("yield %d, past it", yield).isNotEqualTo(Health.INFEASIBLE);
      assertThat(hint(30).schedClass()).isEqualTo(SchedClass.LIVE);
    }
  }

  @Test
  void noJobYieldsWhenLiveWorkLagsBelowItsCapacityOrHoldsItOnTime() {
    threeJobsOfUnknownCost();
    // Lagging at 1.5 of 1.8 CPUs, below the 1.62 of an overload: held back by something else.
    double[] lagging = {0.5, 0.3, 0};
    runAll(2_000, Map.of(10, lagging, 20, lagging, 30, lagging));
    assertThat(status("c").health()).isEqualTo(Health.LAGGING);
    // The host full of live work, all on time.
    double[] full = {0.63, 0.1, 2};
    runAll(2_000, Map.of(10, full, 20, full, 30, full));
    assertThat(List.of(status("a"), status("b"), status("c")))
        .extracting(JobStatus::health)
        .doesNotContain(Health.INFEASIBLE);
    assertThat(events).extracting(JobStatus::health).doesNotContain(Health.INFEASIBLE);
  }

  @Test
  void aJobBiggerThanTheHostIsInfeasibleEvenAlone() {
    liveJob("huge", 10, 50_000); // 2.5 CPUs on a 2-CPU host
    tick();
    assertThat(status("huge").health()).isEqualTo(Health.INFEASIBLE);
  }

  @Test
  void batchRunsIdleAndWholeCgroupJobsHintTheirCgroups() {
    engine.taskAppeared(tasks.task(10, 10, "thumb", 0, "/farm/batch/x", "", 555));
    engine.registerJob(
        new Job("thumbs", Selector.cgroup("/farm/batch"), JobSpec.batch("acme").withWeight(50)));
    Decision d = tick();
    Hint idle = Hint.of(SchedClass.IDLE, 50, 0);
    assertThat(d.hints())
        .containsExactlyInAnyOrder(
            new HintChange(HintChange.Target.TASK, 10, idle),
            new HintChange(HintChange.Target.CGROUP, 555, idle));
  }

  @Test
  void settingsChangeTheHints() {
    PolicyEngine e =
        new PolicyEngine(
            new TranscodePolicy(
                TranscodeSettings.of(Map.of("live_margin_pct", 0L, "live_slice_us", 700L)),
                List.of(),
                4),
            List.of(),
            clock);
    e.taskAppeared(tasks.task(10, 10, "ffmpeg", 0, "/", ""));
    e.registerJob(new Job("l", Selector.pids(10), JobSpec.live("t", new LiveSpec(40_000, 0))));
    e.tick();
    assertThat(e.task(10).orElseThrow().hint()).isEqualTo(Hint.live(100, 700, 40_000));
  }
}
