package dev.baton.policy;

/**
 * One change for the agent to write: set or remove the hint of a task or a cgroup.
 *
 * @param target what {@code id} names
 * @param id a pid for {@link Target#TASK}, a cgroup id (cgroup v2 inode) for {@link Target#CGROUP}
 * @param hint the new hint, or null to remove the current one
 */
public record HintChange(Target target, long id, Hint hint) {

  /** What a hint applies to. A task's own hint beats its cgroup's. */
  public enum Target {
    TASK,
    CGROUP
  }

  public boolean isRemoval() {
    return hint == null;
  }
}
