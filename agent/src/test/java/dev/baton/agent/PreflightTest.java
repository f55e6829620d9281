package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
}
