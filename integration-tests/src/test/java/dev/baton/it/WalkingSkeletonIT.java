package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Baton attached in a real sched_ext kernel: it schedules every task of a workload with more
 * tasks than CPUs, streams their events into Java, and detaches cleanly on SIGTERM. One guest
 * boot serves every assertion (integration-tests/scripts/walking-skeleton.sh).
 */
class WalkingSkeletonIT {

  private static Vm.Result run;
  private static Map<String, String> facts;

  @BeforeAll
  static void bootOnce() {
    run =
        Vm.guest(
            List.of("--cpus", "2"),
            Duration.ofSeconds(600),
            "sh",
            "integration-tests/scripts/walking-skeleton.sh");
    facts = run.facts();
  }

  @Test
  void guestRanTheWholeScript() {
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(facts).containsKey("state_final");
  }

  @Test
  void checkPassesInTheGuest() {
    assertThat(facts.get("check_exit")).as(String.join("\n", run.section("check"))).isEqualTo("0");
  }

  @Test
  void checkRefusesAPidNamespaceOfItsOwn() {
    assertThat(facts.get("check_pidns_exit")).as(String.join("\n", run.section("check-pidns"))).isEqualTo("10");
    assertThat(run.section("check-pidns")).anyMatch(l -> l.contains("pid namespace of its own") && l.contains("--pid=host"));
  }

  @Test
  void cpuMaxHoldsAndTheControlsItDoesNotApplyAreNoted() {
    // The script's cgroup, made before the attach: cpu.max 10000 100000 (10% of a CPU), cpu.weight 50.
    String weighted = "baton: note: cpu.weight in 1 cgroup (/capped 50): Baton does not apply it";
    assertThat(run.section("check")).anyMatch(l -> l.startsWith(weighted)).noneMatch(l -> l.contains("cpu.max"));
    assertThat(run.section("agent")).as(agentLog()).anyMatch(l -> l.startsWith(weighted)).noneMatch(l -> l.contains("note: cpu.max"));
    assertThat(facts.get("unapplied_cpu_max")).as("the metric for the alert").isEqualTo("0.0");
    // A busy task there for 1.5 s, alone on its CPU: the cap's 150 ms, give or take a tick a
    // period (it got 1.5 s while Baton did not enforce cpu.max).
    assertThat(Long.parseLong(facts.get("capped_usage_us"))).isBetween(50_000L, 400_000L);
  }

  @Test
  void attachesAsBaton() {
    assertThat(facts.get("state_before")).isEqualTo("disabled");
    assertThat(facts.get("state_attached")).as(agentLog()).isEqualTo("enabled");
    assertThat(facts.get("ops")).isEqualTo("baton");
    assertThat(run.section("agent")).anyMatch(l -> l.startsWith("baton: attached"));
  }

  @Test
  void workloadWithMoreTasksThanCpusCompletesWhileAttached() {
    assertThat(Integer.parseInt(facts.get("workload_tasks"))).isGreaterThan(2);
    assertThat(facts.get("workload_completed")).isEqualTo(facts.get("workload_tasks"));
    assertThat(facts.get("state_after_workload")).isEqualTo("enabled");
  }

  @Test
  void eventsReachJavaIncludingTheWorkloadsTasks() {
    List<String> summaries =
        run.section("agent").stream().filter(l -> l.startsWith("baton: events ")).toList();
    assertThat(summaries).as(agentLog()).isNotEmpty();
    long events = Long.parseLong(summaries.getLast().split(" ")[2]);
    assertThat(events).isPositive();

    Set<String> seenPids =
        run.section("task").stream().map(l -> l.split("\t")[1]).collect(Collectors.toSet());
    List<String> workload = Arrays.asList(facts.get("workload_pids").split(" "));
    assertThat(seenPids).as("pids in the agent's task table").containsAll(workload);
    assertThat(run.section("task"))
        .filteredOn(l -> workload.contains(l.split("\t")[1]))
        .allSatisfy(l -> assertThat(l).startsWith("exited\t").endsWith("\tsh"));
  }

  @Test
  void statusComesFromTheRunningAgentOverItsApi() {
    assertThat(facts.get("status_exit")).as(facts.get("status_json")).isEqualTo("0");
    assertThat(facts.get("status_json"))
        .contains("\"scheduler\":\"attached\"")
        .contains("\"sched_ext_ops\":\"baton\"")
        .contains("\"sched_ext_state\":\"enabled\"");
    // The agent ran on CPU 0 alone; its policy plans for every CPU the scheduler manages.
    assertThat(facts).containsEntry("agent_affinity", "0").containsEntry("cpus", "2");
    assertThat(facts.get("status_json")).contains("\"cpus\":2,");
    // The guest's kernel (7.3) tells the scheduler each cgroup's cpu.max.
    assertThat(facts.get("status_json")).contains("\"cpu_max_enforced\":true");
  }

  @Test
  void theRunDelayHistogramCountedTheWorkloadsWaits() {
    // More tasks than CPUs: NORMAL tasks waited, and each wait went into the histogram.
    assertThat(Double.parseDouble(facts.get("run_delay_normal_count"))).isGreaterThan(0);
    assertThat(Double.parseDouble(facts.get("run_delay_normal_sum"))).isGreaterThan(0);
  }

  @Test
  void sigtermDetachesCleanly() {
    assertThat(facts.get("agent_exit")).as(agentLog()).isEqualTo("0");
    assertThat(facts.get("state_final")).isEqualTo("disabled");
    assertThat(run.section("dmesg"))
        .anyMatch(l -> l.contains("\"baton\"") && l.contains("unregistered from user space"));
    assertThat(run.section("agent")).anyMatch(l -> l.startsWith("baton: detached (UNREG"));
  }

  private static String agentLog() {
    return String.join("\n", run.section("agent"));
  }
}
