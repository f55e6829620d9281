package dev.baton.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Runs a {@link Policy}: keeps the task table and the job registry from the event stream and the
 * control API, classifies each process once when its first task appears, and on every {@link #tick}
 * asks the policy what it wants and returns only what changed.
 *
 * <p>Classification is per process: a process's first task seen is matched against API jobs and
 * rules (see {@link Classifier} for precedence), and its later threads join the same job without
 * another look at /proc. Registering or removing an API job re-classifies every process.
 *
 * <p>Not thread-safe: the agent calls it from its one event-loop thread, the control API included.
 * Samples for unknown pids are ignored (they raced with an exit).
 */
public final class PolicyEngine {

  /**
   * At most this many jobs registered through the API: a host runs tens of jobs, and a client
   * that registers without removing would otherwise grow the table (and each registration's
   * re-classification) without bound.
   */
  public static final int MAX_API_JOBS = 4096;

  /** A new job was refused because {@link #MAX_API_JOBS} are registered; nothing changed. */
  public static final class JobLimitException extends RuntimeException {
    JobLimitException(String message) {
      super(message);
    }
  }

  private final Policy policy;
  private final Classifier classifier;
  private final LongSupplier clockNs;
  private final PidMap<TrackedTask> tasks = new PidMap<>(1024);
  private final PidMap<TrackedProcess> processes = new PidMap<>(256);
  private final Map<String, TrackedJob> jobs = new LinkedHashMap<>();
  private final Collection<TrackedJob> jobsView = Collections.unmodifiableCollection(jobs.values());
  private int[] exitedWithHint = new int[16];
  private int nrExitedWithHint;
  private Map<Long, Hint> cgroupHints = new HashMap<>();
  private Map<Long, Hint> nextCgroupHints = new HashMap<>();
  private Map<String, JobStatus> statuses = new LinkedHashMap<>();
  private Map<String, JobStatus> nextStatuses = new LinkedHashMap<>();
  private long lastTickNs = Long.MIN_VALUE;
  private long nowNs;
  private long liveFramesMissed;

  /**
   * @param policy what decides
   * @param rules config rules, in file order
   * @param clockNs monotonic nanoseconds, the same clock as the event stream's
   */
  public PolicyEngine(Policy policy, List<Rule> rules, LongSupplier clockNs) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.classifier = new Classifier(rules);
    this.clockNs = Objects.requireNonNull(clockNs, "clockNs");
  }

  public Policy policy() {
    return policy;
  }

  // ---- event stream ----

  /** A task joined the scheduler (existing at attach, or new). A reused pid replaces the old. */
  public void taskAppeared(TaskInfo info) {
    if (tasks.get(info.pid()) != null) {
      taskExited(info.pid());
    }
    TrackedProcess p = processes.get(info.tgid());
    if (p == null) {
      p = new TrackedProcess(info);
      processes.put(p.tgid, p);
      assign(p, jobFor(p));
    } else if (info.pid() == info.tgid() && p.info.pid() != p.tgid) {
      // At attach, a thread may be seen before its main thread; the main thread speaks for the
      // process (its comm is the process's name).
      p.info = info;
      assign(p, jobFor(p));
    }
    TrackedTask t = new TrackedTask(info, p);
    tasks.put(t.pid(), t);
    p.tasks.add(t);
    t.job = p.job;
    if (p.job != null) {
      p.job.tasks.add(t);
    }
  }

  /** A task left the scheduler. Its hint is removed at the next tick. */
  public void taskExited(int pid) {
    TrackedTask t = tasks.remove(pid);
    if (t == null) {
      return;
    }
    if (t.hint != null) {
      if (nrExitedWithHint == exitedWithHint.length) {
        exitedWithHint = Arrays.copyOf(exitedWithHint, nrExitedWithHint * 2);
      }
      exitedWithHint[nrExitedWithHint++] = pid;
    }
    TrackedProcess p = t.process;
    p.tasks.remove(t);
    if (t.job != null) {
      t.job.tasks.remove(t);
    }
    if (p.tasks.isEmpty()) {
      processes.remove(p.tgid);
      assign(p, null);
    }
  }

  /**
   * What a task did over the last sampling interval: CPU consumed, time runnable but waiting for a
   * CPU, and wakeups. Allocation-free.
   */
  public void runtimeSample(int pid, long cpuNs, long waitNs, long wakeups) {
    TrackedTask t = tasks.get(pid);
    if (t == null) {
      return;
    }
    t.cpuNs += cpuNs;
    t.waitNs += waitNs;
    t.wakeups += wakeups;
    t.recentCpuNs += cpuNs;
    t.recentWaitNs += waitNs;
    if (cpuNs > 0 || waitNs > 0) {
      t.lastActiveNs = clockNs.getAsLong();
    }
    TrackedJob j = t.job;
    if (j != null) {
      j.cpuNs += cpuNs;
      j.waitNs += waitNs;
      j.recentCpuNs += cpuNs;
      j.recentWaitNs += waitNs;
      j.recentWakeups += wakeups;
    }
  }

  // ---- control API ----

  /**
   * Registers a job, or updates the one with the same id. Its processes are re-classified when the
   * selector changed; its counters and policy state carry over an update.
   *
   * @throws JobLimitException if the job is new and {@link #MAX_API_JOBS} are registered
   */
  public void registerJob(Job job) {
    registerJob(job, clockNs.getAsLong());
  }

  /**
   * As {@link #registerJob(Job)}, a new job taking {@code sinceNs} as its registration time: an
   * engine rebuilt (a reload, a new scheduler) keeps each job's seniority, which decides which
   * live jobs are admitted first.
   */
  public void registerJob(Job job, long sinceNs) {
    TrackedJob j = jobs.get(job.id());
    if (j == null) {
      if (jobs.values().stream().filter(t -> t.origin() == TrackedJob.Origin.API).count() >= MAX_API_JOBS) {
        throw new JobLimitException(
            "at most " + MAX_API_JOBS + " jobs can be registered; remove some first");
      }
      j = new TrackedJob(job.id(), TrackedJob.Origin.API, job.spec(), sinceNs);
      jobs.put(job.id(), j);
    }
    boolean reselect = j.job == null || !j.job.selector().equals(job.selector());
    if (!Objects.equals(j.spec.live(), job.spec().live())) {
      j.paceNs = Long.MIN_VALUE; // a new frame rate: count from its next report
    }
    j.job = job;
    j.spec = job.spec();
    if (reselect) {
      reclassify();
    }
  }

  /** Removes an API job; its processes fall back to the rules. False if there was none. */
  public boolean removeJob(String id) {
    TrackedJob j = jobs.get(id);
    if (j == null || j.origin() != TrackedJob.Origin.API) {
      return false;
    }
    jobs.remove(id);
    reclassify();
    return true;
  }

  /**
   * A job reports how many frames it has finished in all (a running total).
   *
   * <p>For a live job this also counts its deadline misses as the agent sees them: frames due
   * (one per period) but not done at a report, each frame once. Frames are counted as due from
   * the job's first report, which is taken as on time, and from every later report at which it
   * was not behind, so a job that started late or runs ahead is not charged for it. A frame that
   * was late between two reports and made up before the second is not seen.
   *
   * @throws IllegalArgumentException if there is no such job, or the total went backwards
   */
  public void frameProgress(String jobId, long framesDone) {
    TrackedJob j = jobs.get(jobId);
    if (j == null) {
      throw new IllegalArgumentException("no job '" + jobId + "'");
    }
    if (framesDone < j.framesDone) {
      throw new IllegalArgumentException(
          "frames done went back from "
              + j.framesDone
              + " to "
              + framesDone
              + "; re-register the job to restart its count");
    }
    long now = clockNs.getAsLong();
    j.framesDone = framesDone;
    j.framesReportedNs = now;
    LiveSpec live = j.spec.live();
    if (live == null) {
      return;
    }
    long due = j.paceNs == Long.MIN_VALUE ? framesDone : j.paceFrames + (now - j.paceNs) / live.framePeriodNs();
    if (framesDone >= due) {
      j.paceNs = now;
      j.paceFrames = framesDone;
      j.missedThrough = framesDone;
    } else {
      long missed = due - Math.max(j.missedThrough, framesDone);
      if (missed > 0) {
        j.framesMissed += missed;
        liveFramesMissed += missed;
        j.missedThrough = due;
      }
    }
  }

  /**
   * Frames that live jobs missed, as {@link #frameProgress} counts them, since this engine began;
   * jobs removed since still count.
   */
  public long liveFramesMissed() {
    return liveFramesMissed;
  }

  /**
   * cmdline_regex searches that gave up ({@link Match#CMDLINE_REGEX_STEPS}, or a stack overflow)
   * since this engine began: each counted as no match, so a process a rule should select may not
   * be.
   */
  public long cmdlineRegexGiveUps() {
    return classifier.cmdlineGiveUps();
  }

  /** The last search that gave up: its rule or job and the process, or null if none did. */
  public String lastCmdlineRegexGiveUp() {
    return classifier.lastGiveUp();
  }

  // ---- decisions ----

  /** Asks the policy, and returns the hint changes and status changes since the last tick. */
  public Decision tick() {
    nowNs = clockNs.getAsLong();
    policy.decide(input, output);
    lastTickNs = nowNs;

    List<HintChange> changes = new ArrayList<>();
    for (int i = 0; i < nrExitedWithHint; i++) {
      changes.add(new HintChange(HintChange.Target.TASK, exitedWithHint[i], null));
    }
    nrExitedWithHint = 0;
    for (TrackedTask t : tasks) {
      if (!Objects.equals(t.hint, t.next)) {
        changes.add(new HintChange(HintChange.Target.TASK, t.pid(), t.next));
        t.hint = t.next;
      }
      t.next = null;
      t.recentCpuNs = 0;
      t.recentWaitNs = 0;
    }
    for (Long id : cgroupHints.keySet()) {
      if (!nextCgroupHints.containsKey(id)) {
        changes.add(new HintChange(HintChange.Target.CGROUP, id, null));
      }
    }
    for (Map.Entry<Long, Hint> e : nextCgroupHints.entrySet()) {
      if (!e.getValue().equals(cgroupHints.get(e.getKey()))) {
        changes.add(new HintChange(HintChange.Target.CGROUP, e.getKey(), e.getValue()));
      }
    }
    Map<Long, Hint> swapHints = cgroupHints;
    cgroupHints = nextCgroupHints;
    nextCgroupHints = swapHints;
    nextCgroupHints.clear();

    List<JobStatus> statusChanges = new ArrayList<>();
    for (JobStatus s : nextStatuses.values()) {
      if (!s.sameVerdict(statuses.get(s.jobId()))) {
        statusChanges.add(s);
      }
    }
    Map<String, JobStatus> swapStatuses = statuses;
    statuses = nextStatuses;
    nextStatuses = swapStatuses;
    nextStatuses.clear();

    for (TrackedJob j : jobs.values()) {
      j.recentCpuNs = 0;
      j.recentWaitNs = 0;
      j.recentWakeups = 0;
    }
    return new Decision(changes, statusChanges);
  }

  // ---- introspection (for the agent's API and metrics) ----

  /** The latest status of every job the policy judges, from the last tick. */
  public Collection<JobStatus> statuses() {
    return Collections.unmodifiableCollection(statuses.values());
  }

  public Optional<JobStatus> status(String jobId) {
    return Optional.ofNullable(statuses.get(jobId));
  }

  /** Every job, API ones in registration order first. */
  public Collection<TrackedJob> jobs() {
    return jobsView;
  }

  public Optional<TrackedJob> job(String id) {
    return Optional.ofNullable(jobs.get(id));
  }

  /** The task with this pid, if the engine knows it. */
  public Optional<TrackedTask> task(int pid) {
    return Optional.ofNullable(tasks.get(pid));
  }

  public int taskCount() {
    return tasks.size();
  }

  // ---- internals ----

  private final PolicyInput input =
      new PolicyInput() {
        @Override
        public long nowNs() {
          return nowNs;
        }

        @Override
        public long intervalNs() {
          return lastTickNs == Long.MIN_VALUE ? 0 : nowNs - lastTickNs;
        }

        @Override
        public Collection<TrackedJob> jobs() {
          return jobsView;
        }

        @Override
        public Iterable<TrackedTask> tasks() {
          return tasks;
        }
      };

  private final PolicyOutput output =
      new PolicyOutput() {
        @Override
        public void hint(TrackedTask task, Hint hint) {
          task.next = Objects.requireNonNull(hint, "hint");
        }

        @Override
        public void cgroupHint(long cgroupId, Hint hint) {
          nextCgroupHints.put(cgroupId, Objects.requireNonNull(hint, "hint"));
        }

        @Override
        public void status(JobStatus status) {
          nextStatuses.put(status.jobId(), status);
        }
      };

  /** The job a process belongs to now, creating its rule job if needed. */
  private TrackedJob jobFor(TrackedProcess p) {
    Classifier.Candidate c = classifier.classify(p.info);
    if (c == null) {
      return null;
    }
    if (c.apiJob() != null) {
      return c.apiJob();
    }
    String id = c.rule().name() + "/" + p.tgid;
    TrackedJob j = jobs.get(id);
    if (j == null) {
      j = new TrackedJob(id, TrackedJob.Origin.RULE, c.rule().spec(), clockNs.getAsLong());
      j.rule = c.rule();
      jobs.put(id, j);
    }
    return j;
  }

  /** Moves a process (and its tasks) to {@code to}; a rule job left without its process goes. */
  private void assign(TrackedProcess p, TrackedJob to) {
    TrackedJob from = p.job;
    if (from == to) {
      return;
    }
    if (from != null) {
      from.tasks.removeAll(p.tasks);
      if (--from.processes == 0 && from.origin() == TrackedJob.Origin.RULE) {
        jobs.remove(from.id());
      }
    }
    p.job = to;
    if (to != null) {
      to.processes++;
      to.tasks.addAll(p.tasks);
    }
    for (int i = 0; i < p.tasks.size(); i++) {
      p.tasks.get(i).job = to;
    }
  }

  private void reclassify() {
    classifier.setApiJobs(jobs.values());
    List<TrackedProcess> all = new ArrayList<>(processes.size());
    for (TrackedProcess p : processes) {
      all.add(p);
    }
    for (TrackedProcess p : all) {
      assign(p, jobFor(p));
    }
  }
}
