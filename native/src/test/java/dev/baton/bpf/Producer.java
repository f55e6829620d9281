package dev.baton.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** bpf/test/ringbuf_producer.bpf.c, loaded, with its .rodata stamp set. */
final class Producer implements AutoCloseable {
    static final int RING_SIZE = 4096;
    /** "stamp42" NUL-terminated, as a little-endian u64: also readable as a C string. */
    static final long STAMP = ByteBuffer.wrap("stamp42\0".getBytes(StandardCharsets.US_ASCII))
            .order(ByteOrder.LITTLE_ENDIAN).getLong();

    final BpfObject object;
    final BpfProgram program;

    Producer() throws BpfException {
        object = BpfObject.open(elf(), "rb_test");
        try {
            object.rodata().putLong(0, STAMP);
            object.load();
            program = object.program("produce");
        } catch (BpfException | RuntimeException e) {
            object.close();
            throw e;
        }
    }

    static byte[] elf() {
        try {
            return Files.readAllBytes(Path.of(System.getProperty("baton.bpf.build"), "test", "ringbuf_producer.bpf.o"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ring bytes one record of {@code size} occupies: header included, 8-aligned. */
    static int footprint(int size) {
        return (size + 8 + 7) & ~7;
    }

    /** Reserves {@code count} records of seq firstSeq..; returns how many were submitted. */
    int produce(long firstSeq, int count, int size, int discardEvery) throws BpfException {
        // struct produce_args
        ByteBuffer args = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder())
                .putLong(firstSeq).putInt(count).putInt(size).putInt(discardEvery).putInt(-1);
        assertThat(program.testRun(args.array())).as("produce() return value").isZero();
        return args.getInt(20);
    }

    int produce(long firstSeq, int count, int size) throws BpfException {
        return produce(firstSeq, count, size, 0);
    }

    /** Reserves that failed for lack of space, since load. */
    long drops() throws BpfException {
        byte[] value = new byte[8];
        assertThat(object.map("stats").lookup(new byte[4], value)).isTrue();
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getLong();
    }

    @Override
    public void close() {
        object.close();
    }
}
