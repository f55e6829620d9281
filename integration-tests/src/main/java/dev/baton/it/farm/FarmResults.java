package dev.baton.it.farm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code integration-tests/scripts/farm-scenarios.sh} printed: one {@link Run} per scenario
 * and setup, in the order they ran. Its records are lines of space-separated {@code key=value}
 * pairs that start with {@code setup=S scenario=N record=KIND}; the {@code message} of an {@code
 * error} or {@code skipped} record is the rest of its line. Lines of the form {@code key=value}
 * without a setup are facts about the guest (cpus, kernel); everything else is ignored.
 */
public final class FarmResults {

  /** One record: its kind (encoder, live, vod, tenant, summary, error) and its fields. */
  public record Record(String kind, Map<String, String> fields) {
    public String get(String key) {
      String v = fields.get(key);
      if (v == null) {
        throw new IllegalArgumentException("record=" + kind + " has no " + key + ": " + fields);
      }
      return v;
    }

    public double number(String key) {
      try {
        return Double.parseDouble(get(key));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "record=" + kind + ": " + key + "=" + get(key) + " is not a number", e);
      }
    }

    public long integer(String key) {
      try {
        return Long.parseLong(get(key));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "record=" + kind + ": " + key + "=" + get(key) + " is not a whole number", e);
      }
    }
  }

  /** The records of one scenario under one setup. */
  public record Run(String scenario, String setup, List<Record> records) {
    public List<Record> all(String kind) {
      return records.stream().filter(r -> r.kind().equals(kind)).toList();
    }

    /** The summary record, absent when the run failed. */
    public Optional<Record> summary() {
      return all("summary").stream().findFirst();
    }

    /** Why the run has no results: its error, or why the setup could not run here. */
    public Optional<String> error() {
      return records.stream()
          .filter(r -> r.kind().equals("error") || r.kind().equals("skipped"))
          .findFirst()
          .map(r -> r.get("message"));
    }
  }

  private final Map<String, String> facts;
  private final List<Run> runs;

  private FarmResults(Map<String, String> facts, List<Run> runs) {
    this.facts = facts;
    this.runs = runs;
  }

  /** Guest facts printed before the runs (cpus, kernel, sched_ext_state). */
  public Map<String, String> facts() {
    return facts;
  }

  public List<Run> runs() {
    return runs;
  }

  /** Scenario names in the order they first ran. */
  public List<String> scenarios() {
    return runs.stream().map(Run::scenario).distinct().toList();
  }

  public List<Run> runs(String scenario) {
    return runs.stream().filter(r -> r.scenario().equals(scenario)).toList();
  }

  public Optional<Run> run(String scenario, String setup) {
    return runs.stream()
        .filter(r -> r.scenario().equals(scenario) && r.setup().equals(setup))
        .findFirst();
  }

  /**
   * Parses the script's output. A second run of the same scenario and setup (a repeated round)
   * starts a new Run.
   *
   * @throws IllegalArgumentException on a record line that is not key=value pairs, naming the line
   */
  public static FarmResults parse(String output) {
    Map<String, String> facts = new LinkedHashMap<>();
    List<Run> runs = new ArrayList<>();
    Run current = null;
    int n = 0;
    for (String line : output.lines().toList()) {
      n++;
      if (!line.startsWith("setup=")) {
        int eq = line.indexOf('=');
        if (eq > 0 && line.substring(0, eq).matches("[a-z_]+") && current == null) {
          facts.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
        }
        continue;
      }
      Map<String, String> fields = fields(line, n);
      String setup = fields.remove("setup");
      String scenario = fields.remove("scenario");
      String kind = fields.remove("record");
      if (scenario == null || kind == null) {
        throw new IllegalArgumentException("line " + n + ": no scenario= or record=: " + line);
      }
      // A run starts with its encoders, or with its error if it never started; it ends with its
      // summary or its error.
      boolean sameRun =
          current != null
              && current.setup().equals(setup)
              && current.scenario().equals(scenario)
              && !((kind.equals("encoder") || kind.equals("error") || kind.equals("skipped"))
                  && (current.summary().isPresent() || current.error().isPresent()));
      if (!sameRun) {
        current = new Run(scenario, setup, new ArrayList<>());
        runs.add(current);
      }
      current.records().add(new Record(kind, Map.copyOf(fields)));
    }
    return new FarmResults(facts, List.copyOf(runs));
  }

  private static Map<String, String> fields(String line, int n) {
    Map<String, String> fields = new LinkedHashMap<>();
    int msg = line.indexOf(" message=");
    String pairs = msg < 0 ? line : line.substring(0, msg);
    for (String token : pairs.trim().split(" +")) {
      int eq = token.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("line " + n + ": '" + token + "' is not key=value");
      }
      fields.put(token.substring(0, eq), token.substring(eq + 1));
    }
    if (msg >= 0) {
      fields.put("message", line.substring(msg + " message=".length()).strip());
    }
    return fields;
  }
}
