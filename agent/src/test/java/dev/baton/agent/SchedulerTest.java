package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SchedulerTest {

  private static final int BUCKETS = BpfStats.HIST_WORDS - 1;

  @Test
  void onlyAnAgentInTheKernelsInitialPidNamespaceNamesItselfForTheDeathCheck() {
    assertThat(Scheduler.inHostPidNamespace("pid:[4026531836]")).isTrue();
    assertThat(Scheduler.inHostPidNamespace("pid:[4026532281]")).as("a container's").isFalse();
    assertThat(Scheduler.inHostPidNamespace("")).as("unreadable").isFalse();
  }

  @Test
  void aRunDelayHistogramIsSummedUpByItsBucketBounds() {
    long[] h = new long[BUCKETS + 1];
    h[10] = 98; // [1024, 2048) ns
    h[12] = 1; // [4096, 8192) ns
    h[22] = 1; // [~4.2 ms, ~8.4 ms)
    h[BUCKETS] = 98 * 1500 + 5000 + 5_000_000; // the sum, ns
    // 99 of 100 are below 8192 ns: p99 is that bucket's bound; the largest is below 2^23 ns.
    assertThat(Scheduler.formatRunDelay(h)).isEqualTo("waits=100 mean_us=51 p99_us=8 max_us=8388");
  }

  @Test
  void theLastBucketHasNoBoundAndAnEmptyHistogramSaysNothing() {
    long[] h = new long[BUCKETS + 1];
    assertThat(Scheduler.formatRunDelay(h)).isEmpty();
    h[0] = 1;
    h[BUCKETS - 1] = 1;
    h[BUCKETS] = 3_000_000_000L;
    assertThat(Scheduler.formatRunDelay(h)).isEqualTo("waits=2 mean_us=1500000 p99_us=inf max_us=inf");
  }

  @Test
  void theHeartbeatIsWrittenAtLeastFourTimesPerStaleMsWhateverItIs() {
    for (long staleMs = Tunable.STALE_MS.min; staleMs <= Tunable.STALE_MS.max; staleMs++) {
      int poll = Scheduler.pollMs(staleMs);
      assertThat(poll).as("stale_ms %d", staleMs).isPositive().isLessThanOrEqualTo((int) (staleMs / 4));
    }
    assertThat(Scheduler.pollMs(Tunable.STALE_MS.min)).isEqualTo(25);
    // Not more turns by default than the policy's ticks.
    assertThat(Scheduler.pollMs(Tunable.STALE_MS.defaultValue)).isEqualTo(PolicyDriver.TICK_NS / 1_000_000);
  }
}
