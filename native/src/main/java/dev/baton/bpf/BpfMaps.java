package dev.baton.bpf;

/**
 * Where a running program's maps are found: the {@link BpfObject} that loaded them, or the bpffs
 * pins ({@link BpfPins}) that keep them alive after the loading process has gone. Code that only
 * uses maps (and pinned programs) works the same on either.
 */
public interface BpfMaps {
    /** The map called {@code name}. */
    BpfMap map(String name) throws BpfException;

    /** A consumer of the BPF_MAP_TYPE_RINGBUF map {@code name}. */
    RingBuffer ringBuffer(String name) throws BpfException;

    /** The BPF_MAP_TYPE_ARRAY {@code name}, declared with BPF_F_MMAPABLE, mapped into this process. */
    MappedArray mappedArray(String name) throws BpfException;

    /** The program called {@code name}. */
    BpfProgram program(String name) throws BpfException;
}
