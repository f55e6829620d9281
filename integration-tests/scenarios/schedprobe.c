/*
 * schedprobe: the workloads the scheduler's VM tests measure, one small static program.
 *
 *   schedprobe periodic [opts]   a frame loop: every period, do work_us of CPU time, and count a
 *                                miss when it finishes after release + deadline
 *   schedprobe hog [opts]        burn CPU (tests read its CPU time from /proc/PID/schedstat)
 *   schedprobe bursts [opts]     work_us of CPU, then sleep period_us - work_us, over and over,
 *                                however late: a task that always sleeps between short bursts
 *   schedprobe http METHOD PATH [JSON]
 *                                one request to the agent's API on 127.0.0.1:9755; prints the
 *                                status code, then the body (busybox nc half-closes the socket
 *                                after the request, and a server may then drop the answer)
 *   schedprobe reuse-pid PID MODE [opts]
 *                                fork until a child gets PID (via ns_last_pid; root), then run
 *                                MODE in that child: a new process wearing a dead one's pid
 *
 * Options: --period-us, --work-us, --deadline-us, --offset-us (first release after go + period
 * + offset, to stagger several periodic tasks) (periodic), --duration-ms (all; default 5000),
 * --cpu N (pin), --fifo PRIO (SCHED_FIFO instead of the task's class), --go FILE (wait for FILE
 * to exist before starting the clock), --name NAME (label of the result line).
 *
 * Work is measured in the thread's CPU time, not wall time, so time spent preempted is not
 * counted as work done. Results: one line "NAME key=value ..." on stdout at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct opts {
	long period_us, work_us, deadline_us, duration_ms, offset_us;
	int cpu, fifo;
	const char *go, *name;
};

static void die(const char *msg)
{
	fprintf(stderr, "schedprobe: %s\n", msg);
	exit(2);
}

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long number(const char *opt, const char *v)
{
	char *end;
	long n;

	if (!v)
		die("an option needs a value");
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < 0) {
		fprintf(stderr, "schedprobe: %s takes a whole number >= 0, not '%s'\n", opt, v);
		exit(2);
	}
	return n;
}

static void parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .period_us = 20000, .work_us = 2000, .deadline_us = 0, .duration_ms = 5000,
			    .cpu = -1, .fifo = 0, .go = NULL, .name = "probe" };
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--period-us"))
			o->period_us = number(a, v);
		else if (!strcmp(a, "--work-us"))
			o->work_us = number(a, v);
		else if (!strcmp(a, "--deadline-us"))
			o->deadline_us = number(a, v);
		else if (!strcmp(a, "--offset-us"))
			o->offset_us = number(a, v);
		else if (!strcmp(a, "--duration-ms"))
			o->duration_ms = number(a, v);
		else if (!strcmp(a, "--cpu"))
			o->cpu = number(a, v);
		else if (!strcmp(a, "--fifo"))
			o->fifo = number(a, v);
		else if (!strcmp(a, "--go"))
			o->go = v;
		else if (!strcmp(a, "--name"))
			o->name = v;
		else {
			fprintf(stderr, "schedprobe: unknown option '%s'\n", a);
			exit(2);
		}
		i++;
	}
	if (!o->deadline_us)
		o->deadline_us = o->period_us;
	if (!o->period_us || o->work_us >= o->period_us)
		die("work must be shorter than a non-zero period");
}

static void setup(const struct opts *o)
{
	if (o->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("cannot pin to that CPU");
	}
	if (o->fifo) {
		struct sched_param sp = { .sched_priority = o->fifo };

		if (sched_setscheduler(0, SCHED_FIFO, &sp))
			die("cannot switch to SCHED_FIFO (root needed)");
	}
	if (o->go) {
		struct stat st;

		while (stat(o->go, &st))
			usleep(1000);
	}
}

/* Spins until this thread has run for ns more nanoseconds. */
static void burn(int64_t ns)
{
	int64_t until = now_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
	volatile uint64_t x = 0;

	while (now_ns(CLOCK_THREAD_CPUTIME_ID) < until)
		for (int i = 0; i < 1000; i++)
			x += i;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

#define MAX_JOBS 100000

static int periodic(const struct opts *o)
{
	int64_t period = o->period_us * 1000, deadline = o->deadline_us * 1000;
	int64_t start, release, end, late, max_late = 0, sum_late = 0;
	static int64_t wake_lat[MAX_JOBS];
	long jobs = 0, misses = 0;
	struct timespec ts;

	setup(o);
	start = now_ns(CLOCK_MONOTONIC) + period + o->offset_us * 1000;
	end = start + o->duration_ms * 1000000LL;
	for (release = start; release < end; release += period) {
		ts.tv_sec = release / 1000000000LL;
		ts.tv_nsec = release % 1000000000LL;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		if (jobs < MAX_JOBS)
			wake_lat[jobs] = now_ns(CLOCK_MONOTONIC) - release;
		burn(o->work_us * 1000);
		late = now_ns(CLOCK_MONOTONIC) - (release + deadline);
		jobs++;
		if (late > 0) {
			misses++;
			sum_late += late;
		}
		if (late > max_late)
			max_late = late;
	}
	/* How late the task got the CPU after its timer fired: the scheduler's part of a miss. */
	long n = jobs < MAX_JOBS ? jobs : MAX_JOBS;
	qsort(wake_lat, n, sizeof(wake_lat[0]), cmp64);
	printf("%s jobs=%ld misses=%ld max_late_us=%lld sum_late_us=%lld wake_p50_us=%lld wake_p90_us=%lld"
	       " wake_max_us=%lld\n", o->name, jobs, misses, (long long)(max_late / 1000),
	       (long long)(sum_late / 1000), (long long)(n ? wake_lat[n / 2] / 1000 : 0),
	       (long long)(n ? wake_lat[n * 9 / 10] / 1000 : 0), (long long)(n ? wake_lat[n - 1] / 1000 : 0));
	return 0;
}

static int hog(const struct opts *o)
{
	int64_t start, cpu0;

	setup(o);
	start = now_ns(CLOCK_MONOTONIC);
	cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	while (now_ns(CLOCK_MONOTONIC) - start < o->duration_ms * 1000000LL)
		burn(1000000);
	printf("%s cpu_ms=%lld wall_ms=%lld\n", o->name, (long long)((now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1000000),
	       (long long)((now_ns(CLOCK_MONOTONIC) - start) / 1000000));
	return 0;
}

/*
 * Runs work_us, then sleeps period_us - work_us, until duration_ms is up: a task that sleeps
 * between bursts however far behind it falls (a worker handed one item at a time), so it never
 * runs a deadline longer than its work without sleeping.
 */
static int bursts(const struct opts *o)
{
	int64_t start, cpu0;
	long n = 0;

	setup(o);
	start = now_ns(CLOCK_MONOTONIC);
	cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	while (now_ns(CLOCK_MONOTONIC) - start < o->duration_ms * 1000000LL) {
		burn(o->work_us * 1000);
		usleep(o->period_us - o->work_us);
		n++;
	}
	printf("%s cpu_ms=%lld wall_ms=%lld bursts=%ld\n", o->name,
	       (long long)((now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1000000),
	       (long long)((now_ns(CLOCK_MONOTONIC) - start) / 1000000), n);
	return 0;
}

static int run(int argc, char **argv)
{
	struct opts o;

	if (argc < 1)
		die("usage: schedprobe periodic|hog|bursts|reuse-pid PID MODE [options]");
	parse(argc - 1, argv + 1, &o);
	if (!strcmp(argv[0], "periodic"))
		return periodic(&o);
	if (!strcmp(argv[0], "hog"))
		return hog(&o);
	if (!strcmp(argv[0], "bursts"))
		return bursts(&o);
	die("unknown mode");
	return 2;
}

static int http(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(9755) };
	const char *body = argc > 2 ? argv[2] : "";
	static char buf[1 << 20];
	size_t len = 0;
	ssize_t n;
	char *eol;
	int fd;

	if (argc < 2)
		die("usage: schedprobe http METHOD PATH [JSON]");
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("cannot connect to 127.0.0.1:9755");
	n = snprintf(buf, sizeof(buf), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		     argv[0], argv[1], strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(buf) || write(fd, buf, n) != n)
		die("cannot send the request");
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	eol = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.", 7) || len < 12 || !eol)
		die("no HTTP response");
	printf("%.3s\n%s\n", buf + 9, eol + 4);
	return 0;
}

/* Forks until the kernel hands a child the wanted pid; other children exit at once. */
static int reuse_pid(long pid, int argc, char **argv)
{
	for (int attempt = 0; attempt < 10000; attempt++) {
		int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY), status;
		char buf[32];
		pid_t child;

		if (fd < 0)
			die("cannot open /proc/sys/kernel/ns_last_pid (root needed)");
		snprintf(buf, sizeof(buf), "%ld", pid - 1);
		if (write(fd, buf, strlen(buf)) < 0)
			die("cannot write ns_last_pid");
		close(fd);
		child = fork();
		if (child < 0)
			die("fork failed");
		if (child == 0) {
			if (getpid() != pid)
				_exit(0);
			_exit(run(argc, argv));
		}
		if (child == pid) {
			printf("reused pid=%ld attempts=%d\n", pid, attempt + 1);
			waitpid(child, &status, 0);
			fflush(stdout);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		}
		waitpid(child, &status, 0);
	}
	die("no child got the pid");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "http"))
		return http(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "reuse-pid"))
		return reuse_pid(number("PID", argv[2]), argc - 3, argv + 3);
	return run(argc - 1, argv + 1);
}
