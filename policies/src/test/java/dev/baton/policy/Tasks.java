package dev.baton.policy;

/**
 * Builds task descriptions for tests and counts how often their /proc facts were read, the way the
 * agent's suppliers would read them.
 */
public final class Tasks {

  /** Reads of cgroup paths and command lines, over every task built by this instance. */
  public int cgroupReads;

  public int cmdlineReads;

  public TaskInfo task(int pid, int tgid, String comm, int uid, String cgroup, String cmdline) {
    return task(pid, tgid, comm, uid, cgroup, cmdline, 0);
  }

  public TaskInfo task(
      int pid, int tgid, String comm, int uid, String cgroup, String cmdline, long cgroupId) {
    return new TaskInfo(
        pid,
        tgid,
        comm,
        uid,
        0,
        cgroupId,
        () -> {
          cgroupReads++;
          return cgroup;
        },
        () -> {
          cmdlineReads++;
          return cmdline;
        });
  }

  /** A process's main thread. */
  public TaskInfo process(int pid, String comm, String cgroup, String cmdline) {
    return task(pid, pid, comm, 1000, cgroup, cmdline);
  }
}
