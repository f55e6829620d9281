package dev.baton.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A job as policies see it: its spec, its tasks and their summed counters, and the frame progress
 * it reported. Jobs come from the API (they live until removed) or from config rules (one per
 * matching process, gone with the process).
 */
public final class TrackedJob {

  /** Where a job came from. */
  public enum Origin {
    API,
    RULE
  }

  private final String id;
  private final Origin origin;
  private final long sinceNs;
  Job job;
  Rule rule;
  JobSpec spec;
  final List<TrackedTask> tasks = new ArrayList<>();
  private final List<TrackedTask> tasksView = Collections.unmodifiableList(tasks);
  int processes;
  long cpuNs;
  long waitNs;
  long recentCpuNs;
  long recentWaitNs;
  long recentWakeups;
  long framesDone;
  long framesReportedNs = Long.MIN_VALUE;
  // Missed frames of a live job (see PolicyEngine#frameProgress): the report frames are counted
  // from, and the last frame index already counted as missed.
  long paceNs = Long.MIN_VALUE;
  long paceFrames;
  long missedThrough;
  long framesMissed;
  private Object policyState;

  TrackedJob(String id, Origin origin, JobSpec spec, long sinceNs) {
    this.id = id;
    this.origin = origin;
    this.spec = spec;
    this.sinceNs = sinceNs;
  }

  public String id() {
    return id;
  }

  public Origin origin() {
    return origin;
  }

  public JobSpec spec() {
    return spec;
  }

  /** The API registration, or null for a rule's job. */
  public Job registration() {
    return job;
  }

  /** The rule that made the job, or null for an API job. */
  public Rule rule() {
    return rule;
  }

  /** When the job was registered (API) or its process appeared (rule). */
  public long sinceNs() {
    return sinceNs;
  }

  /** Its tasks, in the order they joined. */
  public List<TrackedTask> tasks() {
    return tasksView;
  }

  /**
   * True when the job selects whole cgroups (an API job whose only criterion is a cgroup): a hint
   * for those cgroups then also covers tasks that have not been classified yet.
   */
  public boolean wholeCgroups() {
    return job != null && job.selector() instanceof Selector.Matching(Match m) && m.cgroupOnly();
  }

  /** CPU time its tasks consumed while they were its tasks. */
  public long cpuNs() {
    return cpuNs;
  }

  public long waitNs() {
    return waitNs;
  }

  public long recentCpuNs() {
    return recentCpuNs;
  }

  public long recentWaitNs() {
    return recentWaitNs;
  }

  /** Wakeups of its tasks since the last tick. */
  public long recentWakeups() {
    return recentWakeups;
  }

  /** Frames the job reported done, cumulative; 0 before any report. */
  public long framesDone() {
    return framesDone;
  }

  /**
   * Frames of a live job that were due but not done when it reported progress, each counted once:
   * its deadline misses as the agent sees them (see {@link PolicyEngine#frameProgress}).
   */
  public long framesMissed() {
    return framesMissed;
  }

  /** When the job last reported frame progress; {@link Long#MIN_VALUE} if never. */
  public long framesReportedNs() {
    return framesReportedNs;
  }

  /** Whatever the policy keeps for this job between decisions; dies with the job. */
  public Object policyState() {
    return policyState;
  }

  public void setPolicyState(Object state) {
    policyState = state;
  }

  @Override
  public String toString() {
    return "job " + id;
  }
}
