package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.agent.api.ApiOptions;
import dev.baton.agent.api.ApiServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code baton hint} against the agent's /v1/hints, with the BPF maps replaced by a map. */
class HintsApiTest {

  /** Tasks 100 (a process) and 101 (one of its threads) exist; writes land in a map. */
  static final class FakeHints implements Hints {
    final Map<Integer, Hint> tasks = new LinkedHashMap<>();
    /** The start time in each task hint's key. */
    final Map<Integer, Long> starts = new LinkedHashMap<>();
    final Map<Long, Hint> cgroups = new LinkedHashMap<>();
    /** Who wrote each hint: batches are the policy's, the single-hint methods the operator's. */
    final Map<Integer, Origin> taskOrigins = new LinkedHashMap<>();
    final Map<Long, Origin> cgroupOrigins = new LinkedHashMap<>();
    /** Every batch written, in order. */
    final List<List<Change>> batches = new ArrayList<>();
    /** Task ids whose changes the fake kernel refuses (E2BIG, as from a full map). */
    final java.util.Set<Long> refuse = new java.util.HashSet<>();

    @Override
    public List<Refusal> write(List<Change> changes) {
      batches.add(List.copyOf(changes));
      List<Refusal> refused = new ArrayList<>();
      for (Change c : changes) {
        if (!c.cgroup() && refuse.contains(c.id())) {
          refused.add(new Refusal(c, 7));
        } else if (c.cgroup()) {
          if (c.clears()) {
            cgroups.remove(c.id());
            cgroupOrigins.remove(c.id());
          } else {
            cgroups.put(c.id(), c.hint());
            cgroupOrigins.put(c.id(), Origin.POLICY);
          }
        } else if (!c.clears()) {
          tasks.put((int) c.id(), c.hint());
          starts.put((int) c.id(), c.startNs());
          taskOrigins.put((int) c.id(), Origin.POLICY);
        } else if (Long.valueOf(c.startNs()).equals(starts.get((int) c.id()))) {
          tasks.remove((int) c.id());
          starts.remove((int) c.id());
          taskOrigins.remove((int) c.id());
        }
      }
      return refused;
    }

    private Optional<TaskInfo> info(int pid) {
      return pid == 100 || pid == 101
          ? Optional.of(new TaskInfo(pid, 100, 5000L + pid, 5100, 7, SchedClass.NORMAL, 100, "enc"))
          : Optional.empty();
    }

    @Override
    public Optional<TaskInfo> task(int pid) {
      return info(pid);
    }

    @Override
    public Optional<TaskInfo> setTask(int pid, Hint hint) {
      info(pid).ifPresent(t -> {
        tasks.put(pid, hint);
        starts.put(pid, t.startNs());
        taskOrigins.put(pid, Origin.OPERATOR);
      });
      return info(pid);
    }

    @Override
    public boolean clearTask(int pid) {
      starts.remove(pid);
      taskOrigins.remove(pid);
      return tasks.remove(pid) != null;
    }

    @Override
    public List<TaskHint> taskHints() {
      List<TaskHint> list = new ArrayList<>();
      tasks.forEach(
          (pid, h) ->
              list.add(
                  new TaskHint(
                      pid,
                      starts.getOrDefault(pid, 5000L + pid),
                      h,
                      taskOrigins.getOrDefault(pid, Origin.OPERATOR),
                      info(pid))));
      return list;
    }

    @Override
    public void setCgroup(long cgroupId, Hint hint) {
      cgroups.put(cgroupId, hint);
      cgroupOrigins.put(cgroupId, Origin.OPERATOR);
    }

    @Override
    public boolean clearCgroup(long cgroupId) {
      return cgroups.remove(cgroupId) != null;
    }

    @Override
    public List<CgroupHint> cgroupHints() {
      return cgroups.entrySet().stream()
          .map(e -> new CgroupHint(e.getKey(), e.getValue(), cgroupOrigins.getOrDefault(e.getKey(), Origin.OPERATOR)))
          .toList();
    }
  }

  @TempDir Path dir;
  private final FakeHints fake = new FakeHints();
  private final HintsApi api = new HintsApi();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private ApiServer server;

  @BeforeEach
  void start() throws Exception {
    server = new ApiServer(ApiOptions.loopback(0));
    api.register(server);
    server.start();
    api.attach(fake);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private int hint(String... args) {
    List<String> argv = new ArrayList<>(List.of("hint", "--api", "127.0.0.1:" + server.address().getPort()));
    argv.addAll(List.of(args));
    return Main.run(
        argv,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void setListAndClearATaskHint() {
    assertThat(hint("100", "--class", "live", "--deadline-us", "16667", "--slice-us", "4000"))
        .as(err())
        .isZero();
    assertThat(fake.tasks).containsEntry(100, new Hint(SchedClass.LIVE, 0, 4000, 16667));
    assertThat(out()).contains("baton: task 100: live, slice 4000 us, deadline 16667 us");

    assertThat(hint("101", "--class", "batch", "--weight", "50")).isZero();
    assertThat(hint("--list")).isZero();
    assertThat(out())
        .containsPattern("100\\s+100\\s+live\\s+-\\s+4000\\s+16667\\s+normal\\s+operator\\s+enc")
        .containsPattern("101\\s+100\\s+batch\\s+50\\s+-\\s+-\\s+normal\\s+operator\\s+enc");

    assertThat(hint("100", "--clear")).isZero();
    assertThat(fake.tasks).containsOnlyKeys(101);
    assertThat(hint("100", "--clear")).isEqualTo(Main.FAILED);
    assertThat(err()).contains("task 100 has no hint").contains("HTTP 404");
  }

  @Test
  void badHintsAreRefusedBeforeSendingAndChangeNothing() {
    assertThat(hint("100", "--class", "live")).isEqualTo(Main.USAGE);
    assertThat(hint("100", "--class", "fast")).isEqualTo(Main.USAGE);
    assertThat(hint("100", "--class", "normal", "--weight", "0x10")).isEqualTo(Main.USAGE);
    assertThat(hint("100", "--class", "normal", "--deadline-us", "100")).isEqualTo(Main.USAGE);
    assertThat(hint("--class", "normal")).isEqualTo(Main.USAGE);
    assertThat(hint("-5", "--class", "normal")).isEqualTo(Main.USAGE);
    assertThat(err())
        .contains("a live hint needs a deadline")
        .contains("unknown class 'fast'")
        .contains("--weight takes a whole number, not '0x10'")
        .contains("only live hints take a deadline")
        .contains("name one task (PID) or one --cgroup DIR");
    assertThat(fake.tasks).isEmpty();
  }

  @Test
  void aTaskShowsHowItIsScheduledWithOrWithoutAHint() throws Exception {
    var client = new dev.baton.agent.api.ApiClient("127.0.0.1:" + server.address().getPort(), null, java.time.Duration.ofSeconds(10));
    var r = client.send("GET", "/v1/hints/101", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body())
        .contains("\"pid\":101", "\"tgid\":100", "\"comm\":\"enc\"", "\"scheduled_as\":\"normal\"", "\"weight\":100");
    r = client.send("GET", "/v1/hints/4242", null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.body()).contains("no task has pid 4242");
    r = client.send("GET", "/v1/hints/x", null);
    assertThat(r.status()).isEqualTo(400);

    assertThat(hint("101")).as(err()).isZero();
    assertThat(out()).contains("baton: task 101 (enc, process 100) is scheduled as normal, weight 100");
    assertThat(hint("4242")).isEqualTo(Main.FAILED);
    assertThat(err()).contains("no task has pid 4242 (HTTP 404)");
    assertThat(hint("101", "--weight", "50")).isEqualTo(Main.USAGE);
    assertThat(err()).contains("--class is required");
    assertThat(fake.tasks).isEmpty();
  }

  @Test
  void unknownPidIsNotFound() {
    assertThat(hint("4242", "--class", "idle")).isEqualTo(Main.FAILED);
    assertThat(err()).contains("no task has pid 4242 (HTTP 404)");
  }

  @Test
  void cgroupHintsAreKeyedByTheDirectorysInode() throws Exception {
    long ino = HintCommand.cgroupId(dir);
    assertThat(hint("--cgroup", dir.toString(), "--class", "batch")).as(err()).isZero();
    assertThat(fake.cgroups).containsEntry(ino, Hint.of(SchedClass.BATCH));
    assertThat(hint("--list")).isZero();
    assertThat(out()).contains("cgroup " + ino);
    assertThat(hint("--cgroup", dir.toString(), "--clear")).isZero();
    assertThat(fake.cgroups).isEmpty();
  }

  @Test
  void withoutASchedulerTheApiSaysSo() {
    api.attach(null);
    assertThat(hint("100", "--class", "idle")).isEqualTo(Main.FAILED);
    assertThat(err()).contains("no scheduler is attached").contains("HTTP 503");
  }

  @Test
  void theApiRejectsMalformedBodies() throws Exception {
    var client = new dev.baton.agent.api.ApiClient("127.0.0.1:" + server.address().getPort(), null, java.time.Duration.ofSeconds(10));
    var r = client.send("PUT", "/v1/hints/100", "{\"class\":\"live\",\"deadline\":5}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("unknown field 'deadline'");
    r = client.send("PUT", "/v1/hints/100", "{\"weight\":5}");
    assertThat(r.body()).contains("field 'class' is required");
    r = client.send("PUT", "/v1/hints/abc", "{\"class\":\"idle\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("a pid is a positive whole number, not 'abc'");
    assertThat(fake.tasks).isEmpty();
  }
}
