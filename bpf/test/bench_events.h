/*
 * Shared between bench_events.bpf.c and the two consumers of the event-path benchmark: the C one
 * (integration-tests/bench/ringbuf_consumer.c) includes it, and the Java one reads layouts that
 * native/'s AbiGen generates from the object's BTF, as for bpf/intf.h.
 */
#ifndef BATON_BENCH_EVENTS_H
#define BATON_BENCH_EVENTS_H

#ifndef __VMLINUX_H__
#include <stdint.h>
typedef uint32_t u32;
typedef uint64_t u64;
#endif

enum baton_bench_consts {
	/*
	 * Ring size: 14563 records, ~1 MiB, which fits the L2 of the CPU that fills and drains it, so
	 * the throughput figures measure the consumers rather than the memory bus.
	 */
	BATON_BENCH_RING_BYTES = 1 << 20,
	BATON_BENCH_HINT_SLOTS = 4096, /* entries of each hint map */
};

/* Which map the round trip watches for its hint. */
enum baton_bench_hint_map {
	BATON_BENCH_HINT_HASH = 0,  /* hint_hash, key = pid: bpf_map_update_elem / _batch */
	BATON_BENCH_HINT_ARRAY = 1, /* hint_array, index = pid % HINT_SLOTS: mmapped stores */
};

/* One event: the size of Baton's runtime sample (64 bytes), so the ring fills as Baton's will. */
struct baton_bench_sample {
	u64 seq;       /* producer's sequence number */
	u64 ts_ns;     /* bpf_ktime_get_ns() at submit (round trip); seq in fill, to keep fill cheap */
	u32 pid;       /* the task the sample is about: key of its hint */
	u32 tgid;      /* its process */
	u64 cpu_ns;    /* made-up counters, there to give the record its size and something to read */
	u64 wait_ns;
	u64 wakeups;
	u64 slice_ns;
	u64 cgroup_id;
};
_Static_assert(sizeof(struct baton_bench_sample) == 64, "the benchmark models a 64-byte sample");

/* A per-task hint, 16 bytes (think class and deadline). */
struct baton_bench_hint {
	u64 seq;   /* the event this hint answers: stored last, so a reader that sees it sees value */
	u64 value;
};

/* Context of fill (test_run copies it in and back). */
struct baton_bench_fill_args {
	u64 first_seq;   /* in: seq of the first record */
	u32 max_records; /* in: at most this many (capped at 1 << 23); stops when the ring is full */
	u32 submitted;   /* out: records submitted */
};

/* Context of roundtrip: one call submits, the calls after it wait on. */
struct baton_bench_roundtrip_args {
	u64 seq;        /* in: the sample's seq, and the hint seq to wait for */
	u64 start_ns;   /* in/out: when the sample was submitted; set by the submitting call */
	u64 spin_ns;    /* in: return to user space after spinning this long without the hint */
	u64 latency_ns; /* out: start_ns to when this call saw the hint, or gave up */
	u32 hint_map;   /* in: enum baton_bench_hint_map */
	u32 submit;     /* in: 1: submit the sample first; 0: only wait for its hint */
	u32 seen;       /* out: 1 if the hint has arrived */
	u32 _pad;
};

#endif /* BATON_BENCH_EVENTS_H */
