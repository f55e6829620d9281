package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps pinned in a bpffs directory by {@link BpfObject#pinMaps}, opened by a later process (for
 * Baton: a restarted agent adopting the scheduler that outlived its predecessor). Opening a pin
 * takes a reference, so a map stays valid while this set is open even if the pin is removed.
 *
 * <p>Not thread-safe, like {@link BpfObject}: obtain maps up front.
 */
public final class BpfPins implements BpfMaps, AutoCloseable {
    private final Path dir;
    private final Arena arena = Arena.ofShared();
    private final Map<String, BpfMap> maps = new HashMap<>();
    private final List<Integer> fds = new ArrayList<>();
    private final List<RingBuffer> rings = new ArrayList<>();
    private final List<MappedArray> arrays = new ArrayList<>();
    private boolean closed;

    private BpfPins(Path dir) {
        this.dir = dir;
    }

    /** A set over {@code dir}; each map is opened on first use. */
    public static BpfPins in(Path dir) throws BpfException {
        LibBpf.require();
        return new BpfPins(dir);
    }

    @Override
    public BpfMap map(String name) throws BpfException {
        requireOpen();
        BpfMap map = maps.get(name);
        if (map != null) {
            return map;
        }
        String path = dir.resolve(fileName(name)).toString();
        int fd;
        try (Arena tmp = Arena.ofConfined()) {
            fd = LibBpf.bpf_obj_get(tmp.allocateFrom(path));
            if (fd < 0) {
                throw BpfException.of("bpf_obj_get", path, fd);
            }
            MemorySegment info = tmp.allocate(LibBpf.bpf_map_info.LAYOUT);
            MemorySegment len = tmp.allocate(LibBpf.C_INT);
            len.set(LibBpf.C_INT, 0, (int) info.byteSize());
            int err = LibBpf.bpf_map_get_info_by_fd(fd, info, len);
            if (err < 0) {
                LibBpf.close(fd);
                throw BpfException.of("bpf_map_get_info_by_fd", path, err);
            }
            fds.add(fd);
            map = new BpfMap(this::requireOpen, fd, name,
                    LibBpf.bpf_map_info.get(info, "type"), LibBpf.bpf_map_info.get(info, "map_flags"),
                    LibBpf.bpf_map_info.get(info, "key_size"),
                    LibBpf.bpf_map_info.get(info, "value_size"), LibBpf.bpf_map_info.get(info, "max_entries"), arena);
        }
        maps.put(name, map);
        return map;
    }

    /** The program pinned as {@code name} in this directory (see {@link BpfProgram#pin}). */
    @Override
    public BpfProgram program(String name) throws BpfException {
        requireOpen();
        String path = dir.resolve(name).toString();
        int fd;
        try (Arena tmp = Arena.ofConfined()) {
            fd = LibBpf.bpf_obj_get(tmp.allocateFrom(path));
        }
        if (fd < 0) {
            throw BpfException.of("bpf_obj_get", path, fd);
        }
        fds.add(fd);
        return new BpfProgram(this::requireOpen, dir.toString(), fd, name);
    }

    @Override
    public MappedArray mappedArray(String name) throws BpfException {
        BpfMap map = map(name);
        if (map.type() != LibBpf.BPF_MAP_TYPE_ARRAY || (map.flags() & LibBpf.BPF_F_MMAPABLE) == 0) {
            throw new IllegalArgumentException(dir + "/" + name + " is not a BPF_MAP_TYPE_ARRAY with BPF_F_MMAPABLE");
        }
        MappedArray array = MappedArray.open(map.fd(), map.maxEntries(), map.valueSize(), dir + "/" + name);
        arrays.add(array);
        return array;
    }

    @Override
    public RingBuffer ringBuffer(String name) throws BpfException {
        BpfMap map = map(name);
        if (map.type() != LibBpf.BPF_MAP_TYPE_RINGBUF) {
            throw new IllegalArgumentException(dir.resolve(name) + " is not a BPF_MAP_TYPE_RINGBUF");
        }
        RingBuffer ring = RingBuffer.open(map.fd(), map.maxEntries(), dir.resolve(name).toString());
        rings.add(ring);
        return ring;
    }

    /** The pin's file name for a map: bpffs reserves '.', which libbpf's data section names have. */
    static String fileName(String mapName) {
        return mapName.replace('.', '_');
    }

    /** Unmaps ring buffers and closes the fds; the pins themselves stay. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        rings.reversed().forEach(RingBuffer::close);
        arrays.forEach(MappedArray::close);
        fds.forEach(LibBpf::close);
        arena.close();
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(dir + " pins are closed");
        }
    }
}
