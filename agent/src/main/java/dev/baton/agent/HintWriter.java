package dev.baton.agent;

import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.BpfMaps;
import dev.baton.bpf.BpfProgram;
import dev.baton.bpf.MapBatch;
import dev.baton.bpf.MappedArray;
import dev.baton.bpf.abi.BatonHint;
import dev.baton.bpf.abi.BatonLive;
import dev.baton.bpf.abi.BatonTaskKey;
import dev.baton.bpf.abi.BatonTaskQuery;
import dev.baton.bpf.abi.DataLive;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one path by which hints reach the BPF side, for the operator's API and the policies alike:
 * per-task and per-cgroup hints in their maps, the default slice of each class, and the heartbeat
 * that tells BPF the agent is alive. After a map change it bumps the hint generation, which makes
 * every task look its hint up again at its next scheduling event.
 *
 * <p><b>Policies write in batches.</b> A policy tick's changes go to {@link #write}: clears by one
 * bpf_map_delete_batch per map, then sets by one bpf_map_update_batch per map (clearing first
 * frees room), then one generation bump: two bpf() calls for a tick that sets and clears task
 * hints, however many. Task keys are {pid, start time}, built from the start time the event
 * stream reported when the task appeared, so no lookup precedes a write. The kernel applies a
 * batch in order and stops at an entry it refuses (a full map); the writer reports that entry and
 * resumes after it, so after a batch every change is either in place or returned as a refusal
 * with its errno, never lost behind another's failure. Clearing a key that is gone is fine (it
 * costs one call more, as the kernel stops there too): BPF deletes a task's key when the task
 * exits, and the agent's clear then only covers a write that raced with the exit. The operator's API ({@link #setTask} and friends) writes one hint at a
 * time, with a lookup of the task's start time first (baton_query_task): one pid, and an answer
 * that says which task it reached.
 *
 * <p><b>Why batches, not an mmapped array.</b> The event-path benchmark ({@code make bench})
 * measured a 16-byte hint stored into a BPF_F_MMAPABLE array at a few ns and no syscall, against
 * about 400 ns per hint for this writer in a tick of 16 changes (300 ns for a bare 256-entry
 * update batch) and 850 ns for bpf_map_update_elem. The array would still cost more than it saves. Its slots are not keyed: BPF would have to find a
 * task's slot (and the agent could not tell it which without a syscall of its own), a slot reused
 * by a new task needs the {pid, start} check anyway, and a 16-byte hint is not one atomic store,
 * so readers need a sequence protocol. The hash map keyed by {pid, start} gives a recycled pid no
 * hint, lets one process key cover all its threads, and is looked up by the task's identity. And
 * the cost is paid per change, not per event: the engine writes only what changed at each tick
 * (none in a steady state, tens when a job starts), so even a busy tick costs microseconds,
 * while the event path (ring buffer to task table) makes no syscall at all.
 *
 * <p>Hint methods are synchronized (they share the maps' buffers and the generation counter);
 * {@link #heartbeat()} is a single store and may run concurrently with them.
 */
public final class HintWriter implements Hints {

  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  private static final int ENOENT = 2;
  private static final int ESRCH = 3;
  private static final int E2BIG = 7;
  private static final long LIVE = DataLive.LIVE_OFFSET;

  private final BpfMap taskHints;
  private final BpfMap cgroupHints;
  private final BpfProgram queryTask;
  private final MappedArray live;
  private final Counts counts;
  private final Staged taskClears;
  private final Staged cgroupClears;
  private final Staged taskSets;
  private final Staged cgroupSets;

  /** Entries a batch stages before a bpf() call; a larger batch takes one call per this many. */
  static final int BATCH_ENTRIES = 256;

  /** What the writers of one agent have done, across scheduler restarts; read by the metrics. */
  public static final class Counts {
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    /** Hints set in the maps (entries created or replaced). */
    public long written() {
      return written.get();
    }

    /** Changes the kernel refused (a full map, mostly). */
    public long refused() {
      return refused.get();
    }
  }

  /** The program that answers {@link #task}; pinned with the maps so an adopting agent has it. */
  static final String QUERY_PROGRAM = "baton_query_task";

  /** The data section the heartbeat, class slices and hint generation live in. */
  static final String LIVE_SECTION = ".data.live";

  /**
   * {@code maps} is Baton's scheduler: the object that loaded it, or the pins a previous agent
   * left ({@link BpfPins}), so an adopting agent writes the same heartbeat and hints.
   */
  public HintWriter(BpfMaps maps, Counts counts) throws BpfException {
    this.taskHints = maps.map("task_hints");
    this.cgroupHints = maps.map("cgroup_hints");
    this.queryTask = maps.program(QUERY_PROGRAM);
    this.live = maps.mappedArray(LIVE_SECTION);
    this.counts = counts;
    this.taskClears = new Staged(taskHints.deleteBatch(BATCH_ENTRIES));
    this.cgroupClears = new Staged(cgroupHints.deleteBatch(BATCH_ENTRIES));
    this.taskSets = new Staged(taskHints.batch(BATCH_ENTRIES));
    this.cgroupSets = new Staged(cgroupHints.batch(BATCH_ENTRIES));
  }

  /** Tells the BPF side the agent is alive; call at least every stale_ms / 2. */
  public void heartbeat() {
    // System.nanoTime() is CLOCK_MONOTONIC on Linux, the clock of bpf_ktime_get_ns().
    live.putLong(0, LIVE + BatonLive.HEARTBEAT_NS_OFFSET, System.nanoTime());
  }

  /**
   * A heartbeat aheadNs in the future: the BPF side takes a beat from the future as fresh, so the
   * hints hold for aheadNs plus stale_ms from now, unless a heartbeat of the next agent's (which
   * is of now) comes first. For a handover only: a frozen agent must still go stale.
   */
  public void heartbeatAhead(long aheadNs) {
    live.putLong(0, LIVE + BatonLive.HEARTBEAT_NS_OFFSET, System.nanoTime() + aheadNs);
  }

  /**
   * Names the process whose heartbeat this is, and how long the BPF side keeps the hints if that
   * process dies without detaching (a crash, a kill): the next agent has that long to adopt them.
   * pid 0: none (after a handover, whose own grace must not be followed by a second).
   */
  public void heartbeatOf(long pid, long exitGraceNs) {
    live.putLong(0, LIVE + BatonLive.EXIT_GRACE_NS_OFFSET, exitGraceNs);
    live.putInt(0, LIVE + BatonLive.AGENT_PID_OFFSET, (int) pid);
  }

  /** How long the BPF side keeps the hints if the agent named by {@link #heartbeatOf} dies, ns. */
  public long exitGraceNs() {
    return live.getLong(0, LIVE + BatonLive.EXIT_GRACE_NS_OFFSET);
  }

  /**
   * The BPF side's timings, written in place (a reload changes them while it runs): stale_ms,
   * starve_ms (0: the guard is off) and sample_ms, in ns.
   */
  public void setTimings(long staleNs, long starveNs, long sampleNs) {
    live.putLong(0, LIVE + BatonLive.STALE_NS_OFFSET, staleNs);
    live.putLong(0, LIVE + BatonLive.STARVE_NS_OFFSET, starveNs);
    live.putLong(0, LIVE + BatonLive.SAMPLE_NS_OFFSET, sampleNs);
  }

  /** The heartbeat age after which the BPF side ignores hints, ns. */
  public long staleNs() {
    return live.getLong(0, LIVE + BatonLive.STALE_NS_OFFSET);
  }

  /** How long a class below LIVE may go unserved before the guard serves it, ns; 0: off. */
  public long starveNs() {
    return live.getLong(0, LIVE + BatonLive.STARVE_NS_OFFSET);
  }

  /** The least time between two runtime samples of a task, ns. */
  public long sampleNs() {
    return live.getLong(0, LIVE + BatonLive.SAMPLE_NS_OFFSET);
  }

  /** The last heartbeat's CLOCK_MONOTONIC time in ns; 0 if none yet. */
  public long lastHeartbeatNs() {
    return live.getLong(0, LIVE + BatonLive.HEARTBEAT_NS_OFFSET);
  }

  /** The CPUs the scheduler runs on, as the BPF side counts them (hotplug included); 0: not yet. */
  public int cpus() {
    return (int) live.getLong(0, LIVE + BatonLive.NR_CPUS_OFFSET);
  }

  /**
   * Whether the running scheduler enforces cgroup cpu.max: its kernel passes each cgroup's limit
   * to it (6.17 on). Written by the BPF side when it attaches.
   */
  public boolean enforcesCpuMax() {
    return live.getInt(0, LIVE + BatonLive.CPU_MAX_OFFSET) != 0;
  }

  /** Sets the default time slice of a class, in microseconds. */
  public synchronized void setClassSlice(SchedClass schedClass, long sliceUs) {
    if (sliceUs < Hint.MIN_SLICE_US || sliceUs > Hint.MAX_SLICE_US) {
      throw new IllegalArgumentException(
          "slice must be between " + Hint.MIN_SLICE_US + " and " + Hint.MAX_SLICE_US + " us");
    }
    live.putLong(0, LIVE + BatonLive.SLICE_NS_OFFSET + (long) Long.BYTES * schedClass.value(), sliceUs * 1000);
    bumpGeneration();
  }

  /** The default time slice of a class the BPF side uses, in microseconds. */
  public synchronized long classSliceUs(SchedClass schedClass) {
    return live.getLong(0, LIVE + BatonLive.SLICE_NS_OFFSET + (long) Long.BYTES * schedClass.value())
        / 1000;
  }

  @Override
  public synchronized Optional<TaskInfo> task(int pid) throws BpfException {
    if (pid <= 0) {
      return Optional.empty();
    }
    ByteBuffer q = ByteBuffer.allocate((int) BatonTaskQuery.SIZEOF).order(ORDER);
    q.putInt((int) BatonTaskQuery.PID_OFFSET, pid);
    int rc = queryTask.testRun(q.array());
    if (rc == -ESRCH) {
      return Optional.empty();
    }
    if (rc != 0) {
      throw new BpfException("baton_query_task(" + pid + ") returned " + rc, -rc);
    }
    return Optional.of(
        new TaskInfo(
            pid,
            q.getInt((int) BatonTaskQuery.TGID_OFFSET),
            q.getLong((int) BatonTaskQuery.START_NS_OFFSET),
            q.getLong((int) BatonTaskQuery.LEADER_START_NS_OFFSET),
            q.getLong((int) BatonTaskQuery.CGROUP_ID_OFFSET),
            SchedClass.of(q.getInt((int) BatonTaskQuery.SCHED_CLASS_OFFSET)),
            q.getInt((int) BatonTaskQuery.WEIGHT_OFFSET),
            cString(q.array(), BatonTaskQuery.COMM_OFFSET, BatonTaskQuery.COMM_SIZE)));
  }

  @Override
  public synchronized Optional<TaskInfo> setTask(int pid, Hint hint) throws BpfException {
    Optional<TaskInfo> task = task(pid);
    if (task.isPresent()) {
      update(taskHints, taskKey(pid, task.get().startNs()), encode(hint));
      counts.written.incrementAndGet();
      bumpGeneration();
    }
    return task;
  }

  @Override
  public synchronized boolean clearTask(int pid) throws BpfException {
    Optional<TaskInfo> task = task(pid);
    return task.isPresent() && delete(taskHints, taskKey(pid, task.get().startNs()));
  }

  @Override
  public synchronized List<TaskHint> taskHints() throws BpfException {
    List<TaskHint> hints = new ArrayList<>();
    byte[] key = null;
    byte[] next = new byte[taskHints.keySize()];
    byte[] value = new byte[taskHints.valueSize()];
    while (taskHints.nextKey(key, next)) {
      key = next.clone();
      if (!taskHints.lookup(key, value)) {
        continue; // deleted meanwhile
      }
      ByteBuffer k = ByteBuffer.wrap(key).order(ORDER);
      int pid = k.getInt((int) BatonTaskKey.PID_OFFSET);
      long start = k.getLong((int) BatonTaskKey.START_NS_OFFSET);
      Optional<TaskInfo> task = task(pid).filter(t -> t.startNs() == start);
      hints.add(new TaskHint(pid, start, decode(value), origin(value), task));
      if (hints.size() > taskHints.maxEntries()) {
        break; // a walk restarted by concurrent deletes; enough
      }
    }
    return hints;
  }

  @Override
  public synchronized void setCgroup(long cgroupId, Hint hint) throws BpfException {
    update(cgroupHints, cgroupKey(cgroupId), encode(hint));
    counts.written.incrementAndGet();
    bumpGeneration();
  }

  @Override
  public synchronized boolean clearCgroup(long cgroupId) throws BpfException {
    return delete(cgroupHints, cgroupKey(cgroupId));
  }

  @Override
  public synchronized List<CgroupHint> cgroupHints() throws BpfException {
    List<CgroupHint> hints = new ArrayList<>();
    byte[] key = null;
    byte[] next = new byte[cgroupHints.keySize()];
    byte[] value = new byte[cgroupHints.valueSize()];
    while (cgroupHints.nextKey(key, next) && hints.size() <= cgroupHints.maxEntries()) {
      key = next.clone();
      if (cgroupHints.lookup(key, value)) {
        hints.add(new CgroupHint(ByteBuffer.wrap(key).order(ORDER).getLong(0), decode(value), origin(value)));
      }
    }
    return hints;
  }

  @Override
  public synchronized List<Refusal> write(List<Change> changes) throws BpfException {
    // Clears go first, so a set survives a clear of its key that came before it; a set that a
    // later clear of its key undoes is dropped. Keyed by the change without its hint.
    Map<Change, Integer> lastClear = new HashMap<>();
    for (int i = 0; i < changes.size(); i++) {
      Change c = changes.get(i);
      if (c.clears()) {
        lastClear.put(c, i);
      }
    }
    List<Refusal> refused = new ArrayList<>();
    long cleared = 0;
    long set = 0;
    try {
      for (Change c : lastClear.keySet()) {
        cleared += (c.cgroup() ? cgroupClears : taskClears).add(c, refused);
      }
      cleared += taskClears.flush(refused) + cgroupClears.flush(refused);
      for (int i = 0; i < changes.size(); i++) {
        Change c = changes.get(i);
        boolean undone =
            !lastClear.isEmpty() && lastClear.getOrDefault(new Change(c.cgroup(), c.id(), c.startNs(), null), -1) > i;
        if (!c.clears() && !undone) {
          set += (c.cgroup() ? cgroupSets : taskSets).add(c, refused);
        }
      }
      set += taskSets.flush(refused) + cgroupSets.flush(refused);
    } finally {
      // A call that failed outright leaves nothing staged for the next batch, and what reached
      // the maps before it counts now.
      taskClears.batch.clear();
      cgroupClears.batch.clear();
      taskSets.batch.clear();
      cgroupSets.batch.clear();
      counts.written.addAndGet(set);
      counts.refused.addAndGet(refused.size());
      if (set + cleared > 0) {
        bumpGeneration();
      }
    }
    return refused;
  }

  /** A MapBatch and the change each staged entry stands for, so a refusal can name it. */
  private static final class Staged {
    private final MapBatch batch;
    private final Change[] changes = new Change[BATCH_ENTRIES];

    Staged(MapBatch batch) {
      this.batch = batch;
    }

    /** Stages c, flushing first if the batch is full; returns the entries that flush applied. */
    int add(Change c, List<Refusal> refused) throws BpfException {
      int applied = batch.size() == BATCH_ENTRIES ? flush(refused) : 0;
      changes[batch.size()] = c;
      batch.add();
      if (c.cgroup()) {
        batch.keyLong(0, c.id());
      } else {
        batch.keyInt(BatonTaskKey.PID_OFFSET, (int) c.id()).keyLong(BatonTaskKey.START_NS_OFFSET, c.startNs());
      }
      if (!batch.deletes()) {
        Hint h = c.hint();
        batch
            .valueInt(BatonHint.SCHED_CLASS_OFFSET, h.schedClass().value())
            .valueInt(BatonHint.WEIGHT_OFFSET, h.weight())
            .valueInt(BatonHint.SLICE_US_OFFSET, h.sliceUs())
            .valueInt(BatonHint.DEADLINE_US_OFFSET, h.deadlineUs())
            .valueInt(BatonHint.ORIGIN_OFFSET, Origin.POLICY.value);
      }
      return applied;
    }

    int flush(List<Refusal> refused) throws BpfException {
      return batch.flush(
          (index, errno) -> {
            if (!(batch.deletes() && errno == ENOENT)) { // already gone is what a clear wants
              refused.add(new Refusal(changes[index], errno));
            }
          });
    }
  }

  private void update(BpfMap map, byte[] key, byte[] value) throws BpfException {
    try {
      map.update(key, value, BpfMap.ANY);
    } catch (BpfException e) {
      if (e.errno() == E2BIG) {
        throw new BpfException(
            map.name() + " is full (" + map.maxEntries() + " hints): clear some first", E2BIG);
      }
      throw e;
    }
  }

  private boolean delete(BpfMap map, byte[] key) throws BpfException {
    boolean deleted = map.delete(key);
    if (deleted) {
      bumpGeneration();
    }
    return deleted;
  }

  /**
   * Asks every task to announce itself again (BATON_EV_TASK_INIT) when it next runs: an adopting
   * agent's task table starts empty.
   */
  public synchronized void announceAgain() {
    long gen = live.getLong(0, LIVE + BatonLive.ANNOUNCE_GEN_OFFSET);
    live.putLong(0, LIVE + BatonLive.ANNOUNCE_GEN_OFFSET, gen + 1);
  }

  /**
   * The interface fingerprint ({@link dev.baton.bpf.Abi}) of the agent that loaded this scheduler;
   * 0 if none was stamped.
   */
  public long interfaceFingerprint() {
    return live.getLong(0, LIVE + BatonLive.ABI_FINGERPRINT_OFFSET);
  }

  /* Stored after the map change, which the bpf() call has completed: a task that sees it sees that. */
  private void bumpGeneration() {
    long gen = live.getLong(0, LIVE + BatonLive.HINT_GEN_OFFSET);
    live.putLong(0, LIVE + BatonLive.HINT_GEN_OFFSET, gen + 1);
  }

  static byte[] taskKey(int pid, long startNs) {
    return ByteBuffer.allocate((int) BatonTaskKey.SIZEOF)
        .order(ORDER)
        .putInt((int) BatonTaskKey.PID_OFFSET, pid)
        .putLong((int) BatonTaskKey.START_NS_OFFSET, startNs)
        .array();
  }

  static byte[] cgroupKey(long cgroupId) {
    return ByteBuffer.allocate(Long.BYTES).order(ORDER).putLong(0, cgroupId).array();
  }

  /** A hint as the maps hold it; the single-hint methods write the operator's (the control API). */
  static byte[] encode(Hint hint) {
    return ByteBuffer.allocate((int) BatonHint.SIZEOF)
        .order(ORDER)
        .putInt((int) BatonHint.SCHED_CLASS_OFFSET, hint.schedClass().value())
        .putInt((int) BatonHint.WEIGHT_OFFSET, hint.weight())
        .putInt((int) BatonHint.SLICE_US_OFFSET, hint.sliceUs())
        .putInt((int) BatonHint.DEADLINE_US_OFFSET, hint.deadlineUs())
        .putInt((int) BatonHint.ORIGIN_OFFSET, Origin.OPERATOR.value)
        .array();
  }

  static Origin origin(byte[] value) {
    return Origin.of(ByteBuffer.wrap(value).order(ORDER).getInt((int) BatonHint.ORIGIN_OFFSET));
  }

  static Hint decode(byte[] value) {
    ByteBuffer b = ByteBuffer.wrap(value).order(ORDER);
    return new Hint(
        SchedClass.of(b.getInt((int) BatonHint.SCHED_CLASS_OFFSET)),
        b.getInt((int) BatonHint.WEIGHT_OFFSET),
        b.getInt((int) BatonHint.SLICE_US_OFFSET),
        b.getInt((int) BatonHint.DEADLINE_US_OFFSET));
  }

  private static String cString(byte[] bytes, long off, long max) {
    int start = (int) off;
    int end = start;
    while (end < start + max && bytes[end] != 0) {
      end++;
    }
    return new String(bytes, start, end - start, StandardCharsets.UTF_8);
  }
}
