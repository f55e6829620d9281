/*
 * Baton's BPF scheduler: the hot path. Mechanism only; the agent's policies decide through hints,
 * and nothing here waits for the agent or trusts it.
 *
 * Classes. Five DSQs, one per enum baton_class, served in strict order: LIVE, INTERACTIVE,
 * NORMAL, BATCH, IDLE. A task takes its class, weight, slice and relative deadline from its own
 * hint (task_hints, keyed by thread or process plus start time, so a recycled pid never inherits
 * a hint), else from its cgroup's (cgroup_hints), else it is NORMAL with its own (nice) weight;
 * a kernel thread is INTERACTIVE instead, with its own weight, hints stale or not. Kernel threads
 * hold locks that user tasks wait for: measured in the farm, khugepaged (nice 19, weight 1)
 * was preempted while collapsing pages of the agent's heap with its mmap_lock held, and as a
 * NORMAL task behind a dozen hogs it waited 2-3 s to run again while every agent thread that
 * touched memory waited for it; the heartbeat went stale. Kernel threads mostly run briefly; one
 * that runs long (kswapd under pressure, a crypto worker) takes CPU from NORMAL work as an
 * INTERACTIVE task would, up to the starvation guard's bound, and a hint can put it back.
 *
 * LIVE is earliest-deadline-first: on each wakeup a LIVE task's deadline becomes now + its
 * relative deadline, and the LIVE DSQ is ordered by deadline. A LIVE task that has run for a whole
 * relative deadline since its deadline was set is past that deadline (it cannot have done more CPU
 * work than the wall time it had): it is overrunning, and until it next sleeps its deadline is
 * now + its relative deadline + OVERRUN_DELAY_NS, set again each time it runs another relative
 * deadline: it goes after the frames of every on-time LIVE task that wakes meanwhile (at 10 fps
 * or more), and a waking LIVE task preempts it first. EDF's promise holds only for work that fits
 * its deadlines; a task that has missed its own for certain gains nothing from going first, while
 * every on-time task it goes before may miss too (SCHED_DEADLINE throttles such a task until its
 * next period; here it still goes before every lower class). The delay is bounded: put after
 * every on-time deadline, a task runs only when on-time LIVE work pauses, and work that never
 * pauses would starve it into a watchdog ejection (three tasks sleeping 1 ms between 5 ms bursts
 * on one CPU left it 118 ms of CPU in 3 s, their pauses; with the delay it waits about the delay
 * and its relative deadline, then runs a slice: 507 ms). A deadline
 * from now without the delay left EDF overloaded: two LIVE hogs kept a 25 ms frame loop
 * waiting 75-85 ms for their new deadlines, and two ffmpeg processes starting up as LIVE jobs
 * made 60 fps encoders miss ~0.8% of their frames. Moving the deadline back by one relative
 * deadline from where it was is worse: a task that shares a CPU runs less than the wall time
 * that passes, so its deadline fell behind the clock, and a deadline in the past beats every
 * waking task (60 fps encoders waited up to 0.38 s; the frame loop up to 3.3 s). The run a task
 * is in counts too (overrunning()): the kernel keeps a task running past its slice without
 * ops.stopping when dispatch finds nothing to go first; and while LIVE tasks wait, a task that
 * overruns mid-slice is stopped at the next tick (baton_tick()). The slice does not count here: it only
 * says how often the order is looked at again, and a task whose frames are longer than its slice
 * is not overrunning. The other classes are weighted virtual time: a task's vtime
 * advances by runtime * 100 / weight, and a waking task is placed no more than one slice of its
 * own CPU time behind its class's clock, so sleeping banks at most one slice of credit (a task
 * whose slice ran out keeps its vtime: flooring it then would reorder tasks pinned to a busy CPU
 * by the inverse of their weights). The clock follows the tasks dispatched from the class's DSQ
 * (not those sent straight to an idle CPU); tasks that may run on one CPU only are bounded by that
 * CPU's clock instead. No task may lead its clock by more than VTIME_MAX_LEAD slices nor lag it by
 * more than VTIME_MAX_LAG, and weights above VTIME_WEIGHT_MAX count as that. The watchdog needs
 * every task to run within timeout_ms: unbounded, a nice-19 kernel thread charged 100x its runtime
 * waited seconds behind hogs, and once it ran, the clock it moved on left the hogs lagging so far
 * behind that every waking task waited seconds for them; both got Baton ejected. The bound this
 * buys: a waking task waits at most about (its class's runnable tasks per CPU) * (1 +
 * VTIME_MAX_LAG) slices, a task that used its slice up to (VTIME_MAX_LAG + VTIME_MAX_LEAD) times
 * that; weights are honoured down to 100 / VTIME_MAX_LEAD and up to 1000, between tasks that
 * share CPUs long enough for the bounds not to bite.
 *
 * CPU selection and preemption. select_cpu keeps the previous CPU if it is idle, else takes the
 * kernel's default idle pick, and dispatches straight to that CPU. A waking LIVE task that found
 * no idle CPU preempts the CPU whose current task is due latest (any non-LIVE task counts as later
 * than every deadline; of equally late CPUs, its own), if that is later than its own deadline.
 * When that CPU is the task's own and no LIVE task waits, the task goes straight onto the CPU's
 * local queue with SCX_ENQ_PREEMPT: the CPU switches to it without calling ops.dispatch, the
 * costliest callback, and nothing migrates (measured in the hard farm scenario: live tasks waited
 * 16-22% less from wakeup to running). Not while a LIVE task put there (so, or by select_cpu)
 * has not run yet: a task in a local queue is out of sight of dispatch and of the tick, and one
 * put at the head ahead of it kept it waiting its whole run (a frame due in 25 ms and an 80 ms
 * burst due in 10 ms woken by the same timer interrupt: the frame waited out the burst, in half
 * of SchedulerIT's 5 s mid-run rounds on 7.2). Otherwise it joins the LIVE DSQ and the CPU is kicked, and
 * whichever CPU dispatches first takes the earliest deadline. A task sent onto another CPU's local
 * queue is bound to it and waits for it even when another CPU frees first: tried, it gave VOD 7%
 * more throughput but missed 60 fps frames in every run of a 6-round A/B, where this missed none
 * in five (docs/DEMO.md).
 * A waking task of a vtime class that found no idle CPU looks at the one CPU it was placed on:
 * it preempts a task of a lower class there at once, and a task of its own class that is further
 * along in vtime and has run WAKE_PREEMPT_GRAN_NS since it last woke; it then takes the CPU
 * through its DSQ, in the order a dispatch keeps. Without this it waited for the running task's
 * slice to end: beside two hogs on two vCPUs, a 1 ms frame loop doing 200 us of work woke 9 ms
 * late at the median and missed 95% of its frames, as under the minimal FIFO scheduler (EEVDF:
 * 0.3 ms, 19% in that boot); with it, 0.25 ms and 10% (EEVDF: 26% in that boot). The granule
 * keeps tasks that pass messages (pipes, message queues), each running microseconds between
 * them, from taking each other off the CPU at every message: a 1 ms margin of vtime instead
 * halved stress-ng's pipe and message-queue throughput. It counts the run since the task last
 * woke, not since it got the CPU: a hog that got the CPU 800 us ago, when the frame loop slept,
 * has run for seconds (counting the time on the CPU, the frame loop missed 94% again). One CPU
 * is looked at, not all: this runs on every such wakeup (docs/DEMO.md; measured by
 * integration-tests/bench/general-workloads.sh).
 * Higher scheduling classes. An RT, deadline or stop task takes a CPU from whatever Baton runs
 * there. Before 7.1 the kernel puts the preempted task back at the head of the CPU's local queue
 * with the rest of its slice, out of dispatch's sight, and it runs first when the CPU comes back,
 * whatever woke meanwhile; so does a task sent there that had not run yet. Since 7.1, a task that
 * select_cpu or dispatch puts on a local queue goes with SCX_ENQ_IMMED (baton_enq_immed()): one
 * the CPU cannot run at once, or that a higher class preempts, comes back to ops.enqueue
 * (SCX_ENQ_REENQ), joins its DSQ in order and wakes an idle CPU it may run on (a LIVE one, if
 * none is idle, preempts as a waking one does). Not the two inserts of ops.enqueue: a waking LIVE
 * task preempting its own CPU goes first there anyway, and the CPU's last task (SCX_ENQ_LAST)
 * goes to a CPU already on its way to idle, which IMMED could bounce it from (not tried). Measured with a NORMAL frame loop (200 us every 1 ms), a SCHED_FIFO copy and
 * two hogs with 100 ms slices, all on one CPU: the loop woke 32 and 45 ms late at the median
 * instead of 146 and 69 ms (missing 76% of its deadlines, not 98%; EEVDF 85%: the emulated CPU
 * is nearly full). ops.cpu_release with scx_bpf_reenqueue_local(), the older way, handed back
 * nothing on 7.3, pinned tasks or not (since 6.15 the kfunc skips tasks that may run on one CPU
 * only; 6.19 deprecated the callback), and the loop waited longer: not used.
 * Only wakeups preempt: a kick lands on whatever the CPU runs next, so kicking on slice expiry, or
 * judging a CPU by a task it is switching away from, preempts the scheduler's own choices in a
 * loop. A preempted CPU is marked with the waking deadline at once, so the next wakeup picks
 * another CPU.
 *
 * Starvation guard. Strict class order would let a busy higher class starve a lower one into a
 * watchdog ejection. Each CPU records when it last served each class (dispatched from it, or found
 * nothing of it that it could run), and the CPUs share when each class last got a CPU anywhere.
 * A class below LIVE is overdue on a CPU when that CPU has not served it for starve_ns and no CPU
 * has either, or when that CPU has not for BATON_GUARD_PINNED_WAIT * starve_ns (its waiting tasks
 * may be ones only this CPU can run). An overdue CPU's next dispatch opens a guard window for the
 * class (the longest-waiting, if several), unless the CPU was just kicked for a LIVE task: for
 * starve_ns / 10 the CPU serves that class's tasks first, one after another, and no LIVE wakeup
 * preempts them. A window, not one dispatch: a class of tasks that run briefly (INTERACTIVE: the
 * agent's threads, kernel threads) got one task a dispatch, preempted by the next LIVE wakeup, and
 * in a live overload the agent's event loop waited runnable for seconds (its heartbeat went
 * stale, and the policy that would shed the overload could not run). A window opens at most once
 * per starve_ns per CPU, so higher classes keep at least 90% of every CPU; a class with waiting
 * tasks gets a CPU somewhere at least every (NR_CLASSES - 1) * starve_ns, and one whose tasks only
 * one CPU may run gets that CPU at least every (BATON_GUARD_PINNED_WAIT + NR_CLASSES - 2) *
 * starve_ns. Asking "served anywhere" rather than "served here" matters when LIVE keeps one CPU
 * busy: measured in the hard farm scenario, a per-CPU guard served, three times in four, a class
 * the other CPU had served within starve_ns, and a third of its dispatches took the CPU from
 * queued LIVE work.
 *
 * Hints cost one task-storage lookup per callback: the resolved hint is cached in the task's
 * storage together with the hint generation it was resolved at. The agent bumps live.hint_gen
 * after changing a hint map, and each task resolves again (at most three hash lookups) at its next
 * callback. A timer compares the agent's heartbeat with stale_ns; while it is stale, every task is
 * scheduled in its default class with its own weight, and the hints count again once it is fresh.
 * A stale heartbeat means an agent that cannot keep up, and its hints may be wrong by now. An
 * agent that died (a crash, a kill, out of memory) with its heartbeat fresh is another case: its
 * last hints were current, and the next agent, which systemd starts seconds later, adopts them.
 * So when the heartbeat goes stale the timer looks for the agent's process (live.agent_pid), and
 * if it has exited it keeps the hints for live.exit_grace_ns more, once per agent; otherwise every
 * live encoder lost its class for the length of each restart (RestartSec and a JVM's start). A
 * frozen agent's process is still there: it goes stale as before.
 *
 * cgroup cpu.max. Where the kernel passes the limits (6.17+), a task whose cgroup has spent its
 * quota for the period waits in that cgroup's DSQ instead of its class's until the period ends
 * (see "cgroup cpu.max" below): the kernel's own bandwidth control holds no sched_ext task.
 *
 * One DSQ per class shared by every CPU keeps the code small and the order global; it costs one
 * lock per class, which is fine for tens of CPUs, not for hundreds (per-LLC DSQs would fix it).
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "compat.bpf.h"
#include "intf.h"

char _license[] SEC("license") = "GPL";

#define ENOMEM 12
#define ESRCH 3
#define CLOCK_MONOTONIC 1
#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define SLICE_MIN_NS (50 * NSEC_PER_USEC)
#define SLICE_MAX_NS (1000 * NSEC_PER_MSEC)
/* How far, in slices, a task's vtime may run ahead of its class's clock. */
#define VTIME_MAX_LEAD 10
/* How far, in slices, a task's vtime may fall behind it, whatever the reason. */
#define VTIME_MAX_LAG 2
/* The largest weight vtime honours (nice -10 is 932): it bounds what heavier tasks make others wait. */
#define VTIME_WEIGHT_MAX 1000
/* A CPU running a non-LIVE task is a better victim than any deadline: IDLE best, INTERACTIVE worst. */
#define NONLIVE_KEY(cls) (~0ULL - BATON_CLASS_IDLE + (cls))
/*
 * How long a task runs without sleeping before a waking task of its class, behind it in vtime,
 * may preempt it (see the top of the file).
 */
#define WAKE_PREEMPT_GRAN_NS (1 * NSEC_PER_MSEC)
/*
 * Added to an overrunning LIVE task's deadline: longer than the frame periods of live work (10 to
 * 40 ms at 100 to 25 fps), short against the watchdog's timeout (the kernel's 30 s; 3 s in tests).
 */
#define OVERRUN_DELAY_NS (100 * NSEC_PER_MSEC)
/* cpu.max: at most this many limited cgroups count per task, found among its nearest CPU_MAX_DEPTH. */
#define CPU_MAX_LEVELS 4
#define CPU_MAX_DEPTH 16
/* A limited cgroup's DSQ, where its tasks wait while it is out of quota: this | its cgroup id. */
#define CPU_MAX_DSQ (1ULL << 61)
/* "max" in cpu.max, as the kernel passes it. */
#define CPU_MAX_UNLIMITED (~0ULL)
/* A held task's release is never due sooner: the kernel queues it only after ops.enqueue returns. */
#define CPU_MAX_HOLD_MIN_NS (1000 * 1000ULL)
/*
 * The deepest overdraft a limited cgroup carries: what its quota pays back in this many ns of
 * periods (at least one period's quota). Deeper, the watchdog (3 s in tests) could see its tasks
 * wait too long; shallower, late ticks gave it more than its limit (see "cgroup cpu.max").
 */
#define CPU_MAX_PAYBACK_NS (1000 * NSEC_PER_MSEC)
#define CPU_MAX_DEBT_MAX_NS (1ULL << 62)

/*
 * Everything the agent tunes while the scheduler runs, read where it is used: a reload writes it
 * in place. A callback that uses a value twice reads it once; the heartbeat timer's period follows
 * a new stale_ns from its next run, at most 500 ms away.
 */
struct baton_live live SEC(".data.live") = {
	.hint_gen = 1, /* tasks start at 0, so each resolves its hint once */
	.announce_gen = 1, /* likewise: each task announces itself once */
	.slice_ns = {
		[BATON_CLASS_LIVE] = 20 * NSEC_PER_MSEC,
		[BATON_CLASS_INTERACTIVE] = 20 * NSEC_PER_MSEC,
		[BATON_CLASS_NORMAL] = 20 * NSEC_PER_MSEC,
		[BATON_CLASS_BATCH] = 20 * NSEC_PER_MSEC,
		[BATON_CLASS_IDLE] = 20 * NSEC_PER_MSEC,
	},
	.stale_ns = 2000 * NSEC_PER_MSEC,
	.starve_ns = 100 * NSEC_PER_MSEC,
	.sample_ns = 100 * NSEC_PER_MSEC,
};

/* Set by the heartbeat timer; read by every callback. */
static bool hints_stale = true;
static u64 last_heartbeat_check;
/* Per class: the vtime of the task that started running last, the clock waking tasks are bounded by. */
static u64 vtime_now[BATON_NR_CLASSES];
/*
 * Per class: when it last got a CPU anywhere (the starvation guard). Racy, and written only when
 * it is starve_ns / 8 old, so that every CPU's dispatch does not dirty a line all CPUs read.
 */
static u64 served_anywhere[BATON_NR_CLASSES];
static u32 nr_cpu_ids;

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

/* No preallocation: a hint Java replaces is freed after RCU, so a reader never sees it half-written. */
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

/* Per task, private to BPF: the resolved hint and the scheduling state. */
struct task_ctx {
	u64 hint_gen;        /* live.hint_gen the hint_* fields were resolved at; 0: never */
	u64 hint_cgid;       /* the cgroup the task was in when they were resolved */
	u64 hint_slice_ns;   /* 0: the class default */
	u64 rel_deadline_ns; /* LIVE only */
	u64 vtime;           /* non-LIVE: virtual time, on its class's clock */
	u64 deadline;        /* LIVE: absolute deadline of the current activation */
	u64 ran_ns;          /* LIVE: runtime since the deadline was last set */
	bool overrun;        /* LIVE: overran since it last woke (see the top of the file) */
	u64 exec_at_run;     /* se.sum_exec_runtime when it last started running */
	u64 exec_at_wake;    /* se.sum_exec_runtime when it last woke */
	u32 hint_weight;     /* 0: the task's own */
	u32 hint_class;      /* class the hints give it */
	u32 class;           /* class it is scheduled in (NORMAL while the hints are stale) */
	bool direct;         /* sent straight to an idle CPU: its vtime does not move the clock */
	u64 announced_gen;   /* live.announce_gen its BATON_EV_TASK_INIT record went out at; 0: never */
	s32 clock_cpu;       /* the clock its vtime is on: a CPU's, or -1 for its class's */
	/* Runtime samples and the run-delay stamp (see "Runtime samples" below). */
	u64 cpu_ns;          /* since the last sample */
	u64 wait_ns;
	u64 queued_at;       /* when it last became runnable without running; 0: it is not waiting */
	u64 runnable_at;     /* when it last became runnable (not preempted); 0: counted already */
	u64 sampled_at;      /* when its last sample was sent */
	u32 wakeups;
	/* cpu.max (see "cgroup cpu.max" below). */
	u32 cm_n;                     /* how many of cm_ids are set */
	u64 cm_gen;                   /* cpu_max_gen they were found at */
	u64 cm_ids[CPU_MAX_LEVELS];   /* its limited cgroups, nearest first */
	u64 cm_charged_at;            /* se.sum_exec_runtime charged to them up to */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

/* Per CPU: what it runs, and when it last served each class (the starvation guard). */
struct cpu_ctx {
	u64 running_key;                  /* deadline of its LIVE task, or NONLIVE_KEY(class) */
	u64 guard_at;                     /* start of the last guard window */
	u64 guard_end;                    /* the guard window lasts until then ... */
	u32 guard_cls;                    /* ... and serves this class first */
	bool kicked;                      /* preempted for a LIVE wakeup: its next dispatch is LIVE's */
	bool guarded;                     /* its next task came from the guard: cap its slice */
	bool offline;                     /* gone offline: no LIVE wakeup may pick it */
	s32 live_direct;                  /* a LIVE task put on its local queue, not yet running */
	u32 running_weight;               /* of its non-LIVE task: vtime_weight() ... */
	u64 running_vtime;                /* ... its vtime when it started ... */
	u64 running_at;                   /* ... and when (baton_now()): its vtime as it runs ... */
	u64 awake_since;                  /* ... and when it would have woken, running throughout */
	u64 served_at[BATON_NR_CLASSES];  /* last time each class got this CPU or had nothing waiting */
	u64 clock[BATON_NR_CLASSES];      /* per class: vtime reached by the tasks pinned here */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct cpu_ctx);
} cpu_ctxs SEC(".maps");

struct heartbeat_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct heartbeat_timer);
} timers SEC(".maps");

/*
 * Never accessed: it only makes clang write into the object's BTF the intf.h types that no map or
 * function signature mentions, because native/ generates the Java side of the ABI from that BTF.
 */
struct {
	struct baton_task_event task_event;
	struct baton_task_sample task_sample;
	enum baton_consts consts;
	enum baton_class class;
	enum baton_hint_origin hint_origin;
	enum baton_event_kind event_kind;
	enum baton_stat stat;
	enum baton_run_delay_consts run_delay_consts;
	enum scx_exit_code exit_code; /* the kernel's: the agent reads a restart request in exit_code */
} baton_abi_anchor SEC(".bss");

static void stat_add(u32 idx, u64 n)
{
	u64 *cnt = bpf_map_lookup_elem(&stats, &idx);

	if (cnt)
		*cnt += n;
}

static void stat_inc(u32 idx)
{
	stat_add(idx, 1);
}

static struct cpu_ctx *this_cpu_ctx(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_ctxs, &zero);
}

/* Another CPU's (or this one's, by number). */
static struct cpu_ctx *cpu_ctx_of(s32 cpu)
{
	u32 zero = 0;

	return bpf_map_lookup_percpu_elem(&cpu_ctxs, &zero, cpu);
}

/*
 * A class as an index into a per-class array. Bounded on a 64-bit copy behind a compiler barrier:
 * otherwise clang may test one register and index with a re-extended other, which the verifier
 * cannot follow.
 */
static __always_inline u64 class_index(u32 cls)
{
	u64 i = cls;

	barrier_var(i);
	if (i >= BATON_NR_CLASSES)
		i = BATON_CLASS_NORMAL;
	return i;
}

static struct task_ctx *task_ctx(struct task_struct *p)
{
	return bpf_task_storage_get(&task_ctxs, p, 0, 0);
}

/*
 * The clock a task's vtime is bounded against: its class's, or, for a task that may run on one
 * CPU only, that CPU's (what the tasks pinned there had reached when dispatched). Other CPUs drive the class
 * clock, and tasks pinned to a busy CPU fall behind it: bounded against it, a waking per-CPU
 * kthread would wait for the pinned hogs to catch up, and a new pinned task never started.
 */
static u64 *clock_of(s32 cpu, u32 cls)
{
	struct cpu_ctx *c;

	if (cpu >= 0) {
		c = cpu_ctx_of(cpu);
		if (c)
			return &c->clock[class_index(cls)];
	}
	return &vtime_now[class_index(cls)];
}

/* The CPU whose clock task_clock() gives p, or -1 for its class's. */
static s32 clock_cpu(struct task_struct *p)
{
	return p->nr_cpus_allowed == 1 ? scx_bpf_task_cpu(p) : -1;
}

static u64 *task_clock(struct task_struct *p, u32 cls)
{
	return clock_of(clock_cpu(p), cls);
}

/* Plain loads (the verifier makes them fault-safe), not BPF_CORE_READ's four helper calls. */
static u64 task_cgroup_id(struct task_struct *p)
{
	return p->cgroups->dfl_cgrp->kn->id;
}

/* include/linux/sched.h; #defines, so not in the kernel's BTF. */
#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000

/* A task's class when no hint names one (see the top of the file). */
static u32 default_class(struct task_struct *p)
{
	return p->flags & PF_KTHREAD ? BATON_CLASS_INTERACTIVE : BATON_CLASS_NORMAL;
}

static u64 clamp_slice(u64 ns)
{
	return ns < SLICE_MIN_NS ? SLICE_MIN_NS : ns > SLICE_MAX_NS ? SLICE_MAX_NS : ns;
}

/*
 * ---- cgroup cpu.max -----------------------------------------------------------------------
 * While a sched_ext scheduler runs, the kernel's CFS bandwidth control holds no task, so a cgroup's
 * cpu.max (a container's CPU limit) holds only if the scheduler enforces it; kernels from 6.17
 * tell it each limit (ops.cgroup_init, ops.cgroup_set_bandwidth). Each limited cgroup has a budget
 * (cm_cgroups): quota_ns a period, plus what it left unused up to burst_ns, refilled lazily by
 * whoever looks at it first in a new period. A task charges the CPU it used to each of its limited
 * cgroups (CPU_MAX_LEVELS at most, the nearest, found once per cgroup move or limit change) when
 * it stops running and at each tick; a tick that finds a budget spent ends the task's slice. A
 * task whose cgroup is out of budget is not queued in its class but in that cgroup's DSQ, in its
 * class order, until a timer at the end of the period moves every task there back to its class
 * (the heartbeat check also looks, so that a task that reached the DSQ after its timer ran, or
 * waits in one whose limit was lifted, is let go within half a second: cm_sweep()).
 * A budget overdrawn (by a tick per CPU running the cgroup's tasks, or by as much as a tick came
 * late) is paid back from the next periods', down to what they refill in CPU_MAX_PAYBACK_NS
 * (one period's quota at least; CFS carries all of it, with no watchdog to mind): over periods
 * a cgroup gets its quota, and a task waits at most that plus a period (cpu.max allows 1 s) for
 * its turn. Ticks do come late: in a guest whose TSC the kernel had found unstable, a lone
 * task under a 30% limit saw ~15 ticks a second of running instead of 250 and ran 70-120 ms
 * (once 0.42 s) before a tick charged it; with its overdraft forgiven beyond one quota (as it
 * was) it got 42-64% of the CPU. The lone task on a CPU is held back too: SCX_OPS_ENQ_LAST
 * makes the kernel ask ops.enqueue when its slice ends instead of keeping it running.
 * Limits: one budget per cgroup shared by its CPUs (a lock per charge; CFS hands out per-CPU
 * slices of it instead); only tasks in a limited cgroup pay anything; a task may wait 2 s here
 * (a 1 s period and 1 s of payback), so the agent refuses a watchdog timeout_ms under twice that.
 * Older kernels do not pass the limits: live.cpu_max says whether this one does.
 */
struct cm_budget {
	struct bpf_spin_lock lock;
	s64 left_ns;          /* runtime left in this period; below 0: overdrawn */
	u64 period_end;       /* on cm_now()'s clock */
	u64 period_ns;
	u64 quota_ns;         /* 0: unlimited now (its waiting tasks are being let go) */
	u64 cap_ns;           /* quota + burst: the most a period can start with */
	u64 debt_ns;          /* the deepest overdraft carried (CPU_MAX_PAYBACK_NS) */
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BATON_MAX_CPU_MAX_CGROUPS);
	__type(key, u64); /* cgroup id */
	__type(value, struct cm_budget);
} cm_cgroups SEC(".maps");

/* Bumped whenever a cgroup's limit is set or cleared: each task looks its cgroups up again. */
static u64 cpu_max_gen;
/* How many cgroups have a limit: at 0, nothing below costs anything. */
static s64 cpu_max_limited;

/*
 * The budgets' clock: CLOCK_MONOTONIC, the release timers' own. Not baton_now(): in a timer
 * callback on an idle CPU, scx_bpf_now() falls back to sched_clock_cpu(), which, once the kernel
 * has found the TSC unstable, stays near the last tick the idle CPU took: a release found its
 * period tens of ms from over and waited again, ~25 times a hold, and a lone task under a 30%
 * limit got 13-19% of its CPU (SchedulerIT's sequence, where a loaded host's guest loses its TSC).
 */
static __always_inline u64 cm_now(void)
{
	return bpf_ktime_get_ns();
}

/* Starts a new period if this one is over (the lock held). */
static void cm_refill(struct cm_budget *b, u64 now)
{
	u64 periods;

	if ((s64)(now - b->period_end) < 0 || !b->period_ns)
		return;
	periods = (now - b->period_end) / b->period_ns + 1;
	b->period_end += periods * b->period_ns;
	/* Enough periods to fill it from the deepest overdraft, counted without a multiply that could wrap. */
	if (!b->quota_ns || periods > (b->cap_ns + b->debt_ns) / b->quota_ns + 1)
		b->left_ns = b->cap_ns;
	else
		b->left_ns += periods * b->quota_ns;
	if (b->left_ns > (s64)b->cap_ns)
		b->left_ns = b->cap_ns;
}

/*
 * Charges ns of CPU to the task's limited cgroups; returns the id of the first that is out of
 * budget, else 0. With ns 0: only asks.
 */
static u64 cm_charge(struct task_ctx *tctx, u64 ns)
{
	struct cm_budget *b;
	u64 id, out = 0, now = cm_now();
	u32 i, n = tctx->cm_n;

	bpf_for(i, 0, CPU_MAX_LEVELS) {
		if (i >= n)
			break;
		id = tctx->cm_ids[i];
		b = bpf_map_lookup_elem(&cm_cgroups, &id);
		if (!b)
			continue;
		bpf_spin_lock(&b->lock);
		if (b->quota_ns) {
			cm_refill(b, now);
			b->left_ns -= ns;
			if (b->left_ns < -(s64)b->debt_ns)
				b->left_ns = -(s64)b->debt_ns;
			if (b->left_ns <= 0 && !out)
				out = id;
		}
		bpf_spin_unlock(&b->lock);
	}
	return out;
}

/* The first of the task's limited cgroups that is out of budget, else 0 (no task ever is, without limits). */
static u64 cm_spent(struct task_ctx *tctx)
{
	return tctx->cm_n ? cm_charge(tctx, 0) : 0;
}

/* Charges what the task ran since it was last charged; returns as cm_charge(). */
static u64 cm_charge_run(struct task_struct *p, struct task_ctx *tctx)
{
	u64 exec = p->se.sum_exec_runtime, ns = exec - tctx->cm_charged_at;

	tctx->cm_charged_at = exec;
	return tctx->cm_n ? cm_charge(tctx, ns) : 0;
}

/* Finds the task's limited cgroups, nearest first (probe reads: it runs once per move or change). */
static void cm_resolve(struct task_struct *p, struct task_ctx *tctx)
{
	struct cgroup *cg;
	u32 i, n = 0;
	u64 id;

	/* What it ran under no limit is nobody's to pay (a lump of 0.24-0.39 s was, at a limit set). */
	if (!tctx->cm_n)
		tctx->cm_charged_at = p->se.sum_exec_runtime;
	tctx->cm_gen = cpu_max_gen;
	tctx->cm_n = 0;
	if (cpu_max_limited <= 0)
		return;
	cg = BPF_CORE_READ(p, cgroups, dfl_cgrp);
	bpf_for(i, 0, CPU_MAX_DEPTH) {
		if (!cg || n >= CPU_MAX_LEVELS)
			break;
		id = BPF_CORE_READ(cg, kn, id);
		if (bpf_map_lookup_elem(&cm_cgroups, &id)) {
			barrier_var(n);
			if (n < CPU_MAX_LEVELS)
				tctx->cm_ids[n] = id;
			n++;
		}
		cg = (struct cgroup *)BPF_CORE_READ(cg, self.parent);
	}
	tctx->cm_n = n;
}

/* Makes sure cgroup `id`'s timer lets its waiting tasks go at its period's end. */
static void cm_arm(u64 id)
{
	struct cm_budget *b = bpf_map_lookup_elem(&cm_cgroups, &id);
	s64 wait;

	if (!b)
		return;
	wait = (s64)(b->period_end - cm_now());
	bpf_timer_start(&b->timer, wait > (s64)CPU_MAX_HOLD_MIN_NS ? wait : CPU_MAX_HOLD_MIN_NS, 0);
}

/*
 * Queues a task whose cgroup `id` is out of budget on that cgroup's DSQ, by the key it would
 * have had in its class, until that cgroup's timer lets it go.
 */
static void cm_hold(struct task_struct *p, u64 id, u64 slice, u64 key, u64 enq_flags)
{
	baton_dsq_insert_vtime(p, CPU_MAX_DSQ | id, slice, key, enq_flags);
	stat_inc(BATON_STAT_CPU_MAX_THROTTLES);
	cm_arm(id);
}

/*
 * The safety net, run with the heartbeat check: a cgroup whose DSQ holds tasks gets its timer
 * now, which lets them go if the cgroup may run (else waits for the period's end). The kernel
 * puts a task in a DSQ only after ops.enqueue returns, so a timer due at once could run before
 * the task it was armed for is there and leave it held for good (or until the watchdog).
 */
static long cm_sweep(struct bpf_map *map, u64 *key, struct cm_budget *b, void *ctx)
{
	if (scx_bpf_dsq_nr_queued(CPU_MAX_DSQ | *key) > 0)
		bpf_timer_start(&b->timer, 0, 0);
	return 0;
}

/* The period of a cgroup with waiting tasks ended, or its limit changed: let them go if it may run. */
static int cm_release(void *map, u64 *key, struct cm_budget *b)
{
	struct task_struct *p;
	struct task_ctx *tctx;
	u64 now = cm_now(), end, other;
	bool again = false;
	s64 left;
	u32 cpu;

	bpf_spin_lock(&b->lock);
	cm_refill(b, now);
	left = b->quota_ns ? b->left_ns : 1;
	end = b->period_end;
	bpf_spin_unlock(&b->lock);
	if (left <= 0) {
		bpf_timer_start(&b->timer, (s64)(end - now) > 0 ? end - now : 0, 0);
		return 0;
	}
	if (!bpf_ksym_exists(scx_bpf_dsq_move_vtime))
		return 0;
	bpf_for_each(scx_dsq, p, CPU_MAX_DSQ | *key, 0) {
		tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
		/*
		 * Still out of another of its cgroups' budgets (a parent's), it waits in that one's DSQ.
		 * Let go to its class, it ran until a tick caught it: 11 times in 4 s for a lone task in
		 * a cgroup limited to 50% under a parent limited to 30%, and ticks can come late.
		 */
		other = tctx ? cm_spent(tctx) : 0;
		if (other == *key) { /* spent again meanwhile: it waits for the next period */
			again = true;
			continue;
		}
		if (other) {
			if (scx_bpf_dsq_move_vtime(BPF_FOR_EACH_ITER, p, CPU_MAX_DSQ | other, 0))
				cm_arm(other);
			continue;
		}
		scx_bpf_dsq_move_vtime(BPF_FOR_EACH_ITER, p, tctx ? class_index(tctx->class) : BATON_CLASS_NORMAL, 0);
	}
	if (again)
		cm_arm(*key);
	/* Tasks that were all held back may have left every CPU idle. */
	bpf_for(cpu, 0, nr_cpu_ids)
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	return 0;
}

/*
 * Sets a cgroup's limit (the callbacks below; the kernel serializes them). A cgroup keeps its
 * entry, once limited, until it goes: set back to max it is unlimited while its timer lets its
 * waiting tasks go. Every cgroup has its DSQ from ops.cgroup_init on (sleepable, unlike
 * ops.cgroup_set_bandwidth), so a limit set later has one.
 */
static void cm_set(struct cgroup *cgrp, u64 period_us, u64 quota_us, u64 burst_us)
{
	u64 id = cgrp->kn->id, now = cm_now(), periods;
	bool limited = quota_us != CPU_MAX_UNLIMITED && period_us;
	struct cm_budget fresh = {}, *b;

	b = bpf_map_lookup_elem(&cm_cgroups, &id);
	if (!b) {
		if (!limited)
			return;
		if (bpf_map_update_elem(&cm_cgroups, &id, &fresh, BPF_NOEXIST))
			return; /* full: BATON_MAX_CPU_MAX_CGROUPS limited cgroups already */
		b = bpf_map_lookup_elem(&cm_cgroups, &id);
		if (!b)
			return;
		bpf_timer_init(&b->timer, &cm_cgroups, CLOCK_MONOTONIC);
		bpf_timer_set_callback(&b->timer, cm_release);
		__sync_fetch_and_add(&cpu_max_limited, 1);
	} else if (!b->quota_ns && limited) {
		__sync_fetch_and_add(&cpu_max_limited, 1);
	} else if (b->quota_ns && !limited) {
		__sync_fetch_and_sub(&cpu_max_limited, 1);
	}
	bpf_spin_lock(&b->lock);
	b->quota_ns = limited ? quota_us * NSEC_PER_USEC : 0;
	b->period_ns = limited ? period_us * NSEC_PER_USEC : 0;
	b->cap_ns = limited ? (quota_us + burst_us) * NSEC_PER_USEC : 0;
	periods = limited && b->period_ns < CPU_MAX_PAYBACK_NS ? CPU_MAX_PAYBACK_NS / b->period_ns : 1;
	/* The kernel takes quotas of up to ~200 days a period: the product must stay an s64. */
	b->debt_ns = b->quota_ns < CPU_MAX_DEBT_MAX_NS / periods ? periods * b->quota_ns : CPU_MAX_DEBT_MAX_NS;
	b->left_ns = b->quota_ns;
	b->period_end = now + b->period_ns;
	bpf_spin_unlock(&b->lock);
	__sync_fetch_and_add(&cpu_max_gen, 1);
	if (!limited)
		bpf_timer_start(&b->timer, 0, 0);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(baton_cgroup_init, struct cgroup *cgrp, struct scx_cgroup_init_args *args)
{
	s32 err;

	if (!bpf_core_field_exists(args->bw_quota_us))
		return 0;
	err = scx_bpf_create_dsq(CPU_MAX_DSQ | cgrp->kn->id, -1);
	if (err)
		return err;
	cm_set(cgrp, args->bw_period_us, args->bw_quota_us, args->bw_burst_us);
	return 0;
}

void BPF_STRUCT_OPS(baton_cgroup_set_bandwidth, struct cgroup *cgrp, u64 period_us, u64 quota_us, u64 burst_us)
{
	cm_set(cgrp, period_us, quota_us, burst_us);
}

void BPF_STRUCT_OPS(baton_cgroup_exit, struct cgroup *cgrp)
{
	u64 id = cgrp->kn->id;
	struct cm_budget *b;

	if (!bpf_core_field_exists(struct scx_cgroup_init_args, bw_quota_us))
		return;
	b = bpf_map_lookup_elem(&cm_cgroups, &id);
	/*
	 * Its DSQ may still hold a task (one held just before it left: seen in SchedulerIT, where
	 * destroying the DSQ under it ended the scheduler). Then the DSQ and the entry stay until
	 * the scheduler detaches, unlimited, and its timer and cm_sweep() let the task go.
	 */
	if (b && scx_bpf_dsq_nr_queued(CPU_MAX_DSQ | id) > 0) {
		cm_set(cgrp, 0, CPU_MAX_UNLIMITED, 0);
		return;
	}
	if (b) {
		if (b->quota_ns)
			__sync_fetch_and_sub(&cpu_max_limited, 1);
		bpf_map_delete_elem(&cm_cgroups, &id);
		__sync_fetch_and_add(&cpu_max_gen, 1);
	}
	scx_bpf_destroy_dsq(CPU_MAX_DSQ | id);
}
/* ---- end of cgroup cpu.max ----------------------------------------------------------------- */

/* Looks the task's hint up: its thread's, its process's, its cgroup's (cgid), in that order. */
static void resolve_hint(struct task_struct *p, struct task_ctx *tctx, u64 gen, u64 cgid)
{
	struct baton_task_key key = { .pid = p->pid, .start_ns = p->start_time };
	struct baton_hint *h;

	h = bpf_map_lookup_elem(&task_hints, &key);
	if (!h && p->pid != p->tgid) {
		key.pid = p->tgid;
		key.start_ns = p->group_leader->start_time;
		h = bpf_map_lookup_elem(&task_hints, &key);
	}
	if (!h)
		h = bpf_map_lookup_elem(&cgroup_hints, &cgid);
	stat_inc(BATON_STAT_HINT_LOOKUPS);

	tctx->hint_class = default_class(p);
	tctx->hint_weight = 0;
	tctx->hint_slice_ns = 0;
	tctx->rel_deadline_ns = 0;
	tctx->hint_gen = gen;
	tctx->hint_cgid = cgid;
	if (!h)
		return;
	if (h->sched_class >= BATON_NR_CLASSES || h->weight > BATON_WEIGHT_MAX ||
	    (h->sched_class == BATON_CLASS_LIVE && !h->deadline_us)) {
		stat_inc(BATON_STAT_HINTS_INVALID);
		return;
	}
	tctx->hint_class = h->sched_class;
	tctx->hint_weight = h->weight;
	tctx->hint_slice_ns = h->slice_us ? clamp_slice(h->slice_us * NSEC_PER_USEC) : 0;
	tctx->rel_deadline_ns = h->deadline_us * NSEC_PER_USEC;
}

/*
 * Brings the task's class up to date with the hints and the heartbeat, and returns it. A task
 * changing class starts afresh on the new class's clock: vtimes of different classes do not
 * compare, and a deadline set under another class means nothing.
 */
static u32 refresh(struct task_struct *p, struct task_ctx *tctx)
{
	u64 gen = live.hint_gen;
	u64 cgid = task_cgroup_id(p);
	u32 cls;

	/*
	 * The cgroup is compared here rather than followed through ops.cgroup_move: the kernel calls
	 * that only for cgroups with the cpu controller enabled, and a hint's cgroup need not have it.
	 */
	if (tctx->cm_gen != cpu_max_gen || tctx->hint_cgid != cgid)
		cm_resolve(p, tctx);
	if (tctx->hint_gen != gen || tctx->hint_cgid != cgid)
		resolve_hint(p, tctx, gen, cgid);
	cls = hints_stale ? default_class(p) : class_index(tctx->hint_class);
	if (cls != tctx->class) {
		if (cls == BATON_CLASS_LIVE) {
			tctx->deadline = baton_now() + tctx->rel_deadline_ns;
			tctx->ran_ns = 0;
			tctx->overrun = false;
		} else {
			tctx->vtime = *task_clock(p, cls);
		}
		tctx->class = cls;
	}
	return cls;
}

static u64 task_slice(struct task_ctx *tctx, u32 cls)
{
	if (!hints_stale && tctx->hint_slice_ns)
		return tctx->hint_slice_ns;
	return clamp_slice(live.slice_ns[class_index(cls)]);
}

static u32 task_weight(struct task_struct *p, struct task_ctx *tctx)
{
	u32 w = !hints_stale && tctx->hint_weight ? tctx->hint_weight : p->scx.weight;

	return w ? w : BATON_WEIGHT_DEFAULT;
}

/* The weight vtime advances with: task_weight, at most VTIME_WEIGHT_MAX. */
static u32 vtime_weight(struct task_struct *p, struct task_ctx *tctx)
{
	u32 w = task_weight(p, tctx);

	return w < VTIME_WEIGHT_MAX ? w : VTIME_WEIGHT_MAX;
}

/*
 * A LIVE task woke with no idle CPU: the allowed CPU whose work is due latest, if that is later
 * than this task's deadline (of equally late ones, `here`), else -1. The CPU is marked with the
 * deadline at once, so that the next wakeup picks another. Linear in the number of CPUs, once per
 * such wakeup.
 */
static s32 preempt_victim(struct task_struct *p, u64 deadline, s32 here)
{
	u64 latest = deadline;
	s32 victim = -1;
	struct cpu_ctx *c;
	u32 cpu;

	bpf_for(cpu, 0, nr_cpu_ids) {
		if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		c = cpu_ctx_of(cpu);
		if (!c || c->offline)
			continue;
		if (c->running_key > latest || (c->running_key == latest && victim >= 0 && cpu == here)) {
			latest = c->running_key;
			victim = cpu;
		}
	}
	if (victim < 0)
		return -1;
	c = cpu_ctx_of(victim);
	if (c)
		c->running_key = deadline;
	stat_inc(BATON_STAT_KICKS);
	return victim;
}

/*
 * Preempts the victim for the LIVE DSQ, whose head its next dispatch takes: used when earlier
 * deadlines already wait there, so that the waking task does not jump them.
 */
static void kick_for_live(s32 victim)
{
	struct cpu_ctx *c;

	c = cpu_ctx_of(victim);
	if (c)
		c->kicked = true;
	scx_bpf_kick_cpu(victim, SCX_KICK_PREEMPT);
}

/*
 * ---- Run-delay histogram ------------------------------------------------------------------
 * became_runnable() stamps the task (task_ctx.runnable_at); ops.running counts now - stamp into its
 * class's log2 bucket. Per-CPU rows, so no atomics on the hot path; a task that runs without a
 * stamp (it was already runnable when the scheduler attached) is not counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BATON_RUN_DELAY_CLASSES);
	__type(key, u32);
	__type(value, struct baton_run_delay_hist);
} run_delay SEC(".maps");

static void run_delay_count(u32 cls, u64 delay)
{
	struct baton_run_delay_hist *h;
	u32 b;

	if ((s64)delay < 0)
		delay = 0;
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

/*
 * Runtime samples, for the agent's policies: per task, the CPU time it received, the time it was
 * runnable but waiting for a CPU (from becoming runnable, or being preempted, to running), and its
 * wakeups, sent as deltas at most once per live.sample_ns from ops.stopping. Kept in task_ctx
 * with the scheduling state: a storage of their own cost one more lookup on each wakeup, run and
 * stop. The stamps only ever meet each other, so they take the scheduler's cheaper
 * clock (baton_now; a stamp from another CPU's clock may be a little ahead, hence the signed
 * comparisons); a record's ts_ns stays CLOCK_MONOTONIC, as intf.h says. Samples never wake the
 * agent for their own sake: it reads the ring at least every 250 ms and its policy decides once
 * per 250 ms, so a sample read at the next poll is read in time. Only a ring past a quarter full
 * wakes it, long before records could be dropped. (A wakeup whenever nobody had woken it for
 * sample_ns doubled an idle agent's loop turns, from 10 to 20 a second, for nothing.) Limit: a
 * task that stops running for good (exits) takes its last partial sample with it.
 */
#define SAMPLE_WAKE_BYTES (64 * 1024) /* a quarter of the events ring buffer */

static bool emit_task_event(struct task_struct *p, u32 kind)
{
	struct baton_task_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(BATON_STAT_EVENTS_DROPPED);
		return false;
	}
	e->kind = kind;
	e->pid = p ? BPF_CORE_READ(p, pid) : 0;
	e->tgid = p ? BPF_CORE_READ(p, tgid) : 0;
	e->_pad = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->start_ns = p ? BPF_CORE_READ(p, start_time) : 0;
	e->cgroup_id = p ? task_cgroup_id(p) : 0;
	if (p)
		BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	else
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return true;
}

/*
 * Tells the agent of a task (BATON_EV_TASK_INIT) once per live.announce_gen: first when the task
 * is enabled, and again when it next runs after an adopting agent bumped the generation, since
 * that agent's table starts empty while tasks it never saw start keep running. A record the full
 * ring refuses is tried again at the task's next run, not lost. The hot path pays one compare.
 */
static void announce(struct task_struct *p, struct task_ctx *tctx)
{
	u64 gen = live.announce_gen;

	if (tctx->announced_gen != gen && emit_task_event(p, BATON_EV_TASK_INIT))
		tctx->announced_gen = gen;
}

static void sample_running(struct task_ctx *tctx, u64 now)
{
	if (tctx->queued_at && (s64)(now - tctx->queued_at) > 0)
		tctx->wait_ns += now - tctx->queued_at;
	tctx->queued_at = 0;
	if (tctx->runnable_at) {
		run_delay_count(tctx->class, now - tctx->runnable_at);
		tctx->runnable_at = 0; /* a slice that ends without sleeping is not a new wait */
	}
}

static void sample_stopping(struct task_struct *p, struct task_ctx *tctx, u64 used, bool runnable)
{
	struct baton_task_sample *e;
	u64 now = baton_now(), flags = BPF_RB_NO_WAKEUP;

	tctx->cpu_ns += used;
	if (runnable) /* preempted: waiting again from now */
		tctx->queued_at = now;
	if ((s64)(now - tctx->sampled_at) < (s64)live.sample_ns)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(BATON_STAT_EVENTS_DROPPED);
		return; /* the counts carry over to the next sample */
	}
	e->kind = BATON_EV_TASK_SAMPLE;
	e->pid = p->pid;
	e->tgid = p->tgid;
	e->wakeups = tctx->wakeups;
	e->ts_ns = bpf_ktime_get_ns();
	e->cpu_ns = tctx->cpu_ns;
	e->wait_ns = tctx->wait_ns;
	tctx->cpu_ns = 0;
	tctx->wait_ns = 0;
	tctx->wakeups = 0;
	tctx->sampled_at = now;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > SAMPLE_WAKE_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

/*
 * A task became runnable: the stamps for its samples and the run-delay histogram and, on a
 * wakeup, a LIVE activation or its place on its class's clock (one slice of credit); returns its
 * class. Every wakeup passes through select_cpu, which calls this for a task it sends straight to
 * an idle CPU, or through enqueue, which calls it for the rest, never both; so Baton does
 * without ops.runnable, one callback more on every wakeup. enqueue also sees tasks queued again
 * without sleeping: preempted or out of slice (ops.stopping stamped them) or moved while queued
 * (their first stamp stands); a stamp is set only on a task without one (queued_at 0: it ran, or
 * it came back from another scheduling class, ops.enable).
 */
static u32 became_runnable(struct task_struct *p, struct task_ctx *tctx, bool wakeup)
{
	u64 now = baton_now(), floor, *clock;
	u32 cls;

	if (wakeup || !tctx->queued_at)
		tctx->queued_at = tctx->runnable_at = now;
	cls = refresh(p, tctx);
	if (!wakeup)
		return cls;
	tctx->wakeups++;
	tctx->exec_at_wake = p->se.sum_exec_runtime;
	if (cls == BATON_CLASS_LIVE) {
		tctx->deadline = now + tctx->rel_deadline_ns;
		tctx->ran_ns = 0;
		tctx->overrun = false;
		return cls;
	}
	clock = task_clock(p, cls);
	floor = *clock - task_slice(tctx, cls) * BATON_WEIGHT_DEFAULT / vtime_weight(p, tctx);
	if ((s64)(tctx->vtime - floor) < 0)
		tctx->vtime = floor;
	return cls;
}

s32 BPF_STRUCT_OPS(baton_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	struct task_ctx *tctx;
	struct cpu_ctx *c;
	bool is_idle = false;
	s32 cpu = prev_cpu;
	u32 cls;

	if (bpf_cpumask_test_cpu(prev_cpu, p->cpus_ptr) && scx_bpf_test_and_clear_cpu_idle(prev_cpu))
		is_idle = true;
	else
		cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (!is_idle)
		return cpu;

	tctx = task_ctx(p);
	/* Out of cpu.max quota: ops.enqueue holds it back (the idle CPU finds nothing and idles on). */
	if (tctx && cm_spent(tctx))
		return cpu;
	cls = tctx ? became_runnable(p, tctx, wake_flags & SCX_WAKE_TTWU) : BATON_CLASS_NORMAL;
	baton_dsq_insert(p, SCX_DSQ_LOCAL, tctx ? task_slice(tctx, cls) : SCX_SLICE_DFL, baton_enq_immed());
	if (tctx)
		tctx->direct = true;
	/* A LIVE wakeup for that CPU before it runs p must not go before p (baton_enqueue()). */
	if (cls == BATON_CLASS_LIVE && (c = cpu_ctx_of(cpu)))
		c->live_direct = p->pid;
	stat_inc(BATON_STAT_DIRECT);
	return cpu;
}

/* Marks cpu as running a task of vtime class cls at vtime, awake (running) since awake_since. */
static void mark_running(struct cpu_ctx *c, u32 cls, u64 vtime, u64 now, u64 awake_since, u32 weight)
{
	c->running_key = NONLIVE_KEY(cls);
	c->running_vtime = vtime;
	c->running_at = now;
	c->awake_since = awake_since;
	c->running_weight = weight;
}

/*
 * A waking task of a vtime class that found no idle CPU preempts the CPU it was placed on when
 * that CPU runs a lower class (not in a guard window, whose key is 0), or a task of its class
 * further along in vtime that has run WAKE_PREEMPT_GRAN_NS since it last woke (see the top of
 * the file). The CPU is marked with the waking task at once, so the next wakeup there compares
 * against it.
 */
static void wake_preempt(struct task_struct *p, struct task_ctx *tctx, u32 cls)
{
	s32 cpu = scx_bpf_task_cpu(p);
	u64 key = NONLIVE_KEY(cls), now, vtime;
	struct cpu_ctx *c;

	c = cpu_ctx_of(cpu);
	if (!c || c->offline || c->running_key < key)
		return;
	now = baton_now();
	if (c->running_key == key) {
		if (!c->running_weight || (s64)(now - c->awake_since) < (s64)WAKE_PREEMPT_GRAN_NS)
			return;
		vtime = c->running_vtime + (now - c->running_at) * BATON_WEIGHT_DEFAULT / c->running_weight;
		if ((s64)(tctx->vtime - vtime) >= 0)
			return;
	}
	mark_running(c, cls, tctx->vtime, now, now, vtime_weight(p, tctx));
	stat_inc(BATON_STAT_WAKE_PREEMPTS);
	scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
}

/*
 * vtime kept within [clock - VTIME_MAX_LAG, clock + VTIME_MAX_LEAD] slices (see the top of the
 * file). The lag bound matters as much as the lead: a task dispatched with a lead moves the clock
 * on, and the tasks running elsewhere then lag it; unbounded, they kept every waking task (placed
 * just behind the clock) waiting until they caught up, seconds with long slices, and the watchdog
 * ejected Baton for a starved kthread.
 */
static u64 vtime_bounded(struct task_struct *p, u32 cls, u64 slice, u64 vtime)
{
	u64 clock = *task_clock(p, cls);

	if ((s64)(vtime - (clock + VTIME_MAX_LEAD * slice)) > 0)
		return clock + VTIME_MAX_LEAD * slice;
	if ((s64)(vtime - (clock - VTIME_MAX_LAG * slice)) < 0)
		return clock - VTIME_MAX_LAG * slice;
	return vtime;
}

/* Wakes an idle CPU that p may run on, for p queued in its class's DSQ; false if none is idle. */
static bool kick_idle(struct task_struct *p)
{
	s32 cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);

	if (cpu < 0)
		return false;
	scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	return true;
}

/*
 * p was handed back from its CPU's local queue (see "Higher scheduling classes"): that CPU now
 * runs a higher class, or another task that ops.running will mark. Until then it runs nothing
 * a wakeup may preempt (key 0, as a guard window): a kick would only interrupt the RT task.
 */
static void handed_back(struct task_struct *p, struct task_ctx *tctx)
{
	struct cpu_ctx *c;
	s32 cpu = scx_bpf_task_cpu(p);

	stat_inc(BATON_STAT_REENQUEUES);
	tctx->direct = false; /* select_cpu's insert, if it was that, did not hold */
	c = cpu_ctx_of(cpu);
	if (c)
		c->running_key = 0;
}

void BPF_STRUCT_OPS(baton_enqueue, struct task_struct *p, u64 enq_flags)
{
	bool reenq = enq_flags & SCX_ENQ_REENQ;
	struct task_ctx *tctx = task_ctx(p);
	s32 here = -1, victim = -1;
	u64 slice, limited_by;
	struct cpu_ctx *c;
	u32 cls;

	stat_inc(BATON_STAT_ENQUEUES);
	if (!tctx) { /* cannot happen once init_task succeeded; schedule it plainly */
		baton_dsq_insert_vtime(p, BATON_CLASS_NORMAL, SCX_SLICE_DFL, vtime_now[BATON_CLASS_NORMAL], enq_flags);
		return;
	}
	cls = became_runnable(p, tctx, enq_flags & SCX_ENQ_WAKEUP);
	if (reenq)
		handed_back(p, tctx);
	if (hints_stale)
		stat_inc(BATON_STAT_STALE_ENQUEUES);
	slice = task_slice(tctx, cls);

	if ((limited_by = cm_spent(tctx))) {
		if (cls != BATON_CLASS_LIVE)
			tctx->vtime = vtime_bounded(p, cls, slice, tctx->vtime);
		cm_hold(p, limited_by, slice, cls == BATON_CLASS_LIVE ? tctx->deadline : tctx->vtime, enq_flags);
		return;
	}
	/*
	 * The CPU's last task, its slice out and nothing else to run (SCX_OPS_ENQ_LAST): it goes on.
	 * The CPU has already chosen to idle, so it must be kicked to see it (as SCX_ENQ_LAST's
	 * documentation asks): otherwise the task would wait in the local queue for the next event
	 * there.
	 */
	if (enq_flags & SCX_ENQ_LAST) {
		baton_dsq_insert(p, SCX_DSQ_LOCAL, slice, enq_flags);
		scx_bpf_kick_cpu(scx_bpf_task_cpu(p), SCX_KICK_IDLE);
		return;
	}
	if (cls == BATON_CLASS_LIVE) {
		if (enq_flags & SCX_ENQ_WAKEUP) { /* only wakeups preempt (see the top of the file) */
			here = scx_bpf_task_cpu(p);
			victim = preempt_victim(p, tctx->deadline, here);
		}
		if (victim >= 0 && victim == here && !scx_bpf_dsq_nr_queued(BATON_CLASS_LIVE) &&
		    (c = cpu_ctx_of(here)) && !c->live_direct) {
			/* Nothing due earlier waits: straight onto its own CPU, which stops what it runs. */
			baton_dsq_insert(p, SCX_DSQ_LOCAL, slice, enq_flags | SCX_ENQ_PREEMPT);
			c->live_direct = p->pid;
			stat_inc(BATON_STAT_DISPATCH_LIVE);
			return;
		}
		baton_dsq_insert_vtime(p, BATON_CLASS_LIVE, slice, tctx->deadline, enq_flags);
		if (reenq && !kick_idle(p))
			victim = preempt_victim(p, tctx->deadline, -1);
		if (victim >= 0)
			kick_for_live(victim);
		return;
	}
	tctx->vtime = vtime_bounded(p, cls, slice, tctx->vtime);
	baton_dsq_insert_vtime(p, cls, slice, tctx->vtime, enq_flags);
	if (enq_flags & SCX_ENQ_WAKEUP)
		wake_preempt(p, tctx, cls);
	else if (reenq)
		kick_idle(p);
}

/* Notes a class getting a CPU, for the guard; LIVE, which the guard never serves, is not kept. */
static void served(u32 cls, u64 now)
{
	u64 *at;

	if (cls == BATON_CLASS_LIVE)
		return;
	at = &served_anywhere[class_index(cls)];
	if ((s64)(now - *at) >= (s64)(live.starve_ns / 8))
		*at = now;
}

/* Whether a class this CPU last served at `at` is overdue here (see the top of the file). */
static bool overdue(u32 cls, u64 at, u64 now, u64 starve)
{
	if ((s64)(now - at) < (s64)starve)
		return false;
	return (s64)(now - served_anywhere[class_index(cls)]) >= (s64)starve ||
	       (s64)(now - at) >= (s64)(BATON_GUARD_PINNED_WAIT * starve);
}

/* Serves the overdue class below LIVE that this CPU has neglected longest, if there is one. */
static bool guard_dispatch(struct cpu_ctx *c, u64 now)
{
	u64 at, oldest_at, starve = live.starve_ns; /* read once: a reload may change it */
	u32 i, cls, oldest;

	if (!starve || now - c->guard_at < starve)
		return false;
	/* The overdue classes, oldest first; one with nothing this CPU can run counts as served. */
	for (i = BATON_CLASS_INTERACTIVE; i < BATON_NR_CLASSES; i++) {
		oldest = BATON_NR_CLASSES;
		oldest_at = now;
		for (cls = BATON_CLASS_INTERACTIVE; cls < BATON_NR_CLASSES; cls++) {
			at = c->served_at[class_index(cls)];
			if ((s64)(at - oldest_at) <= 0 && overdue(cls, at, now, starve)) {
				oldest = cls;
				oldest_at = at;
			}
		}
		if (oldest >= BATON_NR_CLASSES)
			return false;
		c->served_at[class_index(oldest)] = now;
		if (baton_dsq_move_to_local(oldest)) {
			served(oldest, now);
			c->guard_at = now;
			c->guard_end = now + starve / 10;
			c->guard_cls = oldest;
			c->guarded = true;
			stat_inc(BATON_STAT_GUARD);
			return true;
		}
	}
	return false;
}

/* Within a guard window, the next task of the class it serves, if one waits; else it ends. */
static bool guard_window(struct cpu_ctx *c, u64 now)
{
	u32 cls = c->guard_cls;

	if (!c->guard_end)
		return false;
	if ((s64)(c->guard_end - now) > (s64)SLICE_MIN_NS && cls < BATON_NR_CLASSES &&
	    baton_dsq_move_to_local(cls)) {
		c->served_at[class_index(cls)] = now;
		served(cls, now);
		c->guarded = true;
		stat_inc(BATON_STAT_GUARD);
		return true;
	}
	c->guard_end = 0;
	return false;
}

/*
 * Whether a LIVE task has run a whole relative deadline since its deadline was set, counting the
 * run it is in. ops.stopping settles the count, but a task the kernel keeps running when its slice
 * ends (dispatch found nothing to go first) gets no ops.stopping, however long it keeps the CPU.
 */
static bool overrunning(struct task_struct *p, struct task_ctx *tctx)
{
	return tctx->ran_ns + (p->se.sum_exec_runtime - tctx->exec_at_run) >= tctx->rel_deadline_ns;
}

/* The deadline of a LIVE task found overrunning now (see the top of the file). */
static u64 overrun_deadline(struct task_ctx *tctx)
{
	return baton_now() + tctx->rel_deadline_ns + OVERRUN_DELAY_NS;
}

/* Flags a LIVE task found overrunning, counted once per burst (until it next sleeps). */
static void mark_overrun(struct task_ctx *tctx)
{
	if (!tctx->overrun)
		stat_inc(BATON_STAT_LIVE_OVERRUNS);
	tctx->overrun = true;
}

/* The key of the first task in a class's DSQ that may run on cpu, if there is one. */
static bool queued_head(u32 cls, s32 cpu, u64 *key)
{
	struct task_struct *p;

	bpf_for_each(scx_dsq, p, cls, 0) {
		if (bpf_cpumask_test_cpu(cpu, p->cpus_ptr)) {
			*key = p->scx.dsq_vtime;
			return true;
		}
	}
	return false;
}

/*
 * Whether prev, whose slice ran out but which still wants to run, goes before the first task of
 * its class's DSQ that may run on this CPU; *key is prev's key as it stands (its deadline, or its
 * vtime counting this run), and a LIVE prev found overrunning is flagged so, whether it keeps the
 * CPU or not (ops.stopping would flag it next). prev is not queued while dispatch runs: without
 * this comparison any queued task would win, and two tasks sharing a CPU would simply alternate,
 * whatever their weights or deadlines.
 */
static bool prev_goes_first(struct task_struct *prev, struct task_ctx *tctx, u32 cls, s32 cpu, u64 *keyp)
{
	u64 key, head;

	if (cls == BATON_CLASS_LIVE) {
		key = tctx->deadline;
		if (overrunning(prev, tctx)) {
			mark_overrun(tctx); /* (and baton_tick() is done with it) */
			key = overrun_deadline(tctx);
		}
	} else
		key = vtime_bounded(prev, cls, task_slice(tctx, cls),
				    tctx->vtime + (prev->se.sum_exec_runtime - tctx->exec_at_run) *
							  BATON_WEIGHT_DEFAULT / vtime_weight(prev, tctx));
	*keyp = key;
	return !queued_head(cls, cpu, &head) || (s64)(key - head) <= 0;
}

void BPF_STRUCT_OPS(baton_dispatch, s32 cpu, struct task_struct *prev)
{
	struct cpu_ctx *c = this_cpu_ctx();
	s32 cls, last = BATON_NR_CLASSES - 1;
	struct task_ctx *tctx = NULL;
	s32 kept = -1; /* prev's class, if nothing is to go before prev */
	s32 may_keep = -1; /* prev's class, if it may run on (not held back by cpu.max) */
	u64 now = baton_now(), key;

#ifdef BATON_TEST_FAULTS
	/*
	 * ---- Test-only fault (bpf/test/baton_fault.bpf.c; absent from baton.bpf.o) ----
	 * Never serve the queues: runnable tasks wait until the kernel's watchdog ejects the
	 * scheduler, which is what the fault test wants to see survived.
	 */
	return;
#endif
	if (!c)
		return;
	c->live_direct = 0; /* the kernel asks only once the local queue is empty */
	/* The guard waits for the next dispatch rather than take a CPU kicked for a LIVE task. */
	if (c->kicked)
		c->kicked = false;
	else if (guard_window(c, now) || guard_dispatch(c, now))
		return;
	/*
	 * A task whose slice ran out is not queued yet. Nothing below its class may take the CPU
	 * from it, nor anything of its class that comes after it: dispatching nothing keeps it
	 * running, with a fresh slice.
	 */
	if (prev && (prev->scx.flags & SCX_TASK_QUEUED) && (tctx = task_ctx(prev)) &&
	    !cm_spent(tctx)) {
		last = class_index(tctx->class);
		may_keep = last;
		if (prev_goes_first(prev, tctx, last, cpu, &key)) {
			c->served_at[class_index(last)] = now;
			served(last, now);
			kept = last--;
		}
	}
	/*
	 * A class is served here when it gets the CPU or has nothing waiting that may run here, and
	 * served anywhere only when it gets a CPU: only the rest starve.
	 */
	bpf_for(cls, 0, BATON_NR_CLASSES) {
		if (cls > last)
			break;
		c->served_at[class_index(cls)] = now;
		if (baton_dsq_move_to_local(cls)) {
			served(cls, now);
			stat_inc(BATON_STAT_DISPATCH_LIVE + cls);
			return;
		}
	}
	/*
	 * prev keeps the CPU, without ops.stopping or ops.running: with its own slice rather than the
	 * kernel's default (20 ms), and judged by waking LIVE tasks by its key as it stands (an
	 * overrunning task's, not the deadline it ran with). Only here: a task put back with slice
	 * left goes to the head of its CPU's local queue, past ops.enqueue and every class.
	 * Also when nothing was dispatched though something was to go before prev (another CPU took
	 * it meanwhile): left without a slice, prev would reach ops.enqueue as the CPU's last task
	 * (SCX_OPS_ENQ_LAST) after the CPU chose to idle.
	 */
	if (kept < 0)
		kept = may_keep;
	if (kept >= 0 && tctx) {
		baton_task_set_slice(prev, task_slice(tctx, kept));
		if (kept == BATON_CLASS_LIVE)
			c->running_key = key;
		else
			mark_running(c, kept, key, now, now - (prev->se.sum_exec_runtime - tctx->exec_at_wake),
				     vtime_weight(prev, tctx));
	}
}

/*
 * While LIVE tasks wait, the running task's slice ends at this tick, so that dispatch puts the
 * earliest deadline first, when
 * - it is a LIVE task that overran mid-run: dispatch weighs its overrun key against theirs
 *   (prev_goes_first()) instead of letting it run out its slice first, and each later wakeup sees
 *   that key on its CPU. Once a burst (until it next sleeps). Only ops.stopping and a kept prev's
 *   dispatch settled an overrun before: a LIVE task with a 200 ms slice running 80 ms bursts due
 *   in 10 ms kept a frame loop due in 25 ms waiting for whole bursts, 63 of its 107 frames late
 *   (57 ms at most; SchedulerIT's scenario); with the tick none of 426 in 20 s, woken within 12 ms;
 * - or one of them that may run here is due before what runs here (a non-LIVE task is due after
 *   every deadline; a guard window's task, before). A waking LIVE task preempts at once, but it
 *   judges each CPU by the key it holds, and a task put back without ops.enqueue (a higher
 *   scheduling class took its CPU for a moment, and before 7.1 it went back to the head of the
 *   local queue with its slice: see "Higher scheduling classes") takes its new key only as it
 *   runs again: a frame that woke meanwhile found the burst's on-time deadline, went into the
 *   DSQ, and waited out the burst's overrun (63 ms, once in 30 rounds of the scenario). The same
 *   holds a LIVE task queued without waking (moved to another CPU, its slice out behind an
 *   earlier deadline) behind a CPU's NORMAL slice.
 */
void BPF_STRUCT_OPS(baton_tick, struct task_struct *p)
{
	struct task_ctx *tctx = NULL;
	struct cpu_ctx *c;
	u64 head;

	/*
	 * A task whose cgroup has spent its cpu.max quota stops here (see "cgroup cpu.max"). Its
	 * cgroups are looked up here too: a task that keeps its CPU (dispatch keeps it when nothing
	 * goes first) passes through no ops.enqueue, and a limit set meanwhile would never reach it.
	 */
	if (cpu_max_limited > 0 && (tctx = task_ctx(p))) {
		if (tctx->cm_gen != cpu_max_gen || tctx->hint_cgid != task_cgroup_id(p))
			cm_resolve(p, tctx);
		if (cm_charge_run(p, tctx)) {
			baton_task_set_slice(p, 0);
			return;
		}
	}
	if (!scx_bpf_dsq_nr_queued(BATON_CLASS_LIVE))
		return;
	if (!tctx)
		tctx = task_ctx(p);
	if (tctx && tctx->class == BATON_CLASS_LIVE && !tctx->overrun && overrunning(p, tctx))
		baton_task_set_slice(p, 0);
	else if ((c = this_cpu_ctx()) && queued_head(BATON_CLASS_LIVE, bpf_get_smp_processor_id(), &head) &&
		 head < c->running_key)
		baton_task_set_slice(p, 0);
}

void BPF_STRUCT_OPS(baton_running, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx(p);
	struct cpu_ctx *c = this_cpu_ctx();
	u64 *clock, now;
	s64 left;
	u32 cls;

	if (!tctx)
		return;
	announce(p, tctx);
	now = baton_now();
	sample_running(tctx, now);
	tctx->exec_at_run = tctx->cm_charged_at = p->se.sum_exec_runtime;
	cls = tctx->class;
	if (c) {
		if (c->live_direct == p->pid)
			c->live_direct = 0;
		if (cls == BATON_CLASS_LIVE)
			c->running_key = tctx->deadline;
		else
			mark_running(c, cls, tctx->vtime, now, now - (p->se.sum_exec_runtime - tctx->exec_at_wake),
				     vtime_weight(p, tctx));
		if (c->guarded) {
			/* The window is the class's share: no waking deadline is earlier than key 0. */
			c->guarded = false;
			c->running_key = 0;
			left = (s64)(c->guard_end - now);
			if (left < SLICE_MIN_NS)
				left = SLICE_MIN_NS;
			if (p->scx.slice > (u64)left)
				baton_task_set_slice(p, left);
		}
	}
	/* Racy across CPUs; a clock that lags a little only gives a waking task a little more credit. */
	if (cls != BATON_CLASS_LIVE && !tctx->direct) {
		clock = &vtime_now[class_index(cls)];
		if ((s64)(*clock - tctx->vtime) < 0)
			*clock = tctx->vtime;
		if (c && p->nr_cpus_allowed == 1 && (s64)(c->clock[class_index(cls)] - tctx->vtime) < 0)
			c->clock[class_index(cls)] = tctx->vtime;
	}
	tctx->direct = false;
}

void BPF_STRUCT_OPS(baton_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *tctx = task_ctx(p);
	u64 used;

	if (!tctx)
		return;
	used = p->se.sum_exec_runtime - tctx->exec_at_run;
	sample_stopping(p, tctx, used, runnable);
	if (tctx->cm_n)
		cm_charge_run(p, tctx);
	if (tctx->class != BATON_CLASS_LIVE) {
		tctx->vtime += used * BATON_WEIGHT_DEFAULT / vtime_weight(p, tctx);
		return;
	}
	tctx->ran_ns += used;
	if (tctx->ran_ns >= tctx->rel_deadline_ns) { /* overrunning: see the top of the file */
		mark_overrun(tctx);
		tctx->deadline = overrun_deadline(tctx);
		tctx->ran_ns = 0;
	}
}

s32 BPF_STRUCT_OPS(baton_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	struct task_ctx *tctx;

	tctx = bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tctx)
		return -ENOMEM;
	tctx->class = default_class(p);
	tctx->hint_class = tctx->class;
	tctx->clock_cpu = clock_cpu(p);
	tctx->vtime = *clock_of(tctx->clock_cpu, tctx->class);
	return 0;
}

/*
 * A task is announced when it is first enabled, not at init_task: the kernel sets a forked task's
 * start_time after init_task (it still holds its parent's then), and the agent keys the task's
 * hints by the start time this record carries. Once per task (and adopting agent: announce()),
 * however often it leaves sched_ext (another scheduling policy) and comes back; a task never
 * enabled is never scheduled here.
 */
void BPF_STRUCT_OPS(baton_enable, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx(p);

	if (!tctx)
		return;
	tctx->queued_at = 0; /* back from another scheduling class: a new wait, not the old one */
	announce(p, tctx);
}

/*
 * A task whose affinity moves it between clocks (pinned after fork, as taskset and encoders
 * that pin themselves are) keeps its place: its lead or lag on the old clock, carried to the new.
 * Measured against the new clock as it was, a vtime from the class clock sat up to VTIME_MAX_LEAD
 * slices away from its CPU's, and two hogs pinned to one CPU at once ran alone by turns for up to
 * 2 s before their weights showed. Not a reset to the clock: that would let a task shed its debt
 * by calling sched_setaffinity.
 */
void BPF_STRUCT_OPS(baton_set_cpumask, struct task_struct *p, const struct cpumask *cpumask)
{
	struct task_ctx *tctx = task_ctx(p);
	s32 cpu = bpf_cpumask_weight(cpumask) == 1 ? (s32)bpf_cpumask_first(cpumask) : -1;

	if (!tctx || cpu == tctx->clock_cpu)
		return;
	if (tctx->class != BATON_CLASS_LIVE)
		tctx->vtime = *clock_of(cpu, tctx->class) + (tctx->vtime - *clock_of(tctx->clock_cpu, tctx->class));
	tctx->clock_cpu = cpu;
}

void BPF_STRUCT_OPS(baton_exit_task, struct task_struct *p, struct scx_exit_task_args *args)
{
	struct baton_task_key key = { .pid = p->pid, .start_ns = p->start_time };

	/* Housekeeping only: the start time in the key already keeps the hint from a new task. */
	bpf_map_delete_elem(&task_hints, &key);
	emit_task_event(p, BATON_EV_TASK_EXIT);
}

static bool heartbeat_stale(u64 now)
{
	u64 beat = live.heartbeat_ns;

	/* A beat from the future (another clock's skew) counts as fresh rather than wrapping. */
	return !beat || (s64)(now - beat) > (s64)live.stale_ns;
}

/*
 * stale_ns / 4, at most HEARTBEAT_CHECK_MAX_NS: a reload that lowers stale_ns takes effect at the
 * timer's next run, which a long stale_ns (60 s at most) would otherwise put 15 s away.
 */
#define HEARTBEAT_CHECK_MAX_NS (500 * NSEC_PER_MSEC)
static u64 heartbeat_period_ns(void)
{
	u64 period = live.stale_ns / 4;

	if (period > HEARTBEAT_CHECK_MAX_NS)
		return HEARTBEAT_CHECK_MAX_NS;
	return period < NSEC_PER_MSEC ? NSEC_PER_MSEC : period;
}

/* Whether the agent that wrote the heartbeat has exited, or is exiting; false if none is named. */
static bool agent_died(u32 pid)
{
	struct task_struct *t;
	bool died;

	if (!pid)
		return false;
	t = bpf_task_from_pid(pid);
	if (!t)
		return true;
	/* A pid reused since is a live process: the hints go stale, which is the safe side. */
	died = t->exit_state || (t->flags & PF_EXITING);
	bpf_task_release(t);
	return died;
}

/* Runs every heartbeat_period_ns(): enters or leaves stale mode and counts the time spent in it. */
static int check_heartbeat(void *map, u32 *key, struct bpf_timer *timer)
{
	u64 now = bpf_ktime_get_ns();
	bool stale = heartbeat_stale(now);
	u64 grace = live.exit_grace_ns;

	/* Fresh until now and its agent gone: kept for the next agent (see the top of the file). */
	if (stale && !hints_stale && grace && agent_died(live.agent_pid)) {
		live.agent_pid = 0;
		live.heartbeat_ns = now + grace;
		stale = false;
		stat_inc(BATON_STAT_AGENT_DEATHS);
	}

	if (hints_stale)
		stat_add(BATON_STAT_STALE_NS, now - last_heartbeat_check);
	if (stale && !hints_stale)
		stat_inc(BATON_STAT_STALE_PERIODS);
	hints_stale = stale;
	last_heartbeat_check = now;
	bpf_for_each_map_elem(&cm_cgroups, cm_sweep, NULL, 0);
	bpf_timer_start(timer, heartbeat_period_ns(), 0);
	return 0;
}

/*
 * CPU hotplug. Without these callbacks sched_ext ends the scheduler whenever a CPU goes offline or
 * comes online (and asks for a new one): measured in the VM, a second on EEVDF at rest and up to
 * 19 s under live load, a new attach and the operator's hints lost, for each CPU that an
 * operator, rasdaemon (a CPU with too many corrected errors) or an SMT switch takes away or
 * gives back. A CPU gone offline keeps the preemption mark of whatever ran there last, so it is
 * flagged, and the victim scan skips it: a LIVE wakeup that kicked it would wait for a dispatch
 * that never comes. One coming online has not served any class yet, which its guard would take
 * for starvation. The count tells the agent how much live work the host can take.
 */
#ifndef BATON_TEST_NO_HOTPLUG /* bpf/test/baton_nohotplug.bpf.c */
static void cpu_hotplug(s32 cpu, bool online)
{
	struct cpu_ctx *c;
	u64 now = baton_now();
	u32 cls;

	c = cpu_ctx_of(cpu);
	if (c) {
		c->offline = !online;
		c->kicked = false;
		c->guard_end = 0;
		c->running_key = NONLIVE_KEY(BATON_CLASS_IDLE);
		bpf_for(cls, 0, BATON_NR_CLASSES)
			c->served_at[class_index(cls)] = now;
	}
	if (online)
		__sync_fetch_and_add(&live.nr_cpus, 1);
	else
		__sync_fetch_and_sub(&live.nr_cpus, 1);
}

void BPF_STRUCT_OPS(baton_cpu_online, s32 cpu)
{
	cpu_hotplug(cpu, true);
}

void BPF_STRUCT_OPS(baton_cpu_offline, s32 cpu)
{
	cpu_hotplug(cpu, false);
}
#endif

s32 BPF_STRUCT_OPS_SLEEPABLE(baton_init)
{
	const struct cpumask *online;
	struct bpf_timer *timer;
	u32 zero = 0;
	s32 err;
	u32 cls;

	nr_cpu_ids = scx_bpf_nr_cpu_ids();
	/* sched_ext holds off hotplug while it enables a scheduler: the count cannot go stale here. */
	live.cpu_max = bpf_core_field_exists(struct scx_cgroup_init_args, bw_quota_us);
	online = scx_bpf_get_online_cpumask();
	live.nr_cpus = bpf_cpumask_weight(online);
	scx_bpf_put_cpumask(online);
	bpf_for(cls, 0, BATON_NR_CLASSES) {
		err = scx_bpf_create_dsq(cls, -1);
		if (err)
			return err;
	}
	last_heartbeat_check = bpf_ktime_get_ns();
	hints_stale = heartbeat_stale(last_heartbeat_check);

	timer = bpf_map_lookup_elem(&timers, &zero);
	if (!timer)
		return -ESRCH;
	bpf_timer_init(timer, &timers, CLOCK_MONOTONIC);
	bpf_timer_set_callback(timer, check_heartbeat);
	return bpf_timer_start(timer, heartbeat_period_ns(), 0);
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
		bpf_probe_read_kernel_str(out->dump, sizeof(out->dump), BPF_CORE_READ(ei, dump));
		/*
		 * The agent reads this map after the SCHED_EXIT event below, whose commit orders
		 * these writes before it, or after detaching, when ops.exit has returned.
		 */
		out->kind = BPF_CORE_READ(ei, kind);
	}
	emit_task_event(NULL, BATON_EV_SCHED_EXIT);
}

/* Baton's part of the kernel's debug dump: what an ejection report needs to be explained. */
void BPF_STRUCT_OPS(baton_dump, struct scx_dump_ctx *dctx)
{
	baton_dump_line("baton: hints_stale=%d hint_gen=%llu vtime_now live=%llu int=%llu normal=%llu batch=%llu idle=%llu",
		   hints_stale, live.hint_gen, vtime_now[0], vtime_now[1], vtime_now[2], vtime_now[3], vtime_now[4]);
}

void BPF_STRUCT_OPS(baton_dump_task, struct scx_dump_ctx *dctx, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx(p);

	if (tctx)
		baton_dump_line("baton: class=%u hint=%u gen=%llu vtime=%llu deadline=%llu ran=%llu direct=%d",
			   tctx->class, tctx->hint_class, tctx->hint_gen, tctx->vtime, tctx->deadline,
			   tctx->ran_ns, tctx->direct);
}

/*
 * Not a scheduler callback: the agent runs it with BPF_PROG_TEST_RUN to learn what the kernel
 * knows of a pid, chiefly the start time that a task_hints key needs.
 */
SEC("syscall")
int baton_query_task(struct baton_task_query *q)
{
	struct task_struct *p = bpf_task_from_pid(q->pid);
	struct task_ctx *tctx;

	if (!p)
		return -ESRCH;
	q->tgid = p->tgid;
	q->start_ns = p->start_time;
	q->leader_start_ns = p->group_leader->start_time;
	q->cgroup_id = task_cgroup_id(p);
	tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	q->sched_class = tctx ? tctx->class : BATON_CLASS_NORMAL;
	q->weight = tctx ? task_weight(p, tctx) : p->scx.weight;
	bpf_probe_read_kernel_str(q->comm, sizeof(q->comm), p->comm);
	bpf_task_release(p);
	return 0;
}

SEC(".struct_ops.link")
struct sched_ext_ops baton_ops = {
	.select_cpu = (void *)baton_select_cpu,
	.enqueue = (void *)baton_enqueue,
	.dispatch = (void *)baton_dispatch,
	.running = (void *)baton_running,
	.stopping = (void *)baton_stopping,
	.tick = (void *)baton_tick,
	.cgroup_init = (void *)baton_cgroup_init,
	.cgroup_exit = (void *)baton_cgroup_exit,
	.cgroup_set_bandwidth = (void *)baton_cgroup_set_bandwidth,
	.init_task = (void *)baton_init_task,
	.enable = (void *)baton_enable,
	.set_cpumask = (void *)baton_set_cpumask,
	.exit_task = (void *)baton_exit_task,
#ifndef BATON_TEST_NO_HOTPLUG
	.cpu_online = (void *)baton_cpu_online,
	.cpu_offline = (void *)baton_cpu_offline,
#endif
	.init = (void *)baton_init,
	.exit = (void *)baton_exit,
	.dump = (void *)baton_dump,
	.dump_task = (void *)baton_dump_task,
	.flags = SCX_OPS_ENQ_LAST, /* a lone task out of cpu.max quota must reach ops.enqueue */
	.timeout_ms = 0, /* the kernel's default (30 s) unless the agent sets it before load */
	.name = "baton",
};
