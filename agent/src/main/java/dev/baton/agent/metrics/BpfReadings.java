package dev.baton.agent.metrics;

/**
 * The BPF side's counters as the agent reads them at scrape time. Implementations sum per-CPU
 * values and carry totals across scheduler restarts, so that every counter only grows.
 */
public interface BpfReadings {
  /** The total of {@code enum baton_stat} entry {@code index}. */
  long stat(int index);

  /**
   * Class {@code cls}'s run-delay histogram ({@code struct baton_run_delay_hist}): the count of
   * each log2 bucket, then the sum of delays in ns; all zero if there is none.
   */
  default long[] runDelay(int cls) {
    return new long[RunDelayCollector.BUCKETS + 1];
  }
}
