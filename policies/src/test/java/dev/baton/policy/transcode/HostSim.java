package dev.baton.policy.transcode;

import dev.baton.policy.FakeClock;
import dev.baton.policy.Hint;
import dev.baton.policy.PolicyEngine;
import dev.baton.policy.TrackedTask;
import java.util.ArrayList;
import java.util.List;

/**
 * A discrete-time host for tests: every millisecond it shares its CPUs among the runnable tasks in
 * proportion to the weights the engine last handed out (a task uses at most one CPU), the way a
 * weighted fair scheduler would on average. It feeds the engine runtime samples and ticks it.
 */
final class HostSim {

  /** A simulated thread: work arrives in bursts, and it is runnable while work is left. */
  static final class SimTask {
    final int pid;
    final double burstMs; // work that arrives each period, in CPU ms; infinite for a busy thread
    final int periodMs;
    double backlogMs;
    double cpuMs; // since the last sample
    double waitMs;
    double totalCpuMs;

    SimTask(int pid, double burstMs, int periodMs) {
      this.pid = pid;
      this.burstMs = burstMs;
      this.periodMs = periodMs;
    }
  }

  static final int STEP_MS = 1;

  final int nrCpus;
  final PolicyEngine engine;
  final FakeClock clock;
  final List<SimTask> tasks = new ArrayList<>();
  final int sampleEveryMs;
  final int tickEveryMs;
  long elapsedMs;

  HostSim(int nrCpus, PolicyEngine engine, FakeClock clock, int sampleEveryMs, int tickEveryMs) {
    this.nrCpus = nrCpus;
    this.engine = engine;
    this.clock = clock;
    this.sampleEveryMs = sampleEveryMs;
    this.tickEveryMs = tickEveryMs;
  }

  SimTask busy(int pid) {
    SimTask t = new SimTask(pid, Double.POSITIVE_INFINITY, 1);
    tasks.add(t);
    return t;
  }

  SimTask bursty(int pid, double burstMs, int periodMs) {
    SimTask t = new SimTask(pid, burstMs, periodMs);
    tasks.add(t);
    return t;
  }

  void run(long ms) {
    List<SimTask> runnable = new ArrayList<>();
    for (long end = elapsedMs + ms; elapsedMs < end; elapsedMs += STEP_MS) {
      runnable.clear();
      for (SimTask t : tasks) {
        if (Double.isInfinite(t.burstMs)) {
          t.backlogMs = Double.POSITIVE_INFINITY;
        } else if ((elapsedMs + t.pid) % t.periodMs == 0) {
          t.backlogMs += t.burstMs;
        }
        if (t.backlogMs > 1e-9) {
          runnable.add(t);
        }
      }
      share(runnable);
      clock.advanceMs(STEP_MS);
      if ((elapsedMs + STEP_MS) % sampleEveryMs == 0) {
        for (SimTask t : tasks) {
          engine.runtimeSample(t.pid, Math.round(t.cpuMs * 1e6), Math.round(t.waitMs * 1e6), 1);
          t.cpuMs = 0;
          t.waitMs = 0;
        }
      }
      if ((elapsedMs + STEP_MS) % tickEveryMs == 0) {
        engine.tick();
      }
    }
  }

  /** Weighted water-filling of one step's CPU time; each task is capped by one CPU and its work. */
  private void share(List<SimTask> runnable) {
    double capacity = nrCpus * (double) STEP_MS;
    List<SimTask> open = new ArrayList<>(runnable);
    double[] given = new double[runnable.size()];
    boolean capped = true;
    while (capped && !open.isEmpty() && capacity > 1e-12) {
      capped = false;
      double weights = 0;
      for (SimTask t : open) {
        weights += weight(t);
      }
      double perWeight = capacity / weights;
      for (int i = open.size() - 1; i >= 0; i--) {
        SimTask t = open.get(i);
        double cap = Math.min(STEP_MS, t.backlogMs);
        if (weight(t) * perWeight >= cap) {
          given[runnable.indexOf(t)] = cap;
          capacity -= cap;
          open.remove(i);
          capped = true;
        }
      }
      if (!capped) {
        for (SimTask t : open) {
          given[runnable.indexOf(t)] = weight(t) * perWeight;
        }
      }
    }
    for (int i = 0; i < runnable.size(); i++) {
      SimTask t = runnable.get(i);
      t.cpuMs += given[i];
      t.totalCpuMs += given[i];
      t.waitMs += Math.min(STEP_MS, t.backlogMs) - given[i];
      t.backlogMs -= given[i];
    }
  }

  private int weight(SimTask t) {
    Hint h = engine.task(t.pid).map(TrackedTask::hint).orElse(null);
    return h == null ? 100 : h.weight();
  }
}
