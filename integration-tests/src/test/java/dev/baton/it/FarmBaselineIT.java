package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.baton.it.farm.FarmResults;
import dev.baton.it.farm.FarmResults.Record;
import dev.baton.it.farm.FarmResults.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The workload generator end to end in a sched_ext guest with no BPF scheduler attached: a short
 * farm scenario under the baseline setups of farm-scenarios.sh, in one boot. It checks that farm
 * counts, times and reports what it was asked to run, that each setup's policy reaches the
 * kernel, and that heavy VOD load under plain EEVDF makes a live encoder miss more frames than it
 * does alone (a contrast within one boot, never an absolute time).
 */
class FarmBaselineIT {

  private static final long PERIOD_US = 33_333, COST_US = 10_000, SECONDS = 4;
  private static final long FRAMES = (SECONDS * 1_000_000 + PERIOD_US - 1) / PERIOD_US;
  private static final String SCENARIO = "farm-check";

  private static Vm.Result guest;
  private static FarmResults results;

  @BeforeAll
  static void bootOnce() throws IOException {
    // One 30 fps encoder needing 30% of a CPU against eight VOD encoders: under EEVDF each of the
    // nine tasks is offered 2/9 of 2 CPUs, less than the encoder needs.
    Path scenario = Vm.root().resolve("integration-tests/target/it/" + SCENARIO + ".farm");
    Files.createDirectories(scenario.getParent());
    StringBuilder s = new StringBuilder("seconds " + SECONDS + "\n");
    s.append("live cam30 period_us=" + PERIOD_US + " cost_us=" + COST_US + "\n");
    for (String tenant : List.of("a", "b")) {
      for (int i = 1; i <= 4; i++) {
        s.append("vod " + tenant + i + " tenant=" + tenant + "\n");
      }
    }
    Files.writeString(scenario, s);
    guest =
        Vm.guest(
            List.of("--cpus", "2"),
            Duration.ofSeconds(600),
            "sh",
            "integration-tests/scripts/farm-scenarios.sh",
            "--scenarios",
            Vm.root().relativize(scenario).toString(),
            "--setups",
            "alone eevdf nice fifo");
    results = FarmResults.parse(guest.output());
  }

  @Test
  void everySetupRanInOneTwoCpuGuest() {
    assertThat(guest.exitCode()).as(guest.output()).isZero();
    assertThat(results.facts()).containsEntry("cpus", "2");
    assertThat(results.runs())
        .extracting(Run::setup)
        .containsExactly("alone", "eevdf", "nice", "fifo");
    assertThat(results.runs()).allSatisfy(r -> assertThat(r.summary()).isPresent());
  }

  @Test
  void liveFramesAreCountedAndTimed() {
    for (Run run : results.runs()) {
      Record live = only(run, "live");
      assertThat(live.integer("frames")).as(run.setup()).isEqualTo(FRAMES);
      assertThat(live.integer("done")).as(run.setup()).isBetween(1L, FRAMES);
      assertThat(live.integer("missed")).isBetween(FRAMES - live.integer("done"), FRAMES);
      // A frame is done no sooner than its cost after its release: lateness >= cost - period.
      long floor = COST_US - PERIOD_US;
      assertThat(live.integer("late_p50_us")).as(run.setup()).isGreaterThanOrEqualTo(floor);
      assertThat(live.integer("late_p99_us")).isGreaterThanOrEqualTo(live.integer("late_p50_us"));
      assertThat(live.integer("late_max_us")).isGreaterThanOrEqualTo(live.integer("late_p99_us"));
      // The cost is CPU time: the encoder burned at least that much for the frames it finished.
      assertThat(live.integer("cpu_ms"))
          .as(run.setup())
          .isGreaterThanOrEqualTo(live.integer("done") * COST_US / 1000);
    }
    Record alone = only(results.run(SCENARIO, "alone").orElseThrow(), "live");
    assertThat(alone.integer("done")).as("alone, every frame finishes").isEqualTo(FRAMES);
  }

  @Test
  void vodEncodersOfBothTenantsDidWork() {
    Run eevdf = results.run(SCENARIO, "eevdf").orElseThrow();
    List<Record> vod = eevdf.all("vod");
    assertThat(vod).hasSize(8).allSatisfy(v -> assertThat(v.integer("units")).isPositive());
    assertThat(eevdf.all("tenant")).extracting(t -> t.get("name")).containsExactly("a", "b");
    double sum = vod.stream().mapToDouble(v -> v.number("units_per_s")).sum();
    assertThat(eevdf.summary().orElseThrow().number("vod_units_per_s"))
        .isCloseTo(sum, within(0.1));
    assertThat(results.run(SCENARIO, "alone").orElseThrow().all("vod")).isEmpty();
  }

  @Test
  void reportedPidsAreTheEncodersThatRan() {
    for (Run run : results.runs()) {
      Map<String, String> started =
          run.all("encoder").stream()
              .collect(Collectors.toMap(e -> e.get("name"), e -> e.get("pid")));
      assertThat(started.values()).doesNotHaveDuplicates();
      for (Record r : run.records()) {
        if (r.kind().equals("live") || r.kind().equals("vod")) {
          assertThat(r.get("pid"))
              .as(run.setup() + " " + r.get("name"))
              .isEqualTo(started.get(r.get("name")));
        }
      }
    }
  }

  @Test
  void eachSetupsPolicyReachesTheKernelForLiveEncodersOnly() {
    assertThat(policies("eevdf")).containsEntry("cam30", "other/0").containsEntry("a1", "other/0");
    assertThat(policies("nice")).containsEntry("cam30", "other/-10").containsEntry("a1", "other/0");
    assertThat(policies("fifo")).containsEntry("cam30", "fifo/0").containsEntry("b4", "other/0");
  }

  @Test
  void heavyVodLoadUnderEevdfMakesTheLiveEncoderMissMoreThanAlone() {
    long alone = only(results.run(SCENARIO, "alone").orElseThrow(), "live").integer("missed");
    long loaded = only(results.run(SCENARIO, "eevdf").orElseThrow(), "live").integer("missed");
    assertThat(loaded).as("missed with 8 VOD encoders vs alone (%d)", alone).isGreaterThan(alone);
  }

  private static Map<String, String> policies(String setup) {
    return results.run(SCENARIO, setup).orElseThrow().all("encoder").stream()
        .collect(
            Collectors.toMap(e -> e.get("name"), e -> e.get("policy") + "/" + e.get("nice")));
  }

  private static Record only(Run run, String kind) {
    List<Record> records = run.all(kind);
    assertThat(records).as(run.setup() + " " + kind).hasSize(1);
    return records.getFirst();
  }
}
