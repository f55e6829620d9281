package dev.baton.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs commands through the project's launcher: {@code bin/baton vm -- ...} and friends. */
final class Vm {

  /** What a command printed (stdout and stderr interleaved) and how it exited. */
  record Result(int exitCode, String output) {
    /** The key=value lines a guest script printed, first occurrence of each key. */
    Map<String, String> facts() {
      Map<String, String> facts = new LinkedHashMap<>();
      for (String line : output.lines().toList()) {
        int eq = line.indexOf('=');
        if (eq > 0 && line.substring(0, eq).matches("[a-z_]+")) {
          facts.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      return facts;
    }

    /** Lines that start with prefix + '|', without the prefix. */
    List<String> section(String prefix) {
      return output.lines()
          .filter(l -> l.startsWith(prefix + "|"))
          .map(l -> l.substring(prefix.length() + 1))
          .toList();
    }
  }

  static Path root() {
    String root = System.getProperty("baton.root");
    if (root == null) {
      throw new IllegalStateException("system property baton.root is not set (run through Maven)");
    }
    return Path.of(root);
  }

  /** What run.sh says when qemu itself died while the guest's command ran. */
  static final String QEMU_CRASHED_MID_RUN = "after the command started: an emulator failure";

  /** What run.sh adds when the guest kernel's oops was qemu running code already patched. */
  static final String STALE_PATCH_BREAKPOINT = "stale code-patching breakpoint in kernel text";

  /** Runs {@code bin/baton vm [vmArgs] -- cmd...} from the project root. */
  static Result guest(List<String> vmArgs, Duration timeout, String... cmd) {
    return guest(Map.of(), vmArgs, timeout, cmd);
  }

  /** Like {@link #guest(List, Duration, String...)}, with variables added to the environment. */
  static Result guest(Map<String, String> env, List<String> vmArgs, Duration timeout, String... cmd) {
    return rerunIfQemuCrashed(env, timeout, List.of("bin/baton", "vm"), vmArgs, cmd);
  }

  /**
   * Like {@link #guest}, for a test that measures deadlines: the VM runs in a session of its own
   * whose CPU share on the host is raised (autogroup nice -15, as {@code make demo} does; root
   * only, otherwise it runs at the default share), so that other work on the host steals less
   * from the guest's vCPUs while it measures.
   */
  static Result measuringGuest(List<String> vmArgs, Duration timeout, String... cmd) {
    List<String> launcher =
        List.of(
            "setsid", "-w", "bash", "-c",
            "echo \"$0\" >/proc/self/autogroup 2>/dev/null; exec \"$@\"", "-15",
            "bin/baton", "vm");
    return rerunIfQemuCrashed(Map.of(), timeout, launcher, vmArgs, cmd);
  }

  /**
   * Runs the guest command, and once more if the emulator failed while it ran: qemu itself
   * crashed (run.sh boots again by itself only when the command had not started), or the guest
   * kernel oopsed on a breakpoint its code patching had already removed (run.sh names it). An
   * emulator failure says nothing of Baton, and every test's guest command starts from a fresh
   * guest and writes only its own output, so a second run is safe; its result is the one
   * returned, the first run's output stays in the log. A second failure is the result.
   */
  private static Result rerunIfQemuCrashed(
      Map<String, String> env, Duration timeout, List<String> launcher, List<String> vmArgs, String... cmd) {
    List<String> argv = new ArrayList<>(launcher);
    argv.addAll(vmArgs);
    argv.add("--timeout-s");
    argv.add(Long.toString(timeout.toSeconds()));
    argv.add("--");
    argv.addAll(List.of(cmd));
    Result r = host(env, timeout.plusSeconds(60), argv.toArray(String[]::new));
    boolean emulatorFailed =
        r.exitCode() == 125 && r.output().contains(QEMU_CRASHED_MID_RUN)
            || r.exitCode() == 123 && r.output().contains(STALE_PATCH_BREAKPOINT);
    if (emulatorFailed) {
      System.out.println("vm: the emulator failed while the guest command ran (above); running it once more");
      r = host(env, timeout.plusSeconds(60), argv.toArray(String[]::new));
    }
    return r;
  }

  /** Runs a command on the host from the project root; output is echoed for the test log. */
  static Result host(Duration timeout, String... argv) {
    return host(Map.of(), timeout, argv);
  }

  /** Like {@link #host(Duration, String...)}, with variables added to the environment. */
  static Result host(Map<String, String> env, Duration timeout, String... argv) {
    try {
      ProcessBuilder pb = new ProcessBuilder(argv).directory(root().toFile()).redirectErrorStream(true);
      pb.environment().putAll(env);
      Process p = pb.start();
      p.getOutputStream().close();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Thread reader =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try (InputStream in = p.getInputStream()) {
                      byte[] buf = new byte[8192];
                      int n;
                      while ((n = in.read(buf)) > 0) {
                        System.out.write(buf, 0, n);
                        synchronized (out) {
                          out.write(buf, 0, n);
                        }
                      }
                    } catch (IOException e) {
                      throw new UncheckedIOException(e);
                    }
                  });
      if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", argv) + " did not finish in " + timeout);
      }
      reader.join();
      synchronized (out) {
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private Vm() {}
}
