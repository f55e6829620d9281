package dev.baton.agent;

import dev.baton.bpf.abi.BatonClass;
import java.util.Locale;

/** The scheduling classes of the BPF side (enum baton_class), in the order it serves them. */
public enum SchedClass {
  /** Earliest deadline first; preempts the other classes when it wakes. Needs a deadline. */
  LIVE(BatonClass.BATON_CLASS_LIVE),
  /** Weighted fair, served before NORMAL. */
  INTERACTIVE(BatonClass.BATON_CLASS_INTERACTIVE),
  /** Weighted fair: every task without a hint. */
  NORMAL(BatonClass.BATON_CLASS_NORMAL),
  /** Weighted fair, served after NORMAL. */
  BATCH(BatonClass.BATON_CLASS_BATCH),
  /** What the other classes leave, plus the starvation guard's share. */
  IDLE(BatonClass.BATON_CLASS_IDLE);

  private final int value;

  SchedClass(int value) {
    this.value = value;
  }

  /** The value the BPF side uses (and the class's DSQ id). */
  public int value() {
    return value;
  }

  /** The class whose BPF value is {@code value}. */
  public static SchedClass of(int value) {
    for (SchedClass c : values()) {
      if (c.value == value) {
        return c;
      }
    }
    throw new IllegalArgumentException("no scheduling class has the value " + value);
  }

  /** The class named {@code name} (any case), e.g. "live"; an IllegalArgumentException lists them. */
  public static SchedClass parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown class '" + name + "': one of live, interactive, normal, batch, idle");
    }
  }

  /** The lower-case name used on the command line and in the API. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
