package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.agent.Hints.Change;
import dev.baton.agent.Hints.Refusal;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.Abi;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.BpfObject;
import dev.baton.bpf.MappedArray;
import dev.baton.bpf.ProgramLink;
import dev.baton.bpf.abi.BatonConsts;
import dev.baton.bpf.abi.BatonLive;
import dev.baton.bpf.abi.BatonStat;
import dev.baton.bpf.abi.DataLive;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's hint writer on the host kernel, against the scheduler's hint maps in a test object
 * (bpf/test/hint_maps.bpf.c; this host has no sched_ext to load baton.bpf.o): what BPF sees
 * after a batch, what a refused entry leaves, and the syscalls a batch costs.
 */
class HintWriterTest {

  private static final int ENOENT = 2;
  private static final int E2BIG = 7;
  private static final Hint LIVE = new Hint(SchedClass.LIVE, 120, 0, 16_000);
  private static final Hint IDLE = new Hint(SchedClass.IDLE, 50, 0, 0);
  private static final Hint BATCH = new Hint(SchedClass.BATCH, 0, 3000, 0);

  private BpfObject object;
  private MappedArray counter;
  private HintWriter writer;
  private final HintWriter.Counts counts = new HintWriter.Counts();

  private static Path build(String file) {
    return Path.of(System.getProperty("baton.bpf.build"), file);
  }

  @BeforeEach
  void load() throws Exception {
    object = BpfObject.open(Files.readAllBytes(build("test/hint_maps.bpf.o")), "hint_maps");
    object.load();
    writer = new HintWriter(object, counts);
  }

  @AfterEach
  void close() {
    object.close();
  }

  @Test
  void theTestObjectsHintMapsAreTheSchedulersOwn() throws Exception {
    try (BpfObject baton = BpfObject.open(Files.readAllBytes(build("baton.bpf.o")), "baton")) {
      for (String name : List.of("task_hints", "cgroup_hints")) {
        BpfMap real = baton.map(name);
        BpfMap test = object.map(name);
        assertThat(List.of(test.type(), test.flags(), test.keySize(), test.valueSize(), test.maxEntries()))
            .as(name)
            .isEqualTo(List.of(real.type(), real.flags(), real.keySize(), real.valueSize(), real.maxEntries()));
      }
      assertThat(object.mappedArray(HintWriter.LIVE_SECTION).valueSize())
          .isEqualTo(baton.globals(HintWriter.LIVE_SECTION).size());
    }
  }

  @Test
  void anAdoptingAgentFindsTheInterfaceFingerprintTheLoadingAgentStamped() throws Exception {
    // The object the test loaded unstamped stands for a scheduler of another interface.
    assertThat(Scheduler.fingerprintMismatch(writer.interfaceFingerprint()))
        .isEqualTo(String.format("interface fingerprint: 0000000000000000 there, %016x here", Abi.FINGERPRINT));
    try (BpfObject stamped = BpfObject.open(Files.readAllBytes(build("test/hint_maps.bpf.o")), "hint_maps")) {
      Scheduler.stampInterface(stamped);
      stamped.load();
      HintWriter adopting = new HintWriter(stamped, counts);
      assertThat(adopting.interfaceFingerprint()).isEqualTo(Abi.FINGERPRINT);
      assertThat(Scheduler.fingerprintMismatch(adopting.interfaceFingerprint())).isNull();
    }
  }

  @Test
  void announcingAgainBumpsItsOwnGenerationAndNoOther() throws Exception {
    MappedArray live = object.mappedArray(HintWriter.LIVE_SECTION);
    long announce = live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.ANNOUNCE_GEN_OFFSET);
    long hints = generation();
    writer.announceAgain();
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.ANNOUNCE_GEN_OFFSET)).isEqualTo(announce + 1);
    assertThat(generation()).isEqualTo(hints);
  }

  @Test
  void aHeartbeatAheadIsSetThatFarPastNowAndTheNextHeartbeatIsOfNowAgain() throws Exception {
    MappedArray live = object.mappedArray(HintWriter.LIVE_SECTION);
    long grace = 30_000_000_000L;
    long before = System.nanoTime();
    writer.heartbeatAhead(grace);
    long after = System.nanoTime();
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.HEARTBEAT_NS_OFFSET))
        .isBetween(before + grace, after + grace);
    // What an adopting agent's first heartbeat does: the grace ends at once.
    writer.heartbeat();
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.HEARTBEAT_NS_OFFSET))
        .isBetween(after, System.nanoTime());
  }

  @Test
  void theAgentNamesItsProcessAndGraceWhereTheHeartbeatTimerLooksAndAHandoverUnnamesIt() throws Exception {
    MappedArray live = object.mappedArray(HintWriter.LIVE_SECTION);
    long beat = live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.HEARTBEAT_NS_OFFSET);
    writer.heartbeatOf(4242, 30_000_000_000L);
    assertThat(live.getInt(0, DataLive.LIVE_OFFSET + BatonLive.AGENT_PID_OFFSET)).isEqualTo(4242);
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.EXIT_GRACE_NS_OFFSET)).isEqualTo(30_000_000_000L);
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.HEARTBEAT_NS_OFFSET)).isEqualTo(beat);
    writer.heartbeatOf(0, 0);
    assertThat(live.getInt(0, DataLive.LIVE_OFFSET + BatonLive.AGENT_PID_OFFSET)).isZero();
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.EXIT_GRACE_NS_OFFSET)).isZero();
  }

  @Test
  void aReloadsSlicesTimingsAndGraceReachTheLiveSectionAndOnlyAChangedSliceMakesTasksLookAgain() throws Exception {
    MappedArray live = object.mappedArray(HintWriter.LIVE_SECTION);
    Scheduler.apply(writer, RunOptions.parse(List.of("--slice-us", "20000", "--slice-us", "live=4000")));
    long gen = live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.HINT_GEN_OFFSET);
    assertThat(writer.classSliceUs(SchedClass.LIVE)).isEqualTo(4000);
    assertThat(writer.classSliceUs(SchedClass.BATCH)).isEqualTo(20000);
    assertThat(writer.exitGraceNs()).isEqualTo(Tunable.HANDOVER_GRACE_MS.defaultValue * 1_000_000);
    assertThat(writer.staleNs()).isEqualTo(Tunable.STALE_MS.defaultValue * 1_000_000);
    assertThat(writer.starveNs()).isEqualTo(Tunable.STARVE_MS.defaultValue * 1_000_000);
    assertThat(writer.sampleNs()).isEqualTo(Tunable.SAMPLE_MS.defaultValue * 1_000_000);

    Scheduler.apply(writer, RunOptions.parse(List.of("--slice-us", "20000", "--slice-us", "live=4000")));
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.HINT_GEN_OFFSET)).as("nothing changed").isEqualTo(gen);

    Scheduler.apply(
        writer,
        RunOptions.parse(List.of("--slice-us", "5000", "--slice-us", "live=4000", "--handover-grace-ms", "1000",
            "--stale-ms", "3000", "--starve-ms", "0", "--sample-ms", "250")));
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.HINT_GEN_OFFSET)).isGreaterThan(gen);
    assertThat(writer.classSliceUs(SchedClass.LIVE)).isEqualTo(4000);
    assertThat(writer.classSliceUs(SchedClass.NORMAL)).isEqualTo(5000);
    assertThat(writer.classSliceUs(SchedClass.IDLE)).isEqualTo(5000);
    assertThat(writer.exitGraceNs()).isEqualTo(1_000_000_000L);
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.STALE_NS_OFFSET)).isEqualTo(3_000_000_000L);
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.STARVE_NS_OFFSET)).as("the guard off").isZero();
    assertThat(live.getLong(0, DataLive.LIVE_OFFSET + BatonLive.SAMPLE_NS_OFFSET)).isEqualTo(250_000_000L);
  }

  @Test
  void theSchedulerObjectAgreesWithThisAgentsInterface() throws Exception {
    try (BpfObject baton = BpfObject.open(Files.readAllBytes(build("baton.bpf.o")), "baton")) {
      assertThat(Scheduler.interfaceMismatch(baton)).isNull();
    }
    try (BpfObject older = BpfObject.open(Files.readAllBytes(build("test/older_intf.bpf.o")), "older_intf")) {
      assertThat(Scheduler.interfaceMismatch(older))
          .isEqualTo("live state: 56 there, " + (DataLive.LIVE_OFFSET + DataLive.LIVE_SIZE) + " here, counters: "
              + (BatonStat.BATON_NR_STATS - 1) + " there, " + BatonStat.BATON_NR_STATS + " here");
    }
    // The test object declares the hint maps and live state alone: a missing map is a difference.
    assertThat(Scheduler.interfaceMismatch(object)).startsWith("a map this agent uses is missing: ").contains("events");
  }

  @Test
  void aBatchSetsAndClearsExactlyItsEntriesAndBumpsTheGenerationOnce() throws Exception {
    writer.write(List.of(Change.task(10, 1000, IDLE), Change.task(11, 1100, IDLE), Change.cgroup(7, IDLE)));
    long gen = generation();

    List<Refusal> refused =
        writer.write(
            List.of(
                Change.task(10, 1000, LIVE), // replaced
                Change.task(11, 1100, null), // cleared
                Change.task(12, 1200, BATCH), // new
                Change.task(13, 1300, null), // never there: no refusal
                Change.cgroup(7, null),
                Change.cgroup(8, BATCH)));

    assertThat(refused).isEmpty();
    assertThat(generation()).isEqualTo(gen + 1);
    assertThat(taskHint(10, 1000)).isEqualTo(LIVE);
    assertThat(taskHint(10, 999)).as("another task that had pid 10").isNull();
    assertThat(taskHint(11, 1100)).isNull();
    assertThat(taskHint(12, 1200)).isEqualTo(BATCH);
    assertThat(taskHint(13, 1300)).isNull();
    assertThat(cgroupHint(7)).isNull();
    assertThat(cgroupHint(8)).isEqualTo(BATCH);
    assertThat(entries("task_hints")).isEqualTo(2);
    assertThat(entries("cgroup_hints")).isEqualTo(1);
    assertThat(counts.written()).isEqualTo(3 + 3);
  }

  /** An adopting agent tells its predecessor's policy hints from an operator's by this. */
  @Test
  void aBatchWritesThePolicysHintsAndTheSingleHintMethodsTheOperators() throws Exception {
    writer.write(List.of(Change.task(30, 3000, IDLE), Change.cgroup(9, IDLE)));
    writer.setCgroup(10, BATCH);

    assertThat(writer.taskHints())
        .extracting(Hints.TaskHint::pid, Hints.TaskHint::startNs, Hints.TaskHint::hint, Hints.TaskHint::origin)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(30, 3000L, IDLE, Hints.Origin.POLICY));
    assertThat(writer.cgroupHints())
        .extracting(Hints.CgroupHint::cgroupId, Hints.CgroupHint::hint, Hints.CgroupHint::origin)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(9L, IDLE, Hints.Origin.POLICY),
            org.assertj.core.groups.Tuple.tuple(10L, BATCH, Hints.Origin.OPERATOR));
    // The operator's hint replaces the policy's under the same key, and says so.
    writer.setCgroup(9, LIVE);
    assertThat(writer.cgroupHints())
        .filteredOn(c -> c.cgroupId() == 9)
        .extracting(Hints.CgroupHint::origin)
        .containsExactly(Hints.Origin.OPERATOR);
  }

  @Test
  void aKeysLastChangeInABatchWins() throws Exception {
    writer.write(List.of(Change.task(20, 2000, IDLE)));

    writer.write(
        List.of(
            Change.task(20, 2000, null),
            Change.task(20, 2000, LIVE), // set after clear: set
            Change.task(21, 2100, LIVE),
            Change.task(21, 2100, null))); // clear after set: gone

    assertThat(taskHint(20, 2000)).isEqualTo(LIVE);
    assertThat(taskHint(21, 2100)).isNull();
  }

  @Test
  void aBatchCostsOneCallPerMapOperationWhateverItsSize() throws Exception {
    List<Change> sets = new ArrayList<>();
    List<Change> clears = new ArrayList<>();
    for (int pid = 1; pid <= 200; pid++) {
      sets.add(Change.task(pid, pid * 10L, LIVE));
      clears.add(Change.task(pid, pid * 10L, null));
    }
    List<Change> mixed = new ArrayList<>(clears.subList(0, 100));
    mixed.addAll(sets.subList(100, 200).stream().map(c -> Change.task((int) c.id(), c.startNs(), IDLE)).toList());
    try (ProgramLink ignored = countSyscallsOfThisThread()) {
      // Noise (a safepoint, a GC, a deoptimisation while the JIT settles) only adds calls, so
      // the least of enough tries is exact; in a full suite five tries once all saw one more.
      long setOnly = Long.MAX_VALUE;
      long both = Long.MAX_VALUE;
      for (int attempt = 0; attempt < 50; attempt++) {
        long before = syscalls();
        writer.write(sets);
        setOnly = Math.min(setOnly, syscalls() - before);
        before = syscalls();
        writer.write(mixed);
        both = Math.min(both, syscalls() - before);
        writer.write(clears);
      }
      assertThat(setOnly).as("200 sets").isEqualTo(1);
      assertThat(both).as("100 clears and 100 sets").isEqualTo(2);
    }
    List<Change> many = new ArrayList<>();
    for (int pid = 1; pid <= HintWriter.BATCH_ENTRIES * 2 + 1; pid++) {
      many.add(Change.task(pid, 1, BATCH));
    }
    assertThat(writer.write(many)).isEmpty();
    assertThat(entries("task_hints")).as("a batch larger than one call holds").isEqualTo(many.size());
  }

  @Test
  void refusedChangesAreReportedAndEveryOtherIsInPlace() throws Exception {
    // Fill task_hints to one free slot.
    int max = BatonConsts.BATON_MAX_TASK_HINTS;
    List<Change> fill = new ArrayList<>();
    for (int pid = 1; pid < max; pid++) {
      fill.add(Change.task(pid, 1, BATCH));
    }
    assertThat(writer.write(fill)).isEmpty();
    long refusedBefore = counts.refused();

    List<Refusal> refused =
        writer.write(
            List.of(
                Change.task(900_001, 1, LIVE), // the last free slot
                Change.task(900_002, 1, LIVE), // full
                Change.task(5, 1, LIVE), // replacing works on a full map
                Change.task(900_003, 1, LIVE), // full
                Change.cgroup(3, IDLE), // another map, unaffected
                Change.task(6, 1, null))); // cleared (before the sets: room it makes is used)

    assertThat(refused)
        .extracting(r -> r.change().id(), Refusal::errno)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(900_003L, E2BIG));
    assertThat(taskHint(900_001, 1)).isEqualTo(LIVE);
    assertThat(taskHint(900_002, 1)).as("took the room the clear of 6 made").isEqualTo(LIVE);
    assertThat(taskHint(900_003, 1)).isNull();
    assertThat(taskHint(5, 1)).isEqualTo(LIVE);
    assertThat(taskHint(6, 1)).isNull();
    assertThat(taskHint(7, 1)).isEqualTo(BATCH);
    assertThat(cgroupHint(3)).isEqualTo(IDLE);
    assertThat(counts.refused() - refusedBefore).isEqualTo(1);
    assertThat(ENOENT).as("a clear of a missing key is not among the refusals").isNotIn(refused.stream().map(Refusal::errno).toList());
  }

  // ---- the kernel's view ----

  private long generation() throws BpfException {
    return object.mappedArray(HintWriter.LIVE_SECTION).getLong(0, DataLive.LIVE_OFFSET + BatonLive.HINT_GEN_OFFSET);
  }

  private Hint taskHint(int pid, long startNs) throws BpfException {
    long[] ctx = run("read_task_hint", pid, startNs, 0, 0, 0, 0, 0);
    return ctx[2] == 0 ? null : hint(ctx, 3);
  }

  private Hint cgroupHint(long id) throws BpfException {
    long[] ctx = run("read_cgroup_hint", id, 0, 0, 0, 0, 0);
    return ctx[1] == 0 ? null : hint(ctx, 2);
  }

  private static Hint hint(long[] ctx, int at) {
    return new Hint(SchedClass.of((int) ctx[at]), (int) ctx[at + 1], (int) ctx[at + 2], (int) ctx[at + 3]);
  }

  private int entries(String map) throws BpfException {
    BpfMap m = object.map(map);
    byte[] key = null;
    byte[] next = new byte[m.keySize()];
    int n = 0;
    while (m.nextKey(key, next)) {
      key = next.clone();
      n++;
    }
    return n;
  }

  /** Counts this thread's syscalls from now on; {@link #syscalls()} reads without one. */
  private ProgramLink countSyscallsOfThisThread() throws BpfException {
    ProgramLink link = object.attach("count_syscalls");
    assertThat(object.program("track_caller").testRun(new byte[8])).isZero();
    counter = object.mappedArray("syscalls");
    return link;
  }

  private long syscalls() {
    return counter.getLong(0, 0);
  }

  private long[] run(String program, long... ctx) throws BpfException {
    ByteBuffer buf = ByteBuffer.allocate(8 * ctx.length).order(ByteOrder.nativeOrder());
    buf.asLongBuffer().put(ctx);
    assertThat(object.program(program).testRun(buf.array())).as("%s() return value", program).isZero();
    buf.asLongBuffer().get(ctx);
    return ctx;
  }

  static {
    try {
      Files.size(build("test/hint_maps.bpf.o"));
    } catch (IOException e) {
      throw new IllegalStateException("bpf/build/test/hint_maps.bpf.o is missing: make -C bpf", e);
    }
  }
}
