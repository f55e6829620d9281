package dev.baton.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClassificationTest {

  private final Tasks tasks = new Tasks();
  private final FakeClock clock = new FakeClock(1_000_000_000L);

  private static Rule rule(String name, Match match, JobSpec spec) {
    return new Rule(name, match, spec);
  }

  private PolicyEngine engine(Rule... rules) {
    return new PolicyEngine(new FairPolicy(), List.of(rules), clock);
  }

  private static String jobOf(PolicyEngine e, int pid) {
    TrackedJob j = e.task(pid).orElseThrow().job();
    return j == null ? null : j.id();
  }

  @Test
  void commRuleMakesOneJobPerProcessAndThreadsFollowTheirProcess() {
    PolicyEngine e = engine(rule("enc", new Match(null, "ffmpeg", null, -1), JobSpec.vod("acme")));
    e.taskAppeared(tasks.process(100, "ffmpeg", "/a", "ffmpeg -i x"));
    e.taskAppeared(tasks.task(101, 100, "ffmpeg-worker", 1000, "/a", "ffmpeg -i x"));
    e.taskAppeared(tasks.process(200, "ffmpeg", "/a", "ffmpeg -i y"));
    e.taskAppeared(tasks.process(300, "bash", "/a", "bash"));

    assertThat(jobOf(e, 100)).isEqualTo("enc/100");
    assertThat(jobOf(e, 101))
        .as("a thread joins its process's job, whatever its own comm")
        .isEqualTo("enc/100");
    assertThat(jobOf(e, 200)).isEqualTo("enc/200");
    assertThat(jobOf(e, 300)).isNull();
    assertThat(e.job("enc/100").orElseThrow().tasks())
        .extracting(TrackedTask::pid)
        .containsExactly(100, 101);
    assertThat(e.job("enc/100").orElseThrow().spec().tenant()).isEqualTo("acme");
  }

  @Test
  void procFactsAreReadOnlyWhenARuleNeedsThemAndAtMostOncePerProcess() {
    PolicyEngine byComm = engine(rule("r", new Match(null, "ffmpeg", null, -1), JobSpec.vod("t")));
    byComm.taskAppeared(tasks.process(100, "ffmpeg", "/a", "ffmpeg"));
    byComm.taskAppeared(tasks.process(200, "x264", "/a", "x264"));
    assertThat(tasks.cgroupReads).isZero();
    assertThat(tasks.cmdlineReads).isZero();

    Tasks counted = new Tasks();
    PolicyEngine byBoth =
        engine(
            rule("slow", new Match("/farm", null, "-preset slow", -1), JobSpec.vod("t")),
            rule("fast", new Match("/farm", null, "-preset fast", -1), JobSpec.vod("t")));
    byBoth.taskAppeared(counted.process(100, "ffmpeg", "/farm/x", "ffmpeg -preset fast"));
    for (int tid = 101; tid < 110; tid++) {
      byBoth.taskAppeared(counted.task(tid, 100, "ffmpeg", 1000, "/farm/x", "ffmpeg -preset fast"));
    }
    assertThat(jobOf(byBoth, 105)).isEqualTo("fast/100");
    assertThat(counted.cgroupReads).as("two rules, ten threads: one read").isEqualTo(1);
    assertThat(counted.cmdlineReads).isEqualTo(1);
  }

  @Test
  void cheapCriteriaGoFirstSoAFailedUidOrCommSparesTheProcRead() {
    PolicyEngine e =
        engine(rule("r", new Match("/farm", "ffmpeg", "-preset slow", 1001), JobSpec.vod("t")));
    e.taskAppeared(tasks.task(100, 100, "ffmpeg", 1000, "/farm", "-preset slow"));
    e.taskAppeared(tasks.task(200, 200, "bash", 1001, "/farm", "-preset slow"));
    assertThat(tasks.cgroupReads + tasks.cmdlineReads).isZero();
    e.taskAppeared(tasks.task(300, 300, "ffmpeg", 1001, "/farm/a/b", "ffmpeg -preset slow"));
    assertThat(jobOf(e, 300)).isEqualTo("r/300");
  }

  @Test
  void aWinningHigherRuleSparesTheLowerRulesReads() {
    PolicyEngine e =
        engine(
            rule("byCmd", new Match(null, null, "-preset slow", -1), JobSpec.batch("t")),
            rule("byCommUid", new Match(null, "ffmpeg", null, 1000), JobSpec.vod("t")));
    e.taskAppeared(tasks.process(100, "ffmpeg", "/", "ffmpeg -preset slow"));
    assertThat(jobOf(e, 100))
        .as("two criteria beat one, whatever the file order")
        .isEqualTo("byCommUid/100");
    assertThat(tasks.cmdlineReads).isZero();
  }

  @Test
  void aCmdlineRegexSearchThatRunsOutOfStepsIsNoMatchAndTheOthersStillMatch() {
    PolicyEngine e =
        engine(
            rule("naive", new Match(null, null, ".*a.*b|c", -1), JobSpec.batch("t")),
            rule("live", new Match(null, null, "-preset slow", -1), JobSpec.vod("t")));
    // Without a 'b', .*a.*b tries every pair of positions from every start before the c at the
    // end can match: searched without the budget, process 100 took 85 s here and then matched.
    e.taskAppeared(tasks.process(100, "enc", "/", "a".repeat(2000) + "c"));
    e.taskAppeared(tasks.process(200, "enc", "/", "x a x b x"));
    e.taskAppeared(tasks.process(300, "enc", "/", "x".repeat(200_000) + " -preset slow"));

    assertThat(jobOf(e, 100))
        .as("it would match after seconds; the search ran out of steps first: no match")
        .isNull();
    // The naive rule gave up on both long command lines (300's .*a runs quadratic over 200 000
    // characters); 300 still reached the next rule.
    assertThat(e.cmdlineRegexGiveUps()).isEqualTo(2);
    assertThat(e.lastCmdlineRegexGiveUp()).isEqualTo("naive on process 300");
    assertThat(jobOf(e, 200)).isEqualTo("naive/200");
    assertThat(jobOf(e, 300))
        .as("a plain pattern over a long command line stays within the budget")
        .isEqualTo("live/300");
  }

  @Test
  void aCmdlineRegexSearchThatRecursesPastTheStackIsNoMatchAndTheOthersStillMatch() {
    PolicyEngine e =
        engine(
            rule("args", new Match(null, null, "(-\\w+ \\w+ )*-preset", -1), JobSpec.batch("t")),
            rule("vod", new Match(null, null, "-crf", -1), JobSpec.vod("t")));
    // java.util.regex recurses once per repetition of a group: over a few thousand characters of
    // arguments it overflows a thread's stack (here 100 000), an ordinary pattern and command line.
    e.taskAppeared(tasks.process(100, "enc", "/", "-a b ".repeat(20_000) + "-crf 20"));
    e.taskAppeared(tasks.process(200, "enc", "/", "-a b -c d -preset slow"));

    assertThat(jobOf(e, 100)).as("the first rule gave up, the next one matched").isEqualTo("vod/100");
    assertThat(e.cmdlineRegexGiveUps()).isEqualTo(1);
    assertThat(e.lastCmdlineRegexGiveUp()).isEqualTo("args on process 100");
    assertThat(jobOf(e, 200)).isEqualTo("args/200");
  }

  @Test
  void unreadableFactsDoNotMatch() {
    PolicyEngine e =
        engine(
            rule("c", Match.cgroup("/farm"), JobSpec.vod("t")),
            rule("m", new Match(null, null, ".*", -1), JobSpec.vod("t")));
    e.taskAppeared(tasks.process(100, "gone", null, null));
    assertThat(jobOf(e, 100)).isNull();
  }

  @Test
  void cgroupPrefixMatchesWholeComponentsOnly() {
    PolicyEngine e = engine(rule("live", Match.cgroup("/farm/live"), JobSpec.vod("t")));
    e.taskAppeared(tasks.process(1, "a", "/farm/live", ""));
    e.taskAppeared(tasks.process(2, "a", "/farm/live/job7", ""));
    e.taskAppeared(tasks.process(3, "a", "/farm/livestream", ""));
    e.taskAppeared(tasks.process(4, "a", "/farm", ""));
    assertThat(jobOf(e, 1)).isEqualTo("live/1");
    assertThat(jobOf(e, 2)).isEqualTo("live/2");
    assertThat(jobOf(e, 3)).isNull();
    assertThat(jobOf(e, 4)).isNull();
  }

  @Test
  void precedenceApiPidsThenApiMatchesThenRulesMostSpecificFirst() {
    PolicyEngine e =
        engine(
            rule("shallow", Match.cgroup("/farm"), JobSpec.batch("t")),
            rule("deep", Match.cgroup("/farm/vod"), JobSpec.vod("t")),
            rule("deepToo", Match.cgroup("/farm/vod"), JobSpec.batch("t")),
            rule("twoCriteria", new Match("/farm", "x264", null, -1), JobSpec.vod("t")));
    e.taskAppeared(tasks.process(1, "ffmpeg", "/farm/other", ""));
    e.taskAppeared(tasks.process(2, "ffmpeg", "/farm/vod/j", ""));
    e.taskAppeared(tasks.process(3, "x264", "/farm/vod/j", ""));
    assertThat(jobOf(e, 1)).isEqualTo("shallow/1");
    assertThat(jobOf(e, 2)).as("deeper prefix, then file order").isEqualTo("deep/2");
    assertThat(jobOf(e, 3)).as("more criteria beat a deeper prefix").isEqualTo("twoCriteria/3");

    e.registerJob(new Job("api-cg", Selector.cgroup("/farm/vod"), JobSpec.vod("t")));
    assertThat(jobOf(e, 2)).as("API beats rules").isEqualTo("api-cg");
    assertThat(jobOf(e, 3)).as("even more specific rules").isEqualTo("api-cg");
    assertThat(e.job("deep/2")).as("a rule job goes with its last process").isEmpty();

    e.registerJob(new Job("api-pid", Selector.pids(2), JobSpec.batch("t")));
    assertThat(jobOf(e, 2)).as("pids beat matches").isEqualTo("api-pid");

    assertThat(e.removeJob("api-pid")).isTrue();
    assertThat(jobOf(e, 2)).isEqualTo("api-cg");
    assertThat(e.removeJob("api-cg")).isTrue();
    assertThat(jobOf(e, 2)).as("back to the rules").isEqualTo("deep/2");
    assertThat(jobOf(e, 3)).isEqualTo("twoCriteria/3");
    assertThat(e.removeJob("deep/2")).as("rule jobs are not the API's to remove").isFalse();
  }

  @Test
  void earlierRegisteredApiJobWinsATie() {
    PolicyEngine e = engine();
    e.registerJob(new Job("first", Selector.cgroup("/farm"), JobSpec.vod("t")));
    e.registerJob(new Job("second", Selector.cgroup("/farm"), JobSpec.batch("t")));
    e.taskAppeared(tasks.process(1, "a", "/farm/x", ""));
    assertThat(jobOf(e, 1)).isEqualTo("first");
  }

  @Test
  void ofPidJobsNamingTheSameProcessTheEarlierRegisteredWinsUntilRemoved() {
    PolicyEngine e = engine();
    e.taskAppeared(tasks.process(1, "a", "/x", ""));
    e.taskAppeared(tasks.process(2, "b", "/x", ""));
    e.registerJob(new Job("first", Selector.pids(2, 1), JobSpec.vod("t")));
    e.registerJob(new Job("second", Selector.pids(1), JobSpec.batch("t")));
    e.registerJob(new Job("cg", Selector.cgroup("/x"), JobSpec.batch("t")));
    assertThat(jobOf(e, 1)).isEqualTo("first");
    assertThat(jobOf(e, 2)).isEqualTo("first");
    e.registerJob(new Job("first", Selector.pids(2), JobSpec.vod("t")));
    assertThat(jobOf(e, 1)).as("dropped from first's pids").isEqualTo("second");
    assertThat(e.removeJob("first")).isTrue();
    assertThat(jobOf(e, 2)).as("no pid job left for it").isEqualTo("cg");
    e.taskAppeared(tasks.task(3, 1, "a", 1000, "/x", ""));
    assertThat(jobOf(e, 3)).as("a new thread joins its process's job").isEqualTo("second");
  }

  @Test
  void updatingAJobKeepsItsCountersAndReselectsOnlyWhenTheSelectorChanges() {
    PolicyEngine e = engine();
    e.taskAppeared(tasks.process(1, "a", "/x", ""));
    e.taskAppeared(tasks.process(2, "b", "/y", ""));
    e.registerJob(new Job("j", Selector.pids(1), JobSpec.vod("t")));
    e.runtimeSample(1, 5_000, 7_000, 1);
    e.registerJob(new Job("j", Selector.pids(1), JobSpec.vod("t").withWeight(300)));
    TrackedJob j = e.job("j").orElseThrow();
    assertThat(j.spec().weight()).isEqualTo(300);
    assertThat(j.cpuNs()).isEqualTo(5_000);
    assertThat(j.waitNs()).isEqualTo(7_000);
    e.registerJob(new Job("j", Selector.pids(2), JobSpec.vod("t")));
    assertThat(jobOf(e, 1)).isNull();
    assertThat(jobOf(e, 2)).isEqualTo("j");
  }

  @Test
  void exitsLeaveTheTableAndTheJob() {
    PolicyEngine e = engine(rule("r", new Match(null, "enc", null, -1), JobSpec.vod("t")));
    e.taskAppeared(tasks.process(10, "enc", "/", ""));
    e.taskAppeared(tasks.task(11, 10, "enc", 1000, "/", ""));
    e.taskExited(10);
    assertThat(e.job("r/10").orElseThrow().tasks())
        .extracting(TrackedTask::pid)
        .containsExactly(11);
    e.taskExited(11);
    assertThat(e.job("r/10")).isEmpty();
    assertThat(e.taskCount()).isZero();
    e.taskExited(11); // a second exit for the same pid is harmless
    e.runtimeSample(11, 1, 1, 1); // a sample that raced with the exit is ignored
  }

  @Test
  void theMainThreadSpeaksForItsProcessEvenWhenSeenAfterAThread() {
    PolicyEngine e = engine(rule("r", new Match(null, "ffmpeg", null, -1), JobSpec.vod("t")));
    e.taskAppeared(tasks.task(101, 100, "ffmpeg-worker", 1000, "/", ""));
    assertThat(jobOf(e, 101)).isNull();
    e.taskAppeared(tasks.process(100, "ffmpeg", "/", ""));
    assertThat(jobOf(e, 101)).isEqualTo("r/100");
    assertThat(jobOf(e, 100)).isEqualTo("r/100");
  }

  @Test
  void aReusedPidIsANewProcess() {
    PolicyEngine e = engine(rule("r", new Match(null, "enc", null, -1), JobSpec.vod("t")));
    e.taskAppeared(tasks.process(10, "enc", "/", ""));
    e.taskAppeared(tasks.process(10, "sh", "/", ""));
    assertThat(jobOf(e, 10)).isNull();
    assertThat(e.job("r/10")).isEmpty();
  }
}
