package dev.baton.policy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.baton.policy.PolicyEngine;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random configs, half built from the config's own vocabulary and half mutated from the
 * example: whatever the input, the parser returns a config that makes an engine, or throws a {@link
 * ConfigException} with a sane place, and nothing else. A failure names its seed and input.
 */
class ConfigFuzzTest {

  private static final int INPUTS_PER_SEED = 30;

  static LongStream seeds() {
    return LongStream.range(0, 100);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void generatedConfigs(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < INPUTS_PER_SEED; i++) {
      check(seed, generate(rnd));
    }
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void mutatedExamples(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
    for (int i = 0; i < INPUTS_PER_SEED; i++) {
      check(seed, mutate(rnd, ConfigParserTest.EXAMPLE));
    }
  }

  private static void check(long seed, String text) {
    PolicyConfig parsed;
    try {
      parsed = ConfigParser.parse(text, "fuzz.yaml");
    } catch (ConfigException e) {
      assertThat(e.line()).as("line of %s", e.getMessage()).isBetween(1, yamlLines(text));
      assertThat(e.column()).as("column of %s", e.getMessage()).isPositive();
      assertThat(e.problem()).isNotBlank();
      return;
    } catch (Throwable t) {
      fail("seed " + seed + ": " + t + " for input:\n" + text, t);
      return;
    }
    try {
      PolicyEngine engine = parsed.newEngine(2, () -> 0L);
      engine.tick();
      assertThat(ConfigParser.parse(text, "fuzz.yaml")).isEqualTo(parsed);
    } catch (Throwable t) {
      fail("seed " + seed + ": accepted config did not work: " + t + " for input:\n" + text, t);
    }
  }

  /** Lines as YAML counts them: it also breaks at NEL, LS and PS. */
  private static int yamlLines(String text) {
    int lines = 1;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean crlf = c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n';
      if (!crlf && (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029')) {
        lines++;
      }
    }
    return lines;
  }

  // ---- generation from the config's vocabulary ----

  private static final List<String> KEYS =
      List.of(
          "policy",
          "tenants",
          "rules",
          "transcode",
          "name",
          "match",
          "job",
          "cgroup_prefix",
          "comm",
          "cmdline_regex",
          "uid",
          "class",
          "tenant",
          "weight",
          "fps",
          "frame_period_us",
          "frame_cost_us",
          "window_ms",
          "live_margin_pct",
          "live_lag_levels",
          "live_slice_us",
          "live_lag_slice_us",
          "live_min_slice_us",
          "vod_gain_pct",
          "vod_slice_us",
          "acme",
          "globex",
          "<<",
          "?",
          "",
          "x");

  private static final List<String> SCALARS =
      List.of(
          "transcode",
          "fair",
          "live",
          "vod",
          "batch",
          "acme",
          "ffmpeg",
          "/farm/live",
          "/",
          "/farm//x",
          "0",
          "1",
          "-1",
          "100",
          "10000",
          "10001",
          "59.94",
          ".inf",
          ".nan",
          "1e9",
          "0x10",
          "0o7",
          "1_000",
          "1:30",
          "~",
          "null",
          "true",
          "no",
          "\"(x\"",
          "\"-preset slow\"",
          "'[a-z]+'",
          "\"\\u0000\"",
          "9223372036854775808",
          "-9223372036854775809",
          "2147483648",
          "&a 5",
          "*a",
          "!!str 5",
          "!foo bar",
          "|\n  text",
          ">-\n  folded",
          "\"\"",
          "é",
          "\t");

  private static String generate(SplittableRandom rnd) {
    StringBuilder sb = new StringBuilder();
    if (rnd.nextInt(4) == 0) {
      sb.append(scalar(rnd)).append('\n');
      return sb.toString();
    }
    int entries = 1 + rnd.nextInt(4);
    for (int i = 0; i < entries; i++) {
      sb.append(key(rnd)).append(':');
      value(rnd, sb, 1, rnd.nextInt(4));
    }
    return sb.toString();
  }

  private static String key(SplittableRandom rnd) {
    return rnd.nextInt(8) == 0 ? scalar(rnd) : KEYS.get(rnd.nextInt(KEYS.size()));
  }

  private static String scalar(SplittableRandom rnd) {
    return switch (rnd.nextInt(4)) {
      case 0 -> Long.toString(rnd.nextLong(-100_000, 10_000_000));
      case 1 -> rnd.nextInt(1000) + "." + rnd.nextInt(1000);
      default -> SCALARS.get(rnd.nextInt(SCALARS.size()));
    };
  }

  private static void value(SplittableRandom rnd, StringBuilder sb, int indent, int depth) {
    int kind = depth <= 0 ? 0 : rnd.nextInt(5);
    String pad = "  ".repeat(indent);
    switch (kind) {
      case 0, 1 -> sb.append(' ').append(scalar(rnd)).append('\n');
      case 2 -> { // block mapping
        sb.append('\n');
        for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) {
          sb.append(pad).append(key(rnd)).append(':');
          value(rnd, sb, indent + 1, depth - 1);
        }
      }
      case 3 -> { // block list of mappings
        sb.append('\n');
        for (int i = 0, n = 1 + rnd.nextInt(3); i < n; i++) {
          sb.append(pad).append("- ").append(key(rnd)).append(':');
          value(rnd, sb, indent + 2, depth - 1);
        }
      }
      default -> { // flow mapping
        sb.append(" {");
        for (int i = 0, n = rnd.nextInt(4); i < n; i++) {
          sb.append(i > 0 ? ", " : "").append(key(rnd)).append(": ").append(flowScalar(rnd));
        }
        sb.append("}\n");
      }
    }
  }

  private static String flowScalar(SplittableRandom rnd) {
    String s = scalar(rnd);
    return s.contains("\n") ? "x" : s;
  }

  // ---- mutation of a valid config ----

  private static final String ALPHABET =
      ":-[]{}&*!|>'\"%@`#,?\t\n \\0123456789aZ/é\u0000\u0085\u2028\uFEFF";

  private static String mutate(SplittableRandom rnd, String base) {
    StringBuilder sb = new StringBuilder(base);
    for (int i = 0, n = 1 + rnd.nextInt(6); i < n; i++) {
      if (sb.isEmpty()) {
        break;
      }
      int at = rnd.nextInt(sb.length());
      switch (rnd.nextInt(6)) {
        case 0 -> sb.deleteCharAt(at);
        case 1 -> sb.insert(at, ALPHABET.charAt(rnd.nextInt(ALPHABET.length())));
        case 2 -> sb.setCharAt(at, ALPHABET.charAt(rnd.nextInt(ALPHABET.length())));
        case 3 -> sb.setLength(at); // truncated file
        case 4 -> { // a copied line elsewhere
          String[] lines = sb.toString().split("\n", -1);
          String line = lines[rnd.nextInt(lines.length)];
          sb.insert(sb.lastIndexOf("\n", at) + 1, line + "\n");
        }
        default -> { // a digit run becomes another number
          int d = at;
          while (d < sb.length() && !Character.isDigit(sb.charAt(d))) {
            d++;
          }
          if (d < sb.length()) {
            sb.insert(d, rnd.nextInt(3) == 0 ? "-" : Integer.toString(rnd.nextInt(100_000)));
          }
        }
      }
    }
    return sb.toString();
  }
}
