/*
 * farm: a transcoding farm in one program, for comparing CPU schedulers.
 *
 * Live encoders release frame k at t0 + k * period_us (absolute CLOCK_MONOTONIC, so one late
 * frame does not shift the next), burn the frame's cost in thread CPU time, and record
 * lateness = completion - deadline, where the deadline is the next release. Costs are CPU time,
 * not wall time, so every scheduler is offered the same demand and only the waiting differs.
 * A live encoder with threads=N splits each frame's cost evenly over N threads that start together
 * at the release and must all finish (slice threads, as x264 and ffmpeg run them). A late encoder
 * drops nothing: it works through its backlog like an encoder with an output buffer; frames still
 * unfinished when the run ends count as missed, with their lateness at that moment (a lower
 * bound). Per-frame costs can jitter, from a generator seeded by the encoder's name, so every
 * setup sees the same sequence of costs.
 * VOD encoders run fixed units of work as fast as they are allowed and count them.
 *
 * Every encoder is one process (VOD threads are threads of it), so a scheduler's control API can
 * register it by pid: `farm run` forks them all, lets each apply the setup's policy to itself,
 * reports their pids, optionally waits for a go file, and then starts every clock at one t0.
 * The report is on stdout, one record per line of space-separated key=value pairs.
 *
 * Limits: costs are CPU time as the kernel accounts it; in an emulated guest a vCPU that the host
 * deschedules is still charged, so host contention steals from frames. Live encoders measure how
 * much (chunks of work that took far longer than calibrated) and report it as stall_pct: a run
 * with a high one measured the host more than the guest's scheduler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENCODERS 64
#define MAX_TENANTS 8
#define MAX_THREADS 16
#define NAME_LEN 32
#define MAX_ARGS 48
#define NSEC_PER_USEC 1000LL
#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL
/* Work between two reads of the thread's CPU clock: a frame overshoots its cost by at most this. */
#define CHUNK_TARGET_NS (50 * NSEC_PER_USEC)
/*
 * A chunk charged this many times its calibrated CPU time did not run all that time: in an
 * emulated guest, the host descheduled the vCPU and the guest charged the gap to the running task.
 */
#define STALL_FACTOR 4
/* One VOD unit: a fixed amount of work, so units compare across setups (not across machines). */
#define UNIT_ITERS (1 << 18)
/* Fixed SCHED_FIFO priority of every live encoder: static priority is what an operator has. */
#define LIVE_RT_PRIO 50
/* Lets every child get from its go read to its first release before t0. */
#define START_DELAY_NS (50 * NSEC_PER_MSEC)

/* Newer than some libcs' headers. */
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef SCHED_EXT
#define SCHED_EXT 7
#endif

enum kind { LIVE, VOD };

struct encoder {
	enum kind kind;
	char name[NAME_LEN];
	long long period_us, cost_us; /* live */
	int jitter_pct;               /* live */
	int tenant;                   /* vod */
	int threads;                  /* vod: threads of work; live: threads a frame is split over */
	long frames;                  /* live: frames released in the window */
	size_t slot;                  /* live: first lateness slot; vod: first counter slot */
	char *cmd[MAX_ARGS + 1];      /* live: a real encoder to run instead of burning CPU */
	int out_fd, at_line_start, skip_line; /* cmd: the parent's end of its stdout */
	long long clock_ns;           /* cmd: when its own clock released frame 0, see pace() */
	pid_t pid;
	int exited, status, exited_early; /* early: before we killed what was left */
	struct rusage ru;
};

struct tenant {
	char name[NAME_LEN];
	double weight;
};

/* Filled by the run options and the scenario; read-only in the children. */
static struct {
	long long seconds;
	struct encoder enc[MAX_ENCODERS];
	int nr_enc;
	struct tenant ten[MAX_TENANTS];
	int nr_ten;
	int live_fifo, live_nice;
	const char *ready_file, *go_file;
	unsigned long long seed;
	long chunk_iters;
	long long chunk_ns; /* what a chunk costs when nothing steals from it */
} cfg = { .seconds = 20, .seed = 1 };

/* Shared with the children (MAP_SHARED): the start time and everything they measure. */
struct shared {
	long long t0_ns;
	long long done[MAX_ENCODERS];     /* live: frames completed */
	int policy[MAX_ENCODERS];         /* scheduling policy each encoder ended up with */
	int nice[MAX_ENCODERS];
	long long burn_ns[MAX_ENCODERS];  /* live: CPU time charged while burning frames */
	long long stall_ns[MAX_ENCODERS]; /* live: of which stolen by stalls, see STALL_FACTOR */
	long long slot[];                 /* live: lateness per frame (ns); vod: units per thread */
};
#define COUNTER_STRIDE 8 /* long longs per VOD counter: one 64-byte line, no false sharing */
static struct shared *sh;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("farm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_until(long long t_ns)
{
	struct timespec ts = { t_ns / NSEC_PER_SEC, t_ns % NSEC_PER_SEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---- work ------------------------------------------------------------------------------- */

/* Integer mixing with loads from a small table: an encoder's mix of ALU and cache traffic. */
static unsigned long long work(unsigned long long x, long iters)
{
	static __thread unsigned long long table[8192]; /* per thread: no sharing between them */

	for (long i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		table[x & 8191] += x;
		x += table[(x >> 20) & 8191];
	}
	return x;
}

static volatile unsigned long long sink;

/* Burns cost_ns of this thread's CPU time, whatever wall time that takes; counts stalls. */
static void burn(int e, long long cost_ns)
{
	long long start = now_ns(CLOCK_THREAD_CPUTIME_ID), t = start, stall = 0;
	unsigned long long x = sink | 1;

	while (t < start + cost_ns) {
		long long prev = t;

		x = work(x, cfg.chunk_iters);
		t = now_ns(CLOCK_THREAD_CPUTIME_ID);
		if (t - prev > STALL_FACTOR * cfg.chunk_ns)
			stall += t - prev - cfg.chunk_ns;
	}
	sink = x;
	/* atomically: a live encoder's threads burn at once */
	__atomic_fetch_add(&sh->burn_ns[e], t - start, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->stall_ns[e], stall, __ATOMIC_RELAXED);
}

/* Sizes a chunk of work to about CHUNK_TARGET_NS on this machine (the best of a few tries). */
static void calibrate(void)
{
	long iters = 1000;
	long long best = LLONG_MAX;

	for (int i = 0; i < 5; i++) {
		long long t = now_ns(CLOCK_THREAD_CPUTIME_ID);

		sink = work(sink | 1, iters * 10);
		t = now_ns(CLOCK_THREAD_CPUTIME_ID) - t;
		if (t > 0 && t < best)
			best = t;
	}
	if (best == LLONG_MAX)
		best = CHUNK_TARGET_NS;
	cfg.chunk_iters = iters * 10 * CHUNK_TARGET_NS / best;
	if (cfg.chunk_iters < 100)
		cfg.chunk_iters = 100;
	cfg.chunk_ns = best * cfg.chunk_iters / (iters * 10);
}

/* xorshift64*: the per-frame cost jitter, reproducible from the encoder's name and the seed. */
static unsigned long long next_rand(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static unsigned long long name_seed(const char *name)
{
	unsigned long long h = 1469598103934665603ULL ^ cfg.seed;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return h ? h : 1;
}

/* ---- encoders (children) ---------------------------------------------------------------- */

/* A live encoder's frame, shared by its threads: each burns `share` once both barriers let it. */
static struct {
	pthread_barrier_t start, end;
	int e;
	long long share;
} team;

static void *live_thread(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_barrier_wait(&team.start);
		burn(team.e, team.share);
		pthread_barrier_wait(&team.end);
	}
	return NULL;
}

static void run_live(int e)
{
	struct encoder *enc = &cfg.enc[e];
	long long period = enc->period_us * NSEC_PER_USEC, cost = enc->cost_us * NSEC_PER_USEC;
	unsigned long long rng = name_seed(enc->name);
	pthread_t t;

	/* Threads inherit the policy and nice apply_policy gave this one (PTHREAD_INHERIT_SCHED). */
	if (enc->threads > 1) {
		team.e = e;
		if (pthread_barrier_init(&team.start, NULL, enc->threads) ||
		    pthread_barrier_init(&team.end, NULL, enc->threads))
			die("%s: cannot make barriers", enc->name);
		for (int i = 1; i < enc->threads; i++)
			if (pthread_create(&t, NULL, live_thread, NULL))
				die("%s: cannot start thread %d", enc->name, i);
	}

	for (long k = 0; k < enc->frames; k++) {
		long long release = sh->t0_ns + k * period, c = cost;

		if (enc->jitter_pct) {
			/* uniform in [-jitter, +jitter] percent of the cost */
			long long span = 2 * cost * enc->jitter_pct / 100;

			c = cost - span / 2 + (long long)(next_rand(&rng) % (unsigned long long)(span + 1));
		}
		if (now_ns(CLOCK_MONOTONIC) < release)
			sleep_until(release);
		if (enc->threads > 1) {
			team.share = c / enc->threads;
			pthread_barrier_wait(&team.start);
			burn(e, team.share);
			pthread_barrier_wait(&team.end);
		} else {
			burn(e, c);
		}
		sh->slot[enc->slot + k] = now_ns(CLOCK_MONOTONIC) - (release + period);
		__atomic_store_n(&sh->done[e], k + 1, __ATOMIC_RELEASE);
	}
}

static long long *vod_counter(const struct encoder *enc, int thread)
{
	return &sh->slot[enc->slot + (size_t)thread * COUNTER_STRIDE];
}

static void *vod_thread(void *arg)
{
	long long *units = arg;
	unsigned long long x = (unsigned long long)(uintptr_t)arg | 1;

	for (;;) {
		x = work(x, UNIT_ITERS);
		sink = x;
		__atomic_store_n(units, *units + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void run_vod(int e)
{
	struct encoder *enc = &cfg.enc[e];
	pthread_t t;

	for (int i = 1; i < enc->threads; i++)
		if (pthread_create(&t, NULL, vod_thread, vod_counter(enc, i)))
			die("%s: cannot start thread %d", enc->name, i);
	vod_thread(vod_counter(enc, 0));
}

/* Applies the setup's policy to a live encoder; VOD encoders keep the defaults. */
static int apply_policy(const struct encoder *enc)
{
	if (enc->kind != LIVE)
		return 0;
	if (cfg.live_nice && setpriority(PRIO_PROCESS, 0, cfg.live_nice)) {
		fprintf(stderr, "farm: %s: cannot set nice %d: %s\n", enc->name, cfg.live_nice,
			strerror(errno));
		return -1;
	}
	if (cfg.live_fifo) {
		struct sched_param sp = { .sched_priority = LIVE_RT_PRIO };

		if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
			fprintf(stderr, "farm: %s: cannot set SCHED_FIFO: %s\n", enc->name,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void child(int e, int ready_fd, int go_fd)
{
	char ok, buf;

	/* An encoder outliving an interrupted run would burn CPU for ever. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
		_exit(2);
	ok = apply_policy(&cfg.enc[e]) ? 'E' : 'R';
	/* What the kernel says, not what was asked: the report shows the setup as it ran. */
	sh->policy[e] = sched_getscheduler(0);
	sh->nice[e] = getpriority(PRIO_PROCESS, 0);
	if (write(ready_fd, &ok, 1) != 1 || ok != 'R')
		_exit(2);
	close(ready_fd);
	/* The go pipe's write end closes when t0 is set (or when the parent dies). */
	while (read(go_fd, &buf, 1) > 0)
		;
	if (!sh->t0_ns)
		_exit(2);
	sleep_until(sh->t0_ns);
	if (cfg.enc[e].cmd[0]) {
		static char secs[24];

		snprintf(secs, sizeof(secs), "%lld", cfg.seconds);
		for (char **a = cfg.enc[e].cmd; *a; a++)
			if (!strcmp(*a, "@SECONDS@"))
				*a = secs;
		execvp(cfg.enc[e].cmd[0], cfg.enc[e].cmd);
		fprintf(stderr, "farm: %s: cannot run %s: %s\n", cfg.enc[e].name, cfg.enc[e].cmd[0],
			strerror(errno));
		_exit(127);
	}
	if (cfg.enc[e].kind == LIVE)
		run_live(e);
	else
		run_vod(e);
	_exit(0);
}

/* ---- scenario ----------------------------------------------------------------------------- */

static long long parse_num(const char *where, const char *key, const char *v, long long lo,
			   long long hi)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		die("%s: %s=%s: want a whole number in [%lld, %lld]", where, key, v, lo, hi);
	return n;
}

static void set_name(char *dst, const char *where, const char *name)
{
	if (!*name || strlen(name) >= NAME_LEN || strspn(name, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(name))
		die("%s: name '%s': want 1-%d of [A-Za-z0-9_.-]", where, name, NAME_LEN - 1);
	strcpy(dst, name);
}

static int tenant_index(const char *where, const char *name, int create)
{
	for (int i = 0; i < cfg.nr_ten; i++)
		if (!strcmp(cfg.ten[i].name, name))
			return i;
	if (!create)
		return -1;
	if (cfg.nr_ten == MAX_TENANTS)
		die("%s: more than %d tenants", where, MAX_TENANTS);
	set_name(cfg.ten[cfg.nr_ten].name, where, name);
	cfg.ten[cfg.nr_ten].weight = 1;
	return cfg.nr_ten++;
}

/*
 * One scenario line:
 *   seconds S                                   the measured window (default 20)
 *   live NAME period_us=P cost_us=C [jitter_pct=J] [threads=N]   C: a frame's CPU over all N
 *   live NAME period_us=P cmd COMMAND ARGS...   a real encoder instead of burning CPU: each
 *                                               stdout line is a frame done ('#' lines are not)
 *   vod NAME tenant=T [threads=N]
 *   tenant NAME weight=W                        VOD share intended for T (default 1)
 * Blank lines and '#' comments are ignored.
 */
static void parse_line(const char *where, char *line)
{
	char *word[MAX_ARGS + 8], *save = NULL;
	int n = 0;

	line[strcspn(line, "#\r\n")] = 0;
	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_ARGS + 8)
			die("%s: too many words", where);
		word[n++] = w;
	}
	if (!n)
		return;
	if (!strcmp(word[0], "seconds")) {
		if (n != 2)
			die("%s: want 'seconds S'", where);
		cfg.seconds = parse_num(where, "seconds", word[1], 1, 3600);
		return;
	}
	if (n < 2)
		die("%s: '%s' needs a name", where, word[0]);

	if (!strcmp(word[0], "tenant")) {
		int t = tenant_index(where, word[1], 1);

		for (int i = 2; i < n; i++) {
			if (strncmp(word[i], "weight=", 7))
				die("%s: unknown key in '%s' (tenant takes weight=)", where, word[i]);
			cfg.ten[t].weight = parse_num(where, "weight", word[i] + 7, 1, 10000);
		}
		return;
	}

	if (cfg.nr_enc == MAX_ENCODERS)
		die("%s: more than %d encoders", where, MAX_ENCODERS);
	struct encoder *enc = &cfg.enc[cfg.nr_enc];

	memset(enc, 0, sizeof(*enc));
	enc->out_fd = -1;
	enc->tenant = -1;
	enc->threads = 1;
	set_name(enc->name, where, word[1]);
	for (int i = 0; i < cfg.nr_enc; i++)
		if (!strcmp(cfg.enc[i].name, enc->name))
			die("%s: encoder '%s' is defined twice", where, enc->name);
	if (!strcmp(word[0], "live"))
		enc->kind = LIVE;
	else if (!strcmp(word[0], "vod"))
		enc->kind = VOD;
	else
		die("%s: unknown record '%s' (want seconds, live, vod or tenant)", where, word[0]);

	for (int i = 2; i < n; i++) {
		char *eq = strchr(word[i], '=');

		if (enc->kind == LIVE && !strcmp(word[i], "cmd")) {
			if (i + 1 == n)
				die("%s: cmd needs a command", where);
			for (int a = i + 1; a < n; a++) {
				enc->cmd[a - i - 1] = strdup(word[a]);
				if (!enc->cmd[a - i - 1])
					die("out of memory");
			}
			break;
		}
		if (!eq)
			die("%s: '%s' is not key=value", where, word[i]);
		*eq = 0;
		const char *k = word[i], *v = eq + 1;

		if (enc->kind == LIVE && !strcmp(k, "period_us"))
			enc->period_us = parse_num(where, k, v, 1000, 10 * 1000 * 1000);
		else if (enc->kind == LIVE && !strcmp(k, "cost_us"))
			enc->cost_us = parse_num(where, k, v, 1, 10 * 1000 * 1000);
		else if (enc->kind == LIVE && !strcmp(k, "jitter_pct"))
			enc->jitter_pct = parse_num(where, k, v, 0, 100);
		else if (enc->kind == VOD && !strcmp(k, "tenant"))
			enc->tenant = tenant_index(where, v, 1);
		else if (!strcmp(k, "threads"))
			enc->threads = parse_num(where, k, v, 1, MAX_THREADS);
		else
			die("%s: unknown key '%s' for %s", where, k, word[0]);
	}
	if (enc->kind == LIVE && (!enc->period_us || (!enc->cost_us && !enc->cmd[0])))
		die("%s: live needs period_us= and either cost_us= or cmd", where);
	if (enc->kind == LIVE && enc->cmd[0] && enc->threads > 1)
		die("%s: threads= splits burnt frames; a cmd encoder runs its own threads", where);
	if (enc->kind == LIVE && enc->cost_us > enc->period_us * enc->threads)
		die("%s: cost_us=%lld exceeds period_us=%lld x threads=%d: every frame would miss",
		    where, enc->cost_us, enc->period_us, enc->threads);
	if (enc->kind == VOD && enc->tenant < 0)
		die("%s: vod needs tenant=", where);
	cfg.nr_enc++;
}

static void parse_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char line[2048], where[PATH_MAX + 32];
	int n = 0;

	if (!f)
		die("cannot read scenario %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		snprintf(where, sizeof(where), "%s:%d", path, ++n);
		parse_line(where, line);
	}
	if (f != stdin)
		fclose(f);
}

/*
 * Frame k is due when frame k + 1 is released: t0 + (k + 1) periods. A real encoder paces itself
 * from its own start, which loading it delays, so its frames are released on its own clock: the
 * best pace it showed, min(arrival - k periods). Its frame k missed if it came out more than a
 * period behind that pace. Turns a real encoder's arrival times into lateness, in place.
 */
static void pace(struct encoder *enc, long long done)
{
	long long period = enc->period_us * NSEC_PER_USEC, *t = &sh->slot[enc->slot], best;

	if (!enc->cmd[0] || !done)
		return;
	best = t[0];
	for (long k = 1; k < done; k++)
		if (t[k] - k * period < best)
			best = t[k] - k * period;
	enc->clock_ns = sh->t0_ns + best;
	for (long k = 0; k < done; k++)
		t[k] -= best + (k + 1) * period;
}

static long long deadline(const struct encoder *enc, long k)
{
	return (enc->clock_ns ? enc->clock_ns : sh->t0_ns) + (k + 1) * enc->period_us * NSEC_PER_USEC;
}

/* ---- report ------------------------------------------------------------------------------- */

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array, in microseconds. */
static long long pct_us(const long long *sorted, size_t n, int p)
{
	size_t rank = (n * p + 99) / 100;

	return n ? sorted[rank ? rank - 1 : 0] / NSEC_PER_USEC : 0;
}

static long long ru_ms(const struct rusage *ru)
{
	return (ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000LL +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
}

/* Of which in the kernel: under emulation, what the scheduler's own code costs shows here. */
static long long ru_sys_ms(const struct rusage *ru)
{
	return ru->ru_stime.tv_sec * 1000LL + ru->ru_stime.tv_usec / 1000;
}

static const char *policy_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER: return "other";
	case SCHED_FIFO: return "fifo";
	case SCHED_RR: return "rr";
	case SCHED_BATCH: return "batch";
	case SCHED_IDLE: return "idle";
	case SCHED_DEADLINE: return "deadline";
	case SCHED_EXT: return "ext";
	default: return "unknown";
	}
}

static void print_encoder(FILE *f, int e)
{
	const struct encoder *enc = &cfg.enc[e];

	fprintf(f, "record=encoder name=%s kind=%s pid=%d policy=%s nice=%d", enc->name,
		enc->kind == LIVE ? "live" : "vod", enc->pid, policy_name(sh->policy[e]),
		sh->nice[e]);
	if (enc->kind == LIVE && enc->cmd[0])
		fprintf(f, " period_us=%lld frames=%ld cmd=%s\n", enc->period_us, enc->frames,
			enc->cmd[0]);
	else if (enc->kind == LIVE)
		fprintf(f, " period_us=%lld cost_us=%lld jitter_pct=%d threads=%d frames=%ld\n",
			enc->period_us, enc->cost_us, enc->jitter_pct, enc->threads, enc->frames);
	else
		fprintf(f, " tenant=%s threads=%d\n", cfg.ten[enc->tenant].name, enc->threads);
}

static void report(const long long *units, long long end_ns)
{
	long long *all = NULL;
	size_t nr_all = 0, total_frames = 0;
	long long missed_all = 0, burn_all = 0, stall_all = 0;
	double window_s = (double)cfg.seconds;

	for (int e = 0; e < cfg.nr_enc; e++)
		if (cfg.enc[e].kind == LIVE)
			total_frames += cfg.enc[e].frames;
	all = malloc((total_frames ? total_frames : 1) * sizeof(*all));
	if (!all)
		die("out of memory");

	for (int e = 0; e < cfg.nr_enc; e++) {
		struct encoder *enc = &cfg.enc[e];

		if (enc->kind != LIVE)
			continue;
		long long done = sh->done[e], missed = 0;
		long long *late = &all[nr_all];
		long first = -1, last = -1; /* frames: when misses began and ended */

		pace(enc, done);
		for (long k = 0; k < enc->frames; k++) {
			/* unfinished: late by at least the time the run ended */
			late[k] = k < done ? sh->slot[enc->slot + k] : end_ns - deadline(enc, k);
			if (late[k] > 0 || k >= done) {
				missed++;
				first = first < 0 ? k : first;
				last = k;
			}
		}
		nr_all += enc->frames;
		missed_all += missed;
		qsort(late, enc->frames, sizeof(*late), cmp_ll);
		burn_all += sh->burn_ns[e];
		stall_all += sh->stall_ns[e];
		printf("record=live name=%s pid=%d frames=%ld done=%lld missed=%lld missed_pct=%.2f"
		       " late_p50_us=%lld late_p99_us=%lld late_max_us=%lld cpu_ms=%lld"
		       " sys_ms=%lld stall_pct=%.2f first_missed_ms=%lld last_missed_ms=%lld\n",
		       enc->name, enc->pid, enc->frames, done, missed, 100.0 * missed / enc->frames,
		       pct_us(late, enc->frames, 50), pct_us(late, enc->frames, 99),
		       pct_us(late, enc->frames, 100), ru_ms(&enc->ru), ru_sys_ms(&enc->ru),
		       sh->burn_ns[e] ? 100.0 * sh->stall_ns[e] / sh->burn_ns[e] : 0.0,
		       first < 0 ? -1 : first * enc->period_us / 1000,
		       last < 0 ? -1 : last * enc->period_us / 1000);
	}

	double tenant_ups[MAX_TENANTS] = { 0 }, vod_ups = 0;
	int nr_vod = 0;

	for (int e = 0; e < cfg.nr_enc; e++) {
		struct encoder *enc = &cfg.enc[e];

		if (enc->kind != VOD)
			continue;
		nr_vod++;
		tenant_ups[enc->tenant] += units[e] / window_s;
		vod_ups += units[e] / window_s;
		printf("record=vod name=%s pid=%d tenant=%s threads=%d units=%lld units_per_s=%.2f"
		       " cpu_ms=%lld sys_ms=%lld\n",
		       enc->name, enc->pid, cfg.ten[enc->tenant].name, enc->threads, units[e],
		       units[e] / window_s, ru_ms(&enc->ru), ru_sys_ms(&enc->ru));
	}

	/*
	 * Fairness: the worst over the best tenant's throughput per unit of weight; 1 = as intended.
	 * Fewer than two tenants (or no VOD work at all) have nobody to be unfair to.
	 */
	double lo = 1, hi = 1;

	for (int t = 0; t < cfg.nr_ten; t++) {
		double norm = tenant_ups[t] / cfg.ten[t].weight;

		printf("record=tenant name=%s weight=%g units_per_s=%.2f\n", cfg.ten[t].name,
		       cfg.ten[t].weight, tenant_ups[t]);
		lo = t == 0 || norm < lo ? norm : lo;
		hi = t == 0 || norm > hi ? norm : hi;
	}
	if (hi <= 0) {
		lo = 1;
		hi = 1;
	}

	qsort(all, nr_all, sizeof(*all), cmp_ll);
	printf("record=summary seconds=%lld live_encoders=%d live_frames=%zu live_missed=%lld"
	       " live_missed_pct=%.2f late_p50_us=%lld late_p99_us=%lld late_max_us=%lld"
	       " vod_encoders=%d vod_units_per_s=%.2f vod_fairness=%.3f stall_pct=%.2f"
	       " chunk_iters=%ld chunk_us=%.1f\n",
	       cfg.seconds, cfg.nr_enc - nr_vod, nr_all, missed_all,
	       nr_all ? 100.0 * missed_all / nr_all : 0.0, pct_us(all, nr_all, 50),
	       pct_us(all, nr_all, 99), pct_us(all, nr_all, 100), nr_vod, vod_ups, lo / hi,
	       burn_all ? 100.0 * stall_all / burn_all : 0.0, cfg.chunk_iters,
	       cfg.chunk_ns / 1000.0);
	free(all);
}

/* ---- run ---------------------------------------------------------------------------------- */

static void kill_all(void)
{
	for (int e = 0; e < cfg.nr_enc; e++)
		if (cfg.enc[e].pid > 0 && !cfg.enc[e].exited)
			kill(cfg.enc[e].pid, SIGKILL);
}

static void reap(int e, int flags)
{
	struct encoder *enc = &cfg.enc[e];
	int status;

	if (enc->exited || enc->pid <= 0)
		return;
	if (wait4(enc->pid, &status, flags, &enc->ru) == enc->pid) {
		enc->exited = 1;
		enc->status = status;
	}
}

static void write_ready_file(void)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", cfg.ready_file);
	f = fopen(tmp, "w");
	if (!f)
		die("cannot write %s: %s", tmp, strerror(errno));
	for (int e = 0; e < cfg.nr_enc; e++)
		print_encoder(f, e);
	if (fclose(f) || rename(tmp, cfg.ready_file))
		die("cannot write %s: %s", cfg.ready_file, strerror(errno));
}

/*
 * Waits up to timeout_ns (10 ms at most, to notice exits) for frame lines from command encoders:
 * one line of their stdout is one frame done, except lines that start with '#' (headers).
 */
static void wait_frames(long long timeout_ns)
{
	struct pollfd fds[MAX_ENCODERS];
	int idx[MAX_ENCODERS], n = 0;
	char buf[4096];

	for (int e = 0; e < cfg.nr_enc; e++)
		if (cfg.enc[e].out_fd >= 0) {
			fds[n] = (struct pollfd){ .fd = cfg.enc[e].out_fd, .events = POLLIN };
			idx[n++] = e;
		}
	if (timeout_ns > 10 * NSEC_PER_MSEC)
		timeout_ns = 10 * NSEC_PER_MSEC;
	if (poll(fds, n, (int)(timeout_ns / NSEC_PER_MSEC) + 1) <= 0)
		return;
	long long now = now_ns(CLOCK_MONOTONIC);

	for (int i = 0; i < n; i++) {
		struct encoder *enc = &cfg.enc[idx[i]];
		ssize_t got;

		if (!fds[i].revents)
			continue;
		got = read(enc->out_fd, buf, sizeof(buf));
		if (got <= 0) {
			close(enc->out_fd);
			enc->out_fd = -1;
			continue;
		}
		for (ssize_t j = 0; j < got; j++) {
			if (enc->at_line_start)
				enc->skip_line = buf[j] == '#';
			enc->at_line_start = buf[j] == '\n';
			long long k = sh->done[idx[i]];

			if (buf[j] != '\n' || enc->skip_line || k >= enc->frames)
				continue;
			sh->slot[enc->slot + k] = now - sh->t0_ns; /* made relative by pace() */
			sh->done[idx[i]] = k + 1;
		}
	}
}

static int run(void)
{
	int ready[2], go[2], out[MAX_ENCODERS], stamping = 0;
	size_t slots = 0;
	long long max_period = 0;

	if (!cfg.nr_enc)
		die("the scenario has no encoders");
	for (int e = 0; e < cfg.nr_enc; e++) {
		struct encoder *enc = &cfg.enc[e];

		if (enc->kind != LIVE)
			continue;
		enc->frames = (cfg.seconds * 1000000LL + enc->period_us - 1) / enc->period_us;
		enc->slot = slots;
		slots += enc->frames;
		if (enc->period_us > max_period)
			max_period = enc->period_us;
	}
	for (int e = 0; e < cfg.nr_enc; e++) {
		if (cfg.enc[e].kind != VOD)
			continue;
		slots = (slots + COUNTER_STRIDE - 1) / COUNTER_STRIDE * COUNTER_STRIDE;
		cfg.enc[e].slot = slots;
		slots += (size_t)cfg.enc[e].threads * COUNTER_STRIDE;
	}
	sh = mmap(NULL, sizeof(*sh) + slots * sizeof(long long), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("cannot map %zu result slots: %s", slots, strerror(errno));

	calibrate();
	if (pipe(ready) || pipe(go))
		die("pipe: %s", strerror(errno));
	for (int e = 0; e < cfg.nr_enc; e++) {
		int p[2];

		if (!cfg.enc[e].cmd[0])
			continue;
		if (pipe2(p, O_CLOEXEC))
			die("pipe: %s", strerror(errno));
		cfg.enc[e].out_fd = p[0];
		out[e] = p[1];
		cfg.enc[e].at_line_start = 1;
		stamping = 1;
	}
	fflush(stdout);
	for (int e = 0; e < cfg.nr_enc; e++) {
		pid_t pid = fork();

		if (pid < 0) {
			kill_all();
			die("fork: %s", strerror(errno));
		}
		if (!pid) {
			close(ready[0]);
			close(go[1]);
			for (int o = 0; o < cfg.nr_enc; o++)
				if (cfg.enc[o].cmd[0] && o != e)
					close(cfg.enc[o].out_fd);
			if (cfg.enc[e].cmd[0] && (dup2(out[e], 1) < 0 || close(cfg.enc[e].out_fd)))
				_exit(2);
			child(e, ready[1], go[0]);
		}
		cfg.enc[e].pid = pid;
		if (cfg.enc[e].cmd[0])
			close(out[e]);
	}
	close(ready[1]);
	close(go[0]);
	/* Frame lines are stamped on arrival: the reader must not wait behind the load. */
	struct sched_param sp = { .sched_priority = sched_get_priority_max(SCHED_FIFO) };

	if (stamping && sched_setscheduler(0, SCHED_FIFO, &sp)) {
		kill_all();
		die("cannot become SCHED_FIFO to time a command's frames: %s", strerror(errno));
	}
	for (int e = 0; e < cfg.nr_enc; e++) {
		char c;

		if (read(ready[0], &c, 1) != 1 || c != 'R') {
			kill_all();
			die("an encoder could not start (see above)");
		}
	}
	for (int e = 0; e < cfg.nr_enc; e++)
		print_encoder(stdout, e);
	fflush(stdout);
	if (cfg.ready_file)
		write_ready_file();
	if (cfg.go_file) {
		struct stat st;

		while (stat(cfg.go_file, &st))
			usleep(10000);
	}

	long long t0 = now_ns(CLOCK_MONOTONIC) + START_DELAY_NS;
	long long window_end = t0 + cfg.seconds * NSEC_PER_SEC;
	/* Time for late frames to finish after the window: they still count, as lateness. */
	long long hard_end = window_end + NSEC_PER_SEC + 2 * max_period * NSEC_PER_USEC +
			     (stamping ? 5 * NSEC_PER_SEC : 0); /* a real encoder starts late */
	long long units[MAX_ENCODERS] = { 0 };

	sh->t0_ns = t0;
	close(go[1]);

	/* VOD keeps competing until the last live frame is done, so the backlog is measured fairly. */
	for (int snapped = 0;;) {
		long long now = now_ns(CLOCK_MONOTONIC);
		int live_left = 0;

		if (!snapped && now >= window_end) {
			for (int e = 0; e < cfg.nr_enc; e++)
				for (int i = 0; cfg.enc[e].kind == VOD && i < cfg.enc[e].threads; i++)
					units[e] += __atomic_load_n(vod_counter(&cfg.enc[e], i),
								    __ATOMIC_RELAXED);
			snapped = 1;
		}
		for (int e = 0; e < cfg.nr_enc; e++)
			if (cfg.enc[e].kind == LIVE) {
				reap(e, WNOHANG);
				live_left += !cfg.enc[e].exited || cfg.enc[e].out_fd >= 0;
			}
		if (snapped && (!live_left || now >= hard_end))
			break;
		wait_frames((snapped ? hard_end : window_end) - now);
	}
	long long end_ns = now_ns(CLOCK_MONOTONIC);

	for (int e = 0; e < cfg.nr_enc; e++) {
		reap(e, WNOHANG);
		cfg.enc[e].exited_early = cfg.enc[e].exited;
	}
	kill_all();
	for (int e = 0; e < cfg.nr_enc; e++)
		reap(e, 0);
	report(units, end_ns);
	/* A real encoder that failed measured nothing: its frames count as missed, and we say so. */
	int failed = 0;

	for (int e = 0; e < cfg.nr_enc; e++) {
		const struct encoder *enc = &cfg.enc[e];

		if (enc->cmd[0] && enc->exited_early && !(WIFEXITED(enc->status) &&
		    !WEXITSTATUS(enc->status)) && sh->done[e] < enc->frames) {
			fprintf(stderr, "farm: %s: %s failed (status %#x) after %lld of %ld frames\n",
				enc->name, enc->cmd[0], enc->status, sh->done[e], enc->frames);
			failed = 1;
		}
	}
	return failed;
}

static void usage(void)
{
	fputs("usage: farm run [-f SCENARIO]... [-e LINE]... [--live-policy other|fifo]\n"
	      "                [--live-nice N] [--ready-file PATH] [--go-file PATH] [--seed N]\n"
	      "  Forks the scenario's encoders, prints their pids, starts them together (once\n"
	      "  GO exists, with --go-file) and prints key=value records of what they achieved.\n"
	      "  --live-policy fifo runs live encoders at SCHED_FIFO priority 50; --live-nice\n"
	      "  renices them. --ready-file gets the record=encoder lines (with pids) once every\n"
	      "  encoder is set up and waiting. Scenario lines (-f file, '-' for stdin, or -e):\n"
	      "    seconds S\n"
	      "    live NAME period_us=P cost_us=C [jitter_pct=J] [threads=N]   (C: a frame's CPU,\n"
	      "                                                split evenly over N threads)\n"
	      "    live NAME period_us=P cmd COMMAND ARGS...   (a real encoder: one stdout line per\n"
	      "        frame, '#' lines ignored; words split on blanks, no quoting; an argument\n"
	      "        @SECONDS@ becomes the window length)\n"
	      "    vod NAME tenant=T [threads=N]\n"
	      "    tenant NAME weight=W\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	int n_e = 0;

	if (argc < 2 || strcmp(argv[1], "run"))
		usage();
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char where[32];

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "-f")) {
			parse_file(v);
		} else if (!strcmp(a, "-e")) {
			char line[2048];

			snprintf(where, sizeof(where), "-e #%d", ++n_e);
			if (strlen(v) >= sizeof(line))
				die("%s: line too long", where);
			strcpy(line, v);
			parse_line(where, line);
		} else if (!strcmp(a, "--live-policy")) {
			if (strcmp(v, "other") && strcmp(v, "fifo"))
				die("--live-policy: want other or fifo, not '%s'", v);
			cfg.live_fifo = !strcmp(v, "fifo");
		} else if (!strcmp(a, "--live-nice")) {
			cfg.live_nice = parse_num("--live-nice", "nice", v, -20, 19);
		} else if (!strcmp(a, "--ready-file")) {
			cfg.ready_file = v;
		} else if (!strcmp(a, "--go-file")) {
			cfg.go_file = v;
		} else if (!strcmp(a, "--seed")) {
			cfg.seed = parse_num("--seed", "seed", v, 0, LLONG_MAX);
		} else {
			usage();
		}
	}
	return run();
}
