package dev.baton.agent;

import dev.baton.bpf.abi.BatonConsts;
import java.util.Objects;

/**
 * Scheduling advice for a task or cgroup (struct baton_hint): its class, and optionally a weight,
 * a time slice and, for LIVE, a relative deadline. Zero means "the default". The one place where
 * a hint is validated; the BPF side checks again and ignores what is malformed.
 *
 * @param schedClass the class
 * @param weight 1..10000 on the kernel's scale (100 is nice 0); 0: the task's own weight
 * @param sliceUs time slice, 100..1000000 microseconds; 0: the class's default slice
 * @param deadlineUs LIVE only, and required there: deadline after each wakeup, 1..10000000 us
 */
public record Hint(SchedClass schedClass, int weight, int sliceUs, int deadlineUs) {

  static final int MIN_SLICE_US = 100;
  static final int MAX_SLICE_US = 1_000_000;
  static final int MAX_DEADLINE_US = 10_000_000;

  public Hint {
    Objects.requireNonNull(schedClass, "schedClass");
    if (weight != 0
        && (weight < BatonConsts.BATON_WEIGHT_MIN || weight > BatonConsts.BATON_WEIGHT_MAX)) {
      throw new IllegalArgumentException(
          "weight must be between "
              + BatonConsts.BATON_WEIGHT_MIN
              + " and "
              + BatonConsts.BATON_WEIGHT_MAX
              + " (100 is nice 0), not "
              + weight);
    }
    if (sliceUs != 0 && (sliceUs < MIN_SLICE_US || sliceUs > MAX_SLICE_US)) {
      throw new IllegalArgumentException(
          "slice must be between " + MIN_SLICE_US + " and " + MAX_SLICE_US + " us, not " + sliceUs);
    }
    if (schedClass == SchedClass.LIVE) {
      if (deadlineUs < 1 || deadlineUs > MAX_DEADLINE_US) {
        throw new IllegalArgumentException(
            "a live hint needs a deadline between 1 and " + MAX_DEADLINE_US + " us, not " + deadlineUs);
      }
    } else if (deadlineUs != 0) {
      throw new IllegalArgumentException(
          "only live hints take a deadline; " + schedClass.label() + " has none");
    }
  }

  /** A hint that only sets the class. */
  public static Hint of(SchedClass schedClass) {
    return new Hint(schedClass, 0, 0, 0);
  }
}
