package dev.baton.agent.metrics;

import java.util.Map;

/**
 * What each BPF counter (an entry of {@code enum baton_stat} in bpf/intf.h) is called in
 * Prometheus, its unit and what it means. The meters themselves are made from the generated
 * enum, so a new stat is exported as soon as it has a line here; BpfStatCatalogTest fails for a
 * stat without one. A meter's name ends with its unit, which Prometheus conventions want last.
 */
public final class BpfStatCatalog {

  /**
   * @param meter Micrometer name (dots; baton_ prefix), several stats may share one with tags
   * @param unit the base unit, which the name ends with
   * @param scale multiplies the raw count into the unit (1e-9 for a nanosecond sum in seconds)
   * @param tags labels that tell stats of one meter apart, e.g. class=live
   */
  public record Entry(String meter, String unit, double scale, Map<String, String> tags, String description) {}

  private static Entry count(String meter, String unit, String description, String... tags) {
    return new Entry(meter, unit, 1, pairs(tags), description);
  }

  private static Entry nanosAsSeconds(String meter, String description, String... tags) {
    return new Entry(meter, "seconds", 1e-9, pairs(tags), description);
  }

  private static final Map<String, Entry> ENTRIES =
      Map.ofEntries(
          Map.entry(
              "BATON_STAT_EVENTS_DROPPED",
              count(
                  "baton.bpf.ring.dropped.events",
                  "events",
                  "Task events the BPF side could not hand to the agent because the ring buffer was"
                      + " full (agent slow or absent); the task is scheduled all the same")),
          Map.entry(
              "BATON_STAT_ENQUEUES",
              count(
                  "baton.bpf.enqueued.tasks",
                  "tasks",
                  "Tasks queued by ops.enqueue: in a class DSQ, or a waking live task onto the CPU"
                      + " it preempts")),
          Map.entry(
              "BATON_STAT_DIRECT",
              count("baton.bpf.direct.tasks", "tasks", "Tasks sent straight to an idle CPU by select_cpu")),
          dispatch("BATON_STAT_DISPATCH_LIVE", "live"),
          dispatch("BATON_STAT_DISPATCH_INTERACTIVE", "interactive"),
          dispatch("BATON_STAT_DISPATCH_NORMAL", "normal"),
          dispatch("BATON_STAT_DISPATCH_BATCH", "batch"),
          dispatch("BATON_STAT_DISPATCH_IDLE", "idle"),
          Map.entry(
              "BATON_STAT_GUARD",
              count(
                  "baton.bpf.guard.dispatches",
                  "dispatches",
                  "Dispatches the starvation guard forced ahead of a higher class (starve_ms)")),
          Map.entry(
              "BATON_STAT_KICKS",
              count("baton.bpf.kicks.cpus", "cpus", "CPUs preempted for a waking live task")),
          Map.entry(
              "BATON_STAT_WAKE_PREEMPTS",
              count(
                  "baton.bpf.wake.preempts.cpus",
                  "cpus",
                  "CPUs preempted for a waking task of a class below live: the CPU ran a lower"
                      + " class, or its own class further along in virtual time")),
          Map.entry(
              "BATON_STAT_REENQUEUES",
              count(
                  "baton.bpf.reenqueued.tasks",
                  "tasks",
                  "Tasks handed back to their queues from a CPU's local queue (kernels 7.1+): a"
                      + " higher scheduling class (RT, deadline) preempted them there, or the CPU"
                      + " could not run them at once")),
          Map.entry(
              "BATON_STAT_STALE_ENQUEUES",
              count(
                  "baton.bpf.stale.enqueues",
                  "enqueues",
                  "Enqueues that ignored hints because the agent's heartbeat was stale (stale_ms)")),
          Map.entry(
              "BATON_STAT_STALE_PERIODS",
              count("baton.bpf.stale.periods", "periods", "Times the agent's heartbeat went stale")),
          Map.entry(
              "BATON_STAT_STALE_NS",
              nanosAsSeconds(
                  "baton.bpf.stale.seconds",
                  "Time spent with a stale heartbeat, hints ignored (to the last timer tick)")),
          Map.entry(
              "BATON_STAT_HINT_LOOKUPS",
              count(
                  "baton.bpf.hint.lookups",
                  "lookups",
                  "Hint resolutions: a task's first, or after a hint change")),
          Map.entry(
              "BATON_STAT_HINTS_INVALID",
              count(
                  "baton.bpf.invalid.hints",
                  "hints",
                  "Hints ignored as malformed (bad class or weight, live without a deadline)")),
          Map.entry(
              "BATON_STAT_AGENT_DEATHS",
              count(
                  "baton.bpf.agent.deaths",
                  "deaths",
                  "Agents that died without detaching while their heartbeat was fresh: their hints"
                      + " were kept for handover_grace_ms, for the next agent")),
          Map.entry(
              "BATON_STAT_LIVE_OVERRUNS",
              count(
                  "baton.bpf.live.overruns",
                  "overruns",
                  "Live tasks that ran a whole relative deadline without sleeping: until each"
                      + " slept, its deadline was 100 ms later, after the live tasks on time")),
          Map.entry(
              "BATON_STAT_CPU_MAX_THROTTLES",
              count(
                  "baton.bpf.cpu.max.throttles",
                  "throttles",
                  "Tasks held back until a cgroup of theirs that had used its cpu.max quota for the"
                      + " period got more")));

  private static Map.Entry<String, Entry> dispatch(String stat, String schedClass) {
    return Map.entry(
        stat,
        count(
            "baton.bpf.dispatched.tasks",
            "tasks",
            "Tasks given a CPU from their class DSQ (live: also those sent straight onto the CPU"
                + " they preempt)",
            "class",
            schedClass));
  }

  private BpfStatCatalog() {}

  /** The entry for a baton_stat enumerator name, or null if it has none (a build error: see the test). */
  public static Entry of(String statName) {
    return ENTRIES.get(statName);
  }

  static Map<String, Entry> entries() {
    return ENTRIES;
  }

  private static Map<String, String> pairs(String... kv) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return Map.copyOf(m);
  }
}
