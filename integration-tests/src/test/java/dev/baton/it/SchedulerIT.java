package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@link SchedulerScenarios} on the default (newest) cached sched_ext kernel, plus what costs a
 * JVM start each: hints through the baton hint CLI, and a run without the starvation guard.
 */
class SchedulerIT extends SchedulerScenarios {
  @Override
  String kernel() {
    return cachedKernels().getFirst();
  }

  @Override
  String mode() {
    return "full";
  }

  @Test
  void hintsFromTheCliReachTheScheduler() {
    assertThat(facts.get("cli_hint_exit")).as(facts.get("cli_hint_out")).isEqualTo("0");
    assertThat(facts.get("cli_hint_out")).contains(": live, deadline 200000 us");
    assertThat(facts.get("cli_list_exit")).as(String.join("\n", run.section("list"))).isEqualTo("0");
    // PID TGID CLASS WEIGHT SLICE DEADLINE SCHEDULED BY COMM: the BPF side schedules it as
    // BATCH, and the hint is the operator's.
    assertThat(facts.get("cli_list_batch").split("\\s+"))
        .as(facts.get("cli_list_batch"))
        .containsSubsequence("batch", "-", "-", "-", "batch", "operator", "schedprobe");
    assertThat(stats().get("dispatch_live")).as("LIVE tasks ran from the LIVE queue").isPositive();
  }

  @Test
  void withoutTheGuardTheSameLoadIsEjectedByTheWatchdog() {
    assertThat(facts.get("noguard_attached")).isEqualTo("enabled");
    String log = String.join("\n", run.section("agent2"));
    assertThat(facts.get("noguard_agent_exit")).as(log).isEqualTo("8");
    assertThat(run.section("agent2"))
        .as(log)
        .anyMatch(l -> l.contains("the kernel ended the scheduler") && l.contains("stall"));
    assertThat(facts.get("state_final")).isEqualTo("disabled");
  }
}
