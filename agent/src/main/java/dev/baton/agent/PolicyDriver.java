package dev.baton.agent;

import dev.baton.bpf.BpfException;
import dev.baton.policy.Decision;
import dev.baton.policy.HintChange;
import dev.baton.policy.Job;
import dev.baton.policy.JobClass;
import dev.baton.policy.JobStatus;
import dev.baton.policy.PolicyEngine;
import dev.baton.policy.Rule;
import dev.baton.policy.TaskInfo;
import dev.baton.policy.TrackedJob;
import dev.baton.policy.Match;
import dev.baton.policy.config.ConfigException;
import dev.baton.policy.config.ConfigParser;
import dev.baton.policy.config.PolicyConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Joins the policy engine to the running agent: feeds it the event stream (tasks appearing and
 * exiting, runtime samples), ticks it, and writes what it decides through {@link Hints}: one
 * batch per tick, task keys built from the start times the event stream reported (a task's hint
 * is cleared under the key it was written with, even after its pid is reused).
 *
 * <p>Threads: the scheduler's event loop calls the event methods and {@link #tickIfDue}; the
 * control API calls the job methods. The engine is not thread-safe, so every method holds this
 * object's monitor. The loop takes it once per event and never blocks while holding it (map
 * writes are system calls, not waits), and API calls are rare, so the lock is uncontended in
 * practice; a command queue run by the loop would add up to a poll interval of latency to every
 * API call for no gain.
 *
 * <p>Reload builds a new engine from the file, carries the API jobs and the known tasks over,
 * and swaps it in only if the file is valid; the hints of the new engine's first tick replace the
 * old ones, and old hints it does not repeat are cleared. The scheduler stays attached throughout.
 *
 * <p><b>A policy that fails.</b> An exception out of the engine on the event loop (a bug, or an
 * input nobody foresaw) would end the loop, and every restarted agent's, while its cause lives.
 * The driver contains it instead: it counts and logs the failure and rebuilds the engine from the
 * running config, as a reload does (jobs and tasks carried over, the engine's history lost). A
 * failure within {@link #REBUILD_EVERY_NS} of the last rebuild, or in the rebuild itself, turns
 * the policy off: its hints are cleared, so every task runs at its class's defaults, events only
 * keep the task list, and the next reload tries again. The agent, its API and metrics stay up.
 */
final class PolicyDriver {

  /**
   * How often the engine decides when nothing new appears. Its decisions smooth samples over
   * seconds (window_ms), so four times a second is plenty; what it costs is the loop's wakeups
   * (a turn's cost under emulation is mostly that of waking a cold JVM thread: measured in the
   * hard farm scenario, the loop's CPU halved, 360-450 ms to 180-240 ms a run, from 100 ms to 250
   * ms). A new task does not wait for it (NEW_TASK_TICK_NS), nor does a job put or removed
   * through the API (decided at once).
   */
  static final long TICK_NS = 250_000_000L;
  /** A task that appeared is decided on this long after the previous tick at the latest. */
  static final long NEW_TASK_TICK_NS = 20_000_000L;

  private static final int E2BIG = 7;

  /** After a failure the engine is rebuilt at most this often; a failure sooner turns it off. */
  static final long REBUILD_EVERY_NS = 10_000_000_000L;
  /** Failures logged with their stack trace: the first few, then one in this many. */
  private static final int TRACE_FIRST = 3;
  private static final int TRACE_EVERY = 1000;

  private Path configFile;
  private String source;
  private int nrCpus;
  private final LongSupplier clockNs;
  private final PrintStream log;
  private final Function<Integer, ProcReader> proc;
  private PolicyConfig config;
  private PolicyEngine engine;
  private boolean needsUid;
  private final Map<Integer, TaskInfo> tasks = new HashMap<>();
  private Hints hints;
  /** Keys this driver may have hints under: task pid to the start time in its key, and cgroups. */
  private final Map<Long, Long> appliedTasks = new HashMap<>();
  private final Set<Long> appliedCgroups = new HashSet<>();
  /**
   * The policy hints of a previous agent, found in an adopted scheduler's maps (pid to the start
   * time in its key). Each is settled once its task has appeared to this agent and a tick has
   * decided on it: kept if this policy hints it too (it is overwritten), cleared if not. Not
   * before: tasks announce themselves to an adopting agent only when they next run, and a clear
   * at adoption would drop a live job's class until then. An operator's hints are not touched.
   */
  private final Map<Long, Long> inheritedTasks = new HashMap<>();
  /** Pids of inherited keys whose task appeared since the last tick. */
  private final List<Long> inheritedAppeared = new ArrayList<>();
  private long lastTickNs = Long.MIN_VALUE; // MIN_VALUE: none yet, one is due
  private boolean newTasks; // a task appeared since the last tick
  private long hintErrors;
  private long framesMissedBefore; // by the engines that reloads replaced
  private long regexGiveUpsBefore; // by the engines that reloads replaced
  private long regexGiveUpsLogged; // by this engine
  private long failures;
  private long rebuiltAtNs = Long.MIN_VALUE;
  private String off; // why the policy is off until a reload; null while it runs
  // For the metrics, read without the lock: as of the last tick or job change.
  private volatile long[] publishedJobs = new long[JobClass.values().length];
  private volatile long publishedFramesMissed;
  private volatile long publishedRegexGiveUps;
  private volatile long publishedFailures;
  private volatile String publishedOff;

  /** What /proc says of a task; tests substitute their own. */
  interface ProcReader {
    String cgroupPath();

    String cmdline();

    int uid();
  }

  /**
   * @param configFile the policy config (YAML), or null for the fair policy without rules
   * @throws ConfigException if the file cannot be read or is invalid
   */
  PolicyDriver(Path configFile, int nrCpus, LongSupplier clockNs, PrintStream log) throws ConfigException {
    this(configFile, nrCpus, clockNs, log, Proc::new);
  }

  PolicyDriver(
      Path configFile, int nrCpus, LongSupplier clockNs, PrintStream log, Function<Integer, ProcReader> proc)
      throws ConfigException {
    this(configFile == null ? PolicyConfig.DEFAULT : ConfigParser.parse(configFile), configFile,
        configFile == null ? null : configFile.toString(), nrCpus, clockNs, log, proc);
  }

  /**
   * @param config the policy config, already read
   * @param configFile the file it was read from and is read again from by {@link #reload()}, or
   *     null (inline in the agent's config file, or the default)
   * @param source where it came from, for people; null for the default
   */
  PolicyDriver(
      PolicyConfig config, Path configFile, String source, int nrCpus, LongSupplier clockNs, PrintStream log) {
    this(config, configFile, source, nrCpus, clockNs, log, Proc::new);
  }

  private PolicyDriver(
      PolicyConfig config,
      Path configFile,
      String source,
      int nrCpus,
      LongSupplier clockNs,
      PrintStream log,
      Function<Integer, ProcReader> proc) {
    this.configFile = configFile;
    this.source = source;
    this.nrCpus = nrCpus;
    this.clockNs = clockNs;
    this.log = log;
    this.proc = proc;
    install(config);
  }

  /**
   * The driver for {@code baton run}'s options: the policy config file (--policy-config, or
   * policy_config: in the config file), else the config file's policy: section, else the fair
   * policy without rules.
   */
  static PolicyDriver of(RunOptions o, int nrCpus, LongSupplier clockNs, PrintStream log) throws ConfigException {
    return o.policyConfig() != null || o.policy() == null
        ? new PolicyDriver(o.policyConfig(), nrCpus, clockNs, log)
        : new PolicyDriver(o.policy(), null, o.policySource(), nrCpus, clockNs, log);
  }

  private void install(PolicyConfig cfg) {
    if (engine != null) {
      framesMissedBefore += engine.liveFramesMissed();
      regexGiveUpsBefore += engine.cmdlineRegexGiveUps();
    }
    config = cfg;
    engine = cfg.newEngine(nrCpus, clockNs);
    regexGiveUpsLogged = 0;
    needsUid = cfg.rules().stream().map(Rule::match).anyMatch(m -> m.uid() != Match.ANY_UID);
  }

  /** The CPUs the policy plans for: the host's online CPUs. */
  synchronized int nrCpus() {
    return nrCpus;
  }

  /**
   * The scheduler now runs on {@code n} CPUs: the engine is rebuilt for them, now if a scheduler
   * is attached (a CPU went offline or came online under it), else at the next attach. Live
   * capacity is a share of the CPUs, so jobs admitted for more CPUs may be shed, and jobs shed
   * for fewer admitted again; the API's jobs keep their seniority. A no-op for the same count or
   * for 0 (not counted).
   */
  synchronized void cpus(int n) {
    if (n == nrCpus || n <= 0) {
      return;
    }
    log.printf("baton: CPUs online now: %d (were %d); the policy plans for them%n", n, nrCpus);
    nrCpus = n;
    if (hints != null) {
      try {
        reload(config);
      } catch (RuntimeException | StackOverflowError e) {
        failed("planning for " + n + " CPUs", e);
      }
    }
  }

  synchronized String policyName() {
    return config.policy();
  }

  synchronized Path configFile() {
    return configFile;
  }

  /** Where the running policy config came from (a file, the agent config's section); null: default. */
  synchronized String source() {
    return source;
  }

  // ---- the event loop ----

  /** Hints go to {@code h} from now on; null once the scheduler is gone (its maps with it). */
  synchronized void attach(Hints h) {
    hints = h;
    appliedTasks.clear();
    appliedCgroups.clear();
    inheritedTasks.clear();
    inheritedAppeared.clear();
    if (h != null) {
      // A scheduler another agent ran (adopted) holds its policy's hints; a new one has none.
      // Only an agent's first attach can adopt, before any task has appeared to it: each is
      // settled as its task appears (taskInit).
      List<Long> inheritedCgroups = new ArrayList<>();
      try {
        for (Hints.TaskHint t : h.taskHints()) {
          if (t.origin() == Hints.Origin.POLICY) {
            inheritedTasks.put((long) t.pid(), t.startNs());
          }
        }
        for (Hints.CgroupHint c : h.cgroupHints()) {
          if (c.origin() == Hints.Origin.POLICY) {
            inheritedCgroups.add(c.cgroupId());
          }
        }
      } catch (BpfException | RuntimeException e) {
        reportHintError("could not read the hints the scheduler holds: " + e.getMessage());
      }
      // The maps are new to this driver: every hint the engine holds must be written again.
      try {
        reload(config);
      } catch (RuntimeException | StackOverflowError e) {
        failed("writing its hints to a new scheduler", e);
      }
      // A cgroup's hint waits for no task: those this policy did not just write go now.
      List<Hints.Change> clears = new ArrayList<>();
      inheritedCgroups.stream()
          .filter(id -> !appliedCgroups.contains(id))
          .forEach(id -> clears.add(Hints.Change.cgroup(id, null)));
      write(clears);
      if (!inheritedTasks.isEmpty() || !inheritedCgroups.isEmpty()) {
        log.printf("baton: the scheduler holds a previous agent's policy hints (tasks: %d, cgroups: %d):"
                + " this policy's replace them, and those it does not repeat are cleared (cgroups"
                + " now: %d; a task's once it next runs)%n",
            inheritedTasks.size(), inheritedCgroups.size(), clears.size());
      }
    }
  }

  /** Notes an inherited key's task appearing, for the next tick to settle. */
  private void inheritedAppeared(int pid, long startNs) {
    if (!inheritedTasks.isEmpty()) {
      Long start = inheritedTasks.get((long) pid);
      if (start != null && start == startNs) {
        inheritedAppeared.add((long) pid);
      }
    }
  }

  /**
   * After a tick: the inherited hints of the tasks that appeared before it go, unless this policy
   * wrote its own under the same key.
   */
  private void settleInherited() {
    if (inheritedAppeared.isEmpty()) {
      return;
    }
    List<Hints.Change> clears = new ArrayList<>();
    for (long pid : inheritedAppeared) {
      Long start = inheritedTasks.remove(pid);
      if (start != null && !start.equals(appliedTasks.get(pid))) {
        clears.add(Hints.Change.task((int) pid, start, null));
      }
    }
    inheritedAppeared.clear();
    write(clears);
  }

  synchronized void taskInit(int pid, int tgid, long startNs, long cgroupId, String comm) {
    if (pid <= 0 || tgid <= 0) {
      return;
    }
    ProcReader[] reader = new ProcReader[1];
    java.util.function.Supplier<ProcReader> r =
        () -> reader[0] != null ? reader[0] : (reader[0] = proc.apply(pid));
    TaskInfo info =
        new TaskInfo(
            pid, tgid, comm, needsUid ? r.get().uid() : Match.ANY_UID, startNs, cgroupId,
            () -> r.get().cgroupPath(), () -> r.get().cmdline());
    tasks.put(pid, info);
    newTasks = true;
    if (off == null) {
      try {
        engine.taskAppeared(info);
      } catch (RuntimeException | StackOverflowError e) {
        failed("classifying task " + pid + " (" + comm + ")", e);
      }
    }
    inheritedAppeared(pid, startNs);
  }

  synchronized void taskExit(int pid) {
    tasks.remove(pid);
    if (off == null) {
      try {
        engine.taskExited(pid);
      } catch (RuntimeException | StackOverflowError e) {
        failed("on the exit of task " + pid, e);
      }
    }
  }

  synchronized void sample(int pid, long cpuNs, long waitNs, long wakeups) {
    if (off == null) {
      try {
        engine.runtimeSample(pid, cpuNs, waitNs, wakeups);
      } catch (RuntimeException | StackOverflowError e) {
        failed("on a runtime sample of task " + pid, e);
      }
    }
  }

  /** Lets the engine decide if a tick is due, and writes what changed. */
  synchronized void tickIfDue(long nowNs) {
    if (nanosToTick(nowNs) > 0) {
      return;
    }
    lastTickNs = nowNs;
    tick();
  }

  /** How long until {@link #tickIfDue} will tick: 0 if it would now. */
  synchronized long nanosToTick(long nowNs) {
    if (lastTickNs == Long.MIN_VALUE) {
      return 0;
    }
    return Math.max(0, lastTickNs + (newTasks ? NEW_TASK_TICK_NS : TICK_NS) - nowNs);
  }

  synchronized void tick() {
    newTasks = false;
    if (off != null) {
      return;
    }
    Decision d;
    try {
      d = engine.tick();
    } catch (RuntimeException | StackOverflowError e) {
      failed("deciding (a tick)", e);
      return;
    }
    apply(d.hints());
    settleInherited();
    publish();
    for (JobStatus s : d.statusChanges()) {
      log.printf("baton: job %s: %s%s (%s)%n", s.jobId(), s.health().name().toLowerCase(java.util.Locale.ROOT),
          s.lagLevel() > 0 ? " lag " + s.lagLevel() : "", s.reason());
    }
    // A search that gave up counted as no match: say so, or a rule silently misses processes.
    long giveUps = engine.cmdlineRegexGiveUps();
    if (giveUps != regexGiveUpsLogged) {
      log.printf("baton: %d cmdline_regex search(es) gave up (read %d characters, or overflowed the"
              + " stack, without an answer) and counted as no match (the last: %s); a pattern needs"
              + " no leading .* to be found anywhere, and each repetition of a group costs stack%n",
          giveUps - regexGiveUpsLogged, Match.CMDLINE_REGEX_STEPS, engine.lastCmdlineRegexGiveUp());
      regexGiveUpsLogged = giveUps;
    }
  }

  /**
   * Counts and logs a failure of the engine, then rebuilds it from the running config, or turns
   * the policy off if it failed again within REBUILD_EVERY_NS of the last rebuild (see the top).
   */
  private void failed(String during, Throwable e) {
    countFailure();
    if (failures <= TRACE_FIRST || failures % TRACE_EVERY == 0) {
      log.println("baton: the policy failed " + during + " (failure " + failures + "): " + e);
      e.printStackTrace(log);
    }
    if (off != null) {
      return;
    }
    long now = clockNs.getAsLong();
    if (rebuiltAtNs == Long.MIN_VALUE || now - rebuiltAtNs >= REBUILD_EVERY_NS) {
      rebuiltAtNs = now;
      try {
        reload(config);
        log.println("baton: the policy was rebuilt from its config: jobs and tasks carried over, its history lost");
        return;
      } catch (RuntimeException | StackOverflowError again) {
        countFailure();
        log.println("baton: rebuilding the policy failed too (failure " + failures + "): " + again);
        e = again;
      }
    }
    turnOff(e.toString());
  }

  private void countFailure() {
    failures++;
    publishedFailures = failures;
  }

  /** Clears every hint the policy set, so that tasks run at their classes' defaults. */
  private void turnOff(String why) {
    off = why;
    publishedOff = why;
    List<Hints.Change> clears = new ArrayList<>();
    appliedTasks.forEach((pid, start) -> clears.add(Hints.Change.task(pid.intValue(), start, null)));
    appliedCgroups.forEach(id -> clears.add(Hints.Change.cgroup(id, null)));
    inheritedTasks.forEach((pid, start) -> clears.add(Hints.Change.task(pid.intValue(), start, null)));
    appliedTasks.clear();
    appliedCgroups.clear();
    inheritedTasks.clear();
    inheritedAppeared.clear();
    write(clears);
    log.println("baton: the policy is off until a reload (baton reload, SIGHUP, POST /v1/reload): it"
        + " failed again within " + REBUILD_EVERY_NS / 1_000_000_000L + " s of a rebuild, or in it;"
        + " every task runs at its class's defaults meanwhile");
  }

  /** Engine failures contained on the event loop since start (no lock: for the metrics). */
  long failures() {
    return publishedFailures;
  }

  /** Why the policy is off until a reload, or null while it runs (no lock). */
  String off() {
    return publishedOff;
  }

  /** Writes a tick's changes as one batch. */
  private void apply(List<HintChange> changes) {
    write(toBatch(changes));
  }

  /**
   * The engine's changes as the writer's: task keys take the start time the event stream
   * reported (a clear, the one the hint was written under, though the task is gone). Updates the
   * books of what is applied as if every change succeeds; {@link #write} corrects for refusals.
   */
  private List<Hints.Change> toBatch(List<HintChange> changes) {
    List<Hints.Change> batch = new ArrayList<>(changes.size());
    for (HintChange c : changes) {
      long id = c.id();
      if (c.target() == HintChange.Target.CGROUP) {
        if (!c.isRemoval()) {
          appliedCgroups.add(id);
          batch.add(Hints.Change.cgroup(id, toAgent(c.hint())));
        } else if (appliedCgroups.remove(id)) {
          batch.add(Hints.Change.cgroup(id, null));
        }
      } else if (c.isRemoval()) {
        Long start = appliedTasks.remove(id);
        if (start != null) {
          batch.add(Hints.Change.task((int) id, start, null));
        }
      } else {
        TaskInfo t = tasks.get((int) id);
        if (t == null) {
          continue; // the engine hints only tasks this driver told it of
        }
        Long old = appliedTasks.put(id, t.startNs());
        if (old != null && old != t.startNs()) {
          batch.add(Hints.Change.task((int) id, old, null)); // the pid's previous task
        }
        batch.add(Hints.Change.task((int) id, t.startNs(), toAgent(c.hint())));
      }
    }
    return batch;
  }

  /**
   * Writes a batch. A change the kernel refuses is reported and not retried (the engine sends a
   * task's hint again when it changes); a refused clear stays on the books, so that a later clear
   * or reload removes it.
   */
  private void write(List<Hints.Change> batch) {
    if (hints == null || batch.isEmpty()) {
      return;
    }
    try {
      for (Hints.Refusal r : hints.write(batch)) {
        Hints.Change c = r.change();
        if (c.clears() && c.cgroup()) {
          appliedCgroups.add(c.id());
        } else if (c.clears()) {
          appliedTasks.putIfAbsent(c.id(), c.startNs());
        }
        reportHintError(
            "the kernel refused the hint of "
                + (c.cgroup() ? "cgroup " : "task ")
                + c.id()
                + ": errno "
                + r.errno()
                + (r.errno() == E2BIG ? " (the hint map is full)" : ""));
      }
    } catch (BpfException | RuntimeException e) {
      reportHintError("could not write policy hints: " + e.getMessage());
    }
  }

  private void reportHintError(String message) {
    if (hintErrors++ % 1000 == 0) {
      log.println("baton: " + message + " (" + hintErrors + " hint errors so far)");
    }
  }

  /** The policies' hint on the BPF side's scale: the agent's limits are a little narrower. */
  static Hint toAgent(dev.baton.policy.Hint h) {
    SchedClass c = SchedClass.valueOf(h.schedClass().name());
    int slice = h.sliceUs() == 0 ? 0 : Math.clamp(h.sliceUs(), Hint.MIN_SLICE_US, Hint.MAX_SLICE_US);
    int deadline = c == SchedClass.LIVE ? Math.clamp(h.deadlineUs(), 1, Hint.MAX_DEADLINE_US) : 0;
    return new Hint(c, h.weight(), slice, deadline);
  }

  // ---- the control API ----

  /** The policy failed while it took a job change; it was rebuilt or turned off (see the top). */
  static final class PolicyFailedException extends RuntimeException {
    PolicyFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Decided at once: the job's tasks have its hints when this returns, not at the next tick.
   *
   * @throws PolicyEngine.JobLimitException if the job is new and the limit is reached
   * @throws PolicyFailedException if the policy failed taking it (re-classifying the processes)
   */
  synchronized void registerJob(Job job) {
    try {
      engine.registerJob(job);
      tick();
    } catch (PolicyEngine.JobLimitException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      failed("registering job " + job.id(), e);
      throw new PolicyFailedException("the policy failed registering job " + job.id() + " (the agent's log has why)", e);
    } finally {
      publish();
    }
  }

  /**
   * False if no API job has that id. Decided at once, as a put is. A policy that fails meanwhile is
   * contained: the job is gone.
   */
  synchronized boolean removeJob(String id) {
    boolean removed;
    try {
      removed = engine.removeJob(id);
    } catch (RuntimeException | StackOverflowError e) {
      failed("removing job " + id, e); // the engine drops the job before it re-classifies
      removed = true;
    }
    if (removed) {
      tick();
    }
    publish();
    return removed;
  }

  /** False if there is no such job; IllegalArgumentException if the count went backwards. */
  synchronized boolean frameProgress(String id, long frames) {
    if (engine.job(id).isEmpty()) {
      return false;
    }
    engine.frameProgress(id, frames);
    publishedFramesMissed = framesMissedBefore + engine.liveFramesMissed();
    return true;
  }

  /** Jobs of a class, as of the last tick or job change (no lock: for the metrics). */
  long jobs(JobClass c) {
    return publishedJobs[c.ordinal()];
  }

  /**
   * Frames live jobs missed as the agent sees them (PolicyEngine#frameProgress), over every
   * config this driver ran (no lock: for the metrics).
   */
  long liveFramesMissed() {
    return publishedFramesMissed;
  }

  /**
   * cmdline_regex searches that gave up and counted as no match (PolicyEngine#cmdlineRegexGiveUps),
   * over every config this driver ran, as of the last tick or job change (no lock: for the metrics).
   */
  long cmdlineRegexGiveUps() {
    return publishedRegexGiveUps;
  }

  private void publish() {
    long[] jobs = new long[JobClass.values().length];
    for (TrackedJob j : engine.jobs()) {
      jobs[j.spec().jobClass().ordinal()]++;
    }
    publishedJobs = jobs;
    publishedFramesMissed = framesMissedBefore + engine.liveFramesMissed();
    publishedRegexGiveUps = regexGiveUpsBefore + engine.cmdlineRegexGiveUps();
  }

  /** Runs {@code view} on the engine under the lock; the result must not hold engine objects. */
  synchronized <T> T read(Function<PolicyEngine, T> view) {
    return view.apply(engine);
  }

  /** Re-reads the config file; on any problem the running config stays and this throws. */
  synchronized PolicyConfig reload() throws ConfigException {
    if (configFile == null) {
      throw new ConfigException("baton run", 0, 0, "no policy config file to reload (start with --policy-config FILE)");
    }
    PolicyConfig cfg = ConfigParser.parse(configFile);
    reloadOrTurnOff(cfg);
    return cfg;
  }

  /** Runs {@code cfg} from now on, read from {@code configFile} (or null) and {@code source}. */
  synchronized void reload(PolicyConfig cfg, Path configFile, String source) {
    this.configFile = configFile;
    this.source = source;
    reloadOrTurnOff(cfg);
  }

  /**
   * An operator's reload: a valid config whose engine fails as it starts leaves the policy off
   * (the old engine is gone by then) and says so; the next reload tries again.
   */
  private void reloadOrTurnOff(PolicyConfig cfg) {
    try {
      reload(cfg);
    } catch (RuntimeException | StackOverflowError e) {
      countFailure();
      log.println("baton: the policy failed as it started after a reload: " + e);
      e.printStackTrace(log);
      turnOff(e.toString());
      throw new IllegalStateException("the policy failed as it started, and is off until the next reload: " + e, e);
    }
  }

  private void reload(PolicyConfig cfg) {
    List<TrackedJob> apiJobs =
        engine.jobs().stream().filter(j -> j.origin() == TrackedJob.Origin.API).toList();
    Map<Long, Long> oldTasks = new HashMap<>(appliedTasks);
    Set<Long> oldCgroups = new HashSet<>(appliedCgroups);
    install(cfg);
    apiJobs.forEach(j -> engine.registerJob(j.registration(), j.sinceNs()));
    // The main thread of each process first, so that it names its process.
    tasks.values().stream().filter(t -> t.pid() == t.tgid()).forEach(engine::taskAppeared);
    tasks.values().stream().filter(t -> t.pid() != t.tgid()).forEach(engine::taskAppeared);
    appliedTasks.clear();
    appliedCgroups.clear();
    // The new engine's first hints and the clears of old ones it does not repeat: one batch.
    List<Hints.Change> batch = toBatch(engine.tick().hints());
    oldTasks.forEach(
        (pid, start) -> {
          if (!start.equals(appliedTasks.get(pid))) {
            batch.add(Hints.Change.task(pid.intValue(), start, null));
          }
        });
    oldCgroups.stream().filter(id -> !appliedCgroups.contains(id)).forEach(id -> batch.add(Hints.Change.cgroup(id, null)));
    write(batch);
    off = null;
    publishedOff = null;
    publish();
    lastTickNs = clockNs.getAsLong();
    newTasks = false;
  }

  /** Reads /proc/PID once per fact, on first use. */
  private record Proc(int pid) implements ProcReader {
    @Override
    public String cgroupPath() {
      // cgroup v2: the one line "0::/path".
      String s = read("cgroup");
      if (s == null) {
        return null;
      }
      for (String line : s.split("\n")) {
        if (line.startsWith("0::")) {
          return line.substring(3);
        }
      }
      return null;
    }

    @Override
    public String cmdline() {
      String s = read("cmdline");
      if (s == null) {
        return null;
      }
      if (s.endsWith("\0")) {
        s = s.substring(0, s.length() - 1);
      }
      return s.replace('\0', ' ');
    }

    @Override
    public int uid() {
      String s = read("status");
      if (s != null) {
        for (String line : s.split("\n")) {
          if (line.startsWith("Uid:")) {
            return Integer.parseInt(line.substring(4).strip().split("\\s+")[0]);
          }
        }
      }
      return Match.ANY_UID;
    }

    private String read(String file) {
      try {
        return new String(Files.readAllBytes(Path.of("/proc", Integer.toString(pid), file)), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return null;
      }
    }
  }
}
