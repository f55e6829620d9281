/*
 * The scheduler's hint maps without the scheduler, for the agent's host tests and the event-path
 * benchmark: task_hints, cgroup_hints and .data.live declared as baton.bpf.c declares them
 * (HintWriterTest checks that the two objects agree), in an object that loads on a kernel
 * without sched_ext, so the agent's own HintWriter can be tested and timed on the host.
 *
 * read_task_hint and read_cgroup_hint report what BPF sees under a key, so a test checks the
 * kernel's view of a write rather than reading it back through the writer. baton_query_task
 * answers as the scheduler's does, less the scheduling state (class, weight), which lives in
 * sched_ext's task storage. count_syscalls counts the syscalls of one thread (track_caller).
 * Contexts are arrays of u64, each program documents its slots.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "syscall_count.h"
#include <bpf/bpf_core_read.h>
#include "intf.h"

char _license[] SEC("license") = "GPL";

#define ESRCH 3

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BATON_MAX_TASK_HINTS);
	__type(key, struct baton_task_key);
	__type(value, struct baton_hint);
} task_hints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BATON_MAX_CGROUP_HINTS);
	__type(key, u64);
	__type(value, struct baton_hint);
} cgroup_hints SEC(".maps");

struct baton_live live SEC(".data.live") = {
	.hint_gen = 1,
};

static void report(u64 *out, struct baton_hint *h)
{
	out[0] = h != NULL;
	out[1] = h ? h->sched_class : 0;
	out[2] = h ? h->weight : 0;
	out[3] = h ? h->slice_us : 0;
	out[4] = h ? h->deadline_us : 0;
}

/* ctx: [0] in: pid; [1] in: start_ns; [2] out: 1 if present; [3..6] out: class, weight, slice, deadline. */
SEC("syscall")
int read_task_hint(u64 *ctx)
{
	struct baton_task_key key = { .pid = ctx[0], .start_ns = ctx[1] };

	report(&ctx[2], bpf_map_lookup_elem(&task_hints, &key));
	return 0;
}

/* ctx: [0] in: cgroup id; [1] out: 1 if present; [2..5] out: class, weight, slice, deadline. */
SEC("syscall")
int read_cgroup_hint(u64 *ctx)
{
	u64 id = ctx[0];

	report(&ctx[1], bpf_map_lookup_elem(&cgroup_hints, &id));
	return 0;
}

SEC("syscall")
int baton_query_task(struct baton_task_query *q)
{
	struct task_struct *p = bpf_task_from_pid(q->pid);
	char comm[sizeof(q->comm)];

	if (!p)
		return -ESRCH;
	q->tgid = p->tgid;
	q->start_ns = p->start_time;
	q->leader_start_ns = p->group_leader->start_time;
	q->cgroup_id = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
	q->sched_class = BATON_CLASS_NORMAL;
	q->weight = 100;
	/* Through the stack: the host kernel's verifier will not let the helper write to ctx. */
	bpf_probe_read_kernel_str(comm, sizeof(comm), p->comm);
	__builtin_memcpy(q->comm, comm, sizeof(comm));
	bpf_task_release(p);
	return 0;
}
