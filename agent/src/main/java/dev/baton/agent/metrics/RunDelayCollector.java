package dev.baton.agent.metrics;

import dev.baton.bpf.abi.BatonRunDelayConsts;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.List;

/**
 * {@code baton_bpf_run_delay_seconds}: the BPF side's run-delay histogram (time from runnable to
 * running) per class, as a Prometheus histogram. The BPF side counts log2 buckets of ns; they
 * map one to one onto classic buckets with upper bounds 2^(b+1) ns, the last one +Inf. Read
 * from the map at scrape time; Micrometer has no meter type for a histogram built elsewhere.
 */
final class RunDelayCollector implements Collector {

  static final int BUCKETS = BatonRunDelayConsts.BATON_RUN_DELAY_BUCKETS;
  static final String NAME = "baton_bpf_run_delay_seconds";
  private static final double[] UPPER_BOUNDS = new double[BUCKETS];

  static {
    for (int b = 0; b < BUCKETS - 1; b++) {
      UPPER_BOUNDS[b] = Math.scalb(1.0, b + 1) / 1e9;
    }
    UPPER_BOUNDS[BUCKETS - 1] = Double.POSITIVE_INFINITY;
  }

  private final List<String> classes;
  private final BpfReadings bpf;

  /** @param classes the name of each class, by its index in the run_delay map */
  RunDelayCollector(List<String> classes, BpfReadings bpf) {
    if (classes.size() > BatonRunDelayConsts.BATON_RUN_DELAY_CLASSES) {
      throw new IllegalArgumentException("the run_delay map has rows for " + BatonRunDelayConsts.BATON_RUN_DELAY_CLASSES + " classes");
    }
    this.classes = List.copyOf(classes);
    this.bpf = bpf;
  }

  @Override
  public MetricSnapshot collect() {
    HistogramSnapshot.Builder h =
        HistogramSnapshot.builder()
            .name(NAME)
            .unit(Unit.SECONDS)
            .help("Time tasks waited between becoming runnable and running, by scheduling class (built in BPF, log2 buckets)");
    for (int c = 0; c < classes.size(); c++) {
      long[] v = bpf.runDelay(c);
      long[] counts = new long[BUCKETS];
      System.arraycopy(v, 0, counts, 0, BUCKETS);
      h.dataPoint(
          HistogramSnapshot.HistogramDataPointSnapshot.builder()
              .labels(Labels.of("class", classes.get(c)))
              .classicHistogramBuckets(ClassicHistogramBuckets.of(UPPER_BOUNDS, counts))
              .sum(v[BUCKETS] / 1e9)
              .build());
    }
    return h.build();
  }
}
