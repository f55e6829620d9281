package dev.baton.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.bpf.abi.BatonStat;
import io.micrometer.core.instrument.Meter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MetricsTest {

  /** Debian's promtool, cached by tools/setup.sh. */
  static final Path PROMTOOL = Path.of(System.getProperty("baton.cache", "/var/cache/baton"), "prometheus/usr/bin/promtool");

  private final AtomicLong drops = new AtomicLong(5);
  private final AtomicLong events = new AtomicLong(1234);
  private boolean enabled = true;
  private int bpfReads;

  private final BpfReadings bpf =
      new BpfReadings() {
        public long stat(int index) {
          bpfReads++;
          return index == BatonStat.BATON_STAT_EVENTS_DROPPED ? drops.get() : 0;
        }

        public long[] runDelay(int cls) {
          long[] v = new long[RunDelayCollector.BUCKETS + 1];
          if (cls == 1) {
            v[10] = 3; // [1024, 2048) ns
            v[20] = 2; // [~1 ms, ~2 ms)
            v[RunDelayCollector.BUCKETS - 1] = 1; // over 2 s
            v[RunDelayCollector.BUCKETS] = 3_000_000_000L; // 3 s in all
          }
          return v;
        }
      };

  private final AgentReadings agent =
      new AgentReadings() {
        public long eventsReceived() {
          return events.get();
        }

        public long hintsWritten() {
          return 7;
        }

        public long hintsRefused() {
          return 2;
        }

        public long tasksTracked() {
          return 42;
        }

        public long tasksDropped() {
          return 3;
        }

        public long jobs(String jobClass) {
          return jobClass.equals("live") ? 2 : 0;
        }

        public long liveDeadlineMisses() {
          return 1;
        }

        public long abandonedRegexSearches() {
          return 4;
        }

        public long policyFailures() {
          return 6;
        }

        public long unappliedCgroups(String control) {
          return control.equals("cpu.max") ? 5 : 0;
        }

        public boolean schedulerEnabled() {
          return enabled;
        }
      };

  private final Metrics metrics = new Metrics(BatonStat.VALUES, List.of("live", "normal"), bpf, agent);

  @AfterEach
  void close() {
    metrics.close();
  }

  @Test
  void bpfCountersAreReadWhenScrapedNotBefore() {
    assertThat(bpfReads).isZero();
    String first = metrics.scrape();
    assertThat(bpfReads).isPositive();
    assertThat(first).contains("baton_bpf_ring_dropped_events_total 5.0");
    drops.set(9);
    assertThat(metrics.scrape()).contains("baton_bpf_ring_dropped_events_total 9.0");
  }

  @Test
  void agentSeriesAreThere() {
    metrics.ejected("ERROR_STALL");
    metrics.restarted();
    enabled = false;
    assertThat(metrics.scrape())
        .contains("baton_agent_received_events_total 1234.0")
        .contains("baton_agent_written_hints_total 7.0")
        .contains("baton_agent_refused_hints_total 2.0")
        .contains("baton_agent_tracked_tasks 42.0")
        .contains("baton_agent_dropped_tasks_total 3.0")
        .contains("baton_agent_jobs{class=\"live\"} 2.0")
        .contains("baton_agent_jobs{class=\"batch\"} 0.0")
        .contains("baton_agent_live_missed_deadlines_total 1.0")
        .contains("baton_agent_abandoned_cmdline_regex_searches_total 4.0")
        .contains("baton_agent_policy_failures_total 6.0")
        .contains("baton_unapplied_cgroups{control=\"cpu.max\"} 5.0")
        .contains("baton_unapplied_cgroups{control=\"cpu.idle\"} 0.0")
        .contains("baton_scheduler_state{state=\"enabled\"} 0.0")
        .contains("baton_scheduler_state{state=\"disabled\"} 1.0")
        .contains("baton_scheduler_ejections_total{kind=\"ERROR_STALL\"} 1.0")
        .contains("baton_scheduler_ejections_total{kind=\"ERROR\"} 0.0")
        .contains("baton_scheduler_restarts_total 1.0")
        .contains("jvm_memory_used_bytes")
        .contains("process_uptime_seconds");
  }

  @Test
  void runDelayIsAPrometheusHistogramPerClass() {
    String text = metrics.scrape();
    assertThat(text)
        .contains("# TYPE baton_bpf_run_delay_seconds histogram")
        .contains("baton_bpf_run_delay_seconds_count{class=\"live\"} 0")
        .contains("baton_bpf_run_delay_seconds_count{class=\"normal\"} 6")
        .contains("baton_bpf_run_delay_seconds_sum{class=\"normal\"} 3.0")
        // Cumulative: the 1024 ns bucket ends at 2^11 ns; +Inf holds every delay.
        .contains("baton_bpf_run_delay_seconds_bucket{class=\"normal\",le=\"2.048E-6\"} 3")
        .contains("baton_bpf_run_delay_seconds_bucket{class=\"normal\",le=\"0.002097152\"} 5")
        .contains("baton_bpf_run_delay_seconds_bucket{class=\"normal\",le=\"+Inf\"} 6");
    assertThat(text.lines().filter(l -> l.startsWith("baton_bpf_run_delay_seconds_bucket{class=\"live\""))).hasSize(RunDelayCollector.BUCKETS);
  }

  @Test
  void everyMeterHasADescriptionAndABaseUnit() {
    assertThat(metrics.meters()).hasSizeGreaterThan(20);
    for (Meter m : metrics.meters()) {
      assertThat(m.getId().getDescription()).as(m.getId().toString()).isNotBlank();
      assertThat(m.getId().getBaseUnit()).as(m.getId().toString()).isNotBlank();
    }
  }

  @Test
  void aBpfStatWithoutACatalogEntryIsRefused() {
    assertThatThrownBy(() -> new Metrics(Map.of("BATON_STAT_NEW_THING", 1L), bpf, agent))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("BATON_STAT_NEW_THING");
  }

  @Test
  void promtoolAcceptsTheExposition() throws Exception {
    assertThat(PROMTOOL).as("promtool (tools/setup.sh caches Debian's prometheus package)").isExecutable();
    Path exposition = Files.createTempFile("baton-metrics", ".prom");
    try {
      Files.writeString(exposition, metrics.scrape());
      Process p =
          new ProcessBuilder(PROMTOOL.toString(), "check", "metrics")
              .redirectInput(exposition.toFile())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      // promtool lints conventions too; Baton's own series must be clean, and the exit code 0.
      assertThat(out.lines().filter(l -> l.startsWith("baton_"))).as(out).isEmpty();
      assertThat(p.exitValue()).as(out).isZero();
    } finally {
      Files.delete(exposition);
    }
  }
}
