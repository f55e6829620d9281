package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.baton.bpf.LibBpf.C_CHAR;

/** A program of a {@link BpfObject}, or one reached through its bpffs pin ({@link BpfPins}). */
public final class BpfProgram {
    private final Runnable requireOpen;
    private final String ownerName;
    private final MemorySegment prog; // libbpf's struct bpf_program, or NULL for a pinned program
    private final int pinnedFd;
    private final String name;

    BpfProgram(BpfObject owner, MemorySegment prog, String name) {
        this(owner::requireOpen, owner.name(), prog, -1, name);
    }

    BpfProgram(Runnable requireOpen, String ownerName, int fd, String name) {
        this(requireOpen, ownerName, MemorySegment.NULL, fd, name);
    }

    private BpfProgram(Runnable requireOpen, String ownerName, MemorySegment prog, int pinnedFd, String name) {
        this.requireOpen = requireOpen;
        this.ownerName = ownerName;
        this.prog = prog;
        this.pinnedFd = pinnedFd;
        this.name = name;
    }

    public String name() {
        return name;
    }

    MemorySegment prog() {
        return prog;
    }

    /** The program's fd; negative until the object is loaded. */
    public int fd() {
        requireOpen.run();
        return prog.equals(MemorySegment.NULL) ? pinnedFd : LibBpf.bpf_program__fd(prog);
    }

    /**
     * Leaves the program out of the object's load (before {@link BpfObject#load()}): a struct_ops
     * callback that the running kernel's struct has no member for, once its member is cleared.
     */
    public void skipLoad() throws BpfException {
        requireOpen.run();
        if (prog.equals(MemorySegment.NULL)) {
            throw new IllegalStateException(ownerName + "." + name + " is pinned: it was loaded long ago");
        }
        int err = LibBpf.bpf_program__set_autoload(prog, false);
        if (err < 0) {
            throw BpfException.of("bpf_program__set_autoload", ownerName + "." + name, err);
        }
    }

    /** Pins the loaded program at {@code path} (in bpffs), for {@link BpfPins#program}. */
    public void pin(java.nio.file.Path path) throws BpfException {
        try (Arena tmp = Arena.ofConfined()) {
            int err = LibBpf.bpf_obj_pin(fd(), tmp.allocateFrom(path.toString()));
            if (err < 0) {
                throw BpfException.of("bpf_obj_pin", path.toString(), err);
            }
        }
    }

    /**
     * Runs a SEC("syscall") program once on this thread through BPF_PROG_TEST_RUN, with
     * {@code ctx} as its argument, and returns the program's return value. The kernel copies the
     * context back afterwards, so {@code ctx} then holds whatever the program wrote into it.
     *
     * <p>There is no repeat count: the kernel rejects one for syscall programs (loop in the
     * program, e.g. with bpf_loop, or call this again). Allocates a little native memory per
     * call; meant for tests and benchmarks, not hot paths.
     */
    public int testRun(byte[] ctx) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ctxIn = arena.allocateFrom(C_CHAR, ctx);
            MemorySegment opts = arena.allocate(LibBpf.bpf_test_run_opts.LAYOUT);
            LibBpf.bpf_test_run_opts.sz(opts, opts.byteSize());
            LibBpf.bpf_test_run_opts.ctx_in(opts, ctxIn);
            LibBpf.bpf_test_run_opts.ctx_size_in(opts, ctx.length);
            int err = LibBpf.bpf_prog_test_run_opts(fd(), opts);
            if (err < 0) {
                throw BpfException.of("bpf_prog_test_run_opts", ownerName + "." + name, err);
            }
            MemorySegment.copy(ctxIn, C_CHAR, 0, ctx, 0, ctx.length);
            return LibBpf.bpf_test_run_opts.retval(opts);
        }
    }
}
