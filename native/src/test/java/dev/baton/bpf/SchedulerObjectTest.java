package dev.baton.bpf;

import dev.baton.bpf.abi.BatonLive;
import dev.baton.bpf.abi.DataLive;
import dev.baton.bpf.abi.SchedExtOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * baton.bpf.o opened (not loaded: this host has no sched_ext): the values Java sets before load
 * are where the generated layouts say, including the kernel struct sched_ext_ops.
 */
class SchedulerObjectTest {
    private static byte[] elf() throws IOException {
        return Files.readAllBytes(Path.of(System.getProperty("baton.bpf.build"), "baton.bpf.o"));
    }

    @Test
    void structOpsValueHoldsTheNameAndATimeoutJavaCanSet() throws Exception {
        try (BpfObject object = BpfObject.open(elf(), "baton")) {
            GlobalData ops = object.structOps("baton_ops");
            assertThat(ops.size()).isEqualTo(SchedExtOps.SIZEOF);
            assertThat(ops.getLong(SchedExtOps.NAME_OFFSET)).as("baton, as a little-endian u64")
                    .isEqualTo(0x6e6f746162L);
            assertThat(ops.getInt(SchedExtOps.TIMEOUT_MS_OFFSET)).isZero();
            ops.putInt(SchedExtOps.TIMEOUT_MS_OFFSET, 5000);
            assertThat(object.structOps("baton_ops").getInt(SchedExtOps.TIMEOUT_MS_OFFSET)).isEqualTo(5000);
            assertThatThrownBy(() -> object.structOps("events")).isInstanceOf(IllegalArgumentException.class);
        }
    }

    /**
     * How the agent loads the object on a kernel whose sched_ext_ops has no cgroup_set_bandwidth
     * (before 6.17): libbpf refuses a member the kernel lacks unless it is zero, and the value
     * holds each callback's program there (libbpf's shadow of the struct), so the agent clears it
     * and leaves the program out of the load.
     */
    @Test
    void aCallbackTheKernelLacksCanBeLeftOut() throws Exception {
        try (BpfObject object = BpfObject.open(elf(), "baton")) {
            GlobalData ops = object.structOps("baton_ops");
            assertThat(ops.getLong(SchedExtOps.CGROUP_SET_BANDWIDTH_OFFSET)).as("the program, as libbpf holds it").isNotZero();
            ops.putLong(SchedExtOps.CGROUP_SET_BANDWIDTH_OFFSET, 0);
            object.program("baton_cgroup_set_bandwidth").skipLoad();
            assertThat(object.structOps("baton_ops").getLong(SchedExtOps.CGROUP_SET_BANDWIDTH_OFFSET)).isZero();
            assertThat(ops.getLong(SchedExtOps.TICK_OFFSET)).as("the others stay").isNotZero();
        }
    }

    @Test
    void theLiveDataHasItsDefaults() throws Exception {
        try (BpfObject object = BpfObject.open(elf(), "baton")) {
            GlobalData live = object.globals(".data.live");
            assertThat(live.size()).isEqualTo(DataLive.LIVE_OFFSET + DataLive.LIVE_SIZE);
            assertThat(live.getLong(DataLive.LIVE_OFFSET + BatonLive.ABI_FINGERPRINT_OFFSET))
                    .as("unstamped: the agent that loads it writes its own")
                    .isZero();
            assertThat(live.getLong(DataLive.LIVE_OFFSET + BatonLive.HEARTBEAT_NS_OFFSET)).isZero();
            assertThat(live.getLong(DataLive.LIVE_OFFSET + BatonLive.HINT_GEN_OFFSET)).isEqualTo(1);
            assertThat(live.getLong(DataLive.LIVE_OFFSET + BatonLive.STALE_NS_OFFSET)).isEqualTo(2_000_000_000L);
            assertThat(live.getLong(DataLive.LIVE_OFFSET + BatonLive.STARVE_NS_OFFSET)).isEqualTo(100_000_000L);
            assertThat(live.getLong(DataLive.LIVE_OFFSET + BatonLive.SAMPLE_NS_OFFSET)).isEqualTo(100_000_000L);
            for (int c = 0; c < BatonLive.SLICE_NS_SIZE / 8; c++) {
                assertThat(live.getLong(DataLive.LIVE_OFFSET + BatonLive.SLICE_NS_OFFSET + 8L * c)).isEqualTo(20_000_000L);
            }
        }
    }
}
