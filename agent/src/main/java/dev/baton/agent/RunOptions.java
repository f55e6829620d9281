package dev.baton.agent;

import dev.baton.agent.api.ApiOptions;
import java.nio.file.Path;
import java.util.List;

/**
 * The tunables of {@code baton run}: each has one name with its unit, one default and one
 * validation, here.
 *
 * @param sliceUs time slice given to each task, in microseconds
 * @param maxTasks live tasks the agent tracks (and recent exits it remembers)
 * @param tasksOut where to write the task table when the agent stops, or null
 * @param api where the control API and metrics listen, and the token that guards them
 */
record RunOptions(long sliceUs, int maxTasks, Path tasksOut, ApiOptions api) {

  static final long DEFAULT_SLICE_US = 20_000;
  static final int DEFAULT_MAX_TASKS = 65_536;

  RunOptions {
    if (sliceUs < 100 || sliceUs > 1_000_000) {
      throw new UsageException("--slice-us must be between 100 and 1000000, not " + sliceUs);
    }
    if (maxTasks < 16 || maxTasks > 4_194_304) {
      throw new UsageException("--max-tasks must be between 16 and 4194304, not " + maxTasks);
    }
  }

  static RunOptions parse(List<String> args) {
    long sliceUs = DEFAULT_SLICE_US;
    int maxTasks = DEFAULT_MAX_TASKS;
    Path tasksOut = null;
    String listen = ApiOptions.DEFAULT_HOST + ":" + ApiOptions.DEFAULT_PORT;
    Path tokenFile = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--slice-us" -> sliceUs = number(a, Main.optionValue(args, ++i, a));
        case "--max-tasks" -> maxTasks = (int) Math.min(Integer.MAX_VALUE, number(a, Main.optionValue(args, ++i, a)));
        case "--tasks-out" -> tasksOut = Path.of(Main.optionValue(args, ++i, a));
        case "--listen" -> listen = Main.optionValue(args, ++i, a);
        case "--token-file" -> tokenFile = Path.of(Main.optionValue(args, ++i, a));
        default -> throw new UsageException("unknown option for run: " + a);
      }
    }
    ApiOptions api;
    try {
      api = ApiOptions.parse(listen, tokenFile);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--listen: " + e.getMessage());
    }
    return new RunOptions(sliceUs, maxTasks, tasksOut, api);
  }

  private static long number(String option, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " takes a whole number, not '" + v + "'");
    }
  }
}
