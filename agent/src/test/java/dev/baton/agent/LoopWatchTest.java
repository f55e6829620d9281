package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoopWatchTest {

  private static final long MS = 1_000_000L;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final PrintStream log = new PrintStream(out, true, StandardCharsets.UTF_8);

  @TempDir Path dir;

  @Test
  void aSlowTurnSaysWhereItsTimeWent() throws Exception {
    Path schedstat = dir.resolve("schedstat");
    Files.writeString(schedstat, "1000000 2000000 5\n");
    LoopWatch w = new LoopWatch(log, 500 * MS, schedstat);
    w.turnStart(0);
    w.polled(100 * MS);
    w.ticked(300 * MS);
    Files.writeString(schedstat, "11000000 1002000000 6\n"); // ran 10 ms, waited 1000 ms
    w.turnStart(1500 * MS);

    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "baton: event loop turn took 1500 ms (poll 100, policy 200, rest 1200): the thread ran"
                + " 10 ms, waited runnable 1000 ms, was blocked or stopped 490 ms"
                + System.lineSeparator());
    assertThat(w.slowTurns()).isEqualTo(1);
  }

  @Test
  void turnsUnderTheThresholdAreNotReported() throws Exception {
    Path schedstat = dir.resolve("schedstat");
    Files.writeString(schedstat, "1 2 3\n");
    LoopWatch w = new LoopWatch(log, 500 * MS, schedstat);
    for (long t = 0; t < 5_000 * MS; t += 499 * MS) {
      w.turnStart(t);
      w.polled(t + 100 * MS);
      w.ticked(t + 101 * MS);
    }
    assertThat(out.size()).isZero();
    assertThat(w.slowTurns()).isZero();
  }

  @Test
  void withoutTheKernelsAccountTheReportGivesThePhases() {
    LoopWatch w = new LoopWatch(log, 500 * MS, dir.resolve("absent"));
    w.turnStart(0);
    w.polled(700 * MS);
    w.ticked(800 * MS);
    w.turnStart(900 * MS);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo("baton: event loop turn took 900 ms (poll 700, policy 100, rest 100)" + System.lineSeparator());
  }

  @Test
  void parsesTheFirstTwoFields() {
    long[] v = new long[2];
    assertThat(LoopWatch.parse(ByteBuffer.wrap("123 456 7\n".getBytes(StandardCharsets.US_ASCII)), v)).isTrue();
    assertThat(v).containsExactly(123, 456);
    assertThat(LoopWatch.parse(ByteBuffer.wrap("98 76".getBytes(StandardCharsets.US_ASCII)), v)).isTrue();
    assertThat(v).containsExactly(98, 76);
    assertThat(LoopWatch.parse(ByteBuffer.wrap("42\n".getBytes(StandardCharsets.US_ASCII)), v)).isFalse();
    assertThat(LoopWatch.parse(ByteBuffer.wrap(new byte[0]), v)).isFalse();
  }

  @Test
  void theLoopThreadsOwnAccountIsReadable() {
    // The kernel's file, as the agent opens it: a slow turn's report then splits its time.
    LoopWatch w = LoopWatch.forCurrentThread(log, 0);
    w.turnStart(0);
    w.turnStart(1);
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("the thread ran");
  }
}
