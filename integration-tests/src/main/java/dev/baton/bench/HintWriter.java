package dev.baton.bench;

import dev.baton.bench.abi.BatonBenchConsts;
import dev.baton.bench.abi.BatonBenchHint;
import dev.baton.bench.abi.BatonBenchHintMap;
import dev.baton.agent.Hint;
import dev.baton.agent.Hints;
import dev.baton.agent.SchedClass;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfMap;
import dev.baton.bpf.BpfMaps;
import dev.baton.bpf.MapBatch;
import dev.baton.bpf.MappedArray;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** One way of handing a per-task hint to BPF; the benchmark compares them. */
sealed interface HintWriter {
  /** Short name for the report. */
  String name();

  /** The map the BPF side reads these hints from (enum baton_bench_hint_map). */
  int hintMap();

  /** Writes, or stages, the hint {seq, value} of task {@code pid}; seq names what it answers. */
  void write(int pid, long seq, long value) throws BpfException;

  /** Makes staged hints visible to BPF; a no-op where every write already is. */
  void flush() throws BpfException;

  /** bpf_map_update_elem per hint: one syscall each. */
  final class UpdateElem implements HintWriter {
    private static final VarHandle INT =
        MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());
    private static final VarHandle LONG =
        MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private final BpfMap map;
    private final byte[] key = new byte[Integer.BYTES];
    private final byte[] value = new byte[(int) BatonBenchHint.SIZEOF];

    UpdateElem(BpfMap map) {
      this.map = map;
    }

    @Override
    public String name() {
      return "update_elem";
    }

    @Override
    public int hintMap() {
      return BatonBenchHintMap.BATON_BENCH_HINT_HASH;
    }

    @Override
    public void write(int pid, long seq, long value) throws BpfException {
      INT.set(key, 0, pid);
      LONG.set(this.value, (int) BatonBenchHint.SEQ_OFFSET, seq);
      LONG.set(this.value, (int) BatonBenchHint.VALUE_OFFSET, value);
      map.update(key, this.value, BpfMap.ANY);
    }

    @Override
    public void flush() {}
  }

  /** Staged in a MapBatch, one bpf_map_update_batch per {@code capacity} hints or per flush. */
  final class UpdateBatch implements HintWriter {
    private final MapBatch batch;

    UpdateBatch(BpfMap map, int capacity) {
      this.batch = map.batch(capacity);
    }

    @Override
    public String name() {
      return "update_batch/" + batch.capacity();
    }

    @Override
    public int hintMap() {
      return BatonBenchHintMap.BATON_BENCH_HINT_HASH;
    }

    @Override
    public void write(int pid, long seq, long value) throws BpfException {
      batch
          .add()
          .keyInt(0, pid)
          .valueLong(BatonBenchHint.SEQ_OFFSET, seq)
          .valueLong(BatonBenchHint.VALUE_OFFSET, value);
      if (batch.size() == batch.capacity()) {
        batch.flush();
      }
    }

    @Override
    public void flush() throws BpfException {
      batch.flush();
    }
  }

  /**
   * The agent's own path: {@link dev.baton.agent.HintWriter} over the scheduler's hint maps
   * (bpf/test/hint_maps.bpf.o, the maps of baton.bpf.o in an object this host can load). Hints
   * are collected as a policy tick's changes, {@code tickHints} at a time, and each tick is one
   * {@link Hints#write}: one bpf_map_update_batch and one generation bump. Keys are {pid, start};
   * each task keeps its start time, so its hint is replaced as the agent's would be.
   */
  final class AgentTicks implements HintWriter {
    private final dev.baton.agent.HintWriter agent;
    private final int tickHints;
    private final List<Hints.Change> tick;

    AgentTicks(BpfMaps hintMaps, int tickHints) throws BpfException {
      this.agent = new dev.baton.agent.HintWriter(hintMaps, new dev.baton.agent.HintWriter.Counts());
      this.tickHints = tickHints;
      this.tick = new ArrayList<>(tickHints);
    }

    @Override
    public String name() {
      return "agent_tick/" + tickHints;
    }

    @Override
    public int hintMap() {
      throw new IllegalStateException("the round trip's BPF program reads the benchmark's own maps");
    }

    /** Like a policy's change: a new Hint and Change per hint, as the engine makes them. */
    @Override
    public void write(int pid, long seq, long value) throws BpfException {
      Hint hint = new Hint(SchedClass.NORMAL, (int) Long.remainderUnsigned(value, 10_000) + 1, 0, 0);
      tick.add(Hints.Change.task(pid, 1_000_000L + pid, hint));
      if (tick.size() == tickHints) {
        flush();
      }
    }

    @Override
    public void flush() throws BpfException {
      if (tick.isEmpty()) {
        return;
      }
      List<Hints.Refusal> refused = agent.write(tick);
      if (!refused.isEmpty()) {
        throw new IllegalStateException("the kernel refused " + refused.size() + " hints: " + refused.getFirst());
      }
      tick.clear();
    }
  }

  /** Two stores into the mmapped array, seq last: no syscall at all. */
  final class Mmap implements HintWriter {
    private final MappedArray hints;

    Mmap(MappedArray hints) {
      this.hints = hints;
    }

    @Override
    public String name() {
      return "mmap";
    }

    @Override
    public int hintMap() {
      return BatonBenchHintMap.BATON_BENCH_HINT_ARRAY;
    }

    @Override
    public void write(int pid, long seq, long value) {
      int slot = Integer.remainderUnsigned(pid, BatonBenchConsts.BATON_BENCH_HINT_SLOTS);
      hints.putLong(slot, BatonBenchHint.VALUE_OFFSET, value);
      hints.putLong(slot, BatonBenchHint.SEQ_OFFSET, seq);
    }

    @Override
    public void flush() {}
  }
}
