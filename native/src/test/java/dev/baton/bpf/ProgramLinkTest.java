package dev.baton.bpf;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProgramLinkTest {
    private static final int ENOENT = 2;

    @Test
    void anAttachedProgramRunsUntilItsLinkCloses() throws BpfException {
        try (MapIo io = new MapIo()) {
            BpfMap kv = io.object.map("kv");
            ProgramLink link = io.countSyscallsOfThisThread();
            assertThat(link.programName()).isEqualTo("count_syscalls");
            assertThat(link.fd()).isPositive();

            long before = io.syscalls();
            for (int i = 0; i < 10; i++) {
                kv.lookup(new byte[4], new byte[16]);
            }
            assertThat(io.syscalls() - before).as("one bpf(2) per lookup, and little else").isBetween(10L, 20L);

            link.close();
            link.close();
            assertThat(link.fd()).isEqualTo(-1);
            long detached = io.syscalls();
            for (int i = 0; i < 10; i++) {
                kv.lookup(new byte[4], new byte[16]);
            }
            assertThat(io.syscalls()).isEqualTo(detached);
        }
    }

    @Test
    void programsWithoutAnAttachPointOrUnknownAreRefused() throws BpfException {
        try (MapIo io = new MapIo()) {
            assertThatThrownBy(() -> io.object.attach("read_kv"))
                    .isInstanceOf(BpfException.class)
                    .hasMessageStartingWith("bpf_program__attach(map_io.read_kv): ");
            assertThatThrownBy(() -> io.object.attach("nope"))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errno()).isEqualTo(ENOENT));
        }
    }

    @Test
    void closingTheObjectDetaches() throws BpfException {
        MapIo io = new MapIo();
        ProgramLink link = io.countSyscallsOfThisThread();
        io.close();

        assertThat(link.fd()).isEqualTo(-1);
    }
}
