package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static dev.baton.bpf.LibBpf.C_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Consumer of a BPF_MAP_TYPE_RINGBUF, reading the kernel's shared memory directly: no libbpf
 * ring_buffer, no upcalls, no allocation per record.
 *
 * <p>The kernel ABI (kernel/bpf/ringbuf.c): the map fd mmaps as one writable page holding
 * consumer_pos, then a read-only page holding producer_pos, then the data area mapped twice in a
 * row so that a record that wraps past its end is still contiguous. Positions only grow; a
 * record sits at {@code pos & (size - 1)} behind an 8-byte header {@code {u32 len; u32 pg_off}}
 * whose len carries BUSY (reserved, not yet committed) and DISCARD bits, and occupies
 * {@code len + 8} bytes rounded up to 8. The kernel publishes a record by clearing BUSY with a
 * release, and reclaims space when consumer_pos passes it.
 *
 * <p>Records are read through {@link LibBpf#ALL_MEMORY} rather than through the mapping's own
 * segment: the JIT must re-check a segment's bounds and liveness after every acquire load, one
 * per record, which halved throughput (the event-path benchmark); a constant segment costs it
 * nothing to check. This class and {@link RecordView} keep those reads inside the mapping (the
 * kernel bounds every record by the ring's size, checked here again) and inside its lifetime:
 * consuming holds this object's lock, which {@link #close()} takes before it unmaps.
 *
 * <p>One thread may consume at a time (not necessarily the creating one). {@link #close()} may
 * come from any thread, the handler's included: it waits for a consume in progress on another
 * thread, or leaves the unmapping to the one it interrupts; a later {@code poll} or
 * {@code consume} fails with IllegalStateException.
 */
public final class RingBuffer implements AutoCloseable {
    private static final int BUSY_BIT = 1 << 31;
    private static final int DISCARD_BIT = 1 << 30;
    private static final int HEADER_SIZE = 8;
    private static final VarHandle POS = JAVA_LONG.varHandle();
    private static final VarHandle LEN = JAVA_INT.varHandle();

    private final String name;
    private final Arena arena;
    private final MemorySegment consumerPage;
    private final MemorySegment producerPage;
    private final long dataAddress;
    private final long mask;
    private final int epollFd;
    private final MemorySegment event;
    private final RecordView view = new RecordView();
    private volatile boolean closed;
    private boolean consuming; // guarded by this
    private boolean unmapPending; // set by close() from a handler, read by drain on the same thread

    private RingBuffer(String name, Arena arena, MemorySegment consumerPage, MemorySegment producerPage,
                       MemorySegment data, int size, int epollFd, MemorySegment event) {
        this.name = name;
        this.arena = arena;
        this.consumerPage = consumerPage;
        this.producerPage = producerPage;
        this.dataAddress = data.address();
        this.mask = size - 1;
        this.epollFd = epollFd;
        this.event = event;
    }

    /** Maps the ring buffer behind {@code mapFd}, whose max_entries (a power of 2) is {@code size}. */
    static RingBuffer open(int mapFd, int size, String name) throws BpfException {
        long page = LibBpf.sysconf(LibBpf._SC_PAGESIZE);
        // Shared: the consumer thread is rarely the one that set the ring buffer up.
        Arena arena = Arena.ofShared();
        int epollFd = -1;
        try {
            MemorySegment consumer = mmap(arena, mapFd, 0, page, LibBpf.PROT_READ | LibBpf.PROT_WRITE, name);
            MemorySegment producer = mmap(arena, mapFd, page, page + 2L * size, LibBpf.PROT_READ, name);
            epollFd = LibBpf.epoll_create1(LibBpf.EPOLL_CLOEXEC);
            if (epollFd < 0) {
                throw BpfException.of("epoll_create1", name, LibBpf.errno());
            }
            /*
             * Outside the shared arena: epoll_wait holds its buffer's arena while it blocks, and
             * close() from another thread must not fail because of that.
             */
            MemorySegment event = Arena.ofAuto().allocate(LibBpf.EPOLL_EVENT_SIZE, 8);
            event.set(C_INT, 0, LibBpf.EPOLLIN);
            if (LibBpf.epoll_ctl(epollFd, LibBpf.EPOLL_CTL_ADD, mapFd, event) < 0) {
                throw BpfException.of("epoll_ctl", name, LibBpf.errno());
            }
            return new RingBuffer(name, arena, consumer, producer, producer.asSlice(page), size, epollFd, event);
        } catch (Throwable t) {
            arena.close();
            if (epollFd >= 0) {
                LibBpf.close(epollFd);
            }
            throw t;
        }
    }

    /** A MAP_SHARED mapping of {@code fd}, unmapped when {@code arena} closes. */
    static MemorySegment mmap(Arena arena, int fd, long offset, long length, int prot, String name)
            throws BpfException {
        MemorySegment addr = LibBpf.mmap(MemorySegment.NULL, length, prot, LibBpf.MAP_SHARED, fd, offset);
        if (addr.address() == -1L) { // MAP_FAILED
            throw BpfException.of("mmap", name, LibBpf.errno());
        }
        return LibBpf.view(addr, length, arena, unmapped -> LibBpf.munmap(unmapped, length));
    }

    public String name() {
        return name;
    }

    /**
     * Delivers every committed record, oldest first, skipping discarded ones, and returns how many
     * it delivered. Stops at a record still being written (BUSY) or when no more have arrived.
     */
    public int consume(RecordHandler handler) {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(name + " is closed");
            }
            consuming = true;
            view.open(Thread.currentThread());
            try {
                return drain(handler);
            } finally {
                view.invalidate();
                consuming = false;
                if (closed) { // by the handler
                    unmap();
                }
            }
        }
    }

    private int drain(RecordHandler handler) {
        int delivered = 0;
        long pos = (long) POS.getAcquire(consumerPage, 0L);
        for (;;) {
            long start = pos;
            long end = (long) POS.getAcquire(producerPage, 0L);
            try {
                while (pos < end) {
                    long at = dataAddress + (pos & mask);
                    int len = (int) LEN.getAcquire(LibBpf.ALL_MEMORY, at);
                    if ((len & BUSY_BIT) != 0) {
                        break;
                    }
                    int size = len & ~DISCARD_BIT;
                    if (size > mask) { // the kernel's bound; past it a read could leave the mapping
                        throw new IllegalStateException(name + ": a record of " + size + " bytes in a ring of "
                                + (mask + 1));
                    }
                    pos += (size + HEADER_SIZE + 7L) & ~7L;
                    if ((len & DISCARD_BIT) == 0) {
                        view.point(at + HEADER_SIZE, size);
                        handler.onRecord(view);
                        delivered++;
                        if (unmapPending) {
                            break;
                        }
                    }
                }
            } finally {
                /*
                 * Once per batch rather than per record: each release store dirties a cache line
                 * that the producers read on every reserve. The batch's records stay ours, and
                 * unchanged, until this store hands their space back.
                 */
                if (pos != start) {
                    POS.setRelease(consumerPage, 0L, pos);
                }
            }
            if (pos == start || pos != end || unmapPending) {
                return delivered;
            }
        }
    }

    /**
     * {@link #consume}s; if that found nothing, waits up to {@code timeoutMs} (-1: indefinitely)
     * for the kernel to signal new data, then consumes again. Returns the records delivered, 0 on
     * timeout. The kernel signals when a record is committed while this consumer is caught up.
     */
    public int poll(int timeoutMs, RecordHandler handler) throws BpfException {
        int delivered = consume(handler);
        if (delivered > 0 || timeoutMs == 0) {
            return delivered;
        }
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
        if (LibBpf.epoll_wait(epollFd, event, 1, timeoutMs) < 0) {
            int errno = LibBpf.errno();
            if (errno != LibBpf.EINTR) {
                throw BpfException.of("epoll_wait", name, errno);
            }
        }
        return consume(handler);
    }

    /**
     * Unmaps the ring and closes its epoll fd; idempotent. Called by the consuming thread's handler,
     * it leaves both to the consume in progress, which stops after that record.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (consuming) {
            unmapPending = true;
        } else {
            unmap();
        }
    }

    private void unmap() {
        arena.close();
        LibBpf.close(epollFd);
    }
}
