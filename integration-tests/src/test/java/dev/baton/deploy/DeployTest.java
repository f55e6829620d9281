package dev.baton.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.baton.agent.metrics.AgentReadings;
import dev.baton.agent.metrics.Metrics;
import dev.baton.bpf.abi.BatonStat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What deploy/ ships, checked on the host with the tools that will read it: the installer stages
 * a working runtime image, systemd accepts the unit, promtool accepts the Prometheus files and
 * their alert tests pass, and the dashboard only asks for series the agent exports.
 */
class DeployTest {

  static final Path ROOT = Path.of(System.getProperty("baton.root"));
  static final Path DEPLOY = ROOT.resolve("deploy");
  static final Path PROMTOOL =
      Path.of(System.getProperty("baton.cache", "/var/cache/baton"), "prometheus/usr/bin/promtool");

  @TempDir static Path stage;

  record Run(int exit, String output) {}

  static Run run(Path dir, String... argv) throws IOException, InterruptedException {
    return run(dir, Map.of(), argv);
  }

  /** @param env variables to set for the command; an empty value unsets one */
  static Run run(Path dir, Map<String, String> env, String... argv) throws IOException, InterruptedException {
    ProcessBuilder b = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true);
    env.forEach((k, v) -> {
      if (v.isEmpty()) {
        b.environment().remove(k);
      } else {
        b.environment().put(k, v);
      }
    });
    Process p = b.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).as(String.join(" ", argv)).isTrue();
    return new Run(p.exitValue(), out);
  }

  @BeforeAll
  static void install() throws Exception {
    Run r = run(ROOT, "bash", "deploy/install.sh", "--destdir", stage.toString());
    assertThat(r.exit()).as(r.output()).isZero();
  }

  @Test
  void theInstalledLauncherRunsTheAgentOnItsOwnRuntime() throws Exception {
    Path baton = stage.resolve("opt/baton/bin/baton");
    Run help = run(ROOT, baton.toString(), "help");
    assertThat(help.exit()).as(help.output()).isZero();
    assertThat(help.output()).contains("usage: baton <command>");
    // The shipped config is what the installed agent reads, and it accepts it.
    Path config = stage.resolve("etc/baton/baton.yaml");
    assertThat(config).hasSameTextualContentAs(DEPLOY.resolve("baton.yaml"));
    Run check = run(ROOT, baton.toString(), "run", "--config", config.toString(), "--slice-us", "5");
    assertThat(check.output()).contains("--slice-us must be between 100 and 1000000, not 5");
  }

  @Test
  void bothLaunchersGiveTheAgentTheHeapInJvmArgsAndBatonJavaOptsOverridesIt() throws Exception {
    assertThat(stage.resolve("opt/baton/lib/jvm.args")).hasSameTextualContentAs(DEPLOY.resolve("jvm.args"));
    assertThat(Files.readString(DEPLOY.resolve("jvm.args"))).contains("\n-Xmx512m\n");
    for (Path baton : List.of(ROOT.resolve("bin/baton"), stage.resolve("opt/baton/bin/baton"))) {
      // The largest max_tasks needs ~6 GB: refused under jvm.args's 512 MB (the JVM's own
      // default on a host of 16 GB or more would have taken it).
      Run small = run(ROOT, Map.of("BATON_JAVA_OPTS", ""), baton.toString(), "run", "--max-tasks", "4194304");
      assertThat(small.exit()).as(small.output()).isEqualTo(2);
      assertThat(small.output())
          .as(baton.toString())
          .containsPattern("max_tasks 4194304 needs a heap of about 6208 MB .*, more than this JVM's 5[01][0-9] MB")
          .contains("give the agent -Xmx7g");
      // The operator's override comes after jvm.args and wins: past the heap check, the run
      // stops at the preflight (no sched_ext) or, on a host that has it, at the missing policy
      // file, before anything is attached.
      Run big =
          run(
              ROOT,
              Map.of("BATON_JAVA_OPTS", "-Xmx7g"),
              baton.toString(),
              "run",
              "--max-tasks",
              "4194304",
              "--policy-config",
              stage.resolve("missing/policy.yaml").toString());
      assertThat(big.exit()).as(big.output()).isNotZero();
      assertThat(big.output())
          .as(baton.toString())
          .doesNotContain("needs a heap")
          .containsAnyOf("baton: cannot run:", "missing/policy.yaml");
    }
  }

  /**
   * The build (bin/baton aot-cache) and the installer each make an AOT cache, and each launcher
   * maps the agent's classes from it, but not once a jar is newer than the cache: the JVM itself
   * would go on serving the classes it cached from the jar before. An operator's option that the
   * cache does not fit (a heap past compressed oops) starts the JVM without it, and without the
   * JVM's errors about it in the command's output.
   */
  @Test
  void bothLaunchersStartFromTheAotCacheOnlyWhileItIsNewerThanEveryJar() throws Exception {
    Map<Path, Path> caches =
        Map.of(
            ROOT.resolve("bin/baton"), ROOT.resolve("agent/target/baton.aot"),
            stage.resolve("opt/baton/bin/baton"), stage.resolve("opt/baton/lib/baton.aot"));
    for (var e : caches.entrySet()) {
      String baton = e.getKey().toString();
      Path cache = e.getValue();
      assertThat(cache).as(baton).isRegularFile();
      assertThat(mainSource(baton, "")).as(baton).isEqualTo("shared objects file");
      assertThat(mainSource(baton, "-Xmx40g")).as(baton).startsWith("file:").endsWith("baton-agent.jar");
      FileTime made = Files.getLastModifiedTime(cache);
      try {
        Files.setLastModifiedTime(cache, FileTime.fromMillis(0)); // older than the jars
        assertThat(mainSource(baton, "")).as(baton).startsWith("file:").endsWith("baton-agent.jar");
      } finally {
        Files.setLastModifiedTime(cache, made);
      }
    }
  }

  /** Where the launcher's JVM (given opts too) loaded the agent's main class from, as -Xlog:class+load says. */
  private static String mainSource(String baton, String opts) throws Exception {
    Run help = run(ROOT, Map.of("BATON_JAVA_OPTS", opts + " -Xlog:class+load=info"), baton, "help");
    assertThat(help.exit()).as(help.output()).isZero();
    assertThat(help.output()).as(baton + " " + opts).doesNotContain("[aot");
    Matcher m = Pattern.compile("\\] dev\\.baton\\.agent\\.Main source: (.*)").matcher(help.output());
    assertThat(m.find()).as(help.output().lines().limit(5).toList().toString()).isTrue();
    return m.group(1).strip();
  }

  @Test
  void nothingInstalledIsWorldWritable() throws IOException {
    try (Stream<Path> all = Files.walk(stage)) {
      List<Path> writable =
          all.filter(p -> !Files.isSymbolicLink(p))
              .filter(p -> perms(p).contains(PosixFilePermission.OTHERS_WRITE))
              .toList();
      assertThat(writable).isEmpty();
    }
  }

  @Test
  void systemdAcceptsTheUnitWithoutAWarning() throws Exception {
    // systemd-analyze verify also checks that ExecStart exists: point it at the staged image.
    Path unit = stage.resolve("verify/baton.service");
    Files.createDirectories(unit.getParent());
    String text = Files.readString(stage.resolve("etc/systemd/system/baton.service"));
    assertThat(text).isEqualTo(Files.readString(DEPLOY.resolve("baton.service")));
    Files.writeString(unit, text.replace("/opt/baton/", stage.resolve("opt/baton") + "/"));
    Run r = run(ROOT, "systemd-analyze", "verify", unit.toString());
    // A misspelt setting is only a warning to systemd: any output at all fails the test.
    assertThat(r.output()).isEmpty();
    assertThat(r.exit()).isZero();
  }

  @Test
  void theUnitIsHardened() throws Exception {
    Path unit = DEPLOY.resolve("baton.service");
    String text = Files.readString(unit);
    assertThat(text)
        .contains("Type=notify", "WatchdogSec=", "Restart=on-failure", "StartLimitBurst=")
        .contains("ConditionPathIsDirectory=/sys/kernel/sched_ext")
        .contains("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes")
        .contains("CapabilityBoundingSet=CAP_BPF CAP_PERFMON\n");
    Run r = run(ROOT, "systemd-analyze", "security", "--offline=yes", unit.toString());
    Matcher m = Pattern.compile("Overall exposure level for baton.service: ([0-9.]+)").matcher(r.output());
    assertThat(m.find()).as(r.output()).isTrue();
    // systemd rates up to 4.9 "OK"; a JVM needs W+X memory and the API needs sockets.
    assertThat(Double.parseDouble(m.group(1))).as(r.output()).isLessThanOrEqualTo(4.0);
  }

  @Test
  void promtoolAcceptsTheConfigAndRulesAndTheAlertTestsPass() throws Exception {
    assertThat(PROMTOOL).as("promtool (tools/setup.sh caches Debian's prometheus)").isExecutable();
    Path dir = DEPLOY.resolve("prometheus");
    for (String[] cmd :
        List.of(
            new String[] {"check", "config", "prometheus.yml"},
            new String[] {"check", "rules", "baton-alerts.yml"},
            new String[] {"test", "rules", "baton-alerts.test.yml"})) {
      List<String> argv = new ArrayList<>(List.of(PROMTOOL.toString()));
      argv.addAll(List.of(cmd));
      Run r = run(dir, argv.toArray(String[]::new));
      assertThat(r.exit()).as(String.join(" ", cmd) + "\n" + r.output()).isZero();
      assertThat(r.output()).contains("SUCCESS");
    }
  }

  @Test
  void dashboardAndAlertsOnlyUseSeriesTheAgentExports() throws Exception {
    Set<String> exported = new TreeSet<>();
    try (Metrics metrics = new Metrics(BatonStat.VALUES, i -> 0, new Idle())) {
      Matcher m = Pattern.compile("(?m)^# TYPE (\\S+) ").matcher(metrics.scrape());
      while (m.find()) {
        exported.add(m.group(1));
      }
    }
    JsonNode dashboard = new ObjectMapper().readTree(DEPLOY.resolve("grafana/baton-dashboard.json").toFile());
    StringBuilder queries = new StringBuilder();
    dashboard.findValues("expr").forEach(e -> queries.append(e.asText()).append('\n'));
    assertThat(dashboard.get("panels").size()).isGreaterThan(8);
    queries.append(Files.readString(DEPLOY.resolve("prometheus/baton-alerts.yml")));
    Matcher used = Pattern.compile("\\bbaton_[a-z_]*[a-z](?![a-z_.])").matcher(queries);
    Set<String> names = new TreeSet<>();
    while (used.find()) {
      names.add(used.group().replaceAll("_(bucket|sum|count)$", ""));
    }
    assertThat(names).hasSizeGreaterThan(5);
    assertThat(exported).containsAll(names);
  }

  private static Set<PosixFilePermission> perms(Path p) {
    try {
      return Files.getPosixFilePermissions(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** An agent with nothing going on. */
  private static final class Idle implements AgentReadings {
    public long eventsReceived() {
      return 0;
    }

    public long hintsWritten() {
      return 0;
    }

    public long hintsRefused() {
      return 0;
    }

    public long tasksTracked() {
      return 0;
    }

    public long tasksDropped() {
      return 0;
    }

    public long jobs(String jobClass) {
      return 0;
    }

    public long liveDeadlineMisses() {
      return 0;
    }

    public long abandonedRegexSearches() {
      return 0;
    }

    public long policyFailures() {
      return 0;
    }

    public long unappliedCgroups(String control) {
      return 0;
    }

    @Override
    public boolean schedulerEnabled() {
      return false;
    }
  }
}
