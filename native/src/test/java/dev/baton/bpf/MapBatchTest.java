package dev.baton.bpf;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MapBatchTest {
    private static final int ENOENT = 2;
    private static final int E2BIG = 7;

    private MapIo io;
    private BpfMap kv;

    @BeforeEach
    void setUp() throws BpfException {
        io = new MapIo();
        kv = io.object.map("kv");
    }

    @AfterEach
    void tearDown() {
        io.close();
    }

    @Test
    void flushWritesEveryStagedEntryAndTheProgramSeesThem() throws BpfException {
        MapBatch batch = kv.batch(8);
        for (int key = 1; key <= 5; key++) {
            batch.add().keyInt(0, key).valueLong(0, key * 10L).valueLong(8, -key);
        }
        assertThat(batch.size()).isEqualTo(5);

        assertThat(batch.flush()).isEqualTo(5);
        assertThat(batch.size()).isZero();
        for (int key = 1; key <= 5; key++) {
            assertThat(io.readKv(key)).as("kv[%d]", key).containsExactly(key * 10L, -key);
        }
        assertThat(io.readKv(6)).isNull();
        assertThat(batch.flush()).as("nothing staged").isZero();
    }

    @Test
    void aKeyStagedTwiceEndsWithTheLaterValueAndUnsetFieldsAreZero() throws BpfException {
        kv.batch(1).add().keyInt(0, 7).valueLong(0, 1).valueLong(8, 2).flush();
        MapBatch batch = kv.batch(4);
        batch.add().keyInt(0, 7).valueLong(0, 100);
        batch.add().keyInt(0, 7).valueLong(8, 200);

        batch.flush();
        assertThat(io.readKv(7)).containsExactly(0L, 200L);
    }

    @Test
    void oneSyscallPerFlushHoweverManyEntries() throws BpfException {
        MapBatch batch = kv.batch(50);
        try (ProgramLink ignored = io.countSyscallsOfThisThread()) {
            // Noise (a safepoint's futex, say) only adds syscalls, so the least of a few tries is exact.
            long fewest = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 5; attempt++) {
                for (int key = 0; key < 50; key++) {
                    batch.add().keyInt(0, key).valueLong(0, attempt);
                }
                long before = io.syscalls();
                batch.flush();
                batch.flush(); // empty: no call at all
                fewest = Math.min(fewest, io.syscalls() - before);
            }
            assertThat(fewest).isEqualTo(1);
        }
        assertThat(io.readKv(49)).containsExactly(4L, 0L);
    }

    @Test
    void aRefusedEntryIsReportedAndEveryOtherStillApplied() throws BpfException {
        int maxEntries = kv.maxEntries();
        MapBatch fill = kv.batch(maxEntries);
        for (int key = 0; key < maxEntries - 1; key++) {
            fill.add().keyInt(0, key).valueLong(0, key);
        }
        assertThat(fill.flush()).isEqualTo(maxEntries - 1);

        // One free slot: the first new key takes it, later new keys find the map full, and
        // replacing existing keys still works behind them.
        MapBatch batch = kv.batch(8);
        MapBatch undo = kv.deleteBatch(8);
        List<int[]> refused = new ArrayList<>();
        long calls = Long.MAX_VALUE;
        try (ProgramLink ignored = io.countSyscallsOfThisThread()) {
            // Noise (a safepoint's futex, say) only adds syscalls, so the least of a few tries is exact.
            for (int attempt = 0; attempt < 5; attempt++) {
                undo.add().keyInt(0, 100);
                undo.flush((index, errno) -> {});
                refused.clear();
                batch.add().keyInt(0, 100).valueLong(0, 1);
                batch.add().keyInt(0, 101).valueLong(0, 2);
                batch.add().keyInt(0, 5).valueLong(0, 3);
                batch.add().keyInt(0, 102).valueLong(0, 4);
                batch.add().keyInt(0, 6).valueLong(0, 5);
                long before = io.syscalls();
                assertThat(batch.flush((index, errno) -> refused.add(new int[] {index, errno}))).isEqualTo(3);
                calls = Math.min(calls, io.syscalls() - before);
            }
        }

        assertThat(refused).containsExactly(new int[] {1, E2BIG}, new int[] {3, E2BIG});
        assertThat(calls).as("one call, and one more after each refusal").isEqualTo(3);
        assertThat(batch.size()).isZero();
        assertThat(io.readKv(100)).containsExactly(1L, 0L);
        assertThat(io.readKv(5)).containsExactly(3L, 0L);
        assertThat(io.readKv(6)).containsExactly(5L, 0L);
        assertThat(io.readKv(101)).isNull();
        assertThat(io.readKv(102)).isNull();
    }

    @Test
    void flushWithoutAListenerThrowsOnceTheRestIsApplied() throws BpfException {
        int maxEntries = kv.maxEntries();
        MapBatch batch = kv.batch(maxEntries + 6);
        for (int key = 0; key < maxEntries + 6; key++) {
            batch.add().keyInt(0, key).valueLong(0, key);
        }

        assertThatThrownBy(batch::flush)
                .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errno()).isEqualTo(E2BIG))
                .hasMessageStartingWith("bpf_map_update_batch(kv): ")
                .hasMessageEndingWith("6 of " + (maxEntries + 6) + " entries refused, the first at " + maxEntries
                        + "; the others applied");
        assertThat(batch.size()).isZero();
        assertThat(IntStream.range(0, maxEntries + 6).filter(key -> readKv(key) != null).count())
                .isEqualTo(maxEntries);
    }

    @Test
    void aDeleteBatchRemovesExactlyItsKeysAndReportsThoseThatWereNotThere() throws BpfException {
        MapBatch fill = kv.batch(8);
        for (int key = 1; key <= 5; key++) {
            fill.add().keyInt(0, key).valueLong(0, key);
        }
        fill.flush();
        MapBatch deletes = kv.deleteBatch(8);
        for (int key : new int[] {1, 9, 2, 3, 10}) {
            deletes.add().keyInt(0, key);
        }
        List<int[]> refused = new ArrayList<>();

        assertThat(deletes.flush((index, errno) -> refused.add(new int[] {index, errno}))).isEqualTo(3);

        assertThat(refused).containsExactly(new int[] {1, ENOENT}, new int[] {4, ENOENT});
        assertThat(IntStream.rangeClosed(1, 5).filter(key -> readKv(key) != null)).containsExactly(4, 5);
        assertThatThrownBy(() -> deletes.add().valueLong(0, 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("keys only");
    }

    @Test
    void oneSyscallPerDeleteFlush() throws BpfException {
        MapBatch fill = kv.batch(50);
        MapBatch deletes = kv.deleteBatch(50);
        try (ProgramLink ignored = io.countSyscallsOfThisThread()) {
            long fewest = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 5; attempt++) {
                for (int key = 0; key < 50; key++) {
                    fill.add().keyInt(0, key).valueLong(0, attempt);
                    deletes.add().keyInt(0, key);
                }
                fill.flush();
                long before = io.syscalls();
                assertThat(deletes.flush()).isEqualTo(50);
                fewest = Math.min(fewest, io.syscalls() - before);
            }
            assertThat(fewest).isEqualTo(1);
        }
        assertThat(readKv(0)).isNull();
    }

    private long[] readKv(int key) {
        try {
            return io.readKv(key);
        } catch (BpfException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void misuseIsRefusedAndStagesNothing() throws BpfException {
        MapBatch batch = kv.batch(1);

        assertThatThrownBy(() -> batch.keyInt(0, 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("add()");
        batch.add();
        assertThatThrownBy(batch::add).isInstanceOf(IllegalStateException.class).hasMessageContaining("full");
        assertThatThrownBy(() -> batch.keyLong(0, 1)).as("8 bytes into a 4-byte key")
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> batch.valueInt(14, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> batch.valueInt(-1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(batch.size()).isEqualTo(1);
        assertThatThrownBy(() -> kv.batch(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> kv.deleteBatch(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void perCpuMapsHaveNoBatches() throws BpfException {
        try (Producer producer = new Producer()) {
            assertThatThrownBy(() -> producer.object.map("runs").batch(4))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("per-CPU");
        }
    }
}
