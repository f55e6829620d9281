package dev.baton.policy;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A task as it appears in the event stream, for classification. The cheap facts come with the
 * event; the cgroup path and the command line cost a read of /proc, so they come as suppliers that
 * are called at most once, and only when a rule needs them.
 *
 * <p>Suppliers return null when the fact cannot be had (the task is already gone); criteria that
 * need it then do not match.
 */
public final class TaskInfo {

  private final int pid;
  private final int tgid;
  private final String comm;
  private final int uid;
  private final long startNs;
  private final long cgroupId;
  private Supplier<String> cgroupPathSource;
  private Supplier<String> cmdlineSource;
  private String cgroupPath;
  private String cmdline;

  /**
   * @param pid the task's id (a thread id)
   * @param tgid its process id
   * @param comm its name
   * @param uid its real user id
   * @param startNs its start time (CLOCK_MONOTONIC): with the pid, unique
   * @param cgroupId its cgroup v2 id, 0 if unknown
   * @param cgroupPath reads its cgroup path ({@code /farm/live/job1})
   * @param cmdline reads its command line, arguments joined by single spaces
   */
  public TaskInfo(
      int pid,
      int tgid,
      String comm,
      int uid,
      long startNs,
      long cgroupId,
      Supplier<String> cgroupPath,
      Supplier<String> cmdline) {
    if (pid <= 0 || tgid <= 0) {
      throw new IllegalArgumentException("pid and tgid must be positive");
    }
    this.pid = pid;
    this.tgid = tgid;
    this.comm = Objects.requireNonNull(comm, "comm");
    this.uid = uid;
    this.startNs = startNs;
    this.cgroupId = cgroupId;
    this.cgroupPathSource = Objects.requireNonNull(cgroupPath, "cgroupPath");
    this.cmdlineSource = Objects.requireNonNull(cmdline, "cmdline");
  }

  public int pid() {
    return pid;
  }

  public int tgid() {
    return tgid;
  }

  public String comm() {
    return comm;
  }

  public int uid() {
    return uid;
  }

  public long startNs() {
    return startNs;
  }

  public long cgroupId() {
    return cgroupId;
  }

  /** The cgroup path, read on first use; null if it could not be read. */
  public String cgroupPath() {
    if (cgroupPathSource != null) {
      cgroupPath = cgroupPathSource.get();
      cgroupPathSource = null;
    }
    return cgroupPath;
  }

  /** The command line, read on first use; null if it could not be read. */
  public String cmdline() {
    if (cmdlineSource != null) {
      cmdline = cmdlineSource.get();
      cmdlineSource = null;
    }
    return cmdline;
  }

  @Override
  public String toString() {
    return "task " + pid + " (" + comm + ", tgid " + tgid + ")";
  }
}
