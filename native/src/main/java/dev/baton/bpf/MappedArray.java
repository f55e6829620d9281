package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF_MAP_TYPE_ARRAY created with BPF_F_MMAPABLE, mapped into this process: reads and writes are
 * memory accesses that BPF programs see at once, with no bpf(2) call, which makes it the cheapest
 * way to hand the kernel a value that changes often.
 *
 * <p>Values sit {@code valueSize} rounded up to 8 apart, as the kernel lays them out. Every access
 * is one naturally aligned load or store of 4 or 8 bytes, so neither side ever sees half of one;
 * a value of several fields is not updated as a whole, though. Stores are releases and loads are
 * acquires: a BPF program that sees a stored field also sees every store made before it, so write
 * last the field that says the rest is ready (on arm64 the BPF side must read it with an acquire).
 *
 * <p>Safe to use from several threads. {@link #close()} (or closing the object) unmaps it; an
 * access racing that fails with IllegalStateException rather than touching unmapped memory.
 */
public final class MappedArray implements AutoCloseable {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final String name;
    private final Arena arena;
    private final MemorySegment data;
    private final int length;
    private final int valueSize;
    private final long stride;

    private MappedArray(String name, Arena arena, MemorySegment data, int length, int valueSize, long stride) {
        this.name = name;
        this.arena = arena;
        this.data = data;
        this.length = length;
        this.valueSize = valueSize;
        this.stride = stride;
    }

    /** Maps the {@code length} values of {@code valueSize} bytes of the array behind {@code mapFd}. */
    static MappedArray open(int mapFd, int length, int valueSize, String name) throws BpfException {
        long stride = (valueSize + 7L) & ~7L;
        long page = LibBpf.sysconf(LibBpf._SC_PAGESIZE);
        long bytes = (stride * length + page - 1) / page * page;
        Arena arena = Arena.ofShared();
        try {
            MemorySegment data = RingBuffer.mmap(arena, mapFd, 0, bytes, LibBpf.PROT_READ | LibBpf.PROT_WRITE, name);
            return new MappedArray(name, arena, data, length, valueSize, stride);
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    public String name() {
        return name;
    }

    /** Number of values (the map's max_entries). */
    public int length() {
        return length;
    }

    public int valueSize() {
        return valueSize;
    }

    public long getLong(int index, long offset) {
        return (long) LONG.getAcquire(data, at(index, offset, Long.BYTES));
    }

    public void putLong(int index, long offset, long value) {
        LONG.setRelease(data, at(index, offset, Long.BYTES), value);
    }

    public int getInt(int index, long offset) {
        return (int) INT.getAcquire(data, at(index, offset, Integer.BYTES));
    }

    public void putInt(int index, long offset, int value) {
        INT.setRelease(data, at(index, offset, Integer.BYTES), value);
    }

    private long at(int index, long offset, int size) {
        Objects.checkIndex(index, length);
        Objects.checkFromIndexSize(offset, size, valueSize);
        if (offset % size != 0) {
            throw new IllegalArgumentException(name + ": offset " + offset + " is not a multiple of " + size);
        }
        return index * stride + offset;
    }

    /** Unmaps the array; idempotent. The map itself lives on with its object. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
