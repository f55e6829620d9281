package dev.baton.bpf;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The record being delivered to a {@link RecordHandler}: a bounds-checked window onto the ring
 * buffer's memory, in native byte order. One instance per {@link RingBuffer}, re-pointed at each
 * record rather than allocated per record; any access outside {@code onRecord} throws.
 */
public final class RecordView {
    private final MemorySegment data;
    private long base;
    private int size = -1;

    RecordView(MemorySegment data) {
        this.data = data;
    }

    void point(long base, int size) {
        this.base = base;
        this.size = size;
    }

    void invalidate() {
        size = -1;
    }

    /** The record's length in bytes, as the BPF program reserved it. */
    public int size() {
        requireValid();
        return size;
    }

    public byte getByte(long offset) {
        return data.get(JAVA_BYTE, at(offset, 1));
    }

    public int getInt(long offset) {
        return data.get(JAVA_INT_UNALIGNED, at(offset, 4));
    }

    public long getLong(long offset) {
        return data.get(JAVA_LONG_UNALIGNED, at(offset, 8));
    }

    public void getBytes(long offset, byte[] dst, int dstOffset, int length) {
        MemorySegment.copy(data, JAVA_BYTE, at(offset, length), dst, dstOffset, length);
    }

    /** The NUL-terminated UTF-8 string at {@code offset}, of at most {@code maxLength} bytes. Allocates. */
    public String getCString(long offset, int maxLength) {
        long start = at(offset, 0);
        long end = start + Math.min(maxLength, size - offset);
        long nul = start;
        while (nul < end && data.get(JAVA_BYTE, nul) != 0) {
            nul++;
        }
        byte[] bytes = new byte[(int) (nul - start)];
        MemorySegment.copy(data, JAVA_BYTE, start, bytes, 0, bytes.length);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /*
     * One comparison on the fast path, which also fails while invalid (size -1): this runs for
     * every field the handler reads, and the checks it avoids are a measurable share of the
     * consumer's time (the event-path benchmark).
     */
    private long at(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            requireValid();
            Objects.checkFromIndexSize(offset, length, size);
        }
        return base + offset;
    }

    private void requireValid() {
        if (size < 0) {
            throw new IllegalStateException("ring-buffer record used outside RecordHandler.onRecord");
        }
    }
}
