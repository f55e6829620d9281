package dev.baton.bpf;

import java.lang.foreign.MemorySegment;

/** An attached program (tracepoint, kprobe, ...). Closing it detaches it; safe from any thread. */
public final class ProgramLink implements AutoCloseable {
    private final String programName;
    private MemorySegment link;

    ProgramLink(MemorySegment link, String programName) {
        this.link = link;
        this.programName = programName;
    }

    public String programName() {
        return programName;
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
