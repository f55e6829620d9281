/*
 * Shared between bench_events.bpf.c and the two consumers of the event-path benchmark: the C one
 * (integration-tests/bench/ringbuf_consumer.c) includes it, and the Java one reads layouts that
 * native/'s AbiGen generates from the object's BTF, as for bpf/intf.h. The ring carries Baton's
 * own runtime sample, struct baton_task_sample from intf.h, so it fills as Baton's ring does.
 */
#ifndef BATON_BENCH_EVENTS_H
#define BATON_BENCH_EVENTS_H

#include "intf.h"

enum baton_bench_consts {
	/*
	 * Ring size: 21845 samples (48 bytes each with the kernel's header), which fits the L2 of the
	 * CPU that fills and drains it, so the throughput figures measure the consumers rather than
	 * the memory bus.
	 */
	BATON_BENCH_RING_BYTES = 1 << 20,
	BATON_BENCH_HINT_SLOTS = 4096, /* entries of each hint map */
};

/* Which map the round trip watches for its hint. */
enum baton_bench_hint_map {
	BATON_BENCH_HINT_HASH = 0,  /* hint_hash, key = pid: bpf_map_update_elem / _batch */
	BATON_BENCH_HINT_ARRAY = 1, /* hint_array, index = pid % HINT_SLOTS: mmapped stores */
};

/* A per-task hint, 16 bytes like struct baton_hint. */
struct baton_bench_hint {
	u64 seq;   /* the sample this hint answers (its ts_ns): stored last, read first */
	u64 value;
};

/* Context of fill (test_run copies it in and back). */
struct baton_bench_fill_args {
	u64 first_seq;   /* in: the first sample's ts_ns; each next one's is one more */
	u32 max_records; /* in: at most this many (capped at 1 << 23); stops when the ring is full */
	u32 submitted;   /* out: samples submitted */
};

/* Context of roundtrip: one call submits, the calls after it wait on. */
struct baton_bench_roundtrip_args {
	u64 start_ns;   /* out of the submitting call, in to the others: the sample's ts_ns */
	u64 spin_ns;    /* in: return to user space after spinning this long without the hint */
	u64 latency_ns; /* out: start_ns to when this call saw the hint, or gave up */
	u32 hint_map;   /* in: enum baton_bench_hint_map */
	u32 submit;     /* in: 1: submit a sample first; 0: only wait for its hint */
	u32 seen;       /* out: 1 if the hint has arrived */
	u32 _pad;
};

#endif /* BATON_BENCH_EVENTS_H */
