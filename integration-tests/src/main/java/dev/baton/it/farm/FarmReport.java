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

  /**
   * How long LIVE tasks waited from wakeup to running in a Baton run, as the BPF side's log2
   * histogram bounds them: "p99 < P ms, max < M ms" ("inf" past its last bucket).
   */
  static Optional<String> liveWait(Run run) {
    return liveWaitRecord(run)
        .map(a -> "p99 < " + ms(a.get("live_delay_p99_us")) + ", max < " + ms(a.get("live_delay_max_us")));
  }

  /** The agent record of a run that has LIVE's wait bounds (a Baton run's). */
  private static Optional<Record> liveWaitRecord(Run run) {
    return run.all("agent").stream().filter(a -> a.fields().containsKey("live_delay_max_us")).findFirst();
  }

  private static String ms(String us) {
    return us.equals("inf") ? "inf" : fmt("%.1f ms", Long.parseLong(us) / 1000.0);
  }

  /** The agent's CPU time during a run, in % of the guest's CPUs over the run's seconds. */
  static Optional<Double> agentShare(FarmResults results, Run run) {
    double cpus = Double.parseDouble(results.facts().getOrDefault("cpus", "0"));
    return run.all("agent").stream()
        .filter(a -> a.fields().containsKey("cpu_ms"))
        .findFirst()
        .flatMap(
            a ->
                run.summary()
                    .filter(sum -> cpus > 0)
                    .map(sum -> a.number("cpu_ms") / (10 * sum.number("seconds") * cpus)));
  }

  /** The guest's CPU time in the kernel during the run, in %, if the run recorded it. */
  static Optional<Double> kernelShare(Run run) {
    return run.all("guest").stream().findFirst().map(g -> g.number("system_pct"));
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
              "  %-24s %8s %11s %11s %12s %8s %9s %7s %7s%n",
              "setup",
              "missed",
              "late p50",
              "late p99",
              "VOD units/s",
              "vs FIFO",
              "fairness",
              "stall",
              "kernel"));
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
                "  %-24s %7.2f%% %8.1f ms %8.1f ms %12s %8s %9s %6.1f%% %7s%n",
                label,
                r.number("live_missed_pct"),
                r.number("late_p50_us") / 1000,
                r.number("late_p99_us") / 1000,
                vod ? fmt("%.1f", r.number("vod_units_per_s")) : "-",
                vsFifo(results, run).map(x -> fmt("%.2fx", x)).orElse("-"),
                vod ? fmt("%.2f", r.number("vod_fairness")) : "-",
                r.number("stall_pct"),
                kernelShare(run).map(x -> fmt("%.1f%%", x)).orElse("-")));
      }
      for (Run run : ordered(results, scenario)) {
        agentShare(results, run)
            .ifPresent(
                share ->
                    b.append(
                        fmt(
                            "  (Baton's agent used %.1f%% of the guest's CPU during the run, CPU"
                                + " that VOD did not get.)%n",
                            share)));
        liveWait(run)
            .ifPresent(
                w -> b.append(fmt("  (Under Baton, live tasks waited from wakeup to running: %s.)%n", w)));
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
                + " scheduler."
                + "%nkernel: the guest's CPU time spent in the kernel, the scheduler's callbacks"
                + " included.%n"));
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
          agentShare(results, run).ifPresent(x -> f.add(num("agent_cpu_pct", x)));
          liveWaitRecord(run)
              .ifPresent(
                  a -> {
                    f.add(bound("live_wait_p99_ms_below", a.get("live_delay_p99_us")));
                    f.add(bound("live_wait_max_ms_below", a.get("live_delay_max_us")));
                  });
          kernelShare(run).ifPresent(x -> f.add(num("kernel_pct", x)));
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

  /** One panel of the chart: a figure of each run's summary, in its unit, on a linear axis. */
  record Panel(String title, String unit, List<String> keys, double scale, boolean vod) {}

  /** The table's figures, one panel each: lateness shows p50 (pale) beside p99. */
  static final List<Panel> PANELS =
      List.of(
          new Panel("live frames missed", "%", List.of("live_missed_pct"), 1, false),
          new Panel("live lateness p50, p99", "ms", List.of("late_p50_us", "late_p99_us"), 1e-3, false),
          new Panel("VOD throughput", "units/s", List.of("vod_units_per_s"), 1, true),
          new Panel("VOD fairness (1 = as intended)", "", List.of("vod_fairness"), 1, true));

  /** Lateness beyond this many frame periods of the slowest encoder runs off the top of its axis. */
  static final double LATENESS_AXIS_PERIODS = 4;

  /** Per scenario, one row of panels (the table's columns), one group of bars per setup. */
  static String svg(FarmResults results) {
    int left = 50, top = 76, panelW = 340, gap = 40, panelH = 200, rowH = panelH + 126;
    List<String> scenarios = results.scenarios();
    StringBuilder b = new StringBuilder();
    b.append(
        fmt(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n"
                + "<text x=\"%d\" y=\"28\" font-size=\"18\">Transcoding farm: live deadlines"
                + " and VOD throughput by scheduler setup</text>%n",
            left + PANELS.size() * (panelW + gap),
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
      for (int k = 0; k < PANELS.size(); k++) {
        panel(b, runs, PANELS.get(k), axis(runs, PANELS.get(k)), left + k * (panelW + gap), y + 50,
            panelW, panelH);
      }
    }
    return b.append("</svg>\n").toString();
  }

  /**
   * A panel's axis, {lo, hi}: from 0 (or the lowest value, if negative) to a little above the
   * highest; missed frames always to 100%, fairness to 1, lateness to a few frame periods at most.
   */
  static double[] axis(List<Run> runs, Panel p) {
    double lo = 0, hi = 0, period = 0;
    for (Run run : runs) {
      Optional<Record> s = run.summary();
      if (s.isEmpty() || (p.vod() && s.get().integer("vod_encoders") == 0)) {
        continue;
      }
      for (String key : p.keys()) {
        double v = s.get().number(key) * p.scale();
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      for (Record e : run.all("encoder")) {
        if (e.get("kind").equals("live")) {
          period = Math.max(period, e.number("period_us") / 1000);
        }
      }
    }
    return switch (p.keys().getFirst()) {
      case "live_missed_pct" -> new double[] {0, 100};
      case "vod_fairness" -> new double[] {0, 1};
      case "late_p50_us" ->
          new double[] {lo, Math.max(1, period > 0 ? Math.min(hi, LATENESS_AXIS_PERIODS * period) : hi)};
      default -> new double[] {lo, hi > 0 ? hi * 1.15 : 1};
    };
  }

  private static void panel(
      StringBuilder b, List<Run> runs, Panel p, double[] axis, int x, int y, int w, int h) {
    double lo = axis[0], hi = axis[1];
    int zero = y + (int) Math.round(h * hi / (hi - lo));
    b.append(
        fmt(
            "<text x=\"%d\" y=\"%d\">%s%s</text>%n",
            x, y - 18, esc(p.title()), p.unit().isEmpty() ? "" : " (" + esc(p.unit()) + ")"));
    b.append(
        fmt(
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            x, zero, x + w, zero));
    int slot = w / Math.max(1, runs.size());
    for (int i = 0; i < runs.size(); i++) {
      Run run = runs.get(i);
      int n = p.keys().size(), bw = slot * 2 / 3 / n, bx0 = x + i * slot + slot / 6;
      String colour = setup(run.setup()).colour();
      Optional<Record> s = run.summary();
      if (s.isEmpty() || (p.vod() && s.get().integer("vod_encoders") == 0)) {
        b.append(
            fmt(
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\">%s</text>%n",
                bx0 + slot / 3, zero - 4, s.isEmpty() ? "not run" : "no VOD"));
      } else {
        for (int k = 0; k < n; k++) {
          double v = s.get().number(p.keys().get(k)) * p.scale();
          double shown = Math.clamp(v, lo, hi);
          int top = y + (int) Math.round(h * (hi - Math.max(shown, 0)) / (hi - lo));
          int bottom = y + (int) Math.round(h * (hi - Math.min(shown, 0)) / (hi - lo));
          int bx = bx0 + k * bw;
          b.append(
              fmt(
                  "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"%s/>%n",
                  bx, top, Math.max(1, bw - 1), Math.max(1, bottom - top), colour,
                  k < n - 1 ? " fill-opacity=\"0.45\"" : ""));
          String label =
              "ms".equals(p.unit()) && Math.abs(v) >= 1000
                  ? fmt("%.1fs", v / 1000)
                  : fmt(Math.abs(v) >= 100 ? "%.0f" : Math.abs(v) >= 10 ? "%.1f" : "%.2f", v);
          b.append(
              fmt(
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"%d\">%s%s</text>%n",
                  bx + bw / 2, v >= 0 ? top - 4 : bottom + 12, n > 1 ? 9 : 11,
                  v > hi ? "\u2191" : "", label));
        }
      }
      b.append(
          fmt(
              "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%s</text>%n",
              bx0 + slot / 3, y + h + 30, esc(run.setup())));
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

  /** A histogram bucket's upper bound in µs as ms; null for the last bucket, which has none. */
  private static String bound(String key, String us) {
    return us.equals("inf") ? "\"" + key + "\":null" : num(key, Long.parseLong(us) / 1000.0);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  private FarmReport() {}
}
