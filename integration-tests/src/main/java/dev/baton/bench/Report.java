package dev.baton.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.DoubleStream;

/** What a benchmark found: a human-readable table as it goes, and flat JSON at the end. */
final class Report {
  private final Map<String, Object> values = new LinkedHashMap<>();

  /** Records a figure (a Number, String or double[]) under {@code key}. */
  Report put(String key, Object value) {
    if (!(value instanceof Number || value instanceof String || value instanceof double[])) {
      throw new IllegalArgumentException(
          key + ": cannot report a " + value.getClass().getSimpleName());
    }
    if (value instanceof Double d && !Double.isFinite(d)) {
      throw new IllegalArgumentException(key + " is " + d + ", which JSON cannot hold");
    }
    values.put(key, value);
    return this;
  }

  static void print(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
  }

  void writeJson(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    String body =
        values.entrySet().stream()
            .map(e -> "  " + quote(e.getKey()) + ": " + json(e.getValue()))
            .collect(Collectors.joining(",\n", "{\n", "\n}\n"));
    Files.writeString(file, body);
  }

  private static String json(Object value) {
    return switch (value) {
      case String s -> quote(s);
      case double[] a ->
          DoubleStream.of(a).mapToObj(Report::number).collect(Collectors.joining(", ", "[", "]"));
      case Double d -> number(d);
      default -> value.toString();
    };
  }

  /** Four significant digits: the runs differ from each other by more than that. */
  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15
        ? Long.toString((long) d)
        : String.format(Locale.ROOT, "%.4g", d);
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        default -> sb.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
      }
    }
    return sb.append('"').toString();
  }
}
