package dev.baton.policy;

import java.util.ArrayList;
import java.util.List;

/** A process: the unit of classification. Its first task seen describes it for the rules. */
final class TrackedProcess {

  final int tgid;
  final TaskInfo info;
  final List<TrackedTask> tasks = new ArrayList<>(4);
  TrackedJob job;

  TrackedProcess(TaskInfo info) {
    this.tgid = info.tgid();
    this.info = info;
  }
}
