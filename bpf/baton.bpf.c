/*
 * Baton's BPF scheduler: the hot path, which never waits for user space.
 *
 * Walking skeleton: one shared FIFO DSQ. select_cpu keeps a task where the kernel's default
 * selection finds an idle CPU and dispatches it there directly (no queueing, no lock on the
 * shared DSQ); everything else is queued FIFO and pulled by whichever CPU goes idle first.
 * FIFO on one global queue is fair enough to pass the watchdog on a small host, and scales badly
 * past a few dozen CPUs (one queue lock); the class DSQs replace it.
 *
 * Task lifecycle goes to user space as fixed-size records in a ring buffer. A full ring drops the
 * record and counts it: losing an event is preferable to making a task wait for the agent.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "compat.bpf.h"
#include "intf.h"

char _license[] SEC("license") = "GPL";

/* Time slice given to every task. */
const volatile u64 slice_ns = 20ULL * 1000 * 1000;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BATON_NR_STATS);
	__type(key, u32);
	__type(value, u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct baton_exit_info);
} exit_info SEC(".maps");

/*
 * Never accessed: it only makes clang write into the object's BTF the intf.h types that no map or
 * function signature mentions, because native/ generates the Java side of the ABI from that BTF.
 */
struct {
	struct baton_task_event task_event;
	enum baton_consts consts;
	enum baton_event_kind event_kind;
	enum baton_stat stat;
	enum baton_run_delay_consts run_delay_consts;
} baton_abi_anchor SEC(".bss");

static void stat_inc(u32 idx)
{
	u64 *cnt = bpf_map_lookup_elem(&stats, &idx);

	if (cnt)
		(*cnt)++;
}

static void emit_task_event(struct task_struct *p, u32 kind)
{
	struct baton_task_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(BATON_STAT_EVENTS_DROPPED);
		return;
	}
	e->kind = kind;
	e->pid = p ? BPF_CORE_READ(p, pid) : 0;
	e->tgid = p ? BPF_CORE_READ(p, tgid) : 0;
	e->_pad = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->start_ns = p ? BPF_CORE_READ(p, start_time) : 0;
	e->cgroup_id = p ? BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id) : 0;
	if (p)
		BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	else
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/*
 * ---- Run-delay histogram ------------------------------------------------------------------
 * ops.runnable stamps the task; ops.running counts now - stamp into its class's log2 bucket.
 * Per-CPU rows, so no atomics on the hot path; a task that runs without a stamp (it was
 * already runnable when the scheduler attached) is not counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} runnable_at SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BATON_RUN_DELAY_CLASSES);
	__type(key, u32);
	__type(value, struct baton_run_delay_hist);
} run_delay SEC(".maps");

static void run_delay_runnable(struct task_struct *p)
{
	u64 *at = bpf_task_storage_get(&runnable_at, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (at)
		*at = bpf_ktime_get_ns();
}

static void run_delay_running(struct task_struct *p, u32 cls)
{
	u64 *at = bpf_task_storage_get(&runnable_at, p, 0, 0);
	struct baton_run_delay_hist *h;
	u64 delay;
	u32 b;

	if (!at || !*at)
		return;
	delay = bpf_ktime_get_ns() - *at;
	*at = 0; /* a slice that ends without sleeping is not a new wait */
	h = bpf_map_lookup_elem(&run_delay, &cls);
	if (!h)
		return;
	b = delay ? 63 - __builtin_clzll(delay) : 0;
	if (b >= BATON_RUN_DELAY_BUCKETS)
		b = BATON_RUN_DELAY_BUCKETS - 1;
	h->count[b]++;
	h->sum_ns += delay;
}
/* ---- end of the run-delay histogram ------------------------------------------------------ */

s32 BPF_STRUCT_OPS(baton_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle)
		baton_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	return cpu;
}

void BPF_STRUCT_OPS(baton_enqueue, struct task_struct *p, u64 enq_flags)
{
	baton_dsq_insert(p, BATON_DSQ_SHARED, slice_ns, enq_flags);
}

void BPF_STRUCT_OPS(baton_dispatch, s32 cpu, struct task_struct *prev)
{
#ifdef BATON_TEST_FAULTS
	/*
	 * ---- Test-only fault (bpf/test/baton_fault.bpf.c; absent from baton.bpf.o) ----
	 * Never serve the queue: runnable tasks wait until the kernel's watchdog ejects the
	 * scheduler, which is what the fault test wants to see survived.
	 */
	return;
#endif
	baton_dsq_move_to_local(BATON_DSQ_SHARED);
}

void BPF_STRUCT_OPS(baton_runnable, struct task_struct *p, u64 enq_flags)
{
	run_delay_runnable(p);
}

void BPF_STRUCT_OPS(baton_running, struct task_struct *p)
{
	run_delay_running(p, 0); /* one class until the class DSQs land */
}

s32 BPF_STRUCT_OPS(baton_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	emit_task_event(p, BATON_EV_TASK_INIT);
	return 0;
}

void BPF_STRUCT_OPS(baton_exit_task, struct task_struct *p, struct scx_exit_task_args *args)
{
	emit_task_event(p, BATON_EV_TASK_EXIT);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(baton_init)
{
	return scx_bpf_create_dsq(BATON_DSQ_SHARED, -1);
}

void BPF_STRUCT_OPS(baton_exit, struct scx_exit_info *ei)
{
	u32 zero = 0;
	struct baton_exit_info *out = bpf_map_lookup_elem(&exit_info, &zero);

	if (out) {
		out->exit_cpu = BPF_CORE_READ(ei, exit_cpu);
		out->exit_code = BPF_CORE_READ(ei, exit_code);
		bpf_probe_read_kernel_str(out->reason, sizeof(out->reason), BPF_CORE_READ(ei, reason));
		bpf_probe_read_kernel_str(out->msg, sizeof(out->msg), BPF_CORE_READ(ei, msg));
		/*
		 * The agent reads this map after the SCHED_EXIT event below, whose commit orders
		 * these writes before it, or after detaching, when ops.exit has returned.
		 */
		out->kind = BPF_CORE_READ(ei, kind);
	}
	emit_task_event(NULL, BATON_EV_SCHED_EXIT);
}

SEC(".struct_ops.link")
struct sched_ext_ops baton_ops = {
	.select_cpu = (void *)baton_select_cpu,
	.enqueue = (void *)baton_enqueue,
	.dispatch = (void *)baton_dispatch,
	.runnable = (void *)baton_runnable,
	.running = (void *)baton_running,
	.init_task = (void *)baton_init_task,
	.exit_task = (void *)baton_exit_task,
	.init = (void *)baton_init,
	.exit = (void *)baton_exit,
	.name = "baton",
};
