package dev.baton.agent;

/**
 * The agent's numeric tunables: one name with its unit, one default, one valid range, one
 * description, here. The config file uses the name ({@code slice_us}); the command line the same
 * name as an option ({@code --slice-us}).
 */
enum Tunable {
  SLICE_US(20_000, 100, 1_000_000, "time slice given to each task, microseconds"),
  MAX_TASKS(65_536, 16, 4_194_304, "live tasks the agent tracks (and recent exits it remembers)"),
  STALE_MS(1_000, 50, 60_000, "agent heartbeat age after which the BPF side ignores hints, milliseconds"),
  TIMEOUT_MS(5_000, 500, 30_000, "sched_ext watchdog: longest a runnable task may wait before the kernel ejects the scheduler, milliseconds"),
  RESTART_MAX(5, 0, 100, "restarts after the kernel ejects the scheduler before the agent gives up"),
  RESTART_BACKOFF_MS(1_000, 10, 600_000, "wait before the first restart, doubled for each further one, milliseconds");

  final long defaultValue;
  final long min;
  final long max;
  final String description;

  Tunable(long defaultValue, long min, long max, String description) {
    this.defaultValue = defaultValue;
    this.min = min;
    this.max = max;
    this.description = description;
  }

  /** The config-file key, e.g. slice_us. */
  String key() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The command-line option, e.g. --slice-us. */
  String option() {
    return "--" + key().replace('_', '-');
  }

  /** Returns value if in range; otherwise throws, naming the setting as {@code shownAs}. */
  long check(long value, String shownAs) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          shownAs + " must be between " + min + " and " + max + ", not " + value);
    }
    return value;
  }

  static Tunable byKey(String key) {
    for (Tunable t : values()) {
      if (t.key().equals(key)) {
        return t;
      }
    }
    return null;
  }

  static Tunable byOption(String option) {
    for (Tunable t : values()) {
      if (t.option().equals(option)) {
        return t;
      }
    }
    return null;
  }
}
