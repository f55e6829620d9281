package dev.baton.policy.transcode;

import dev.baton.policy.LiveSpec;
import dev.baton.policy.Reason;
import dev.baton.policy.TrackedJob;

/**
 * What the transcode policy remembers about one live job between ticks: smoothed CPU, wait and
 * frame rates over the judging window, the lag level it has reached, and whether it is admitted.
 */
final class LiveTrack {

  /**
   * A job whose tasks waited for a CPU less than this (in CPUs: 0.02 = 2% of one CPU's time) was
   * not held back by scheduling: if it is slow, its input or its own code is to blame, and
   * tightening its hints would only hurt others.
   */
  static final double RUNNABLE_WAIT_FLOOR_CPUS = 0.02;

  /** On-time windows needed before a lag level is given back (hysteresis against flapping). */
  static final int RELAX_WINDOWS = 4;

  /** Frame reports older than this many windows are not judged by: the job stopped reporting. */
  static final int STALE_FRAME_WINDOWS = 4;

  double cpu; // CPUs received, smoothed
  double wait; // CPUs' worth of runnable-but-waiting time, smoothed
  double wakeups; // wakeups a second, smoothed
  double fps = Double.NaN; // frames a second, from reports; NaN before two reports
  long framesSeen;
  long framesSeenNs = Long.MIN_VALUE;
  long ageNs;
  int level;
  long levelChangedNs = Long.MIN_VALUE;
  long onTimeSinceNs = Long.MIN_VALUE;
  boolean lagging;
  boolean admitted = true;
  double demandCpus = Double.NaN;
  // A job of unknown cost that yielded in an overload: the CPUs it was runnable on then (what
  // must fit before it is tried again), when, and how often it has yielded.
  double yieldedCpu;
  long readmitNs;
  int yields;
  Reason yieldReason;
  Reason reason = Reason.of("measuring");

  /** Folds in the interval that just ended. */
  void observe(TrackedJob job, long nowNs, long dtNs, long windowNs) {
    if (job.framesReportedNs() != framesSeenNs) {
      if (framesSeenNs != Long.MIN_VALUE && job.framesReportedNs() > framesSeenNs) {
        long span = job.framesReportedNs() - framesSeenNs;
        double rate = (job.framesDone() - framesSeen) * 1e9 / span;
        fps = Double.isNaN(fps) ? rate : smooth(fps, rate, span, windowNs);
      }
      framesSeen = job.framesDone();
      framesSeenNs = job.framesReportedNs();
    }
    if (dtNs <= 0) {
      return;
    }
    double cpuNow = (double) job.recentCpuNs() / dtNs;
    double waitNow = (double) job.recentWaitNs() / dtNs;
    double wakeupsNow = job.recentWakeups() * 1e9 / dtNs;
    if (ageNs == 0) {
      cpu = cpuNow;
      wait = waitNow;
      wakeups = wakeupsNow;
    } else {
      cpu = smooth(cpu, cpuNow, dtNs, windowNs);
      wait = smooth(wait, waitNow, dtNs, windowNs);
      wakeups = smooth(wakeups, wakeupsNow, dtNs, windowNs);
    }
    ageNs += dtNs;
  }

  /**
   * Mean time in ns from a wakeup to the next sleep, running or waiting for a CPU: a frame's
   * response time when the job wakes once a frame; infinite for a job that woke less than once a
   * window (busy without sleeping: the smoothed rate of a job that stopped waking only decays
   * towards 0, and divided by, gave responses of 10^15 ms).
   */
  double responseNs(long windowNs) {
    return perWakeupNs(cpu + wait, windowNs);
  }

  /**
   * Mean CPU time in ns a task of the job runs from a wakeup to its next sleep; infinite for a job
   * that woke less than once a window, as in {@link #responseNs}.
   */
  double burstNs(long windowNs) {
    return perWakeupNs(cpu, windowNs);
  }

  /** {@code cpus} (a share of CPUs, smoothed) in ns per wakeup; infinite below one a window. */
  private double perWakeupNs(double cpus, long windowNs) {
    return wakeups * windowNs >= 1e9 ? cpus * 1e9 / wakeups : Double.POSITIVE_INFINITY;
  }

  /** Whether frame reports are recent enough to judge by. */
  boolean framesFresh(long nowNs, long windowNs) {
    return !Double.isNaN(fps) && nowNs - framesSeenNs <= STALE_FRAME_WINDOWS * windowNs;
  }

  /**
   * CPU per frame in ns: measured from frame reports when there are fresh ones and a window's worth
   * of samples, else declared; NaN when neither.
   */
  double frameCostNs(LiveSpec live, long nowNs, long windowNs) {
    if (ageNs >= windowNs && framesFresh(nowNs, windowNs) && fps > 0) {
      return cpu * 1e9 / fps;
    }
    return live.frameCostUs() > 0 ? live.frameCostNs() : Double.NaN;
  }

  /** Exponential smoothing with time constant {@code windowNs}, exact for any step length. */
  static double smooth(double old, double sample, long stepNs, long windowNs) {
    double keep = Math.exp(-(double) stepNs / windowNs);
    return old * keep + sample * (1 - keep);
  }
}
