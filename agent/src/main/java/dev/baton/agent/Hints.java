package dev.baton.agent;

import dev.baton.bpf.BpfException;
import dev.baton.bpf.abi.BatonHintOrigin;
import java.util.List;
import java.util.Optional;

/**
 * The agent's path for hints, as the control API and the policies use it. {@link HintWriter}
 * writes them into the BPF side's maps; tests substitute their own.
 */
public interface Hints {

  /** What the kernel knows of a task (struct baton_task_query). */
  record TaskInfo(
      int pid,
      int tgid,
      long startNs,
      long leaderStartNs,
      long cgroupId,
      SchedClass schedClass,
      int weight,
      String comm) {}

  /**
   * Who wrote a hint (enum baton_hint_origin): {@link #write} batches are the policy's, the
   * single-hint methods the operator's. An agent that adopts a scheduler tells its predecessor's
   * policy hints, which its own policy replaces, from an operator's, which it keeps.
   */
  enum Origin {
    POLICY(BatonHintOrigin.BATON_HINT_POLICY),
    OPERATOR(BatonHintOrigin.BATON_HINT_OPERATOR);

    final int value;

    Origin(long value) {
      this.value = (int) value;
    }

    static Origin of(int value) {
      return value == OPERATOR.value ? OPERATOR : POLICY;
    }

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * One task hint. {@code task} is the task its key names if that task is still alive; empty
   * once it is gone (the BPF side removes it when it sees the exit).
   */
  record TaskHint(int pid, long startNs, Hint hint, Origin origin, Optional<TaskInfo> task) {}

  record CgroupHint(long cgroupId, Hint hint, Origin origin) {}

  /** What the kernel knows of the live task {@code pid} now, hinted or not; empty if none has it. */
  Optional<TaskInfo> task(int pid) throws BpfException;

  /**
   * Hints the live task {@code pid}: a process id covers all its threads, a thread id that thread
   * only (and wins over its process's hint). Returns the task the hint was keyed to (with its
   * start time, so a later process given the same pid is not covered), or empty if none has it.
   */
  Optional<TaskInfo> setTask(int pid, Hint hint) throws BpfException;

  /** Removes the hint of the live task {@code pid}; false if it had none or no such task lives. */
  boolean clearTask(int pid) throws BpfException;

  List<TaskHint> taskHints() throws BpfException;

  /** Hints every task of the cgroup (v2) with id {@code cgroupId} that has no hint of its own. */
  void setCgroup(long cgroupId, Hint hint) throws BpfException;

  boolean clearCgroup(long cgroupId) throws BpfException;

  List<CgroupHint> cgroupHints() throws BpfException;

  /**
   * One change of a {@link #write} batch: set ({@code hint} non-null) or clear the hint of a
   * task or of a cgroup. A task is keyed by its pid and the start time the event stream reported
   * for it, so no lookup is needed: a thread's own key, or, for a process's main thread (pid =
   * tgid), its process's, which covers the threads that have no key of their own.
   *
   * @param startNs the task's start time (struct baton_task_event.start_ns); 0 for a cgroup
   */
  record Change(boolean cgroup, long id, long startNs, Hint hint) {
    public static Change task(int pid, long startNs, Hint hint) {
      return new Change(false, pid, startNs, hint);
    }

    public static Change cgroup(long cgroupId, Hint hint) {
      return new Change(true, cgroupId, 0, hint);
    }

    public boolean clears() {
      return hint == null;
    }
  }

  /** A change of a batch that the kernel refused, with its errno. */
  record Refusal(Change change, int errno) {}

  /**
   * Writes a batch of changes (a policy tick's) together, and makes them count at once. A key's
   * last change in the batch wins. Clearing a key that is not there is no refusal (BPF removes a
   * task's key itself when the task exits).
   *
   * @return the changes the kernel refused; every other change is in place
   */
  List<Refusal> write(List<Change> changes) throws BpfException;
}
