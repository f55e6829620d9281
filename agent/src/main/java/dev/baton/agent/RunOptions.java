package dev.baton.agent;

import dev.baton.agent.api.ApiOptions;
import dev.baton.bpf.abi.BatonConsts;
import dev.baton.policy.config.PolicyConfig;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code baton run} was asked to do: the tunables (see {@link Tunable}, the one place where
 * each is named, defaulted and range-checked) and where things live. Built from the config file
 * ({@link AgentConfig}), then the command line, whose options win.
 *
 * @param classSliceUs per-class slices (--slice-us CLASS=N) that replace slice_us for one class,
 *     in microseconds, each in slice_us's range
 * @param tasksOut where to write the task table when the agent stops, or null
 * @param api where the control API and metrics listen, and the token that guards them
 * @param pinDir bpffs directory where the running scheduler is pinned so that it outlives the agent
 *     and a restarted agent adopts it; null to tie the scheduler to this process
 * @param configFile the file the options came from (re-read on reload), or null
 * @param policy the policy config given inline, as the config file's {@code policy:} section
 *     (already checked); null when there is none
 * @param policyConfig the policy config file (YAML, see policies/README.md), or null; with
 *     neither, the fair policy without rules. Both are read again on reload
 * @param jobsFile where the jobs registered through the API are kept across restarts
 *     ({@link JobStore}); null to keep them in memory only
 */
record RunOptions(
    Map<Tunable, Long> tunables,
    Map<SchedClass, Long> classSliceUs,
    Path tasksOut,
    ApiOptions api,
    Path pinDir,
    Path configFile,
    PolicyConfig policy,
    Path policyConfig,
    Path jobsFile) {

  static final String DEFAULT_LISTEN = ApiOptions.DEFAULT_HOST + ":" + ApiOptions.DEFAULT_PORT;
  static final Path DEFAULT_PIN_DIR = Path.of("/sys/fs/bpf/baton");

  RunOptions {
    EnumMap<Tunable, Long> all = new EnumMap<>(Tunable.class);
    for (Tunable t : Tunable.values()) {
      all.put(t, t.check(tunables.getOrDefault(t, t.defaultValue), t.key()));
    }
    tunables = Collections.unmodifiableMap(all);
    classSliceUs.forEach((c, us) -> Tunable.SLICE_US.check(us, "slice_us of class " + c.label()));
    classSliceUs = Collections.unmodifiableMap(classSliceUs.isEmpty() ? Map.of() : new EnumMap<>(classSliceUs));
  }

  /** The same settings with other tunables (what a reload may change while running). */
  RunOptions withTunables(Map<Tunable, Long> next) {
    return new RunOptions(next, classSliceUs, tasksOut, api, pinDir, configFile, policy, policyConfig, jobsFile);
  }

  /** Where the policy config comes from, for people: its file, or the config file's section. */
  String policySource() {
    return policyConfig != null ? policyConfig.toString() : policy != null ? configFile + " (policy:)" : null;
  }

  long get(Tunable t) {
    return tunables.get(t);
  }

  long sliceUs() {
    return get(Tunable.SLICE_US);
  }

  long sliceUs(SchedClass c) {
    return classSliceUs.getOrDefault(c, sliceUs());
  }

  long staleMs() {
    return get(Tunable.STALE_MS);
  }

  long starveMs() {
    return get(Tunable.STARVE_MS);
  }

  long timeoutMs() {
    return get(Tunable.TIMEOUT_MS);
  }

  long sampleMs() {
    return get(Tunable.SAMPLE_MS);
  }

  long handoverGraceMs() {
    return get(Tunable.HANDOVER_GRACE_MS);
  }

  int maxTasks() {
    return (int) get(Tunable.MAX_TASKS);
  }

  /** Collects settings from the config file and the command line, later ones winning. */
  static final class Builder {
    final EnumMap<Tunable, Long> tunables = new EnumMap<>(Tunable.class);
    final EnumMap<SchedClass, Long> classSliceUs = new EnumMap<>(SchedClass.class);
    String listen = DEFAULT_LISTEN;
    Path tokenFile;
    Path tasksOut;
    boolean pin = true;
    Path pinDir = DEFAULT_PIN_DIR;
    Path configFile;
    PolicyConfig policy;
    Path policyConfig;
    Path jobsFile = JobStore.DEFAULT_FILE;

    /** Validates; the exception's message names the setting. */
    RunOptions build() {
      ApiOptions api = ApiOptions.parse(listen, tokenFile);
      return new RunOptions(
          tunables, classSliceUs, tasksOut, api, pin ? pinDir : null, configFile, policy, policyConfig, jobsFile);
    }
  }

  static RunOptions defaults() {
    return new Builder().build();
  }

  /**
   * Parses {@code baton run}'s options. {@code --config FILE} is read first wherever it appears,
   * so the other options override the file; a bad file is reported before anything else happens.
   */
  static RunOptions parse(List<String> args) {
    Builder b = new Builder();
    int config = args.indexOf("--config");
    if (config >= 0) {
      AgentConfig.load(Path.of(Main.optionValue(args, config + 1, "--config")), b);
    }
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      Tunable t = Tunable.byOption(a);
      if (t == Tunable.SLICE_US && i + 1 < args.size() && args.get(i + 1).contains("=")) {
        parseClassSlice(args.get(++i), b.classSliceUs);
        continue;
      }
      if (t != null) {
        b.tunables.put(t, check(t, number(a, Main.optionValue(args, ++i, a))));
        continue;
      }
      switch (a) {
        case "--config" -> i++;
        case "--tasks-out" -> b.tasksOut = path(a, Main.optionValue(args, ++i, a));
        case "--listen" -> b.listen = Main.optionValue(args, ++i, a);
        case "--token-file" -> b.tokenFile = path(a, Main.optionValue(args, ++i, a));
        case "--pin-dir" -> b.pinDir = path(a, Main.optionValue(args, ++i, a));
        case "--no-pin" -> b.pin = false;
        case "--jobs-file" -> b.jobsFile = jobsFile(a, Main.optionValue(args, ++i, a));
        case "--policy-config" -> {
          b.policyConfig = path(a, Main.optionValue(args, ++i, a));
          b.policy = null; // the command line wins over the file's policy: section too
        }
        default -> throw new UsageException("unknown option for run: " + a);
      }
    }
    checkGuardBeforeWatchdog(b.tunables);
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new UsageException("--listen: " + e.getMessage());
    }
  }

  /** The kernel's watchdog timeout when timeout_ms is 0. */
  static final long KERNEL_TIMEOUT_MS = 30_000;

  /**
   * starve_ms periods the starvation guard may take to serve a waiting class below LIVE whose
   * tasks only one CPU may run: that CPU waits BATON_GUARD_PINNED_WAIT of them before it serves a
   * class other CPUs serve, then serves the overdue classes oldest first (baton.bpf.c).
   */
  static final long GUARD_BOUND_PERIODS = BatonConsts.BATON_GUARD_PINNED_WAIT + SchedClass.values().length - 2;

  /**
   * The watchdog must not eject the scheduler before the guard serves a class: its bound must be
   * at most half of the watchdog's timeout, because the guard serves a class, and a task of it may
   * still wait for its turn among the others. Whichever of the two came from the file or the
   * command line, the pair is checked here, once both are known.
   */
  static void checkGuardBeforeWatchdog(Map<Tunable, Long> t) {
    long starve = t.getOrDefault(Tunable.STARVE_MS, Tunable.STARVE_MS.defaultValue);
    long timeout = t.getOrDefault(Tunable.TIMEOUT_MS, Tunable.TIMEOUT_MS.defaultValue);
    long watchdog = timeout == 0 ? KERNEL_TIMEOUT_MS : timeout;
    if (starve > 0 && GUARD_BOUND_PERIODS * starve > watchdog / 2) {
      throw new UsageException(
          "starve_ms "
              + starve
              + " does not fit the watchdog's timeout_ms "
              + watchdog
              + ": the starvation guard may take "
              + GUARD_BOUND_PERIODS
              + " x starve_ms to serve a waiting class (one whose tasks only one CPU may run),"
              + " which must be at most half of timeout_ms;"
              + " lower starve_ms to "
              + watchdog / 2 / GUARD_BOUND_PERIODS
              + " or less, or raise timeout_ms");
    }
  }

  /**
   * Heap the agent needs besides its tasks (~12 MB live in the farm demo: Netty, Micrometer, the
   * policy, the config), with room for a reload building a second policy beside the first.
   */
  static final long HEAP_BASE_BYTES = 64L << 20;
  /**
   * Heap one tracked task may cost: its task table slots and policy state, measured 0.8 KB
   * (16384 to 458752 tasks, each in a rule's job, sampled), 0.9 KB through a reload, and while
   * GET /v1/tasks lists them all, 0.4 KB more; 458752 tasks at 1 KB ran out of a 512 MB heap
   * there, 304000 at 1.5 KB did not.
   */
  static final long HEAP_PER_TASK_BYTES = 1536;

  /**
   * max_tasks must fit the JVM's heap (deploy/jvm.args sets 512 MB: up to ~300000),
   * or the agent would run out of memory on the busiest day, not at start. Checked at start,
   * before anything is attached; the message says what to change.
   */
  void checkHeap(long maxHeapBytes) {
    long need = HEAP_BASE_BYTES + HEAP_PER_TASK_BYTES * maxTasks();
    if (need > maxHeapBytes) {
      long mb = 1 << 20;
      throw new UsageException(
          "max_tasks "
              + maxTasks()
              + " needs a heap of about "
              + (need + mb - 1) / mb
              + " MB (64 MB and ~1.5 KB a task), more than this JVM's "
              + maxHeapBytes / mb
              + " MB: give the agent -Xmx"
              + (need + (1L << 30) - 1 >> 30)
              + "g (BATON_JAVA_OPTS, which follows deploy/jvm.args) or lower max_tasks");
    }
  }

  private static long check(Tunable t, long v) {
    try {
      return t.check(v, t.option());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  static Path path(String option, String v) {
    try {
      return Path.of(v);
    } catch (java.nio.file.InvalidPathException e) {
      throw new UsageException(option + " takes a file name, not '" + v.replace("\0", "\\0") + "'");
    }
  }

  /** The value of jobs_file: an absolute path, or "none" (null: jobs are kept in memory only). */
  static Path jobsFile(String option, String v) {
    if (v.equals(NO_JOBS_FILE)) {
      return null;
    }
    Path p = path(option, v);
    if (!p.isAbsolute() || p.getFileName() == null) {
      throw new UsageException(option + " takes an absolute file name, or " + NO_JOBS_FILE + ", not '" + v + "'");
    }
    return p;
  }

  /** jobs_file's value that keeps API jobs in memory only. */
  static final String NO_JOBS_FILE = "none";

  /** "CLASS=N": one class's slice, overriding slice_us for it. */
  private static void parseClassSlice(String v, Map<SchedClass, Long> classSliceUs) {
    int eq = v.indexOf('=');
    SchedClass c;
    try {
      c = SchedClass.parse(v.substring(0, eq));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--slice-us: " + e.getMessage());
    }
    try {
      classSliceUs.put(c, Tunable.SLICE_US.check(number("--slice-us", v.substring(eq + 1)), "--slice-us"));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage() + " (class " + c.label() + ")");
    }
  }

  static long number(String option, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " takes a whole number, not '" + v + "'");
    }
  }
}
