/*
 * The kernel half of the event-path benchmark (integration-tests/bench/, `make bench`), run on
 * the host with BPF_PROG_TEST_RUN: no sched_ext needed.
 *
 * fill: one call reserves and submits Baton's runtime samples until the ring is full, without
 * waking the consumer, so that a consumer's drain of a full ring can be timed on its own.
 * roundtrip: submits one sample stamped with bpf_ktime_get_ns(), then polls a hint map until user
 * space has answered with that stamp, and reports the time in between. It spins on the CPU while it waits,
 * which a scheduler must never do and a benchmark may: for spin_ns at most per call, after which
 * user space calls again, so that a consumer that needs this CPU gets it at the return to user
 * space (the host kernel may not preempt a task in the kernel).
 * count_syscalls counts the syscalls of one thread, so the hint-write paths can be charged with
 * the syscalls they actually make.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "syscall_count.h"
#include "bench_events.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BATON_BENCH_RING_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BATON_BENCH_HINT_SLOTS);
	__type(key, u32);
	__type(value, struct baton_bench_hint);
} hint_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BATON_BENCH_HINT_SLOTS);
	__type(key, u32);
	__type(value, struct baton_bench_hint);
} hint_array SEC(".maps");

/* Never accessed: puts the shared types that no signature mentions into the BTF, for AbiGen. */
struct {
	struct baton_task_sample sample;
	struct baton_bench_hint hint;
	enum baton_bench_consts consts;
	enum baton_bench_hint_map hint_map;
} baton_bench_abi_anchor SEC(".bss");

/* Made-up figures, derived from ts_ns so that the consumers' checksums can be compared. */
static void fake_sample(struct baton_task_sample *s, u32 pid, u64 ts_ns)
{
	s->kind = BATON_EV_TASK_SAMPLE;
	s->pid = pid;
	s->tgid = 1;
	s->wakeups = 7;
	s->ts_ns = ts_ns;
	s->cpu_ns = ts_ns * 3;
	s->wait_ns = ts_ns * 5;
}

static long fill_one(u64 i, struct baton_bench_fill_args *a)
{
	struct baton_task_sample *s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);

	if (!s)
		return 1;
	fake_sample(s, (a->first_seq + i) % BATON_BENCH_HINT_SLOTS, a->first_seq + i);
	/* Nobody waits during a fill; a wakeup per record would only add irq_work to the cost. */
	bpf_ringbuf_submit(s, BPF_RB_NO_WAKEUP);
	a->submitted++;
	return 0;
}

SEC("syscall")
int fill(struct baton_bench_fill_args *args)
{
	struct baton_bench_fill_args a = *args; /* bpf_loop hands its callback stack memory only */

	a.submitted = 0;
	/* bpf_loop refuses more than 1 << 23 iterations, far more than the ring holds anyway. */
	if (a.max_records > 1 << 23)
		a.max_records = 1 << 23;
	bpf_loop(a.max_records, fill_one, &a, 0);
	args->submitted = a.submitted;
	return 0;
}

struct hint_wait {
	u64 stamp;
	u64 deadline;
	u64 end;
	u32 map;
	u32 key;
	u32 slot;
	u32 seen;
};

static long wait_for_hint(u64 i, struct hint_wait *w)
{
	struct baton_bench_hint *h;
	u64 now;

	if (w->map == BATON_BENCH_HINT_ARRAY)
		h = bpf_map_lookup_elem(&hint_array, &w->slot);
	else
		h = bpf_map_lookup_elem(&hint_hash, &w->key);
	now = bpf_ktime_get_ns();
	if (h && *(volatile u64 *)&h->seq == w->stamp)
		w->seen = 1;
	if (w->seen || now > w->deadline) {
		w->end = now;
		return 1;
	}
	return 0;
}

SEC("syscall")
int roundtrip(struct baton_bench_roundtrip_args *args)
{
	struct hint_wait w = {
		.map = args->hint_map,
		.key = (u32)bpf_get_current_pid_tgid(),
	};
	struct baton_task_sample *s;

	w.slot = w.key % BATON_BENCH_HINT_SLOTS;
	if (args->submit) {
		s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);
		if (!s)
			return -1; /* the consumer is not draining */
		args->start_ns = bpf_ktime_get_ns();
		fake_sample(s, w.key, args->start_ns);
		bpf_ringbuf_submit(s, 0); /* wakes the consumer if it has caught up and sleeps */
	}
	w.stamp = args->start_ns;
	w.deadline = bpf_ktime_get_ns() + args->spin_ns;
	bpf_loop(1 << 23, wait_for_hint, &w, 0);
	if (!w.end)
		w.end = bpf_ktime_get_ns(); /* bpf_loop ran out of iterations first */
	args->seen = w.seen;
	args->latency_ns = w.end - args->start_ns;
	return 0;
}
