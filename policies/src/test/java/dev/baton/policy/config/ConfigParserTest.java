package dev.baton.policy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.policy.JobClass;
import dev.baton.policy.JobSpec;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.Match;
import dev.baton.policy.Rule;
import dev.baton.policy.Tenant;
import dev.baton.policy.transcode.TranscodePolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigParserTest {

  static final String EXAMPLE =
      """
      policy: transcode
      tenants:
        acme: {weight: 200}
        globex: {weight: 100}
        initech: {}
      rules:
        - name: acme-live
          match: {cgroup_prefix: /farm/live, comm: ffmpeg}
          job: {class: live, tenant: acme, fps: 59.94, frame_cost_us: 9000}
        - match: {cmdline_regex: "-preset (slow|veryslow)", uid: 1001}
          job: {class: vod, tenant: globex, weight: 300}
        - match: {cgroup_prefix: /farm/batch}
          job: {class: batch}
        - match: {comm: x264}
          job: {class: live, frame_period_us: 40000}
      transcode:
        window_ms: 8000
        live_capacity_pct: 80
      """;

  private static PolicyConfig parse(String yaml) throws ConfigException {
    return ConfigParser.parse(yaml, "baton.yaml");
  }

  @Test
  void theExampleParses() throws ConfigException {
    PolicyConfig c = parse(EXAMPLE);
    assertThat(c.policy()).isEqualTo(TranscodePolicy.NAME);
    assertThat(c.tenants().values())
        .containsExactly(
            new Tenant("acme", 200), new Tenant("globex", 100), new Tenant("initech", 100));
    assertThat(c.rules())
        .containsExactly(
            new Rule(
                "acme-live",
                new Match("/farm/live", "ffmpeg", null, Match.ANY_UID),
                new JobSpec(JobClass.LIVE, "acme", 100, new LiveSpec(16_683, 9_000))),
            new Rule(
                "rule2",
                new Match(null, null, "-preset (slow|veryslow)", 1001),
                new JobSpec(JobClass.VOD, "globex", 300, null)),
            new Rule("rule3", Match.cgroup("/farm/batch"), JobSpec.batch("default")),
            new Rule(
                "rule4",
                new Match(null, "x264", null, Match.ANY_UID),
                JobSpec.live("default", new LiveSpec(40_000, 0))));
    assertThat(c.transcode().windowMs()).isEqualTo(8000);
    assertThat(c.transcode().liveCapacityPct()).isEqualTo(80);
    assertThat(c.transcode().liveMarginPct()).as("a default").isEqualTo(10);
    assertThat(c.newPolicy(4)).isInstanceOf(TranscodePolicy.class);
  }

  @Test
  void aMinimalConfigIsTheFairPolicy() throws ConfigException {
    PolicyConfig c = parse("tenants: {}\n");
    assertThat(c.policy()).isEqualTo("fair");
    assertThat(c.rules()).isEmpty();
  }

  @Test
  void readsAFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("baton.yaml");
    Files.writeString(f, EXAMPLE);
    assertThat(ConfigParser.parse(f).rules()).hasSize(4);
    Files.write(f, new byte[] {'p', ':', (byte) 0xff});
    assertThatThrownBy(() -> ConfigParser.parse(f)).hasMessageContaining("not UTF-8");
    assertThatThrownBy(() -> ConfigParser.parse(dir.resolve("missing.yaml")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cannot read");
  }

  /** Each broken config, the place of its first error, and words the message must have. */
  @ParameterizedTest(name = "[{index}] {1}:{2} {3}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '\'',
      textBlock =
          """
          'policy: transcode\\nfoo: 1'                                  | 2 | 1  | unknown key 'foo' in the config
          'policy: magic'                                               | 1 | 9  | policy must be one of [fair, transcode]
          'policy: [fair]'                                              | 1 | 9  | policy must be a string, got a list
          'tenants:\\n  acme: {weight: 0}'                              | 2 | 18 | weight must be in 1..10000, got 0
          'tenants:\\n  acme: {weight: "200"}'                          | 2 | 18 | weight must be a decimal integer, got '200'
          'tenants:\\n  acme: {weight: 0x10}'                           | 2 | 18 | weight must be a decimal integer
          'tenants:\\n  acme: {wieght: 5}'                              | 2 | 10 | unknown key 'wieght' in tenant acme (known: weight)
          'tenants:\\n  acme: {}\\n  acme: {}'                          | 3 | 3  | duplicate key 'acme'
          'tenants:\\n  "bad name": {}'                                 | 2 | 3  | tenant must be 1..64
          'tenants: [a, b]'                                             | 1 | 10 | tenants must be a mapping, got a list
          'rules: {a: 1}'                                               | 1 | 8  | rules must be a list
          'rules:\\n  - job: {class: vod}'                              | 2 | 5  | a rule needs 'match'
          'rules:\\n  - match: {comm: a}'                               | 2 | 5  | a rule needs 'job'
          'rules:\\n  - match: {}\\n    job: {class: vod}'              | 2 | 12 | at least one of cgroup_prefix, comm, cmdline_regex, uid
          'rules:\\n  - match: {comm: a, pid: 3}\\n    job: {class: vod}' | 2 | 22 | unknown key 'pid' in match
          'rules:\\n  - match: {comm: averyveryverylongname}\\n    job: {class: vod}' | 2 | 19 | comm must be 1..15 bytes
          'rules:\\n  - match: {cgroup_prefix: farm}\\n    job: {class: vod}' | 2 | 28 | cgroup_prefix must be an absolute cgroup path
          'rules:\\n  - match: {cgroup_prefix: /farm/}\\n    job: {class: vod}' | 2 | 28 | cgroup_prefix must be an absolute cgroup path
          'rules:\\n  - match: {cmdline_regex: "(x"}\\n    job: {class: vod}' | 2 | 28 | cmdline_regex is not a valid regular expression
          'rules:\\n  - match: {uid: -1}\\n    job: {class: vod}'       | 2 | 18 | uid must be in 0..2147483647, got -1
          'rules:\\n  - match: {comm: a}\\n    job: {class: realtime}'  | 3 | 18 | class must be one of live, vod, batch
          'rules:\\n  - match: {comm: a}\\n    job: {tenant: acme}'     | 3 | 10 | job needs 'class'
          'rules:\\n  - match: {comm: a}\\n    job: {class: vod, tenant: acme}' | 3 | 31 | tenant 'acme' is not declared under tenants
          'rules:\\n  - match: {comm: a}\\n    job: {class: vod, fps: 30}' | 3 | 28 | for class live only
          'rules:\\n  - match: {comm: a}\\n    job: {class: live}'      | 3 | 18 | exactly one of fps and frame_period_us
          'rules:\\n  - match: {comm: a}\\n    job: {class: live, fps: 30, frame_period_us: 5000}' | 3 | 50 | exactly one of fps and frame_period_us
          'rules:\\n  - match: {comm: a}\\n    job: {class: live, fps: 0}' | 3 | 29 | fps must be in 0.1..1000
          'rules:\\n  - match: {comm: a}\\n    job: {class: live, fps: .inf}' | 3 | 29 | fps must be a decimal number
          'rules:\\n  - match: {comm: a}\\n    job: {class: live, frame_period_us: 10}' | 3 | 41 | frame_period_us must be in 1000..10000000
          'rules:\\n  - match: {comm: a}\\n    job: {class: vod, weight: 10001}' | 3 | 31 | weight must be in 1..10000
          'rules:\\n  - match: {comm: a}\\n    job: {class: vod, weight: 99999999999999999999}' | 3 | 31 | weight must be a decimal integer
          'rules:\\n  - name: x\\n    match: {comm: a}\\n    job: {class: vod}\\n  - name: x\\n    match: {comm: b}\\n    job: {class: vod}' | 5 | 11 | rule name 'x' is already used at line 2
          'rules:\\n  - match: {comm: a}\\n    job: {class: vod}\\n  - name: rule1\\n    match: {comm: b}\\n    job: {class: vod}' | 4 | 11 | rule name 'rule1' is already used
          'transcode:\\n  window_ms: 10'                                | 2 | 14 | window_ms must be in 100..600000, got 10
          'transcode:\\n  slice_ms: 10'                                 | 2 | 3  | unknown key 'slice_ms' in transcode (known: window_ms
          'transcode:\\n  live_lag_slice_us: 200\\n  live_min_slice_us: 300' | 2 | 3 | live_min_slice_us (300) must not exceed live_lag_slice_us (200)
          'policy: fair\\n  bad: indent'                                | 2 | 6  | YAML: mapping values are not allowed here
          'rules:\\n\\t- x'                                             | 2 | 1  | YAML:
          '[1, 2]'                                                      | 1 | 1  | the config must be a mapping, got a list
          'just text'                                                   | 1 | 1  | the config must be a mapping, got 'just text'
          '# only a comment'                                            | 1 | 1  | the config is empty
          'policy: fair\\n---\\npolicy: fair'                           | 2 | 1  | YAML: but found another document
          'a: &x [1]\\nb: *x'                                           | 1 | 1  | unknown key 'a'
          '? [a]\\n: 1'                                                 | 1 | 3  | keys must be plain names, got a list
          'policy: fair\\n<<: {x: 1}'                                   | 2 | 1  | unknown key '<<'
          """)
  void errorsSayWhereAndWhat(String yaml, int line, int column, String words) {
    String text = yaml.replace("\\n", "\n").replace("\\t", "\t");
    assertThatThrownBy(() -> parse(text))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.problem()).contains(words);
              assertThat(e.line()).as("line").isEqualTo(line);
              assertThat(e.column()).as("column").isEqualTo(column);
              assertThat(e.getMessage()).startsWith("baton.yaml:" + line + ":" + column + ": ");
            });
  }

  @Test
  void controlCharactersAreRejectedWithTheirPlace() {
    assertThatThrownBy(() -> parse("policy: fair\npol\u0001icy: x"))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.line()).isEqualTo(2);
              assertThat(e.column()).isEqualTo(4);
              assertThat(e.problem()).contains("U+1");
            });
  }

  @Test
  void oversizedInputIsRejectedBeforeParsing() {
    String big = "policy: fair\n" + "#".repeat(ConfigParser.MAX_CODE_POINTS) + "\n";
    assertThatThrownBy(() -> parse(big)).hasMessageContaining("longer than");
  }

  @Test
  void aliasBombsAreRefused() {
    StringBuilder sb = new StringBuilder("a0: &a0 [x, x]\n");
    for (int i = 1; i < 30; i++) {
      sb.append("a")
          .append(i)
          .append(": &a")
          .append(i)
          .append(" [*a")
          .append(i - 1)
          .append(", *a")
          .append(i - 1)
          .append("]\n");
    }
    assertThatThrownBy(() -> parse(sb.toString())).isInstanceOf(ConfigException.class);
  }

  @Test
  void deepNestingIsRefused() {
    String deep = "rules: " + "[".repeat(5000) + "]".repeat(5000);
    assertThatThrownBy(() -> parse(deep)).isInstanceOf(ConfigException.class);
    assertThat(deep.getBytes(StandardCharsets.UTF_8)).hasSizeGreaterThan(10_000);
  }
}
