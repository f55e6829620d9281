package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.agent.api.ApiServer;
import dev.baton.agent.api.Response;
import dev.baton.agent.metrics.Metrics;
import dev.baton.bpf.abi.BatonStat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentReloadTest {

  @TempDir Path dir;

  private Response reload(ApiServer api) {
    return api.handle("POST", "/v1/reload", null, new byte[0]);
  }

  @Test
  void aGoodFileAppliesWhatItCanAndNamesWhatNeedsARestart() throws Exception {
    Path f = dir.resolve("baton.yaml");
    Files.writeString(f, "listen: 127.0.0.1:0\nrestart_max: 5\nslice_us: 20000\n");
    List<String> args = List.of("--config", f.toString(), "--max-tasks", "64");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Agent agent = agent(args, new PrintStream(log, true, StandardCharsets.UTF_8));
    ApiServer api = routes(agent);

    Files.writeString(
        f,
        "listen: 127.0.0.1:0\nrestart_max: 2\nslice_us: 5000\nhandover_grace_ms: 1000\nstale_ms: 3000\nsample_ms: 500\n"
            + "max_tasks: 128\ntimeout_ms: 20000\n");
    Response r = reload(api);
    assertThat(r.status()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"applied\":[\"slice_us\",\"stale_ms\",\"sample_ms\",\"restart_max\",\"handover_grace_ms\"],"
            + "\"needs_restart\":[\"timeout_ms\"]}");
    assertThat(agent.liveOptions().get(Tunable.RESTART_MAX)).isEqualTo(2);
    assertThat(agent.liveOptions().sliceUs()).isEqualTo(5000);
    assertThat(agent.liveOptions().handoverGraceMs()).isEqualTo(1000);
    assertThat(agent.liveOptions().staleMs()).isEqualTo(3000);
    assertThat(agent.liveOptions().sampleMs()).isEqualTo(500);
    assertThat(agent.liveOptions().timeoutMs()).isZero(); // the kernel's default, until a restart
    assertThat(agent.liveOptions().maxTasks()).isEqualTo(64); // the command line still wins
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("baton: reloaded; applied slice_us, stale_ms, sample_ms, restart_max, handover_grace_ms;"
            + " take a restart: timeout_ms");
  }

  @Test
  void aStarveMsThatDoesNotFitTheRunningWatchdogIsRefused() throws Exception {
    Path f = dir.resolve("baton.yaml");
    Files.writeString(f, "listen: 127.0.0.1:0\ntimeout_ms: 5000\nstarve_ms: 300\n");
    Agent agent = agent(List.of("--config", f.toString()));
    ApiServer api = routes(agent);
    RunOptions before = agent.liveOptions();

    // Fine with the file's new timeout_ms, but that one takes a restart: the watchdog stays at 5 s.
    Files.writeString(f, "listen: 127.0.0.1:0\ntimeout_ms: 30000\nstarve_ms: 400\nslice_us: 5000\n");
    Response r = reload(api);
    assertThat(r.status()).isEqualTo(400);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .contains("starve_ms 400 does not fit the watchdog's timeout_ms 5000", "(timeout_ms takes a restart)");
    assertThat(agent.liveOptions()).as("nothing applied, not even slice_us").isSameAs(before);

    Files.writeString(f, "listen: 127.0.0.1:0\ntimeout_ms: 5000\nstarve_ms: 350\n");
    assertThat(reload(api).status()).isEqualTo(200);
    assertThat(agent.liveOptions().starveMs()).isEqualTo(350);
  }

  @Test
  void aBadFileIsRefusedWithItsPositionAndTheRunningSettingsStay() throws Exception {
    Path f = dir.resolve("baton.yaml");
    Files.writeString(f, "listen: 127.0.0.1:0\nrestart_max: 5\n");
    Agent agent = agent(List.of("--config", f.toString()));
    ApiServer api = routes(agent);
    RunOptions before = agent.liveOptions();

    for (String bad : List.of("restart_max: 5\nrestart_max: [\n", "restart_max: 1000\n", "restart_maxx: 1\n")) {
      Files.writeString(f, bad);
      Response r = reload(api);
      assertThat(r.status()).as(bad).isEqualTo(400);
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).as(bad).contains(f + ":");
      assertThat(agent.liveOptions()).isSameAs(before);
    }
    Files.delete(f);
    assertThat(reload(api).status()).isEqualTo(400);
    assertThat(agent.liveOptions()).isSameAs(before);
  }

  @Test
  void thePolicySectionIsReadAgainAndAFileCanReplaceIt() throws Exception {
    Path f = dir.resolve("baton.yaml");
    Files.writeString(f, "listen: 127.0.0.1:0\npolicy:\n  policy: fair\n");
    Agent agent = agent(List.of("--config", f.toString()));
    ApiServer api = routes(agent);
    assertThat(status(api)).contains("\"policy\":\"fair\"", "\"policy_config\":\"" + f + " (policy:)\"");

    Files.writeString(f, "listen: 127.0.0.1:0\npolicy:\n  policy: transcode\n  tenants: {acme: {}}\n");
    Response r = reload(api);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("\"policy\":\"transcode\"", "\"tenants\":1");
    assertThat(status(api)).contains("\"policy\":\"transcode\"");

    // A bad section is refused with its place in baton.yaml, and the running policy stays.
    Files.writeString(f, "listen: 127.0.0.1:0\npolicy:\n  policy: transcode\n  transcode: {window_ms: -1}\n");
    r = reload(api);
    assertThat(r.status()).isEqualTo(400);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains(f + ":4:");
    assertThat(status(api)).contains("\"policy\":\"transcode\"");

    // Moved to a file of its own: that applies at once, no restart.
    Path p = dir.resolve("policy.yaml");
    Files.writeString(p, "policy: fair\n");
    Files.writeString(f, "listen: 127.0.0.1:0\npolicy_config: " + p + "\n");
    r = reload(api);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("\"policy\":\"fair\"").doesNotContain("policy_config");
    assertThat(status(api)).contains("\"policy_config\":\"" + p + "\"");

    // Gone from the file: the default policy again.
    Files.writeString(p, "policy: transcode\n");
    reload(api);
    Files.writeString(f, "listen: 127.0.0.1:0\n");
    reload(api);
    assertThat(status(api)).contains("\"policy\":\"fair\"", "\"policy_config\":null");
  }

  private String status(ApiServer api) {
    return new String(api.handle("GET", "/v1/status", null, new byte[0]).body(), StandardCharsets.UTF_8);
  }

  @Test
  void withoutAConfigFileThereIsNothingToReload() throws Exception {
    Agent agent = agent(List.of("--listen", "127.0.0.1:0"));
    assertThat(reload(routes(agent)).status()).isEqualTo(409);
  }

  private Agent agent(List<String> args) throws Exception {
    return agent(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
  }

  private Agent agent(List<String> args, PrintStream out) throws Exception {
    RunOptions o = RunOptions.parse(args);
    return new Agent(o, args, out, out, new AtomicBoolean(), PolicyDriver.of(o, 2, System::nanoTime, out));
  }

  private ApiServer routes(Agent agent) throws Exception {
    ApiServer api = new ApiServer(agent.liveOptions().api());
    agent.routes(api, new Metrics(BatonStat.VALUES, i -> 0, agent));
    return api;
  }
}
