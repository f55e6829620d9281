package dev.baton.bpf;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Downcalls into libbpf 1.x and libc, one method per C function, shaped the way jextract would
 * generate them so that the wrappers read like the C they replace. Callers own all memory.
 *
 * <p>libbpf runs in 1.0 mode: int-returning functions return {@code -errno}; pointer-returning
 * ones return NULL and set errno. The JVM may clobber errno between the native call and any Java
 * code that reads it, so the functions whose errno matters capture it at the call, per thread,
 * and {@link #errno()} returns the value captured by this thread's last such call.
 *
 * <p>The module's restricted FFM operations (linking, sizing raw pointers) all live here.
 */
@SuppressWarnings("restricted")
final class LibBpf {
    private LibBpf() {}

    static final ValueLayout.OfByte C_CHAR = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfLong C_SIZE_T = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfBoolean C_BOOL = ValueLayout.JAVA_BOOLEAN;
    static final AddressLayout C_POINTER = ValueLayout.ADDRESS;

    // <errno.h>, <sys/mman.h>, <sys/epoll.h>, <unistd.h> (Linux x86_64 and aarch64 agree).
    static final int ENOENT = 2, EINTR = 4, EINVAL = 22;
    static final int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
    static final int EPOLL_CLOEXEC = 0x80000, EPOLL_CTL_ADD = 1, EPOLLIN = 1;
    static final int _SC_PAGESIZE = 30;
    // enum bpf_map_type and map_flags (uapi/linux/bpf.h).
    static final int BPF_MAP_TYPE_ARRAY = 2, BPF_MAP_TYPE_PERCPU_HASH = 5, BPF_MAP_TYPE_PERCPU_ARRAY = 6,
            BPF_MAP_TYPE_LRU_PERCPU_HASH = 10, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
            BPF_MAP_TYPE_STRUCT_OPS = 26, BPF_MAP_TYPE_RINGBUF = 27;
    static final int BPF_F_RDONLY_PROG = 1 << 7, BPF_F_MMAPABLE = 1 << 10;
    // <sys/socket.h>, for sd_notify's datagram.
    static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000, MSG_NOSIGNAL = 0x4000;
    static final int EOPNOTSUPP = 95;

    /*
     * struct epoll_event is packed (12 bytes) on x86_64 and 16 bytes elsewhere. Baton only writes
     * events, at offset 0 on both, and never reads data, so a 16-byte buffer serves every arch.
     */
    static final long EPOLL_EVENT_SIZE = 16;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle CALL_STATE_ERRNO = CALL_STATE.varHandle(groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CALL_STATE_BUF =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final SymbolLookup LIBBPF;
    /** Why libbpf.so.1 could not be loaded; null if it was. The handles below are null then. */
    private static final String LOAD_FAILURE;

    static {
        SymbolLookup lookup = null;
        String failure = null;
        try {
            lookup = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            failure = "cannot load libbpf.so.1 (install libbpf1, version 1.4 or newer): " + e.getMessage();
        }
        LIBBPF = lookup;
        LOAD_FAILURE = failure;
    }

    /** Every public entry point calls this first, so a missing libbpf is a BpfException, not an Error. */
    static void require() throws BpfException {
        if (LOAD_FAILURE != null) {
            throw new BpfException(LOAD_FAILURE, 0);
        }
    }

    static int errno() {
        return (int) CALL_STATE_ERRNO.get(CALL_STATE_BUF.get(), 0L);
    }

    private static MethodHandle bpf(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LIBBPF == null ? null : LINKER.downcallHandle(LIBBPF.find(name).orElseThrow(), fd, options);
    }

    private static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd, options);
    }

    /**
     * The whole address space as one segment of the global scope, which the JIT treats as a
     * constant: no bounds or liveness to check at each access. For the ring buffer's per-record
     * reads only, whose bounds and lifetime RingBuffer and RecordView check themselves.
     */
    static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** {@code size} bytes at the native pointer {@code ptr}, accessible while {@code arena} is open. */
    static MemorySegment view(MemorySegment ptr, long size, Arena arena, Consumer<MemorySegment> cleanup) {
        return ptr.reinterpret(size, arena, cleanup);
    }

    /** The NUL-terminated string at a native pointer that libbpf returned. */
    static String string(MemorySegment ptr) {
        return ptr.reinterpret(Long.MAX_VALUE).getString(0);
    }

    private static AssertionError unreachable(Throwable t) {
        return new AssertionError("downcall failed", t);
    }

    /** struct bpf_object_open_opts as of libbpf 1.4 (libbpf.h); libbpf's ABI, versioned by sz. */
    static final class bpf_object_open_opts {
        private bpf_object_open_opts() {}

        static final StructLayout LAYOUT = MemoryLayout.structLayout(
                C_SIZE_T.withName("sz"),
                C_POINTER.withName("object_name"),
                C_BOOL.withName("relaxed_maps"),
                MemoryLayout.paddingLayout(7),
                C_POINTER.withName("pin_root_path"),
                MemoryLayout.paddingLayout(4), // __u32 :32, where attach_prog_fd was
                MemoryLayout.paddingLayout(4),
                C_POINTER.withName("kconfig"),
                C_POINTER.withName("btf_custom_path"),
                C_POINTER.withName("kernel_log_buf"),
                C_SIZE_T.withName("kernel_log_size"),
                C_INT.withName("kernel_log_level"),
                MemoryLayout.paddingLayout(4),
                C_POINTER.withName("bpf_token_path"));
        private static final long SZ = LAYOUT.byteOffset(groupElement("sz"));
        private static final long OBJECT_NAME = LAYOUT.byteOffset(groupElement("object_name"));

        static void sz(MemorySegment opts, long v) {
            opts.set(C_SIZE_T, SZ, v);
        }

        static void object_name(MemorySegment opts, MemorySegment v) {
            opts.set(C_POINTER, OBJECT_NAME, v);
        }
    }

    /** struct bpf_test_run_opts as of libbpf 1.4 (bpf.h). */
    static final class bpf_test_run_opts {
        private bpf_test_run_opts() {}

        static final StructLayout LAYOUT = MemoryLayout.structLayout(
                C_SIZE_T.withName("sz"),
                C_POINTER.withName("data_in"),
                C_POINTER.withName("data_out"),
                C_INT.withName("data_size_in"),
                C_INT.withName("data_size_out"),
                C_POINTER.withName("ctx_in"),
                C_POINTER.withName("ctx_out"),
                C_INT.withName("ctx_size_in"),
                C_INT.withName("ctx_size_out"),
                C_INT.withName("retval"),
                C_INT.withName("repeat"),
                C_INT.withName("duration"),
                C_INT.withName("flags"),
                C_INT.withName("cpu"),
                C_INT.withName("batch_size"));
        private static final long SZ = LAYOUT.byteOffset(groupElement("sz"));
        private static final long CTX_IN = LAYOUT.byteOffset(groupElement("ctx_in"));
        private static final long CTX_SIZE_IN = LAYOUT.byteOffset(groupElement("ctx_size_in"));
        private static final long RETVAL = LAYOUT.byteOffset(groupElement("retval"));

        static void sz(MemorySegment opts, long v) {
            opts.set(C_SIZE_T, SZ, v);
        }

        static void ctx_in(MemorySegment opts, MemorySegment v) {
            opts.set(C_POINTER, CTX_IN, v);
        }

        static void ctx_size_in(MemorySegment opts, int v) {
            opts.set(C_INT, CTX_SIZE_IN, v);
        }

        static int retval(MemorySegment opts) {
            return opts.get(C_INT, RETVAL);
        }
    }

    /** struct bpf_map_batch_opts as of libbpf 1.4 (bpf.h). */
    static final class bpf_map_batch_opts {
        private bpf_map_batch_opts() {}

        static final StructLayout LAYOUT = MemoryLayout.structLayout(
                C_SIZE_T.withName("sz"),
                C_LONG.withName("elem_flags"),
                C_LONG.withName("flags"));
        private static final long SZ = LAYOUT.byteOffset(groupElement("sz"));
        private static final long ELEM_FLAGS = LAYOUT.byteOffset(groupElement("elem_flags"));

        static void sz(MemorySegment opts, long v) {
            opts.set(C_SIZE_T, SZ, v);
        }

        static void elem_flags(MemorySegment opts, long v) {
            opts.set(C_LONG, ELEM_FLAGS, v);
        }
    }

    /**
     * The leading fields of struct bpf_map_info (uapi/linux/bpf.h). The kernel fills at most the
     * info_len we pass, so asking for the prefix we read is valid on every kernel.
     */
    static final class bpf_map_info {
        private bpf_map_info() {}

        static final StructLayout LAYOUT = MemoryLayout.structLayout(
                C_INT.withName("type"),
                C_INT.withName("id"),
                C_INT.withName("key_size"),
                C_INT.withName("value_size"),
                C_INT.withName("max_entries"),
                C_INT.withName("map_flags"));

        static int get(MemorySegment info, String field) {
            return info.get(C_INT, LAYOUT.byteOffset(groupElement(field)));
        }
    }

    /** struct sockaddr_un (sys/un.h): a family and a 108-byte path. */
    static final class sockaddr_un {
        private sockaddr_un() {}

        static final long PATH_OFFSET = 2;
        static final long PATH_MAX = 108;
        static final long SIZE = PATH_OFFSET + PATH_MAX;
    }

    private static final MethodHandle bpf_object__open_mem$mh = bpf("bpf_object__open_mem",
            FunctionDescriptor.of(C_POINTER, C_POINTER, C_SIZE_T, C_POINTER), ERRNO);
    private static final MethodHandle bpf_object__load$mh = bpf("bpf_object__load",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_object__close$mh = bpf("bpf_object__close",
            FunctionDescriptor.ofVoid(C_POINTER));
    private static final MethodHandle bpf_object__find_map_by_name$mh = bpf("bpf_object__find_map_by_name",
            FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_object__find_program_by_name$mh = bpf("bpf_object__find_program_by_name",
            FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_map__fd$mh = bpf("bpf_map__fd", FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_map__type$mh = bpf("bpf_map__type", FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_map__key_size$mh = bpf("bpf_map__key_size",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_map__value_size$mh = bpf("bpf_map__value_size",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_map__max_entries$mh = bpf("bpf_map__max_entries",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_map__map_flags$mh = bpf("bpf_map__map_flags",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_map__initial_value$mh = bpf("bpf_map__initial_value",
            FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_map__attach_struct_ops$mh = bpf("bpf_map__attach_struct_ops",
            FunctionDescriptor.of(C_POINTER, C_POINTER), ERRNO);
    private static final MethodHandle bpf_program__attach$mh = bpf("bpf_program__attach",
            FunctionDescriptor.of(C_POINTER, C_POINTER), ERRNO);
    private static final MethodHandle bpf_link__destroy$mh = bpf("bpf_link__destroy",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_link__fd$mh = bpf("bpf_link__fd", FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_program__fd$mh = bpf("bpf_program__fd",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_program__set_autoload$mh = bpf("bpf_program__set_autoload",
            FunctionDescriptor.of(C_INT, C_POINTER, C_BOOL));
    private static final MethodHandle bpf_prog_test_run_opts$mh = bpf("bpf_prog_test_run_opts",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER));
    private static final MethodHandle bpf_map_lookup_elem$mh = bpf("bpf_map_lookup_elem",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_map_update_elem$mh = bpf("bpf_map_update_elem",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_LONG));
    private static final MethodHandle bpf_map_delete_elem$mh = bpf("bpf_map_delete_elem",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER));
    private static final MethodHandle bpf_map_get_next_key$mh = bpf("bpf_map_get_next_key",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_map_lookup_batch$mh = bpf("bpf_map_lookup_batch",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_map_update_batch$mh = bpf("bpf_map_update_batch",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_map_delete_batch$mh = bpf("bpf_map_delete_batch",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_POINTER));
    private static final MethodHandle libbpf_num_possible_cpus$mh = bpf("libbpf_num_possible_cpus",
            FunctionDescriptor.of(C_INT));
    private static final MethodHandle libbpf_major_version$mh = bpf("libbpf_major_version",
            FunctionDescriptor.of(C_INT));
    private static final MethodHandle libbpf_minor_version$mh = bpf("libbpf_minor_version",
            FunctionDescriptor.of(C_INT));
    private static final MethodHandle libbpf_strerror$mh = bpf("libbpf_strerror",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_SIZE_T));

    private static final MethodHandle bpf_object__next_map$mh = bpf("bpf_object__next_map",
            FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_map__name$mh = bpf("bpf_map__name",
            FunctionDescriptor.of(C_POINTER, C_POINTER));
    private static final MethodHandle bpf_obj_pin$mh = bpf("bpf_obj_pin",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER));
    private static final MethodHandle bpf_obj_get$mh = bpf("bpf_obj_get",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_map_get_info_by_fd$mh = bpf("bpf_map_get_info_by_fd",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_link__pin$mh = bpf("bpf_link__pin",
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
    private static final MethodHandle bpf_link__unpin$mh = bpf("bpf_link__unpin",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle bpf_link__open$mh = bpf("bpf_link__open",
            FunctionDescriptor.of(C_POINTER, C_POINTER), ERRNO);
    private static final MethodHandle bpf_link__detach$mh = bpf("bpf_link__detach",
            FunctionDescriptor.of(C_INT, C_POINTER));
    private static final MethodHandle socket$mh = libc("socket",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT), ERRNO);
    private static final MethodHandle sendto$mh = libc("sendto",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T, C_INT, C_POINTER, C_INT), ERRNO);
    private static final MethodHandle mmap$mh = libc("mmap",
            FunctionDescriptor.of(C_POINTER, C_POINTER, C_SIZE_T, C_INT, C_INT, C_INT, C_LONG), ERRNO);
    private static final MethodHandle munmap$mh = libc("munmap", FunctionDescriptor.of(C_INT, C_POINTER, C_SIZE_T));
    private static final MethodHandle epoll_create1$mh = libc("epoll_create1", FunctionDescriptor.of(C_INT, C_INT),
            ERRNO);
    private static final MethodHandle epoll_ctl$mh = libc("epoll_ctl",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER), ERRNO);
    private static final MethodHandle epoll_wait$mh = libc("epoll_wait",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT, C_INT), ERRNO);
    private static final MethodHandle close$mh = libc("close", FunctionDescriptor.of(C_INT, C_INT));
    private static final MethodHandle sysconf$mh = libc("sysconf", FunctionDescriptor.of(C_LONG, C_INT));

    static MemorySegment bpf_object__open_mem(MemorySegment obj_buf, long obj_buf_sz, MemorySegment opts) {
        try {
            return (MemorySegment) bpf_object__open_mem$mh.invokeExact(CALL_STATE_BUF.get(), obj_buf, obj_buf_sz, opts);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_object__load(MemorySegment obj) {
        try {
            return (int) bpf_object__load$mh.invokeExact(obj);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static void bpf_object__close(MemorySegment obj) {
        try {
            bpf_object__close$mh.invokeExact(obj);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment bpf_object__find_map_by_name(MemorySegment obj, MemorySegment name) {
        try {
            return (MemorySegment) bpf_object__find_map_by_name$mh.invokeExact(obj, name);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment bpf_object__find_program_by_name(MemorySegment obj, MemorySegment name) {
        try {
            return (MemorySegment) bpf_object__find_program_by_name$mh.invokeExact(obj, name);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map__fd(MemorySegment map) {
        try {
            return (int) bpf_map__fd$mh.invokeExact(map);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map__type(MemorySegment map) {
        try {
            return (int) bpf_map__type$mh.invokeExact(map);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map__key_size(MemorySegment map) {
        try {
            return (int) bpf_map__key_size$mh.invokeExact(map);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map__value_size(MemorySegment map) {
        try {
            return (int) bpf_map__value_size$mh.invokeExact(map);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map__max_entries(MemorySegment map) {
        try {
            return (int) bpf_map__max_entries$mh.invokeExact(map);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map__map_flags(MemorySegment map) {
        try {
            return (int) bpf_map__map_flags$mh.invokeExact(map);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment bpf_map__initial_value(MemorySegment map, MemorySegment psize) {
        try {
            return (MemorySegment) bpf_map__initial_value$mh.invokeExact(map, psize);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment bpf_map__attach_struct_ops(MemorySegment map) {
        try {
            return (MemorySegment) bpf_map__attach_struct_ops$mh.invokeExact(CALL_STATE_BUF.get(), map);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment bpf_program__attach(MemorySegment prog) {
        try {
            return (MemorySegment) bpf_program__attach$mh.invokeExact(CALL_STATE_BUF.get(), prog);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_link__destroy(MemorySegment link) {
        try {
            return (int) bpf_link__destroy$mh.invokeExact(link);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_link__fd(MemorySegment link) {
        try {
            return (int) bpf_link__fd$mh.invokeExact(link);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_program__fd(MemorySegment prog) {
        try {
            return (int) bpf_program__fd$mh.invokeExact(prog);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_program__set_autoload(MemorySegment prog, boolean autoload) {
        try {
            return (int) bpf_program__set_autoload$mh.invokeExact(prog, autoload);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_prog_test_run_opts(int prog_fd, MemorySegment opts) {
        try {
            return (int) bpf_prog_test_run_opts$mh.invokeExact(prog_fd, opts);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map_lookup_elem(int fd, MemorySegment key, MemorySegment value) {
        try {
            return (int) bpf_map_lookup_elem$mh.invokeExact(fd, key, value);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map_update_elem(int fd, MemorySegment key, MemorySegment value, long flags) {
        try {
            return (int) bpf_map_update_elem$mh.invokeExact(fd, key, value, flags);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map_delete_elem(int fd, MemorySegment key) {
        try {
            return (int) bpf_map_delete_elem$mh.invokeExact(fd, key);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map_get_next_key(int fd, MemorySegment key, MemorySegment next_key) {
        try {
            return (int) bpf_map_get_next_key$mh.invokeExact(fd, key, next_key);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map_lookup_batch(int fd, MemorySegment in_batch, MemorySegment out_batch, MemorySegment keys,
                                    MemorySegment values, MemorySegment count, MemorySegment opts) {
        try {
            return (int) bpf_map_lookup_batch$mh.invokeExact(fd, in_batch, out_batch, keys, values, count, opts);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map_update_batch(int fd, MemorySegment keys, MemorySegment values, MemorySegment count,
                                    MemorySegment opts) {
        try {
            return (int) bpf_map_update_batch$mh.invokeExact(fd, keys, values, count, opts);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map_delete_batch(int fd, MemorySegment keys, MemorySegment count, MemorySegment opts) {
        try {
            return (int) bpf_map_delete_batch$mh.invokeExact(fd, keys, count, opts);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int libbpf_num_possible_cpus() {
        try {
            return (int) libbpf_num_possible_cpus$mh.invokeExact();
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int libbpf_major_version() {
        try {
            return (int) libbpf_major_version$mh.invokeExact();
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int libbpf_minor_version() {
        try {
            return (int) libbpf_minor_version$mh.invokeExact();
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int libbpf_strerror(int err, MemorySegment buf, long size) {
        try {
            return (int) libbpf_strerror$mh.invokeExact(err, buf, size);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment mmap(MemorySegment addr, long length, int prot, int flags, int fd, long offset) {
        try {
            return (MemorySegment) mmap$mh.invokeExact(CALL_STATE_BUF.get(), addr, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int munmap(MemorySegment addr, long length) {
        try {
            return (int) munmap$mh.invokeExact(addr, length);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int epoll_create1(int flags) {
        try {
            return (int) epoll_create1$mh.invokeExact(CALL_STATE_BUF.get(), flags);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int epoll_ctl(int epfd, int op, int fd, MemorySegment event) {
        try {
            return (int) epoll_ctl$mh.invokeExact(CALL_STATE_BUF.get(), epfd, op, fd, event);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int epoll_wait(int epfd, MemorySegment events, int maxevents, int timeout) {
        try {
            return (int) epoll_wait$mh.invokeExact(CALL_STATE_BUF.get(), epfd, events, maxevents, timeout);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int close(int fd) {
        try {
            return (int) close$mh.invokeExact(fd);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static long sysconf(int name) {
        try {
            return (long) sysconf$mh.invokeExact(name);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment bpf_object__next_map(MemorySegment obj, MemorySegment prev) {
        try {
            return (MemorySegment) bpf_object__next_map$mh.invokeExact(obj, prev);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment bpf_map__name(MemorySegment map) {
        try {
            return (MemorySegment) bpf_map__name$mh.invokeExact(map);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_obj_pin(int fd, MemorySegment path) {
        try {
            return (int) bpf_obj_pin$mh.invokeExact(fd, path);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_obj_get(MemorySegment path) {
        try {
            return (int) bpf_obj_get$mh.invokeExact(path);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_map_get_info_by_fd(int fd, MemorySegment info, MemorySegment infoLen) {
        try {
            return (int) bpf_map_get_info_by_fd$mh.invokeExact(fd, info, infoLen);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_link__pin(MemorySegment link, MemorySegment path) {
        try {
            return (int) bpf_link__pin$mh.invokeExact(link, path);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_link__unpin(MemorySegment link) {
        try {
            return (int) bpf_link__unpin$mh.invokeExact(link);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static MemorySegment bpf_link__open(MemorySegment path) {
        try {
            return (MemorySegment) bpf_link__open$mh.invokeExact(CALL_STATE_BUF.get(), path);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int bpf_link__detach(MemorySegment link) {
        try {
            return (int) bpf_link__detach$mh.invokeExact(link);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static int socket(int domain, int type, int protocol) {
        try {
            return (int) socket$mh.invokeExact(CALL_STATE_BUF.get(), domain, type, protocol);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    static long sendto(int fd, MemorySegment buf, long len, int flags, MemorySegment addr, int addrLen) {
        try {
            return (long) sendto$mh.invokeExact(CALL_STATE_BUF.get(), fd, buf, len, flags, addr, addrLen);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }
}
