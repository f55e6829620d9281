package dev.baton.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyEngineTest {

  private final Tasks tasks = new Tasks();
  private final FakeClock clock = new FakeClock(5_000_000_000L);

  /** Gives every classified task its job's weight; whole-cgroup jobs also get cgroup hints. */
  private static final class WeightPolicy implements Policy {
    final Map<String, JobStatus.Health> health = new HashMap<>();
    long lastInterval = -1;
    long lastJobRecentCpu = -1;

    @Override
    public String name() {
      return "weights";
    }

    @Override
    public void decide(PolicyInput in, PolicyOutput out) {
      lastInterval = in.intervalNs();
      for (TrackedJob j : in.jobs()) {
        lastJobRecentCpu = j.recentCpuNs();
        Hint h = Hint.of(SchedClass.NORMAL, j.spec().weight(), 0);
        for (TrackedTask t : j.tasks()) {
          out.hint(t, h);
          if (j.wholeCgroups()) {
            out.cgroupHint(t.cgroupId(), h);
          }
        }
        JobStatus.Health verdict = health.get(j.id());
        if (verdict != null) {
          out.status(new JobStatus(j.id(), verdict, 0, j.recentCpuNs(), Reason.of("test")));
        }
      }
    }
  }

  @Test
  void apiJobsAreBoundedAndAFullTableStillTakesUpdatesAndFreedPlaces() {
    PolicyEngine e = new PolicyEngine(new FairPolicy(), List.of(), clock);
    e.taskAppeared(tasks.process(1, "a", "/", ""));
    for (int i = 0; i < PolicyEngine.MAX_API_JOBS; i++) {
      e.registerJob(new Job("j" + i, Selector.pids(1_000 + i), JobSpec.vod("t")));
    }
    Job extra = new Job("extra", Selector.pids(1), JobSpec.vod("t"));
    assertThatThrownBy(() -> e.registerJob(extra))
        .isInstanceOf(PolicyEngine.JobLimitException.class)
        .hasMessageContaining("at most " + PolicyEngine.MAX_API_JOBS);
    assertThat(e.job("extra")).isEmpty();
    assertThat(e.task(1).orElseThrow().job()).as("nothing changed").isNull();

    e.registerJob(new Job("j0", Selector.pids(1), JobSpec.vod("t")));
    assertThat(e.task(1).orElseThrow().job().id()).as("an update is no new job").isEqualTo("j0");
    assertThat(e.removeJob("j1")).isTrue();
    e.registerJob(extra);
    assertThat(e.job("extra")).isPresent();
  }

  @Test
  void fairGivesNoHints() {
    PolicyEngine e =
        new PolicyEngine(
            new FairPolicy(),
            List.of(new Rule("r", new Match(null, "a", null, -1), JobSpec.vod("t"))),
            clock);
    e.taskAppeared(tasks.process(1, "a", "/", ""));
    assertThat(e.tick().isEmpty()).isTrue();
  }

  @Test
  void onlyChangesAreReturnedAndExitsRemoveHints() {
    WeightPolicy p = new WeightPolicy();
    PolicyEngine e = new PolicyEngine(p, List.of(), clock);
    e.taskAppeared(tasks.process(1, "a", "/", ""));
    e.taskAppeared(tasks.task(2, 1, "a", 0, "/", ""));
    e.taskAppeared(tasks.process(3, "other", "/", ""));
    e.registerJob(new Job("j", Selector.pids(1), JobSpec.vod("t").withWeight(200)));

    Decision first = e.tick();
    assertThat(first.hints())
        .containsExactlyInAnyOrder(
            new HintChange(HintChange.Target.TASK, 1, Hint.of(SchedClass.NORMAL, 200, 0)),
            new HintChange(HintChange.Target.TASK, 2, Hint.of(SchedClass.NORMAL, 200, 0)));
    assertThat(e.task(1).orElseThrow().hint()).isEqualTo(Hint.of(SchedClass.NORMAL, 200, 0));
    assertThat(e.tick().hints()).as("nothing changed").isEmpty();

    e.registerJob(new Job("j", Selector.pids(1), JobSpec.vod("t").withWeight(50)));
    assertThat(e.tick().hints()).extracting(h -> h.hint().weight()).containsExactly(50, 50);

    e.taskExited(2);
    e.taskAppeared(tasks.process(2, "a", "/", "")); // pid reused by an unrelated process
    assertThat(e.tick().hints())
        .as("removal first, then nothing for the stranger")
        .containsExactly(new HintChange(HintChange.Target.TASK, 2, null));

    e.removeJob("j");
    assertThat(e.tick().hints()).containsExactly(new HintChange(HintChange.Target.TASK, 1, null));
  }

  @Test
  void wholeCgroupJobsGetCgroupHintsThatGoWithThem() {
    PolicyEngine e = new PolicyEngine(new WeightPolicy(), List.of(), clock);
    e.taskAppeared(tasks.task(1, 1, "a", 0, "/farm/j", "", 77));
    e.taskAppeared(tasks.task(2, 2, "a", 0, "/farm/j/sub", "", 78));
    e.registerJob(new Job("j", Selector.cgroup("/farm/j"), JobSpec.batch("t")));
    assertThat(e.tick().hints())
        .filteredOn(c -> c.target() == HintChange.Target.CGROUP)
        .extracting(HintChange::id)
        .containsExactlyInAnyOrder(77L, 78L);
    e.removeJob("j");
    assertThat(e.tick().hints())
        .filteredOn(c -> c.target() == HintChange.Target.CGROUP)
        .allMatch(HintChange::isRemoval)
        .hasSize(2);
  }

  @Test
  void samplesAddUpPerTaskAndJobAndRecentCountersCoverOneInterval() {
    WeightPolicy p = new WeightPolicy();
    PolicyEngine e = new PolicyEngine(p, List.of(), clock);
    e.taskAppeared(tasks.process(1, "a", "/", ""));
    e.taskAppeared(tasks.task(2, 1, "a", 0, "/", ""));
    e.registerJob(new Job("j", Selector.pids(1), JobSpec.vod("t")));
    e.tick();
    clock.advanceMs(100);
    e.runtimeSample(1, 30, 10, 2);
    e.runtimeSample(2, 40, 0, 1);
    e.tick();
    assertThat(p.lastInterval).isEqualTo(100_000_000L);
    assertThat(p.lastJobRecentCpu).isEqualTo(70);
    TrackedTask t1 = e.task(1).orElseThrow();
    assertThat(t1.recentCpuNs()).as("reset after the tick").isZero();
    assertThat(t1.cpuNs()).isEqualTo(30);
    assertThat(t1.wakeups()).isEqualTo(2);
    assertThat(t1.lastActiveNs()).isEqualTo(clock.getAsLong());
    TrackedJob j = e.job("j").orElseThrow();
    assertThat(j.cpuNs()).isEqualTo(70);
    assertThat(j.waitNs()).isEqualTo(10);
  }

  @Test
  void statusEventsOnlyWhenTheVerdictChanges() {
    WeightPolicy p = new WeightPolicy();
    PolicyEngine e = new PolicyEngine(p, List.of(), clock);
    e.registerJob(new Job("j", Selector.pids(1), JobSpec.vod("t")));
    p.health.put("j", JobStatus.Health.ON_TIME);
    assertThat(e.tick().statusChanges())
        .extracting(JobStatus::health)
        .containsExactly(JobStatus.Health.ON_TIME);
    assertThat(e.tick().statusChanges()).isEmpty();
    p.health.put("j", JobStatus.Health.INFEASIBLE);
    assertThat(e.tick().statusChanges())
        .extracting(JobStatus::health)
        .containsExactly(JobStatus.Health.INFEASIBLE);
    assertThat(e.status("j").orElseThrow().health()).isEqualTo(JobStatus.Health.INFEASIBLE);
    p.health.clear();
    e.tick();
    assertThat(e.statuses()).isEmpty();
  }

  @Test
  void frameProgressIsARunningTotalForAKnownJob() {
    PolicyEngine e = new PolicyEngine(new FairPolicy(), List.of(), clock);
    e.registerJob(new Job("j", Selector.pids(1), JobSpec.live("t", LiveSpec.ofFps(30, 0))));
    e.frameProgress("j", 10);
    clock.advanceMs(5);
    e.frameProgress("j", 12);
    TrackedJob j = e.job("j").orElseThrow();
    assertThat(j.framesDone()).isEqualTo(12);
    assertThat(j.framesReportedNs()).isEqualTo(clock.getAsLong());
    assertThatThrownBy(() -> e.frameProgress("j", 11)).hasMessageContaining("went back");
    assertThatThrownBy(() -> e.frameProgress("nope", 1)).hasMessageContaining("no job 'nope'");
    assertThat(j.framesDone()).as("a rejected report changes nothing").isEqualTo(12);
  }

  @Test
  void aLiveJobsMissedFramesAreCountedOnceFromItsReports() {
    PolicyEngine e = new PolicyEngine(new FairPolicy(), List.of(), clock);
    e.registerJob(new Job("j", Selector.pids(1), JobSpec.live("t", LiveSpec.ofFps(50, 0)))); // 20 ms
    e.registerJob(new Job("v", Selector.pids(2), JobSpec.vod("t")));
    TrackedJob j = e.job("j").orElseThrow();
    e.frameProgress("j", 100); // counted from here
    clock.advanceMs(100);
    e.frameProgress("j", 105); // 5 due, 5 done
    assertThat(j.framesMissed()).isZero();
    clock.advanceMs(100);
    e.frameProgress("j", 107); // 110 due: 108, 109, 110 late
    assertThat(j.framesMissed()).isEqualTo(3);
    clock.advanceMs(20);
    e.frameProgress("j", 109); // 111 due: only 111 is new
    assertThat(j.framesMissed()).isEqualTo(4);
    clock.advanceMs(40);
    e.frameProgress("j", 113); // caught up: counted from here again
    clock.advanceMs(100);
    e.frameProgress("j", 116); // 118 due: 117, 118
    assertThat(j.framesMissed()).isEqualTo(6);
    e.frameProgress("v", 1);
    clock.advanceMs(10_000);
    e.frameProgress("v", 2);
    assertThat(e.job("v").orElseThrow().framesMissed()).as("not a live job").isZero();

    assertThat(e.liveFramesMissed()).isEqualTo(6);
    e.removeJob("j");
    assertThat(e.liveFramesMissed()).as("a removed job's misses still count").isEqualTo(6);
  }

  @Test
  void manyTasksSurviveGrowthAndRemoval() {
    PolicyEngine e = new PolicyEngine(new FairPolicy(), List.of(), clock);
    for (int pid = 1; pid <= 5000; pid++) {
      e.taskAppeared(tasks.task(pid, (pid + 9) / 10 * 10, "t", 0, "/", ""));
    }
    for (int pid = 1; pid <= 5000; pid += 2) {
      e.taskExited(pid);
    }
    assertThat(e.taskCount()).isEqualTo(2500);
    for (int pid = 1; pid <= 5000; pid++) {
      assertThat(e.task(pid).isPresent()).isEqualTo(pid % 2 == 0);
    }
  }
}
