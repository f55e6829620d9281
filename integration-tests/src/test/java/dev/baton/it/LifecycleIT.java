package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The agent's lifecycle in a real sched_ext kernel, with the scheduler pinned, under a canary
 * task and CPU hogs: least privileges, SIGKILL and adoption (with the API's jobs), a fork storm,
 * SIGSTOP past the watchdog timeout, handover, a real Prometheus scrape, a pinned scheduler of
 * another interface replaced, baton stop, and a foreign scheduler left alone. One guest boot
 * (integration-tests/scripts/lifecycle.sh).
 */
class LifecycleIT {

  private static Vm.Result run;
  private static Map<String, String> facts;

  @BeforeAll
  static void bootOnce() {
    run = Vm.guest(List.of("--cpus", "2"), Duration.ofSeconds(1500), "bash", "integration-tests/scripts/lifecycle.sh");
    facts = run.facts();
  }

  private static String log(String section) {
    return String.join("\n", run.section(section));
  }

  @Test
  void guestRanTheWholeScript() {
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(facts).containsEntry("done", "yes");
  }

  @Test
  void cap_bpfAndCap_perfmonAloneAttachAndPin() {
    assertThat(facts.get("caps_first_agent")).isEqualTo("000000c000000000"); // bits 38, 39
    assertThat(facts.get("attach_state")).as(log("agent1")).isEqualTo("enabled");
    assertThat(facts.get("attach_ops")).isEqualTo("baton");
    assertThat(facts.get("pins")).contains("./link", "./maps/events", "./maps/stats", "./maps/exit_info");
    assertThat(facts.get("pin_modes").trim()).isEqualTo("600 700"); // pins 0600, directories 0700
    assertThat(facts.get("pin_dir_mode")).isEqualTo("700 root");
  }

  @Test
  void metricsAreServedAndPassPromtool() {
    assertThat(facts.get("metrics_exit")).isEqualTo("0");
    assertThat(Integer.parseInt(facts.get("metrics_baton_series"))).isGreaterThan(10);
    assertThat(facts.get("metrics_enabled")).isEqualTo("1.0");
    assertThat(facts.get("promtool_metrics_exit")).as(log("promtool")).isEqualTo("0");
  }

  @Test
  void sigkillLeavesTheSchedulerAttachedAndANewAgentAdoptsIt() {
    assertThat(facts.get("killed_exit")).isEqualTo("137");
    assertThat(facts.get("killed_state")).isEqualTo("enabled");
    assertThat(facts.get("killed_ops")).isEqualTo("baton");
    assertThat(facts.get("killed_pins")).isEqualTo("present");
    assertThat(facts.get("adopt_state")).isEqualTo("enabled");
    assertThat(run.section("agent2")).anyMatch(l -> l.startsWith("baton: adopted the running scheduler"));
    assertThat(run.section("agent2")).noneMatch(l -> l.startsWith("baton: attached"));
  }

  @Test
  void aKilledAgentsHintsHoldUntilTheNextAgentAdoptsThem() {
    // The BPF side found the agent's process gone when its heartbeat was about to go stale, once,
    // and kept the hints: they never went stale between the kill and the adoption.
    assertThat(facts.get("adopt_agent_deaths")).as(log("agent2")).isEqualTo("1.0");
    assertThat(facts.get("killed_stale_periods_before")).isNotBlank();
    assertThat(facts.get("adopt_stale_periods")).isEqualTo(facts.get("killed_stale_periods_before"));
  }

  @Test
  void theApisJobsOutliveTheAgentWhileTheirProcessesRun() {
    assertThat(facts.get("job_put")).isEqualTo("200 200");
    assertThat(facts.get("registered_jobs")).isEqualTo("canary doomed ");
    assertThat(facts.get("registered_canary_tasks")).isEqualTo("1");
    // The adopting agent has the canary's job back, selecting the canary; the other job's
    // process exited while no agent ran, and it is gone, said so.
    assertThat(facts.get("adopted_jobs")).as(log("agent2")).isEqualTo("canary ");
    assertThat(facts.get("adopted_canary_tasks")).isEqualTo("1");
    assertThat(run.section("agent2"))
        .contains("baton: job doomed not restored: none of its processes is running")
        .anyMatch(l -> l.startsWith("baton: restored 1 job(s) registered through the API from /run/baton/jobs.json"));
    assertThat(facts.get("handover_jobs")).as(log("agent3")).isEqualTo("canary ");
    assertThat(facts.get("handover_canary_tasks")).isEqualTo("1");
  }

  @Test
  void anOperatorsHintOutlivesItsAgent() {
    assertThat(facts.get("kept_hint_put")).isEqualTo("200");
    // Each adopting agent kept it, and tells it from its predecessor's policy hints (this
    // lifecycle's policy, fair, writes none, so it found none to replace).
    for (String when : List.of("registered", "adopted", "handover")) {
      assertThat(facts.get(when + "_kept_hint")).as(when).contains("\"class\":\"batch\"", "\"origin\":\"operator\"");
    }
    for (String agent : List.of("agent2", "agent3")) {
      assertThat(run.section(agent)).as(log(agent)).noneMatch(l -> l.contains("a previous agent's policy hints"));
    }
  }

  @Test
  void aForkStormKeepsTheTaskTableBoundedAndCountsDrops() {
    assertThat(facts.get("storm_agent_alive")).as(log("agent2")).isEqualTo("yes");
    assertThat(facts.get("storm_state")).isEqualTo("enabled");
    assertThat(Double.parseDouble(facts.get("storm_tracked"))).isLessThanOrEqualTo(16);
    assertThat(Double.parseDouble(facts.get("storm_dropped_tasks"))).isPositive();
    assertThat(facts.get("storm_status")).contains("\"scheduler\":\"attached\"");
  }

  @Test
  void aFrozenAgentIsNotEjectedAndResumes() {
    assertThat(facts.get("frozen_state")).isEqualTo("enabled");
    assertThat(facts.get("frozen_ops")).isEqualTo("baton");
    assertThat(Long.parseLong(facts.get("thawed_events_after")))
        .isGreaterThan(Long.parseLong(facts.get("thawed_events_before")));
  }

  @Test
  void handoverExits9AndTheNextAgentAdopts() {
    assertThat(facts.get("handover_cmd_exit")).as(log("handover")).isEqualTo("0");
    assertThat(facts.get("handover_exit")).isEqualTo("9");
    assertThat(facts.get("handover_state")).isEqualTo("enabled");
    assertThat(facts.get("handover_pins")).isEqualTo("present");
    assertThat(run.section("agent3")).anyMatch(l -> l.startsWith("baton: adopted the running scheduler"));
  }

  @Test
  void aRealPrometheusScrapesTheAgent() {
    assertThat(facts.get("prom_up")).as(log("prometheus")).isEqualTo("1");
    assertThat(Integer.parseInt(facts.get("prom_baton_series"))).isGreaterThan(10);
    assertThat(facts.get("prom_enabled")).isEqualTo("1");
    assertThat(Long.parseLong(facts.get("prom_events"))).isPositive();
  }

  @Test
  void batonStopDetachesThePinnedSchedulerAndTheAgentExitsCleanly() {
    assertThat(facts.get("stop_exit")).as(log("stop")).isEqualTo("0");
    assertThat(facts.get("stop_agent_exit")).as(log("agent4")).isEqualTo("0");
    assertThat(facts.get("stop_state")).isEqualTo("disabled");
    assertThat(facts.get("stop_pins")).isEqualTo("absent");
    assertThat(facts.get("stop_again_exit")).isEqualTo("1");
    assertThat(run.section("stop2")).anyMatch(l -> l.contains("no pinned scheduler"));
  }

  @Test
  void anotherSchedulerIsRefusedByNameAndLeftAlone() {
    assertThat(facts.get("other_register_exit")).as(log("other")).isEqualTo("0");
    assertThat(facts.get("other_ops")).isEqualTo("other_sched");
    assertThat(facts.get("other_run_exit")).isEqualTo("6");
    assertThat(facts.get("other_run_message")).contains("'other_sched (state enabled)'");
    assertThat(facts.get("other_state_after")).isEqualTo("enabled");
    assertThat(facts.get("other_ops_after")).isEqualTo("other_sched");
    assertThat(facts.get("other_pins_after")).isEqualTo("absent");
    assertThat(facts.get("other_removed_state")).isEqualTo("disabled");
  }

  @Test
  void theSchedulerWasAttachedOnceFromTheFirstAgentToTheInterfaceChange() {
    // Kill, adoption, freeze and handover happened without a detach in between ...
    assertThat(facts.get("dmesg_enabled_before_refit")).isEqualTo("1");
    assertThat(facts.get("dmesg_disabled_before_refit")).isEqualTo("0");
    // ... then the agent of "another interface" replaced it, and baton stop detached that one.
    assertThat(run.section("dmesg").stream().filter(l -> l.contains("BPF scheduler \"baton\" enabled")))
        .hasSize(2);
    assertThat(run.section("dmesg").stream().filter(l -> l.contains("BPF scheduler \"baton\" disabled")))
        .hasSize(2)
        .allSatisfy(l -> assertThat(l).contains("unregistered from user space"));
  }

  @Test
  void aPinnedSchedulerOfAnotherInterfaceIsReplacedNotAdopted() {
    assertThat(facts.get("refit_handover_exit")).as(log("handover2")).isEqualTo("9");
    assertThat(facts.get("refit_tamper_exit")).as(log("tamper")).isEqualTo("0");
    // Every map the same size, only the fingerprint another build's: the exact check refuses it.
    // (The script wrote the bytes de ad be ef twice: a little-endian u64.)
    assertThat(facts.get("refit_message"))
        .as(log("agent4"))
        .contains("(interface fingerprint: efbeaddeefbeadde there, ")
        .contains("detaching it and attaching this agent's own");
    assertThat(run.section("agent4")).noneMatch(l -> l.startsWith("baton: adopted"));
    assertThat(facts.get("refit_state")).isEqualTo("enabled");
    assertThat(facts.get("refit_ops")).isEqualTo("baton");
  }

  @Test
  void noTaskStalledAndNothingWasEjected() {
    double timeoutMs = Double.parseDouble(facts.get("timeout_s")) * 1000;
    assertThat(Integer.parseInt(facts.get("canary_max_gap_ms"))).isLessThan((int) timeoutMs);
    assertThat(run.section("dmesg")).noneMatch(l -> l.contains("stall") || l.contains("error"));
  }
}
