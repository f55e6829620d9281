package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentConfigTest {

  @TempDir Path dir;

  private static RunOptions parse(String yaml) {
    RunOptions.Builder b = new RunOptions.Builder();
    AgentConfig.parse(yaml, "baton.yaml", b);
    return b.build();
  }

  @Test
  void anEmptyFileMeansDefaults() {
    assertThat(parse("")).isEqualTo(RunOptions.defaults());
    assertThat(parse("# only a comment\n")).isEqualTo(RunOptions.defaults());
  }

  @Test
  void theShippedConfigIsValidAndSpellsOutTheDefaults() {
    Path shipped = Path.of(System.getProperty("baton.root", "..")).resolve("deploy/baton.yaml");
    RunOptions.Builder b = new RunOptions.Builder();
    AgentConfig.load(shipped, b);
    RunOptions o = b.build();
    assertThat(o.tunables()).isEqualTo(RunOptions.defaults().tunables());
    assertThat(o.api()).isEqualTo(RunOptions.defaults().api());
    assertThat(o.pinDir()).isEqualTo(RunOptions.DEFAULT_PIN_DIR);
    assertThat(o.jobsFile()).isEqualTo(JobStore.DEFAULT_FILE);
    // Every tunable is documented there, with its default.
    for (Tunable t : Tunable.values()) {
      assertThat(readString(shipped)).contains(t.key() + ": " + t.defaultValue);
    }
  }

  @Test
  void settingsAreRead() {
    RunOptions o =
        parse(
            """
            slice_us: 5_000
            max_tasks: 1024
            listen: 127.0.0.1:0
            pin: false
            tasks_out: /tmp/tasks.tsv
            jobs_file: none
            policy:
              policy: transcode
              rules: []
            """);
    assertThat(o.sliceUs()).isEqualTo(5000);
    assertThat(o.maxTasks()).isEqualTo(1024);
    assertThat(o.api().port()).isZero();
    assertThat(o.pinDir()).isNull();
    assertThat(o.tasksOut()).isEqualTo(Path.of("/tmp/tasks.tsv"));
    assertThat(o.jobsFile()).isNull();
    assertThat(o.policy().policy()).isEqualTo("transcode");
    assertThat(o.policySource()).isEqualTo("null (policy:)"); // parsed from text, not a file
  }

  @Test
  void thePolicyComesFromItsFileOrTheSectionAndTheCommandLineWins() throws Exception {
    Path policyFile = dir.resolve("policy.yaml");
    Files.writeString(policyFile, "policy: transcode\n");
    Path byFile = dir.resolve("by-file.yaml");
    Files.writeString(byFile, "policy_config: " + policyFile + "\n");
    Path inline = dir.resolve("inline.yaml");
    Files.writeString(inline, "pin: false\npolicy:\n  policy: transcode\n  tenants: {acme: {weight: 200}}\n");
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    PolicyDriver d = PolicyDriver.of(RunOptions.parse(List.of("--config", byFile.toString())), 2, System::nanoTime, quiet);
    assertThat(d.policyName()).isEqualTo("transcode");
    assertThat(d.source()).isEqualTo(policyFile.toString());

    RunOptions o = RunOptions.parse(List.of("--config", inline.toString()));
    d = PolicyDriver.of(o, 2, System::nanoTime, quiet);
    assertThat(d.policyName()).isEqualTo("transcode");
    assertThat(d.source()).isEqualTo(inline + " (policy:)");
    assertThat(o.policy().tenants()).containsKey("acme");

    Files.writeString(dir.resolve("fair.yaml"), "policy: fair\n");
    o = RunOptions.parse(List.of("--config", inline.toString(), "--policy-config", dir.resolve("fair.yaml").toString()));
    assertThat(o.policy()).as("--policy-config replaces the section").isNull();
    assertThat(PolicyDriver.of(o, 2, System::nanoTime, quiet).policyName()).isEqualTo("fair");

    assertThat(PolicyDriver.of(RunOptions.parse(List.of()), 2, System::nanoTime, quiet).source()).isNull();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          malformed              | 'slice_us: [1, 2\\n'                  | baton.yaml:2:1: malformed YAML
          tab indentation        | 'pin: true\\n\\tslice_us: 1\\n'       | baton.yaml:2:1: malformed YAML
          unknown key            | 'pin: true\\nslise_us: 100\\n'        | baton.yaml:2:1: unknown setting 'slise_us'
          wrong type             | 'slice_us: fast\\n'                   | baton.yaml:1:11: slice_us must be a whole number, not 'fast'
          float for integer      | 'slice_us: 1.5\\n'                    | baton.yaml:1:11: slice_us must be a whole number, not '1.5'
          out of range           | 'max_tasks: 8\\n'                     | baton.yaml:1:12: max_tasks must be between 16 and 4194304, not 8
          too big for a long     | 'slice_us: 99999999999999999999\\n'   | baton.yaml:1:11: slice_us is out of range
          bool wanted            | 'pin: maybe\\n'                       | baton.yaml:1:6: pin must be true or false, not 'maybe'
          string wanted          | 'listen: [a]\\n'                      | baton.yaml:1:9: listen must be a string, not a sequence
          bad listen             | 'listen: nowhere\\n'                  | baton.yaml:1:9: listen: listen address must be HOST:PORT
          duplicate key          | 'slice_us: 100\\nslice_us: 200\\n'    | baton.yaml:2:1: 'slice_us' is set twice
          not a mapping          | '- slice_us\\n'                       | baton.yaml:1:1: the config must be a mapping
          non-scalar key         | '[a]: 1\\n'                           | baton.yaml:1:1: setting names are plain words
          null value             | 'slice_us:\\n'                        | baton.yaml:1:10: slice_us must be a whole number, not ''
          policy not a mapping   | 'policy: 3\\n'                        | baton.yaml:1:9: policy must be a mapping
          bad policy section     | 'pin: true\\npolicy:\\n  polic: fair\\n'  | baton.yaml:3:3: unknown key 'polic' in the config
          bad policy value       | 'policy:\\n  policy: fast\\n'        | baton.yaml:2:11: policy must be one of
          policy given twice     | 'policy_config: /p.yaml\\npolicy: {}\\n' | baton.yaml:2:1: policy and policy_config are two ways
          empty string           | 'tasks_out: \"\"\\n'                  | baton.yaml:1:12: tasks_out must not be empty
          relative jobs file     | 'jobs_file: jobs.json\\n'             | baton.yaml:1:12: jobs_file takes an absolute file name, or none, not 'jobs.json'
          """)
  void badFilesAreOneErrorWithLineAndColumn(String what, String yaml, String expected) {
    String text = yaml.replace("\\n", "\n").replace("\\t", "\t");
    assertThatThrownBy(() -> parse(text))
        .as(what)
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(expected)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void theCommandLineOverridesTheFileWhereverConfigAppears() throws Exception {
    Path f = dir.resolve("baton.yaml");
    Files.writeString(f, "slice_us: 5000\nmax_tasks: 1024\n");
    RunOptions o = RunOptions.parse(List.of("--slice-us", "7000", "--config", f.toString()));
    assertThat(o.sliceUs()).isEqualTo(7000);
    assertThat(o.maxTasks()).isEqualTo(1024);
    assertThat(o.configFile()).isEqualTo(f);
  }

  @Test
  void unreadableOrMissingFilesAreNamed() throws Exception {
    assertThatThrownBy(() -> RunOptions.parse(List.of("--config", dir.resolve("nope.yaml").toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageEndingWith("nope.yaml: no such file");
    Path latin1 = dir.resolve("latin1.yaml");
    Files.write(latin1, new byte[] {'p', 'i', 'n', ':', ' ', (byte) 0xe9, '\n'});
    assertThatThrownBy(() -> RunOptions.parse(List.of("--config", latin1.toString())))
        .hasMessageEndingWith("latin1.yaml: not UTF-8 text");
  }

  @Test
  void runReportsABadConfigBeforeLookingAtTheKernel() throws Exception {
    // This host has no sched_ext: were the kernel checked first, run would exit 3 and say so.
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "slice_us: 100\ntimeout_ms: 99999999\n");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.run(
            List.of("run", "--config", f.toString()),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isEqualTo(Main.USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "baton: "
                + f
                + ":2:13: timeout_ms must be 0 (the kernel's default) or between 4000 and 30000, not 99999999\n");
  }

  private static String readString(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
