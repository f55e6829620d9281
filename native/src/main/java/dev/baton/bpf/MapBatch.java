package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static dev.baton.bpf.LibBpf.C_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Changes staged in native memory and applied to a map by one bpf_map_update_batch (or, for a
 * batch from {@link BpfMap#deleteBatch}, bpf_map_delete_batch) call: one syscall for up to
 * {@link #capacity()} entries instead of one each. Stage an entry with {@link #add()}, set its key
 * (and value) fields, the rest stay zero, and {@link #flush}; a key staged twice ends up with the
 * later value. Staging allocates nothing.
 *
 * <p>The kernel applies a batch in order and stops at the first entry it refuses (a full map, a
 * missing key to delete), saying how many it applied. {@link #flush(Refused)} then names that
 * entry and carries on with the next, so every staged entry ends up either applied or reported:
 * one call more per refused entry, none lost behind it.
 *
 * <p>Not thread-safe. Its memory lives as long as the map's object, so make one per writer and
 * reuse it.
 */
public final class MapBatch {
    /** Hears about each entry the kernel refused: its index in staging order and the errno. */
    @FunctionalInterface
    public interface Refused {
        void entry(int index, int errno);
    }

    private final BpfMap map;
    private final boolean delete;
    private final int capacity;
    private final int keySize;
    private final int valueSize;
    private final MemorySegment keys;
    private final MemorySegment values;
    private final MemorySegment zeros;
    private final MemorySegment count;
    private final MemorySegment opts;
    private int size;
    // flush() without a listener: the first refusal, made without allocating.
    private int refusedCount;
    private int firstRefused;
    private int firstErrno;
    private final Refused recorder = (index, errno) -> {
        if (refusedCount++ == 0) {
            firstRefused = index;
            firstErrno = errno;
        }
    };

    MapBatch(BpfMap map, int capacity, boolean delete, Arena arena) {
        this.map = map;
        this.delete = delete;
        this.capacity = capacity;
        this.keySize = map.keySize();
        this.valueSize = delete ? 0 : map.valueSize();
        this.keys = arena.allocate((long) keySize * capacity, 8);
        this.values = arena.allocate(Math.max(1, (long) valueSize * capacity), 8);
        this.zeros = arena.allocate(Math.max(keySize, valueSize));
        this.count = arena.allocate(C_INT);
        this.opts = arena.allocate(LibBpf.bpf_map_batch_opts.LAYOUT);
        LibBpf.bpf_map_batch_opts.sz(opts, opts.byteSize());
        LibBpf.bpf_map_batch_opts.elem_flags(opts, BpfMap.ANY);
    }

    public int capacity() {
        return capacity;
    }

    /** Entries staged since the last flush. */
    public int size() {
        return size;
    }

    /** True for a batch of deletes (keys only). */
    public boolean deletes() {
        return delete;
    }

    /** Drops the staged entries without applying them. */
    public void clear() {
        size = 0;
    }

    /** Starts a new entry, all zero; the setters below then fill it in. Throws when the batch is full. */
    public MapBatch add() {
        if (size == capacity) {
            throw new IllegalStateException(map.name() + ": batch is full (" + capacity + " entries); flush it first");
        }
        MemorySegment.copy(zeros, 0, keys, (long) size * keySize, keySize);
        MemorySegment.copy(zeros, 0, values, (long) size * valueSize, valueSize);
        size++;
        return this;
    }

    public MapBatch keyInt(long offset, int v) {
        keys.set(JAVA_INT_UNALIGNED, at(offset, Integer.BYTES, keySize), v);
        return this;
    }

    public MapBatch keyLong(long offset, long v) {
        keys.set(JAVA_LONG_UNALIGNED, at(offset, Long.BYTES, keySize), v);
        return this;
    }

    public MapBatch valueInt(long offset, int v) {
        values.set(JAVA_INT_UNALIGNED, at(offset, Integer.BYTES, value()), v);
        return this;
    }

    public MapBatch valueLong(long offset, long v) {
        values.set(JAVA_LONG_UNALIGNED, at(offset, Long.BYTES, value()), v);
        return this;
    }

    /**
     * Applies the staged entries (update: create or replace; delete: remove) and empties the
     * batch: one bpf(2) call, plus one per entry the kernel refuses, each of which {@code refused}
     * hears about while the rest are still applied. Returns the number of entries applied.
     */
    public int flush(Refused refused) throws BpfException {
        int n = size;
        size = 0;
        int applied = 0;
        for (int from = 0; from < n; ) {
            count.set(C_INT, 0, n - from);
            MemorySegment k = keys.asSlice((long) from * keySize);
            int err = delete
                    ? LibBpf.bpf_map_delete_batch(map.fd(), k, count, opts)
                    : LibBpf.bpf_map_update_batch(map.fd(), k, values.asSlice((long) from * valueSize), count, opts);
            int done = Math.clamp(count.get(C_INT, 0), 0, n - from);
            applied += done;
            if (err >= 0) {
                break;
            }
            if (done == n - from) { // every entry went in, yet the call failed: nothing to skip
                throw BpfException.of(delete ? "bpf_map_delete_batch" : "bpf_map_update_batch", map.name(), err);
            }
            refused.entry(from + done, -err);
            from += done + 1;
        }
        return applied;
    }

    /**
     * Like {@link #flush(Refused)}, but a refused entry is an exception, thrown once every other
     * entry has been applied; it names the first refused entry and how many were.
     */
    public int flush() throws BpfException {
        int n = size;
        refusedCount = 0;
        int applied = flush(recorder);
        if (refusedCount > 0) {
            String call = delete ? "bpf_map_delete_batch" : "bpf_map_update_batch";
            BpfException e = BpfException.of(call, map.name(), firstErrno);
            throw new BpfException(e.getMessage() + "; " + refusedCount + " of " + n + " entries refused, the first"
                    + " at " + firstRefused + "; the others applied", firstErrno);
        }
        return applied;
    }

    private int value() {
        if (delete) {
            throw new IllegalStateException(map.name() + ": a delete batch has keys only");
        }
        return valueSize;
    }

    private long at(long offset, int bytes, int entrySize) {
        if (size == 0) {
            throw new IllegalStateException(map.name() + ": no entry to set: call add() first");
        }
        return (long) (size - 1) * entrySize + Objects.checkFromIndexSize(offset, bytes, entrySize);
    }
}
