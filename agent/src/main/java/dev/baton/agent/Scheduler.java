package dev.baton.agent;

import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.BpfObject;
import dev.baton.bpf.RecordView;
import dev.baton.bpf.RingBuffer;
import dev.baton.bpf.StructOpsLink;
import dev.baton.bpf.abi.BatonEventKind;
import dev.baton.bpf.abi.BatonExitInfo;
import dev.baton.bpf.abi.BatonStat;
import dev.baton.bpf.abi.BatonTaskEvent;
import dev.baton.bpf.abi.BatonTaskSample;
import dev.baton.bpf.abi.BatonTunables;
import dev.baton.bpf.abi.Rodata;
import dev.baton.bpf.abi.SchedExtOps;
import dev.baton.bpf.abi.ScxExitKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One attachment of Baton's BPF scheduler: open, set read-only tunables, load, attach, consume
 * events until told to stop or until the kernel ends the scheduler, detach, report how it ended.
 *
 * <p>The event loop is one thread; records are decoded in place from the ring buffer into the
 * task table without allocating. The loop also writes the heartbeat, so a stalled loop (a long
 * GC pause, a stopped process) is what makes the BPF side fall back to ignoring hints.
 */
final class Scheduler {

  private static final String OBJECT_RESOURCE = "baton.bpf.o";
  private static final int POLL_MS = 100;
  private static final long SUMMARY_EVERY_NS = 1_000_000_000L;

  /** How a run ended, as the kernel recorded it. */
  record Exit(int kind, String kindName, long code, String reason, String message) {
    /** Detached by us (or by an administrator), not by an error. */
    boolean byUserSpace() {
      return kind < ScxExitKind.SCX_EXIT_ERROR;
    }
  }

  private final RunOptions options;
  private final PrintStream log;
  private final AtomicBoolean stop;
  private final TaskTable tasks;
  private final Consumer<HintWriter> onAttached;
  private final PolicyDriver policy;
  private final byte[] comm = new byte[TaskTable.COMM_LEN];
  private long events;
  private long samples;
  private boolean schedulerExited;
  // Published once per loop turn for other threads (the API); the loop's own counters are plain.
  private volatile long publishedEvents;
  private volatile int publishedLiveTasks;
  private volatile boolean attached;

  /**
   * @param onAttached called on the event-loop thread with the path for hints once the scheduler
   *     runs, and with null once it no longer does (the maps it writes are then gone)
   */
  Scheduler(
      RunOptions options,
      PrintStream log,
      AtomicBoolean stop,
      Consumer<HintWriter> onAttached,
      PolicyDriver policy) {
    this.options = options;
    this.policy = policy;
    this.log = log;
    this.stop = stop;
    this.onAttached = onAttached;
    this.tasks = new TaskTable(options.maxTasks(), options.maxTasks());
  }

  TaskTable tasks() {
    return tasks;
  }

  /** A consistent-enough view for other threads: counters as of the last loop turn. */
  record Snapshot(boolean attached, long events, int liveTasks) {}

  Snapshot snapshot() {
    return new Snapshot(attached, publishedEvents, publishedLiveTasks);
  }

  /** Runs until {@code stop} is set or the scheduler exits; always detaches before returning. */
  Exit run() throws BpfException, IOException {
    try (BpfObject obj = BpfObject.open(loadObject(), "baton")) {
      // Units are converted here, once: the BPF side works in ns.
      long tunables = Rodata.TUNABLES_OFFSET;
      obj.rodata().putLong(tunables + BatonTunables.STALE_NS_OFFSET, options.staleMs() * 1_000_000);
      obj.rodata().putLong(tunables + BatonTunables.STARVE_NS_OFFSET, options.starveMs() * 1_000_000);
      obj.rodata().putLong(tunables + BatonTunables.SAMPLE_NS_OFFSET, options.sampleMs() * 1_000_000);
      obj.structOps("baton_ops").putInt(SchedExtOps.TIMEOUT_MS_OFFSET, (int) options.timeoutMs());
      obj.load();
      BpfMap stats = obj.map("stats");
      BpfMap exitInfo = obj.map("exit_info");
      HintWriter hints = new HintWriter(obj);
      for (SchedClass c : SchedClass.values()) {
        hints.setClassSlice(c, options.sliceUs(c));
      }
      hints.heartbeat();
      try (RingBuffer ring = obj.ringBuffer("events");
          StructOpsLink link = obj.attachStructOps("baton_ops")) {
        log.println(
            "baton: attached (slice "
                + options.sliceUs(SchedClass.NORMAL)
                + " us, stale "
                + options.staleMs()
                + " ms, starve "
                + options.starveMs()
                + " ms)");
        log.flush();
        // The event loop goes ahead of the work it schedules: a heartbeat starved by NORMAL hogs
        // would make the BPF side drop every hint. Only this thread: the JVM's compiler and GC
        // threads stay NORMAL, so a busy JIT cannot crowd out the host's work.
        hints.setTask(currentThreadId(), Hint.of(SchedClass.INTERACTIVE));
        onAttached.accept(hints);
        long nextSummary = System.nanoTime() + SUMMARY_EVERY_NS;
        long eventsAtLastSummary = 0;
        attached = true;
        while (!stop.get() && !schedulerExited) {
          ring.poll(POLL_MS, this::onRecord);
          hints.heartbeat();
          policy.tickIfDue(System.nanoTime());
          publishedEvents = events;
          publishedLiveTasks = tasks.live();
          long now = System.nanoTime();
          if (now >= nextSummary) {
            long[] s = readStats(stats);
            log.printf(
                "baton: events %d (+%d), samples %d, tasks live %d, seen %d, dropped %d, enqueued %d,"
                    + " dispatched %d/%d/%d/%d/%d, guard %d, kicks %d, stale %d%n",
                events,
                events - eventsAtLastSummary,
                samples,
                tasks.live(),
                tasks.seen(),
                s[BatonStat.BATON_STAT_EVENTS_DROPPED],
                s[BatonStat.BATON_STAT_ENQUEUES],
                s[BatonStat.BATON_STAT_DISPATCH_LIVE],
                s[BatonStat.BATON_STAT_DISPATCH_INTERACTIVE],
                s[BatonStat.BATON_STAT_DISPATCH_NORMAL],
                s[BatonStat.BATON_STAT_DISPATCH_BATCH],
                s[BatonStat.BATON_STAT_DISPATCH_IDLE],
                s[BatonStat.BATON_STAT_GUARD],
                s[BatonStat.BATON_STAT_KICKS],
                s[BatonStat.BATON_STAT_STALE_PERIODS]);
            log.flush();
            eventsAtLastSummary = events;
            nextSummary = now + SUMMARY_EVERY_NS;
          }
        }
        // Events still queued when we stop are read before detaching, so the table is complete.
        ring.consume(this::onRecord);
        log.println("baton: stats " + formatStats(readStats(stats)));
      } finally {
        attached = false;
        onAttached.accept(null);
      }
      return readExit(exitInfo);
    }
  }

  /** The kernel's id of the calling thread, from /proc/thread-self ("PID/task/TID"). */
  static int currentThreadId() throws IOException {
    Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
    return Integer.parseInt(self.getFileName().toString());
  }

  /** Every counter of the stats map, summed over CPUs, indexed by enum baton_stat. */
  static long[] readStats(BpfMap stats) throws BpfException {
    long[] sums = new long[BatonStat.BATON_NR_STATS];
    for (int i = 0; i < sums.length; i++) {
      long[] perCpu = stats.lookupPerCpuLongs(i);
      sums[i] = perCpu == null ? 0 : sum(perCpu);
    }
    return sums;
  }

  /** "name=value" per counter, named after enum baton_stat without its prefix, lower case. */
  static String formatStats(long[] sums) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Long> e : BatonStat.VALUES.entrySet()) {
      int i = e.getValue().intValue();
      if (i < sums.length) {
        sb.append(sb.isEmpty() ? "" : " ")
            .append(e.getKey().substring("BATON_STAT_".length()).toLowerCase(Locale.ROOT))
            .append('=')
            .append(sums[i]);
      }
    }
    return sb.toString();
  }

  private void onRecord(RecordView r) {
    events++;
    int kind = r.getInt(BatonTaskEvent.KIND_OFFSET);
    int pid = r.getInt(BatonTaskEvent.PID_OFFSET);
    if (kind == BatonEventKind.BATON_EV_TASK_SAMPLE) {
      samples++;
      policy.sample(
          pid,
          r.getLong(BatonTaskSample.CPU_NS_OFFSET),
          r.getLong(BatonTaskSample.WAIT_NS_OFFSET),
          Integer.toUnsignedLong(r.getInt(BatonTaskSample.WAKEUPS_OFFSET)));
    } else if (kind == BatonEventKind.BATON_EV_TASK_INIT) {
      r.getBytes(BatonTaskEvent.COMM_OFFSET, comm, 0, TaskTable.COMM_LEN);
      int tgid = r.getInt(BatonTaskEvent.TGID_OFFSET);
      long startNs = r.getLong(BatonTaskEvent.START_NS_OFFSET);
      tasks.add(pid, tgid, startNs, comm, 0);
      // One String per new task: the policies classify by name.
      policy.taskInit(pid, tgid, startNs, r.getLong(BatonTaskEvent.CGROUP_ID_OFFSET), TaskTable.cString(comm, 0));
    } else if (kind == BatonEventKind.BATON_EV_TASK_EXIT) {
      tasks.remove(pid);
      policy.taskExit(pid);
    } else if (kind == BatonEventKind.BATON_EV_SCHED_EXIT) {
      schedulerExited = true;
    }
  }

  private static Exit readExit(BpfMap exitInfo) throws BpfException {
    byte[] key = new byte[4];
    byte[] value = new byte[exitInfo.valueSize()];
    if (!exitInfo.lookup(key, value)) {
      return new Exit(0, "NONE", 0, "", "");
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    int kind = b.getInt((int) BatonExitInfo.KIND_OFFSET);
    return new Exit(
        kind,
        exitKindName(kind),
        b.getLong((int) BatonExitInfo.EXIT_CODE_OFFSET),
        cString(value, BatonExitInfo.REASON_OFFSET, BatonExitInfo.REASON_SIZE),
        cString(value, BatonExitInfo.MSG_OFFSET, BatonExitInfo.MSG_SIZE));
  }

  /** The kernel's name for an exit kind without its SCX_EXIT_ prefix; unknown kinds as numbers. */
  static String exitKindName(int kind) {
    return ScxExitKind.VALUES.entrySet().stream()
        .filter(e -> e.getValue() == kind)
        .map(e -> e.getKey().substring("SCX_EXIT_".length()))
        .findFirst()
        .orElse(Integer.toString(kind));
  }

  private static String cString(byte[] bytes, long off, long max) {
    int start = (int) off;
    int end = start;
    while (end < start + max && bytes[end] != 0) {
      end++;
    }
    return new String(bytes, start, end - start, StandardCharsets.UTF_8);
  }

  private static long sum(long[] perCpu) {
    long total = 0;
    for (long v : perCpu) {
      total += v;
    }
    return total;
  }

  private static byte[] loadObject() throws IOException {
    try (InputStream in = Scheduler.class.getResourceAsStream(OBJECT_RESOURCE)) {
      if (in == null) {
        throw new IOException(OBJECT_RESOURCE + " is missing from the agent jar (broken build)");
      }
      return in.readAllBytes();
    }
  }
}
