/*
 * Test producer for the Java ring-buffer consumer and map bindings (native/ tests). Triggered with
 * BPF_PROG_TEST_RUN, which runs a SEC("syscall") program once on the calling thread and copies
 * its context back, so the program reports through the context as well as through maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

/* Copied into every record, so a test can see that a .rodata write before load took effect. */
const volatile u64 stamp = 0;

/* Writable while loaded: user space stores into it through the mmapped section, echo() reads it. */
u64 control SEC(".data.ctl") = 7;

/* Small on purpose: tests push thousands of records through it and fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

/* [0]: reserves that failed because the ring was full, over the object's lifetime. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} stats SEC(".maps");

/* [0]: program runs, counted on the CPU that ran them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} runs SEC(".maps");

/* Not used by the program: user space exercises lookup/update/delete on it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, struct { u64 a; u32 b; u32 c; });
} kv SEC(".maps");

/* The program's context: test_run copies it in, and back out after the run. */
struct produce_args {
	u64 first_seq;     /* in: sequence number of the first record */
	u32 count;         /* in: records to reserve */
	u32 size;          /* in: record size in bytes, RECORD_MIN..RECORD_MAX */
	u32 discard_every; /* in: discard records whose seq is a multiple of this; 0: none */
	u32 submitted;     /* out: records submitted (not discarded, not dropped) */
};

/* A record: seq, stamp, then any filler up to size, whose last byte is the low byte of seq. */
struct record_head {
	u64 seq;
	u64 stamp;
};

#define RECORD_MIN sizeof(struct record_head)
#define RECORD_MAX 1024

static long produce_one(u64 i, struct produce_args *args)
{
	struct record_head head = { .seq = args->first_seq + i, .stamp = stamp };
	u32 size = args->size;
	u8 tail = head.seq;
	struct bpf_dynptr rec;
	u32 zero = 0;
	u64 *dropped;

	/* The dynptr variant because the plain reserve only takes a size fixed at verification. */
	if (bpf_ringbuf_reserve_dynptr(&ring, size, 0, &rec)) {
		bpf_ringbuf_discard_dynptr(&rec, 0); /* the verifier wants even a failed one released */
		dropped = bpf_map_lookup_elem(&stats, &zero);
		if (dropped)
			__sync_fetch_and_add(dropped, 1);
		return 0;
	}
	bpf_dynptr_write(&rec, 0, &head, sizeof(head), 0);
	if (size > sizeof(head))
		bpf_dynptr_write(&rec, size - 1, &tail, 1, 0);
	if (args->discard_every && head.seq % args->discard_every == 0) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
	} else {
		bpf_ringbuf_submit_dynptr(&rec, 0);
		args->submitted++;
	}
	return 0;
}

SEC("syscall")
int produce(struct produce_args *args)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&runs, &zero);
	struct produce_args a = *args; /* bpf_loop hands its callback stack memory only */

	if (n)
		(*n)++;
	if (a.size < RECORD_MIN || a.size > RECORD_MAX)
		return -1;
	a.submitted = 0;
	bpf_loop(a.count, produce_one, &a, 0);
	args->submitted = a.submitted;
	return 0;
}

/* Returns the low 32 bits of control, as the program sees it now. */
SEC("syscall")
int echo(void *ctx)
{
	return (int)control;
}
