package dev.baton.bpf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Maps pinned by one object and reopened from bpffs, as a restarted agent reopens them. */
class BpfPinsTest {
    private static final Path BPFFS = Path.of("/sys/fs/bpf");
    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        assertThat(BPFFS.resolve("maps.debug")).as("a bpf filesystem mounted at " + BPFFS).exists();
        dir = Files.createTempDirectory(BPFFS, "baton-test-");
    }

    @AfterEach
    void removeDir() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void pinnedMapsOutliveTheirObjectAndKeepTheirContents() throws Exception {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(7).array();
        byte[] value = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putLong(4242).putInt(1).putInt(2).array();
        try (Producer producer = new Producer()) {
            // A custom data section is a map too, named after its section.
            assertThat(producer.object.pinMaps(dir)).containsExactlyInAnyOrder("ring", "stats", "runs", "kv", ".data.ctl");
            producer.object.map("kv").update(key, value, BpfMap.ANY);
        }
        // Every pin is readable by its owner only.
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).hasSize(5);
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("kv")))).isEqualTo("rw-------");

        try (BpfPins pins = BpfPins.in(dir)) {
            BpfMap kv = pins.map("kv");
            assertThat(kv.keySize()).isEqualTo(4);
            assertThat(kv.valueSize()).isEqualTo(16);
            assertThat(kv.maxEntries()).isEqualTo(16);
            byte[] got = new byte[16];
            assertThat(kv.lookup(key, got)).isTrue();
            assertThat(got).isEqualTo(value);

            assertThat(pins.map("runs").isPerCpu()).isTrue();
            assertThat(pins.map("runs").valueBufferSize()).isEqualTo(8 * Libbpf.possibleCpus());
            assertThat(pins.ringBuffer("ring")).isNotNull();
            assertThatThrownBy(() -> pins.ringBuffer("kv")).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void dataSectionsArePinnedUnderNamesBpffsAccepts() throws Exception {
        byte[] zero = new byte[4];
        try (BpfObject obj = BpfObject.open(Files.readAllBytes(
                Path.of(System.getProperty("baton.bpf.build"), "test", "pin_data.bpf.o")), "pin_data")) {
            obj.load();
            obj.program("bump").testRun(new byte[8]);
            obj.program("bump").testRun(new byte[8]);
            assertThat(obj.pinMaps(dir)).containsExactlyInAnyOrder("last", "pin_data.bss");
        }
        try (BpfPins pins = BpfPins.in(dir)) {
            byte[] v = new byte[8];
            assertThat(pins.map("pin_data.bss").lookup(zero, v)).isTrue();
            assertThat(ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getLong()).isEqualTo(2);
            assertThat(pins.map("last").lookup(zero, v)).isTrue();
            assertThat(ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getLong()).isEqualTo(20);
        }
        assertThat(dir.resolve("pin_data_bss")).exists();
    }

    @Test
    void aMissingPinIsNamed() throws Exception {
        try (BpfPins pins = BpfPins.in(dir)) {
            assertThatThrownBy(() -> pins.map("nope"))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errno()).isEqualTo(2))
                    .hasMessageStartingWith("bpf_obj_get(" + dir.resolve("nope") + ")");
        }
    }

    @Test
    void aClosedSetRefusesUse() throws Exception {
        try (Producer producer = new Producer()) {
            producer.object.pinMaps(dir);
        }
        BpfPins pins = BpfPins.in(dir);
        BpfMap kv = pins.map("kv");
        pins.close();
        assertThatThrownBy(kv::fd).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> pins.map("kv")).isInstanceOf(IllegalStateException.class);
    }
}
