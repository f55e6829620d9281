package dev.baton.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.baton.agent.api.Json;
import dev.baton.policy.Job;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.Selector;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Keeps the jobs registered through the API in a file ({@code jobs_file}), so that an agent that
 * restarts (a crash, an upgrade's handover, {@code systemctl restart}) resumes them instead of
 * silently running every live encoder as ordinary work until its orchestrator notices.
 *
 * <p>The file is a journal of JSON lines: a header with the boot it belongs to, then one line per
 * PUT and DELETE, appended and flushed before the API answers, so a registration costs one write
 * however many jobs there are. When the journal holds more than twice the lines its jobs need it
 * is rewritten whole (a new file, then a rename, so a crash leaves the old or the new one). A lock
 * file keeps a second agent from writing the same journal.
 *
 * <p>Pids outlive nothing: each is stored with its process's start time, and a restored pid is
 * kept only if the process with that pid started then (not a stranger that reused the pid); a job
 * none of whose processes remain is dropped, and so are all pids after a reboot (the header's
 * boot id). Cgroup jobs are kept. Each restored job is checked as the API checks a new one. A
 * journal that cannot be read is moved aside, never overwritten, and the agent starts without
 * jobs. The default file is under /run, which a reboot empties: the jobs of a boot die with it.
 */
final class JobStore implements JobsApi.Journal, Closeable {

  static final Path DEFAULT_FILE = Path.of("/run/baton/jobs.json");
  private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
  private static final int FORMAT = 1;
  /** Lines a journal may hold beyond twice its jobs before it is rewritten. */
  static final int SLACK_LINES = 64;

  /** One line of the journal: exactly one of a header (baton_jobs, boot_id), put and delete. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Line(Integer batonJobs, String bootId, Stored put, String delete) {}

  /** A job as stored: the API's fields, and each pid with its process's start time. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Stored(
      String id,
      @com.fasterxml.jackson.annotation.JsonProperty("class") String jobClass,
      String tenant,
      int weight,
      Long periodUs,
      Long frameCostUs,
      List<StoredPid> pids,
      String cgroup) {
    /** The same job with other pids (a pid job stays one: null stays null). */
    Stored withPids(List<StoredPid> p) {
      return pids == null ? this : new Stored(id, jobClass, tenant, weight, periodUs, frameCostUs, p, cgroup);
    }
  }

  /** @param start the process's start time in clock ticks after boot (/proc/PID/stat); 0: none */
  record StoredPid(int pid, long start) {}

  private final Path file;
  private final PrintStream log;
  private final String bootId;
  private final FileChannel lockChannel;
  private final Map<String, Stored> jobs = new LinkedHashMap<>();
  private final List<Job> restored = new ArrayList<>();
  private FileChannel out;
  private int lines;
  private boolean damaged; // a failed write may have left part of a line: rewrite before appending

  private JobStore(Path file, PrintStream log, String bootId, FileChannel lockChannel) {
    this.file = file;
    this.log = log;
    this.bootId = bootId;
    this.lockChannel = lockChannel;
  }

  /**
   * Opens the journal, restores what it holds (see {@link #restored}) and rewrites it to exactly
   * that. Creates the file's directory (0700) if it is missing.
   *
   * @throws IOException if the file cannot be written, or another process holds its lock
   */
  static JobStore open(Path file, PrintStream log) throws IOException {
    try {
      return openOrThrow(file, log);
    } catch (IOException e) {
      String why = e instanceof java.nio.file.FileSystemException f
          ? e.getClass().getSimpleName().replace("Exception", "") + " " + f.getMessage()
          : e.getMessage();
      throw new IOException("jobs_file " + file + ": " + why
          + " (choose another jobs_file, or none to keep API jobs in memory only)", e);
    }
  }

  private static JobStore openOrThrow(Path file, PrintStream log) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    Path lockFile = file.resolveSibling(file.getFileName() + ".lock");
    FileChannel lock = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock held;
      try {
        held = lock.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException e) {
        held = null; // this process holds it
      }
      if (held == null) {
        throw new IOException("another process (a Baton agent?) is using " + file + ": it holds " + lockFile);
      }
      JobStore s = new JobStore(file, log, bootId(), lock);
      s.restore();
      s.rewrite();
      return s;
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /** The jobs the journal held that still apply, in the order they were registered. */
  List<Job> restored() {
    return List.copyOf(restored);
  }

  Path file() {
    return file;
  }

  /** Records a registration (new or replacing); the job must be the API's (pids or a cgroup). */
  @Override
  public synchronized void put(Job job) throws IOException {
    Stored s = stored(job);
    append(new Line(null, null, s, null));
    jobs.put(job.id(), s); // a replaced job keeps its place, as in the engine (pid precedence)
  }

  /** Records a removal. */
  @Override
  public synchronized void remove(String id) throws IOException {
    append(new Line(null, null, null, id));
    jobs.remove(id);
  }

  @Override
  public synchronized void close() throws IOException {
    try {
      if (out != null) {
        out.close();
      }
    } finally {
      lockChannel.close(); // releases the lock
    }
  }

  // ---- writing ----

  private void append(Line line) throws IOException {
    if (damaged || lines + 1 > 2 * jobs.size() + SLACK_LINES) {
      rewrite();
    }
    try {
      writeFully(out, line);
      out.force(false);
      lines++;
    } catch (IOException e) {
      damaged = true;
      throw new IOException("could not record the change in " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes the journal anew: the header and one put per job, then swaps it in. */
  private void rewrite() throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".new");
    try (FileChannel c = FileChannel.open(
        tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      writeFully(c, new Line(FORMAT, bootId, null, null));
      for (Stored s : jobs.values()) {
        writeFully(c, new Line(null, null, s, null));
      }
      c.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    if (out != null) {
      out.close();
    }
    out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    lines = 1 + jobs.size();
    damaged = false;
  }

  private static void writeFully(FileChannel c, Line line) throws IOException {
    byte[] json = Json.write(line);
    ByteBuffer b = ByteBuffer.allocate(json.length + 1).put(json).put((byte) '\n').flip();
    while (b.hasRemaining()) {
      c.write(b);
    }
  }

  private static Stored stored(Job job) {
    var spec = job.spec();
    LiveSpec live = spec.live();
    List<StoredPid> pids = null;
    String cgroup = null;
    switch (job.selector()) {
      case Selector.Pids p -> {
        pids = new ArrayList<>();
        for (int pid : new TreeSet<>(p.tgids())) {
          pids.add(new StoredPid(pid, startTicks(pid)));
        }
      }
      case Selector.Matching m -> {
        if (!m.match().equals(dev.baton.policy.Match.cgroup(m.match().cgroupPrefix()))) {
          throw new IllegalArgumentException("job " + job.id() + ": only pid and cgroup jobs are stored");
        }
        cgroup = m.match().cgroupPrefix();
      }
    }
    return new Stored(
        job.id(), spec.jobClass().configName(), spec.tenant(), spec.weight(),
        live == null ? null : live.framePeriodUs(), live == null ? null : live.frameCostUs(), pids, cgroup);
  }

  // ---- reading ----

  /** Replays the journal into {@link #jobs}, then keeps the jobs that still apply. */
  private void restore() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return;
    }
    String text = new String(bytes, StandardCharsets.UTF_8);
    String[] all = text.split("\n", -1);
    // The piece after the last newline: empty, or a write the agent died in (unanswered).
    int complete = all.length - 1;
    if (!all[complete].isEmpty()) {
      log.println("baton: " + file + ": ignoring an unfinished last line (a write the agent did not finish)");
    }
    String fileBoot = null;
    for (int i = 0; i < complete; i++) {
      String problem = null;
      Line l = null;
      try {
        l = Json.read(all[i], Line.class);
      } catch (RuntimeException e) {
        problem = e.getMessage();
      }
      if (l != null) {
        int kinds = (l.batonJobs() != null ? 1 : 0) + (l.put() != null ? 1 : 0) + (l.delete() != null ? 1 : 0);
        if (kinds != 1 || (i == 0) != (l.batonJobs() != null)) {
          problem = i == 0 ? "not a Baton jobs journal (no header)" : "not a journal line";
        } else if (i == 0 && l.batonJobs() != FORMAT) {
          problem = "journal format " + l.batonJobs() + ", this agent reads " + FORMAT;
        } else if (i == 0) {
          fileBoot = l.bootId();
        } else if (l.put() != null && l.put().id() == null) {
          problem = "a put without an id";
        } else if (l.put() != null) {
          jobs.put(l.put().id(), l.put());
        } else {
          jobs.remove(l.delete());
        }
      }
      if (problem != null) {
        setAside("line " + (i + 1) + ": " + problem);
        return;
      }
    }
    boolean sameBoot = bootId != null && bootId.equals(fileBoot);
    Map<String, Stored> keep = new LinkedHashMap<>();
    for (Stored s : jobs.values()) {
      try {
        Stored kept = sameBoot ? s : s.withPids(List.of());
        if (kept.pids() != null) {
          List<StoredPid> alive = new ArrayList<>();
          for (StoredPid p : kept.pids()) {
            if (p != null && p.start() != 0 && startTicks(p.pid()) == p.start()) {
              alive.add(p);
            }
          }
          kept = kept.withPids(alive);
        }
        if (kept.pids() != null && kept.pids().isEmpty()) {
          log.println("baton: job " + s.id() + " not restored: "
              + (sameBoot ? "none of its processes is running" : "its pids are from an earlier boot"));
          continue;
        }
        restored.add(toJob(kept));
        keep.put(s.id(), kept);
        if (kept.pids() != null && kept.pids().size() < s.pids().size()) {
          log.println("baton: job " + s.id() + " restored without " + (s.pids().size() - kept.pids().size())
              + " of its pids (those processes have exited)");
        }
      } catch (RuntimeException e) {
        log.println("baton: job " + s.id() + " not restored: " + e.getMessage());
      }
    }
    // Only what was restored stays: the rewrite that follows drops the rest from the journal.
    jobs.clear();
    jobs.putAll(keep);
    if (!restored.isEmpty()) {
      log.println("baton: restored " + restored.size() + " job(s) registered through the API from " + file);
    }
  }

  /** The job as the API would have made it from these fields: the same checks. */
  private static Job toJob(Stored s) {
    List<Integer> pids = s.pids() == null ? null : s.pids().stream().map(StoredPid::pid).toList();
    return new JobsApi.JobBody(s.jobClass(), s.tenant(), s.periodUs(), null, s.frameCostUs(), s.weight(), pids, s.cgroup())
        .toJob(s.id());
  }

  /** Keeps a journal this agent cannot read for a person to look at, and starts without jobs. */
  private void setAside(String problem) throws IOException {
    jobs.clear();
    Path aside = file.resolveSibling(file.getFileName() + ".unreadable-" + System.currentTimeMillis());
    Files.move(file, aside);
    log.println("baton: " + file + " " + problem + "; no job was restored, and the file was kept as " + aside);
  }

  // ---- the system ----

  /** When the process with this pid started, in clock ticks after boot; 0 if there is none. */
  static long startTicks(int pid) {
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    // The comm in parentheses may hold spaces and ')': fields resume after the last ')'.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    try {
      return Long.parseLong(f[19]); // field 22, starttime
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private static String bootId() {
    try {
      return Files.readString(BOOT_ID).strip();
    } catch (IOException e) {
      return null; // no boot id: pids cannot be trusted across restarts
    }
  }
}
