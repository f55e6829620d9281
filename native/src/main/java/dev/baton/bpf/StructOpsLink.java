package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * An attached struct_ops map (for sched_ext: the running scheduler). Closing it detaches it,
 * unless it is pinned: a pin holds the link, so the scheduler stays attached after this process
 * exits, until {@link #detach()} or the last pin and fd are gone. Safe to call from any thread,
 * e.g. a shutdown hook racing the normal shutdown path.
 */
public final class StructOpsLink implements AutoCloseable {
    private final String mapName;
    private MemorySegment link;

    StructOpsLink(MemorySegment link, String mapName) {
        this.link = link;
        this.mapName = mapName;
    }

    /** The link pinned at {@code path} by an earlier process, still attached if its program is. */
    public static StructOpsLink openPinned(Path path) throws BpfException {
        LibBpf.require();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment link = LibBpf.bpf_link__open(tmp.allocateFrom(path.toString()));
            if (link.equals(MemorySegment.NULL)) {
                throw BpfException.of("bpf_link__open", path.toString(), LibBpf.errno());
            }
            return new StructOpsLink(link, path.getFileName().toString());
        }
    }

    public String mapName() {
        return mapName;
    }

    /** The bpf_link fd; -1 once closed. */
    public synchronized int fd() {
        return link == null ? -1 : LibBpf.bpf_link__fd(link);
    }

    /** Pins the link at {@code path} (on a bpf filesystem), so it outlives this process. */
    public synchronized void pin(Path path) throws BpfException {
        requireOpen();
        try (Arena tmp = Arena.ofConfined()) {
            int err = LibBpf.bpf_link__pin(link, tmp.allocateFrom(path.toString()));
            if (err < 0) {
                throw BpfException.of("bpf_link__pin", path.toString(), err);
            }
        }
    }

    /** Removes the pin this object made or was opened from; the link stays while an fd holds it. */
    public synchronized void unpin() throws BpfException {
        requireOpen();
        int err = LibBpf.bpf_link__unpin(link);
        if (err < 0 && err != -LibBpf.EINVAL) { // EINVAL: not pinned
            throw BpfException.of("bpf_link__unpin", mapName, err);
        }
    }

    /**
     * Detaches now, whoever else holds the link (BPF_LINK_DETACH; for struct_ops since Linux
     * 6.10). For sched_ext this unregisters the scheduler.
     */
    public synchronized void detach() throws BpfException {
        requireOpen();
        int err = LibBpf.bpf_link__detach(link);
        if (err < 0) {
            throw BpfException.of("bpf_link__detach", mapName, err);
        }
    }

    /** Releases this process's hold; detaches unless pinned. Idempotent. */
    @Override
    public synchronized void close() {
        if (link != null) {
            LibBpf.bpf_link__destroy(link);
            link = null;
        }
    }

    private void requireOpen() {
        if (link == null) {
            throw new IllegalStateException(mapName + " is closed");
        }
    }
}
