package dev.baton.bpf;

import java.lang.foreign.MemorySegment;

/**
 * An attached struct_ops map (for sched_ext: the running scheduler). Closing it detaches it; safe
 * to call from any thread, e.g. a shutdown hook racing the normal shutdown path.
 */
public final class StructOpsLink implements AutoCloseable {
    private final String mapName;
    private MemorySegment link;

    StructOpsLink(MemorySegment link, String mapName) {
        this.link = link;
        this.mapName = mapName;
    }

    public String mapName() {
        return mapName;
    }

    /** The bpf_link fd; -1 once closed. */
    public synchronized int fd() {
        return link == null ? -1 : LibBpf.bpf_link__fd(link);
    }

    /** Detaches; idempotent. The owning {@link BpfObject} also does this when it closes. */
    @Override
    public synchronized void close() {
        if (link != null) {
            LibBpf.bpf_link__destroy(link);
            link = null;
        }
    }
}
