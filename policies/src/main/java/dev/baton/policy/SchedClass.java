package dev.baton.policy;

/**
 * The scheduling classes of the BPF side, highest first. The agent maps each one to its BPF
 * constant; policies never see those numbers.
 */
public enum SchedClass {
  /** Earliest deadline first among live tasks; a hint carries the relative deadline. */
  LIVE,
  /** Latency-sensitive work that is not deadline-driven. */
  INTERACTIVE,
  /** Weighted fair share: every task without a hint is here. */
  NORMAL,
  /** Throughput work that yields to NORMAL. */
  BATCH,
  /** Runs when nothing else wants the CPU; the BPF side still guarantees it a minimum share. */
  IDLE
}
