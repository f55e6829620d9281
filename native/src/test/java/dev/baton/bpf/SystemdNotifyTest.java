package dev.baton.bpf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * sd_notify's datagrams reach a listening Unix datagram socket. Java cannot listen on one, so a
 * small python3 program plays systemd's part.
 */
class SystemdNotifyTest {
    private static final String LISTENER = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(sys.argv[1].replace('@', '\\0', 1))
            print('bound', flush=True)
            s.settimeout(20)
            for _ in range(int(sys.argv[2])):
                print(s.recv(4096).decode(), flush=True)
            """;

    private static String received(String address, int count, String... states) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", LISTENER, address, Integer.toString(count))
                .redirectErrorStream(true).start();
        var out = p.inputReader(StandardCharsets.UTF_8);
        assertThat(out.readLine()).isEqualTo("bound");
        try (SystemdNotify n = SystemdNotify.to(address)) {
            for (String s : states) {
                n.send(s);
            }
        }
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return out.lines().reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    void sendsEachStateAsOneDatagramToAPathSocket(@TempDir Path dir) throws Exception {
        String socket = dir.resolve("notify").toString();
        assertThat(received(socket, 2, "READY=1\nSTATUS=attached", "WATCHDOG=1"))
                .isEqualTo("READY=1\nSTATUS=attached\nWATCHDOG=1\n");
    }

    @Test
    void reachesAbstractSockets() throws Exception {
        String socket = "@baton-test-" + ProcessHandle.current().pid();
        assertThat(received(socket, 1, "STOPPING=1")).isEqualTo("STOPPING=1\n");
    }

    @Test
    void noListenerIsAnErrorNamingTheState(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("absent");
        assertThat(Files.exists(missing)).isFalse();
        assertThatThrownBy(() -> {
            try (SystemdNotify n = SystemdNotify.to(missing.toString())) {
                n.send("READY=1");
            }
        }).isInstanceOf(BpfException.class).hasMessageContaining("READY=1");
        assertThatThrownBy(() -> SystemdNotify.to("relative")).isInstanceOf(BpfException.class);
    }
}
