package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CPU hotplug and what ends the scheduler from the kernel's side, in a real sched_ext kernel. A
 * CPU taken offline and brought back: Baton's scheduler follows both in place, and the policy
 * plans for the CPUs online; stress-ng's scheduler stressors (affinity and policy changes, races
 * with exiting tasks, CPUs going offline and online in a loop) do not end it either. A test build
 * without the hotplug callbacks is ended by the kernel at each change with a request for a new
 * one, and the agent attaches again without counting an ejection. A scheduler that stops
 * dispatching (the test-only build with its fault compiled in) under CPU hogs: the kernel's
 * watchdog ejects it within its timeout, tasks go on running on the default scheduler, and the
 * agent reports the exit kind and reason, restarts with doubling backoff and gives up after
 * restart_max with a clear final message (exit 8). One guest boot
 * (integration-tests/scripts/fault.sh).
 */
class FaultIT {

  private static Vm.Result run;
  private static Map<String, String> facts;

  @BeforeAll
  static void bootOnce() {
    run = Vm.guest(List.of("--cpus", "2"), Duration.ofSeconds(1200), "bash", "integration-tests/scripts/fault.sh");
    facts = run.facts();
  }

  private static String agentLog() {
    return String.join("\n", run.section("agent"));
  }

  @Test
  void guestRanTheWholeScript() {
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(facts).containsEntry("done", "yes");
  }

  @Test
  void aCpuGoingOfflineOrOnlineIsFollowedInPlace() {
    String log = String.join("\n", run.section("hotplug"));
    assertThat(facts).containsEntry("hotplug_cpus_before", "2");
    assertThat(facts).as(log).containsEntry("hotplug_offline_exit", "0").containsEntry("hotplug_offline_state", "enabled");
    assertThat(facts).as(log).containsEntry("hotplug_online_exit", "0").containsEntry("hotplug_online_state", "enabled");
    // One scheduler throughout: the kernel neither ended it nor enabled another.
    assertThat(facts).as(log).containsEntry("hotplug_attaches", "1").containsEntry("hotplug_enables", "1");
    assertThat(facts).as(log).containsEntry("hotplug_disables", "0");
    assertThat(log).doesNotContain("asks for it again", "the kernel ended the scheduler");
    // The BPF side counts the CPUs; the policy plans for them at once.
    assertThat(facts).containsEntry("hotplug_offline_cpus", "1").containsEntry("hotplug_online_cpus", "2");
    assertThat(log)
        .contains(
            "baton: CPUs online now: 1 (were 2); the policy plans for them",
            "baton: CPUs online now: 2 (were 1); the policy plans for them");
    // The CPU brought back runs what only it may run (clock ticks of CPU time in 2 s).
    assertThat(Long.parseLong(facts.get("hotplug_pinned_ticks"))).isPositive();
    assertThat(facts).containsEntry("hotplug_agent_exit", "0");
  }

  @Test
  void stressNgSchedulerStressorsDoNotEndTheScheduler() {
    String stress = String.join("\n", run.section("stress"));
    assertThat(facts.get("stress_ng"))
        .as("stress-ng in the guest (the host's; tools/setup.sh installs it)")
        .isNotNull()
        .isNotEqualTo("absent");
    // Each ran its course (exit 0: no stressor failed or was skipped for want of something).
    for (String s : List.of("affinity", "schedpolicy", "race_sched", "nice", "yield", "cpu_online")) {
      assertThat(facts).as(stress).containsEntry("stress_" + s + "_exit", "0");
    }
    // The scheduler and its agent came through; the hotplug test's counts of attaches, enables
    // and disables (one, one, none) are taken after the stress and cover it too.
    assertThat(facts).as(stress).containsEntry("stress_state", "enabled").containsEntry("stress_agent", "running");
  }

  @Test
  void underASchedulerWithoutHotplugCallbacksEachChangeIsANewAttachNotAnEjection() {
    String log = String.join("\n", run.section("restart"));
    // Each change ended the scheduler (sched_ext asks for a restart); with restart_max 0 an
    // ejection would have ended this agent, so each was taken for what it is.
    assertThat(facts).as(log).containsEntry("restart_offline_state", "enabled").containsEntry("restart_online_state", "enabled");
    assertThat(run.section("restart"))
        .filteredOn(l -> l.startsWith("baton: the kernel ended the scheduler and asks for it again ("))
        .hasSize(2)
        .anySatisfy(l -> assertThat(l).contains("cpu 1 going offline"))
        .anySatisfy(l -> assertThat(l).contains("cpu 1 going online"))
        .allSatisfy(l -> assertThat(l).endsWith("); attaching again in 200 ms"));
    assertThat(log).doesNotContain("giving up", "the kernel ended the scheduler: ");
    // The policy plans for the CPUs online at each attach.
    assertThat(facts).containsEntry("restart_offline_cpus", "1").containsEntry("restart_online_cpus", "2");
    assertThat(facts).containsEntry("restart_agent_exit", "0");
  }

  @Test
  void theKernelEjectsEachAttachmentWithinTheWatchdogTimeout() {
    int restartMax = Integer.parseInt(facts.get("restart_max"));
    assertThat(facts.get("ejections")).as(agentLog()).isEqualTo(Integer.toString(restartMax + 1));
    double timeout = Double.parseDouble(facts.get("timeout_s"));
    List<Double> enabled = Arrays.stream(facts.get("enabled_s").trim().split(" ")).map(Double::parseDouble).toList();
    assertThat(enabled).hasSize(restartMax + 1);
    // The kernel's clock. The watchdog ejects once a task has waited the timeout (it checks every
    // timeout / 2, and an emulated guest's timers run late); sched_ext's RCU stall hook may
    // eject sooner, when the stall starves RCU's kthreads first (21 s).
    assertThat(enabled).allSatisfy(s -> assertThat(s).isPositive().isLessThanOrEqualTo(timeout * 2));
  }

  @Test
  void theAgentReportsKindAndReasonRestartsWithBackoffAndGivesUp() {
    List<String> log = run.section("agent");
    assertThat(log).filteredOn(l -> l.startsWith("baton: TEST BUILD of the scheduler")).isNotEmpty();
    assertThat(log)
        .filteredOn(l -> l.startsWith("baton: the kernel ended the scheduler: "))
        .hasSize(3)
        .allSatisfy(
            l ->
                assertThat(l)
                    .matches(
                        "baton: the kernel ended the scheduler: (ERROR_STALL: runnable task stall|ERROR: runtime error)"))
        .anySatisfy(l -> assertThat(l).contains("ERROR_STALL"));
    // The kernel's detail follows each: which task (or the watchdog itself) waited how long, or
    // the RCU stall.
    assertThat(log).filteredOn(l -> l.matches("baton:   .*(failed to run for|failed to check in|RCU CPU stall).*")).hasSize(3);
    assertThat(log).contains(
        "baton: restarting the scheduler in 500 ms (restart 1 of 2)",
        "baton: restarting the scheduler in 1000 ms (restart 2 of 2)");
    assertThat(log.getLast())
        .startsWith("baton: giving up: the scheduler was ejected 3 times in a row (restart_max 2); last: ERROR");
    assertThat(facts.get("agent_exit")).isEqualTo("8");
  }

  @Test
  void tasksRunOnTheDefaultSchedulerAfterwards() {
    assertThat(facts.get("state_final")).isEqualTo("disabled");
    assertThat(Integer.parseInt(facts.get("canary_ticks_after"))).isPositive();
  }
}
