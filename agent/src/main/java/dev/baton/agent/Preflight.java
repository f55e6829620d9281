package dev.baton.agent;

import dev.baton.agent.metrics.Metrics;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.Libbpf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  public static final int OWN_PID_NAMESPACE = 10;

  /** The initial pid namespace, whose inode is fixed (PROC_PID_INIT_INO, include/linux/proc_ns.h). */
  static final String HOST_PID_NAMESPACE = "pid:[4026531836]";

  /** At most this many cgroups are read for {@link #notes()}; a host with more is judged by these. */
  static final int MAX_CGROUPS = 20_000;

  /** What each of the cgroup controls Baton does not apply means for the tasks under it. */
  private static final Map<String, String> WITHOUT =
      Map.of(
          "cpu.max",
          "this kernel does not tell a sched_ext scheduler the limits (6.17+ does, and Baton then"
              + " enforces them), so their tasks may use more CPU than their limit while Baton runs",
          "cpu.weight",
          "Baton does not apply it; it weighs each task by its nice value or its hint, and shares"
              + " VOD CPU between tenants by their weights",
          "cpu.idle",
          "Baton does not apply it; their tasks are NORMAL unless a hint or a batch job says otherwise");

  /** At most this many cgroups are named in one note; the count says how many there are. */
  static final int NAMED_PER_NOTE = 3;

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
    // The kernel, and so every event, hint key and BPF lookup, names tasks by their pids in the
    // host's namespace; in another, /proc and the API's pids name other processes (a rule
    // could give a stranger the LIVE class). An unreadable link is no proof: not refused.
    pidNamespace(root)
        .filter(ns -> !ns.equals(HOST_PID_NAMESPACE))
        .ifPresent(
            ns ->
                problems.add(
                    new Problem(
                        OWN_PID_NAMESPACE,
                        "this process runs in a pid namespace of its own ("
                            + ns
                            + "), where pids name other processes than the kernel's events do:"
                            + " run Baton in the host's (docker run --pid=host; Kubernetes"
                            + " hostPID: true)")));
    problems.sort((a, b) -> Integer.compare(a.exitCode(), b.exitCode()));
    return problems;
  }

  /**
   * What this host asks of the kernel's CPU controller that it will not get while Baton runs,
   * one sentence each; empty when nothing. While a sched_ext scheduler is attached, the kernel
   * applies cgroup v2's cpu.weight, cpu.max and cpu.idle only to tasks of its own fair class,
   * which then holds none: they are the BPF scheduler's to apply. Baton enforces cpu.max where
   * the kernel passes it the limits ({@link #kernelPassesCpuMax()}), and applies neither of the
   * others (it weighs each task by its nice value or its hint). A note, not a problem: a farm
   * host may accept that for its jobs' sake, but its operator must know it before a container's
   * CPU limit silently stops holding.
   */
  public List<String> notes() {
    List<String> notes = new ArrayList<>();
    cgroupControls()
        .forEach(
            (control, cgroups) -> {
              if (!cgroups.isEmpty()) {
                notes.add(control + " in " + cgroups(cgroups) + ": " + WITHOUT.get(control) + " (README: cgroup controls)");
              }
            });
    return notes;
  }

  /**
   * For each of {@link Metrics#CGROUP_CONTROLS}, the cgroups (path from the cgroup v2 root, and the
   * value) that set it to anything but the kernel's default; all empty without cgroup v2 at
   * /sys/fs/cgroup. Reads three small files per cgroup, at most {@link #MAX_CGROUPS} of them.
   */
  public Map<String, List<String>> cgroupControls() {
    Map<String, List<String>> set = new LinkedHashMap<>();
    Metrics.CGROUP_CONTROLS.forEach(c -> set.put(c, new ArrayList<>()));
    Path top = root.resolve("sys/fs/cgroup");
    if (!Files.isRegularFile(top.resolve("cgroup.controllers"))) {
      return set; // not cgroup v2 (v1 has no cpu.weight): nothing this can read
    }
    int[] seen = {0};
    boolean cpuMaxEnforced = kernelPassesCpuMax();
    try {
      Files.walkFileTree(
          top,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
              if (seen[0]++ >= MAX_CGROUPS) {
                return FileVisitResult.TERMINATE;
              }
              if (!dir.equals(top)) { // the root cgroup has none of these files
                String name = "/" + top.relativize(dir);
                read(dir.resolve("cpu.max"))
                    .filter(m -> !m.startsWith("max") && !cpuMaxEnforced)
                    .ifPresent(m -> set.get("cpu.max").add(name + " " + m));
                read(dir.resolve("cpu.weight"))
                    .filter(w -> !w.equals("100"))
                    .ifPresent(w -> set.get("cpu.weight").add(name + " " + w));
                read(dir.resolve("cpu.idle")).filter(i -> i.equals("1")).ifPresent(i -> set.get("cpu.idle").add(name));
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE; // a cgroup removed while we walk, or unreadable
            }
          });
    } catch (IOException e) {
      // The walk itself failed: what was read so far stands.
    }
    return set;
  }

  /** A name only the kernels that pass cgroup cpu.max to sched_ext have in their BTF (6.17+). */
  private static final String CPU_MAX_OP = "\0cgroup_set_bandwidth\0";

  private volatile Boolean passesCpuMax;

  /**
   * Whether this kernel tells a sched_ext scheduler each cgroup's cpu.max, which Baton then
   * enforces: its BTF names the sched_ext_ops callback that does (ops.cgroup_set_bandwidth).
   * Read once (the kernel does not change under a running agent).
   */
  public boolean kernelPassesCpuMax() {
    Boolean known = passesCpuMax;
    if (known == null) {
      String btf;
      try {
        btf = new String(Files.readAllBytes(root.resolve("sys/kernel/btf/vmlinux")), StandardCharsets.ISO_8859_1);
      } catch (IOException e) {
        btf = "";
      }
      passesCpuMax = known = btf.contains(CPU_MAX_OP);
    }
    return known;
  }

  private static String cgroups(List<String> named) {
    String shown = String.join(", ", named.subList(0, Math.min(NAMED_PER_NOTE, named.size())));
    return named.size()
        + (named.size() == 1 ? " cgroup (" : " cgroups (")
        + shown
        + (named.size() > NAMED_PER_NOTE ? ", ..." : "")
        + ")";
  }

  /** This process's pid namespace as its /proc link names it ("pid:[INODE]"), if readable. */
  static Optional<String> pidNamespace(Path root) {
    try {
      return Optional.of(Files.readSymbolicLink(root.resolve("proc/self/ns/pid")).toString());
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.empty();
    }
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
