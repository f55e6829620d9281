package dev.baton.agent;

import dev.baton.bpf.Abi;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.BpfMaps;
import dev.baton.bpf.BpfObject;
import dev.baton.bpf.BpfPins;
import dev.baton.bpf.RecordView;
import dev.baton.bpf.RingBuffer;
import dev.baton.bpf.StructOpsLink;
import dev.baton.bpf.abi.BatonEventKind;
import dev.baton.bpf.abi.BatonHint;
import dev.baton.bpf.abi.BatonLive;
import dev.baton.bpf.abi.BatonTaskKey;
import dev.baton.bpf.abi.DataLive;
import dev.baton.bpf.abi.BatonExitInfo;
import dev.baton.bpf.abi.BatonStat;
import dev.baton.bpf.abi.BatonTaskEvent;
import dev.baton.bpf.abi.BatonTaskSample;
import dev.baton.bpf.abi.SchedExtOps;
import dev.baton.bpf.abi.ScxExitCode;
import dev.baton.bpf.abi.ScxExitKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One run of Baton's BPF scheduler: attach a fresh one (open, set the watchdog timeout, load,
 * attach) or adopt the one a previous agent left pinned; consume events until told to stop or
 * until the kernel ends the scheduler; then detach, or leave it attached for the next agent
 * (handover); report how it ended.
 *
 * <p>With pinning, the scheduler's link and maps live in bpffs ({@link Pins}): they keep the
 * scheduler attached when this process dies, and a restarted agent adopts it without a gap.
 * While no agent runs the BPF side sees its heartbeat go stale and schedules fairly.
 *
 * <p>The event loop is one thread; records are decoded in place from the ring buffer into the
 * task table without allocating. The loop also writes the heartbeat, so a stalled loop (a long
 * GC pause, a stopped process) is what makes the BPF side fall back to ignoring hints.
 */
final class Scheduler {

  private static final String OBJECT_RESOURCE = "baton.bpf.o";
  /** The longest one poll of the ring waits: a turn also writes the heartbeat and ticks the policy. */
  private static final int POLL_MS = (int) (PolicyDriver.TICK_NS / 1_000_000);
  /** A line a minute for the journal; /metrics has the same counters live. */
  private static final long SUMMARY_EVERY_NS = 60_000_000_000L;
  private static final long EXIT_CHECK_NS = 1_000_000_000L;

  /** How a run ended, as the kernel recorded it. */
  record Exit(int kind, String kindName, long code, String reason, String message, String dump) {
    /** Detached by us (or by an administrator), not by an error. */
    boolean byUserSpace() {
      return kind < ScxExitKind.SCX_EXIT_ERROR;
    }

    /**
     * The kernel ended the scheduler for a change it cannot follow, and asks for it to be loaded
     * again: a CPU going online or offline, for a scheduler without the hotplug callbacks.
     */
    boolean restartAsked() {
      return (code & ScxExitCode.SCX_ECODE_ACT_RESTART) != 0;
    }
  }

  /** The classes of the run_delay map, by index: enum baton_class order. */
  static final java.util.List<String> CLASSES =
      java.util.Arrays.stream(SchedClass.values()).map(SchedClass::label).toList();

  /** The run ended with the scheduler left attached and pinned for the next agent. */
  static final Exit HANDED_OVER = new Exit(-1, "HANDOVER", 0, "left attached for the next agent", "", "");

  private final RunOptions options;
  private final PrintStream log;
  private final AtomicBoolean stop;
  private final AtomicBoolean handover;
  private final BpfStats stats;
  private final Runnable onLoopTurn;
  private final TaskTable tasks;
  private final Consumer<HintWriter> onAttached;
  private final PolicyDriver policy;
  private final byte[] comm = new byte[TaskTable.COMM_LEN];
  private final HintWriter.Counts hintCounts = new HintWriter.Counts();
  private long events;
  private long samples;
  private boolean schedulerExited;
  // Published once per loop turn for other threads (the API, metrics); the loop's own are plain.
  private volatile long publishedEvents;
  private volatile int publishedLiveTasks;
  private volatile long publishedDroppedTasks;
  private volatile boolean attached;
  // What a reload changes in a running scheduler (the class slices, timings, handover_grace_ms):
  // the options of the last reload, and the writer of the scheduler that runs now (null between
  // runs).
  private RunOptions tuned; // guarded by this
  private volatile long staleMs; // tuned's, for the loop without the lock
  private HintWriter primed; // guarded by this

  /**
   * @param stop set to end the run (SIGTERM): the scheduler is detached
   * @param handover set with {@code stop} to leave a pinned scheduler attached instead
   * @param onAttached called on the event-loop thread with the path for hints once the scheduler
   *     runs (attached or adopted: sd_notify READY), and with null once this run of it ends
   * @param onLoopTurn called every loop turn, at least every 250 ms (the service watchdog)
   */
  Scheduler(
      RunOptions options,
      PrintStream log,
      AtomicBoolean stop,
      AtomicBoolean handover,
      BpfStats stats,
      Consumer<HintWriter> onAttached,
      Runnable onLoopTurn,
      PolicyDriver policy) {
    this.options = options;
    this.tuned = options;
    this.staleMs = options.staleMs();
    this.policy = policy;
    this.log = log;
    this.stop = stop;
    this.handover = handover;
    this.stats = stats;
    this.onAttached = onAttached;
    this.onLoopTurn = onLoopTurn;
    this.tasks = new TaskTable(options.maxTasks(), options.maxTasks());
  }

  /**
   * How long one poll of the ring may wait under {@code stale_ms}: POLL_MS, less when stale_ms is
   * short. The BPF side checks the heartbeat every stale_ms / 4 and drops every hint once it is
   * older than stale_ms; a poll of at most stale_ms / 4 leaves the rest of the turn three quarters
   * of stale_ms to run late in before the hints go. (With the poll fixed at 100 ms, stale_ms 100,
   * which is valid, left no margin: an idle turn a millisecond late dropped the hints.) POLL_MS is
   * the policy's tick (PolicyDriver.TICK_NS): a turn more often only costs a wakeup.
   */
  static int pollMs(long staleMs) {
    return (int) Math.max(1, Math.min(POLL_MS, staleMs / 4));
  }

  TaskTable tasks() {
    return tasks;
  }

  /** What this agent's hint writers did, over every run of the scheduler. */
  HintWriter.Counts hintCounts() {
    return hintCounts;
  }

  /** A consistent-enough view for other threads: counters as of the last loop turn. */
  record Snapshot(boolean attached, long events, int liveTasks, long droppedTasks) {}

  Snapshot snapshot() {
    return new Snapshot(attached, publishedEvents, publishedLiveTasks, publishedDroppedTasks);
  }

  /** Whether this kernel's sched_ext_ops has cgroup_set_bandwidth (6.17+); read once. */
  private final boolean kernelPassesCpuMax = Preflight.ofHost().kernelPassesCpuMax();

  /**
   * Loads the object without ops.cgroup_set_bandwidth, for a kernel whose sched_ext_ops lacks it
   * (before 6.17): libbpf refuses a callback for a member the kernel does not have. Such a kernel
   * passes ops.cgroup_init no limits either, so cpu.max is simply not enforced there.
   */
  static void leaveOutCpuMax(BpfObject obj) throws BpfException {
    obj.structOps("baton_ops").putLong(SchedExtOps.CGROUP_SET_BANDWIDTH_OFFSET, 0);
    obj.program("baton_cgroup_set_bandwidth").skipLoad();
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
      obj.structOps("baton_ops").putInt(SchedExtOps.TIMEOUT_MS_OFFSET, (int) options.timeoutMs());
      if (!kernelPassesCpuMax) {
        leaveOutCpuMax(obj);
      }
      stampInterface(obj);
      obj.load();
      HintWriter hints = new HintWriter(obj, hintCounts);
      prime(hints);
      StructOpsLink link = obj.attachStructOps("baton_ops"); // detached when obj closes
      if (pins != null) {
        try {
          pins.pin(obj, link);
        } catch (BpfException | IOException e) {
          pins.remove();
          throw e;
        }
      }
      log.println(
          "baton: attached (slice "
              + hints.classSliceUs(SchedClass.NORMAL)
              + " us, stale "
              + hints.staleNs() / 1_000_000
              + " ms, starve "
              + hints.starveNs() / 1_000_000
              + " ms"
              + (pins != null ? ", pinned in " + pins.dir() : "")
              + ")");
      return follow(obj, link, pins, hints);
    }
  }

  /**
   * This agent's class slices and timings (an adopting agent's settings win over its
   * predecessor's), and a first heartbeat so hints count from the start.
   */
  private synchronized void prime(HintWriter hints) {
    hints.heartbeat();
    apply(hints, tuned);
  }

  /**
   * A reload's class slices, timings (stale_ms, starve_ms, sample_ms) and handover_grace_ms, for
   * the scheduler that runs now (at once) and for any attached later. timeout_ms is the kernel's,
   * fixed at attach: it takes a restart.
   */
  synchronized void retune(RunOptions next) {
    tuned = next;
    staleMs = next.staleMs();
    if (primed != null) {
      apply(primed, next);
    }
  }

  /**
   * What the running scheduler holds of what a reload changes (its live section's, not the
   * options'): the class slices, timings and handover_grace_ms; empty between runs.
   */
  synchronized Map<String, Object> tuning() {
    if (primed == null) {
      return Map.of();
    }
    Map<String, Long> slices = new LinkedHashMap<>();
    for (SchedClass c : SchedClass.values()) {
      slices.put(c.label(), primed.classSliceUs(c));
    }
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("slice_us", slices);
    t.put("stale_ms", primed.staleNs() / 1_000_000);
    t.put("starve_ms", primed.starveNs() / 1_000_000);
    t.put("sample_ms", primed.sampleNs() / 1_000_000);
    t.put("handover_grace_ms", primed.exitGraceNs() / 1_000_000);
    t.put("cpu_max_enforced", primed.enforcesCpuMax()); // false where the kernel does not pass cpu.max
    return t;
  }

  static void apply(HintWriter hints, RunOptions o) {
    for (SchedClass c : SchedClass.values()) {
      if (hints.classSliceUs(c) != o.sliceUs(c)) { // a change makes every task look its hint up again
        hints.setClassSlice(c, o.sliceUs(c));
      }
    }
    // Units are converted here, once: the BPF side works in ns.
    hints.setTimings(o.staleMs() * 1_000_000, o.starveMs() * 1_000_000, o.sampleMs() * 1_000_000);
    hints.heartbeatOf(
        inHostPidNamespace(Preflight.pidNamespace(Path.of("/")).orElse("")) ? ProcessHandle.current().pid() : 0,
        o.handoverGraceMs() * 1_000_000);
  }

  /**
   * The BPF side finds the agent by its pid in the kernel's initial pid namespace. Preflight
   * refuses to run in another; where the namespace cannot be read the agent names no process,
   * and its hints go stale after stale_ms whether it died or froze.
   */
  static boolean inHostPidNamespace(String nsLink) {
    return Preflight.HOST_PID_NAMESPACE.equals(nsLink);
  }

  /**
   * How the pinned scheduler's maps differ from this agent's bpf/intf.h in size, or null if they
   * agree (an upgrade's handover may meet a scheduler another build loaded). A map this agent uses
   * that is not there is a difference too. Sizes first, because only a live state of this agent's
   * size can be read for the exact comparison, {@link #fingerprintMismatch}.
   */
  static String interfaceMismatch(BpfMaps maps) {
    try {
      return sizeMismatch(maps);
    } catch (BpfException e) {
      return "a map this agent uses is missing: " + e.getMessage();
    }
  }

  private static String sizeMismatch(BpfMaps maps) throws BpfException {
    List<String> diffs = new ArrayList<>();
    // Present, whatever their size (a missing one throws): the ring and the run-delay histograms.
    maps.map("events");
    maps.map("run_delay");
    size(diffs, "live state", maps.map(HintWriter.LIVE_SECTION).valueSize(), DataLive.LIVE_OFFSET + DataLive.LIVE_SIZE);
    size(diffs, "task hint keys", maps.map("task_hints").keySize(), BatonTaskKey.SIZEOF);
    size(diffs, "task hints", maps.map("task_hints").valueSize(), BatonHint.SIZEOF);
    size(diffs, "cgroup hints", maps.map("cgroup_hints").valueSize(), BatonHint.SIZEOF);
    size(diffs, "exit info", maps.map("exit_info").valueSize(), BatonExitInfo.SIZEOF);
    size(diffs, "counters", maps.map("stats").maxEntries(), BatonStat.BATON_NR_STATS);
    return diffs.isEmpty() ? null : String.join(", ", diffs);
  }

  /** Before load: what an agent that adopts this scheduler checks its own interface against. */
  static void stampInterface(BpfObject obj) throws BpfException {
    obj.globals(HintWriter.LIVE_SECTION)
        .putLong(DataLive.LIVE_OFFSET + BatonLive.ABI_FINGERPRINT_OFFSET, Abi.FINGERPRINT);
  }

  /**
   * How the pinned scheduler's interface fingerprint ({@link Abi}) differs from this agent's, or
   * null if it is the same: what catches a member moved or an enum renumbered at the same sizes.
   */
  static String fingerprintMismatch(long pinned) {
    return pinned == Abi.FINGERPRINT
        ? null
        : String.format("interface fingerprint: %016x there, %016x here", pinned, Abi.FINGERPRINT);
  }

  private static void size(List<String> diffs, String what, long pinned, long ours) {
    if (pinned != ours) {
      diffs.add(what + ": " + pinned + " there, " + ours + " here");
    }
  }

  /** Takes over the pinned scheduler; null if it had already ended (its pins are then removed). */
  private Exit adopt(Pins pins) throws BpfException, IOException {
    try (BpfPins maps = BpfPins.in(pins.maps());
        StructOpsLink link = StructOpsLink.openPinned(pins.link())) {
      // First: another interface's exit record is not read at this agent's offsets either.
      String mismatch = interfaceMismatch(maps);
      HintWriter hints = null;
      if (mismatch == null) { // the live state has this agent's size: its fingerprint is readable
        hints = new HintWriter(maps, hintCounts);
        mismatch = fingerprintMismatch(hints.interfaceFingerprint());
      }
      if (mismatch != null) {
        log.println(
            "baton: the pinned scheduler was built with another bpf/intf.h than this agent ("
                + mismatch
                + "); detaching it and attaching this agent's own (tasks run on the kernel's"
                + " default scheduler meanwhile)");
        link.detach();
        pins.remove();
        return null;
      }
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
      // timeout_ms is the one it was attached with; only a fresh attach changes it.
      prime(hints);
      // This agent has not seen the tasks that run already: each tells it of itself when it next
      // runs, so that rules and jobs (the API's, restored) select them.
      hints.announceAgain();
      log.println("baton: adopted the running scheduler pinned in " + pins.dir());
      return follow(maps, link, pins, hints);
    }
  }

  /** The event loop; it also writes the heartbeat, whoever attached the scheduler. */
  private Exit follow(BpfMaps maps, StructOpsLink link, Pins pins, HintWriter hints)
      throws BpfException, IOException {
    BpfMap exitInfo = maps.map("exit_info");
    BpfMap statsMap = maps.map("stats");
    RingBuffer ring = maps.ringBuffer("events"); // unmapped when maps close
    stats.attach(statsMap, maps.map("run_delay"));
    try {
      synchronized (this) { // a reload since prime() is applied here, later ones by retune()
        primed = hints;
        apply(hints, tuned);
      }
      log.flush();
      attached = true;
      // The agent goes ahead of the work it schedules: a heartbeat starved by NORMAL hogs would
      // make the BPF side drop every hint. The whole process, not the loop's thread alone: the
      // loop waits on locks other JVM threads hold (the address space's, the allocator's, the
      // JVM's own), and with those threads left NORMAL behind a dozen hogs it stood still for 3
      // s at a time under the hard farm scenario, long enough for the hints to go stale. The
      // price is that a burst of JIT or GC work goes ahead of NORMAL tasks too; INTERACTIVE
      // never preempts, and the guard keeps the classes below it served. Below LIVE, the agent
      // gets a CPU in a live overload only from the guard's windows (starve_ms / 10 of a CPU every
      // starve_ms or so): enough to tick and to shed the overload (FarmOverloadIT).
      hints.setTask((int) ProcessHandle.current().pid(), Hint.of(SchedClass.INTERACTIVE));
      int cpus = hints.cpus();
      policy.cpus(cpus); // before the policy's first hints for this scheduler
      onAttached.accept(hints);
      long nextSummary = System.nanoTime() + SUMMARY_EVERY_NS;
      long nextExitCheck = System.nanoTime() + EXIT_CHECK_NS;
      long eventsAtLastSummary = 0;
      long loopStaleMs = staleMs;
      LoopWatch watch = LoopWatch.forCurrentThread(log, loopStaleMs * 1_000_000 / 2);
      int pollMs = pollMs(loopStaleMs);
      while (!stop.get() && !schedulerExited) {
        long turn = System.nanoTime();
        if (staleMs != loopStaleMs) { // a reload: the heartbeat keeps pace with the new stale_ms
          loopStaleMs = staleMs;
          watch.reportAfter(loopStaleMs * 1_000_000 / 2);
          pollMs = pollMs(loopStaleMs);
        }
        watch.turnStart(turn);
        // Until the policy's next tick: a task that appears wakes the poll, and its tick follows soon.
        ring.poll((int) Math.min(pollMs, (policy.nanosToTick(turn) + 999_999) / 1_000_000), this::onRecord);
        hints.heartbeat();
        watch.polled(System.nanoTime());
        int cpusNow = hints.cpus();
        if (cpusNow != cpus) { // a CPU went offline or came online
          cpus = cpusNow;
          policy.cpus(cpus);
        }
        policy.tickIfDue(System.nanoTime());
        watch.ticked(System.nanoTime());
        publishedEvents = events;
        publishedLiveTasks = tasks.live();
        publishedDroppedTasks = tasks.overflows();
        onLoopTurn.run();
        long now = System.nanoTime();
        if (now >= nextExitCheck) {
          // The exit event can be lost to a full ring; the exit record cannot.
          schedulerExited |= readExit(exitInfo).kind() != 0;
          nextExitCheck = now + EXIT_CHECK_NS;
        }
        if (now >= nextSummary) {
          logSummary(readStats(statsMap), eventsAtLastSummary);
          eventsAtLastSummary = events;
          nextSummary = now + SUMMARY_EVERY_NS;
        }
      }
      long graceMs;
      synchronized (this) { // from here a reload changes nothing of this run's
        primed = null;
        graceMs = tuned.handoverGraceMs();
      }
      if (!schedulerExited && handover.get() && pins != null && graceMs > 0) {
        // systemd starts the next agent RestartSec (2 s) after this one exits, and a JVM then
        // starts beside whatever loads the host: longer than stale_ms, and live jobs would lose
        // their class for the length of every upgrade. The heartbeat is set ahead instead, first
        // thing: what follows (the ring drained, the report) takes time too.
        hints.heartbeatOf(0, 0); // this grace is the one: none again when it runs out
        hints.heartbeatAhead(graceMs * 1_000_000);
      }
      // Events still queued when we stop are read before detaching, so the table is complete.
      ring.consume(this::onRecord);
      long[] last = readStats(statsMap);
      logSummary(last, eventsAtLastSummary);
      log.println("baton: stats " + formatStats(last));
      logRunDelay();
      stats.detach();
      if (!schedulerExited && handover.get() && pins != null) { // (the drain may have seen it end)
        if (graceMs > 0) {
          log.println("baton: hints kept for " + graceMs + " ms (handover_grace_ms) + stale_ms, or until the next agent adopts the scheduler");
        }
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
      synchronized (this) {
        primed = null;
      }
      attached = false;
      stats.detach();
      onAttached.accept(null);
    }
  }

  private void logSummary(long[] s, long eventsBefore) {
    log.printf(
        "baton: events %d (+%d), samples %d, tasks live %d, seen %d, dropped %d, ring drops %d,"
            + " enqueued %d, dispatched %d/%d/%d/%d/%d, guard %d, kicks %d, stale %d%n",
        events,
        events - eventsBefore,
        samples,
        tasks.live(),
        tasks.seen(),
        tasks.overflows(),
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

  private static long sum(long[] perCpu) {
    long total = 0;
    for (long v : perCpu) {
      total += v;
    }
    return total;
  }

  /**
   * How long tasks waited from wakeup to running while this scheduler ran, per class that had
   * any: with the live misses a workload counts, it tells the scheduler's queueing apart from
   * time the machine did not run at all (a stalled VM, an interrupt storm).
   */
  private void logRunDelay() {
    StringBuilder sb = new StringBuilder();
    for (SchedClass c : SchedClass.values()) {
      String s = formatRunDelay(stats.currentRunDelay(c.value()));
      if (!s.isEmpty()) {
        sb.append(sb.isEmpty() ? "" : "; ").append(c.label()).append(' ').append(s);
      }
    }
    if (!sb.isEmpty()) {
      log.println("baton: run delay from wakeup to running: " + sb);
    }
  }

  /**
   * A run-delay histogram (log2 buckets, then the sum) as "waits=N mean_us=M p99_us=P max_us=X",
   * P and X the upper bounds of their buckets (the last bucket has none: "inf"); empty if it
   * counted nothing.
   */
  static String formatRunDelay(long[] hist) {
    int buckets = hist.length - 1;
    long n = 0;
    int last = -1;
    for (int b = 0; b < buckets; b++) {
      n += hist[b];
      last = hist[b] > 0 ? b : last;
    }
    if (n == 0) {
      return "";
    }
    long below = 0;
    int p99 = 0;
    while ((below += hist[p99]) * 100 < n * 99) {
      p99++;
    }
    return "waits=" + n + " mean_us=" + hist[buckets] / n / 1000 + " p99_us=" + bucketBoundUs(p99, buckets)
        + " max_us=" + bucketBoundUs(last, buckets);
  }

  /** Bucket b counts delays below 2^(b+1) ns; the last bucket has no bound. */
  private static String bucketBoundUs(int b, int buckets) {
    return b == buckets - 1 ? "inf" : Long.toString((1L << (b + 1)) / 1000);
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

  static Exit readExit(BpfMap exitInfo) throws BpfException {
    byte[] key = new byte[4];
    byte[] value = new byte[exitInfo.valueSize()];
    if (!exitInfo.lookup(key, value)) {
      return new Exit(0, "NONE", 0, "", "", "");
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    int kind = b.getInt((int) BatonExitInfo.KIND_OFFSET);
    return new Exit(
        kind,
        exitKindName(kind),
        b.getLong((int) BatonExitInfo.EXIT_CODE_OFFSET),
        cString(value, BatonExitInfo.REASON_OFFSET, BatonExitInfo.REASON_SIZE),
        cString(value, BatonExitInfo.MSG_OFFSET, BatonExitInfo.MSG_SIZE),
        cString(value, BatonExitInfo.DUMP_OFFSET, BatonExitInfo.DUMP_SIZE));
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
