package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code baton check} on the build host itself. */
class HostCheckIT {

  @Test
  void checkNamesMissingSchedExtOnAHostWithoutIt() {
    Vm.Result r = Vm.host(Duration.ofSeconds(60), "bin/baton", "check");
    if (Files.isDirectory(Path.of("/sys/kernel/sched_ext"))) {
      // A host with sched_ext must not be told it lacks it.
      assertThat(r.output()).doesNotContain("has no sched_ext");
      assertThat(r.exitCode()).isNotEqualTo(3);
    } else {
      assertThat(r.exitCode()).as(r.output()).isEqualTo(3);
      assertThat(r.output()).contains("has no sched_ext").contains("CONFIG_SCHED_CLASS_EXT");
    }
  }

  @Test
  void runRefusesWithTheSameMessageAndTouchesNothing() {
    Vm.Result check = Vm.host(Duration.ofSeconds(60), "bin/baton", "check");
    if (check.exitCode() == 0) {
      return; // this host can run Baton; refusing is tested where it cannot
    }
    Vm.Result r = Vm.host(Duration.ofSeconds(60), "bin/baton", "run");
    assertThat(r.exitCode()).isEqualTo(check.exitCode());
    assertThat(r.output()).contains("cannot run");
  }
}
