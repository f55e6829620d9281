package dev.baton.bpf;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

import static dev.baton.bpf.LibBpf.ALL_MEMORY;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The record being delivered to a {@link RecordHandler}: a bounds-checked window onto the ring
 * buffer's memory, in native byte order. One instance per {@link RingBuffer}, re-pointed at each
 * record rather than allocated per record; any access outside {@code onRecord}, or from another
 * thread than the consuming one, throws.
 *
 * <p>It reads through {@link LibBpf#ALL_MEMORY}, so these checks are all that keep a read inside
 * the record, and the record's memory mapped (see {@link RingBuffer}).
 */
public final class RecordView {
    private long address;
    private int size = -1;
    private Thread reader;

    RecordView() {}

    /** Lets {@code reader} read the records {@link #point}ed at, until {@link #invalidate()}. */
    void open(Thread reader) {
        this.reader = reader;
    }

    void point(long address, int size) {
        this.address = address;
        this.size = size;
    }

    void invalidate() {
        size = -1;
        reader = null;
    }

    /** The record's length in bytes, as the BPF program reserved it. */
    public int size() {
        at(0, 0);
        return size;
    }

    public byte getByte(long offset) {
        return ALL_MEMORY.get(JAVA_BYTE, at(offset, 1));
    }

    public int getInt(long offset) {
        return ALL_MEMORY.get(JAVA_INT_UNALIGNED, at(offset, 4));
    }

    public long getLong(long offset) {
        return ALL_MEMORY.get(JAVA_LONG_UNALIGNED, at(offset, 8));
    }

    public void getBytes(long offset, byte[] dst, int dstOffset, int length) {
        MemorySegment.copy(ALL_MEMORY, JAVA_BYTE, at(offset, length), dst, dstOffset, length);
    }

    /** The NUL-terminated UTF-8 string at {@code offset}, of at most {@code maxLength} bytes. Allocates. */
    public String getCString(long offset, int maxLength) {
        long start = at(offset, 0);
        long end = start + Math.min(maxLength, size - offset);
        long nul = start;
        while (nul < end && ALL_MEMORY.get(JAVA_BYTE, nul) != 0) {
            nul++;
        }
        byte[] bytes = new byte[(int) (nul - start)];
        MemorySegment.copy(ALL_MEMORY, JAVA_BYTE, start, bytes, 0, bytes.length);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /*
     * One comparison per condition on the fast path, where size is -1 and reader null while
     * invalid: this runs for every field a handler reads, and is most of what a read costs
     * beyond the load itself (the event-path benchmark).
     */
    private long at(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length || reader != Thread.currentThread()) {
            if (size < 0) {
                throw new IllegalStateException("ring-buffer record used outside RecordHandler.onRecord");
            }
            if (reader != Thread.currentThread()) {
                throw new WrongThreadException("ring-buffer record used outside the consuming thread");
            }
            Objects.checkFromIndexSize(offset, length, size);
        }
        return address + offset;
    }
}
