package dev.baton.bpf;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF object's global variables section, as libbpf maps it into this process. Offsets are the
 * variables' offsets in the section (from the object's BTF); accesses must be naturally aligned.
 */
public final class GlobalData {
    private final BpfObject owner;
    private final MemorySegment data;

    GlobalData(BpfObject owner, MemorySegment data) {
        this.owner = owner;
        this.data = data;
    }

    public long size() {
        return data.byteSize();
    }

    public int getInt(long offset) {
        return data.get(JAVA_INT, offset);
    }

    public long getLong(long offset) {
        return data.get(JAVA_LONG, offset);
    }

    public void putInt(long offset, int value) {
        requireWritable();
        data.set(JAVA_INT, offset, value);
    }

    public void putLong(long offset, long value) {
        requireWritable();
        data.set(JAVA_LONG, offset, value);
    }

    /* After load the kernel owns the values: libbpf has frozen the map and mapped it read-only. */
    private void requireWritable() {
        owner.requireOpen();
        if (owner.isLoaded()) {
            throw new IllegalStateException(owner.name() + ".rodata is read-only once loaded");
        }
    }
}
