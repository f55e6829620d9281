package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random inputs against the config parser: mutations of the shipped file and generated
 * documents. Every input must either parse into valid options or be refused with one line
 * naming the file (and, when YAML got that far, line and column); nothing else may escape.
 */
class AgentConfigFuzzTest {

  private static final long SEED = 0xBA70_2026L;
  private static final int MUTATIONS = 10_000;
  private static final int DOCUMENTS = 10_000;
  private static final String YAML_CHARS = ":-[]{}#&*!|>'\"%@`\t\n ,?.=_0123456789eE+~\\";
  private static final List<String> KEYS =
      List.of(
          "slice_us", "max_tasks", "stale_ms", "timeout_ms", "restart_max", "restart_backoff_ms", "handover_grace_ms",
          "listen", "token_file", "tasks_out", "pin", "pin_dir", "policy", "slice", "Slice_us",
          "", "<<", "? x");
  private static final List<String> VALUES =
      List.of(
          "0", "-1", "100", "20000", "4194304", "9223372036854775807", "99999999999999999999",
          "0x10", "0o17", "1_000", "1.5", ".inf", "-.nan", "1e3", "true", "no", "~", "null", "''",
          "\"\"", "127.0.0.1:9755", "[::1]:9755", "nowhere", ":9755", "host:99999", "/tmp/x",
          "[]", "{}", "[1, 2]", "{a: 1}", "&a 5", "*a", "!!str 100", "!!int x", "!!binary AAAA",
          "|\n  text", ">\n  folded", "\"\\u0000\"", "\"\\xff\"", "😀", "- a\n- b",
          // The policy: section goes to the policies' parser.
          "{policy: transcode}", "{policy: fair, rules: 7}", "{transcode: {window_ms: 1}}",
          "{rules: [{match: {comm: x}, job: {class: live, fps: 30}}]}", "{tenants: {a: {weight: 0}}}");

  private final Random random = new Random(SEED);

  @Test
  void mutationsOfTheShippedConfig() throws Exception {
    String shipped =
        Files.readString(Path.of(System.getProperty("baton.root", "..")).resolve("deploy/baton.yaml"));
    int refused = 0;
    for (int i = 0; i < MUTATIONS; i++) {
      StringBuilder b = new StringBuilder(shipped);
      for (int m = 1 + random.nextInt(4); m > 0; m--) {
        int at = random.nextInt(b.length() + 1);
        switch (random.nextInt(4)) {
          case 0 -> b.insert(at, randomChar());
          case 1 -> {
            if (at < b.length()) {
              b.deleteCharAt(at);
            }
          }
          case 2 -> {
            if (at < b.length()) {
              b.setCharAt(at, randomChar());
            }
          }
          default -> b.insert(at, VALUES.get(random.nextInt(VALUES.size())));
        }
      }
      refused += check(b.toString(), i) ? 0 : 1;
    }
    // Both outcomes happen, so both paths were exercised.
    assertThat(refused).isBetween(MUTATIONS / 20, MUTATIONS - MUTATIONS / 20);
  }

  @Test
  void generatedDocuments() {
    int refused = 0;
    for (int i = 0; i < DOCUMENTS; i++) {
      StringBuilder b = new StringBuilder();
      if (random.nextInt(10) == 0) {
        b.append("---\n");
      }
      for (int k = random.nextInt(6); k > 0; k--) {
        b.append(" ".repeat(random.nextInt(8) == 0 ? 2 : 0))
            .append(KEYS.get(random.nextInt(KEYS.size())))
            .append(random.nextInt(15) == 0 ? " :" : ":")
            .append(random.nextInt(15) == 0 ? "" : " ")
            .append(VALUES.get(random.nextInt(VALUES.size())))
            .append('\n');
      }
      if (random.nextInt(20) == 0) {
        b.append("---\nslice_us: 100\n");
      }
      refused += check(b.toString(), i) ? 0 : 1;
    }
    assertThat(refused).isBetween(DOCUMENTS / 20, DOCUMENTS - DOCUMENTS / 20);
  }

  /** True if accepted; fails the test on anything but acceptance or a one-line refusal. */
  private static boolean check(String text, int i) {
    RunOptions.Builder b = new RunOptions.Builder();
    try {
      AgentConfig.parse(text, "baton.yaml", b);
    } catch (ConfigException e) {
      assertThat(e.getMessage())
          .as("input %d:%n%s", i, text)
          .matches("baton\\.yaml(:\\d+:\\d+)?: \\S.*")
          .doesNotContain("\n");
      return false;
    } catch (RuntimeException | StackOverflowError e) {
      fail("input %d escaped the parser with %s:%n%s", i, e, text);
    }
    RunOptions o = b.build(); // accepted means valid: building must not refuse it now
    for (Tunable t : Tunable.values()) {
      if (!(t.zeroMeans != null && o.get(t) == 0)) {
        assertThat(o.get(t)).as("input %d: %s", i, t).isBetween(t.min, t.max);
      }
    }
    return true;
  }

  private char randomChar() {
    return random.nextInt(3) == 0
        ? (char) (32 + random.nextInt(0x2000))
        : YAML_CHARS.charAt(random.nextInt(YAML_CHARS.length()));
  }
}
