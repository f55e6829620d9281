package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.baton.bpf.LibBpf.C_CHAR;
import static dev.baton.bpf.LibBpf.C_INT;
import static dev.baton.bpf.LibBpf.C_LONG;

/**
 * A map of a {@link BpfObject}, read and written through bpf(2). Keys and values are byte arrays
 * in the map's (native-endian) layout; for per-CPU maps a value holds one slot per possible CPU,
 * each {@code valueSize()} rounded up to 8 bytes, as the kernel copies them.
 *
 * <p>Not thread-safe: the calls share one native key and one value buffer per map, so that they
 * allocate no native memory. Use a map from one thread at a time.
 */
public final class BpfMap {
    /** Update flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST): create or replace, create only, replace only. */
    public static final long ANY = 0, NOEXIST = 1, EXIST = 2;

    private final Runnable requireOpen;
    private final MemorySegment map; // libbpf's struct bpf_map, or NULL for a map opened from a pin
    private final int pinnedFd;
    private final String name;
    private final int type;
    private final int flags;
    private final int keySize;
    private final int valueSize;
    private final int maxEntries;
    private final boolean perCpu;
    private final MemorySegment key;
    private final MemorySegment value;
    private final Arena arena;
    private final MemorySegment nextKey;

    /** A map of an object; its fd exists once the object is loaded. */
    BpfMap(BpfObject owner, MemorySegment map, String name, Arena arena) throws BpfException {
        this(owner::requireOpen, map, -1, name, LibBpf.bpf_map__type(map), LibBpf.bpf_map__map_flags(map),
                LibBpf.bpf_map__key_size(map), LibBpf.bpf_map__value_size(map), LibBpf.bpf_map__max_entries(map), arena);
    }

    /** A map reached through its bpffs pin, described by the kernel's bpf_map_info. */
    BpfMap(Runnable requireOpen, int fd, String name, int type, int flags, int keySize, int valueSize, int maxEntries,
           Arena arena) throws BpfException {
        this(requireOpen, MemorySegment.NULL, fd, name, type, flags, keySize, valueSize, maxEntries, arena);
    }

    private BpfMap(Runnable requireOpen, MemorySegment map, int pinnedFd, String name, int type, int flags,
                   int keySize, int valueSize, int maxEntries, Arena arena) throws BpfException {
        this.requireOpen = requireOpen;
        this.map = map;
        this.pinnedFd = pinnedFd;
        this.name = name;
        this.type = type;
        this.flags = flags;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
        this.perCpu = type == LibBpf.BPF_MAP_TYPE_PERCPU_HASH || type == LibBpf.BPF_MAP_TYPE_PERCPU_ARRAY
                || type == LibBpf.BPF_MAP_TYPE_LRU_PERCPU_HASH || type == LibBpf.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
        long valueBytes = perCpu ? roundUp8(valueSize) * Libbpf.possibleCpus() : valueSize;
        this.key = arena.allocate(keySize, 8);
        this.value = arena.allocate(valueBytes, 8);
        this.arena = arena;
        this.nextKey = arena.allocate(keySize, 8);
    }

    public String name() {
        return name;
    }

    /** libbpf's struct bpf_map. */
    MemorySegment handle() {
        return map;
    }

    /** The map's fd; negative until the object is loaded (or after a pinned set is closed). */
    public int fd() {
        requireOpen.run();
        return map.equals(MemorySegment.NULL) ? pinnedFd : LibBpf.bpf_map__fd(map);
    }

    /** The map's enum bpf_map_type. */
    public int type() {
        return type;
    }

    /** The map's map_flags (BPF_F_*), as declared in the object. */
    public int flags() {
        return flags;
    }

    public int keySize() {
        return keySize;
    }

    public int valueSize() {
        return valueSize;
    }

    public int maxEntries() {
        return maxEntries;
    }

    public boolean isPerCpu() {
        return perCpu;
    }

    /** Bytes in a value array: {@code valueSize()}, or one 8-aligned slot per possible CPU. */
    public int valueBufferSize() {
        return (int) value.byteSize();
    }

    /** Copies the value of {@code key} into {@code value}; false if there is no such key. */
    public boolean lookup(byte[] key, byte[] value) throws BpfException {
        checkSize("value", value.length, this.value.byteSize());
        copyKey(key);
        if (!lookup()) {
            return false;
        }
        MemorySegment.copy(this.value, C_CHAR, 0, value, 0, value.length);
        return true;
    }

    /** Per-CPU map with u32 keys and u64 values: each CPU's value for {@code key}, or null if none. */
    public long[] lookupPerCpuLongs(int key) throws BpfException {
        if (!perCpu || keySize != Integer.BYTES || valueSize != Long.BYTES) {
            throw new IllegalStateException(name + " is not a per-CPU map of u32 to u64");
        }
        this.key.set(C_INT, 0, key);
        if (!lookup()) {
            return null;
        }
        return value.toArray(C_LONG);
    }

    /** Sets the value of {@code key}; {@code flags} is {@link #ANY}, {@link #NOEXIST} or {@link #EXIST}. */
    public void update(byte[] key, byte[] value, long flags) throws BpfException {
        checkSize("value", value.length, this.value.byteSize());
        copyKey(key);
        MemorySegment.copy(value, 0, this.value, C_CHAR, 0, value.length);
        int err = LibBpf.bpf_map_update_elem(fd(), this.key, this.value, flags);
        if (err < 0) {
            throw BpfException.of("bpf_map_update_elem", name, err);
        }
    }

    /**
     * A reusable batch of up to {@code capacity} updates to this map, written by one syscall per
     * {@link MapBatch#flush()}. Its native memory lives as long as the object: make one per writer.
     */
    public MapBatch batch(int capacity) {
        return batch(capacity, false);
    }

    /** Like {@link #batch(int)}, for deletes: keys only, removed by one bpf_map_delete_batch. */
    public MapBatch deleteBatch(int capacity) {
        return batch(capacity, true);
    }

    private MapBatch batch(int capacity, boolean delete) {
        requireOpen.run();
        if (perCpu) {
            throw new IllegalStateException(name + " is a per-CPU map; batches hold one value per key");
        }
        if (capacity < 1) {
            throw new IllegalArgumentException(name + ": batch capacity " + capacity + " is not positive");
        }
        return new MapBatch(this, capacity, delete, arena);
    }

    /** Removes {@code key}; false if there was no such key. Array maps refuse (EINVAL). */
    public boolean delete(byte[] key) throws BpfException {
        copyKey(key);
        int err = LibBpf.bpf_map_delete_elem(fd(), this.key);
        if (err == -LibBpf.ENOENT) {
            return false;
        }
        if (err < 0) {
            throw BpfException.of("bpf_map_delete_elem", name, err);
        }
        return true;
    }

    /**
     * Copies into {@code next} the key that follows {@code key} in the map's iteration order, or
     * the first key if {@code key} is null; false when there is none. Walks a map whose entries
     * may change meanwhile: a deleted {@code key} restarts the walk from the first key (hash maps).
     */
    public boolean nextKey(byte[] key, byte[] next) throws BpfException {
        checkSize("key", next.length, keySize);
        MemorySegment from = MemorySegment.NULL;
        if (key != null) {
            copyKey(key);
            from = this.key;
        }
        int err = LibBpf.bpf_map_get_next_key(fd(), from, this.nextKey);
        if (err == -LibBpf.ENOENT) {
            return false;
        }
        if (err < 0) {
            throw BpfException.of("bpf_map_get_next_key", name, err);
        }
        MemorySegment.copy(this.nextKey, C_CHAR, 0, next, 0, next.length);
        return true;
    }

    private boolean lookup() throws BpfException {
        int err = LibBpf.bpf_map_lookup_elem(fd(), key, value);
        if (err == -LibBpf.ENOENT) {
            return false;
        }
        if (err < 0) {
            throw BpfException.of("bpf_map_lookup_elem", name, err);
        }
        return true;
    }

    private void copyKey(byte[] key) {
        checkSize("key", key.length, keySize);
        MemorySegment.copy(key, 0, this.key, C_CHAR, 0, key.length);
    }

    private void checkSize(String what, int actual, long expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(name + ": " + what + " is " + actual + " bytes, not " + expected);
        }
    }

    private static long roundUp8(long n) {
        return (n + 7) & ~7L;
    }
}
