package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreflightTest {

  @TempDir Path root;

  private static final String ALL_CAPS = "000001ffffffffff";

  @BeforeEach
  void healthyHost() throws IOException {
    write("sys/kernel/sched_ext/state", "disabled\n");
    write("sys/kernel/btf/vmlinux", "btf");
    write("proc/sys/kernel/osrelease", "7.3.4+deb13-amd64\n");
    caps(ALL_CAPS);
  }

  private void write(String rel, String content) throws IOException {
    Path p = root.resolve(rel);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  private void caps(String capEff) throws IOException {
    write("proc/self/status", "Name:\tjava\nCapInh:\t0000000000000000\nCapEff:\t" + capEff + "\n");
  }

  private Preflight preflight(String libbpf) {
    return new Preflight(root, () -> libbpf);
  }

  @Test
  void healthyHostHasNoProblems() {
    assertThat(preflight("1.4").problems()).isEmpty();
  }

  @Test
  void missingSchedExtIsReportedFirstWithTheKernelRelease() throws IOException {
    Files.delete(root.resolve("sys/kernel/sched_ext/state"));
    Files.delete(root.resolve("sys/kernel/sched_ext"));
    Files.delete(root.resolve("sys/kernel/btf/vmlinux"));
    var problems = preflight("1.4").problems();
    assertThat(problems).extracting(Preflight.Problem::exitCode).containsExactly(3, 4);
    assertThat(problems.get(0).message()).contains("7.3.4+deb13-amd64", "CONFIG_SCHED_CLASS_EXT");
  }

  @Test
  void missingCapabilitiesAreNamed() throws IOException {
    caps("0000000000000000");
    var problems = preflight("1.4").problems();
    assertThat(problems).extracting(Preflight.Problem::exitCode).containsExactly(5);
    assertThat(problems.get(0).message()).contains("CAP_BPF, CAP_PERFMON");
  }

  @Test
  void bpfAndPerfmonAreEnoughAsIsSysAdminAlone() throws IOException {
    caps(Long.toHexString((1L << 39) | (1L << 38))); // CAP_BPF, CAP_PERFMON
    assertThat(preflight("1.4").problems()).isEmpty();
    caps(Long.toHexString(1L << 21)); // CAP_SYS_ADMIN
    assertThat(preflight("1.4").problems()).isEmpty();
    caps(Long.toHexString(1L << 39)); // CAP_BPF alone cannot read kernel memory
    assertThat(preflight("1.4").problems()).singleElement().satisfies(p -> assertThat(p.message()).contains("CAP_PERFMON"));
  }

  @Test
  void capabilitiesAreReadFromARealStatusFileAndGarbageIsNone() throws IOException {
    // The shape of /proc/self/status: CapEff among the other capability sets.
    write(
        "proc/self/status",
        "Name:\tjava\nUmask:\t0077\nState:\tR (running)\nCapInh:\t0000000000000000\n"
            + "CapPrm:\t000000c000000000\nCapEff:\t000000c000000000\nCapBnd:\t000000c000000000\n"
            + "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n");
    assertThat(preflight("1.4").problems()).as("CAP_BPF and CAP_PERFMON").isEmpty();
    for (String bad : List.of("zz", "", "1ffffffffffffffffff")) {
      caps(bad);
      assertThat(preflight("1.4").problems()).as("CapEff '%s'", bad).extracting(Preflight.Problem::exitCode).containsExactly(5);
    }
    write("proc/self/status", "Name:\tjava\n");
    assertThat(preflight("1.4").problems()).extracting(Preflight.Problem::exitCode).containsExactly(5);
  }

  @Test
  void theServiceUnitsCapabilitiesAreEnoughAndNoBroader() throws IOException {
    // deploy/baton.service runs as root with this bounding set: the process's effective set.
    Path unit = Path.of(System.getProperty("user.dir")).resolveSibling("deploy").resolve("baton.service");
    List<String> names =
        Files.readAllLines(unit).stream()
            .filter(l -> l.startsWith("CapabilityBoundingSet="))
            .flatMap(l -> Arrays.stream(l.substring("CapabilityBoundingSet=".length()).trim().split("\\s+")))
            .toList();
    Map<String, Integer> known =
        Map.of("CAP_BPF", Preflight.CAP_BPF, "CAP_PERFMON", Preflight.CAP_PERFMON, "CAP_SYS_ADMIN", Preflight.CAP_SYS_ADMIN);
    assertThat(names).as(unit + ": CapabilityBoundingSet").isNotEmpty().allMatch(known::containsKey);
    assertThat(names).as("the unit holds less than CAP_SYS_ADMIN").doesNotContain("CAP_SYS_ADMIN");
    long effective = names.stream().mapToLong(n -> 1L << known.get(n)).reduce(0, (a, b) -> a | b);
    caps(Long.toHexString(effective));
    assertThat(preflight("1.4").problems()).isEmpty();
    for (String n : names) {
      caps(Long.toHexString(effective & ~(1L << known.get(n))));
      assertThat(preflight("1.4").problems()).as("without " + n).singleElement().satisfies(p -> assertThat(p.message()).contains(n));
    }
  }

  @Test
  void anotherEnabledSchedulerIsNamed() throws IOException {
    write("sys/kernel/sched_ext/state", "enabled\n");
    write("sys/kernel/sched_ext/root/ops", "simple\n");
    var problems = preflight("1.4").problems();
    assertThat(problems).extracting(Preflight.Problem::exitCode).containsExactly(6);
    assertThat(problems.get(0).message()).contains("'simple (state enabled)'");
  }

  @Test
  void oldOrMissingLibbpfIsReported() {
    assertThat(preflight("1.3").problems())
        .singleElement()
        .satisfies(p -> assertThat(p.message()).contains("1.3 is too old"))
        .extracting(Preflight.Problem::exitCode)
        .isEqualTo(7);
    assertThat(preflight(null).problems()).extracting(Preflight.Problem::exitCode).containsExactly(7);
    assertThat(preflight("2.0").problems()).isEmpty();
  }

  /** A cgroup v2 directory as the kernel shows one with the cpu controller on. */
  private void cgroup(String rel, String weight, String max, String idle) throws IOException {
    write("sys/fs/cgroup/" + rel + "/cpu.weight", weight + "\n");
    write("sys/fs/cgroup/" + rel + "/cpu.max", max + "\n");
    write("sys/fs/cgroup/" + rel + "/cpu.idle", idle + "\n");
    write("sys/fs/cgroup/" + rel + "/cgroup.procs", "");
  }

  @Test
  void cgroupControlsBatonWillNotApplyAreNotedNotRefused() throws IOException {
    write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    cgroup("system.slice", "100", "max 100000", "0");
    cgroup("system.slice/cron.service", "100", "max 100000", "0");
    cgroup("kubepods.slice", "39", "max 100000", "0");
    cgroup("kubepods.slice/pod1", "2", "50000 100000", "0");
    cgroup("background", "100", "max 100000", "1");
    var notes = preflight("1.4").notes();
    assertThat(preflight("1.4").problems()).isEmpty();
    assertThat(notes).hasSize(3);
    assertThat(notes.get(0)).startsWith("cpu.max in 1 cgroup (/kubepods.slice/pod1 50000 100000):").contains("does not tell a sched_ext scheduler the limits");
    assertThat(notes.get(1)).startsWith("cpu.weight in 2 cgroups (").contains("/kubepods.slice 39", "/kubepods.slice/pod1 2");
    assertThat(notes.get(1)).doesNotContain("system.slice");
    assertThat(notes.get(2)).startsWith("cpu.idle in 1 cgroup (/background):");
  }

  @Test
  void cpuMaxIsNotNotedWhereTheKernelPassesItToTheScheduler() throws IOException {
    write("sys/fs/cgroup/cgroup.controllers", "cpu\n");
    cgroup("kubepods.slice/pod1", "100", "50000 100000", "0");
    // BTF's string section: NUL-separated names, the 6.17+ callback's among them.
    write("sys/kernel/btf/vmlinux", "\0cgroup_set_weight\0cgroup_set_bandwidth\0cgroup_set_idle\0");
    assertThat(preflight("1.4").kernelPassesCpuMax()).isTrue();
    assertThat(preflight("1.4").notes()).isEmpty();
    assertThat(preflight("1.4").cgroupControls().get("cpu.max")).isEmpty();
    // A longer name that merely contains it does not count.
    write("sys/kernel/btf/vmlinux", "\0cgroup_set_weight\0cgroup_set_bandwidth_x\0");
    assertThat(preflight("1.4").kernelPassesCpuMax()).isFalse();
    assertThat(preflight("1.4").notes()).singleElement().asString().startsWith("cpu.max in 1 cgroup");
  }

  @Test
  void aHostThatSetsNoCgroupControlGetsNoNote() throws IOException {
    assertThat(preflight("1.4").notes()).as("no cgroup v2 mounted").isEmpty();
    write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
    cgroup("system.slice", "100", "max 100000", "0");
    write("sys/fs/cgroup/nocpu.slice/cgroup.procs", ""); // the cpu controller is off there
    assertThat(preflight("1.4").notes()).isEmpty();
  }

  @Test
  void manyCgroupsAreCountedAndOnlyAFewNamed() throws IOException {
    write("sys/fs/cgroup/cgroup.controllers", "cpu\n");
    for (int i = 0; i < 7; i++) {
      cgroup("pods/p" + i, "100", (10_000 * (i + 1)) + " 100000", "0");
    }
    String note = preflight("1.4").notes().getFirst();
    assertThat(note).startsWith("cpu.max in 7 cgroups (").contains(", ...)");
    assertThat(note.split("/pods/p", -1)).as("cgroups named").hasSize(Preflight.NAMED_PER_NOTE + 1);
  }

  private void pidNamespace(String link) throws IOException {
    Path p = root.resolve("proc/self/ns/pid");
    Files.createDirectories(p.getParent());
    Files.deleteIfExists(p);
    Files.createSymbolicLink(p, Path.of(link));
  }

  @Test
  void aPidNamespaceOfItsOwnIsRefusedTheHostsAndAnUnreadableOneAreNot() throws IOException {
    assertThat(preflight("1.4").problems()).as("no link to read").isEmpty();
    pidNamespace("pid:[4026531836]");
    assertThat(preflight("1.4").problems()).as("the host's").isEmpty();
    pidNamespace("pid:[4026532281]");
    assertThat(preflight("1.4").problems())
        .singleElement()
        .satisfies(p -> assertThat(p.message()).contains("pid:[4026532281]", "--pid=host", "hostPID"))
        .extracting(Preflight.Problem::exitCode)
        .isEqualTo(Preflight.OWN_PID_NAMESPACE);
  }
}
