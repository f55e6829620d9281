package dev.baton.bench;

import dev.baton.bench.abi.BatonBenchFillArgs;
import dev.baton.bench.abi.BatonBenchRoundtripArgs;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.BpfObject;
import dev.baton.bpf.BpfProgram;
import dev.baton.bpf.MappedArray;
import dev.baton.bpf.ProgramLink;
import dev.baton.bpf.RingBuffer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** bpf/test/bench_events.bpf.o, loaded: its ring, hint maps, and programs as Java calls. */
final class BenchEvents implements AutoCloseable {
  final BpfObject object;
  final RingBuffer ring;
  final BpfMap hintHash;
  final MappedArray hintArray;
  private final BpfProgram fill;
  private final BpfProgram roundtrip;
  private final ByteBuffer fillArgs =
      ByteBuffer.allocate((int) BatonBenchFillArgs.SIZEOF).order(ByteOrder.nativeOrder());
  private final ByteBuffer roundtripArgs =
      ByteBuffer.allocate((int) BatonBenchRoundtripArgs.SIZEOF).order(ByteOrder.nativeOrder());
  private boolean lastSeen;

  BenchEvents(Path elf) throws BpfException, IOException {
    object = BpfObject.open(Files.readAllBytes(elf), "bench_events");
    try {
      object.load();
      ring = object.ringBuffer("events");
      hintHash = object.map("hint_hash");
      hintArray = object.mappedArray("hint_array");
      fill = object.program("fill");
      roundtrip = object.program("roundtrip");
    } catch (BpfException | RuntimeException e) {
      object.close();
      throw e;
    }
  }

  /**
   * Fills the ring with samples whose ts_ns count up from {@code firstSeq} until it is full;
   * returns how many it submitted.
   */
  int fill(long firstSeq) throws BpfException {
    fillArgs
        .putLong((int) BatonBenchFillArgs.FIRST_SEQ_OFFSET, firstSeq)
        .putInt((int) BatonBenchFillArgs.MAX_RECORDS_OFFSET, -1)
        .putInt((int) BatonBenchFillArgs.SUBMITTED_OFFSET, 0);
    check(fill.testRun(fillArgs.array()), "fill");
    int submitted = fillArgs.getInt((int) BatonBenchFillArgs.SUBMITTED_OFFSET);
    if (submitted == 0) {
      throw new IllegalStateException("fill submitted nothing: is the ring being drained?");
    }
    return submitted;
  }

  /**
   * Submits a sample stamped with the time, then waits in BPF until {@code hintMap} answers it or
   * {@code timeoutNs} passes, spinning at most {@code spinNs} per call; returns the ns from submit
   * to answer (or to giving up). {@link #lastSeen()} says which.
   */
  long roundTrip(int hintMap, long spinNs, long timeoutNs) throws BpfException {
    roundtripArgs
        .putLong((int) BatonBenchRoundtripArgs.START_NS_OFFSET, 0)
        .putLong((int) BatonBenchRoundtripArgs.SPIN_NS_OFFSET, spinNs)
        .putInt((int) BatonBenchRoundtripArgs.HINT_MAP_OFFSET, hintMap)
        .putInt((int) BatonBenchRoundtripArgs.SUBMIT_OFFSET, 1);
    long latency;
    do {
      roundtripArgs.putInt((int) BatonBenchRoundtripArgs.SEEN_OFFSET, 0);
      check(
          roundtrip.testRun(roundtripArgs.array()),
          "roundtrip (ring full: is the consumer running?)");
      roundtripArgs.putInt((int) BatonBenchRoundtripArgs.SUBMIT_OFFSET, 0);
      lastSeen = roundtripArgs.getInt((int) BatonBenchRoundtripArgs.SEEN_OFFSET) != 0;
      latency = roundtripArgs.getLong((int) BatonBenchRoundtripArgs.LATENCY_NS_OFFSET);
    } while (!lastSeen && latency < timeoutNs);
    return latency;
  }

  boolean lastSeen() {
    return lastSeen;
  }

  /** Counts, in the kernel, the syscalls the calling thread makes until the counter is closed. */
  SyscallCounter countSyscallsOfThisThread() throws BpfException {
    ProgramLink link = object.attach("count_syscalls");
    try {
      check(object.program("track_caller").testRun(new byte[8]), "track_caller");
      return new SyscallCounter(link, object.mappedArray("syscalls"));
    } catch (BpfException | RuntimeException e) {
      link.close();
      throw e;
    }
  }

  /** Reading the count is a load from mmapped memory: it adds no syscall of its own. */
  record SyscallCounter(ProgramLink link, MappedArray count) implements AutoCloseable {
    long syscalls() {
      return count.getLong(0, 0);
    }

    @Override
    public void close() {
      link.close();
      count.close();
    }
  }

  private static void check(int ret, String program) {
    if (ret != 0) {
      throw new IllegalStateException(program + " returned " + ret);
    }
  }

  @Override
  public void close() {
    object.close();
  }
}
