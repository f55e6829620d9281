package dev.baton.bpf;

/** Receives ring-buffer records, on the thread that consumes them. */
@FunctionalInterface
public interface RecordHandler {
    /**
     * Called once per record, in ring order. {@code record} is valid only during this call: copy
     * out what must outlive it. An exception stops consumption after this record and propagates.
     */
    void onRecord(RecordView record);
}
