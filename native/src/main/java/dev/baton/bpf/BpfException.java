package dev.baton.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A libbpf, bpf(2) or libc call failed; {@link #errno()} says how. */
public class BpfException extends Exception {
    private final int errno;

    public BpfException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /**
     * The failure of {@code operation} on the object, map or program {@code name}, described by
     * libbpf_strerror, which also knows libbpf's own codes (4000 and up) that strerror does not.
     */
    static BpfException of(String operation, String name, int errno) {
        int code = Math.abs(errno);
        return new BpfException(operation + "(" + name + "): " + describe(code) + " (errno " + code + ")", code);
    }

    private static String describe(int errno) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            return LibBpf.libbpf_strerror(errno, buf, buf.byteSize()) == 0 ? buf.getString(0) : "unknown error";
        }
    }

    /** The positive errno (or libbpf error code) of the failure; 0 if there was none. */
    public int errno() {
        return errno;
    }
}
