package dev.baton.agent;

import dev.baton.bpf.BpfException;
import dev.baton.bpf.Libbpf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether Baton can run on this host, and if not, exactly why. Every problem has its own exit
 * code so that scripts and systemd conditions can tell them apart; the first problem found in
 * the order below decides the code, because later checks mean little without the earlier ones.
 *
 * <p>Reads the kernel's view through a root directory (normally "/") so tests can give it a fake
 * sysfs and procfs.
 */
public final class Preflight {

  /** One reason Baton cannot run, with the exit code {@code baton check} returns for it. */
  public record Problem(int exitCode, String message) {}

  public static final int NO_SCHED_EXT = 3;
  public static final int NO_BTF = 4;
  public static final int NO_PRIVILEGES = 5;
  public static final int OTHER_SCHEDULER = 6;
  public static final int NO_LIBBPF = 7;

  static final int MIN_LIBBPF_MAJOR = 1;
  static final int MIN_LIBBPF_MINOR = 4;

  static final int CAP_SYS_ADMIN = 21;
  static final int CAP_PERFMON = 38;
  static final int CAP_BPF = 39;

  private final Path root;
  private final Supplier<String> libbpfVersion;

  public Preflight(Path root, Supplier<String> libbpfVersion) {
    this.root = root;
    this.libbpfVersion = libbpfVersion;
  }

  /** Checks the running host, loading libbpf to learn its version. */
  public static Preflight ofHost() {
    return new Preflight(
        Path.of("/"),
        () -> {
          try {
            return Libbpf.version();
          } catch (BpfException | LinkageError e) {
            return null;
          }
        });
  }

  /** Every problem found, most fundamental first; empty when Baton can run. */
  public List<Problem> problems() {
    return problems(null);
  }

  /**
   * Like {@link #problems()}, except that an enabled scheduler named {@code adoptable} is not a
   * problem: it is Baton's own, pinned by an agent that is gone, and will be adopted.
   */
  public List<Problem> problems(String adoptable) {
    List<Problem> problems = new ArrayList<>();
    Path scx = root.resolve("sys/kernel/sched_ext");
    if (!Files.isDirectory(scx)) {
      problems.add(
          new Problem(
              NO_SCHED_EXT,
              "this kernel ("
                  + kernelRelease()
                  + ") has no sched_ext: Baton needs Linux 6.12+ built with"
                  + " CONFIG_SCHED_CLASS_EXT=y (/sys/kernel/sched_ext is missing)"));
    }
    if (!Files.isReadable(root.resolve("sys/kernel/btf/vmlinux"))) {
      problems.add(
          new Problem(
              NO_BTF,
              "the kernel exposes no BTF (/sys/kernel/btf/vmlinux): Baton needs"
                  + " CONFIG_DEBUG_INFO_BTF=y to load a CO-RE BPF program"));
    }
    List<String> missingCaps = missingCapabilities();
    if (!missingCaps.isEmpty()) {
      problems.add(
          new Problem(
              NO_PRIVILEGES,
              "missing privileges: "
                  + String.join(", ", missingCaps)
                  + " (run as root, or give the service these capabilities)"));
    }
    if (Files.isDirectory(scx)) {
      otherScheduler(scx)
          .filter(other -> adoptable == null || !other.startsWith(adoptable + " ("))
          .ifPresent(
              name ->
                  problems.add(
                      new Problem(
                          OTHER_SCHEDULER,
                          "another sched_ext scheduler is enabled: '"
                              + name
                              + "'; stop it first (Baton will not replace it)")));
    }
    String version = libbpfVersion.get();
    if (version == null) {
      problems.add(
          new Problem(
              NO_LIBBPF,
              "libbpf (libbpf.so.1) could not be loaded: install libbpf1 >= "
                  + MIN_LIBBPF_MAJOR
                  + "."
                  + MIN_LIBBPF_MINOR));
    } else if (!atLeast(version, MIN_LIBBPF_MAJOR, MIN_LIBBPF_MINOR)) {
      problems.add(
          new Problem(
              NO_LIBBPF,
              "libbpf "
                  + version
                  + " is too old: Baton needs >= "
                  + MIN_LIBBPF_MAJOR
                  + "."
                  + MIN_LIBBPF_MINOR));
    }
    problems.sort((a, b) -> Integer.compare(a.exitCode(), b.exitCode()));
    return problems;
  }

  String kernelRelease() {
    return read(root.resolve("proc/sys/kernel/osrelease")).orElse("unknown release");
  }

  /** The name of the sched_ext scheduler that is enabled now, if any. */
  Optional<String> otherScheduler(Path scx) {
    String state = read(scx.resolve("state")).orElse("disabled");
    if (state.equals("disabled")) {
      return Optional.empty();
    }
    return Optional.of(read(scx.resolve("root/ops")).filter(s -> !s.isEmpty()).orElse("unknown"))
        .map(ops -> ops + " (state " + state + ")");
  }

  private List<String> missingCapabilities() {
    // No CapEff line, or one that is not hex, counts as no capabilities: refuse, never crash.
    long effective =
        read(root.resolve("proc/self/status")).stream()
            .flatMap(String::lines)
            .filter(l -> l.startsWith("CapEff:"))
            .mapToLong(l -> hex(l.substring("CapEff:".length()).trim()))
            .findFirst()
            .orElse(0L);
    // Measured in the test VM (deploy/README.md): CAP_BPF loads the programs, and CAP_PERFMON lets
    // them read kernel memory (task fields, the exit reason); together they also attach a
    // sched_ext scheduler. CAP_SYS_ADMIN implies both, but is far broader than Baton needs.
    boolean bpf = (effective & (1L << CAP_BPF)) != 0;
    boolean perfmon = (effective & (1L << CAP_PERFMON)) != 0;
    if ((effective & (1L << CAP_SYS_ADMIN)) != 0 || (bpf && perfmon)) {
      return List.of();
    }
    List<String> missing = new ArrayList<>();
    if (!bpf) {
      missing.add("CAP_BPF");
    }
    if (!perfmon) {
      missing.add("CAP_PERFMON");
    }
    return missing;
  }

  private static long hex(String s) {
    try {
      return Long.parseUnsignedLong(s, 16);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static boolean atLeast(String version, int major, int minor) {
    String[] parts = version.split("\\.");
    try {
      int ma = Integer.parseInt(parts[0]);
      int mi = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
      return ma > major || (ma == major && mi >= minor);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static Optional<String> read(Path p) {
    try {
      return Optional.of(Files.readString(p).trim());
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
