/*
 * Counts the syscalls of one thread, so a host test or benchmark can charge a code path with the
 * syscalls it really makes: the thread runs track_caller (BPF_PROG_TEST_RUN), then reads
 * syscalls[0] through the mmapped map, which costs no syscall. Included by the test objects that
 * need it; needs vmlinux.h and bpf_helpers.h first.
 */
#pragma once

/* [0]: syscalls entered by the thread that last ran track_caller; mmapped, so reading is free. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} syscalls SEC(".maps");

u64 tracked_pid_tgid;

/* Makes the calling thread the one count_syscalls counts for (ctx unused). */
SEC("syscall")
int track_caller(void *ctx)
{
	tracked_pid_tgid = bpf_get_current_pid_tgid();
	return 0;
}

SEC("raw_tp/sys_enter")
int count_syscalls(void *ctx)
{
	u32 zero = 0;
	u64 *n;

	if (!tracked_pid_tgid || bpf_get_current_pid_tgid() != tracked_pid_tgid)
		return 0;
	n = bpf_map_lookup_elem(&syscalls, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
