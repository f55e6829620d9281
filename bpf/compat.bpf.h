/*
 * The kfuncs Baton calls, declared here rather than taken from vmlinux.h so that one object loads
 * on every sched_ext kernel (6.12+): names that changed are declared weak and chosen at load time
 * with bpf_ksym_exists(), which the verifier folds to a constant, newest first.
 *
 * libbpf strips a trailing ___suffix from an extern's name before looking it up (it marks a CO-RE
 * flavour), so a kernel function whose own name ends in ___v2 is declared with one more suffix.
 */
#ifndef BATON_COMPAT_BPF_H
#define BATON_COMPAT_BPF_H

#include <bpf/bpf_core_read.h>

s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
void scx_bpf_destroy_dsq(u64 dsq_id) __ksym;
s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags, bool *is_idle) __ksym;
bool scx_bpf_test_and_clear_cpu_idle(s32 cpu) __ksym;
void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
u32 scx_bpf_nr_cpu_ids(void) __ksym;
const struct cpumask *scx_bpf_get_online_cpumask(void) __ksym;
void scx_bpf_put_cpumask(const struct cpumask *cpumask) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;
u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;
u32 bpf_cpumask_first(const struct cpumask *cpumask) __ksym;
struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
int bpf_iter_scx_dsq_new(struct bpf_iter_scx_dsq *it, u64 dsq_id, u64 flags) __ksym;
struct task_struct *bpf_iter_scx_dsq_next(struct bpf_iter_scx_dsq *it) __ksym;
void bpf_iter_scx_dsq_destroy(struct bpf_iter_scx_dsq *it) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

/* 6.13 renamed dispatch -> dsq_insert; 6.19 made it return bool (___v2). */
bool scx_bpf_dsq_insert___v2___baton(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;

/* The vtime variant: renamed in 6.13; 6.19 passes its arguments in a struct. */
bool __scx_bpf_dsq_insert_vtime(struct task_struct *p, struct scx_bpf_dsq_insert_vtime_args *args) __ksym __weak;
void scx_bpf_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags) __ksym __weak;

/* consume -> dsq_move_to_local in 6.13; 7.1 added enq_flags (___v2). */
bool scx_bpf_dsq_move_to_local___v2___baton(u64 dsq_id, u64 enq_flags) __ksym __weak;
bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym __weak;
bool scx_bpf_consume(u64 dsq_id) __ksym __weak;

/* 6.13 (was scx_bpf_dispatch_from_dsq_vtime); only kernels that pass cpu.max (6.17+) need it. */
bool scx_bpf_dsq_move_vtime(struct bpf_iter_scx_dsq *it__iter, struct task_struct *p, u64 dsq_id,
			    u64 enq_flags) __ksym __weak;
/* The iterator of the enclosing bpf_for_each() (bpf_helpers.h names it ___it), for the move kfuncs. */
#define BPF_FOR_EACH_ITER (&___it)

/* 6.19 (sub-schedulers) added a kfunc for what was a plain store to p->scx.slice. */
bool scx_bpf_task_set_slice(struct task_struct *p, u64 slice) __ksym __weak;

static __always_inline void baton_task_set_slice(struct task_struct *p, u64 slice)
{
	if (bpf_ksym_exists(scx_bpf_task_set_slice))
		scx_bpf_task_set_slice(p, slice);
	else
		p->scx.slice = slice;
}

/*
 * 7.1: a task put on a local queue with SCX_ENQ_IMMED must run there at once; one that cannot, or
 * that a higher scheduling class preempts while it runs, comes back to ops.enqueue with
 * SCX_ENQ_REENQ instead of waiting at the head of that queue. 0 (no such promise) before.
 */
static __always_inline u64 baton_enq_immed(void)
{
	if (bpf_core_enum_value_exists(enum scx_enq_flags, SCX_ENQ_IMMED))
		return bpf_core_enum_value(enum scx_enq_flags, SCX_ENQ_IMMED);
	return 0;
}

/* A CPU of the mask that was idle, claimed (no longer idle), or negative. */
s32 scx_bpf_pick_idle_cpu(const struct cpumask *cpus_allowed, u64 flags) __ksym;

/* Lines of the kernel's debug dump, which it writes when it ejects the scheduler. */
void scx_bpf_dump_bstr(char *fmt, unsigned long long *data, u32 data__sz) __ksym __weak;

#define baton_dump_line(fmt, args...)							\
({											\
	static char ___fmt[] = fmt;							\
	unsigned long long ___param[___bpf_narg(args)];					\
											\
	___bpf_fill(___param, args);							\
	if (bpf_ksym_exists(scx_bpf_dump_bstr))						\
		scx_bpf_dump_bstr(___fmt, ___param, sizeof(___param));			\
})

/* 6.14: the rq clock, cheaper than a clocksource read; any monotonic clock orders deadlines. */
u64 scx_bpf_now(void) __ksym __weak;

static __always_inline void baton_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert___v2___baton))
		scx_bpf_dsq_insert___v2___baton(p, dsq_id, slice, enq_flags);
	else if (bpf_ksym_exists(scx_bpf_dsq_insert))
		scx_bpf_dsq_insert(p, dsq_id, slice, enq_flags);
	else
		scx_bpf_dispatch(p, dsq_id, slice, enq_flags);
}

static __always_inline void baton_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime,
						   u64 enq_flags)
{
	if (bpf_ksym_exists(__scx_bpf_dsq_insert_vtime)) {
		struct scx_bpf_dsq_insert_vtime_args args = {
			.dsq_id = dsq_id, .slice = slice, .vtime = vtime, .enq_flags = enq_flags,
		};
		__scx_bpf_dsq_insert_vtime(p, &args);
	} else if (bpf_ksym_exists(scx_bpf_dsq_insert_vtime)) {
		scx_bpf_dsq_insert_vtime(p, dsq_id, slice, vtime, enq_flags);
	} else {
		scx_bpf_dispatch_vtime(p, dsq_id, slice, vtime, enq_flags);
	}
}

static __always_inline bool baton_dsq_move_to_local(u64 dsq_id)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local___v2___baton))
		return scx_bpf_dsq_move_to_local___v2___baton(dsq_id, baton_enq_immed());
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local))
		return scx_bpf_dsq_move_to_local(dsq_id);
	return scx_bpf_consume(dsq_id);
}

static __always_inline u64 baton_now(void)
{
	return bpf_ksym_exists(scx_bpf_now) ? scx_bpf_now() : bpf_ktime_get_ns();
}

#define BPF_STRUCT_OPS(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

#endif /* BATON_COMPAT_BPF_H */
