/*
 * A stand-in for someone else's sched_ext scheduler, for the test that Baton refuses to replace
 * one: every task goes to the global FIFO. Registered with `bpftool struct_ops register OBJ DIR`,
 * which pins its link so that it stays enabled after bpftool exits; removing the pin detaches it.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "compat.bpf.h"

char _license[] SEC("license") = "GPL";

void BPF_STRUCT_OPS(other_enqueue, struct task_struct *p, u64 enq_flags)
{
	baton_dsq_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

SEC(".struct_ops.link")
struct sched_ext_ops other_ops = {
	.enqueue = (void *)other_enqueue,
	.name = "other_sched",
};
