package dev.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

/**
 * {@link SchedulerScenarios} on the second cached sched_ext kernel (set-up caches the newest of
 * two Debian suites): one object must load, pass the verifier and behave the same on both.
 */
class SchedulerOlderKernelIT extends SchedulerScenarios {
  @Override
  String kernel() {
    List<String> kernels = cachedKernels();
    assertThat(kernels)
        .as("a second sched_ext kernel must be cached for this test: run tools/setup.sh")
        .hasSizeGreaterThanOrEqualTo(2);
    return kernels.get(1);
  }

  @Override
  String mode() {
    return "core";
  }
}
