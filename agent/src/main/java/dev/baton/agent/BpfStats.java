package dev.baton.agent;

import dev.baton.agent.metrics.BpfReadings;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.abi.BatonStat;

/**
 * The BPF side's per-CPU counters (the {@code stats} map), summed over CPUs when read, from any
 * thread. A scheduler that ends takes its counters with it, so they are carried over into the
 * totals of the next one: what Prometheus sees only grows, across restarts.
 */
final class BpfStats implements BpfReadings {

  static final int COUNT = BatonStat.VALUES.get("BATON_NR_STATS").intValue();

  private final long[] carried = new long[COUNT];
  private BpfMap map;

  synchronized void attach(BpfMap stats) {
    map = stats;
  }

  /** Folds the current scheduler's counters into the carried totals and lets go of its map. */
  synchronized void detach() {
    if (map != null) {
      for (int i = 0; i < COUNT; i++) {
        carried[i] += current(i);
      }
      map = null;
    }
  }

  @Override
  public synchronized long stat(int index) {
    return carried[index] + current(index);
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
