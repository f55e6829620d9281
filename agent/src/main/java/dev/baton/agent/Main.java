package dev.baton.agent;

import dev.baton.bpf.BpfException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
  /** The kernel ended the scheduler (an error or the watchdog), not user space. */
  static final int EJECTED = 8;

  private static final String USAGE_TEXT =
      """
      usage: baton <command> [options]

      commands:
        check                      can Baton run here? exit 0 if so, else a code per problem:
                                   3 no sched_ext, 4 no BTF, 5 missing privileges,
                                   6 another sched_ext scheduler enabled, 7 libbpf missing/too old
        run [options]              load and attach the scheduler, follow task events, detach on
                                   SIGINT/SIGTERM (exit 0), or exit 8 if the kernel ejects it
            --slice-us [CLASS=]N   default time slice of every class, or of one, in
                                   microseconds (default 20000; repeatable)
            --stale-ms N           heartbeat age after which hints are ignored (default 2000)
            --starve-ms N          a class below live waiting this long on a CPU is served
                                   next (default 100; 0: off, which risks watchdog ejection)
            --timeout-ms N         kernel watchdog limit for a waiting task (default 0: the
                                   kernel's, 30000)
            --max-tasks N          live tasks tracked (default 65536)
            --tasks-out FILE       write the task table there when stopping
        vm [--cpus N] [--kernel V] [--timeout-s S] -- CMD...
                                   run CMD in a sched_ext test VM (bin/baton only)
        help                       this text
      """;

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
    }
  }

  private static int check(List<String> args, PrintStream out, PrintStream err) {
    if (!args.isEmpty()) {
      throw new UsageException("check takes no options");
    }
    List<Preflight.Problem> problems = Preflight.ofHost().problems();
    for (Preflight.Problem p : problems) {
      err.println("baton: " + p.message());
    }
    if (problems.isEmpty()) {
      out.println("baton: ok: this host can run Baton");
      return OK;
    }
    return problems.get(0).exitCode();
  }

  private static int runScheduler(List<String> args, PrintStream out, PrintStream err) {
    RunOptions options = RunOptions.parse(args);
    List<Preflight.Problem> problems = Preflight.ofHost().problems();
    if (!problems.isEmpty()) {
      problems.forEach(p -> err.println("baton: cannot run: " + p.message()));
      return problems.get(0).exitCode();
    }

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

    Scheduler scheduler = new Scheduler(options, out, stop, hints -> {});
    try {
      Scheduler.Exit exit = scheduler.run();
      if (exit.byUserSpace()) {
        out.println(
            "baton: detached ("
                + exit.kindName()
                + (exit.reason().isEmpty() ? "" : ": " + exit.reason())
                + ")");
        code[0] = OK;
      } else {
        err.println("baton: the kernel ended the scheduler: " + exit.kindName() + ": " + exit.reason());
        if (!exit.message().isEmpty()) {
          err.println("baton:   " + exit.message());
        }
        code[0] = EJECTED;
      }
    } catch (BpfException | IOException e) {
      err.println("baton: " + e.getMessage());
      code[0] = FAILED;
    } finally {
      if (options.tasksOut() != null) {
        try (Writer w = Files.newBufferedWriter(options.tasksOut(), StandardCharsets.UTF_8)) {
          scheduler.tasks().dump(w);
        } catch (IOException e) {
          err.println("baton: could not write " + options.tasksOut() + ": " + e.getMessage());
        }
      }
      returning.set(true);
      finished.countDown();
    }
    return code[0];
  }
}
