package dev.baton.it.farm;

import dev.baton.it.farm.FarmResults.Record;
import dev.baton.it.farm.FarmResults.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Turns farm-scenarios.sh output into the demo's table (stdout), {@code farm.json} and {@code
 * farm.svg}. Usage: {@code FarmReport LOG OUT_DIR}.
 */
public final class FarmReport {

  /** A setup as the table and chart show it. */
  record Setup(String name, String label, String colour) {}

  /** The setups in the order the table lists them. */
  static final List<Setup> SETUPS =
      List.of(
          new Setup("alone", "live alone (reference)", "#9e9e9e"),
          new Setup("eevdf", "EEVDF default", "#d95f02"),
          new Setup("nice", "EEVDF, live at nice -10", "#e6ab02"),
          new Setup("fifo", "live at SCHED_FIFO", "#7570b3"),
          new Setup("baton", "Baton, transcode policy", "#1b9e77"));

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: FarmReport LOG OUT_DIR");
      System.exit(2);
    }
    FarmResults results = FarmResults.parse(Files.readString(Path.of(args[0])));
    if (results.runs().isEmpty()) {
      System.err.println("farm report: no runs in " + args[0]);
      System.exit(1);
    }
    Path out = Path.of(args[1]);
    Files.createDirectories(out);
    System.out.print(table(results));
    Files.writeString(out.resolve("farm.json"), json(results));
    Files.writeString(out.resolve("farm.svg"), svg(results));
  }

  static Setup setup(String name) {
    return SETUPS.stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElse(new Setup(name, name, "#666666"));
  }

  /** The runs of a scenario in table order: known setups first, the rest as they ran. */
  static List<Run> ordered(FarmResults results, String scenario) {
    List<String> order = SETUPS.stream().map(Setup::name).toList();
    List<Run> runs = new ArrayList<>(results.runs(scenario));
    runs.sort(
        Comparator.comparingInt(
            r -> order.contains(r.setup()) ? order.indexOf(r.setup()) : order.size()));
    return runs;
  }

  /** Live encoders' frame rates and CPU demand, VOD encoders and tenants (the fullest run's). */
  static String describe(FarmResults results, String scenario) {
    List<Record> encoders =
        results.runs(scenario).stream()
            .map(r -> r.all("encoder"))
            .max(Comparator.comparingInt(List::size))
            .orElse(List.of());
    List<Record> live = encoders.stream().filter(e -> e.get("kind").equals("live")).toList();
    List<Record> vod = encoders.stream().filter(e -> e.get("kind").equals("vod")).toList();
    if (encoders.isEmpty()) {
      return scenario;
    }
    double cpus = Double.parseDouble(results.facts().getOrDefault("cpus", "1"));
    // Real encoders (cmd) have no declared cost: their demand is whatever encoding takes.
    double demand =
        live.stream()
            .filter(e -> e.fields().containsKey("cost_us"))
            .mapToDouble(e -> e.number("cost_us") / e.number("period_us"))
            .sum();
    long real = live.stream().filter(e -> e.fields().containsKey("cmd")).count();
    // What the live encoders really used when alone: their cost plus waking, switching, timing.
    String measured =
        results
            .run(scenario, "alone")
            .flatMap(
                r ->
                    r.summary()
                        .map(
                            sum ->
                                fmt(
                                    " (%.0f%% measured alone)",
                                    liveCpuMs(r) / (10 * sum.number("seconds") * cpus))))
            .orElse("");
    String fps =
        live.stream()
            .map(e -> fmt("%.0f", 1e6 / e.number("period_us")))
            .collect(Collectors.joining(", "));
    String tenants =
        vod.stream().map(e -> e.get("tenant")).distinct().collect(Collectors.joining(", "));
    return fmt(
        "%s: %d live encoders (%s fps) needing %.0f%% of %.0f CPUs%s%s; %d VOD encoders"
            + " (%d threads, tenants %s)",
        scenario,
        live.size(),
        fps,
        100 * demand / cpus,
        cpus,
        measured,
        real > 0 ? fmt(" plus %d real encoders", real) : "",
        vod.size(),
        vod.stream().mapToLong(e -> e.integer("threads")).sum(),
        tenants);
  }

  private static double liveCpuMs(Run run) {
    return run.all("live").stream().mapToDouble(l -> l.number("cpu_ms")).sum();
  }

  /** VOD throughput relative to the SCHED_FIFO setup of the same scenario, if both ran. */
  static Optional<Double> vsFifo(FarmResults results, Run run) {
    Optional<Record> fifo = results.run(run.scenario(), "fifo").flatMap(Run::summary);
    Optional<Record> own = run.summary();
    if (fifo.isEmpty()
        || own.isEmpty()
        || own.get().integer("vod_encoders") == 0
        || fifo.get().number("vod_units_per_s") <= 0) {
      return Optional.empty();
    }
    return Optional.of(own.get().number("vod_units_per_s") / fifo.get().number("vod_units_per_s"));
  }

  static String table(FarmResults results) {
    StringBuilder b = new StringBuilder();
    b.append(
        fmt(
            "Transcoding farm on %s vCPUs, kernel %s.%n",
            results.facts().getOrDefault("cpus", "?"),
            results.facts().getOrDefault("kernel", "?")));
    for (String scenario : results.scenarios()) {
      b.append(fmt("%n%s%n", describe(results, scenario)));
      b.append(
          fmt(
              "  %-24s %8s %11s %11s %12s %8s %9s %7s%n",
              "setup",
              "missed",
              "late p50",
              "late p99",
              "VOD units/s",
              "vs FIFO",
              "fairness",
              "stall"));
      for (Run run : ordered(results, scenario)) {
        String label = setup(run.setup()).label();
        Optional<Record> s = run.summary();
        if (s.isEmpty()) {
          b.append(fmt("  %-24s not run: %s%n", label, run.error().orElse("no summary")));
          continue;
        }
        Record r = s.get();
        boolean vod = r.integer("vod_encoders") > 0;
        b.append(
            fmt(
                "  %-24s %7.2f%% %8.1f ms %8.1f ms %12s %8s %9s %6.1f%%%n",
                label,
                r.number("live_missed_pct"),
                r.number("late_p50_us") / 1000,
                r.number("late_p99_us") / 1000,
                vod ? fmt("%.1f", r.number("vod_units_per_s")) : "-",
                vsFifo(results, run).map(x -> fmt("%.2fx", x)).orElse("-"),
                vod ? fmt("%.2f", r.number("vod_fairness")) : "-",
                r.number("stall_pct")));
      }
    }
    b.append(
        fmt(
            "%nmissed: live frames done after their deadline (the next frame's release)."
                + "%nlate p50/p99: completion - deadline over all live frames (negative: early)."
                + "%nfairness: worst tenant's VOD throughput over the best's, per unit of weight"
                + " (1 = as intended)."
                + "%nstall: live encoders' CPU time that the host took from the guest's vCPUs;"
                + " a run with more than a few %% measured the host, not the guest's"
                + " scheduler.%n"));
    return b.toString();
  }

  static String json(FarmResults results) {
    List<String> scenarios = new ArrayList<>();
    for (String scenario : results.scenarios()) {
      List<String> runs = new ArrayList<>();
      for (Run run : ordered(results, scenario)) {
        List<String> f = new ArrayList<>();
        f.add(str("setup", run.setup()));
        f.add(str("label", setup(run.setup()).label()));
        Optional<Record> s = run.summary();
        if (s.isEmpty()) {
          f.add(str("error", run.error().orElse("no summary")));
        } else {
          Record r = s.get();
          f.add(num("live_missed_pct", r.number("live_missed_pct")));
          f.add(num("late_p50_ms", r.number("late_p50_us") / 1000));
          f.add(num("late_p99_ms", r.number("late_p99_us") / 1000));
          f.add(num("late_max_ms", r.number("late_max_us") / 1000));
          f.add(num("vod_units_per_s", r.number("vod_units_per_s")));
          vsFifo(results, run).ifPresent(x -> f.add(num("vod_vs_fifo", x)));
          f.add(num("vod_fairness", r.number("vod_fairness")));
          f.add(num("stall_pct", r.number("stall_pct")));
          f.add(
              array(
                  "live",
                  run.all("live"),
                  l ->
                      List.of(
                          str("name", l.get("name")),
                          num("frames", l.number("frames")),
                          num("missed", l.number("missed")),
                          num("late_p50_ms", l.number("late_p50_us") / 1000),
                          num("late_p99_ms", l.number("late_p99_us") / 1000),
                          num("cpu_ms", l.number("cpu_ms")),
                          num("stall_pct", l.number("stall_pct")))));
          f.add(
              array(
                  "tenants",
                  run.all("tenant"),
                  t ->
                      List.of(
                          str("name", t.get("name")),
                          num("weight", t.number("weight")),
                          num("units_per_s", t.number("units_per_s")))));
        }
        runs.add("{" + String.join(",", f) + "}");
      }
      scenarios.add(
          "{"
              + String.join(
                  ",",
                  str("name", scenario),
                  str("description", describe(results, scenario)),
                  "\"runs\":[\n" + String.join(",\n", runs) + "]")
              + "}");
    }
    return "{"
        + String.join(
            ",",
            num("cpus", Double.parseDouble(results.facts().getOrDefault("cpus", "0"))),
            str("kernel", results.facts().getOrDefault("kernel", "")),
            "\"scenarios\":[\n" + String.join(",\n", scenarios) + "]")
        + "}\n";
  }

  /** Per scenario, two panels: live frames missed and VOD throughput, one bar per setup. */
  static String svg(FarmResults results) {
    int left = 50, top = 70, panelW = 440, panelH = 220, rowH = panelH + 120;
    List<String> scenarios = results.scenarios();
    StringBuilder b = new StringBuilder();
    b.append(
        fmt(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n"
                + "<text x=\"%d\" y=\"28\" font-size=\"18\">Transcoding farm: live deadlines"
                + " and VOD throughput by scheduler setup</text>%n",
            left + 2 * (panelW + 60),
            top + rowH * scenarios.size() + 20,
            left));
    int lx = left;
    for (Setup s : SETUPS) {
      b.append(
          fmt(
              "<rect x=\"%d\" y=\"42\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                  + "<text x=\"%d\" y=\"53\">%s</text>%n",
              lx, s.colour(), lx + 16, esc(s.label())));
      lx += 30 + 7 * s.label().length();
    }
    for (int i = 0; i < scenarios.size(); i++) {
      String scenario = scenarios.get(i);
      int y = top + i * rowH;
      b.append(
          fmt(
              "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\">%s</text>%n",
              left, y + 20, esc(describe(results, scenario))));
      List<Run> runs = ordered(results, scenario);
      double maxVod =
          runs.stream()
              .flatMap(r -> r.summary().stream())
              .mapToDouble(r -> r.number("vod_units_per_s"))
              .max()
              .orElse(0);
      panel(
          b, runs, left, y + 50, panelW, panelH, "live frames missed (%)", "live_missed_pct", 112);
      panel(
          b,
          runs,
          left + panelW + 60,
          y + 50,
          panelW,
          panelH,
          "VOD throughput (units/s)",
          "vod_units_per_s",
          maxVod > 0 ? maxVod * 1.15 : 1);
    }
    return b.append("</svg>\n").toString();
  }

  private static void panel(
      StringBuilder b, List<Run> runs, int x, int y, int w, int h, String title, String key,
      double max) {
    b.append(fmt("<text x=\"%d\" y=\"%d\">%s</text>%n", x, y - 12, esc(title)));
    b.append(
        fmt(
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            x, y + h, x + w, y + h));
    int slot = w / Math.max(1, runs.size());
    for (int i = 0; i < runs.size(); i++) {
      Run run = runs.get(i);
      int bx = x + i * slot + slot / 6, bw = slot * 2 / 3, bh = 0;
      String value = "not run";
      Optional<Record> s = run.summary();
      if (s.isPresent() && key.startsWith("vod_") && s.get().integer("vod_encoders") == 0) {
        value = "no VOD";
      } else if (s.isPresent()) {
        double v = s.get().number(key);
        bh = (int) Math.round(Math.clamp(v / max, 0, 1) * h);
        b.append(
            fmt(
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n",
                bx, y + h - bh, bw, bh, setup(run.setup()).colour()));
        value = fmt(v >= 100 ? "%.0f" : "%.1f", v);
      }
      b.append(
          fmt(
              "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n"
                  + "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%s</text>%n",
              bx + bw / 2, y + h - 4 - bh, value, bx + bw / 2, y + h + 16, esc(run.setup())));
    }
  }

  private static String array(
      String key, List<Record> records, java.util.function.Function<Record, List<String>> fields) {
    return "\"" + key + "\":["
        + records.stream()
            .map(r -> "{" + String.join(",", fields.apply(r)) + "}")
            .collect(Collectors.joining(","))
        + "]";
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private static String str(String key, String value) {
    StringBuilder b = new StringBuilder("\"").append(key).append("\":\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"', '\\' -> b.append('\\').append(c);
        default -> b.append(c < 0x20 ? fmt("\\u%04x", (int) c) : String.valueOf(c));
      }
    }
    return b.append('"').toString();
  }

  private static String num(String key, double value) {
    boolean whole = value == Math.rint(value) && Math.abs(value) < 1e15;
    return "\"" + key + "\":" + (whole ? Long.toString((long) value) : fmt("%.3f", value));
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  private FarmReport() {}
}
