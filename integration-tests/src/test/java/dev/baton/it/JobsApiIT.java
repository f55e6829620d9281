package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The policy engine and the job API in a real sched_ext kernel (one boot,
 * integration-tests/scripts/jobs-api.sh): runtime samples add up to the kernel's CPU accounting,
 * and a live job registered with {@code baton job put} gets LIVE hints and meets its deadlines
 * among CPU hogs.
 */
class JobsApiIT {

  private static Vm.Result run;
  private static Map<String, String> facts;

  @BeforeAll
  static void bootOnce() {
    // Built on the host: the guest sees the project directory at the same path.
    Vm.Result cc =
        Vm.host(
            Duration.ofSeconds(120),
            "gcc", "-O2", "-Wall", "-Werror", "-o", "integration-tests/target/periodic",
            "integration-tests/workload/periodic.c");
    assertThat(cc.exitCode()).as("gcc: " + cc.output()).isZero();
    run =
        Vm.guest(
            List.of("--cpus", "2"),
            Duration.ofSeconds(900),
            "sh",
            "integration-tests/scripts/jobs-api.sh",
            Vm.root().resolve("integration-tests/target/periodic").toString());
    facts = run.facts();
    System.out.printf(
        "jobs-api: hog stat %s ms, task %s; periodic unregistered %s/%s misses (mean late %s us),"
            + " registered %s/%s (mean late %s us)%n",
        facts.get("hog_stat_ms"), facts.get("hog_task"), facts.get("unreg_misses"),
        facts.get("unreg_frames"), facts.get("unreg_mean_late_us"), facts.get("reg_misses"),
        facts.get("reg_frames"), facts.get("reg_mean_late_us"));
  }

  @Test
  void theAgentRunsTheTranscodePolicyAndDetachesCleanly() {
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(facts.get("state_attached")).isEqualTo("enabled");
    assertThat(facts.get("status_json")).contains("\"policy\":\"transcode\"");
    assertThat(facts.get("agent_exit")).as(agentLog()).isEqualTo("0");
    assertThat(facts.get("state_final")).isEqualTo("disabled");
  }

  @Test
  void aReloadChangesTheRunningSchedulersSlicesTimingsAndGraceAndNamesWhatTakesARestart() {
    String all = "live|interactive|normal|batch|idle";
    assertThat(facts.get("status_json"))
        .contains("\"handover_grace_ms\":30000", "\"stale_ms\":2000", "\"starve_ms\":100", "\"sample_ms\":100")
        .containsPattern("\"slice_us\":\\{(\"(" + all + ")\":20000,?){5}}");
    assertThat(facts.get("reload_json"))
        .contains("\"applied\":[\"slice_us\",\"stale_ms\",\"sample_ms\",\"handover_grace_ms\"]", "\"needs_restart\":[\"timeout_ms\"]");
    assertThat(facts.get("status_reloaded"))
        .as("read back from the scheduler's live section")
        .contains("\"handover_grace_ms\":1000", "\"stale_ms\":3000", "\"sample_ms\":1000", "\"scheduler\":\"attached\"")
        .containsPattern("\"slice_us\":\\{(\"(" + all + ")\":5000,?){5}}");
    // The BPF side follows: runtime samples (most of what the agent receives) at most once a
    // second per task instead of ten times.
    long before = Long.parseLong(facts.get("events_sampled_often"));
    long after = Long.parseLong(facts.get("events_sampled_seldom"));
    assertThat(before).as("events in 3 s at sample_ms 100, four hogs running").isGreaterThan(100);
    assertThat(after).as("events in 3 s at sample_ms 1000 (%d at 100)", before).isLessThan(before / 2);
    // Lowered from 60000 to 200 by a reload, stale_ms holds at once: a 2 s freeze of the agent
    // is seen (the heartbeat check runs at least every 500 ms, not every stale_ms / 4 = 15 s).
    // (Measured 2: at 200 ms an emulated agent's first turns after the freeze may go stale too.)
    assertThat(Long.parseLong(facts.get("stale_periods_frozen"))).as(agentLog()).isPositive();
  }

  @Test
  void runtimeSamplesAddUpToTheKernelsCpuTime() {
    assertThat(facts.get("put_hog_status")).as(String.join("\n", run.section("jobs"))).isEqualTo("200");
    long statMs = Long.parseLong(facts.get("hog_stat_ms"));
    Matcher m = Pattern.compile("\"cpu_ns\":(\\d+)").matcher(facts.getOrDefault("hog_task", ""));
    assertThat(m.find()).as("the hog in /v1/tasks: " + facts.get("hog_task")).isTrue();
    long sampledMs = Long.parseLong(m.group(1)) / 1_000_000;
    assertThat(statMs).as("the hog ran").isGreaterThan(300);
    // The last partial sample (under sample_ms plus a slice) is lost when the hog is stopped.
    assertThat((double) sampledMs).as("sampled vs utime+stime ms").isBetween(statMs * 0.8, statMs * 1.2);
  }

  @Test
  void aLiveJobPutThroughTheCliGetsLiveHints() {
    assertThat(facts.get("put_live_exit")).as(String.join("\n", run.section("jobs"))).isEqualTo("0");
    // Deadline: the 50 ms period less the default 10% margin.
    assertThat(facts.get("live_hint")).contains("\"class\":\"live\"", "\"deadline_us\":45000");
    // The policy keys the hint with the start time the event stream reported; the task (alive,
    // stopped) must be the one BPF finds under that key, else the hint reaches nothing.
    assertThat(facts.get("live_hint")).contains("\"alive\":true");
    assertThat(facts.get("jobs_json")).contains("\"id\":\"cam1\"", "\"class\":\"live\"", "\"tenant\":\"acme\"");
    assertThat(facts.get("rm_status")).isEqualTo("204");
    assertThat(facts.get("rm_again")).contains("no job 'cam1'");
  }

  @Test
  void theRegisteredLiveTaskMeetsItsDeadlinesAmongHogs() {
    assertThat(facts.get("reg_frames")).isEqualTo("40");
    int misses = Integer.parseInt(facts.get("reg_misses"));
    long lateUs = misses * Long.parseLong(facts.get("reg_mean_late_us"));
    long unregLateUs =
        Long.parseLong(facts.get("unreg_misses")) * Long.parseLong(facts.get("unreg_mean_late_us"));
    // Loose: an emulated guest on an overloaded host misses frames whatever the scheduler does
    // (measured: 0/40 registered vs 1..23/40 unregistered when calm; 38/40 but 5x less late
    // when the host was saturated), so either few misses or far less lateness than unregistered.
    assertThat(misses <= 10 || lateUs * 2 < unregLateUs)
        .as("registered: %d/40 misses, %d us late in all; unregistered: %d us late in all",
            misses, lateUs, unregLateUs)
        .isTrue();
  }

  private static String agentLog() {
    return String.join("\n", run.section("agent"));
  }
}
