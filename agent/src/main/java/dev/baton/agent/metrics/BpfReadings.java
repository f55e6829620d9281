package dev.baton.agent.metrics;

/**
 * The BPF side's counters as the agent reads them at scrape time. Implementations sum per-CPU
 * values and carry totals across scheduler restarts, so that every counter only grows.
 */
public interface BpfReadings {
  /** The total of {@code enum baton_stat} entry {@code index}. */
  long stat(int index);
}
