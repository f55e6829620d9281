package dev.baton.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** bpf/test/map_io.bpf.c, loaded, with helpers that ask its programs what the kernel sees. */
final class MapIo implements AutoCloseable {
    final BpfObject object;
    private MappedArray syscalls;

    MapIo() throws BpfException {
        object = BpfObject.open(elf(), "map_io");
        try {
            object.load();
        } catch (BpfException | RuntimeException e) {
            object.close();
            throw e;
        }
    }

    static byte[] elf() {
        try {
            return Files.readAllBytes(Path.of(System.getProperty("baton.bpf.build"), "test", "map_io.bpf.o"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** kv[key] as BPF sees it: {a, b}, or null if absent. */
    long[] readKv(int key) throws BpfException {
        long[] ctx = run("read_kv", key, 0, 0, 0);
        return ctx[1] == 0 ? null : new long[] {ctx[2], ctx[3]};
    }

    /** shared[index] as BPF sees it: {a, b, c}. */
    long[] readShared(int index) throws BpfException {
        long[] ctx = run("read_shared", index, 0, 0, 0);
        return new long[] {ctx[1], ctx[2], ctx[3]};
    }

    void writeShared(int index, int a, int b, int c) throws BpfException {
        run("write_shared", index, a, b, c);
    }

    /**
     * Attaches the syscall counter and makes this thread the one it counts; {@link #syscalls()}
     * then reads the count without a syscall of its own.
     */
    ProgramLink countSyscallsOfThisThread() throws BpfException {
        ProgramLink link = object.attach("count_syscalls");
        assertThat(object.program("track_caller").testRun(new byte[8])).isZero();
        syscalls = object.mappedArray("syscalls");
        return link;
    }

    long syscalls() {
        return syscalls.getLong(0, 0);
    }

    private long[] run(String program, long... ctx) throws BpfException {
        ByteBuffer buf = ByteBuffer.allocate(8 * ctx.length).order(ByteOrder.nativeOrder());
        buf.asLongBuffer().put(ctx);
        assertThat(object.program(program).testRun(buf.array())).as("%s() return value", program).isZero();
        buf.asLongBuffer().get(ctx);
        return ctx;
    }

    @Override
    public void close() {
        object.close();
    }
}
