package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.agent.api.ApiServer;
import dev.baton.agent.api.Response;
import dev.baton.agent.metrics.Metrics;
import dev.baton.bpf.abi.BatonStat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The agent's own series in /metrics come from what its parts did, not from stubs. */
class AgentReadingsTest {

  private long nowNs = 1_000_000_000L;
  private final PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
  private final List<String> args = List.of("--listen", "127.0.0.1:0");
  private Agent agent;
  private Metrics metrics;
  private ApiServer api;

  @BeforeEach
  void start() throws Exception {
    agent = new Agent(RunOptions.parse(args), args, quiet, quiet, new AtomicBoolean(), new PolicyDriver(null, 2, () -> nowNs, quiet));
    metrics = new Metrics(BatonStat.VALUES, i -> 0, agent);
    api = new ApiServer(RunOptions.parse(args).api());
    agent.routes(api, metrics);
  }

  @AfterEach
  void close() {
    metrics.close();
    api.close();
  }

  private Response call(String method, String path, String body) {
    return api.handle(method, path, null, body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void jobsByClassAndLiveMissesFollowTheJobsApi() {
    assertThat(call("PUT", "/v1/jobs/cam1", "{\"class\":\"live\",\"period_us\":20000,\"pids\":[100]}").status())
        .isEqualTo(200);
    assertThat(call("PUT", "/v1/jobs/cam2", "{\"class\":\"live\",\"fps\":25,\"pids\":[200]}").status()).isEqualTo(200);
    assertThat(call("PUT", "/v1/jobs/vod1", "{\"class\":\"vod\",\"cgroup\":\"/farm/vod\"}").status()).isEqualTo(200);
    // cam1 reports 10 frames, then 2 more 100 ms later, when 5 were due: 3 missed.
    assertThat(call("POST", "/v1/jobs/cam1/progress", "{\"frames\":10}").status()).isEqualTo(204);
    nowNs += 100_000_000L;
    assertThat(call("POST", "/v1/jobs/cam1/progress", "{\"frames\":12}").status()).isEqualTo(204);

    assertThat(agent.jobs("live")).isEqualTo(2);
    assertThat(agent.jobs("vod")).isEqualTo(1);
    assertThat(agent.jobs("batch")).isZero();
    assertThat(agent.liveDeadlineMisses()).isEqualTo(3);
    assertThat(metrics.scrape())
        .contains("baton_agent_jobs{class=\"live\"} 2.0")
        .contains("baton_agent_jobs{class=\"vod\"} 1.0")
        .contains("baton_agent_live_missed_deadlines_total 3.0")
        .contains("baton_agent_written_hints_total 0.0")
        .contains("baton_scheduler_state{state=\"disabled\"} 1.0");
    assertThat(new String(call("GET", "/v1/jobs", "").body(), StandardCharsets.UTF_8)).contains("\"frames_missed\":3");

    // A removed job leaves the class count, not the miss count: a counter only grows.
    assertThat(call("DELETE", "/v1/jobs/cam1", "").status()).isEqualTo(204);
    assertThat(agent.jobs("live")).isEqualTo(1);
    assertThat(agent.liveDeadlineMisses()).isEqualTo(3);
  }
}
