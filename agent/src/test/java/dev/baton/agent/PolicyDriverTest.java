package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.baton.policy.Job;
import dev.baton.policy.JobSpec;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.Selector;
import dev.baton.policy.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver with a synthetic event stream, a fake clock, fake /proc and hints in a map. */
class PolicyDriverTest {

  @TempDir Path dir;
  private long nowNs = 1_000_000_000L;
  private final HintsApiTest.FakeHints hints = new HintsApiTest.FakeHints();
  private final List<Integer> procReads = new ArrayList<>();
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private Path config;
  private PolicyDriver driver;

  /** /proc as a test wants it: the cgroup path from {@code cgroupPath} at each read, uid 0. */
  static PolicyDriver.ProcReader fakeProc(java.util.function.Supplier<String> cgroupPath, String cmdline) {
    return new PolicyDriver.ProcReader() {
      public String cgroupPath() {
        return cgroupPath.get();
      }

      public String cmdline() {
        return cmdline;
      }

      public int uid() {
        return 0;
      }
    };
  }

  @BeforeEach
  void start() throws Exception {
    config = dir.resolve("baton.yaml");
    Files.writeString(
        config,
        """
        policy: transcode
        rules:
          - name: enc
            match: {cgroup_prefix: /farm/batch}
            job: {class: batch}
        """);
    driver =
        new PolicyDriver(
            config,
            2,
            () -> nowNs,
            new PrintStream(log, true),
            pid -> {
              procReads.add(pid);
              return fakeProc(() -> pid == 100 ? "/farm/live" : "/farm/batch", "enc");
            });
    driver.attach(hints);
  }

  /**
   * What an agent that adopts a running scheduler finds in its maps: its predecessor's policy
   * hints (under another config here) and an operator's. Each policy hint stands until its task
   * appears to this agent and a tick decides: replaced if this policy hints the task, cleared if
   * not; a cgroup's goes at once if this policy does not repeat it; the operator's stay.
   */
  @Test
  void anAdoptedSchedulersPolicyHintsAreReplacedOrClearedOnceTheirTasksAppearAndAnOperatorsStay() throws Exception {
    HintsApiTest.FakeHints adopted = new HintsApiTest.FakeHints();
    Hint live = new Hint(SchedClass.LIVE, 0, 0, 16_000);
    for (int pid : new int[] {200, 201, 300}) { // 300's task does not run while the test does
      adopted.tasks.put(pid, live);
      adopted.starts.put(pid, 5000L + pid);
      adopted.taskOrigins.put(pid, Hints.Origin.POLICY);
    }
    adopted.tasks.put(202, live);
    adopted.starts.put(202, 5202L);
    adopted.taskOrigins.put(202, Hints.Origin.OPERATOR);
    adopted.cgroups.put(77L, live);
    adopted.cgroupOrigins.put(77L, Hints.Origin.POLICY);
    adopted.cgroups.put(78L, live);
    adopted.cgroupOrigins.put(78L, Hints.Origin.OPERATOR);
    PolicyDriver next =
        new PolicyDriver(
            config, 2, () -> nowNs, new PrintStream(log, true),
            pid -> fakeProc(() -> pid == 201 ? "/farm/batch" : "/other", "x"));

    next.attach(adopted);
    assertThat(adopted.cgroups).containsOnlyKeys(78L);
    assertThat(adopted.tasks).containsOnlyKeys(200, 201, 202, 300); // no task has appeared yet
    assertThat(log.toString())
        .contains("the scheduler holds a previous agent's policy hints (tasks: 3, cgroups: 1)")
        .contains("(cgroups now: 1; a task's once it next runs)");

    next.taskInit(200, 200, 5200, 7, "x");
    next.taskInit(201, 201, 5201, 7, "enc");
    next.taskInit(202, 202, 5202, 7, "x");
    assertThat(adopted.tasks).containsOnlyKeys(200, 201, 202, 300); // the tick decides, not the event
    next.tick();
    assertThat(adopted.tasks).containsOnlyKeys(201, 202, 300);
    assertThat(adopted.tasks.get(201).schedClass()).isEqualTo(SchedClass.IDLE); // this policy's rule: a batch job
    assertThat(adopted.tasks.get(202)).isEqualTo(live); // the operator's
    assertThat(adopted.tasks.get(300)).isEqualTo(live); // not seen yet: it stands
    next.tick();
    assertThat(adopted.tasks).containsOnlyKeys(201, 202, 300);
  }

  @Test
  void aRegisteredLiveJobsTasksGetLiveHintsWithItsDeadlineAtOnceAndLoseThemAtOnce() {
    driver.taskInit(100, 100, 5100, 7, "enc");
    driver.taskInit(101, 100, 5101, 7, "enc");
    driver.tick();
    assertThat(hints.tasks).isEmpty();
    driver.registerJob(
        new Job("cam1", Selector.pids(100), JobSpec.live("acme", new LiveSpec(20_000, 0))));

    // No tick between: the call decides. Deadline: the period less the default 10% margin.
    Hint live = new Hint(SchedClass.LIVE, 100, 0, 18_000);
    assertThat(hints.tasks).containsEntry(100, live).containsEntry(101, live);

    assertThat(driver.removeJob("cam1")).isTrue();
    assertThat(hints.tasks).isEmpty();
  }

  /**
   * Ticks are TICK_NS apart while nothing appears; a task that appears is decided
   * NEW_TASK_TICK_NS after the last tick at the latest, and the loop's poll waits no longer.
   */
  @Test
  void aTaskThatAppearsIsDecidedSoonNotAtTheNextPeriodicTick() {
    driver.registerJob(
        new Job("cam1", Selector.pids(100), JobSpec.live("acme", new LiveSpec(20_000, 0))));
    driver.tickIfDue(nowNs);
    assertThat(driver.nanosToTick(nowNs)).isEqualTo(PolicyDriver.TICK_NS);
    nowNs += PolicyDriver.NEW_TASK_TICK_NS / 2;

    driver.taskInit(100, 100, 5100, 7, "enc");
    assertThat(driver.nanosToTick(nowNs)).isEqualTo(PolicyDriver.NEW_TASK_TICK_NS / 2);
    driver.tickIfDue(nowNs);
    assertThat(hints.tasks).isEmpty(); // too soon after the last tick
    nowNs += PolicyDriver.NEW_TASK_TICK_NS / 2;
    driver.tickIfDue(nowNs);
    assertThat(hints.tasks).containsOnlyKeys(100);
    assertThat(hints.tasks.get(100).schedClass()).isEqualTo(SchedClass.LIVE);
    assertThat(driver.nanosToTick(nowNs)).isEqualTo(PolicyDriver.TICK_NS);

    // A task gone is cleared at the periodic tick.
    driver.taskExit(100);
    nowNs += PolicyDriver.TICK_NS - 1;
    driver.tickIfDue(nowNs);
    assertThat(hints.tasks).containsOnlyKeys(100);
    nowNs += 1;
    driver.tickIfDue(nowNs);
    assertThat(hints.tasks).isEmpty();
    assertThat(PolicyDriver.NEW_TASK_TICK_NS).isLessThan(PolicyDriver.TICK_NS);
  }

  @Test
  void aReloadKeepsWhichLiveJobsCameFirst() throws Exception {
    // 0.8 CPUs each, declared; 90% of two CPUs holds two. Ids against their order of arrival.
    String[] ids = {"c-first", "b-second", "a-third"};
    for (int i = 0; i < ids.length; i++) {
      driver.taskInit(100 + i, 100 + i, 5100 + i, 7, "enc");
      driver.registerJob(
          new Job(ids[i], Selector.pids(100 + i), JobSpec.live("t", new LiveSpec(20_000, 16_000))));
      nowNs += 1_000_000;
    }
    driver.tick();
    assertThat(hints.tasks.get(102).schedClass()).isEqualTo(SchedClass.NORMAL);

    driver.reload(); // a new engine; the clock has not moved
    driver.tick();
    assertThat(hints.tasks.get(100).schedClass()).as("the first job").isEqualTo(SchedClass.LIVE);
    assertThat(hints.tasks.get(101).schedClass()).as("the second").isEqualTo(SchedClass.LIVE);
    assertThat(hints.tasks.get(102).schedClass()).as("the newest").isEqualTo(SchedClass.NORMAL);
  }

  /**
   * Two live jobs of 0.8 CPUs each, declared, registered a millisecond apart: both fit the 1.8
   * CPUs that 90% of two CPUs gives live work, and only the older one fits one CPU's 0.9.
   */
  private void twoLiveJobsOnTwoCpus() {
    driver.taskInit(100, 100, 5100, 7, "enc");
    driver.taskInit(200, 200, 5200, 7, "enc");
    driver.registerJob(new Job("old", Selector.pids(100), JobSpec.live("t", new LiveSpec(20_000, 16_000))));
    nowNs += 1_000_000;
    driver.registerJob(new Job("new", Selector.pids(200), JobSpec.live("t", new LiveSpec(20_000, 16_000))));
    driver.tick();
    assertThat(hints.tasks.get(200).schedClass()).isEqualTo(SchedClass.LIVE);
  }

  @Test
  void aChangeOfOnlineCpusUnderTheSchedulerTakesEffectAtOnceWithTheJobsKept() {
    twoLiveJobsOnTwoCpus();

    driver.cpus(1); // CPU 1 went offline under the scheduler: no tick, no attach needed
    assertThat(driver.nrCpus()).isEqualTo(1);
    assertThat(hints.tasks.get(100).schedClass()).isEqualTo(SchedClass.LIVE);
    assertThat(hints.tasks.get(200).schedClass()).as("0.9 CPUs hold one job now").isEqualTo(SchedClass.NORMAL);
    assertThat(log.toString()).contains("baton: CPUs online now: 1 (were 2); the policy plans for them");

    driver.cpus(2); // and came back
    assertThat(hints.tasks.get(200).schedClass()).isEqualTo(SchedClass.LIVE);

    driver.cpus(0); // nonsense from a broken count: ignored
    assertThat(driver.nrCpus()).isEqualTo(2);
  }

  @Test
  void aChangeOfOnlineCpusWithNoSchedulerTakesEffectAtTheNextAttach() {
    twoLiveJobsOnTwoCpus();
    driver.attach(null); // the scheduler ended (a restart the kernel asked for)
    hints.tasks.clear();

    driver.cpus(1);
    assertThat(hints.tasks).as("no scheduler, nothing written").isEmpty();
    driver.attach(hints); // the new scheduler, on one CPU
    driver.tick();
    assertThat(hints.tasks.get(100).schedClass()).isEqualTo(SchedClass.LIVE);
    assertThat(hints.tasks.get(200).schedClass()).as("planned for one CPU").isEqualTo(SchedClass.NORMAL);
  }

  @Test
  void aCmdlineRegexSearchThatGivesUpIsLoggedOnceWithItsRuleAndProcess() throws Exception {
    Files.writeString(
        config,
        """
        policy: transcode
        rules:
          - name: naive
            match: {cmdline_regex: ".*a.*b|c"}
            job: {class: batch}
        """);
    PolicyDriver d =
        new PolicyDriver(
            config,
            2,
            () -> nowNs,
            new PrintStream(log, true),
            // pid 300's cmdline matches after seconds of backtracking (ClassificationTest): past the budget.
            pid -> fakeProc(() -> "/", pid == 300 ? "a".repeat(2000) + "c" : "x c"));
    d.attach(hints);
    d.taskInit(300, 300, 1, 9, "enc");
    d.taskInit(301, 301, 2, 9, "enc");
    d.tick();
    d.tick();

    String matched = d.read(e -> e.task(301).orElseThrow().job().id());
    boolean gaveUpUnselected = d.read(e -> e.task(300).orElseThrow().job() == null);
    assertThat(matched).isEqualTo("naive/301");
    assertThat(gaveUpUnselected).isTrue();
    assertThat(log.toString())
        .containsOnlyOnce("1 cmdline_regex search(es) gave up (read 5000000 characters, or overflowed the stack")
        .contains("(the last: naive on process 300)");
    assertThat(d.cmdlineRegexGiveUps()).as("for the metric").isEqualTo(1);

    // A reload classifies every process again in a new engine: the metric's count goes on.
    d.reload();
    assertThat(d.cmdlineRegexGiveUps()).isEqualTo(2);
  }

  @Test
  void procIsReadOncePerProcessAndOnlyWhenARuleNeedsIt() {
    driver.taskInit(200, 200, 1, 9, "worker");
    driver.taskInit(201, 200, 2, 9, "worker");
    driver.taskInit(202, 200, 3, 9, "worker");
    driver.tick();
    assertThat(procReads).containsExactly(200);
    // The cgroup rule made the process a batch job, which runs IDLE.
    String job = driver.read(e -> e.task(201).orElseThrow().job().id());
    String cls = driver.read(e -> e.task(202).orElseThrow().hint().schedClass().name());
    assertThat(job).isEqualTo("enc/200");
    assertThat(cls).isEqualTo("IDLE");
  }

  @Test
  void anExitedTasksHintIsCleared() {
    driver.registerJob(
        new Job("cam1", Selector.pids(100), JobSpec.live("acme", new LiveSpec(20_000, 0))));
    driver.taskInit(100, 100, 5100, 7, "enc");
    driver.taskInit(101, 100, 5101, 7, "enc");
    driver.tick();
    assertThat(hints.tasks).containsKeys(100, 101);
    driver.taskExit(101);
    nowNs += PolicyDriver.TICK_NS;
    driver.tickIfDue(nowNs);
    assertThat(hints.tasks).containsOnlyKeys(100);
  }

  @Test
  void reloadKeepsApiJobsAndHintsAndRefusesABadFile() throws Exception {
    driver.taskInit(100, 100, 5100, 7, "enc");
    driver.registerJob(
        new Job("cam1", Selector.pids(100), JobSpec.live("acme", new LiveSpec(20_000, 0))));
    driver.tick();
    Hint before = hints.tasks.get(100);

    Files.writeString(config, "policy: transcode\ntranscode:\n  live_margin_pct: 99\n");
    assertThatThrownBy(driver::reload)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("baton.yaml:3:");
    assertThat(driver.policyName()).isEqualTo("transcode");
    assertThat(hints.tasks).containsEntry(100, before);

    Files.writeString(config, "policy: transcode\ntranscode:\n  live_margin_pct: 20\n");
    driver.reload();
    assertThat(hints.tasks).containsEntry(100, new Hint(SchedClass.LIVE, 100, 0, 16_000));
    boolean kept = driver.read(e -> e.job("cam1").isPresent());
    assertThat(kept).isTrue();

    Files.writeString(config, "policy: fair\n");
    driver.reload();
    assertThat(driver.policyName()).isEqualTo("fair");
    assertThat(hints.tasks).isEmpty();
  }

  @Test
  void aTicksChangesAreOneBatchKeyedByTheStartTimesOfTheEventStream() {
    driver.taskInit(100, 100, 5100, 7, "enc");
    driver.taskInit(101, 100, 5101, 7, "enc");
    int before = hints.batches.size();
    driver.registerJob( // its decision is a tick's
        new Job("cam1", Selector.pids(100), JobSpec.live("acme", new LiveSpec(20_000, 0))));

    assertThat(hints.batches).hasSize(before + 1);
    assertThat(hints.batches.getLast())
        .extracting(Hints.Change::id, Hints.Change::startNs)
        .containsExactlyInAnyOrder(tuple(100L, 5100L), tuple(101L, 5101L));
    driver.tick();
    assertThat(hints.batches).as("nothing changed: no batch").hasSize(before + 1);
  }

  @Test
  void anExitedTasksHintIsClearedUnderItsOwnKeyEvenWhenItsPidIsReused() {
    driver.registerJob(
        new Job("cam1", Selector.pids(100), JobSpec.live("acme", new LiveSpec(20_000, 0))));
    driver.taskInit(100, 100, 5100, 7, "enc");
    driver.taskInit(101, 100, 5101, 7, "enc");
    driver.tick();
    // Thread 101 exits and a new thread of the same process gets its pid before the next tick.
    driver.taskExit(101);
    driver.taskInit(101, 100, 9101, 7, "enc");
    driver.tick();

    assertThat(hints.batches.getLast())
        .extracting(Hints.Change::id, Hints.Change::startNs, Hints.Change::clears)
        .containsExactly(tuple(101L, 5101L, true), tuple(101L, 9101L, false));
    assertThat(hints.starts).containsEntry(101, 9101L);
  }

  @Test
  void aRefusedHintIsReportedAndTheRestOfTheTickIsWritten() {
    hints.refuse.add(101L);
    driver.registerJob(
        new Job("cam1", Selector.pids(100), JobSpec.live("acme", new LiveSpec(20_000, 0))));
    driver.taskInit(100, 100, 5100, 7, "enc");
    driver.taskInit(101, 100, 5101, 7, "enc");
    driver.tick();

    assertThat(hints.tasks).containsOnlyKeys(100);
    assertThat(log.toString()).contains("the kernel refused the hint of task 101: errno 7 (the hint map is full)");
  }

  @Test
  void hintsBeyondTheAgentsRangeAreClampedNotDropped() {
    Hint h = PolicyDriver.toAgent(dev.baton.policy.Hint.live(100, 50, 30_000_000));
    assertThat(h).isEqualTo(new Hint(SchedClass.LIVE, 100, Hint.MIN_SLICE_US, Hint.MAX_DEADLINE_US));
  }

  /** A driver over the setup's config whose /proc throws for pid 200 while {@code fails} is positive. */
  private PolicyDriver failingFor200(int[] fails) throws Exception {
    PolicyDriver d =
        new PolicyDriver(
            config,
            2,
            () -> nowNs,
            new PrintStream(log, true),
            pid -> fakeProc(() -> {
              if (pid == 200 && fails[0]-- > 0) {
                throw new IllegalStateException("a bug on pid 200");
              }
              return "/farm/batch";
            }, "enc"));
    d.attach(hints);
    d.registerJob(new Job("cam1", Selector.pids(100), JobSpec.live("acme", new LiveSpec(20_000, 0))));
    d.taskInit(100, 100, 5100, 7, "enc");
    d.tick();
    assertThat(hints.tasks).containsEntry(100, new Hint(SchedClass.LIVE, 100, 0, 18_000));
    return d;
  }

  @Test
  void aPolicyThatFailsOnceIsRebuiltWithItsJobsAndTheLoopGoesOn() throws Exception {
    int[] fails = {1};
    PolicyDriver d = failingFor200(fails);
    d.taskInit(200, 200, 5200, 7, "odd"); // throws inside the engine: contained, not propagated
    assertThat(d.failures()).isEqualTo(1);
    assertThat(d.off()).isNull();
    assertThat(log.toString())
        .contains("baton: the policy failed classifying task 200 (odd) (failure 1): java.lang.IllegalStateException: a bug on pid 200")
        .contains("at dev.baton.agent.PolicyDriverTest")
        .contains("baton: the policy was rebuilt from its config");
    // The rebuilt engine has the API's job and both tasks: 100 keeps its live hint, 200 its rule's.
    nowNs += PolicyDriver.TICK_NS;
    d.tickIfDue(nowNs);
    assertThat(d.<Boolean>read(e -> e.job("cam1").isPresent())).isTrue();
    assertThat(hints.tasks).containsEntry(100, new Hint(SchedClass.LIVE, 100, 0, 18_000)).containsKey(200);
  }

  @Test
  void aPolicyThatFailsAgainIsTurnedOffUntilAReload() throws Exception {
    int[] fails = {Integer.MAX_VALUE};
    PolicyDriver d = failingFor200(fails);
    d.taskInit(200, 200, 5200, 7, "odd"); // fails, and so does the rebuild that feeds it 200 again
    assertThat(d.failures()).isEqualTo(2);
    assertThat(d.off()).contains("a bug on pid 200");
    assertThat(log.toString()).contains("rebuilding the policy failed too").contains("the policy is off until a reload");
    assertThat(hints.tasks).as("every hint it set is cleared").isEmpty();
    // Off: events keep the task list and reach no engine; ticks decide nothing.
    d.taskInit(300, 300, 5300, 7, "enc");
    d.sample(100, 1_000_000, 0, 1);
    d.taskExit(300);
    nowNs += PolicyDriver.TICK_NS;
    d.tickIfDue(nowNs);
    assertThat(hints.tasks).isEmpty();
    assertThat(d.failures()).isEqualTo(2);

    // A reload whose engine fails too is refused loudly and stays off.
    fails[0] = Integer.MAX_VALUE;
    assertThatThrownBy(d::reload).isInstanceOf(IllegalStateException.class).hasMessageContaining("is off until the next reload");
    assertThat(d.off()).isNotNull();
    // Fixed: the next reload runs the policy again, with the job and every task it was told of.
    fails[0] = 0;
    d.reload();
    assertThat(d.off()).isNull();
    assertThat(hints.tasks).containsEntry(100, new Hint(SchedClass.LIVE, 100, 0, 18_000)).containsKey(200).doesNotContainKey(300);
  }

  @Test
  void aFailureWithinTenSecondsOfTheLastRebuildTurnsThePolicyOffOneLaterRebuildsItAgain() throws Exception {
    int[] fails = {1};
    PolicyDriver d = failingFor200(fails);
    d.taskInit(200, 200, 5200, 7, "odd"); // failure 1: rebuilt
    d.taskExit(200);
    nowNs += PolicyDriver.REBUILD_EVERY_NS;
    fails[0] = 1;
    d.taskInit(200, 200, 5300, 7, "odd"); // failure 2, 10 s after that rebuild: rebuilt again
    assertThat(d.failures()).isEqualTo(2);
    assertThat(d.off()).isNull();
    d.taskExit(200);
    nowNs += PolicyDriver.REBUILD_EVERY_NS - 1;
    fails[0] = 1;
    d.taskInit(200, 200, 5400, 7, "odd"); // failure 3, sooner: off
    assertThat(d.failures()).isEqualTo(3);
    assertThat(d.off()).contains("a bug on pid 200");
  }

  @Test
  void aJobChangeThePolicyFailsToTakeIsRefusedAndThePolicyRebuilt() throws Exception {
    int[] fails = {0};
    PolicyDriver d = failingFor200(fails);
    d.registerJob(new Job("cam2", Selector.pids(200), JobSpec.vod("t")));
    d.taskInit(200, 200, 5200, 7, "odd"); // the job selects it: its cgroup is not read
    fails[0] = 1;
    // cam2 moves to pid 300: 200 falls to the rules, whose cgroup read fails once.
    assertThatThrownBy(() -> d.registerJob(new Job("cam2", Selector.pids(300), JobSpec.vod("t"))))
        .isInstanceOf(PolicyDriver.PolicyFailedException.class)
        .hasMessageContaining("registering job cam2");
    assertThat(d.failures()).isEqualTo(1);
    assertThat(d.off()).as("rebuilt").isNull();

    // Removing a job whose processes then fail to classify still removes it.
    d.registerJob(new Job("cam3", Selector.pids(400), JobSpec.vod("t")));
    d.taskInit(400, 400, 5400, 7, "x");
    d.registerJob(new Job("cam4", Selector.pids(200), JobSpec.vod("t")));
    d.taskExit(200);
    d.taskInit(200, 200, 5500, 7, "odd"); // a new process 200, cam4's, its cgroup unread
    fails[0] = 1;
    nowNs += PolicyDriver.REBUILD_EVERY_NS;
    assertThat(d.removeJob("cam4")).isTrue();
    assertThat(d.failures()).isEqualTo(2);
    assertThat(d.<Boolean>read(e -> e.job("cam4").isEmpty() && e.job("cam3").isPresent())).isTrue();
  }
}
