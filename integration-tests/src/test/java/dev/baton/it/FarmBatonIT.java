package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.it.farm.FarmResults;
import dev.baton.it.farm.FarmResults.Record;
import dev.baton.it.farm.FarmResults.Run;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo's Baton setup end to end, on the simple farm scenario (two 30 fps live encoders against
 * eight two-thread VOD encoders of two tenants) in one sched_ext guest: the agent attaches with the
 * transcode policy, every encoder is registered through the control API (no renicing), and the
 * agent detaches cleanly afterwards. Its live misses are compared with the same load's under
 * SCHED_FIFO (the best an operator has without Baton) and under plain EEVDF measured in the same
 * boot, never with absolute times. Not with the live encoders alone: with VOD load the guest's
 * vCPUs are always busy, so the host's other work steals from its frames more than when the
 * encoders run alone, whatever the guest's scheduler. The VM runs at a raised CPU share on the
 * host, and FIFO and Baton run twice, alternately: the host steals in bursts, and the better of
 * two runs is much less likely to have been hit.
 */
class FarmBatonIT {

  private static final String SCENARIO = "simple";
  private static final int SECONDS = 8;

  private static Vm.Result guest;
  private static FarmResults results;

  @BeforeAll
  static void bootOnce() {
    guest =
        Vm.measuringGuest(
            List.of("--cpus", "2"),
            Duration.ofSeconds(1200),
            "sh",
            "integration-tests/scripts/farm-scenarios.sh",
            "--scenarios",
            SCENARIO,
            "--seconds",
            Integer.toString(SECONDS),
            "--setups",
            "fifo baton eevdf fifo baton");
    results = FarmResults.parse(guest.output());
    System.out.printf(
        "farm-baton: live frames missed: fifo %s, eevdf %s, baton %s of %d%n",
        missed("fifo"), missed("eevdf"), missed("baton"), frames());
  }

  @Test
  void theAgentAttachedRanTheScenarioAndDetachedCleanly() {
    assertThat(guest.exitCode()).as(guest.output()).isZero();
    assertThat(results.runs())
        .extracting(Run::setup)
        .containsExactly("fifo", "baton", "eevdf", "fifo", "baton");
    for (Run baton : runs("baton")) {
      assertThat(baton.summary()).as(guest.output()).isPresent();
      Record agent = only(baton, "agent");
      assertThat(agent.get("exit")).as("the agent's exit status after SIGTERM").isEqualTo("0");
      assertThat(agent.get("state")).isEqualTo("disabled");
      assertThat(agent.integer("live_waits")).as("LIVE wakeups the BPF side timed").isPositive();
      assertThat(agent.get("live_delay_max_us")).as("the longest of them, a bucket bound").matches("[0-9]+|inf");
      // Where the agent's CPU went, by thread: the event loop ran, and the parts are within the
      // whole (each thread's and the process's time are counted in clock ticks of 10 ms).
      long split = 0;
      for (String part : List.of("loop", "jit", "gc_vm", "api", "other")) {
        split += agent.integer("agent_" + part + "_ms");
      }
      assertThat(agent.integer("agent_loop_ms")).as("the event loop's CPU").isPositive();
      assertThat(split).as("the threads' CPU against the process's").isLessThanOrEqualTo(agent.integer("cpu_ms") + 200);
    }
  }

  @Test
  void everyEncoderIsAJobOfItsClassAndNothingWasReniced() {
    for (Run baton : runs("baton")) {
      Map<String, Record> jobs =
          baton.all("job").stream().collect(Collectors.toMap(j -> j.get("name"), Function.identity()));
      List<Record> encoders = baton.all("encoder");
      assertThat(encoders).hasSize(10);
      assertThat(jobs.keySet())
          .as("the warm-up's jobs are gone")
          .containsExactlyInAnyOrderElementsOf(encoders.stream().map(e -> e.get("name")).toList());
      for (Record e : encoders) {
        String name = e.get("name");
        assertThat(jobs.get(name).get("class")).isEqualTo(e.get("kind"));
        // The encoder's runtime samples reached its job: the policy knew its tasks.
        assertThat(jobs.get(name).integer("cpu_ms")).as(name + "'s CPU as its job saw it").isPositive();
        assertThat(e.get("policy") + "/" + e.get("nice")).as(name).isEqualTo("other/0");
      }
    }
  }

  @Test
  void liveEncodersMissAboutAsFewFramesAsUnderFifoAndFewerThanUnderEevdf() {
    long frames = frames();
    assertThat(results.runs())
        .allSatisfy(r -> assertThat(r.summary().orElseThrow().integer("live_frames")).isEqualTo(frames));
    // 5% of the frames is room for the host's noise between two runs (measured: 0-14% apart).
    assertThat(best("baton"))
        .as("fewest missed under Baton vs SCHED_FIFO %s, of %d: %s", missed("fifo"), frames, missed("baton"))
        .isLessThanOrEqualTo(best("fifo") + frames / 20);
    for (long m : missed("baton")) {
      assertThat(m).as("missed under Baton vs EEVDF %s", missed("eevdf")).isLessThan(best("eevdf"));
    }
  }

  private static List<Run> runs(String setup) {
    List<Run> runs = results.runs().stream().filter(r -> r.setup().equals(setup)).toList();
    assertThat(runs).as("%s runs in: %s", setup, guest.output()).isNotEmpty();
    return runs;
  }

  /** Live frames missed in each run of a setup that has a summary. */
  private static List<Long> missed(String setup) {
    return results.runs().stream()
        .filter(r -> r.setup().equals(setup))
        .flatMap(r -> r.summary().stream())
        .map(s -> s.integer("live_missed"))
        .toList();
  }

  private static long best(String setup) {
    return missed(setup).stream().mapToLong(Long::longValue).min().orElseThrow(
        () -> new AssertionError("no " + setup + " run finished: " + guest.output()));
  }

  private static long frames() {
    return results.runs().stream()
        .flatMap(r -> r.summary().stream())
        .mapToLong(s -> s.integer("live_frames"))
        .findFirst()
        .orElse(-1);
  }

  private static Record only(Run run, String kind) {
    List<Record> records = run.all(kind);
    assertThat(records).as(run.setup() + " " + kind).hasSize(1);
    return records.getFirst();
  }
}
