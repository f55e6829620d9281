package dev.baton.agent;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Says where a slow turn of the event loop went. The loop writes the heartbeat, so a turn longer
 * than stale_ms makes the BPF side drop every hint; what an operator needs to know then is whether
 * the loop was computing (it ran), starved of CPU (it waited runnable: the scheduler's doing), or
 * neither (blocked on a lock or a safepoint, or the whole process, VM or host was stopped).
 *
 * <p>The kernel's own per-thread account ({@code /proc/thread-self/schedstat}: ns run, ns waited
 * runnable) is read once per turn, through a channel opened once and a reused buffer, so a normal
 * turn costs one pread and allocates nothing. Only a slow turn is reported. Limits: the file needs
 * CONFIG_SCHED_INFO (Debian's kernels have it); without it the report gives the phases alone. A
 * turn is reported once it ends, so a loop stuck for good is not (the watchdog covers that).
 */
final class LoopWatch {

  private final PrintStream log;
  private long reportNs;
  private final FileChannel schedstat;
  private final ByteBuffer buf = ByteBuffer.allocate(96);
  private final long[] read = new long[2];
  private long turnAt = -1;
  private long polledAt;
  private long tickedAt;
  private long ranNs;
  private long waitedNs;
  private long slowTurns;

  /**
   * @param reportNs a turn at least this long is reported
   * @param schedstat the loop thread's schedstat file, opened on that thread; null: none
   */
  LoopWatch(PrintStream log, long reportNs, Path schedstat) {
    this.log = log;
    this.reportNs = reportNs;
    this.schedstat = open(schedstat);
  }

  /** A turn at least this long is reported from now on (stale_ms changed by a reload). */
  void reportAfter(long ns) {
    reportNs = ns;
  }

  /** For the calling thread, which must be the loop's. */
  static LoopWatch forCurrentThread(PrintStream log, long reportNs) {
    return new LoopWatch(log, reportNs, Path.of("/proc/thread-self/schedstat"));
  }

  private static FileChannel open(Path p) {
    if (p == null) {
      return null;
    }
    try {
      // /proc/thread-self resolves when opened: the channel stays on this thread.
      return FileChannel.open(p, StandardOpenOption.READ);
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }

  /** Turns that were reported, since this watch began. */
  long slowTurns() {
    return slowTurns;
  }

  /** A turn starts: reports the previous one if it was slow. */
  void turnStart(long now) {
    boolean have = readSchedstat();
    if (turnAt >= 0 && now - turnAt >= reportNs) {
      slowTurns++;
      long turn = now - turnAt;
      log.printf(
          Locale.ROOT,
          "baton: event loop turn took %d ms (poll %d, policy %d, rest %d)%s%n",
          turn / 1_000_000,
          (polledAt - turnAt) / 1_000_000,
          (tickedAt - polledAt) / 1_000_000,
          (now - tickedAt) / 1_000_000,
          have && ranNs >= 0
              ? String.format(
                  Locale.ROOT,
                  ": the thread ran %d ms, waited runnable %d ms, was blocked or stopped %d ms",
                  (read[0] - ranNs) / 1_000_000,
                  (read[1] - waitedNs) / 1_000_000,
                  Math.max(0, turn - (read[0] - ranNs) - (read[1] - waitedNs)) / 1_000_000)
              : "");
    }
    turnAt = now;
    polledAt = now;
    tickedAt = now;
    ranNs = have ? read[0] : -1;
    waitedNs = have ? read[1] : -1;
  }

  void polled(long now) {
    polledAt = now;
  }

  void ticked(long now) {
    tickedAt = now;
  }

  /** Reads "run_ns wait_ns slices" into read[0..1]; false if it cannot. */
  private boolean readSchedstat() {
    if (schedstat == null) {
      return false;
    }
    buf.clear();
    try {
      int n = schedstat.read(buf, 0);
      if (n <= 0) {
        return false;
      }
    } catch (IOException e) {
      return false;
    }
    buf.flip();
    return parse(buf, read);
  }

  /** The first two decimal fields of {@code b}, or false if it has fewer. */
  static boolean parse(ByteBuffer b, long[] out) {
    int field = 0;
    long v = 0;
    boolean inNumber = false;
    while (b.hasRemaining() && field < out.length) {
      byte c = b.get();
      if (c >= '0' && c <= '9') {
        v = v * 10 + (c - '0');
        inNumber = true;
      } else if (inNumber) {
        out[field++] = v;
        v = 0;
        inNumber = false;
      }
    }
    if (inNumber && field < out.length) {
      out[field++] = v;
    }
    return field == out.length;
  }
}
