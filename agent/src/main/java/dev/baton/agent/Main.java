package dev.baton.agent;

import dev.baton.agent.api.ApiClient;
import dev.baton.agent.api.ApiOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** The {@code baton} command line. */
public final class Main {

  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;
  /** The kernel ended the scheduler (an error or the watchdog) too often in a row: given up. */
  static final int EJECTED = 8;
  /** The agent exited leaving the pinned scheduler attached for its successor (baton handover). */
  static final int HANDED_OVER = 9;

  private static final String USAGE_TEXT =
      """
      usage: baton <command> [options]

      commands:
        check                      can Baton run here? exit 0 if so, else a code per problem:
                                   3 no sched_ext, 4 no BTF, 5 missing privileges,
                                   6 another sched_ext scheduler enabled, 7 libbpf missing/too old,
                                   10 a pid namespace of its own (not the host's);
                                   notes what it will not apply (cgroup cpu.max, cpu.weight,
                                   cpu.idle), as run does when it starts
        run [options]              attach the scheduler (or adopt the one a previous agent left
                                   pinned), follow task events, detach on SIGINT/SIGTERM (exit 0);
                                   if the kernel ejects it, restart it with backoff, and exit 8
                                   after restart_max ejections in a row
            --config FILE          settings file (YAML; /etc/baton/baton.yaml when installed),
                                   checked before anything else; options below override it, and
                                   each tunable has the same name there (slice_us for --slice-us)
            --slice-us [CLASS=]N   default time slice of every class, or of one, in
                                   microseconds (default 20000; repeatable)
            --stale-ms N           heartbeat age after which hints are ignored (default 2000)
            --starve-ms N          a class below live waiting this long on a CPU is served
                                   next (default 100; 0: off, which risks watchdog ejection)
            --timeout-ms N         kernel watchdog limit for a waiting task (default 0: the
                                   kernel's, 30000)
            --sample-ms N          per-task runtime samples (CPU, waiting) at most this often
                                   (default 100)
            --max-tasks N          live tasks tracked (default 65536)
            --restart-max N, --restart-backoff-ms N
                                   restarts after ejections in a row (default 5), and the first
                                   wait, doubled each time (default 1000)
            --tasks-out FILE       write the task table there when stopping
            --listen HOST:PORT     control API and metrics address (default 127.0.0.1:9755), or
                                   unix:PATH, a Unix socket (mode 0600; not for Prometheus)
            --token-file FILE      bearer token (mode 0600); required off loopback
            --pin-dir DIR          bpffs directory that keeps the scheduler attached if the agent
                                   dies, for the next agent to adopt (default /sys/fs/bpf/baton)
            --no-pin               tie the scheduler's life to this process instead
            --policy-config FILE   policy config (YAML, policies/README.md)
        status [--api HOST:PORT] [--token-file FILE] [--timeout-s S]
                                   what the running agent reports; S bounds the wait (default 10)
        handover [--api HOST:PORT] [--token-file FILE] [--timeout-s S]
                                   the running agent exits (code 9) leaving the scheduler attached
                                   and pinned, for a new agent (an upgrade) to adopt without a gap
        reload [--api HOST:PORT] [--token-file FILE] [--timeout-s S]
                                   the running agent reads its config file and policy config
                                   again (as on SIGHUP); a file with a problem is refused (line
                                   and column) and nothing changes
        stop [--pin-dir DIR]       detach the pinned scheduler, whether or not an agent runs
      """
          + HintCommand.USAGE
          + JobCommand.USAGE
          + """
        vm [--cpus N] [--kernel V] [--timeout-s S] -- CMD...
                                   run CMD in a sched_ext test VM (bin/baton only)
        aot-cache                  make the JVM's AOT cache the launcher starts from (bin/baton
                                   only; the build runs it, deploy/install.sh makes its own)
        help                       this text
      --api, wherever it is taken, names what the agent's --listen did: HOST:PORT or unix:PATH.
      """;

  // Netty logs through java.util.logging; its start-up chatter (no MAC address in a VM, ...) is
  // not an operator's concern. Held here because JUL keeps loggers only weakly.
  private static final java.util.logging.Logger NETTY_LOG = java.util.logging.Logger.getLogger("io.netty");

  static {
    NETTY_LOG.setLevel(java.util.logging.Level.SEVERE);
  }

  private Main() {}

  public static void main(String[] argv) {
    System.exit(run(Arrays.asList(argv), System.out, System.err));
  }

  static int run(List<String> argv, PrintStream out, PrintStream err) {
    if (argv.isEmpty()) {
      err.print(USAGE_TEXT);
      return USAGE;
    }
    List<String> rest = argv.subList(1, argv.size());
    try {
      return switch (argv.get(0)) {
        case "check" -> check(rest, out, err);
        case "run" -> runScheduler(rest, out, err);
        case "status" -> call(rest, "GET", "/v1/status", out, err);
        case "hint" -> HintCommand.run(rest, out, err);
        case "job" -> JobCommand.run(rest, out, err);
        case "handover" -> call(rest, "POST", "/v1/handover", out, err);
        case "reload" -> JobCommand.reload(rest, out, err);
        case "stop" -> stop(rest, out, err);
        case "help", "--help", "-h" -> {
          out.print(USAGE_TEXT);
          yield OK;
        }
        default -> throw new UsageException("unknown command '" + argv.get(0) + "'");
      };
    } catch (UsageException e) {
      err.println("baton: " + e.getMessage());
      err.println("(baton help lists the commands)");
      return USAGE;
    } catch (ConfigException e) {
      err.println("baton: " + e.getMessage());
      return USAGE;
    }
  }

  private static int check(List<String> args, PrintStream out, PrintStream err) {
    if (!args.isEmpty()) {
      throw new UsageException("check takes no options");
    }
    Preflight preflight = Preflight.ofHost();
    List<Preflight.Problem> problems = preflight.problems();
    for (Preflight.Problem p : problems) {
      err.println("baton: " + p.message());
    }
    if (problems.isEmpty()) {
      out.println("baton: ok: this host can run Baton");
    }
    preflight.notes().forEach(n -> out.println("baton: note: " + n));
    return problems.isEmpty() ? OK : problems.get(0).exitCode();
  }

  private static int stop(List<String> args, PrintStream out, PrintStream err) {
    java.nio.file.Path dir = RunOptions.DEFAULT_PIN_DIR;
    for (int i = 0; i < args.size(); i++) {
      switch (args.get(i)) {
        case "--pin-dir" -> dir = RunOptions.path("--pin-dir", optionValue(args, ++i, "--pin-dir"));
        default -> throw new UsageException("unknown option for stop: " + args.get(i));
      }
    }
    try {
      if (!new Pins(dir).detach()) {
        err.println("baton: no pinned scheduler in " + dir + " (an agent run with --no-pin stops on SIGTERM)");
        return FAILED;
      }
      out.println("baton: detached the scheduler pinned in " + dir);
      return OK;
    } catch (dev.baton.bpf.BpfException | IOException e) {
      err.println("baton: " + e.getMessage());
      return FAILED;
    }
  }

  private static int call(
      List<String> args, String method, String path, PrintStream out, PrintStream err) {
    String api = ApiOptions.DEFAULT_HOST + ":" + ApiOptions.DEFAULT_PORT;
    java.nio.file.Path token = null;
    long timeoutS = DEFAULT_STATUS_TIMEOUT_S;
    for (int i = 0; i < args.size(); i++) {
      switch (args.get(i)) {
        case "--api" -> api = optionValue(args, ++i, "--api");
        case "--token-file" -> token = RunOptions.path("--token-file", optionValue(args, ++i, "--token-file"));
        case "--timeout-s" -> timeoutS = timeoutSeconds(optionValue(args, ++i, "--timeout-s"));
        default -> throw new UsageException("unknown option: " + args.get(i));
      }
    }
    try {
      ApiClient client = new ApiClient(api, token, java.time.Duration.ofSeconds(timeoutS));
      ApiClient.Reply reply = client.send(method, path, null);
      (reply.ok() ? out : err).println(reply.body());
      return reply.ok() ? OK : FAILED;
    } catch (IOException e) {
      err.println("baton: " + e.getMessage());
      return FAILED;
    }
  }

  // An idle host answers in milliseconds; an emulated test guest can take tens of seconds.
  static final long DEFAULT_STATUS_TIMEOUT_S = 10;

  static long timeoutSeconds(String v) {
    try {
      long s = Long.parseLong(v);
      if (s >= 1 && s <= 3600) {
        return s;
      }
    } catch (NumberFormatException e) {
      // falls through to the one message
    }
    throw new UsageException("--timeout-s takes whole seconds from 1 to 3600, not '" + v + "'");
  }

  static String optionValue(List<String> args, int i, String option) {
    if (i >= args.size()) {
      throw new UsageException(option + " needs a value");
    }
    return args.get(i);
  }

  private static int runScheduler(List<String> args, PrintStream out, PrintStream err) {
    RunOptions options = RunOptions.parse(args);
    options.checkHeap(Runtime.getRuntime().maxMemory());
    // Baton's own scheduler, left pinned by an agent that is gone, is adopted, not refused.
    boolean pinned = options.pinDir() != null && new Pins(options.pinDir()).hasLink();
    Preflight preflight = Preflight.ofHost();
    List<Preflight.Problem> problems = preflight.problems(pinned ? "baton" : null);
    if (!problems.isEmpty()) {
      problems.forEach(p -> err.println("baton: cannot run: " + p.message()));
      return problems.get(0).exitCode();
    }
    preflight.notes().forEach(n -> err.println("baton: note: " + n));

    // SIGINT/SIGTERM start the JVM's shutdown: the hook asks the event loop to stop, waits for
    // it to detach and report, then ends the process with the loop's own exit code.
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean returning = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    int[] code = {FAILED};
    Thread hook =
        new Thread(
            () -> {
              stop.set(true);
              if (returning.get()) {
                return;
              }
              try {
                finished.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              out.flush();
              err.flush();
              Runtime.getRuntime().halt(code[0]);
            },
            "baton-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);

    try {
      PolicyDriver policy;
      try {
        int cpus = HostCpus.online(HostCpus.ONLINE, Runtime.getRuntime().availableProcessors(), err);
        policy = PolicyDriver.of(options, cpus, System::nanoTime, out);
      } catch (dev.baton.policy.config.ConfigException e) {
        err.println("baton: " + e.getMessage());
        return USAGE;
      }
      code[0] = new Agent(options, args, out, err, stop, policy).run();
    } finally {
      returning.set(true);
      finished.countDown();
    }
    return code[0];
  }
}
