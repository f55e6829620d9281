package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static dev.baton.bpf.LibBpf.C_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Updates staged in native memory and written to a map by one bpf_map_update_batch call: one
 * syscall for up to {@link #capacity()} entries instead of one each. Stage an entry with
 * {@link #add()}, set its key and value fields (the rest stay zero), and {@link #flush()}; a key
 * staged twice ends up with the later value. Staging allocates nothing.
 *
 * <p>Not thread-safe. Obtained from {@link BpfMap#batch(int)}; its memory lives as long as the
 * map's object, so make one per writer and reuse it.
 */
public final class MapBatch {
    private final BpfMap map;
    private final int capacity;
    private final int keySize;
    private final int valueSize;
    private final MemorySegment keys;
    private final MemorySegment values;
    private final MemorySegment zeros;
    private final MemorySegment count;
    private final MemorySegment opts;
    private int size;

    MapBatch(BpfMap map, int capacity, Arena arena) {
        this.map = map;
        this.capacity = capacity;
        this.keySize = map.keySize();
        this.valueSize = map.valueSize();
        this.keys = arena.allocate((long) keySize * capacity, 8);
        this.values = arena.allocate((long) valueSize * capacity, 8);
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
        values.set(JAVA_INT_UNALIGNED, at(offset, Integer.BYTES, valueSize), v);
        return this;
    }

    public MapBatch valueLong(long offset, long v) {
        values.set(JAVA_LONG_UNALIGNED, at(offset, Long.BYTES, valueSize), v);
        return this;
    }

    /**
     * Writes the staged entries (create or replace) in one bpf(2) call and empties the batch;
     * returns how many it wrote. On failure the kernel has written the entries before the one it
     * refused; the exception says how many, and the batch is emptied all the same.
     */
    public int flush() throws BpfException {
        int n = size;
        if (n == 0) {
            return 0;
        }
        size = 0;
        count.set(C_INT, 0, n);
        int err = LibBpf.bpf_map_update_batch(map.fd(), keys, values, count, opts);
        if (err < 0) {
            BpfException e = BpfException.of("bpf_map_update_batch", map.name(), err);
            throw new BpfException(e.getMessage() + "; " + count.get(C_INT, 0) + " of " + n + " entries written",
                    e.errno());
        }
        return n;
    }

    private long at(long offset, int bytes, int entrySize) {
        if (size == 0) {
            throw new IllegalStateException(map.name() + ": no entry to set: call add() first");
        }
        return (long) (size - 1) * entrySize + Objects.checkFromIndexSize(offset, bytes, entrySize);
    }
}
