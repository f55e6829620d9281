/*
 * For the native pinning tests: a data section (.bss) and a named map, both changed by one
 * syscall program, so a test can pin them, reopen the pins and see the program's writes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

u64 runs;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} last SEC(".maps");

SEC("syscall")
int bump(void *ctx)
{
	u32 zero = 0;
	u64 *v = bpf_map_lookup_elem(&last, &zero);

	runs++;
	if (v)
		*v = runs * 10;
	return 0;
}
