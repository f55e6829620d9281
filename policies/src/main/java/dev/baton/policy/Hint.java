package dev.baton.policy;

import java.util.Objects;

/**
 * What a policy asks of the BPF side for one task or cgroup. The BPF side treats it as advice.
 *
 * @param schedClass the class to run in
 * @param weight relative share within the class; 100 is the default (nice 0)
 * @param sliceUs time slice in microseconds; 0 means the class default
 * @param deadlineUs relative deadline from wake-up in microseconds; LIVE only, 0 otherwise
 */
public record Hint(SchedClass schedClass, int weight, int sliceUs, int deadlineUs) {

  public static final Setting WEIGHT =
      new Setting("weight", 1, 10_000, 100, "relative share within the class; 100 = nice 0");
  public static final Setting SLICE_US =
      new Setting("slice_us", 0, 1_000_000, 0, "time slice; 0 = the class default");
  public static final Setting DEADLINE_US =
      new Setting("deadline_us", 1, 60_000_000, 16_666, "relative deadline of a LIVE task");

  public Hint {
    Objects.requireNonNull(schedClass, "schedClass");
    WEIGHT.check(weight);
    SLICE_US.check(sliceUs);
    if (schedClass == SchedClass.LIVE) {
      DEADLINE_US.check(deadlineUs);
    } else if (deadlineUs != 0) {
      throw new IllegalArgumentException("deadline_us is for LIVE only, got " + deadlineUs);
    }
  }

  /** A hint without a deadline (any class but LIVE). */
  public static Hint of(SchedClass schedClass, int weight, int sliceUs) {
    return new Hint(schedClass, weight, sliceUs, 0);
  }

  /** A LIVE hint. */
  public static Hint live(int weight, int sliceUs, int deadlineUs) {
    return new Hint(SchedClass.LIVE, weight, sliceUs, deadlineUs);
  }
}
