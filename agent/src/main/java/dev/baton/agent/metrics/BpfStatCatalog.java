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
                      + " full (agent slow or absent); the task is scheduled all the same")));

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
