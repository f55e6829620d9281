/*
 * Test object for the ways user space writes into maps besides bpf_map_update_elem (native/
 * tests): batched updates of a hash map, an mmapped array, and a program attached by its section
 * name. The syscall programs report what the BPF side sees, so the tests check the kernel's view
 * of a write rather than reading it back through the same path.
 *
 * Contexts are arrays of u64 (test_run copies them in and back out): a test can build one without
 * a struct layout, and each program documents its slots.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "syscall_count.h"

char _license[] SEC("license") = "GPL";

struct pair {
	u64 a;
	u64 b;
};

/* 12 bytes: the kernel strides an array's values at 16, which an mmapped view must follow. */
struct triple {
	u32 a;
	u32 b;
	u32 c;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, struct pair);
} kv SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 300); /* more than a page of values, not a whole number of pages */
	__type(key, u32);
	__type(value, struct triple);
} shared SEC(".maps");

/* The same shape without BPF_F_MMAPABLE: the kernel refuses to mmap it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, struct triple);
} private_array SEC(".maps");

/* ctx: [0] in: key; [1] out: 1 if present; [2], [3] out: its value's a and b. */
SEC("syscall")
int read_kv(u64 *ctx)
{
	u32 key = ctx[0];
	struct pair *v = bpf_map_lookup_elem(&kv, &key);

	ctx[1] = v != NULL;
	ctx[2] = v ? v->a : 0;
	ctx[3] = v ? v->b : 0;
	return 0;
}

/* ctx: [0] in: index; [1], [2], [3] out: a, b, c of shared[index]. Returns -1 out of range. */
SEC("syscall")
int read_shared(u64 *ctx)
{
	u32 index = ctx[0];
	struct triple *v = bpf_map_lookup_elem(&shared, &index);

	if (!v)
		return -1;
	ctx[1] = v->a;
	ctx[2] = v->b;
	ctx[3] = v->c;
	return 0;
}

/* ctx: [0] in: index; [1], [2], [3] in: a, b, c to store in shared[index]. */
SEC("syscall")
int write_shared(u64 *ctx)
{
	u32 index = ctx[0];
	struct triple *v = bpf_map_lookup_elem(&shared, &index);

	if (!v)
		return -1;
	v->a = ctx[1];
	v->b = ctx[2];
	v->c = ctx[3];
	return 0;
}
