package dev.baton.agent;

import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.BpfMaps;
import dev.baton.bpf.BpfObject;
import dev.baton.bpf.BpfPins;
import dev.baton.bpf.RecordView;
import dev.baton.bpf.RingBuffer;
import dev.baton.bpf.StructOpsLink;
import dev.baton.bpf.abi.BatonEventKind;
import dev.baton.bpf.abi.BatonExitInfo;
import dev.baton.bpf.abi.BatonStat;
import dev.baton.bpf.abi.BatonTaskEvent;
import dev.baton.bpf.abi.Rodata;
import dev.baton.bpf.abi.ScxExitKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One run of Baton's BPF scheduler: attach a fresh one (open, set read-only tunables, load,
 * attach) or adopt the one a previous agent left pinned; consume events until told to stop or
 * until the kernel ends the scheduler; then detach, or leave it attached for the next agent
 * (handover); report how it ended.
 *
 * <p>With pinning, the scheduler's link and maps live in bpffs ({@link Pins}): they keep the
 * scheduler attached when this process dies, and a restarted agent adopts it without a gap.
 * While no agent runs the BPF side sees its heartbeat go stale and schedules fairly.
 *
 * <p>The event loop is one thread; records are decoded in place from the ring buffer into the
 * task table without allocating.
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

  /** The classes of the run_delay map, by index: one until the class DSQs land. */
  static final java.util.List<String> CLASSES = java.util.List.of("all");

  /** The run ended with the scheduler left attached and pinned for the next agent. */
  static final Exit HANDED_OVER = new Exit(-1, "HANDOVER", 0, "left attached for the next agent", "");

  private final RunOptions options;
  private final PrintStream log;
  private final AtomicBoolean stop;
  private final AtomicBoolean handover;
  private final BpfStats stats;
  private final Runnable onAttached;
  private final Runnable onLoopTurn;
  private final TaskTable tasks;
  private final byte[] comm = new byte[TaskTable.COMM_LEN];
  private long events;
  private boolean schedulerExited;
  // Published once per loop turn for other threads (the API, metrics); the loop's own are plain.
  private volatile long publishedEvents;
  private volatile int publishedLiveTasks;
  private volatile long publishedDroppedTasks;
  private volatile boolean attached;

  /**
   * @param stop set to end the run (SIGTERM): the scheduler is detached
   * @param handover set with {@code stop} to leave a pinned scheduler attached instead
   * @param onAttached called once the scheduler is attached or adopted (sd_notify READY)
   * @param onLoopTurn called every loop turn, at least every 100 ms (the service watchdog)
   */
  Scheduler(
      RunOptions options,
      PrintStream log,
      AtomicBoolean stop,
      AtomicBoolean handover,
      BpfStats stats,
      Runnable onAttached,
      Runnable onLoopTurn) {
    this.options = options;
    this.log = log;
    this.stop = stop;
    this.handover = handover;
    this.stats = stats;
    this.onAttached = onAttached;
    this.onLoopTurn = onLoopTurn;
    this.tasks = new TaskTable(options.maxTasks(), options.maxTasks());
  }

  TaskTable tasks() {
    return tasks;
  }

  /** A consistent-enough view for other threads: counters as of the last loop turn. */
  record Snapshot(boolean attached, long events, int liveTasks, long droppedTasks) {}

  Snapshot snapshot() {
    return new Snapshot(attached, publishedEvents, publishedLiveTasks, publishedDroppedTasks);
  }

  /** Runs until {@code stop} is set or the scheduler exits. */
  Exit run() throws BpfException, IOException {
    schedulerExited = false;
    Pins pins = options.pinDir() == null ? null : new Pins(options.pinDir());
    if (pins != null && pins.hasLink()) {
      Exit adopted = adopt(pins);
      if (adopted != null) {
        return adopted;
      }
    }
    try (BpfObject obj = BpfObject.open(loadObject(), "baton")) {
      obj.rodata().putLong(Rodata.SLICE_NS_OFFSET, options.sliceUs() * 1000L);
      obj.load();
      StructOpsLink link = obj.attachStructOps("baton_ops"); // detached when obj closes
      if (pins != null) {
        try {
          pins.pin(obj, link);
        } catch (BpfException | IOException e) {
          pins.remove();
          throw e;
        }
      }
      log.println("baton: attached (slice " + options.sliceUs() + " us" + (pins != null ? ", pinned in " + pins.dir() : "") + ")");
      return follow(obj, link, pins);
    }
  }

  /** Takes over the pinned scheduler; null if it had already ended (its pins are then removed). */
  private Exit adopt(Pins pins) throws BpfException, IOException {
    try (BpfPins maps = BpfPins.in(pins.maps());
        StructOpsLink link = StructOpsLink.openPinned(pins.link())) {
      Exit ended = readExit(maps.map("exit_info"));
      if (ended.kind() != 0) {
        log.println(
            "baton: the pinned scheduler ended while no agent ran ("
                + ended.kindName()
                + ": "
                + ended.reason()
                + "); attaching a new one");
        pins.remove();
        return null;
      }
      log.println("baton: adopted the running scheduler pinned in " + pins.dir());
      return follow(maps, link, pins);
    }
  }

  private Exit follow(BpfMaps maps, StructOpsLink link, Pins pins) throws BpfException, IOException {
    BpfMap exitInfo = maps.map("exit_info");
    RingBuffer ring = maps.ringBuffer("events"); // unmapped when maps close
    stats.attach(maps.map("stats"), maps.map("run_delay"));
    try {
      log.flush();
      attached = true;
      onAttached.run();
      long nextSummary = System.nanoTime() + SUMMARY_EVERY_NS;
      long eventsAtLastSummary = 0;
      while (!stop.get() && !schedulerExited) {
        ring.poll(POLL_MS, this::onRecord);
        publishedEvents = events;
        publishedLiveTasks = tasks.live();
        publishedDroppedTasks = tasks.overflows();
        onLoopTurn.run();
        long now = System.nanoTime();
        if (now >= nextSummary) {
          log.printf(
              "baton: events %d (+%d), tasks live %d, seen %d, dropped %d, ring drops %d%n",
              events,
              events - eventsAtLastSummary,
              tasks.live(),
              tasks.seen(),
              tasks.overflows(),
              stats.stat(BatonStat.BATON_STAT_EVENTS_DROPPED));
          log.flush();
          eventsAtLastSummary = events;
          nextSummary = now + SUMMARY_EVERY_NS;
          // The exit event can be lost to a full ring; the exit record cannot.
          schedulerExited |= readExit(exitInfo).kind() != 0;
        }
      }
      // Events still queued when we stop are read before detaching, so the table is complete.
      ring.consume(this::onRecord);
      stats.detach();
      if (!schedulerExited && handover.get() && pins != null) {
        return HANDED_OVER;
      }
      if (!schedulerExited) {
        link.detach(); // even if pinned, or held by another process
      }
      if (pins != null) {
        pins.remove();
      }
      return readExit(exitInfo);
    } finally {
      attached = false;
      stats.detach();
    }
  }

  private void onRecord(RecordView r) {
    events++;
    int kind = r.getInt(BatonTaskEvent.KIND_OFFSET);
    int pid = r.getInt(BatonTaskEvent.PID_OFFSET);
    if (kind == BatonEventKind.BATON_EV_TASK_INIT) {
      r.getBytes(BatonTaskEvent.COMM_OFFSET, comm, 0, TaskTable.COMM_LEN);
      tasks.add(
          pid, r.getInt(BatonTaskEvent.TGID_OFFSET), r.getLong(BatonTaskEvent.START_NS_OFFSET), comm, 0);
    } else if (kind == BatonEventKind.BATON_EV_TASK_EXIT) {
      tasks.remove(pid);
    } else if (kind == BatonEventKind.BATON_EV_SCHED_EXIT) {
      schedulerExited = true;
    }
  }

  static Exit readExit(BpfMap exitInfo) throws BpfException {
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

  /**
   * Tests only: a JVM system property naming another build of the scheduler (the fault test's
   * bpf/build/test/baton_fault.bpf.o). Not a setting: the config file and the installed
   * launcher cannot reach it, and the shipped jar holds only the real object.
   */
  static final String TEST_OBJECT_PROPERTY = "baton.test.bpf-object";

  private byte[] loadObject() throws IOException {
    String test = System.getProperty(TEST_OBJECT_PROPERTY);
    if (test != null) {
      log.println("baton: TEST BUILD of the scheduler: " + test);
      return java.nio.file.Files.readAllBytes(java.nio.file.Path.of(test));
    }
    try (InputStream in = Scheduler.class.getResourceAsStream(OBJECT_RESOURCE)) {
      if (in == null) {
        throw new IOException(OBJECT_RESOURCE + " is missing from the agent jar (broken build)");
      }
      return in.readAllBytes();
    }
  }
}
