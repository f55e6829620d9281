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
	BATON_EXIT_DUMP_LEN = 16384, /* scx_exit_info.dump (the kernel's debug dump), truncated */
	BATON_WEIGHT_MIN = 1,        /* hint weights, on the kernel's scale: 100 is nice 0 ... */
	BATON_WEIGHT_DEFAULT = 100,
	BATON_WEIGHT_MAX = 10000,    /* ... and 10000 the most (nice -20 is 8876) */
	BATON_MAX_TASK_HINTS = 16384,   /* entries of the task_hints map */
	BATON_MAX_CGROUP_HINTS = 1024,  /* entries of the cgroup_hints map */
	BATON_MAX_CPU_MAX_CGROUPS = 4096, /* cgroups with a cpu.max limit Baton enforces */
	BATON_GUARD_PINNED_WAIT = 4,    /* x starve_ns: the guard's bound for a class only a CPU serves */
};

/*
 * Scheduling classes, in the order the BPF side serves them; each has its own DSQ, whose id is
 * the class value. A task without a hint is NORMAL, or INTERACTIVE if it is a kernel thread.
 */
enum baton_class {
	BATON_CLASS_LIVE = 0,        /* earliest deadline first; preempts the other classes on wakeup */
	BATON_CLASS_INTERACTIVE = 1, /* weighted fair, before NORMAL */
	BATON_CLASS_NORMAL = 2,      /* weighted fair; every user task without a hint */
	BATON_CLASS_BATCH = 3,       /* weighted fair, after NORMAL */
	BATON_CLASS_IDLE = 4,        /* only what the others leave, and the starvation guard's share */
	BATON_NR_CLASSES = 5,
};

/* What a baton_task_event reports. */
enum baton_event_kind {
	BATON_EV_TASK_INIT = 1,   /* a task joined the scheduler (existing at attach, or forked), */
	                          /* sent when first enabled: its start_ns is its own by then */
	BATON_EV_TASK_EXIT = 2,   /* a task left the scheduler (exited, or the scheduler detached) */
	BATON_EV_SCHED_EXIT = 3,  /* the scheduler is exiting; read exit_info (wakes the consumer) */
	BATON_EV_TASK_SAMPLE = 4, /* a struct baton_task_sample: what a task did lately */
};

/* Per-CPU counters (stats map index); the agent sums over CPUs when it reads them. */
enum baton_stat {
	BATON_STAT_EVENTS_DROPPED = 0,  /* events lost because the ring buffer was full */
	BATON_STAT_ENQUEUES = 1,        /* ops.enqueue calls: tasks queued in a class DSQ or onto a preempted CPU */
	BATON_STAT_DIRECT = 2,          /* tasks sent straight to an idle CPU by select_cpu */
	BATON_STAT_DISPATCH_LIVE = 3,   /* tasks given a CPU, per class in enum baton_class order: from
	                                   its DSQ, or (LIVE) onto the CPU they preempt */
	BATON_STAT_DISPATCH_INTERACTIVE = 4,
	BATON_STAT_DISPATCH_NORMAL = 5,
	BATON_STAT_DISPATCH_BATCH = 6,
	BATON_STAT_DISPATCH_IDLE = 7,
	BATON_STAT_GUARD = 8,           /* dispatches the starvation guard forced ahead of a higher class */
	BATON_STAT_KICKS = 9,           /* CPUs preempted for a waking LIVE task */
	BATON_STAT_STALE_ENQUEUES = 10, /* enqueues that ignored hints because the heartbeat was stale */
	BATON_STAT_STALE_PERIODS = 11,  /* times the heartbeat went stale */
	BATON_STAT_STALE_NS = 12,       /* time spent with a stale heartbeat, ns (to the last timer tick) */
	BATON_STAT_HINT_LOOKUPS = 13,   /* hint resolutions: a task's first, or after a hint change */
	BATON_STAT_HINTS_INVALID = 14,  /* hints ignored as malformed (bad class or weight, LIVE without deadline) */
	BATON_STAT_AGENT_DEATHS = 15,   /* agents that died with the heartbeat fresh: hints kept for exit_grace_ns */
	BATON_STAT_LIVE_OVERRUNS = 16,  /* LIVE tasks that ran a whole relative deadline without sleeping,
	                                   and went after the LIVE tasks on time until they slept */
	BATON_STAT_CPU_MAX_THROTTLES = 17, /* tasks held back until a cgroup of theirs that had used its
	                                      cpu.max quota got more */
	BATON_STAT_WAKE_PREEMPTS = 18,  /* CPUs preempted for a waking task of a class below LIVE */
	BATON_STAT_REENQUEUES = 19,     /* tasks handed back from a local queue (7.1+): preempted by a
	                                   higher scheduling class, or not runnable there at once */
	BATON_NR_STATS,
};
_Static_assert(BATON_STAT_DISPATCH_IDLE - BATON_STAT_DISPATCH_LIVE == BATON_CLASS_IDLE - BATON_CLASS_LIVE,
	       "one dispatch counter per class, in class order");

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

/*
 * What one task did since its previous sample: at most one per task per sample_ns, emitted when it
 * stops running, so a task that does not run sends none. Same ring buffer, same kind field first.
 */
struct baton_task_sample {
	u32 kind;     /* BATON_EV_TASK_SAMPLE */
	u32 pid;      /* the task's kernel pid */
	u32 tgid;     /* its process id */
	u32 wakeups;  /* times it woke up */
	u64 ts_ns;    /* CLOCK_MONOTONIC ns when the sample was emitted */
	u64 cpu_ns;   /* CPU time it received */
	u64 wait_ns;  /* time it was runnable but waiting for a CPU */
};
_Static_assert(sizeof(struct baton_task_sample) == 40, "baton_task_sample is part of the ABI");

/* Why the scheduler stopped, copied from scx_exit_info in ops.exit for the agent to report. */
struct baton_exit_info {
	s32 kind;                              /* enum scx_exit_kind; 0 while running */
	s32 exit_cpu;                          /* CPU that triggered the exit, -1 if none */
	s64 exit_code;                         /* the code passed to scx_bpf_exit(), else 0 */
	char reason[BATON_EXIT_REASON_LEN];    /* the kernel's one-line reason, NUL-terminated */
	char msg[BATON_EXIT_MSG_LEN];          /* the detailed message, NUL-terminated */
	char dump[BATON_EXIT_DUMP_LEN];        /* the kernel's state dump on an error exit (with each
						  runnable task's Baton state), NUL-terminated */
};
_Static_assert(sizeof(struct baton_exit_info) == 16 + 128 + 1024 + 16384, "baton_exit_info is part of the ABI");

/*
 * Key of the task_hints map. The start time makes it unique for the life of the machine, so a
 * process that is given a dead task's pid never matches that task's hint. A key naming a process
 * (its pid and its leader's start) applies to all its threads; one naming a thread, to that
 * thread only, and wins over its process's.
 */
struct baton_task_key {
	u32 pid;      /* a thread id, or a process id (= its leader's thread id) */
	u32 _pad;     /* always 0 */
	u64 start_ns; /* that task's start time, as baton_task_event.start_ns reports it */
};
_Static_assert(sizeof(struct baton_task_key) == 16, "baton_task_key is part of the ABI");

/*
 * Who wrote a hint (baton_hint.origin). The BPF side ignores it. The hints outlive an agent in the
 * pinned maps, and an agent that adopts the scheduler keeps an operator's but drops those of its
 * predecessor's policy that its own policy does not repeat (its rules or jobs may have changed).
 */
enum baton_hint_origin {
	BATON_HINT_POLICY = 0,   /* the agent's policy */
	BATON_HINT_OPERATOR = 1, /* the control API: /v1/hints, baton hint */
};

/*
 * Value of the task_hints map and of the cgroup_hints map (keyed by the u64 cgroup id). Advice:
 * the BPF side ignores a malformed hint (counted in BATON_STAT_HINTS_INVALID) and every hint while
 * the agent's heartbeat is stale. A zero field means "the default".
 */
struct baton_hint {
	u32 sched_class; /* enum baton_class */
	u32 weight;      /* BATON_WEIGHT_MIN..MAX, 100 = nice 0; 0: the task's own weight (its nice) */
	u32 slice_us;    /* time slice; 0: the class's default (baton_live.slice_ns) */
	u32 deadline_us; /* LIVE: deadline relative to each wakeup; required for LIVE, else ignored */
	u32 origin;      /* enum baton_hint_origin; for the agents only */
};
_Static_assert(sizeof(struct baton_hint) == 20, "baton_hint is part of the ABI");

/*
 * What the agent changes while the scheduler runs, and the one thing it reads there: the variable
 * `live`, alone in section .data.live, which libbpf maps into the agent's memory; plain aligned
 * loads and stores, no system call.
 */
struct baton_live {
	u64 abi_fingerprint;             /* set by the agent that loaded this scheduler: its build's */
	                                 /* dev.baton.bpf.Abi fingerprint of this file's types; an */
	                                 /* adopting agent with another detaches it. Stays first, so */
	                                 /* that every build reads it at the same place */
	u64 heartbeat_ns;                /* the agent's CLOCK_MONOTONIC time at its last heartbeat; 0: none */
	u64 hint_gen;                    /* bumped after each change to a hint map or to slice_ns */
	u64 slice_ns[BATON_NR_CLASSES];  /* default time slice per class (clamped to 50 us .. 1 s) */
	u64 announce_gen;                /* bumped by an adopting agent: every task announces itself */
	                                 /* again (BATON_EV_TASK_INIT) when it next runs */
	u64 nr_cpus;                     /* written by BPF: the CPUs it schedules, counted at attach */
	                                 /* and kept at each CPU hotplug; the agent plans for them */
	u64 exit_grace_ns;               /* how long the hints outlive the agent below if it dies */
	                                 /* without detaching (handover_grace_ms); 0: not at all */
	u64 stale_ns;                    /* heartbeat age after which every hint is ignored */
	u64 starve_ns;                   /* a class below LIVE served nowhere this long gets a CPU */
	                                 /* for starve_ns / 10; 0: off */
	u64 sample_ns;                   /* a task's runtime samples are at least this far apart */
	u32 agent_pid;                   /* the process (host pid namespace) writing the heartbeat; */
	                                 /* 0: none, or it left by handover */
	u32 cpu_max;                     /* written by BPF at attach: 1 if the kernel tells the */
	                                 /* scheduler each cgroup's cpu.max (6.17+), which Baton then */
	                                 /* enforces; 0: no scheduler can enforce it on this kernel */
};
_Static_assert(sizeof(struct baton_live) == 120, "baton_live is part of the ABI");

/*
 * Argument of the baton_query_task program (run with BPF_PROG_TEST_RUN): what the kernel knows of
 * one task, so the agent can build an exact task_hints key from a pid it was given.
 */
struct baton_task_query {
	u32 pid;                   /* in: a thread id or process id */
	u32 tgid;                  /* out: its process id */
	u64 start_ns;              /* out: its start time */
	u64 leader_start_ns;       /* out: its process leader's start time (= start_ns for a leader) */
	u64 cgroup_id;             /* out: its cgroup (v2) id */
	u32 sched_class;           /* out: the class it was last scheduled in (enum baton_class) */
	u32 weight;                /* out: the weight its virtual time advances with */
	char comm[BATON_COMM_LEN]; /* out: its name */
};
_Static_assert(sizeof(struct baton_task_query) == 56, "baton_task_query is part of the ABI");

#endif /* BATON_INTF_H */
