package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The harness itself: a guest boots a sched_ext kernel, and its exit status and crashes reach us. */
class VmHarnessIT {

  private static final Duration BOOT = Duration.ofSeconds(180);

  @Test
  void guestKernelHasSchedExtIdleAndStatusComesBack() {
    Vm.Result r = Vm.guest(List.of(), BOOT, "sh", "-c", "cat /sys/kernel/sched_ext/state");
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output().strip()).isEqualTo("disabled");
  }

  @Test
  void guestJvmsRunC1OnlyUnlessTheCallerChose() {
    // Multi-threaded TCG crashed the agent's JVM on tier-up patches (integration-tests/vm/run.sh).
    Vm.Result r = Vm.guest(List.of(), BOOT, "sh", "-c", "echo \"opts=$BATON_JAVA_OPTS\"");
    String host = System.getenv("BATON_JAVA_OPTS");
    assertThat(r.output())
        .contains("opts=" + (host == null || host.isEmpty() ? "-XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.1" : host));
  }

  @Test
  void commandsExitStatusIsTheHarnessExitStatus() {
    Vm.Result r = Vm.guest(List.of(), BOOT, "sh", "-c", "exit 3");
    assertThat(r.exitCode()).as(r.output()).isEqualTo(3);
  }

  @Test
  void guestKernelPanicIsReportedAsSuchNotAsAPass() {
    // "exit 0" would follow if the crash did not stop the guest: the harness must still fail.
    Vm.Result r =
        Vm.guest(List.of(), BOOT, "sh", "-c", "echo c > /proc/sysrq-trigger; sleep 5; exit 0");
    assertThat(r.exitCode()).as(r.output()).isEqualTo(123);
    assertThat(r.output()).contains("the guest kernel oopsed or panicked");
  }

  @Test
  void listsCachedKernelsNewestFirstAndBootsAChosenOne() {
    Vm.Result list = Vm.host(Duration.ofSeconds(30), "bin/baton", "vm", "--list-kernels");
    assertThat(list.exitCode()).isZero();
    List<String> kernels = list.output().lines().map(l -> l.split(" ")[0]).toList();
    assertThat(kernels).isNotEmpty();
    assertThat(list.output().lines().findFirst().orElseThrow()).endsWith("(default)");

    String oldest = kernels.get(kernels.size() - 1);
    Vm.Result r = Vm.guest(List.of("--kernel", oldest), BOOT, "uname", "-r");
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output().strip()).startsWith(oldest);
  }

  @Test
  void unknownKernelIsAHarnessErrorNamingTheCachedOnes() {
    Vm.Result r = Vm.guest(List.of("--kernel", "0.0-nonexistent"), BOOT, "true");
    assertThat(r.exitCode()).isEqualTo(125);
    assertThat(r.output()).contains("kernel '0.0-nonexistent' is not cached");
  }
}
