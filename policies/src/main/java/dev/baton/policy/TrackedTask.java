package dev.baton.policy;

/**
 * A task in the engine's table, as policies see it: who it is, which job it belongs to, and what it
 * consumed and waited for. Counters are cumulative since the task appeared; the {@code recent} ones
 * cover the interval since the previous decision.
 */
public final class TrackedTask {

  private final int pid;
  private final int tgid;
  private final String comm;
  private final long cgroupId;
  final TrackedProcess process;
  TrackedJob job;
  long cpuNs;
  long waitNs;
  long wakeups;
  long recentCpuNs;
  long recentWaitNs;
  long lastActiveNs = Long.MIN_VALUE;

  /** The hint last handed to the agent. */
  Hint hint;

  /** The hint the decision in progress asks for. */
  Hint next;

  TrackedTask(TaskInfo info, TrackedProcess process) {
    this.pid = info.pid();
    this.tgid = info.tgid();
    this.comm = info.comm();
    this.cgroupId = info.cgroupId();
    this.process = process;
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

  /** The cgroup v2 id the task had when it appeared; 0 if unknown. */
  public long cgroupId() {
    return cgroupId;
  }

  /** Its job, or null when no job or rule selects it. */
  public TrackedJob job() {
    return job;
  }

  public long cpuNs() {
    return cpuNs;
  }

  /** Time spent runnable but waiting for a CPU. */
  public long waitNs() {
    return waitNs;
  }

  public long wakeups() {
    return wakeups;
  }

  public long recentCpuNs() {
    return recentCpuNs;
  }

  public long recentWaitNs() {
    return recentWaitNs;
  }

  /** When a sample last showed it running or waiting; {@link Long#MIN_VALUE} if never. */
  public long lastActiveNs() {
    return lastActiveNs;
  }

  /** The hint the agent currently has for it, or null. */
  public Hint hint() {
    return hint;
  }

  @Override
  public String toString() {
    return "task " + pid + " (" + comm + ")";
  }
}
