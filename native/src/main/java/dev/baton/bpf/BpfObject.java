package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static dev.baton.bpf.LibBpf.C_SIZE_T;

/**
 * A BPF ELF object opened by libbpf: configure it ({@link #rodata()}), {@link #load()} it into the
 * kernel, then use its maps and programs. {@link #close()} releases everything obtained from it.
 *
 * <p>Not thread-safe: obtain maps, programs and ring buffers up front. Those may then be used from
 * other threads (one at a time each), but not after or during {@link #close()}.
 */
public final class BpfObject implements BpfMaps, AutoCloseable {
    /*
     * Shared rather than confined: the object is typically opened on one thread and its maps and
     * ring buffers used on others. Holds what lives as long as the object: the ELF image, names,
     * the maps' scratch buffers, the .rodata view.
     */
    private final Arena arena;
    private final MemorySegment obj;
    private final String name;
    private final Map<String, BpfMap> maps = new HashMap<>();
    private final Map<String, BpfProgram> programs = new HashMap<>();
    private final List<Runnable> attachments = new ArrayList<>();
    private final Map<String, GlobalData> globals = new HashMap<>();
    private boolean loaded;
    private boolean closed;

    private BpfObject(Arena arena, MemorySegment obj, String name) {
        this.arena = arena;
        this.obj = obj;
        this.name = name;
    }

    /** Parses {@code elf} (a clang -target bpf object) without loading anything into the kernel. */
    public static BpfObject open(byte[] elf, String objectName) throws BpfException {
        Objects.requireNonNull(objectName, "objectName");
        LibBpf.require();
        Arena arena = Arena.ofShared();
        try {
            MemorySegment buf = arena.allocateFrom(LibBpf.C_CHAR, elf);
            MemorySegment opts = arena.allocate(LibBpf.bpf_object_open_opts.LAYOUT);
            LibBpf.bpf_object_open_opts.sz(opts, opts.byteSize());
            LibBpf.bpf_object_open_opts.object_name(opts, arena.allocateFrom(objectName));
            MemorySegment obj = LibBpf.bpf_object__open_mem(buf, elf.length, opts);
            if (obj.equals(MemorySegment.NULL)) {
                throw BpfException.of("bpf_object__open_mem", objectName, LibBpf.errno());
            }
            return new BpfObject(arena, obj, objectName);
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    public String name() {
        return name;
    }

    /**
     * The object's {@code const volatile} globals, which the verifier treats as constants:
     * writable until {@link #load()}, read-only after.
     */
    public GlobalData rodata() throws BpfException {
        return globals(".rodata");
    }

    /**
     * The globals in data section {@code section}: {@code ".rodata"} (see {@link #rodata()}), or a
     * writable one such as {@code ".data"}, {@code ".bss"} or a custom {@code ".data.NAME"}, which
     * libbpf maps into this process so that it stays writable after load: a store there is seen
     * by the running program without a system call.
     */
    public GlobalData globals(String section) throws BpfException {
        requireOpen();
        GlobalData data = globals.get(section);
        if (data == null) {
            data = initialValue(section, section.startsWith(".rodata"));
            if (loaded) {
                data.loaded(arena);
            }
            globals.put(section, data);
        }
        return data;
    }

    /**
     * The value of the struct_ops map {@code mapName} (e.g. a {@code struct sched_ext_ops}), laid
     * out as in the object's BTF: its plain fields, such as a timeout, may be set before
     * {@link #load()}, after which the kernel has its own copy.
     */
    public GlobalData structOps(String mapName) throws BpfException {
        requireOpen();
        if (map(mapName).type() != LibBpf.BPF_MAP_TYPE_STRUCT_OPS) {
            throw new IllegalArgumentException(name + "." + mapName + " is not a struct_ops map");
        }
        if (loaded) {
            throw new IllegalStateException(name + "." + mapName + " is read-only once loaded");
        }
        return initialValue(mapName, true);
    }

    private GlobalData initialValue(String mapName, boolean frozenOnLoad) throws BpfException {
        BpfMap map = map(mapName);
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment size = tmp.allocate(C_SIZE_T);
            MemorySegment data = LibBpf.bpf_map__initial_value(map.handle(), size);
            if (data.equals(MemorySegment.NULL)) {
                throw BpfException.of("bpf_map__initial_value", name + "." + mapName, LibBpf.EINVAL);
            }
            // libbpf owns this memory as long as the object lives.
            return new GlobalData(this, map, LibBpf.view(data, size.get(C_SIZE_T, 0), arena, null), frozenOnLoad);
        }
    }

    public void load() throws BpfException {
        requireOpen();
        if (loaded) {
            throw new IllegalStateException(name + " is already loaded");
        }
        int err = LibBpf.bpf_object__load(obj);
        if (err < 0) {
            throw BpfException.of("bpf_object__load", name, err);
        }
        loaded = true;
        for (GlobalData data : globals.values()) {
            data.loaded(arena);
        }
    }

    public boolean isLoaded() {
        return loaded;
    }

    /** The map called {@code name}; its fd and contents are usable once the object is loaded. */
    @Override
    public BpfMap map(String name) throws BpfException {
        requireOpen();
        BpfMap map = maps.get(name);
        if (map == null) {
            map = new BpfMap(this, findMap(name), name, arena);
            maps.put(name, map);
        }
        return map;
    }

    @Override
    public BpfProgram program(String name) throws BpfException {
        requireOpen();
        BpfProgram program = programs.get(name);
        if (program == null) {
            MemorySegment prog;
            try (Arena tmp = Arena.ofConfined()) {
                prog = LibBpf.bpf_object__find_program_by_name(obj, tmp.allocateFrom(name));
            }
            if (prog.equals(MemorySegment.NULL)) {
                throw BpfException.of("bpf_object__find_program_by_name", this.name + "." + name, LibBpf.ENOENT);
            }
            program = new BpfProgram(this, prog, name);
            programs.put(name, program);
        }
        return program;
    }

    /** Registers the struct_ops map {@code mapName} with the kernel (for sched_ext: enables it). */
    public StructOpsLink attachStructOps(String mapName) throws BpfException {
        requireLoaded();
        MemorySegment link = LibBpf.bpf_map__attach_struct_ops(findMap(mapName));
        if (link.equals(MemorySegment.NULL)) {
            throw BpfException.of("bpf_map__attach_struct_ops", name + "." + mapName, LibBpf.errno());
        }
        StructOpsLink attached = new StructOpsLink(link, mapName);
        attachments.add(attached::close);
        return attached;
    }

    /**
     * Attaches the program {@code programName} where its section name says (raw_tp/..., tp/...,
     * kprobe/..., fentry/...); closing the link, or the object, detaches it.
     */
    public ProgramLink attach(String programName) throws BpfException {
        requireLoaded();
        BpfProgram program = program(programName);
        MemorySegment link = LibBpf.bpf_program__attach(program.prog());
        if (link.equals(MemorySegment.NULL)) {
            throw BpfException.of("bpf_program__attach", name + "." + programName, LibBpf.errno());
        }
        ProgramLink attached = new ProgramLink(link, programName);
        attachments.add(attached::close);
        return attached;
    }

    /**
     * The BPF_MAP_TYPE_ARRAY {@code mapName}, declared with BPF_F_MMAPABLE, mapped into this
     * process for reads and writes without syscalls.
     */
    @Override
    public MappedArray mappedArray(String mapName) throws BpfException {
        requireLoaded();
        BpfMap map = map(mapName);
        if (map.type() != LibBpf.BPF_MAP_TYPE_ARRAY || (map.flags() & LibBpf.BPF_F_MMAPABLE) == 0) {
            throw new IllegalArgumentException(name + "." + mapName + " is not a BPF_MAP_TYPE_ARRAY with BPF_F_MMAPABLE");
        }
        MappedArray array = MappedArray.open(map.fd(), map.maxEntries(), map.valueSize(), name + "." + mapName);
        attachments.add(array::close);
        return array;
    }

    /** A consumer of the BPF_MAP_TYPE_RINGBUF map {@code mapName}. */
    @Override
    public RingBuffer ringBuffer(String mapName) throws BpfException {
        requireLoaded();
        BpfMap map = map(mapName);
        if (map.type() != LibBpf.BPF_MAP_TYPE_RINGBUF) {
            throw new IllegalArgumentException(name + "." + mapName + " is not a BPF_MAP_TYPE_RINGBUF");
        }
        RingBuffer ring = RingBuffer.open(map.fd(), map.maxEntries(), name + "." + mapName);
        attachments.add(ring::close);
        return ring;
    }

    /**
     * Pins every map but the struct_ops ones (which the pinned link holds) and .rodata (frozen into
     * the programs) as {@code dir/<name>}, so that {@link BpfPins} can reach them after this process
     * is gone; data sections too, under libbpf's names with '_' for '.' ({@code <object>_bss}),
     * since bpffs refuses dots. A pin also keeps a map's user reference, without
     * which the kernel would cancel the BPF timers in it when this process exits. {@code dir}
     * must exist on a bpf filesystem. Returns the names pinned.
     */
    public List<String> pinMaps(java.nio.file.Path dir) throws BpfException {
        requireLoaded();
        List<String> pinned = new ArrayList<>();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment m = MemorySegment.NULL;
            while (!(m = LibBpf.bpf_object__next_map(obj, m)).equals(MemorySegment.NULL)) {
                if (LibBpf.bpf_map__type(m) == LibBpf.BPF_MAP_TYPE_STRUCT_OPS
                        || (LibBpf.bpf_map__map_flags(m) & LibBpf.BPF_F_RDONLY_PROG) != 0) {
                    continue;
                }
                String mapName = LibBpf.string(LibBpf.bpf_map__name(m));
                String path = dir.resolve(BpfPins.fileName(mapName)).toString();
                int err = LibBpf.bpf_obj_pin(LibBpf.bpf_map__fd(m), tmp.allocateFrom(path));
                if (err < 0) {
                    throw BpfException.of("bpf_obj_pin", path, err);
                }
                pinned.add(mapName);
            }
        }
        return pinned;
    }

    /** Detaches links, unmaps ring buffers and frees the object; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        attachments.reversed().forEach(Runnable::run);
        // Arena first: a segment that outlived the object must fault in Java, not read freed memory.
        arena.close();
        LibBpf.bpf_object__close(obj);
    }

    private MemorySegment findMap(String mapName) throws BpfException {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment map = LibBpf.bpf_object__find_map_by_name(obj, tmp.allocateFrom(mapName));
            if (map.equals(MemorySegment.NULL)) {
                throw BpfException.of("bpf_object__find_map_by_name", name + "." + mapName, LibBpf.ENOENT);
            }
            return map;
        }
    }

    void requireOpen() {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    void requireLoaded() {
        requireOpen();
        if (!loaded) {
            throw new IllegalStateException(name + " is not loaded");
        }
    }
}
