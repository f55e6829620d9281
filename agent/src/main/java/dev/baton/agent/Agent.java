package dev.baton.agent;

import dev.baton.agent.api.ApiException;
import dev.baton.agent.api.ApiServer;
import dev.baton.agent.api.Response;
import dev.baton.agent.metrics.AgentReadings;
import dev.baton.agent.metrics.Metrics;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.abi.BatonStat;
import dev.baton.policy.JobClass;
import dev.baton.policy.config.ConfigParser;
import dev.baton.policy.config.PolicyConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code baton run}: the API server (control API and metrics), then the scheduler, stopped in
 * reverse order. A busy port fails before anything is attached.
 *
 * <p>When the kernel ejects the scheduler (an error, or its watchdog), every task is already back
 * on the default scheduler; the agent reports why and attaches a new one after a backoff that
 * doubles each time, up to restart_max times in a row, then gives up with exit code 8.
 */
final class Agent implements AgentReadings {

  /** A run that lasted this long was healthy: the next ejection starts the count afresh. */
  private static final long HEALTHY_RUN_NS = 10 * 60 * 1_000_000_000L;

  /** How long a scrape's reading of the host's cgroup controls stands. */
  private static final long CGROUP_CONTROLS_EVERY_NS = 60_000_000_000L;

  private final RunOptions options;
  private final List<String> args;
  /** The settings a reload may change while running ({@link Tunable#reloadable()}); the rest need a restart. */
  private volatile RunOptions live;
  private final PrintStream out;
  private final PrintStream err;
  private final AtomicBoolean stop;
  private final AtomicBoolean handover = new AtomicBoolean();
  private final BpfStats bpfStats = new BpfStats();
  private final ServiceNotifier service;
  private final Scheduler scheduler;
  private final HintsApi hints = new HintsApi();
  private final PolicyDriver policy;
  // For the metrics: the host's cgroup CPU controls, read on a scrape at most once a minute
  // (containers come and go; a read is three small files per cgroup). Its own lock: a scrape
  // that reads them must not hold up a reload.
  private final Preflight host = Preflight.ofHost();
  private final Object cgroupControlsLock = new Object();
  private Map<String, List<String>> cgroupControls = Map.of();
  private long cgroupControlsDueNs = System.nanoTime();
  /** Where API jobs are kept across restarts; null until run() opens it, or without jobs_file. */
  private JobStore jobStore;
  private volatile String lastExit = "";
  private volatile int restarts;

  Agent(RunOptions options, PrintStream out, PrintStream err, AtomicBoolean stop, PolicyDriver policy) {
    this(
        options,
        options.configFile() == null ? List.of() : List.of("--config", options.configFile().toString()),
        out,
        err,
        stop,
        policy);
  }

  /** @param args the command line the options came from, parsed again on reload */
  Agent(
      RunOptions options, List<String> args, PrintStream out, PrintStream err, AtomicBoolean stop, PolicyDriver policy) {
    this.options = options;
    this.policy = policy;
    this.args = List.copyOf(args);
    this.live = options;
    this.out = out;
    this.err = err;
    this.stop = stop;
    this.service = ServiceNotifier.fromEnvironment(err);
    this.scheduler =
        new Scheduler(
            options,
            out,
            stop,
            handover,
            bpfStats,
            w -> {
              hints.attach(w);
              policy.attach(w);
              if (w != null) {
                service.ready("scheduling");
              }
            },
            service::loopTurn,
            policy);
  }

  /** Runs until stopped or given up; returns the process exit code. */
  int run() {
    try (JobStore store = options.jobsFile() == null ? null : JobStore.open(options.jobsFile(), out);
        Metrics metrics = new Metrics(BatonStat.VALUES, Scheduler.CLASSES, bpfStats, this);
        ApiServer api = new ApiServer(options.api());
        service) {
      if (store != null) {
        for (dev.baton.policy.Job j : store.restored()) { // before the API answers or hints are written
          try {
            policy.registerJob(j);
          } catch (dev.baton.policy.PolicyEngine.JobLimitException e) {
            out.println("baton: job " + j.id() + " not restored: " + e.getMessage());
          }
        }
      }
      jobStore = store;
      routes(api, metrics);
      api.start();
      onHangup();
      out.println("baton: API on " + api.where());
      return superviseScheduler(metrics);
    } catch (BpfException | IOException e) {
      err.println("baton: " + e.getMessage());
      return Main.FAILED;
    } finally {
      dumpTasks();
    }
  }

  /** The agent's endpoints; a refused request changes nothing. */
  void routes(ApiServer api, Metrics metrics) {
    api.route("GET", "/v1/status", req -> Response.ok(status()));
    api.route("GET", "/metrics", req -> Response.text(200, Metrics.CONTENT_TYPE, metrics.scrape()));
    api.route("POST", "/v1/reload", req -> reload());
    hints.register(api);
    new JobsApi(policy, jobStore).register(api);
    api.route(
        "POST",
        "/v1/handover",
        req -> {
          if (options.pinDir() == null) {
            throw new ApiException(409, "handover needs pinning (this agent runs with --no-pin)");
          }
          if (req.body().length != 0) {
            throw ApiException.badRequest("handover takes no body");
          }
          handover.set(true);
          stop.set(true);
          return Response.ok(Map.of("handover", "the agent exits and leaves the scheduler attached"));
        });
  }

  /**
   * The one reload (POST /v1/reload, SIGHUP, ExecReload): reads the agent's config file and the
   * policy config again. A file with a problem is refused (400, with its line and column) and
   * nothing changes; otherwise the new policy config and the reloadable tunables (slice_us,
   * stale_ms, starve_ms, sample_ms, restart_*, handover_grace_ms) apply at once and the reply
   * lists the changed settings that take a restart (max_tasks, timeout_ms, the API's address...).
   * A starve_ms that does not fit the running watchdog's timeout_ms is refused like a bad file.
   */
  synchronized Response reload() {
    if (options.configFile() == null && policy.source() == null) {
      throw new ApiException(409, "started without --config or --policy-config: there is no file to reload");
    }
    RunOptions next;
    try {
      next = options.configFile() == null ? live : RunOptions.parse(args);
    } catch (ConfigException | UsageException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    RunOptions now = live;
    List<String> applied = new ArrayList<>();
    List<String> needsRestart = new ArrayList<>();
    Map<Tunable, Long> tunables = new EnumMap<>(now.tunables());
    for (Tunable t : Tunable.values()) {
      if (next.get(t) != now.get(t)) {
        if (t.reloadable()) {
          tunables.put(t, next.get(t));
          applied.add(t.key());
        } else {
          needsRestart.add(t.key());
        }
      }
    }
    try { // starve_ms against the watchdog the running scheduler was attached with
      RunOptions.checkGuardBeforeWatchdog(tunables);
    } catch (UsageException e) {
      throw ApiException.badRequest(e.getMessage() + " (timeout_ms takes a restart)");
    }
    if (!next.api().equals(now.api())) {
      needsRestart.add("listen/token_file");
    }
    if (!java.util.Objects.equals(next.pinDir(), now.pinDir())) {
      needsRestart.add("pin/pin_dir");
    }
    if (!java.util.Objects.equals(next.tasksOut(), now.tasksOut())) {
      needsRestart.add("tasks_out");
    }
    if (!java.util.Objects.equals(next.jobsFile(), now.jobsFile())) {
      needsRestart.add("jobs_file");
    }
    // The policy config: its file, else the config file's policy: section, else (if there was
    // one before) the default; a switch between them applies at once too.
    // Without a config file, the policy file is the one the driver runs.
    Path file = options.configFile() == null ? policy.configFile() : next.policyConfig();
    PolicyConfig cfg = next.policy();
    if (file != null) {
      try {
        cfg = ConfigParser.parse(file); // a refused file keeps the running policy
      } catch (dev.baton.policy.config.ConfigException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    }
    if (cfg == null && policy.source() != null) {
      cfg = PolicyConfig.DEFAULT;
    }
    Map<String, Object> reply = new LinkedHashMap<>();
    if (cfg != null) {
      policy.reload(cfg, file, file != null ? file.toString() : next.policySource());
      reply.put("policy", cfg.policy());
      reply.put("rules", cfg.rules().size());
      reply.put("tenants", cfg.tenants().size());
    }
    live = now.withTunables(tunables); // (--slice-us CLASS=N is the command line's: it stays)
    scheduler.retune(live);
    out.println(
        "baton: reloaded"
            + (applied.isEmpty() ? "" : "; applied " + String.join(", ", applied))
            + (needsRestart.isEmpty() ? "" : "; take a restart: " + String.join(", ", needsRestart)));
    reply.put("applied", applied);
    reply.put("needs_restart", needsRestart);
    return Response.ok(reply);
  }

  /** The settings in force (for tests). */
  RunOptions liveOptions() {
    return live;
  }

  /** Whether a handover was requested (for tests). */
  boolean handoverRequested() {
    return handover.get();
  }

  private int superviseScheduler(Metrics metrics) throws BpfException, IOException {
    int failures = 0;
    while (true) {
      long started = System.nanoTime();
      Scheduler.Exit exit = scheduler.run();
      if (exit == Scheduler.HANDED_OVER) {
        service.stopping();
        out.println("baton: exiting with the scheduler left attached for the next agent (pinned in " + options.pinDir() + ")");
        return Main.HANDED_OVER;
      }
      if (exit.restartAsked() && !stop.get()) {
        // Not an ejection, so not counted against restart_max: the kernel cannot follow a change
        // without a new scheduler and asks for one. Baton's follows CPU hotplug itself; a
        // scheduler without the hotplug callbacks (a test build, or a kernel that asks for
        // another reason) ends up here. The pause lets a burst of such changes (CPUs brought
        // online one by one) end in one attach, not one each.
        long pauseMs = live.get(Tunable.RESTART_BACKOFF_MS);
        String why = exit.message().isBlank() ? exit.reason() : exit.message().strip();
        out.println(
            "baton: the kernel ended the scheduler and asks for it again ("
                + exit.kindName() + ": " + why + "); attaching again in " + pauseMs + " ms");
        service.status("re-attaching: " + why);
        if (!sleepUnlessStopped(pauseMs)) {
          return Main.OK;
        }
        restarts++;
        metrics.restarted();
        continue;
      }
      if (exit.byUserSpace()) {
        service.stopping();
        out.println(
            "baton: detached ("
                + exit.kindName()
                + (exit.reason().isEmpty() ? "" : ": " + exit.reason())
                + ")");
        return Main.OK;
      }
      lastExit = exit.kindName() + ": " + exit.reason();
      metrics.ejected(exit.kindName());
      err.println("baton: the kernel ended the scheduler: " + lastExit);
      if (!exit.message().isEmpty()) {
        err.println("baton:   " + exit.message().strip().replace("\n", "\nbaton:   "));
      }
      // The kernel's state at the time, with Baton's view of each runnable task: what a report
      // of the ejection needs.
      exit.dump().lines().forEach(l -> err.println("baton: dump: " + l));
      err.println("baton: every task is back on the kernel's default scheduler");
      failures = System.nanoTime() - started > HEALTHY_RUN_NS ? 1 : failures + 1;
      long max = live.get(Tunable.RESTART_MAX);
      if (failures > max) {
        err.println(
            "baton: giving up: the scheduler was ejected "
                + failures
                + " times in a row (restart_max "
                + max
                + "); last: "
                + lastExit
                + ". Tasks stay on the default scheduler; fix the cause and start baton again.");
        service.status("gave up after " + failures + " ejections: " + lastExit);
        return Main.EJECTED;
      }
      long backoffMs = live.get(Tunable.RESTART_BACKOFF_MS) << Math.min(failures - 1, 20);
      err.printf("baton: restarting the scheduler in %d ms (restart %d of %d)%n", backoffMs, failures, max);
      service.status("ejected (" + lastExit + "); restart " + failures + " of " + max + " in " + backoffMs + " ms");
      if (!sleepUnlessStopped(backoffMs)) {
        return Main.EJECTED;
      }
      restarts++;
      metrics.restarted();
    }
  }

  /** Sleeps in short steps, pinging the service watchdog; false if asked to stop meanwhile. */
  private boolean sleepUnlessStopped(long ms) {
    long end = System.nanoTime() + ms * 1_000_000;
    while (!stop.get() && System.nanoTime() < end) {
      service.loopTurn();
      try {
        Thread.sleep(Math.min(100, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return !stop.get();
  }

  private Map<String, Object> status() {
    Scheduler.Snapshot s = scheduler.snapshot();
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("scheduler", s.attached() ? "attached" : "detached");
    status.put("sched_ext_state", read("/sys/kernel/sched_ext/state"));
    status.put("sched_ext_ops", read("/sys/kernel/sched_ext/root/ops"));
    status.put("kernel", read("/proc/sys/kernel/osrelease"));
    status.put("uptime_s", ManagementFactory.getRuntimeMXBean().getUptime() / 1000);
    status.put("policy", policy.policyName());
    status.put("cpus", policy.nrCpus());
    status.put("policy_config", policy.source());
    status.put("policy_failures", policy.failures());
    status.put("policy_off", policy.off()); // null while it runs
    status.putAll(policy.read(JobsApi::summary));
    status.put("pinned", options.pinDir() != null);
    status.putAll(scheduler.tuning()); // slice_us, timings, handover_grace_ms: what the BPF side holds
    status.put("restarts", restarts);
    status.put("last_exit", lastExit);
    status.put("events", s.events());
    status.put("tasks_live", s.liveTasks());
    status.put("tasks_dropped", s.droppedTasks());
    return status;
  }

  /**
   * SIGHUP does what POST /v1/reload does. Through reflection, because javac warns about
   * sun.misc.Signal unsuppressibly; if the JDK lacks it, only the signal is missing.
   */
  private void onHangup() {
    if (options.configFile() == null && policy.source() == null) {
      return;
    }
    Runnable reload =
        () -> {
          try {
            out.println("baton: SIGHUP: reloaded " + new String(reload().body(), StandardCharsets.UTF_8));
          } catch (ApiException e) {
            err.println("baton: SIGHUP: kept the running config: " + e.getMessage());
          } catch (RuntimeException e) {
            err.println("baton: SIGHUP: " + e.getMessage()); // the policy failed as it started
          }
        };
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object h =
          java.lang.reflect.Proxy.newProxyInstance(
              handler.getClassLoader(),
              new Class<?>[] {handler},
              (proxy, method, args) -> {
                if (method.getName().equals("handle")) {
                  reload.run();
                }
                return null;
              });
      signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class).newInstance("HUP"), h);
    } catch (ReflectiveOperationException | RuntimeException e) {
      err.println("baton: SIGHUP will not reload (" + e + "); use baton reload");
    }
  }

  // AgentReadings, for the metrics: published fields, read at scrape time.

  @Override
  public long eventsReceived() {
    return scheduler.snapshot().events();
  }

  @Override
  public long hintsWritten() {
    return scheduler.hintCounts().written();
  }

  @Override
  public long hintsRefused() {
    return scheduler.hintCounts().refused();
  }

  @Override
  public long tasksTracked() {
    return scheduler.snapshot().liveTasks();
  }

  @Override
  public long tasksDropped() {
    return scheduler.snapshot().droppedTasks();
  }

  @Override
  public long jobs(String jobClass) {
    return policy.jobs(JobClass.fromConfigName(jobClass));
  }

  @Override
  public long liveDeadlineMisses() {
    return policy.liveFramesMissed();
  }

  @Override
  public long abandonedRegexSearches() {
    return policy.cmdlineRegexGiveUps();
  }

  @Override
  public long policyFailures() {
    return policy.failures();
  }

  @Override
  public long unappliedCgroups(String control) {
    return cgroupControls().getOrDefault(control, List.of()).size();
  }

  private Map<String, List<String>> cgroupControls() {
    synchronized (cgroupControlsLock) {
      long now = System.nanoTime();
      if (now - cgroupControlsDueNs >= 0) {
        cgroupControls = host.cgroupControls();
        cgroupControlsDueNs = now + CGROUP_CONTROLS_EVERY_NS;
      }
      return cgroupControls;
    }
  }

  @Override
  public boolean schedulerEnabled() {
    return scheduler.snapshot().attached();
  }

  private static String read(String path) {
    try {
      return Files.readString(Path.of(path)).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private void dumpTasks() {
    if (options.tasksOut() == null) {
      return;
    }
    try (Writer w = Files.newBufferedWriter(options.tasksOut(), StandardCharsets.UTF_8)) {
      scheduler.tasks().dump(w);
    } catch (IOException e) {
      err.println("baton: could not write " + options.tasksOut() + ": " + e.getMessage());
    }
  }
}
