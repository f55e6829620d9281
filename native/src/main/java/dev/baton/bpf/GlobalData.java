package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF object's global variables section as libbpf maps it into this process, or a struct_ops
 * map's value. Offsets are the variables' or fields' offsets (from the object's BTF); accesses
 * must be naturally aligned. A writable section may be written from one thread while others read.
 *
 * <p>Before load this is libbpf's image of the initial value. At load a writable data section is
 * mapped onto the kernel's map, so that later stores reach the running program (libbpf before 1.5
 * does that only for skeletons); .rodata and struct_ops values become read-only.
 */
public final class GlobalData {
    private final BpfObject owner;
    private final BpfMap map;
    private final boolean frozenOnLoad;
    private MemorySegment data;

    GlobalData(BpfObject owner, BpfMap map, MemorySegment initialValue, boolean frozenOnLoad) {
        this.owner = owner;
        this.map = map;
        this.data = initialValue;
        this.frozenOnLoad = frozenOnLoad;
    }

    /** Called by the owner right after a successful load. */
    void loaded(Arena arena) throws BpfException {
        if (frozenOnLoad) {
            return; // the image keeps the values the kernel was given, for reading
        }
        long length = data.byteSize();
        MemorySegment addr = LibBpf.mmap(MemorySegment.NULL, length, LibBpf.PROT_READ | LibBpf.PROT_WRITE,
                LibBpf.MAP_SHARED, map.fd(), 0);
        if (addr.address() == -1L) { // MAP_FAILED
            throw BpfException.of("mmap", owner.name() + "." + map.name(), LibBpf.errno());
        }
        data = LibBpf.view(addr, length, arena, unmapped -> LibBpf.munmap(unmapped, length));
    }

    public long size() {
        return data.byteSize();
    }

    public int getInt(long offset) {
        owner.requireOpen();
        return data.get(JAVA_INT, offset);
    }

    public long getLong(long offset) {
        owner.requireOpen();
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

    /** Whether writes are still allowed: always for data sections, until load for the others. */
    public boolean isWritable() {
        return !frozenOnLoad || !owner.isLoaded();
    }

    private void requireWritable() {
        owner.requireOpen();
        if (!isWritable()) {
            throw new IllegalStateException(owner.name() + "." + map.name() + " is read-only once loaded");
        }
    }
}
