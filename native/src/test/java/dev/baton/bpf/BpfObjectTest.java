package dev.baton.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BpfObjectTest {
    private static final int EEXIST = 17, EINVAL = 22, ENOENT = 2;

    @Test
    void libbpfIsAtLeast14() throws BpfException {
        int[] version = Arrays.stream(Libbpf.version().split("\\.")).mapToInt(Integer::parseInt).toArray();

        assertThat(version).hasSize(2);
        assertThat(version[0] * 1000 + version[1]).isGreaterThanOrEqualTo(1004);
    }

    @Test
    void possibleCpusCoverTheOnlineOnes() throws BpfException {
        assertThat(Libbpf.possibleCpus()).isGreaterThanOrEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void garbageIsRejectedWithTheOperationObjectAndReason() {
        byte[] garbage = "definitely not an ELF object".getBytes(StandardCharsets.US_ASCII);

        assertThatThrownBy(() -> BpfObject.open(garbage, "junk"))
                .isInstanceOfSatisfying(BpfException.class, e -> {
                    assertThat(e.errno()).isPositive();
                    assertThat(e.getMessage())
                            .startsWith("bpf_object__open_mem(junk): ")
                            .contains("errno " + e.errno())
                            .doesNotContain("unknown error");
                });
        assertThatThrownBy(() -> BpfObject.open(new byte[0], "empty")).isInstanceOf(BpfException.class);
    }

    @Test
    void unknownMapsAndProgramsAreNamedInTheError() throws BpfException {
        try (BpfObject object = BpfObject.open(Producer.elf(), "rb_test")) {
            assertThatThrownBy(() -> object.map("nope"))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errno()).isEqualTo(ENOENT))
                    .hasMessageContaining("rb_test.nope");
            assertThatThrownBy(() -> object.program("nope")).hasMessageContaining("rb_test.nope");
        }
    }

    @Test
    void rodataIsWritableBeforeLoadAndReadOnlyAfter() throws BpfException {
        try (Producer producer = new Producer()) {
            GlobalData rodata = producer.object.rodata();

            assertThat(rodata.size()).isEqualTo(8);
            assertThat(rodata.getLong(0)).isEqualTo(Producer.STAMP);
            assertThatThrownBy(() -> rodata.putLong(0, 1)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> rodata.putInt(0, 1)).isInstanceOf(IllegalStateException.class);
            assertThat(rodata.getLong(0)).isEqualTo(Producer.STAMP);
            // The program's view of it: RingBufferTest checks the stamp in every record.
        }
    }

    @Test
    void rodataDefaultsComeFromTheElf() throws BpfException {
        try (BpfObject object = BpfObject.open(Producer.elf(), "rb_test")) {
            assertThat(object.rodata().getLong(0)).isZero();
            object.rodata().putInt(4, 5);
            assertThat(object.rodata().getLong(0)).isEqualTo(5L << 32);
        }
    }

    @Test
    void testRunCopiesTheContextBack() throws BpfException {
        try (Producer producer = new Producer()) {
            byte[] ctx = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder())
                    .putLong(0).putInt(3).putInt(16).putInt(0).putInt(-1).array();
            assertThat(producer.program.testRun(ctx)).isZero();
            assertThat(ByteBuffer.wrap(ctx).order(ByteOrder.nativeOrder()).getInt(20)).isEqualTo(3);

            ctx = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder()).putLong(0).putInt(3).putInt(8).array();
            assertThat(producer.program.testRun(ctx)).as("the program's own size check").isEqualTo(-1);

            assertThatThrownBy(() -> producer.program.testRun(new byte[16]))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errno()).isEqualTo(EINVAL))
                    .hasMessageStartingWith("bpf_prog_test_run_opts(rb_test.produce): ");
        }
    }

    @Test
    void hashMapRoundTrip() throws BpfException {
        try (Producer producer = new Producer()) {
            BpfMap kv = producer.object.map("kv");
            assertThat(kv.name()).isEqualTo("kv");
            assertThat(kv.fd()).isPositive();
            assertThat(kv.keySize()).isEqualTo(4);
            assertThat(kv.valueSize()).isEqualTo(16);
            assertThat(kv.maxEntries()).isEqualTo(16);
            assertThat(kv.isPerCpu()).isFalse();

            byte[] key = {42, 0, 0, 0};
            byte[] value = new byte[16];
            byte[] stored = new byte[16];
            Arrays.fill(stored, (byte) 0x5a);
            stored[0] = 1;
            assertThat(kv.lookup(key, value)).isFalse();

            kv.update(key, stored, BpfMap.NOEXIST);
            assertThat(kv.lookup(key, value)).isTrue();
            assertThat(value).isEqualTo(stored);
            assertThatThrownBy(() -> kv.update(key, stored, BpfMap.NOEXIST))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errno()).isEqualTo(EEXIST))
                    .hasMessageContaining("bpf_map_update_elem(kv)");

            stored[0] = 2;
            kv.update(key, stored, BpfMap.EXIST);
            assertThat(kv.lookup(key, value)).isTrue();
            assertThat(value[0]).isEqualTo((byte) 2);

            assertThat(kv.delete(key)).isTrue();
            assertThat(kv.delete(key)).isFalse();
            assertThat(kv.lookup(key, value)).isFalse();
            assertThatThrownBy(() -> kv.lookup(new byte[8], value)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> kv.update(key, new byte[8], BpfMap.ANY))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void arrayMapSeesWhatTheProgramWrote() throws BpfException {
        try (Producer producer = new Producer()) {
            int size = 100;
            int fits = (Producer.RING_SIZE - 1) / Producer.footprint(size);
            producer.produce(0, fits + 3, size);

            assertThat(producer.drops()).isEqualTo(3);
            BpfMap stats = producer.object.map("stats");
            assertThat(stats).isSameAs(producer.object.map("stats"));
            assertThatThrownBy(() -> stats.delete(new byte[4]))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errno()).isEqualTo(EINVAL));
        }
    }

    @Test
    void perCpuMapHasOneSlotPerPossibleCpu() throws BpfException {
        try (Producer producer = new Producer()) {
            BpfMap runs = producer.object.map("runs");
            int cpus = Libbpf.possibleCpus();
            assertThat(runs.isPerCpu()).isTrue();
            assertThat(runs.valueBufferSize()).isEqualTo(8 * cpus);

            for (int i = 0; i < 5; i++) {
                producer.produce(0, 0, 16);
            }
            long[] counts = runs.lookupPerCpuLongs(0);
            assertThat(counts).hasSize(cpus);
            assertThat(Arrays.stream(counts).sum()).isEqualTo(5);

            ByteBuffer perCpu = ByteBuffer.allocate(runs.valueBufferSize()).order(ByteOrder.nativeOrder());
            for (int cpu = 0; cpu < cpus; cpu++) {
                perCpu.putLong(1000L + cpu);
            }
            runs.update(new byte[4], perCpu.array(), BpfMap.ANY);
            long[] expected = new long[cpus];
            Arrays.setAll(expected, cpu -> 1000L + cpu);
            assertThat(runs.lookupPerCpuLongs(0)).containsExactly(expected);
            assertThat(runs.lookupPerCpuLongs(1)).as("out of range key").isNull();
            assertThatThrownBy(() -> producer.object.map("kv").lookupPerCpuLongs(0))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void dataSectionStoresReachTheLoadedProgram() throws BpfException {
        try (Producer producer = new Producer()) {
            GlobalData ctl = producer.object.globals(".data.ctl");
            BpfProgram echo = producer.object.program("echo");

            assertThat(ctl.isWritable()).isTrue();
            assertThat(ctl.getLong(0)).as("the ELF's initial value").isEqualTo(7);
            assertThat(echo.testRun(new byte[8])).isEqualTo(7);
            ctl.putLong(0, 123456);
            assertThat(echo.testRun(new byte[8])).as("a plain store, seen without a syscall").isEqualTo(123456);
            assertThat(producer.object.globals(".data.ctl")).isSameAs(ctl);
            assertThat(producer.object.rodata().isWritable()).isFalse();
        }
    }

    @Test
    void dataSectionWrittenBeforeLoadKeepsItsValueAfter() throws BpfException {
        try (BpfObject object = BpfObject.open(Producer.elf(), "rb_test")) {
            GlobalData ctl = object.globals(".data.ctl");
            ctl.putLong(0, 99);
            object.load();
            assertThat(ctl.getLong(0)).isEqualTo(99);
            assertThat(object.program("echo").testRun(new byte[8])).isEqualTo(99);
            ctl.putLong(0, 100);
            assertThat(object.program("echo").testRun(new byte[8])).isEqualTo(100);
        }
    }

    @Test
    void nextKeyWalksEveryKeyOnce() throws BpfException {
        try (Producer producer = new Producer()) {
            BpfMap kv = producer.object.map("kv");
            byte[] next = new byte[4];
            assertThat(kv.nextKey(null, next)).as("empty map").isFalse();
            for (int k = 1; k <= 5; k++) {
                kv.update(new byte[] {(byte) k, 0, 0, 0}, new byte[16], BpfMap.ANY);
            }
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            byte[] key = null;
            while (kv.nextKey(key, next)) {
                assertThat(seen.add((int) next[0])).as("key %d seen twice", next[0]).isTrue();
                key = next.clone();
            }
            assertThat(seen).containsExactlyInAnyOrder(1, 2, 3, 4, 5);
            assertThatThrownBy(() -> kv.nextKey(null, new byte[8])).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void closeIsIdempotentAndFencesOffEverything() throws BpfException {
        Producer producer = new Producer();
        BpfMap kv = producer.object.map("kv");
        GlobalData rodata = producer.object.rodata();
        producer.close();
        producer.close();

        assertThatThrownBy(kv::fd).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> kv.lookup(new byte[4], new byte[16])).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> rodata.getLong(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> producer.object.map("kv")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void loadOnlyOnceAndUseOnlyAfter() throws BpfException {
        try (BpfObject object = BpfObject.open(Producer.elf(), "rb_test")) {
            assertThat(object.map("kv").fd()).isNegative();
            assertThatThrownBy(() -> object.ringBuffer("ring")).isInstanceOf(IllegalStateException.class);
            object.load();
            assertThat(object.isLoaded()).isTrue();
            assertThatThrownBy(object::load).isInstanceOf(IllegalStateException.class);
        }
    }
}
