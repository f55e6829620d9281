package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.agent.api.ApiClient;
import dev.baton.agent.api.ApiOptions;
import dev.baton.agent.api.ApiServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** /v1/jobs, /v1/tasks and /v1/reload on loopback, and baton job as their client. */
class JobsApiTest {

  @TempDir Path dir;
  private final HintsApiTest.FakeHints hints = new HintsApiTest.FakeHints();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private long nowNs = 1_000_000_000L;
  private Path config;
  private PolicyDriver driver;
  private ApiServer server;
  private ApiClient client;

  private static final String CAM =
      "{\"class\":\"live\",\"tenant\":\"acme\",\"period_us\":20000,\"pids\":[100]}";

  @BeforeEach
  void start() throws Exception {
    config = dir.resolve("baton.yaml");
    Files.writeString(config, "policy: transcode\n");
    driver = new PolicyDriver(config, 2, () -> nowNs, new PrintStream(new ByteArrayOutputStream()));
    driver.attach(hints);
    driver.taskInit(100, 100, 5100, 7, "enc");
    driver.taskInit(101, 100, 5101, 7, "enc");
    server = new ApiServer(new ApiOptions("127.0.0.1", 0, null, 1024));
    // The whole agent's routes: /v1/reload (the agent's) re-reads the policy config.
    Agent agent =
        new Agent(
            RunOptions.parse(List.of("--no-pin")), List.of(), new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(new ByteArrayOutputStream()), new java.util.concurrent.atomic.AtomicBoolean(), driver);
    agent.routes(server, new dev.baton.agent.metrics.Metrics(dev.baton.bpf.abi.BatonStat.VALUES, i -> 0, agent));
    server.start();
    client = new ApiClient(api(), null, Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private String api() {
    return "127.0.0.1:" + server.address().getPort();
  }

  private int baton(String... args) {
    out.reset();
    err.reset();
    return Main.run(List.of(args), new PrintStream(out, true), new PrintStream(err, true));
  }

  private String jobs() throws Exception {
    ApiClient.Reply r = client.send("GET", "/v1/jobs", null);
    assertThat(r.status()).isEqualTo(200);
    return r.body();
  }

  @Test
  void aJobPutThroughTheCliGetsItsTasksLiveHints() throws Exception {
    assertThat(baton("job", "put", "cam1", "--class", "live", "--period-us", "20000",
        "--tenant", "acme", "--pid", "100", "--api", api())).as(err.toString()).isZero();
    assertThat(out.toString()).contains("\"id\":\"cam1\"").contains("\"tasks\":2");
    driver.tick();
    assertThat(hints.tasks).containsEntry(100, new Hint(SchedClass.LIVE, 100, 0, 18_000));

    assertThat(baton("job", "ls", "--api", api())).isZero();
    assertThat(out.toString())
        .contains("\"class\":\"live\"", "\"period_us\":20000", "\"pids\":[100]", "\"health\":\"measuring\"");
    ApiClient.Reply tasks = client.send("GET", "/v1/tasks", null);
    assertThat(tasks.body()).contains("\"pid\":101", "\"job\":\"cam1\"", "\"deadline_us\":18000");

    assertThat(baton("job", "progress", "cam1", "--frames", "30", "--api", api())).isZero();
    assertThat(jobs()).contains("\"frames_done\":30");

    assertThat(baton("job", "rm", "cam1", "--api", api())).isZero();
    driver.tick();
    assertThat(hints.tasks).isEmpty();
    assertThat(jobs()).isEqualTo("{\"jobs\":[]}");
  }

  @Test
  void aCgroupJobAndAnUpdate() throws Exception {
    assertThat(client.send("PUT", "/v1/jobs/vod1", "{\"class\":\"vod\",\"cgroup\":\"/farm/vod\"}").status())
        .isEqualTo(200);
    assertThat(client.send("PUT", "/v1/jobs/vod1", "{\"class\":\"batch\",\"weight\":50,\"cgroup\":\"/farm/vod\"}").status())
        .isEqualTo(200);
    assertThat(jobs()).contains("\"class\":\"batch\"", "\"weight\":50", "\"cgroup\":\"/farm/vod\"");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          malformed JSON       | PUT  | /v1/jobs/cam2          | {"class":"live",          | 400 | invalid JSON
          unknown field        | PUT  | /v1/jobs/cam2          | {"class":"vod","pid":[1]} | 400 | unknown field 'pid'
          no class             | PUT  | /v1/jobs/cam2          | {"pids":[1]}              | 400 | 'class' is required
          bad class            | PUT  | /v1/jobs/cam2          | {"class":"vip","pids":[1]} | 400 | class must be one of
          period out of range  | PUT  | /v1/jobs/cam2          | {"class":"live","period_us":5,"pids":[1]} | 400 | frame_period_us
          weight out of range  | PUT  | /v1/jobs/cam2          | {"class":"vod","weight":0,"pids":[1]} | 400 | weight
          negative pid         | PUT  | /v1/jobs/cam2          | {"class":"vod","pids":[-3]} | 400 | pids must be positive
          both selectors       | PUT  | /v1/jobs/cam2          | {"class":"vod","pids":[1],"cgroup":"/a"} | 400 | exactly one of 'pids' and 'cgroup'
          no selector          | PUT  | /v1/jobs/cam2          | {"class":"vod"}           | 400 | exactly one of 'pids' and 'cgroup'
          live without period  | PUT  | /v1/jobs/cam2          | {"class":"live","pids":[1]} | 400 | 'period_us' and 'fps'
          period for vod       | PUT  | /v1/jobs/cam2          | {"class":"vod","period_us":20000,"pids":[1]} | 400 | live jobs only
          relative cgroup      | PUT  | /v1/jobs/cam2          | {"class":"vod","cgroup":"farm"} | 400 | cgroup
          bad id               | PUT  | /v1/jobs/a%2Fb         | {"class":"vod","pids":[1]} | 400 | job id
          string for number    | PUT  | /v1/jobs/cam2          | {"class":"vod","weight":"5","pids":[1]} | 400 | invalid JSON
          unknown job rm       | DELETE | /v1/jobs/nope        |                           | 404 | no job 'nope'
          unknown job progress | POST | /v1/jobs/nope/progress | {"frames":1}              | 404 | no job 'nope'
          negative frames      | POST | /v1/jobs/cam1/progress | {"frames":-1}             | 400 | 'frames'
          frames backwards     | POST | /v1/jobs/cam1/progress | {"frames":5}              | 400 | went back
          """)
  void badInputIsRefusedAndChangesNothing(
      String what, String method, String path, String body, int status, String message) throws Exception {
    assertThat(client.send("PUT", "/v1/jobs/cam1", CAM).status()).isEqualTo(200);
    assertThat(client.send("POST", "/v1/jobs/cam1/progress", "{\"frames\":10}").status()).isEqualTo(204);
    driver.tick();
    String before = jobs();
    var hintsBefore = new java.util.HashMap<>(hints.tasks);

    ApiClient.Reply r = client.send(method, path, body);
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).contains(message);

    driver.tick();
    assertThat(jobs()).isEqualTo(before);
    assertThat(hints.tasks).isEqualTo(hintsBefore);
  }

  @Test
  void aBodyOverTheLimitIs413AndChangesNothing() throws Exception {
    String big = "{\"class\":\"vod\",\"tenant\":\"" + "a".repeat(2000) + "\",\"pids\":[1]}";
    ApiClient.Reply r = client.send("PUT", "/v1/jobs/big", big);
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.body()).contains("over 1024 bytes");
    assertThat(jobs()).isEqualTo("{\"jobs\":[]}");
  }

  @Test
  void theCliReachesAnAgentListeningOnAUnixSocket() throws Exception {
    Path socket = dir.resolve("api.sock");
    RunOptions o = RunOptions.parse(List.of("--no-pin", "--listen", "unix:" + socket));
    assertThat(o.api().socket()).isEqualTo(socket);
    Agent agent =
        new Agent(
            o, List.of(), new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()),
            new java.util.concurrent.atomic.AtomicBoolean(), driver);
    try (ApiServer unix = new ApiServer(o.api())) {
      agent.routes(unix, new dev.baton.agent.metrics.Metrics(dev.baton.bpf.abi.BatonStat.VALUES, i -> 0, agent));
      unix.start();
      String api = "unix:" + socket;
      assertThat(baton("job", "put", "cam1", "--class", "live", "--period-us", "20000", "--pid", "100", "--api", api))
          .as(err.toString())
          .isZero();
      assertThat(baton("job", "ls", "--api", api)).isZero();
      assertThat(out.toString()).contains("\"id\":\"cam1\"", "\"tasks\":2");
      assertThat(baton("status", "--api", api)).as(err.toString()).isZero();
      assertThat(out.toString()).contains("\"policy\":\"transcode\"");
      assertThat(baton("job", "rm", "nope", "--api", api)).isNotZero();
      assertThat(err.toString()).contains("404");
    }
    assertThat(baton("status", "--api", "unix:" + socket)).isNotZero();
    assertThat(err.toString()).contains("no Baton agent is listening on unix:" + socket);
  }

  @Test
  void aNewJobPastTheLimitIs409AndChangesNothing() throws Exception {
    for (int i = 0; i < dev.baton.policy.PolicyEngine.MAX_API_JOBS; i++) {
      driver.registerJob(
          new dev.baton.policy.Job(
              "j" + i, dev.baton.policy.Selector.pids(10_000 + i), dev.baton.policy.JobSpec.vod("t")));
    }
    String before = jobs();
    ApiClient.Reply r = client.send("PUT", "/v1/jobs/cam1", CAM);
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.body()).contains("at most 4096 jobs");
    assertThat(jobs()).isEqualTo(before);
    assertThat(client.send("PUT", "/v1/jobs/j0", CAM).status()).as("an update").isEqualTo(200);
  }

  @Test
  void reloadKeepsTheRunningConfigWhenTheFileIsInvalid() throws Exception {
    assertThat(client.send("PUT", "/v1/jobs/cam1", CAM).status()).isEqualTo(200);
    Files.writeString(config, "policy: transcode\nrules: 7\n");
    assertThat(baton("reload", "--api", api())).isEqualTo(Main.FAILED);
    assertThat(err.toString()).contains("baton.yaml:2:8").contains("HTTP 400");
    assertThat(driver.policyName()).isEqualTo("transcode");

    Files.writeString(config, "policy: fair\n");
    assertThat(baton("reload", "--api", api())).isZero();
    assertThat(out.toString()).contains("\"policy\":\"fair\"");
    assertThat(jobs()).contains("\"id\":\"cam1\"");
  }

  @Test
  void theCliRefusesIncompleteCommandsBeforeSending() {
    assertThat(baton("job", "progress", "cam1", "--api", api())).isEqualTo(Main.USAGE);
    assertThat(err.toString()).contains("--frames");
    assertThat(baton("job", "rm", "--api", api())).isEqualTo(Main.USAGE);
    assertThat(baton("job", "frob", "--api", api())).isEqualTo(Main.USAGE);
    assertThat(baton("job", "put", "x", "--class", "vod", "--api", api())).isEqualTo(Main.FAILED);
    assertThat(err.toString()).contains("exactly one of 'pids' and 'cgroup'");
  }

  @Test
  void theClientReportsAnAbsentAgent() {
    assertThat(baton("job", "ls", "--api", "127.0.0.1:1")).isEqualTo(Main.FAILED);
    assertThat(err.toString()).contains("no Baton agent is listening");
  }

  /** The API's routes over {@code journal} on a server of their own. */
  private ApiClient withJournal(JobsApi.Journal journal, ApiServer server) throws Exception {
    new JobsApi(driver, journal).register(server);
    server.start();
    return new ApiClient("127.0.0.1:" + server.address().getPort(), null, Duration.ofSeconds(10));
  }

  @Test
  void registrationsAreInTheJournalBeforeTheyAreAnswered() throws Exception {
    Path file = dir.resolve("run/jobs.json");
    try (JobStore store = JobStore.open(file, new PrintStream(new ByteArrayOutputStream()));
        ApiServer s = new ApiServer(new ApiOptions("127.0.0.1", 0, null, 1024))) {
      ApiClient c = withJournal(store, s);
      assertThat(c.send("PUT", "/v1/jobs/vod1", "{\"class\":\"vod\",\"tenant\":\"b\",\"cgroup\":\"/farm/vod\"}").status())
          .isEqualTo(200);
      assertThat(c.send("PUT", "/v1/jobs/vod2", "{\"class\":\"vod\",\"tenant\":\"b\",\"cgroup\":\"/farm/v2\"}").status())
          .isEqualTo(200);
      assertThat(c.send("DELETE", "/v1/jobs/vod2", null).status()).isEqualTo(204);
      assertThat(c.send("DELETE", "/v1/jobs/vod2", null).status()).isEqualTo(404);
      assertThat(Files.readString(file)).contains("\"id\":\"vod1\"").contains("{\"delete\":\"vod2\"}");
    }
    try (JobStore again = JobStore.open(file, new PrintStream(new ByteArrayOutputStream()))) {
      assertThat(again.restored()).extracting(dev.baton.policy.Job::id).containsExactly("vod1");
    }
  }

  @Test
  void aChangeTheJournalCannotRecordIs500AndChangesNothing() throws Exception {
    assertThat(client.send("PUT", "/v1/jobs/cam1", CAM).status()).isEqualTo(200);
    JobsApi.Journal full =
        new JobsApi.Journal() {
          @Override
          public void put(dev.baton.policy.Job job) throws java.io.IOException {
            throw new java.io.IOException("could not record the change in /run/baton/jobs.json: No space left on device");
          }

          @Override
          public void remove(String id) throws java.io.IOException {
            put(null);
          }
        };
    String before = jobs();
    try (ApiServer s = new ApiServer(new ApiOptions("127.0.0.1", 0, null, 1024))) {
      ApiClient c = withJournal(full, s);
      ApiClient.Reply r = c.send("PUT", "/v1/jobs/cam2", CAM.replace("[100]", "[101]"));
      assertThat(r.status()).isEqualTo(500);
      assertThat(r.body()).contains("No space left on device; the job was not changed");
      r = c.send("PUT", "/v1/jobs/cam1", CAM.replace("20000", "40000"));
      assertThat(r.status()).isEqualTo(500);
      r = c.send("DELETE", "/v1/jobs/cam1", null);
      assertThat(r.status()).isEqualTo(500);
      assertThat(r.body()).contains("the job was not removed");
    }
    assertThat(jobs()).isEqualTo(before);
  }

  @Test
  void aJobThePolicyFailsToTakeIs500AndChangesNothing() throws Exception {
    int[] fails = {0};
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(rules, "policy: transcode\nrules:\n  - name: enc\n    match: {cgroup_prefix: /farm}\n    job: {class: batch}\n");
    PolicyDriver failing =
        new PolicyDriver(rules, 2, () -> nowNs, new PrintStream(new ByteArrayOutputStream()), pid -> PolicyDriverTest.fakeProc(() -> {
          if (fails[0]-- > 0) {
            throw new IllegalStateException("a bug");
          }
          return "/farm";
        }, "enc"));
    failing.attach(hints);
    try (ApiServer s = new ApiServer(new ApiOptions("127.0.0.1", 0, null, 1024))) {
      new JobsApi(failing, null).register(s);
      s.start();
      ApiClient c = new ApiClient("127.0.0.1:" + s.address().getPort(), null, Duration.ofSeconds(10));
      assertThat(c.send("PUT", "/v1/jobs/cam1", CAM).status()).isEqualTo(200);
      failing.taskInit(100, 100, 5100, 7, "enc"); // cam1's: its cgroup is not read
      String before = c.send("GET", "/v1/jobs", null).body();
      fails[0] = 1; // moving cam1 off pid 100 makes the rules read 100's cgroup: it fails
      ApiClient.Reply r = c.send("PUT", "/v1/jobs/cam1", CAM.replace("[100]", "[102]"));
      assertThat(r.status()).isEqualTo(500);
      assertThat(r.body()).contains("the policy failed registering job cam1").contains("the job was not changed");
      // The registration is as it was (the rebuilt policy has ticked once: its status shows).
      String registration = "\"id\":\"cam1\",\"origin\":\"api\",\"class\":\"live\",\"tenant\":\"acme\","
          + "\"weight\":100,\"period_us\":20000,\"frame_cost_us\":0,\"pids\":[100],\"cgroup\":null,\"tasks\":1";
      assertThat(before).contains(registration);
      assertThat(c.send("GET", "/v1/jobs", null).body()).contains(registration);
      assertThat(failing.failures()).isEqualTo(1);
      assertThat(failing.off()).isNull();
    }
  }
}
