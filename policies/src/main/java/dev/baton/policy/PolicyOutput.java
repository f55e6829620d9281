package dev.baton.policy;

/** Where a policy states what it wants. */
public interface PolicyOutput {

  /** The hint {@code task} should have; a task given none has its hint removed. */
  void hint(TrackedTask task, Hint hint);

  /** The hint for every task in cgroup {@code cgroupId} that has no hint of its own. */
  void cgroupHint(long cgroupId, Hint hint);

  /** The state of a job the policy judges (for the agent to expose). */
  void status(JobStatus status);
}
