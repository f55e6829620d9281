package dev.baton.agent;

import dev.baton.agent.api.ApiServer;
import dev.baton.agent.api.Response;
import dev.baton.bpf.BpfException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code baton run}: the API server and the scheduler, started in that order (a busy port fails
 * before anything is attached) and stopped in reverse.
 */
final class Agent {

  private final RunOptions options;
  private final PrintStream out;
  private final PrintStream err;
  private final Scheduler scheduler;
  private final HintsApi hints = new HintsApi();
  private final PolicyDriver policy;

  Agent(RunOptions options, PrintStream out, PrintStream err, AtomicBoolean stop, PolicyDriver policy) {
    this.options = options;
    this.out = out;
    this.err = err;
    this.policy = policy;
    this.scheduler =
        new Scheduler(
            options,
            out,
            stop,
            w -> {
              hints.attach(w);
              policy.attach(w);
            },
            policy);
  }

  /** Runs until stopped or ejected; returns the process exit code. */
  int run() {
    try (ApiServer api = new ApiServer(options.api())) {
      api.route("GET", "/v1/status", req -> Response.ok(status()));
      hints.register(api);
      new JobsApi(policy).register(api);
      api.start();
      onHangup();
      out.println("baton: API on " + api.address());
      Scheduler.Exit exit = scheduler.run();
      if (exit.byUserSpace()) {
        out.println(
            "baton: detached ("
                + exit.kindName()
                + (exit.reason().isEmpty() ? "" : ": " + exit.reason())
                + ")");
        return Main.OK;
      }
      err.println("baton: the kernel ended the scheduler: " + exit.kindName() + ": " + exit.reason());
      if (!exit.message().isEmpty()) {
        err.println("baton:   " + exit.message());
      }
      return Main.EJECTED;
    } catch (BpfException | IOException e) {
      err.println("baton: " + e.getMessage());
      return Main.FAILED;
    } finally {
      dumpTasks();
    }
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
    status.put("policy_config", policy.configFile() == null ? null : policy.configFile().toString());
    status.putAll(policy.read(JobsApi::summary));
    status.put("events", s.events());
    status.put("tasks_live", s.liveTasks());
    return status;
  }

  /**
   * SIGHUP re-reads the policy config, as POST /v1/reload does. Through reflection, because javac
   * warns about sun.misc.Signal unsuppressibly; if the JDK lacks it, only the signal is missing.
   */
  private void onHangup() {
    if (policy.configFile() == null) {
      return;
    }
    Runnable reload =
        () -> {
          try {
            out.println("baton: SIGHUP: reloaded " + policy.configFile() + " (policy " + policy.reload().policy() + ")");
          } catch (dev.baton.policy.config.ConfigException e) {
            err.println("baton: SIGHUP: kept the running config: " + e.getMessage());
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
