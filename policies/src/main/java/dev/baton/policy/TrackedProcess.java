package dev.baton.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * A process: the unit of classification. Its main thread describes it for the rules, or until that
 * is seen, its first task seen.
 */
final class TrackedProcess {

  final int tgid;
  TaskInfo info;
  final List<TrackedTask> tasks = new ArrayList<>(4);
  TrackedJob job;

  TrackedProcess(TaskInfo info) {
    this.tgid = info.tgid();
    this.info = info;
  }
}
