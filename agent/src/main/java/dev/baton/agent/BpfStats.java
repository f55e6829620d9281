package dev.baton.agent;

import dev.baton.agent.metrics.BpfReadings;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.abi.BatonRunDelayConsts;
import dev.baton.bpf.abi.BatonRunDelayHist;
import dev.baton.bpf.abi.BatonStat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The BPF side's per-CPU counters (the {@code stats} map) and run-delay histograms (the
 * {@code run_delay} map), summed over CPUs when read, from any thread. A scheduler that ends
 * takes its counters with it, so they are carried over into the totals of the next one: what
 * Prometheus sees only grows, across restarts.
 */
final class BpfStats implements BpfReadings {

  static final int COUNT = BatonStat.VALUES.get("BATON_NR_STATS").intValue();

  static final int CLASSES = BatonRunDelayConsts.BATON_RUN_DELAY_CLASSES;
  /** u64s in a struct baton_run_delay_hist: the buckets and the sum. */
  static final int HIST_WORDS = (int) (BatonRunDelayHist.SIZEOF / Long.BYTES);

  private final long[] carried = new long[COUNT];
  private final long[][] carriedDelay = new long[CLASSES][HIST_WORDS];
  private BpfMap map;
  private BpfMap runDelay;
  private byte[] perCpu;

  synchronized void attach(BpfMap stats, BpfMap runDelay) {
    this.map = stats;
    this.runDelay = runDelay;
    this.perCpu = new byte[runDelay.valueBufferSize()];
  }

  /** Folds the current scheduler's counters into the carried totals and lets go of its map. */
  synchronized void detach() {
    if (map != null) {
      for (int i = 0; i < COUNT; i++) {
        carried[i] += current(i);
      }
      for (int c = 0; c < CLASSES; c++) {
        long[] now = currentDelay(c);
        for (int w = 0; w < HIST_WORDS; w++) {
          carriedDelay[c][w] += now[w];
        }
      }
      map = null;
      runDelay = null;
    }
  }

  @Override
  public synchronized long stat(int index) {
    return carried[index] + current(index);
  }

  @Override
  public synchronized long[] runDelay(int cls) {
    long[] v = currentDelay(cls);
    for (int w = 0; w < HIST_WORDS; w++) {
      v[w] += carriedDelay[cls][w];
    }
    return v;
  }

  /** The run-delay histogram of class {@code cls} of the attached scheduler alone (zeros if none). */
  synchronized long[] currentRunDelay(int cls) {
    return currentDelay(cls);
  }

  private long[] currentDelay(int cls) {
    long[] sum = new long[HIST_WORDS];
    if (runDelay == null) {
      return sum;
    }
    try {
      byte[] key = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(cls).array();
      if (!runDelay.lookup(key, perCpu)) {
        return sum;
      }
    } catch (BpfException e) {
      return sum;
    }
    ByteBuffer b = ByteBuffer.wrap(perCpu).order(ByteOrder.nativeOrder());
    int slot = (runDelay.valueSize() + 7) & ~7;
    for (int cpu = 0; cpu + slot <= perCpu.length; cpu += slot) {
      for (int w = 0; w < HIST_WORDS; w++) {
        sum[w] += b.getLong(cpu + w * Long.BYTES);
      }
    }
    return sum;
  }

  private long current(int index) {
    if (map == null) {
      return 0;
    }
    try {
      long[] perCpu = map.lookupPerCpuLongs(index);
      long sum = 0;
      for (long v : perCpu == null ? new long[0] : perCpu) {
        sum += v;
      }
      return sum;
    } catch (BpfException e) {
      return 0; // the map went away under us: the scheduler is ending; detach() follows
    }
  }
}
