package dev.baton.it.farm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.it.farm.FarmResults.Run;
import org.junit.jupiter.api.Test;

class FarmResultsTest {

  private static final String OUTPUT =
      """
      cpus=2
      kernel=7.3.4+deb13-amd64
      setup=eevdf scenario=hard record=encoder name=cam60 kind=live pid=10 policy=other nice=0 \
      period_us=16667 cost_us=2500 jitter_pct=10 frames=600
      setup=eevdf scenario=hard record=encoder name=a1 kind=vod pid=11 policy=other nice=0 \
      tenant=a threads=1
      setup=eevdf scenario=hard record=live name=cam60 pid=10 frames=600 done=600 missed=12 \
      missed_pct=2.00 late_p50_us=-9000 late_p99_us=1500 late_max_us=2100 cpu_ms=1700 \
      stall_pct=0.50
      setup=eevdf scenario=hard record=vod name=a1 pid=11 tenant=a threads=1 units=900 \
      units_per_s=90.00 cpu_ms=5000
      setup=eevdf scenario=hard record=tenant name=a weight=1 units_per_s=90.00
      setup=eevdf scenario=hard record=summary seconds=10 live_encoders=1 live_frames=600 \
      live_missed=12 live_missed_pct=2.00 late_p50_us=-9000 late_p99_us=1500 late_max_us=2100 \
      vod_encoders=1 vod_units_per_s=90.00 vod_fairness=1.000 stall_pct=0.50 chunk_iters=7500
      setup=eevdf scenario=hard record=guest user_pct=91.0 system_pct=8.4 irq_pct=0.0 \
      idle_pct=0.5 intr_per_s=1045 ctxt_per_s=670
      setup=fifo scenario=hard record=encoder name=cam60 kind=live pid=20 policy=fifo nice=0 \
      period_us=16667 cost_us=2500 jitter_pct=10 frames=600
      setup=fifo scenario=hard record=encoder name=a1 kind=vod pid=21 policy=other nice=0 \
      tenant=a threads=1
      setup=fifo scenario=hard record=summary seconds=10 live_encoders=1 live_frames=600 \
      live_missed=30 live_missed_pct=5.00 late_p50_us=-8000 late_p99_us=4000 late_max_us=9000 \
      vod_encoders=1 vod_units_per_s=60.00 vod_fairness=1.000 stall_pct=12.00 chunk_iters=7500
      setup=baton scenario=hard record=skipped message=the baton setup waits for the job API
      setup=baton scenario=easy record=encoder name=cam60 kind=live pid=30 policy=other nice=0 \
      period_us=16667 cost_us=2500 jitter_pct=10 frames=600
      setup=baton scenario=easy record=summary seconds=10 live_encoders=1 live_frames=600 \
      live_missed=0 live_missed_pct=0.00 late_p50_us=-9000 late_p99_us=-4000 late_max_us=-100 \
      vod_encoders=0 vod_units_per_s=0.00 vod_fairness=1.000 stall_pct=0.40 chunk_iters=7500
      setup=baton scenario=easy record=job name=cam60 class=live cpu_ms=1600 wait_ms=20 max_lag_level=0
      setup=baton scenario=easy record=agent exit=0 state=disabled cpu_ms=500 guard=3 kicks=90 \
      live_waits=2000 live_delay_mean_us=300 live_delay_p99_us=4194 live_delay_max_us=inf
      some unrelated guest noise
      """;

  @Test
  void groupsRecordsIntoRunsInTheOrderTheyRan() {
    FarmResults r = FarmResults.parse(OUTPUT);
    assertThat(r.facts()).containsEntry("cpus", "2").containsEntry("kernel", "7.3.4+deb13-amd64");
    assertThat(r.scenarios()).containsExactly("hard", "easy");
    assertThat(r.runs()).extracting(Run::setup).containsExactly("eevdf", "fifo", "baton", "baton");

    Run eevdf = r.run("hard", "eevdf").orElseThrow();
    assertThat(eevdf.all("encoder")).hasSize(2);
    assertThat(eevdf.all("live").getFirst().integer("missed")).isEqualTo(12);
    assertThat(eevdf.all("vod").getFirst().get("tenant")).isEqualTo("a");
    assertThat(eevdf.summary().orElseThrow().number("late_p50_us")).isEqualTo(-9000);
    assertThat(eevdf.error()).isEmpty();
  }

  @Test
  void anErrorRecordKeepsItsWholeMessageAndHasNoSummary() {
    Run baton = FarmResults.parse(OUTPUT).run("hard", "baton").orElseThrow();
    assertThat(baton.summary()).isEmpty();
    assertThat(baton.error()).contains("the baton setup waits for the job API");
  }

  @Test
  void aRepeatedRoundOfTheSameSetupIsASecondRun() {
    String line =
        "setup=eevdf scenario=s record=encoder name=x kind=live pid=1\n"
            + "setup=eevdf scenario=s record=summary vod_units_per_s=1\n";
    FarmResults r = FarmResults.parse(line + line);
    assertThat(r.runs()).hasSize(2);
    assertThat(r.runs()).allSatisfy(run -> assertThat(run.records()).hasSize(2));
  }

  @Test
  void malformedRecordNamesItsLine() {
    assertThatThrownBy(() -> FarmResults.parse("cpus=2\nsetup=x scenario=y record=live oops\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 2")
        .hasMessageContaining("'oops'");
    assertThatThrownBy(() -> FarmResults.parse("setup=x record=live a=1\n"))
        .hasMessageContaining("no scenario=");
  }

  @Test
  void missingOrNonNumericFieldsAreClearErrors() {
    Run run = FarmResults.parse(OUTPUT).run("hard", "eevdf").orElseThrow();
    FarmResults.Record live = run.all("live").getFirst();
    assertThatThrownBy(() -> live.get("nope")).hasMessageContaining("has no nope");
    assertThatThrownBy(() -> live.number("name")).hasMessageContaining("is not a number");
  }

  @Test
  void scenarioLineGivesDeclaredAndMeasuredLiveDemand() {
    String out =
        """
        cpus=2
        setup=alone scenario=s record=encoder name=c kind=live pid=1 period_us=10000 cost_us=2500
        setup=alone scenario=s record=live name=c pid=1 frames=1000 cpu_ms=3000
        setup=alone scenario=s record=summary seconds=10 vod_encoders=0
        setup=eevdf scenario=s record=encoder name=c kind=live pid=2 period_us=10000 cost_us=2500
        setup=eevdf scenario=s record=encoder name=v kind=vod pid=3 tenant=t threads=4
        """;
    // declared 2.5 ms / 10 ms of 2 CPUs; measured 3000 ms of CPU in 10 s on 2 CPUs
    assertThat(FarmReport.describe(FarmResults.parse(out), "s"))
        .isEqualTo(
            "s: 1 live encoders (100 fps) needing 13% of 2 CPUs (15% measured alone);"
                + " 1 VOD encoders (4 threads, tenants t)");
  }

  @Test
  void reportComparesVodThroughputWithFifoAndListsFailedSetups() {
    FarmResults r = FarmResults.parse(OUTPUT);
    assertThat(FarmReport.vsFifo(r, r.run("hard", "eevdf").orElseThrow())).contains(1.5);
    String table = FarmReport.table(r);
    assertThat(table)
        .contains(
            "hard: 1 live encoders (60 fps) needing 7% of 2 CPUs; 1 VOD encoders (1 threads,"
                + " tenants a)")
        .containsPattern(
            "EEVDF default +2\\.00% +-9\\.0 ms +1\\.5 ms +90\\.0 +1\\.50x +1\\.00 +0\\.5% +8\\.4%")
        .containsPattern("SCHED_FIFO .* 12\\.0% +-\\n")
        .contains("Baton, transcode policy  not run: the baton setup waits for the job API");
    String json = FarmReport.json(r);
    assertThat(json)
        .contains("\"cpus\":2")
        .contains("\"setup\":\"fifo\"")
        .contains("\"vod_vs_fifo\":1.500")
        .contains("\"kernel_pct\":8.400")
        .contains("\"error\":\"the baton setup waits for the job API\"");
    assertThat(FarmReport.svg(r))
        .startsWith("<svg")
        .contains("live frames missed", "live lateness p50, p99", "VOD throughput", "VOD fairness")
        .contains(">not run<")
        .endsWith("</svg>\n");
  }

  @Test
  void batonsRunKeepsItsJobsAndAgentAndTheTableSaysWhatTheAgentCost() {
    FarmResults r = FarmResults.parse(OUTPUT);
    Run baton = r.run("easy", "baton").orElseThrow();
    assertThat(baton.all("job")).singleElement().satisfies(j -> assertThat(j.integer("cpu_ms")).isEqualTo(1600));
    // 500 ms of CPU in a 10 s run on 2 CPUs
    assertThat(FarmReport.agentShare(r, baton)).contains(2.5);
    assertThat(FarmReport.table(r))
        .contains("(Baton's agent used 2.5% of the guest's CPU during the run, CPU that VOD did not get.)");
    assertThat(FarmReport.json(r)).contains("\"agent_cpu_pct\":2.500");
  }

  @Test
  void batonsRunSaysHowLongLiveTasksWaitedByTheHistogramsBounds() {
    FarmResults r = FarmResults.parse(OUTPUT);
    assertThat(FarmReport.liveWait(r.run("easy", "baton").orElseThrow())).contains("p99 < 4.2 ms, max < inf");
    assertThat(FarmReport.liveWait(r.run("hard", "fifo").orElseThrow())).isEmpty();
    assertThat(FarmReport.table(r)).contains("(Under Baton, live tasks waited from wakeup to running: p99 < 4.2 ms, max < inf.)");
    assertThat(FarmReport.json(r)).contains("\"live_wait_p99_ms_below\":4.194", "\"live_wait_max_ms_below\":null");
  }

  @Test
  void chartAxesShowEveryValueButRunawayLateness() {
    FarmResults r = FarmResults.parse(OUTPUT);
    java.util.List<Run> runs = FarmReport.ordered(r, "hard");
    double[] missed = FarmReport.axis(runs, FarmReport.PANELS.get(0));
    double[] late = FarmReport.axis(runs, FarmReport.PANELS.get(1));
    double[] vod = FarmReport.axis(runs, FarmReport.PANELS.get(2));
    assertThat(missed).containsExactly(0, 100);
    // p50 down to -9 ms; p99 up to 4 ms, under the cap of 4 periods of the 60 fps encoder.
    assertThat(late).containsExactly(-9, 4);
    assertThat(vod[1]).isCloseTo(90 * 1.15, org.assertj.core.api.Assertions.within(1e-9));
    String slow = OUTPUT.replace("late_p99_us=4000", "late_p99_us=900000");
    double[] capped = FarmReport.axis(FarmReport.ordered(FarmResults.parse(slow), "hard"), FarmReport.PANELS.get(1));
    assertThat(capped[1]).isCloseTo(4 * 16.667, org.assertj.core.api.Assertions.within(1e-9));
  }
}
