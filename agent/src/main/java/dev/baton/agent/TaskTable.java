package dev.baton.agent;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The tasks the scheduler has told us about: the live ones, and a bounded history of the most
 * recent exits (so a short-lived task can still be looked up after it is gone).
 *
 * <p>Open addressing over primitive arrays, keyed by pid, with a fixed capacity chosen at start:
 * the event path stores into preallocated slots and never allocates, and a fork storm cannot
 * grow the heap. A task that finds the table full is counted in {@link #overflows()} instead.
 * Not thread-safe: owned by the event-loop thread.
 */
public final class TaskTable {

  public static final int COMM_LEN = 16;

  private final int mask;
  private final int[] pids;
  private final int[] tgids;
  private final long[] startNs;
  private final byte[] comms;
  private int live;
  private long seen;
  private long overflows;

  // Ring of recent exits.
  private final int[] exitedPid;
  private final int[] exitedTgid;
  private final byte[] exitedComm;
  private long exitedCount;

  /**
   * @param capacity live tasks the table holds, rounded up to a power of two (load kept <= 1/2)
   * @param exitHistory how many recent exits to remember
   */
  public TaskTable(int capacity, int exitHistory) {
    if (capacity < 1 || exitHistory < 1) {
      throw new IllegalArgumentException("capacity and exitHistory must be positive");
    }
    int slots = Integer.highestOneBit(Math.max(2, capacity) * 2 - 1) * 2;
    mask = slots - 1;
    pids = new int[slots];
    tgids = new int[slots];
    startNs = new long[slots];
    comms = new byte[slots * COMM_LEN];
    exitedPid = new int[exitHistory];
    exitedTgid = new int[exitHistory];
    exitedComm = new byte[exitHistory * COMM_LEN];
  }

  /** Records a task the scheduler now manages; {@code comm} holds COMM_LEN bytes at commOff. */
  public void add(int pid, int tgid, long start, byte[] comm, int commOff) {
    if (pid <= 0) {
      return; // pid 0 is the idle task; slot value 0 means empty
    }
    int i = find(pid);
    if (pids[i] == 0) {
      if (live >= (mask + 1) / 2) {
        overflows++;
        return;
      }
      pids[i] = pid;
      live++;
    }
    seen++;
    tgids[i] = tgid;
    startNs[i] = start;
    System.arraycopy(comm, commOff, comms, i * COMM_LEN, COMM_LEN);
  }

  /** Forgets a task that left the scheduler, keeping it in the recent-exit history. */
  public void remove(int pid) {
    if (pid <= 0) {
      return;
    }
    int i = find(pid);
    if (pids[i] == 0) {
      return;
    }
    int e = (int) (exitedCount++ % exitedPid.length);
    exitedPid[e] = pid;
    exitedTgid[e] = tgids[i];
    System.arraycopy(comms, i * COMM_LEN, exitedComm, e * COMM_LEN, COMM_LEN);
    deleteSlot(i);
    live--;
  }

  public boolean contains(int pid) {
    return pid > 0 && pids[find(pid)] == pid;
  }

  public int live() {
    return live;
  }

  /** Tasks added since start (a task re-added after its pid was reused counts again). */
  public long seen() {
    return seen;
  }

  public long overflows() {
    return overflows;
  }

  /** Writes "state pid tgid comm" lines: live tasks, then recent exits oldest first. */
  public void dump(Writer out) throws IOException {
    for (int i = 0; i <= mask; i++) {
      if (pids[i] != 0) {
        line(out, "live", pids[i], tgids[i], comms, i);
      }
    }
    long first = Math.max(0, exitedCount - exitedPid.length);
    for (long n = first; n < exitedCount; n++) {
      int e = (int) (n % exitedPid.length);
      line(out, "exited", exitedPid[e], exitedTgid[e], exitedComm, e);
    }
  }

  private static void line(Writer out, String state, int pid, int tgid, byte[] comms, int slot)
      throws IOException {
    out.write(state + "\t" + pid + "\t" + tgid + "\t" + cString(comms, slot * COMM_LEN) + "\n");
  }

  static String cString(byte[] bytes, int off) {
    int end = off;
    while (end < off + COMM_LEN && bytes[end] != 0) {
      end++;
    }
    return new String(bytes, off, end - off, StandardCharsets.UTF_8);
  }

  /** The slot holding pid, or the empty slot where it would go. */
  private int find(int pid) {
    int i = mix(pid) & mask;
    while (pids[i] != 0 && pids[i] != pid) {
      i = (i + 1) & mask;
    }
    return i;
  }

  /** Backward-shift deletion: keeps probe chains intact without tombstones. */
  private void deleteSlot(int hole) {
    int i = hole;
    while (true) {
      i = (i + 1) & mask;
      if (pids[i] == 0) {
        break;
      }
      int home = mix(pids[i]) & mask;
      // Move i into the hole unless its home lies cyclically in (hole, i].
      boolean stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!stays) {
        pids[hole] = pids[i];
        tgids[hole] = tgids[i];
        startNs[hole] = startNs[i];
        System.arraycopy(comms, i * COMM_LEN, comms, hole * COMM_LEN, COMM_LEN);
        hole = i;
      }
    }
    pids[hole] = 0;
    Arrays.fill(comms, hole * COMM_LEN, (hole + 1) * COMM_LEN, (byte) 0);
  }

  private static int mix(int pid) {
    return pid * 0x9E3779B9 >>> 7 ^ pid;
  }
}
