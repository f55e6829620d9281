package dev.baton.agent;

/**
 * The agent's numeric tunables: one name with its unit, one default, one valid range, one
 * description, here. The config file uses the name ({@code slice_us}); the command line the same
 * name as an option ({@code --slice-us}).
 */
enum Tunable {
  SLICE_US(20_000, Hint.MIN_SLICE_US, Hint.MAX_SLICE_US, "default time slice of every class, microseconds"),
  MAX_TASKS(65_536, 16, 4_194_304, "live tasks the agent tracks (and recent exits it remembers)"),
  STALE_MS(2_000, 100, 60_000, "agent heartbeat age after which the BPF side ignores hints, milliseconds"),
  STARVE_MS(100, 10, 10_000, "off", "a class below live served nowhere for this long (by a CPU that alone can serve it: 4 times as long) gets the next CPU to dispatch for starve_ms / 10, milliseconds; 0: off (lower classes may starve into a watchdog ejection); 7 x starve_ms at most half of timeout_ms"),
  TIMEOUT_MS(0, 4_000, 30_000, "the kernel's default", "sched_ext watchdog: longest a runnable task may wait before the kernel ejects the scheduler, milliseconds; 0: the kernel's default (30000); at least 4000, twice the longest a cgroup's cpu.max may hold a task (its period, up to 1 s, and up to 1 s of overdraft paid back)"),
  SAMPLE_MS(100, 10, 10_000, "a task's runtime sample (CPU, waiting, wakeups) covers at least this long, milliseconds"),
  RESTART_MAX(5, 0, 100, "restarts after the kernel ejects the scheduler before the agent gives up"),
  RESTART_BACKOFF_MS(1_000, 10, 600_000, "wait before a restart, doubled for each further ejection in a row, milliseconds"),
  HANDOVER_GRACE_MS(30_000, 100, 600_000, "off", "how long the BPF side keeps the hints for the next agent after this one leaves the scheduler attached: by handover (its last heartbeat is set this far ahead) or by dying (a crash, a kill: found when the heartbeat would go stale); they go stale this long plus stale_ms after, unless an agent adopts the scheduler first, milliseconds; 0: off");

  final long defaultValue;
  final long min;
  final long max;
  /** What 0 means if it is also valid ("off", "the kernel's default"); null if it is not. */
  final String zeroMeans;
  final String description;

  Tunable(long defaultValue, long min, long max, String description) {
    this(defaultValue, min, max, null, description);
  }

  Tunable(long defaultValue, long min, long max, String zeroMeans, String description) {
    this.zeroMeans = zeroMeans;
    this.defaultValue = defaultValue;
    this.min = min;
    this.max = max;
    this.description = description;
  }

  /**
   * Whether a reload applies it to the running agent and scheduler: the agent's own settings and
   * what the BPF side reads from the live section. The rest are fixed when the scheduler loads.
   */
  boolean reloadable() {
    return switch (this) {
      case SLICE_US, STALE_MS, STARVE_MS, SAMPLE_MS, RESTART_MAX, RESTART_BACKOFF_MS, HANDOVER_GRACE_MS -> true;
      default -> false;
    };
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
    if ((value < min || value > max) && !(zeroMeans != null && value == 0)) {
      throw new IllegalArgumentException(
          shownAs
              + " must be "
              + (zeroMeans != null ? "0 (" + zeroMeans + ") or " : "")
              + "between "
              + min
              + " and "
              + max
              + ", not "
              + value);
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
