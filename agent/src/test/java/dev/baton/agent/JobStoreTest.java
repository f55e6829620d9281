package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.policy.Job;
import dev.baton.policy.JobSpec;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.Selector;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal of API jobs: what a restarted agent gets back, and what it must not. */
class JobStoreTest {

  @TempDir Path dir;
  private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
  private final PrintStream log = new PrintStream(logged, true);
  private static final int SELF = (int) ProcessHandle.current().pid();

  private Path file() {
    return dir.resolve("run/jobs.json");
  }

  private JobStore open() throws IOException {
    return JobStore.open(file(), log);
  }

  private static Job live(String id, int... pids) {
    return new Job(id, Selector.pids(pids), JobSpec.live("acme", new LiveSpec(16_667, 2_500)));
  }

  private static Job vodCgroup(String id, String cgroup) {
    return new Job(id, Selector.cgroup(cgroup), JobSpec.vod("b"));
  }

  private static String bootId() throws IOException {
    return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
  }

  private void journal(String... lines) throws IOException {
    Files.createDirectories(file().getParent());
    Files.writeString(file(), String.join("\n", lines) + "\n");
  }

  @Test
  void whatWasRegisteredComesBackInRegistrationOrder() throws IOException {
    try (JobStore s = open()) {
      assertThat(s.restored()).isEmpty();
      s.put(live("cam1", SELF));
      s.put(vodCgroup("vod1", "/farm/vod"));
      s.put(vodCgroup("gone", "/farm/gone"));
      s.put(new Job("cam1", Selector.pids(SELF), JobSpec.live("acme", new LiveSpec(40_000, 0))));
      s.remove("gone");
    }
    assertThat(Files.getPosixFilePermissions(file().getParent()).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE, OWNER_EXECUTE]");
    try (JobStore s = open()) {
      assertThat(s.restored())
          .containsExactly(
              new Job("cam1", Selector.pids(SELF), JobSpec.live("acme", new LiveSpec(40_000, 0))),
              vodCgroup("vod1", "/farm/vod"));
    }
    assertThat(logged.toString()).contains("restored 2 job(s)");
  }

  @Test
  void aPidWhoseProcessExitedIsDroppedAndAJobWithNoneLeftToo() throws Exception {
    Process child = new ProcessBuilder("sleep", "600").start();
    int pid = (int) child.pid();
    try (JobStore s = open()) {
      s.put(live("both", SELF, pid));
      s.put(live("childOnly", pid));
    }
    child.destroy();
    assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
    try (JobStore s = open()) {
      assertThat(s.restored()).containsExactly(live("both", SELF));
    }
    assertThat(logged.toString())
        .contains("job both restored without 1 of its pids")
        .contains("job childOnly not restored: none of its processes is running");
    try (JobStore s = open()) {
      assertThat(s.restored()).as("the journal was rewritten to what was restored").containsExactly(live("both", SELF));
    }
  }

  @Test
  void aPidNowWornByAnotherProcessIsNotTheJobs() throws IOException {
    long start = JobStore.startTicks(SELF);
    assertThat(start).isPositive();
    journal(
        "{\"baton_jobs\":1,\"boot_id\":\"" + bootId() + "\"}",
        "{\"put\":{\"id\":\"cam1\",\"class\":\"live\",\"tenant\":\"acme\",\"weight\":100,\"period_us\":20000,"
            + "\"pids\":[{\"pid\":" + SELF + ",\"start\":" + (start + 1) + "}]}}",
        "{\"put\":{\"id\":\"cam2\",\"class\":\"live\",\"tenant\":\"acme\",\"weight\":100,\"period_us\":20000,"
            + "\"pids\":[{\"pid\":" + SELF + ",\"start\":" + start + "}]}}");
    try (JobStore s = open()) {
      assertThat(s.restored()).extracting(Job::id).containsExactly("cam2");
    }
  }

  @Test
  void afterAnotherBootOnlyCgroupJobsComeBack() throws IOException {
    journal(
        "{\"baton_jobs\":1,\"boot_id\":\"an-earlier-boot\"}",
        "{\"put\":{\"id\":\"cam1\",\"class\":\"live\",\"tenant\":\"acme\",\"weight\":100,\"period_us\":20000,"
            + "\"pids\":[{\"pid\":" + SELF + ",\"start\":" + JobStore.startTicks(SELF) + "}]}}",
        "{\"put\":{\"id\":\"vod1\",\"class\":\"vod\",\"tenant\":\"b\",\"weight\":100,\"cgroup\":\"/farm/vod\"}}");
    try (JobStore s = open()) {
      assertThat(s.restored()).containsExactly(new Job("vod1", Selector.cgroup("/farm/vod"), JobSpec.vod("b")));
    }
    assertThat(logged.toString()).contains("job cam1 not restored: its pids are from an earlier boot");
  }

  @Test
  void anUnfinishedLastLineIsAWriteThatWasNeverAnswered() throws IOException {
    try (JobStore s = open()) {
      s.put(vodCgroup("vod1", "/farm/vod"));
    }
    Files.writeString(file(), "{\"put\":{\"id\":\"vo", java.nio.file.StandardOpenOption.APPEND);
    try (JobStore s = open()) {
      assertThat(s.restored()).containsExactly(vodCgroup("vod1", "/farm/vod"));
      s.put(vodCgroup("vod2", "/farm/vod2"));
    }
    assertThat(logged.toString()).contains("ignoring an unfinished last line");
    try (JobStore s = open()) {
      assertThat(s.restored()).extracting(Job::id).containsExactly("vod1", "vod2");
    }
  }

  @Test
  void aJournalThatCannotBeReadIsKeptAsideAndNothingIsRestored() throws IOException {
    String damaged = "{\"baton_jobs\":1,\"boot_id\":\"x\"}\n{\"put\":{\"id\":\"vod1\"\n{\"delete\":\"vod1\"}\n";
    Files.createDirectories(file().getParent());
    Files.writeString(file(), damaged);
    try (JobStore s = open()) {
      assertThat(s.restored()).isEmpty();
    }
    assertThat(logged.toString()).contains("line 2:").contains("no job was restored, and the file was kept as");
    try (Stream<Path> files = Files.list(file().getParent())) {
      Path aside = files.filter(p -> p.getFileName().toString().startsWith("jobs.json.unreadable-")).findFirst().orElseThrow();
      assertThat(Files.readString(aside)).isEqualTo(damaged);
    }
    assertThat(Files.readAllLines(file())).hasSize(1).allMatch(l -> l.startsWith("{\"baton_jobs\":1,"));
  }

  @Test
  void aFileThatIsNoJournalIsKeptAside() throws IOException {
    journal("{\"put\":{\"id\":\"vod1\",\"class\":\"vod\",\"tenant\":\"b\",\"weight\":100,\"cgroup\":\"/x\"}}");
    try (JobStore s = open()) {
      assertThat(s.restored()).isEmpty();
    }
    assertThat(logged.toString()).contains("line 1: not a Baton jobs journal (no header)");
  }

  @Test
  void aStoredJobTheApiWouldRefuseIsDroppedAndTheRestRestored() throws IOException {
    journal(
        "{\"baton_jobs\":1,\"boot_id\":\"x\"}",
        "{\"put\":{\"id\":\"bad\",\"class\":\"live\",\"tenant\":\"acme\",\"weight\":100,\"cgroup\":\"/farm/bad\"}}",
        "{\"put\":{\"id\":\"vod1\",\"class\":\"vod\",\"tenant\":\"b\",\"weight\":100,\"cgroup\":\"/farm/vod\"}}");
    try (JobStore s = open()) {
      assertThat(s.restored()).extracting(Job::id).containsExactly("vod1");
    }
    assertThat(logged.toString()).contains("job bad not restored: a live job needs exactly one of 'period_us' and 'fps'");
  }

  @Test
  void aHandEditedPidListWithHolesLosesTheHolesOnly() throws IOException {
    journal(
        "{\"baton_jobs\":1,\"boot_id\":\"" + bootId() + "\"}",
        "{\"put\":{\"id\":\"cam1\",\"class\":\"live\",\"tenant\":\"acme\",\"weight\":100,\"period_us\":20000,"
            + "\"pids\":[null,{\"pid\":" + SELF + ",\"start\":" + JobStore.startTicks(SELF) + "}]}}",
        "{\"put\":{\"id\":\"cam2\",\"class\":\"live\",\"tenant\":\"acme\",\"weight\":100,\"period_us\":20000}}");
    try (JobStore s = open()) {
      assertThat(s.restored()).extracting(Job::id).containsExactly("cam1");
    }
    assertThat(logged.toString())
        .contains("job cam1 restored without 1 of its pids")
        .contains("job cam2 not restored: a job needs exactly one of 'pids' and 'cgroup'");
  }

  @Test
  void theJournalIsRewrittenBeforeItOutgrowsItsJobs() throws IOException {
    try (JobStore s = open()) {
      for (int i = 0; i < 1000; i++) {
        s.put(live("cam1", SELF));
        s.put(vodCgroup("v" + i, "/farm/v"));
        s.remove("v" + i);
      }
      assertThat(Files.readAllLines(file()).size()).isLessThanOrEqualTo(1 + 2 + JobStore.SLACK_LINES);
    }
    try (JobStore s = open()) {
      assertThat(s.restored()).containsExactly(live("cam1", SELF));
    }
  }

  @Test
  void aSecondAgentCannotOpenTheSameJournal() throws IOException {
    try (JobStore s = open()) {
      assertThatThrownBy(this::open)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("jobs_file " + file())
          .hasMessageContaining("another process (a Baton agent?) is using");
    }
    try (JobStore s = open()) {
      assertThat(s.restored()).isEmpty();
    }
  }

  @Test
  void aDirectoryThatCannotBeMadeIsAClearError() throws IOException {
    Files.writeString(dir.resolve("run"), "a file where the directory should be");
    assertThatThrownBy(this::open).isInstanceOf(IOException.class).hasMessageStartingWith("jobs_file " + file() + ": ");
  }

  @Test
  void startTicksReadsPastACommWithSpacesAndParentheses() throws Exception {
    Path script = dir.resolve("a b) c");
    Files.copy(Path.of("/bin/sleep"), script);
    script.toFile().setExecutable(true);
    Process p = new ProcessBuilder(script.toString(), "600").start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat")).contains("(a b) c)")
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      long self = JobStore.startTicks(SELF);
      assertThat(JobStore.startTicks((int) p.pid())).isGreaterThanOrEqualTo(self);
      assertThat(JobStore.startTicks(Integer.MAX_VALUE)).isZero();
    } finally {
      p.destroy();
    }
  }

  @Test
  void theOptionTakesAnAbsoluteFileOrNone() {
    assertThat(RunOptions.parse(List.of()).jobsFile()).isEqualTo(JobStore.DEFAULT_FILE);
    assertThat(RunOptions.parse(List.of("--jobs-file", "none")).jobsFile()).isNull();
    assertThat(RunOptions.parse(List.of("--jobs-file", "/var/lib/baton/jobs.json")).jobsFile())
        .isEqualTo(Path.of("/var/lib/baton/jobs.json"));
    assertThatThrownBy(() -> RunOptions.parse(List.of("--jobs-file", "jobs.json")))
        .isInstanceOf(UsageException.class)
        .hasMessage("--jobs-file takes an absolute file name, or none, not 'jobs.json'");
  }
}
