package dev.baton.policy.transcode;

import dev.baton.policy.Hint;
import dev.baton.policy.JobStatus;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.Policy;
import dev.baton.policy.PolicyInput;
import dev.baton.policy.PolicyOutput;
import dev.baton.policy.Reason;
import dev.baton.policy.SchedClass;
import dev.baton.policy.Tenant;
import dev.baton.policy.TrackedJob;
import dev.baton.policy.TrackedTask;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The transcode policy: live encoders meet their frame deadlines, VOD tenants share the CPU by
 * tenant weight, batch work soaks up what is left.
 *
 * <p><b>Live.</b> A live job's tasks run in the LIVE (EDF) class with a relative deadline of one
 * frame period minus {@code live_margin_pct}. Each tick the policy smooths, over {@code
 * live_lag_periods} frame periods, the CPU the job received, the time its tasks waited runnable,
 * and the frame rate it reports (if it does). The job lags when, while its tasks were waiting for a
 * CPU, it got less than it needs: fewer frames than its fps, or, without frame reports, less CPU
 * than its declared cost per frame requires, or, knowing neither, takes longer on average from a
 * wakeup to its next sleep (running or waiting) than its deadline. Waiting as such is no sign of
 * lag under EDF, where a later deadline waits for earlier ones by design. A lagging job climbs a
 * lag level (at most one per window, up to {@code live_lag_levels}): each level pulls its deadline
 * earlier by {@code live_lag_step_pct} of the period, so it goes ahead of more of the other live
 * work. Levels are given back one at a time after sustained on-time windows. A level may also
 * halve the job's slice from {@code live_lag_slice_us}, off by default: a waking live task
 * preempts later deadlines whatever slice they run, so a lagging task's own shorter slice only
 * makes it give the CPU up more often, one more switch each time.
 *
 * <p><b>Feasibility.</b> A live job's demand is its cost per frame over its period, in CPUs:
 * measured from CPU time and frame reports, else declared. Jobs are admitted oldest first while
 * their summed demand fits {@code live_capacity_pct} of the host's CPUs; a job that does not fit is
 * reported INFEASIBLE and runs in NORMAL instead of LIVE, so it cannot take the CPU from jobs that
 * were there first and can be met. It is re-admitted when it fits with a little room to spare
 * (capacity is freed, or its cost drops). Jobs of unknown cost are admitted until live work is
 * overloaded: it holds 90% of its capacity (known demands, and the CPU the others receive) and
 * some of it lags. EDF is at its worst there, every deadline missed in turn (measured in the VM:
 * live work wanting 2.3 of 2 CPUs missed 97% of its frames; SCHED_FIFO 99%), so the newest job
 * of unknown cost yields: INFEASIBLE, in NORMAL, one job a window until the rest keep up. It is
 * tried again once the CPUs it was runnable on then (running or waiting: what a backlogged job
 * takes while it catches up) fit beside the older jobs without an overload, after a hold-off of
 * one window that doubles each time it yields (up to 64).
 *
 * <p><b>VOD.</b> Tenants share the CPU that VOD work receives by their weights, however many jobs
 * and threads each runs. A tenant's weight is split across its jobs by job weight and across each
 * job's active tasks equally; the total is scaled so the average VOD task weighs as much as a plain
 * NORMAL task. Splitting by count alone is off whenever threads differ in how much they run (a
 * tenant with one busy thread and many idle ones would be starved), so over a sliding window of
 * {@code window_ms} the policy compares each waiting tenant's measured CPU with its weighted share
 * of what the waiting tenants got, and corrects a per-tenant factor multiplicatively ({@code
 * vod_gain_pct}: at 50% the loop is damped, settling in about eight windows). Tenants that do not
 * wait get what they ask for and their factor relaxes to 1. VOD tasks run {@code vod_slice_us}
 * at a time (60 ms, three NORMAL slices): a waking live task preempts them at once whatever
 * their slice, so a long one costs live work nothing, and VOD switches among its own threads a
 * third as often (in the hard farm scenario a few percent more VOD work, within the noise of
 * single runs). The price is paid by other NORMAL tasks, which may wait up to one VOD slice for
 * a CPU; hence a VOD setting, not the class's.
 *
 * <p><b>Batch</b> runs in IDLE with its job weight; the BPF side guarantees IDLE a minimum share,
 * so it is never starved.
 *
 * <p><b>Limits.</b> Demand is unknown for a live job that neither reports frames nor declares a
 * cost: it is then judged by its response time alone, which is blind to a job whose threads wake
 * many times a frame, and reported infeasible only in an overload, newest first, whichever job
 * is the big one; a live_capacity_pct near 100 may leave an overload unseen, as the lower
 * classes' guaranteed share keeps live work below it. Measured demand
 * trusts that frames reported track the work done. Live tasks' weights are their job weight; EDF
 * order, not weight, is what protects them. A job whose tasks run most of a period between sleeps
 * climbs fewer levels: a deadline below what a task runs between sleeps would make it overrun on
 * the BPF side, which puts it after the on-time live tasks until it sleeps, so no level pulls
 * the deadline below {@link #BURST_HEADROOM} times that run (its measured mean). VOD correction
 * needs a few windows to settle, and a tenant's share is of VOD CPU only, not of the host.
 */
public final class TranscodePolicy implements Policy {

  public static final String NAME = "transcode";

  /** Room to spare before an infeasible job is re-admitted, so it does not flap. */
  static final double READMIT_FRACTION = 0.95;

  /**
   * Live work that holds this share of its capacity and lags is overloaded. Not all of it: live
   * work never gets every CPU (the kernel, interrupts, the starvation guard's share for the lower
   * classes): in the test VM, overloaded live work held about 1.75-1.85 of 2 CPUs.
   */
  static final double OVERLOAD_FRACTION = 0.9;

  /** A job of unknown cost that yields again waits 2, 4, ... up to 2^6 windows to be tried again. */
  static final int MAX_YIELD_DOUBLINGS = 6;
  private static final Comparator<TrackedJob> OLDEST_FIRST =
      Comparator.comparingLong(TrackedJob::sinceNs).thenComparing(TrackedJob::id);

  /**
   * A lag level may pull a job's deadline down to this many times the CPU its tasks run between
   * sleeps, no further: a task that runs a whole relative deadline without sleeping overruns, and
   * the BPF side then puts it after the live tasks on time until it sleeps.
   */
  static final double BURST_HEADROOM = 1.25;

  /** However far a job lags, its deadline stays at least this share of its period (in %). */
  static final int MIN_DEADLINE_PCT = 25;

  /** Bounds of a tenant's correction factor. */
  static final double MAX_FACTOR = 64;

  /** A VOD weight change smaller than this fraction is not worth a map write. */
  static final double WEIGHT_DEADBAND = 0.03;

  private static final int DEFAULT_WEIGHT = (int) Hint.WEIGHT.defaultValue();

  private final TranscodeSettings settings;
  private final int nrCpus;
  private final Map<String, Integer> tenantWeights = new HashMap<>();
  private final Map<String, TenantShare> shares = new HashMap<>();
  private final List<TrackedJob> live = new ArrayList<>();
  private final List<TrackedJob> vod = new ArrayList<>();
  /** No job of unknown cost yields before this: the last one's effect must show first. */
  private long nextYieldNs = Long.MIN_VALUE;

  /**
   * @param settings tunables
   * @param tenants declared tenants; any other tenant weighs 100
   * @param nrCpus CPUs of this host that the scheduler manages
   */
  public TranscodePolicy(TranscodeSettings settings, Collection<Tenant> tenants, int nrCpus) {
    if (nrCpus < 1) {
      throw new IllegalArgumentException("nrCpus must be positive, got " + nrCpus);
    }
    this.settings = settings;
    this.nrCpus = nrCpus;
    for (Tenant t : tenants) {
      tenantWeights.put(t.name(), t.weight());
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void decide(PolicyInput in, PolicyOutput out) {
    live.clear();
    vod.clear();
    for (TrackedJob j : in.jobs()) {
      switch (j.spec().jobClass()) {
        case LIVE -> live.add(j);
        case VOD -> vod.add(j);
        case BATCH -> {
          Hint h = Hint.of(SchedClass.IDLE, j.spec().weight(), 0);
          for (TrackedTask t : j.tasks()) {
            out.hint(t, h);
          }
          cgroupHints(j, h, out);
        }
      }
    }
    decideLive(in, out);
    decideVod(in, out);
  }

  // ---- live ----

  private void decideLive(PolicyInput in, PolicyOutput out) {
    long now = in.nowNs();
    for (TrackedJob j : live) {
      LiveTrack track = track(j);
      LiveSpec spec = j.spec().live();
      long window = window(j);
      track.observe(j, now, in.intervalNs(), window);
      track.demandCpus = track.frameCostNs(spec, now, window) / spec.framePeriodNs();
      if (track.ageNs >= window) {
        judgeLag(track, spec, now, window);
      }
    }
    admit(now);
    for (TrackedJob j : live) {
      LiveTrack track = (LiveTrack) j.policyState();
      LiveSpec spec = j.spec().live();
      long window = window(j);
      Hint h =
          track.admitted
              ? Hint.live(j.spec().weight(), sliceUs(track.level), deadlineUs(spec, track.level))
              : Hint.of(SchedClass.NORMAL, j.spec().weight(), 0);
      for (TrackedTask t : j.tasks()) {
        out.hint(t, h);
      }
      cgroupHints(j, h, out);
      out.status(status(j, track, track.ageNs >= window));
    }
  }

  private static LiveTrack track(TrackedJob j) {
    if (j.policyState() instanceof LiveTrack t) {
      return t;
    }
    LiveTrack t = new LiveTrack();
    j.setPolicyState(t);
    return t;
  }

  private void judgeLag(LiveTrack t, LiveSpec spec, long now, long window) {
    double tol = 1 - settings.liveTolerancePct() / 100.0;
    boolean waiting = t.wait > LiveTrack.RUNNABLE_WAIT_FLOOR_CPUS;
    double fpsNeeded = 1e6 / spec.framePeriodUs();
    if (t.framesFresh(now, window)) {
      t.lagging = waiting && t.fps < fpsNeeded * tol;
      t.reason = Reason.of("%.1f of %.1f fps, waiting %.2f CPUs", t.fps, fpsNeeded, t.wait);
    } else if (!Double.isNaN(t.demandCpus)) {
      t.lagging = waiting && t.cpu < t.demandCpus * tol;
      t.reason = Reason.of("got %.2f of %.2f CPUs, waiting %.2f", t.cpu, t.demandCpus, t.wait);
    } else {
      // Waiting alone proves nothing under EDF (a later deadline waits for earlier ones by
      // design); taking longer than the deadline from wakeup to sleep, on average, does.
      double deadlineNs = deadlineUs(spec, 0) * 1e3;
      double responseNs = t.responseNs(window);
      t.lagging = waiting && responseNs > deadlineNs;
      t.reason =
          Double.isInfinite(responseNs)
              ? Reason.of(
                  "cost unknown; no wakeup in the last window against a %.1f ms deadline, waiting"
                      + " %.2f CPUs",
                  deadlineNs / 1e6, t.wait, 0)
              : Reason.of(
                  "cost unknown; %.1f ms from wakeup to sleep against a %.1f ms deadline, waiting"
                      + " %.2f CPUs",
                  responseNs / 1e6, deadlineNs / 1e6, t.wait);
    }
    if (t.lagging) {
      t.onTimeSinceNs = Long.MIN_VALUE;
      boolean stepDue = t.levelChangedNs == Long.MIN_VALUE || now - t.levelChangedNs >= window;
      boolean fits = deadlineUs(spec, t.level + 1) * 1e3 >= BURST_HEADROOM * t.burstNs(window);
      if (t.level < settings.liveLagLevels() && stepDue && fits) {
        t.level++;
        t.levelChangedNs = now;
      }
    } else {
      if (t.onTimeSinceNs == Long.MIN_VALUE) {
        t.onTimeSinceNs = now;
      }
      long calm = LiveTrack.RELAX_WINDOWS * window;
      if (t.level > 0 && now - t.onTimeSinceNs >= calm && now - t.levelChangedNs >= calm) {
        t.level--;
        t.levelChangedNs = now;
      }
    }
  }

  /**
   * Oldest first, admit while the summed known demand fits; the rest are infeasible. Jobs of
   * unknown cost are admitted until live work is overloaded: it holds OVERLOAD_FRACTION of its
   * capacity (known demands, and the CPU the others receive) and still lags. Then the newest of them
   * yields, one a window, and is tried again after a hold-off that doubles each time it yields.
   */
  private void admit(long now) {
    live.sort(OLDEST_FIRST);
    double capacity = nrCpus * settings.liveCapacityPct() / 100.0;
    double admitted = 0; // known demand and measured CPU of the admitted jobs so far
    boolean lagging = false;
    TrackedJob newestUnknown = null;
    for (TrackedJob j : live) {
      LiveTrack t = (LiveTrack) j.policyState();
      double d = t.demandCpus;
      if (Double.isNaN(d)) {
        if (t.yieldedCpu > 0) { // yielded in an overload: back once its hold-off is over and it fits
          if (now < t.readmitNs || admitted + t.yieldedCpu > capacity * OVERLOAD_FRACTION) {
            t.admitted = false;
            t.reason = t.yieldReason;
            continue;
          }
          t.yieldedCpu = 0;
        }
        t.admitted = true;
        admitted += t.cpu;
        if (t.ageNs >= window(j)) {
          lagging |= t.lagging;
          newestUnknown = j;
        }
        continue;
      }
      t.yieldedCpu = 0; // its cost is known now: admitted by it
      double room = t.admitted ? capacity : capacity * READMIT_FRACTION;
      t.admitted = admitted + d <= room;
      if (t.admitted) {
        admitted += d;
        lagging |= t.lagging;
      } else {
        t.reason =
            Reason.of(
                "needs %.2f CPUs; live jobs before it hold %.2f of the %.2f this host gives live"
                    + " work",
                d, admitted, capacity);
      }
    }
    if (lagging && admitted >= capacity * OVERLOAD_FRACTION && newestUnknown != null && now >= nextYieldNs) {
      LiveTrack t = (LiveTrack) newestUnknown.policyState();
      long window = window(newestUnknown);
      t.admitted = false;
      t.yieldedCpu = Math.min(nrCpus, Math.max(t.cpu + t.wait, LiveTrack.RUNNABLE_WAIT_FLOOR_CPUS));
      t.readmitNs = now + (window << Math.min(t.yields, MAX_YIELD_DOUBLINGS));
      t.yields++;
      nextYieldNs = now + window;
      t.yieldReason =
          Reason.of(
              "cost unknown; live work held %.2f of the %.2f CPUs this host gives it and lagged: the"
                  + " newest job of unknown cost yields (declare frame_cost_us, or report frames)",
              admitted, capacity, 0);
      t.reason = t.yieldReason;
    }
  }

  private long window(TrackedJob j) {
    return (long) settings.liveLagPeriods() * j.spec().live().framePeriodNs();
  }

  private JobStatus status(TrackedJob j, LiveTrack t, boolean judged) {
    JobStatus.Health h;
    if (!t.admitted) {
      h = JobStatus.Health.INFEASIBLE;
    } else if (!judged) {
      h = JobStatus.Health.MEASURING;
    } else if (t.lagging || t.level > 0) {
      h = JobStatus.Health.LAGGING;
    } else {
      h = JobStatus.Health.ON_TIME;
    }
    return new JobStatus(j.id(), h, t.level, t.demandCpus, t.reason);
  }

  int sliceUs(int level) {
    if (level == 0 || settings.liveLagSliceUs() == 0) {
      return settings.liveSliceUs();
    }
    return Math.max(settings.liveMinSliceUs(), settings.liveLagSliceUs() >> (level - 1));
  }

  int deadlineUs(LiveSpec spec, int level) {
    int pct =
        Math.max(
            MIN_DEADLINE_PCT, 100 - settings.liveMarginPct() - level * settings.liveLagStepPct());
    return (int) Math.max(1, spec.framePeriodUs() * pct / 100);
  }

  // ---- VOD ----

  /** Per-tenant state of the VOD share loop. */
  private static final class TenantShare {
    final int weight;
    double cpu;
    double wait;
    double factor = 1;
    boolean seen;
    // Scratch, rebuilt each tick.
    long recentCpuNs;
    long recentWaitNs;
    int activeTasks;
    long activeJobWeight;
    boolean demanding;

    TenantShare(int weight) {
      this.weight = weight;
    }
  }

  private void decideVod(PolicyInput in, PolicyOutput out) {
    long now = in.nowNs();
    long dt = in.intervalNs();
    long windowNs = settings.windowMs() * 1_000_000L;
    long activeSince = now - Math.max(2 * dt, 1);
    for (TenantShare s : shares.values()) {
      s.recentCpuNs = 0;
      s.recentWaitNs = 0;
      s.activeTasks = 0;
      s.activeJobWeight = 0;
    }
    for (TrackedJob j : vod) {
      TenantShare s = share(j.spec().tenant());
      s.recentCpuNs += j.recentCpuNs();
      s.recentWaitNs += j.recentWaitNs();
      int active = activeTasks(j, activeSince);
      if (active > 0) {
        s.activeTasks += active;
        s.activeJobWeight += j.spec().weight();
      }
    }

    // Measure over the window, then correct the factors of the tenants that wait.
    double waitingCpu = 0;
    long waitingWeight = 0;
    for (TenantShare s : shares.values()) {
      if (dt > 0) {
        double cpuNow = (double) s.recentCpuNs / dt;
        double waitNow = (double) s.recentWaitNs / dt;
        s.cpu = s.seen ? LiveTrack.smooth(s.cpu, cpuNow, dt, windowNs) : cpuNow;
        s.wait = s.seen ? LiveTrack.smooth(s.wait, waitNow, dt, windowNs) : waitNow;
        s.seen = true;
      }
      s.demanding = s.activeTasks > 0 && s.wait > LiveTrack.RUNNABLE_WAIT_FLOOR_CPUS;
      if (s.demanding) {
        waitingCpu += s.cpu;
        waitingWeight += s.weight;
      }
    }
    if (dt > 0) {
      correct(waitingCpu, waitingWeight, (double) dt / windowNs);
    }

    // Hand out the VOD weight budget.
    int nrActive = 0;
    double tenantWeightSum = 0;
    for (TenantShare s : shares.values()) {
      if (s.activeTasks > 0) {
        nrActive += s.activeTasks;
        tenantWeightSum += s.weight * s.factor;
      }
    }
    double budget = (double) DEFAULT_WEIGHT * nrActive;
    for (TrackedJob j : vod) {
      TenantShare s = shares.get(j.spec().tenant());
      int active = activeTasks(j, activeSince);
      int w = DEFAULT_WEIGHT;
      if (active > 0) {
        double tenantBudget = budget * s.weight * s.factor / tenantWeightSum;
        w = clampWeight(tenantBudget * j.spec().weight() / s.activeJobWeight / active);
      }
      Hint fresh = Hint.of(SchedClass.NORMAL, w, settings.vodSliceUs());
      Hint first = null;
      for (TrackedTask t : j.tasks()) {
        Hint old = t.hint();
        boolean keep =
            old != null
                && old.schedClass() == SchedClass.NORMAL
                && old.sliceUs() == settings.vodSliceUs()
                && (t.lastActiveNs() < activeSince
                    || Math.abs(old.weight() - w) <= old.weight() * WEIGHT_DEADBAND);
        Hint h = keep ? old : fresh;
        out.hint(t, h);
        first = first == null ? h : first;
      }
      if (first != null) {
        cgroupHints(j, first, out); // follows a task's hint, so the dead band holds for it too
      }
    }
    shares.values().removeIf(s -> s.activeTasks == 0 && s.cpu < 1e-6 && s.wait < 1e-6);
  }

  /**
   * Moves each waiting tenant's factor toward its weighted share of what the waiting tenants got,
   * by a step proportional to the time passed; the others relax toward 1.
   */
  private void correct(double waitingCpu, long waitingWeight, double stepOfWindow) {
    double gain = settings.vodGainPct() / 100.0 * stepOfWindow;
    double logSum = 0;
    int n = 0;
    for (TenantShare s : shares.values()) {
      if (s.demanding && waitingWeight > 0 && waitingCpu > 0) {
        double target = waitingCpu * s.weight / waitingWeight;
        double ratio = target / Math.max(s.cpu, waitingCpu * 1e-3);
        s.factor *= Math.pow(ratio, gain);
        logSum += Math.log(s.factor);
        n++;
      } else {
        s.factor *= Math.pow(1 / s.factor, Math.min(1, stepOfWindow));
      }
    }
    // Only ratios between tenants matter: keep the waiting ones' geometric mean at 1.
    double norm = n > 0 ? Math.exp(-logSum / n) : 1;
    for (TenantShare s : shares.values()) {
      if (s.demanding) {
        s.factor = Math.clamp(s.factor * norm, 1 / MAX_FACTOR, MAX_FACTOR);
      }
    }
  }

  private TenantShare share(String tenant) {
    TenantShare s = shares.get(tenant);
    if (s == null) {
      s = new TenantShare(tenantWeights.getOrDefault(tenant, DEFAULT_WEIGHT));
      shares.put(tenant, s);
    }
    return s;
  }

  private static int activeTasks(TrackedJob j, long activeSince) {
    int n = 0;
    List<TrackedTask> tasks = j.tasks();
    for (int i = 0; i < tasks.size(); i++) {
      if (tasks.get(i).lastActiveNs() >= activeSince) {
        n++;
      }
    }
    return n;
  }

  private static int clampWeight(double w) {
    return (int) Math.clamp(Math.round(w), Hint.WEIGHT.min(), Hint.WEIGHT.max());
  }

  // ---- shared ----

  /** A job that selects whole cgroups also hints them, covering tasks not yet classified. */
  private static void cgroupHints(TrackedJob j, Hint h, PolicyOutput out) {
    if (!j.wholeCgroups()) {
      return;
    }
    for (TrackedTask t : j.tasks()) {
      if (t.cgroupId() != 0) {
        out.cgroupHint(t.cgroupId(), h);
      }
    }
  }

  /** The tenant share factor (for tests and metrics); 1 for a tenant not seen. */
  double tenantFactor(String tenant) {
    TenantShare s = shares.get(tenant);
    return s == null ? 1 : s.factor;
  }
}
