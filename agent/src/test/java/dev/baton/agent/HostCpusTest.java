package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostCpusTest {

  @TempDir Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final PrintStream log = new PrintStream(out, true, StandardCharsets.UTF_8);

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {"0|1", "'0-1\n'|2", "0-3,8,10-11|7", "'0,2,4-5'|4", "'0-127'|128", "3|1"})
  void countsTheCpusOfAKernelCpuList(String list, int cpus) {
    assertThat(HostCpus.count(list)).isEqualTo(cpus);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "\n", "0-", "-3", "3-1", "0,,2", "a", "0-3,x", "1 2", "99999999"})
  void anythingElseIsNotACpuList(String list) {
    assertThatThrownBy(() -> HostCpus.count(list))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not a CPU list");
  }

  @Test
  void theOnlineCpusAreCountedWhateverThisProcessMayUse() throws Exception {
    Path online = dir.resolve("online");
    Files.writeString(online, "0-63\n");
    assertThat(HostCpus.online(online, 1, log)).isEqualTo(64);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void anUnreadableListFallsBackToThisProcessesCountAndSaysSo() throws Exception {
    assertThat(HostCpus.online(dir.resolve("missing"), 3, log)).isEqualTo(3);
    Path bad = dir.resolve("bad");
    Files.writeString(bad, "garbage\n");
    assertThat(HostCpus.online(bad, 3, log)).isEqualTo(3);
    assertThat(out.toString(StandardCharsets.UTF_8).lines())
        .hasSize(2)
        .allSatisfy(l -> assertThat(l).startsWith("baton: cannot count the online CPUs from "))
        .allSatisfy(l -> assertThat(l).endsWith("planning for the 3 this process may use"));
  }

  @Test
  void thisHostsListCountsAtLeastTheCpusThisJvmMayUse() {
    // The test's own process may be confined; the host's online CPUs never number fewer.
    assertThat(HostCpus.online(HostCpus.ONLINE, -1, log))
        .isGreaterThanOrEqualTo(Runtime.getRuntime().availableProcessors());
  }
}
