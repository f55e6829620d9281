/*
 * The maps of a scheduler built with an older bpf/intf.h, as an upgrade's handover may find one
 * pinned: the live state before announce_gen (56 bytes) and one counter fewer. Never loaded; the
 * agent's host tests read its map sizes to check that an adopting agent refuses it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "intf.h"

char _license[] SEC("license") = "GPL";

struct older_live {
	u64 heartbeat_ns;
	u64 hint_gen;
	u64 slice_ns[BATON_NR_CLASSES];
};

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BATON_NR_STATS - 1);
	__type(key, u32);
	__type(value, u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct baton_exit_info);
} exit_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BATON_RUN_DELAY_CLASSES);
	__type(key, u32);
	__type(value, struct baton_run_delay_hist);
} run_delay SEC(".maps");

struct older_live live SEC(".data.live") = {
	.hint_gen = 1,
};

SEC("syscall")
int touch(void *ctx)
{
	return live.hint_gen == 0;
}
