package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * sd_notify(3) without libsystemd: one datagram to the Unix socket systemd names in
 * $NOTIFY_SOCKET ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=..."). Java's channels have no
 * Unix datagram sockets, hence FFM. A no-op when not started by systemd with Type=notify.
 *
 * <p>Lives here because native/ is where Baton's FFM is; it has nothing to do with BPF.
 */
public final class SystemdNotify implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment addr;
    private final int addrLen;
    private final int fd;
    private final MemorySegment buf = arena.allocate(4096);

    private SystemdNotify(String socket) throws BpfException {
        addr = arena.allocate(LibBpf.sockaddr_un.SIZE);
        addr.set(LibBpf.C_CHAR, 0, (byte) LibBpf.AF_UNIX); // sa_family_t, little-endian u16
        byte[] path = socket.getBytes(StandardCharsets.UTF_8);
        if (path.length >= LibBpf.sockaddr_un.PATH_MAX) {
            throw new BpfException("NOTIFY_SOCKET is too long: " + socket, LibBpf.EINVAL);
        }
        if (path[0] == '@') {
            path[0] = 0; // abstract namespace: no terminating NUL counts
            addrLen = (int) LibBpf.sockaddr_un.PATH_OFFSET + path.length;
        } else {
            addrLen = (int) LibBpf.sockaddr_un.PATH_OFFSET + path.length + 1;
        }
        MemorySegment.copy(path, 0, addr, LibBpf.C_CHAR, LibBpf.sockaddr_un.PATH_OFFSET, path.length);
        fd = LibBpf.socket(LibBpf.AF_UNIX, LibBpf.SOCK_DGRAM | LibBpf.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            int errno = LibBpf.errno();
            arena.close();
            throw BpfException.of("socket(AF_UNIX, SOCK_DGRAM)", socket, errno);
        }
    }

    /** A notifier for $NOTIFY_SOCKET, or null when the variable is unset (not under systemd). */
    public static SystemdNotify fromEnvironment() throws BpfException {
        String socket = System.getenv("NOTIFY_SOCKET");
        return socket == null || socket.isEmpty() ? null : to(socket);
    }

    /** A notifier for the socket at {@code socket} ("@name" for the abstract namespace). */
    public static SystemdNotify to(String socket) throws BpfException {
        if (socket.isEmpty() || (socket.charAt(0) != '/' && socket.charAt(0) != '@')) {
            throw new BpfException("NOTIFY_SOCKET must be a path or @abstract name, not '" + socket + "'",
                    LibBpf.EINVAL);
        }
        return new SystemdNotify(socket);
    }

    /** Sends newline-separated assignments such as "READY=1"; thread-safe. */
    public synchronized void send(String state) throws BpfException {
        byte[] b = state.getBytes(StandardCharsets.UTF_8);
        if (b.length > buf.byteSize()) {
            throw new IllegalArgumentException("notification over " + buf.byteSize() + " bytes");
        }
        MemorySegment.copy(b, 0, buf, LibBpf.C_CHAR, 0, b.length);
        long n = LibBpf.sendto(fd, buf, b.length, LibBpf.MSG_NOSIGNAL, addr, addrLen);
        if (n < 0) {
            throw BpfException.of("sendto(NOTIFY_SOCKET)", state, LibBpf.errno());
        }
    }

    @Override
    public synchronized void close() {
        LibBpf.close(fd);
        arena.close();
    }
}
