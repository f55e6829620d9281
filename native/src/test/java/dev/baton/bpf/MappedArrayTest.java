package dev.baton.bpf;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** map_io's "shared": 300 values of 12 bytes (u32 a, b, c), which the kernel strides at 16. */
class MappedArrayTest {
    private MapIo io;
    private MappedArray shared;

    @BeforeEach
    void setUp() throws BpfException {
        io = new MapIo();
        shared = io.object.mappedArray("shared");
    }

    @AfterEach
    void tearDown() {
        io.close();
    }

    @Test
    void describesTheMap() {
        assertThat(shared.name()).isEqualTo("map_io.shared");
        assertThat(shared.length()).isEqualTo(300);
        assertThat(shared.valueSize()).isEqualTo(12);
    }

    @Test
    void programsSeeWhatJavaStoredInEveryValue() throws BpfException {
        for (int i = 0; i < shared.length(); i++) {
            shared.putInt(i, 0, i);
            shared.putInt(i, 4, -i);
            shared.putInt(i, 8, i * 3);
        }
        // First, last, and one each side of the page boundary (value 256 starts at byte 4096).
        for (int i : new int[] {0, 255, 256, 299}) {
            assertThat(io.readShared(i)).as("shared[%d]", i).containsExactly(i, -i & 0xffffffffL, i * 3L);
        }
    }

    @Test
    void javaSeesWhatProgramsStored() throws BpfException {
        io.writeShared(257, 11, 22, 33);

        assertThat(shared.getInt(257, 0)).isEqualTo(11);
        assertThat(shared.getInt(257, 4)).isEqualTo(22);
        assertThat(shared.getInt(257, 8)).isEqualTo(33);
        assertThat(shared.getLong(257, 0)).isEqualTo(22L << 32 | 11);
        assertThat(shared.getInt(256, 8)).isZero();
    }

    @Test
    void aLongIsOneStore() throws BpfException {
        shared.putLong(9, 0, 5L << 32 | 4);

        assertThat(io.readShared(9)).containsExactly(4, 5, 0);
    }

    @Test
    void writesMakeNoSyscall() throws BpfException {
        try (ProgramLink ignored = io.countSyscallsOfThisThread()) {
            long fewest = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 5; attempt++) {
                long before = io.syscalls();
                for (int i = 0; i < 100_000; i++) {
                    shared.putLong(i % 300, 0, i);
                }
                fewest = Math.min(fewest, io.syscalls() - before);
            }
            assertThat(fewest).isZero();
        }
        assertThat(io.readShared(99_999 % 300)[0]).isEqualTo(99_999);
    }

    @Test
    void accessesOutsideAValueOrMisalignedAreRefused() {
        assertThatThrownBy(() -> shared.putInt(300, 0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> shared.getInt(-1, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> shared.putInt(0, 12, 1)).as("past the 12 bytes, into the padding")
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> shared.getLong(0, 8)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> shared.putInt(0, 2, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("multiple of 4");
        assertThatThrownBy(() -> shared.getLong(0, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThat(shared.getLong(1, 0)).as("nothing was written").isZero();
    }

    @Test
    void onlyMmapableArraysMap() {
        assertThatThrownBy(() -> io.object.mappedArray("private_array"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("map_io.private_array");
        assertThatThrownBy(() -> io.object.mappedArray("kv")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void closingUnmaps() throws BpfException {
        MappedArray other = io.object.mappedArray("shared");
        other.close();
        other.close();
        assertThatThrownBy(() -> other.getInt(0, 0)).isInstanceOf(IllegalStateException.class);
        shared.putInt(0, 0, 1);

        io.close();
        assertThatThrownBy(() -> shared.getInt(0, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void onlyOnceLoaded() throws BpfException {
        try (BpfObject object = BpfObject.open(MapIo.elf(), "map_io")) {
            assertThatThrownBy(() -> object.mappedArray("shared")).isInstanceOf(IllegalStateException.class);
        }
    }
}
