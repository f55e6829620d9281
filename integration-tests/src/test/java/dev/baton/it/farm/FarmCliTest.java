package dev.baton.it.farm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The farm binary on the host (it needs no sched_ext): input checking, the ready/go handshake
 * and the shape of its report. Timing is the VM tests' business; nothing here depends on it.
 */
class FarmCliTest {

  /** Built by this module's generate-resources phase; tests run from the module directory. */
  private static final Path FARM = Path.of("target/workload/farm").toAbsolutePath();

  record Out(int exit, String stdout, String stderr) {}

  private static Out farm(String... args) throws Exception {
    assertThat(FARM).as("farm is built by the module's build").isExecutable();
    List<String> argv = new ArrayList<>(List.of(FARM.toString()));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Out(
        p.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "live x period_us=1000 cost_us=10 speed=2 | unknown key 'speed' for live",
        "live x period_us=1000 cost_us=2000 | cost_us=2000 exceeds period_us=1000 x threads=1",
        "live x period_us=1000 cost_us=2500 threads=2 | cost_us=2500 exceeds period_us=1000 x threads=2",
        "live x period_us=1000 threads=2 cmd true | threads= splits burnt frames",
        "live x period_us=10 cost_us=1 | period_us=10: want a whole number in [1000, 10000000]",
        "live x period_us=1000 | live needs period_us= and either cost_us= or cmd",
        "vod v threads=2 | vod needs tenant=",
        "vod v tenant=a threads=99 | threads=99: want a whole number in [1, 16]",
        "vod v/1 tenant=a | name 'v/1'",
        "encode x | unknown record 'encode'",
        "seconds 0 | seconds=0: want a whole number in [1, 3600]",
        "tenant a weight=x | weight=x: want a whole number",
      })
  void badScenarioLinesAreRejectedWithTheirPlace(String line, String message) throws Exception {
    Out r = farm("run", "-e", "seconds 1", "-e", line);
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).startsWith("farm: -e #2: ").contains(message);
    assertThat(r.stdout()).as("nothing started").isEmpty();
  }

  @Test
  void badOptionsAndEmptyScenariosAreRejected(@TempDir Path dir) throws Exception {
    assertThat(farm("run", "-e", "seconds 1").stderr()).contains("the scenario has no encoders");
    assertThat(farm("run", "--live-policy", "rr").stderr()).contains("want other or fifo");
    assertThat(farm("run", "--live-nice", "-21").stderr()).contains("[-20, 19]");
    assertThat(farm("run", "-f", dir.resolve("nope.farm").toString()).stderr())
        .contains("cannot read scenario");
    Files.writeString(dir.resolve("dup.farm"), "vod a tenant=t\n\n# twice\nvod a tenant=t\n");
    Out dup = farm("run", "-f", dir.resolve("dup.farm").toString());
    assertThat(dup.exit()).isEqualTo(2);
    assertThat(dup.stderr()).contains("dup.farm:4: encoder 'a' is defined twice");
    assertThat(farm("walk").stderr()).startsWith("usage: farm run");
  }

  @Test
  void reportsEveryEncoderAndItsWork() throws Exception {
    Out r =
        farm(
            "run",
            "-e", "seconds 1",
            "-e", "live cam period_us=10000 cost_us=100 jitter_pct=50",
            "-e", "vod a1 tenant=a threads=2",
            "-e", "vod b1 tenant=b",
            "-e", "tenant b weight=2");
    assertThat(r.exit()).as(r.stderr()).isZero();
    FarmResults results =
        FarmResults.parse(r.stdout().lines().map(l -> "setup=t scenario=s " + l + "\n")
            .reduce("", String::concat));
    FarmResults.Run run = results.runs().getFirst();
    assertThat(run.all("encoder"))
        .extracting(e -> e.get("name"))
        .containsExactly("cam", "a1", "b1");
    FarmResults.Record live = run.all("live").getFirst();
    assertThat(live.integer("frames")).isEqualTo(100);
    assertThat(live.integer("done")).isPositive();
    assertThat(run.all("vod")).allSatisfy(v -> assertThat(v.integer("units")).isPositive());
    assertThat(run.all("vod").getFirst().get("threads")).isEqualTo("2");
    assertThat(run.all("tenant")).extracting(t -> t.get("weight")).containsExactly("1", "2");
    assertThat(run.summary().orElseThrow().number("vod_fairness")).isBetween(0.0, 1.0);
  }

  @Test
  void aLiveEncodersThreadsEachBurnTheirShareOfEveryFrame() throws Exception {
    // 30 ms of CPU a 20 ms frame: only possible split over two threads.
    Out r = farm("run", "-e", "seconds 1", "-e", "live w period_us=20000 cost_us=30000 threads=2");
    assertThat(r.exit()).as(r.stderr()).isZero();
    FarmResults.Run run =
        FarmResults.parse(r.stdout().lines().map(l -> "setup=t scenario=s " + l + "\n")
                .reduce("", String::concat))
            .runs()
            .getFirst();
    assertThat(run.all("encoder").getFirst().get("threads")).isEqualTo("2");
    FarmResults.Record live = run.all("live").getFirst();
    assertThat(live.integer("done")).isPositive();
    // CPU time, not wall time: every frame done burnt its whole cost, half on each thread.
    assertThat(live.integer("cpu_ms")).as("%s", live).isGreaterThanOrEqualTo(live.integer("done") * 30 * 9 / 10);
  }

  @Test
  void waitsForTheGoFileAfterReportingPids(@TempDir Path dir) throws Exception {
    Path ready = dir.resolve("ready"), go = dir.resolve("go");
    Process p =
        new ProcessBuilder(
                FARM.toString(), "run", "-e", "seconds 1", "-e",
                "live cam period_us=10000 cost_us=100", "-e", "vod a1 tenant=a",
                "--ready-file", ready.toString(), "--go-file", go.toString())
            .redirectErrorStream(true)
            .start();
    try {
      for (int i = 0; i < 500 && !Files.exists(ready); i++) {
        Thread.sleep(10);
      }
      List<String> encoders = Files.readAllLines(ready);
      assertThat(encoders).hasSize(2).allSatisfy(l -> assertThat(l).startsWith("record=encoder "));
      for (String l : encoders) {
        String pid = l.replaceAll(".* pid=(\\d+) .*", "$1");
        assertThat(Path.of("/proc", pid)).as("encoder %s is running", pid).exists();
      }
      Thread.sleep(300);
      assertThat(p.isAlive()).as("farm waits for the go file").isTrue();
      Files.createFile(go);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out).contains("record=summary ");
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aCommandEncodersLinesAreItsFrames(@TempDir Path dir) throws Exception {
    Path script = dir.resolve("enc.sh");
    Files.writeString(
        script, "echo '#header'; i=0; while [ $i -lt 5 ]; do echo f; i=$((i+1)); done\n");
    Out r = farm("run", "-e", "seconds 1", "-e", "live real period_us=100000 cmd sh " + script);
    assertThat(r.exit()).as(r.stderr()).isZero();
    assertThat(r.stdout())
        .contains("kind=live")
        .contains("cmd=sh")
        .containsPattern("record=live name=real pid=\\d+ frames=10 done=5 ");
    // Frames 5-9 never came: the misses run to the last frame's release, 900 ms in.
    FarmResults.Record live =
        FarmResults.parse(r.stdout().lines().map(l -> "setup=t scenario=s " + l + "\n")
                .reduce("", String::concat))
            .runs()
            .getFirst()
            .all("live")
            .getFirst();
    assertThat(live.integer("last_missed_ms")).isEqualTo(900);
    assertThat(live.integer("first_missed_ms")).isBetween(0L, 500L);
  }

  @Test
  void aCommandEncoderThatFailsFailsTheRun() throws IOException, Exception {
    Out r = farm("run", "-e", "seconds 1", "-e", "live real period_us=100000 cmd false");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.stderr()).contains("real: false failed");
  }
}
