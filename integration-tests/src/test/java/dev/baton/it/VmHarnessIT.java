package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
  void aBootQemuCrashedBeforeTheCommandStartedIsBootedAgainAndTheCommandRunsOnce(@TempDir Path dir)
      throws IOException {
    Vm.Result r = withCrashingQemu(dir, "first", "echo ran-in-the-guest");
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("qemu itself crashed (exit 134) before the command started: booting again (2 of 3)");
    assertThat(r.output().lines().filter(l -> l.equals("ran-in-the-guest"))).hasSize(1);
    assertThat(Files.readString(dir.resolve("boots")).strip()).isEqualTo("2");
  }

  @Test
  void qemuCrashingOnEveryBootIsAHarnessFailureAfterThreeBoots(@TempDir Path dir) throws IOException {
    Vm.Result r = withCrashingQemu(dir, "always", "echo ran-in-the-guest");
    assertThat(r.exitCode()).as(r.output()).isEqualTo(125);
    assertThat(r.output()).contains("before the command started, 3 boots in a row").doesNotContain("ran-in-the-guest");
    assertThat(Files.readString(dir.resolve("boots")).strip()).isEqualTo("3");
  }

  @Test
  void aBootThatHangsBeforeTheCommandStartedIsBootedAgainAndTheCommandRunsOnce(@TempDir Path dir)
      throws IOException {
    Vm.Result r = withCrashingQemu(dir, "hang-first", "echo ran-in-the-guest", "--boot-timeout-s", "20");
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("the guest did not reach the command within 20s: booting again (2 of 3)");
    assertThat(r.output().lines().filter(l -> l.equals("ran-in-the-guest"))).hasSize(1);
    assertThat(Files.readString(dir.resolve("boots")).strip()).isEqualTo("2");
  }

  @Test
  void bootsHangingEveryTimeAreAHarnessFailureAfterThreeBootsNotATimeout(@TempDir Path dir)
      throws IOException {
    Vm.Result r = withCrashingQemu(dir, "hang", "echo ran-in-the-guest", "--boot-timeout-s", "2");
    assertThat(r.exitCode()).as(r.output()).isEqualTo(125);
    assertThat(r.output()).contains("did not reach the command within 2s, 3 boots in a row").doesNotContain("ran-in-the-guest");
    assertThat(Files.readString(dir.resolve("boots")).strip()).isEqualTo("3");
  }

  @Test
  void aBootTimeoutThatIsNotWholeSecondsIsRefused() {
    Vm.Result r = Vm.host(BOOT, "bin/baton", "vm", "--boot-timeout-s", "0", "--", "true");
    assertThat(r.exitCode()).isEqualTo(125);
    assertThat(r.output()).contains("--boot-timeout-s takes whole seconds above 0, not '0'");
  }

  @Test
  void qemuCrashingAfterTheCommandStartedFailsWithoutRunningItAgain(@TempDir Path dir) throws IOException {
    // The command has begun: a second boot would run it twice, so the run fails instead.
    Vm.Result r = withCrashingQemu(dir, "after-start", "echo ran-in-the-guest; sleep 60");
    assertThat(r.exitCode()).as(r.output()).isEqualTo(125);
    assertThat(r.output()).contains("qemu itself crashed (exit 134) after the command started");
    assertThat(r.output().lines().filter(l -> l.equals("ran-in-the-guest"))).hasSize(1);
    assertThat(Files.readString(dir.resolve("boots")).strip()).isEqualTo("1");
  }

  @Test
  void theTestsRunAGuestCommandOnceMoreWhenQemuCrashedWhileItRan(@TempDir Path dir) throws IOException {
    Vm.Result r = Vm.guest(crashingQemu(dir, "after-start-first"), List.of(), BOOT, "sh", "-c", "echo ran-in-the-guest; sleep 5; exit 7");
    assertThat(r.exitCode()).as("the second run's own status").isEqualTo(7);
    assertThat(r.output()).doesNotContain("qemu itself crashed");
    assertThat(r.output().lines().filter(l -> l.equals("ran-in-the-guest"))).hasSize(1);
    assertThat(Files.readString(dir.resolve("boots")).strip()).isEqualTo("2");
  }

  @Test
  void theTestsRunAGuestCommandOnceMoreWhenItsKernelHitAStaleCodePatchingBreakpoint(@TempDir Path dir)
      throws IOException {
    Vm.Result r = Vm.guest(crashingQemu(dir, "int3"), List.of(), BOOT, "sh", "-c", "echo ran-in-the-guest; sleep 60");
    assertThat(r.exitCode()).as(r.output()).isEqualTo(123);
    assertThat(r.output())
        .contains("the guest kernel oopsed or panicked")
        .contains("the oops is a stale code-patching breakpoint in kernel text (__schedule+0x643/0x1080), an emulator failure");
    assertThat(Files.readString(dir.resolve("boots")).strip()).as("run once more, and no more").isEqualTo("2");
  }

  @Test
  void aBreakpointOopsInBpfCodeIsTheGuestsAndNotRunAgain(@TempDir Path dir) throws IOException {
    Vm.Result r = Vm.guest(crashingQemu(dir, "int3-bpf"), List.of(), BOOT, "sh", "-c", "echo ran-in-the-guest; sleep 60");
    assertThat(r.exitCode()).as(r.output()).isEqualTo(123);
    assertThat(r.output()).contains("the guest kernel oopsed or panicked").doesNotContain(Vm.STALE_PATCH_BREAKPOINT);
    assertThat(Files.readString(dir.resolve("boots")).strip()).isEqualTo("1");
  }

  /**
   * Runs a guest command through a stand-in for qemu-system-x86_64, first on PATH, that dies of
   * SIGABRT as qemu's failed assertions do: on the first boot only ("first"), on every boot
   * ("always"), or once the guest has marked the command started, the real qemu running until
   * then ("after-start"; "after-start-first" on the first boot only). Every other boot is the
   * real qemu's; or hangs without a word, as qemu once did at boot: on the first boot only
   * ("hang-first") or on every boot ("hang"); or, once the command started, stops the real qemu
   * and leaves the console a guest's breakpoint oops would, in kernel text ("int3") or in a BPF
   * program ("int3-bpf"). It counts boots in dir/boots.
   */
  private static Vm.Result withCrashingQemu(Path dir, String mode, String command, String... options)
      throws IOException {
    List<String> args = new ArrayList<>(List.of("bin/baton", "vm", "--timeout-s", Long.toString(BOOT.toSeconds())));
    args.addAll(List.of(options));
    args.addAll(List.of("--", "sh", "-c", command));
    return Vm.host(crashingQemu(dir, mode), BOOT.plusSeconds(60), args.toArray(String[]::new));
  }

  /** The environment that puts the stand-in first on PATH. */
  private static Map<String, String> crashingQemu(Path dir, String mode) throws IOException {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path fake = bin.resolve("qemu-system-x86_64");
    Files.writeString(
        fake,
        """
        #!/bin/sh
        n=$(( $(cat "$FAKE_DIR/boots" 2>/dev/null || echo 0) + 1 ))
        echo $n >"$FAKE_DIR/boots"
        ulimit -c 0
        PATH=${PATH#*:}
        crash() { echo "qemu-system-x86_64: stand-in assertion failed" >&2; kill -ABRT $$; }
        case $FAKE_MODE in
        always) crash ;;
        first) [ $n -gt 1 ] || crash ;;
        hang) exec sleep 3600 ;;
        hang-first) [ $n -gt 1 ] || exec sleep 3600 ;;
        after-start | after-start-first)
          [ $FAKE_MODE = after-start ] || [ $n = 1 ] || exec qemu-system-x86_64 "$@"
          for a; do case $a in local,id=ctl,path=*) ctl=${a#local,id=ctl,path=}; ctl=${ctl%%,*} ;; esac; done
          qemu-system-x86_64 "$@" &
          while [ ! -e "$ctl/started" ]; do sleep 0.2; done
          sleep 2
          kill -KILL $!
          crash ;;
        int3 | int3-bpf)
          for a; do case $a in local,id=ctl,path=*) ctl=${a#local,id=ctl,path=}; ctl=${ctl%%,*} ;; file:*) con=${a#file:} ;; esac; done
          qemu-system-x86_64 "$@" &
          while [ ! -e "$ctl/started" ]; do sleep 0.2; done
          sleep 2
          kill -KILL $!
          wait $!
          rip=__schedule+0x643/0x1080
          [ $FAKE_MODE = int3 ] || rip=bpf_prog_6e0bd2a1d5a8c3f0_baton_dispatch+0x4d/0x1c0
          printf '[   78.534280] Oops: int3: 0000 [#1] SMP NOPTI\n[   78.543991] RIP: 0010:%s\n' $rip >>"$con"
          echo '[   78.574679] Kernel panic - not syncing: Fatal exception in interrupt' >>"$con"
          exit 0 ;;
        esac
        exec qemu-system-x86_64 "$@"
        """);
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    return Map.of("PATH", bin + ":" + System.getenv("PATH"), "FAKE_DIR", dir.toString(), "FAKE_MODE", mode);
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
