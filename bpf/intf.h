/*
 * Shared between baton.bpf.c and the Java agent: the one definition of what crosses between the
 * kernel and user space. Java never retypes it: native/ generates its layouts from the BTF that
 * clang writes into baton.bpf.o, and a test compiles this header with the host's C compiler and
 * compares every offset with the generated ones.
 *
 * Rules: fixed-width fields only, explicit padding, sizes pinned by _Static_assert, every field
 * documented. Names prefixed baton_ are exported to Java; enums become Java constants.
 */
#ifndef BATON_INTF_H
#define BATON_INTF_H

#ifndef __VMLINUX_H__
/* Host C compilers (the layout test) see the same types as the BPF side does via vmlinux.h. */
#include <stdint.h>
typedef uint8_t u8;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
typedef int64_t s64;
#endif

enum baton_consts {
	BATON_COMM_LEN = 16,         /* TASK_COMM_LEN */
	BATON_EXIT_REASON_LEN = 128, /* scx_exit_info.reason, truncated */
	BATON_EXIT_MSG_LEN = 1024,   /* scx_exit_info.msg, truncated */
	BATON_DSQ_SHARED = 0,        /* the one user DSQ of the walking skeleton */
};

/* What a baton_task_event reports. */
enum baton_event_kind {
	BATON_EV_TASK_INIT = 1,   /* a task joined the scheduler (existing at attach, or forked) */
	BATON_EV_TASK_EXIT = 2,   /* a task left the scheduler (exited, or the scheduler detached) */
	BATON_EV_SCHED_EXIT = 3,  /* the scheduler is exiting; read exit_info (wakes the consumer) */
};

/* Per-CPU counters (stats map index); the agent sums over CPUs when it reads them. */
enum baton_stat {
	BATON_STAT_EVENTS_DROPPED = 0, /* events lost because the ring buffer was full */
	BATON_NR_STATS,
};

/*
 * Run delay: how long a task waits between becoming runnable and running, as a histogram per
 * scheduling class built in BPF. Bucket b counts delays in [2^b, 2^(b+1)) ns (bucket 0 also
 * holds 0 ns), the last bucket everything from 2^(BUCKETS-1) ns (about 2 s) up.
 */
enum baton_run_delay_consts {
	BATON_RUN_DELAY_BUCKETS = 32,
	BATON_RUN_DELAY_CLASSES = 8, /* rows of the run_delay map: room for every class */
};

/* Value of the per-CPU run_delay map, keyed by class; the agent sums the CPUs when scraped. */
struct baton_run_delay_hist {
	u64 count[BATON_RUN_DELAY_BUCKETS]; /* delays per log2 bucket */
	u64 sum_ns;                         /* sum of all delays counted, ns */
};
_Static_assert(sizeof(struct baton_run_delay_hist) == 8 * (BATON_RUN_DELAY_BUCKETS + 1),
	       "baton_run_delay_hist is part of the ABI");

/* One ring-buffer record. */
struct baton_task_event {
	u32 kind;                  /* enum baton_event_kind */
	u32 pid;                   /* the task's kernel pid (a thread id to user space) */
	u32 tgid;                  /* the task's thread group id (its process id) */
	u32 _pad;                  /* keeps the u64s 8-byte aligned; always 0 */
	u64 ts_ns;                 /* CLOCK_MONOTONIC ns when the event was emitted */
	u64 start_ns;              /* task start time (CLOCK_MONOTONIC ns): pid + start is unique */
	u64 cgroup_id;             /* id of the task's cgroup (v2), 0 if unknown */
	char comm[BATON_COMM_LEN]; /* the task's name, NUL-padded */
};
_Static_assert(sizeof(struct baton_task_event) == 56, "baton_task_event is part of the ABI");

/* Why the scheduler stopped, copied from scx_exit_info in ops.exit for the agent to report. */
struct baton_exit_info {
	s32 kind;                              /* enum scx_exit_kind; 0 while running */
	s32 exit_cpu;                          /* CPU that triggered the exit, -1 if none */
	s64 exit_code;                         /* the code passed to scx_bpf_exit(), else 0 */
	char reason[BATON_EXIT_REASON_LEN];    /* the kernel's one-line reason, NUL-terminated */
	char msg[BATON_EXIT_MSG_LEN];          /* the detailed message, NUL-terminated */
};
_Static_assert(sizeof(struct baton_exit_info) == 16 + 128 + 1024, "baton_exit_info is part of the ABI");

#endif /* BATON_INTF_H */
