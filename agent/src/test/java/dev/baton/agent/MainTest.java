package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(
        List.of(args),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void noCommandOrAnUnknownOneIsAUsageError() {
    assertThat(run()).isEqualTo(Main.USAGE);
    assertThat(run("frobnicate")).isEqualTo(Main.USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown command 'frobnicate'");
  }

  @Test
  void badRunOptionsAreRejectedBeforeTouchingTheKernel() {
    assertThat(run("run", "--slice-us", "abc")).isEqualTo(Main.USAGE);
    assertThat(run("run", "--slice-us", "5")).isEqualTo(Main.USAGE);
    assertThat(run("run", "--bogus")).isEqualTo(Main.USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--slice-us takes a whole number, not 'abc'")
        .contains("--slice-us must be between 100 and 1000000, not 5")
        .contains("unknown option for run: --bogus");
  }

  @Test
  void badStatusTimeoutsAreRejectedBeforeAnyRequest() {
    assertThat(run("status", "--timeout-s", "0")).isEqualTo(Main.USAGE);
    assertThat(run("status", "--timeout-s", "ten")).isEqualTo(Main.USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--timeout-s takes whole seconds from 1 to 3600, not '0'")
        .contains("--timeout-s takes whole seconds from 1 to 3600, not 'ten'");
  }

  @Test
  void runOptionsHaveDefaults() {
    RunOptions o = RunOptions.parse(List.of());
    for (SchedClass c : SchedClass.values()) {
      assertThat(o.sliceUs(c)).isEqualTo(Tunable.SLICE_US.defaultValue);
    }
    assertThat(o.staleMs()).isEqualTo(Tunable.STALE_MS.defaultValue);
    assertThat(o.starveMs()).isEqualTo(Tunable.STARVE_MS.defaultValue);
    assertThat(o.timeoutMs()).isZero();
    assertThat(o.sliceUs()).isEqualTo(Tunable.SLICE_US.defaultValue);
    assertThat(o.maxTasks()).isEqualTo(Tunable.MAX_TASKS.defaultValue);
    assertThat(o.pinDir()).isEqualTo(RunOptions.DEFAULT_PIN_DIR);
    assertThat(RunOptions.parse(List.of("--no-pin")).pinDir()).isNull();
    assertThat(o.tasksOut()).isNull();
    assertThatThrownBy(() -> RunOptions.parse(List.of("--max-tasks")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("--max-tasks needs a value");
  }

  @Test
  void slicesAreSetForAllClassesOrOne() {
    RunOptions o =
        RunOptions.parse(List.of("--slice-us", "5000", "--slice-us", "live=2000", "--slice-us", "BATCH=40000"));
    assertThat(o.sliceUs(SchedClass.LIVE)).isEqualTo(2000);
    assertThat(o.sliceUs(SchedClass.NORMAL)).isEqualTo(5000);
    assertThat(o.sliceUs(SchedClass.BATCH)).isEqualTo(40000);
    assertThatThrownBy(() -> RunOptions.parse(List.of("--slice-us", "fast=100")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("unknown class 'fast'");
    assertThatThrownBy(() -> RunOptions.parse(List.of("--slice-us", "idle=99")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("not 99 (class idle)");
  }

  @Test
  void tunablesAreValidatedWithTheirUnits() {
    assertThat(RunOptions.parse(List.of("--starve-ms", "0")).starveMs()).isZero();
    assertThat(RunOptions.parse(List.of("--timeout-ms", "5000")).timeoutMs()).isEqualTo(5000);
    assertThatThrownBy(() -> RunOptions.parse(List.of("--stale-ms", "50")))
        .hasMessageContaining("--stale-ms must be between 100 and 60000, not 50");
    assertThatThrownBy(() -> RunOptions.parse(List.of("--starve-ms", "5")))
        .hasMessageContaining("--starve-ms must be 0 (off) or between 10 and 10000, not 5");
    assertThatThrownBy(() -> RunOptions.parse(List.of("--timeout-ms", "40000")))
        .hasMessageContaining("--timeout-ms must be 0 (the kernel's default) or between 4000 and 30000");
    // A task held by a cgroup's cpu.max may wait 2 s (a 1 s period, 1 s of payback): half of 4000.
    assertThatThrownBy(() -> RunOptions.parse(List.of("--timeout-ms", "3999", "--starve-ms", "0")))
        .hasMessageContaining("--timeout-ms must be 0 (the kernel's default) or between 4000 and 30000, not 3999");
  }

  @Test
  void theGuardsBoundMustFitInHalfTheWatchdogsTimeout() {
    // 4 waits for a class only one CPU serves + 3 more classes ahead of it = 7 starve_ms, and
    // 7 x 2142 ms is within half the kernel's default 30 s: the largest accepted.
    assertThat(RunOptions.GUARD_BOUND_PERIODS).isEqualTo(7);
    assertThat(RunOptions.parse(List.of("--starve-ms", "2142")).starveMs()).isEqualTo(2142);
    assertThatThrownBy(() -> RunOptions.parse(List.of("--starve-ms", "2143")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("starve_ms 2143 does not fit the watchdog's timeout_ms 30000")
        .hasMessageContaining("lower starve_ms to 2142 or less, or raise timeout_ms");
    assertThatThrownBy(() -> RunOptions.parse(List.of("--timeout-ms", "5000", "--starve-ms", "400")))
        .as("a starve_ms that fits the kernel's default against a shorter watchdog")
        .hasMessageContaining("starve_ms 400 does not fit the watchdog's timeout_ms 5000")
        .hasMessageContaining("lower starve_ms to 357 or less");
    assertThat(RunOptions.parse(List.of("--timeout-ms", "4000", "--starve-ms", "0")).timeoutMs()).isEqualTo(4000);
    assertThat(RunOptions.parse(List.of("--timeout-ms", "5000", "--starve-ms", "357")).timeoutMs()).isEqualTo(5000);
  }

  @Test
  void maxTasksMustFitTheHeap() {
    long mb = 1 << 20;
    // deploy/jvm.args's 512 MB (less a survivor space, as the JVM reports it) holds the default.
    RunOptions.defaults().checkHeap(510 * mb);
    RunOptions.parse(List.of("--max-tasks", "305834")).checkHeap(512 * mb);
    assertThatThrownBy(() -> RunOptions.parse(List.of("--max-tasks", "305835")).checkHeap(512 * mb))
        .isInstanceOf(UsageException.class)
        .hasMessage(
            "max_tasks 305835 needs a heap of about 513 MB (64 MB and ~1.5 KB a task), more than this JVM's 512 MB:"
                + " give the agent -Xmx1g (BATON_JAVA_OPTS, which follows deploy/jvm.args) or lower max_tasks");
    assertThatThrownBy(() -> RunOptions.parse(List.of("--max-tasks", "4194304")).checkHeap(510 * mb))
        .hasMessageContaining("about 6208 MB")
        .hasMessageContaining("-Xmx7g");
  }

  @Test
  void exitKindsHaveTheKernelsNames() {
    assertThat(Scheduler.exitKindName(64)).isEqualTo("UNREG");
    assertThat(Scheduler.exitKindName(1026)).isEqualTo("ERROR_STALL");
    assertThat(Scheduler.exitKindName(4242)).isEqualTo("4242");
  }
}
