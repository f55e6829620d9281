package dev.baton.agent.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import dev.baton.bpf.abi.ScxExitKind;
import dev.baton.policy.JobClass;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;

/**
 * The agent's Prometheus exposition. Every value is read when Prometheus scrapes: BPF counters
 * from the stats map, agent counters from fields the event loop publishes. Nothing is copied on
 * a timer, so an idle agent does no metrics work at all.
 */
public final class Metrics implements AutoCloseable {

  /** Prometheus text format 0.0.4, which every Prometheus since 2.0 reads. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** The job classes of the policies, in their config spelling. */
  public static final List<String> JOB_CLASSES =
      java.util.Arrays.stream(JobClass.values()).map(JobClass::configName).toList();

  /** The cgroup v2 CPU controls Baton does not apply (Preflight's), one series each. */
  public static final List<String> CGROUP_CONTROLS = List.of("cpu.max", "cpu.weight", "cpu.idle");

  /** Base units for the JVM binders' meters that come without one. */
  private static final Map<String, String> MISSING_UNITS =
      Map.of(
          "system.cpu.usage", "ratio",
          "process.cpu.usage", "ratio",
          "system.cpu.count", "cpus",
          "system.load.average.1m", "tasks");

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Counter restarts;

  /**
   * @param statNames the generated {@code BatonStat.VALUES}: every entry but the count becomes a
   *     counter (an entry without a {@link BpfStatCatalog} line is an error)
   */
  public Metrics(Map<String, Long> statNames, BpfReadings bpf, AgentReadings agent) {
    this(statNames, List.of("all"), bpf, agent);
  }

  /**
   * @param classNames the scheduling classes by their index in the BPF side's run_delay map
   */
  public Metrics(Map<String, Long> statNames, List<String> classNames, BpfReadings bpf, AgentReadings agent) {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // process.cpu.time counts nanoseconds, which Prometheus conventions (and promtool) refuse.
    registry.config().meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time")).meterFilter(fillMissingUnits());

    for (Map.Entry<String, Long> stat : statNames.entrySet()) {
      if (stat.getKey().startsWith("BATON_NR_")) {
        continue;
      }
      BpfStatCatalog.Entry e = BpfStatCatalog.of(stat.getKey());
      if (e == null) {
        throw new IllegalStateException(stat.getKey() + " has no entry in BpfStatCatalog");
      }
      int index = stat.getValue().intValue();
      double scale = e.scale();
      FunctionCounter.builder(e.meter(), bpf, b -> b.stat(index) * scale)
          .description(e.description())
          .baseUnit(e.unit())
          .tags(tags(e.tags()))
          .register(registry);
    }

    FunctionCounter.builder("baton.agent.received.events", agent, AgentReadings::eventsReceived)
        .description("Task events the agent has read from the BPF ring buffer")
        .baseUnit("events")
        .register(registry);
    FunctionCounter.builder("baton.agent.written.hints", agent, AgentReadings::hintsWritten)
        .description("Hints the agent has written into the BPF hint maps")
        .baseUnit("hints")
        .register(registry);
    FunctionCounter.builder("baton.agent.refused.hints", agent, AgentReadings::hintsRefused)
        .description("Hint changes the kernel refused (a full hint map); the rest of their batch was written")
        .baseUnit("hints")
        .register(registry);
    Gauge.builder("baton.agent.tracked.tasks", agent, AgentReadings::tasksTracked)
        .description("Live tasks in the agent's task table")
        .baseUnit("tasks")
        .register(registry);
    FunctionCounter.builder("baton.agent.dropped.tasks", agent, AgentReadings::tasksDropped)
        .description("Tasks the agent did not track because its task table (max_tasks) was full")
        .baseUnit("tasks")
        .register(registry);
    for (String c : JOB_CLASSES) {
      Gauge.builder("baton.agent.jobs", agent, a -> a.jobs(c))
          .description("Jobs the agent is running a policy for, by class")
          .baseUnit("jobs")
          .tag("class", c)
          .register(registry);
    }
    FunctionCounter.builder("baton.agent.live.missed.deadlines", agent, AgentReadings::liveDeadlineMisses)
        .description(
            "Frame deadlines of live jobs that passed before the frame was done, as the agent sees"
                + " them: frames due but not done when a job reported its progress")
        .baseUnit("deadlines")
        .register(registry);
    FunctionCounter.builder("baton.agent.abandoned.cmdline.regex.searches", agent, AgentReadings::abandonedRegexSearches)
        .description(
            "cmdline_regex searches that gave up (their budget of characters read, or the stack"
                + " overflowed) and counted as no match; the agent's log names the rule and the process")
        .baseUnit("searches")
        .register(registry);
    FunctionCounter.builder("baton.agent.policy", agent, AgentReadings::policyFailures)
        .description(
            "Exceptions out of the policy that the agent contained: each rebuilt the policy from its"
                + " config, or turned it off (no hints) until a reload; the log has the stack trace")
        .baseUnit("failures")
        .register(registry);
    for (String c : CGROUP_CONTROLS) {
      Gauge.builder("baton.unapplied.cgroups", agent, a -> a.unappliedCgroups(c))
          .description(
              "cgroups that set a CPU control Baton does not apply (cpu.max: a CPU limit the kernel"
                  + " does not pass it, before 6.17), by control; read at most once a minute")
          .baseUnit("cgroups")
          .tag("control", c)
          .register(registry);
    }
    for (boolean enabled : new boolean[] {true, false}) {
      Gauge.builder("baton.scheduler.state", agent, a -> a.schedulerEnabled() == enabled ? 1 : 0)
          .description("1 for the state Baton's sched_ext scheduler is in (enabled: attached and scheduling)")
          .baseUnit("state")
          .tag("state", enabled ? "enabled" : "disabled")
          .register(registry);
    }
    // Registered at zero, so that the first ejection is an increase Prometheus can see.
    ScxExitKind.VALUES.forEach(
        (name, kind) -> {
          if (kind >= ScxExitKind.SCX_EXIT_ERROR) {
            ejections(name.substring("SCX_EXIT_".length()));
          }
        });
    restarts =
        Counter.builder("baton.scheduler.restarts")
            .description(
                "Times the agent attached the scheduler again after the kernel ended it: an"
                    + " ejection, or an exit that asked for a new scheduler")
            .baseUnit("restarts")
            .register(registry);

    registry.getPrometheusRegistry().register(new RunDelayCollector(classNames, bpf));

    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  /** Counts an ejection by the kernel, by exit kind (ERROR, ERROR_STALL, ...). */
  public void ejected(String exitKind) {
    ejections(exitKind).increment();
  }

  private Counter ejections(String exitKind) {
    return Counter.builder("baton.scheduler.ejections")
        .description("Times the kernel ended Baton's scheduler, by exit kind (ERROR_STALL: the watchdog)")
        .baseUnit("ejections")
        .tag("kind", exitKind)
        .register(registry);
  }

  public void restarted() {
    restarts.increment();
  }

  /** The exposition in the Prometheus text format. */
  public String scrape() {
    return registry.scrape();
  }

  /** For tests: every meter, to check descriptions and units. */
  public List<Meter> meters() {
    return registry.getMeters();
  }

  /** For the run-delay histogram and other collectors that Micrometer has no meter type for. */
  public io.prometheus.metrics.model.registry.PrometheusRegistry prometheusRegistry() {
    return registry.getPrometheusRegistry();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }

  private static Tags tags(Map<String, String> m) {
    Tags t = Tags.empty();
    for (Map.Entry<String, String> e : m.entrySet()) {
      t = t.and(e.getKey(), e.getValue());
    }
    return t;
  }

  private static MeterFilter fillMissingUnits() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        String unit = id.getBaseUnit() == null ? MISSING_UNITS.get(id.getName()) : null;
        return unit == null ? id : id.withBaseUnit(unit);
      }
    };
  }
}
