package dev.baton.agent;

import dev.baton.agent.api.ApiOptions;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The tunables of {@code baton run}: each has one name with its unit, one default and one
 * validation, here.
 *
 * @param sliceUs default time slice of each class, in microseconds
 * @param staleMs heartbeat age after which the BPF side ignores every hint, in milliseconds
 * @param starveMs a class below LIVE not served on a CPU for this long gets that CPU's next
 *     dispatch, in milliseconds; 0 turns the starvation guard off (lower classes can then starve
 *     into a watchdog ejection: for tests)
 * @param timeoutMs the kernel watchdog's limit on how long a runnable task may wait, in
 *     milliseconds; 0 keeps the kernel's default (30 s)
 * @param sampleMs a task's runtime sample (CPU, waiting, wakeups) covers at least this long, in
 *     milliseconds: it is sent when the task stops running this long after its previous one
 * @param maxTasks live tasks the agent tracks (and recent exits it remembers)
 * @param tasksOut where to write the task table when the agent stops, or null
 * @param api where the control API and metrics listen, and the token that guards them
 * @param policyConfig the policy config file (YAML, see policies/README.md), or null for the
 *     fair policy without rules
 */
record RunOptions(
    Map<SchedClass, Long> sliceUs,
    long staleMs,
    long starveMs,
    long timeoutMs,
    long sampleMs,
    int maxTasks,
    Path tasksOut,
    ApiOptions api,
    Path policyConfig) {

  static final long DEFAULT_SLICE_US = 20_000;
  static final long DEFAULT_STALE_MS = 2_000;
  static final long DEFAULT_STARVE_MS = 100;
  static final int DEFAULT_MAX_TASKS = 65_536;
  static final long DEFAULT_SAMPLE_MS = 100;

  RunOptions {
    sliceUs = Collections.unmodifiableMap(new EnumMap<>(sliceUs));
    if (sliceUs.size() != SchedClass.values().length) {
      throw new IllegalArgumentException("a slice for every class is needed: " + sliceUs);
    }
    sliceUs.forEach(
        (c, us) -> {
          if (us < Hint.MIN_SLICE_US || us > Hint.MAX_SLICE_US) {
            throw new UsageException(
                "--slice-us must be between "
                    + Hint.MIN_SLICE_US
                    + " and "
                    + Hint.MAX_SLICE_US
                    + ", not "
                    + us
                    + " (class "
                    + c.label()
                    + ")");
          }
        });
    if (staleMs < 100 || staleMs > 60_000) {
      throw new UsageException("--stale-ms must be between 100 and 60000, not " + staleMs);
    }
    if (starveMs != 0 && (starveMs < 10 || starveMs > 10_000)) {
      throw new UsageException("--starve-ms must be 0 (off) or between 10 and 10000, not " + starveMs);
    }
    if (timeoutMs != 0 && (timeoutMs < 1_000 || timeoutMs > 30_000)) {
      throw new UsageException(
          "--timeout-ms must be 0 (the kernel's default) or between 1000 and 30000, not " + timeoutMs);
    }
    if (sampleMs < 10 || sampleMs > 10_000) {
      throw new UsageException("--sample-ms must be between 10 and 10000, not " + sampleMs);
    }
    if (maxTasks < 16 || maxTasks > 4_194_304) {
      throw new UsageException("--max-tasks must be between 16 and 4194304, not " + maxTasks);
    }
  }

  long sliceUs(SchedClass c) {
    return sliceUs.get(c);
  }

  static RunOptions parse(List<String> args) {
    Map<SchedClass, Long> sliceUs = new EnumMap<>(SchedClass.class);
    for (SchedClass c : SchedClass.values()) {
      sliceUs.put(c, DEFAULT_SLICE_US);
    }
    long staleMs = DEFAULT_STALE_MS;
    long starveMs = DEFAULT_STARVE_MS;
    long timeoutMs = 0;
    long sampleMs = DEFAULT_SAMPLE_MS;
    int maxTasks = DEFAULT_MAX_TASKS;
    Path tasksOut = null;
    String listen = ApiOptions.DEFAULT_HOST + ":" + ApiOptions.DEFAULT_PORT;
    Path tokenFile = null;
    Path policyConfig = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--slice-us" -> parseSlice(Main.optionValue(args, ++i, a), sliceUs);
        case "--stale-ms" -> staleMs = number(a, Main.optionValue(args, ++i, a));
        case "--starve-ms" -> starveMs = number(a, Main.optionValue(args, ++i, a));
        case "--timeout-ms" -> timeoutMs = number(a, Main.optionValue(args, ++i, a));
        case "--sample-ms" -> sampleMs = number(a, Main.optionValue(args, ++i, a));
        case "--max-tasks" ->
            maxTasks = (int) Math.min(Integer.MAX_VALUE, number(a, Main.optionValue(args, ++i, a)));
        case "--tasks-out" -> tasksOut = Path.of(Main.optionValue(args, ++i, a));
        case "--listen" -> listen = Main.optionValue(args, ++i, a);
        case "--token-file" -> tokenFile = Path.of(Main.optionValue(args, ++i, a));
        case "--policy-config" -> policyConfig = Path.of(Main.optionValue(args, ++i, a));
        default -> throw new UsageException("unknown option for run: " + a);
      }
    }
    ApiOptions api;
    try {
      api = ApiOptions.parse(listen, tokenFile);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--listen: " + e.getMessage());
    }
    return new RunOptions(sliceUs, staleMs, starveMs, timeoutMs, sampleMs, maxTasks, tasksOut, api, policyConfig);
  }

  /** "N" sets every class's slice, "CLASS=N" one class's; later ones win. */
  private static void parseSlice(String v, Map<SchedClass, Long> sliceUs) {
    int eq = v.indexOf('=');
    if (eq < 0) {
      long us = number("--slice-us", v);
      sliceUs.replaceAll((c, old) -> us);
      return;
    }
    SchedClass c;
    try {
      c = SchedClass.parse(v.substring(0, eq));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--slice-us: " + e.getMessage());
    }
    sliceUs.put(c, number("--slice-us", v.substring(eq + 1)));
  }

  static long number(String option, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " takes a whole number, not '" + v + "'");
    }
  }
}
