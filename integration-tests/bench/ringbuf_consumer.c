/*
 * The C baseline of the event-path benchmark: libbpf's own ring-buffer consumer
 * (ring_buffer__consume) on the same object, program and record size as the Java consumer.
 * EventPathBench runs it between its own runs; both do exactly this: fill the ring with
 * bench_events' fill program, then time one drain of it, until at least <events> were consumed.
 *
 * Usage: ringbuf_consumer <bench_events.bpf.o> <events>
 * Prints one line: events=<n> cpu_ns=<thread CPU time draining> wall_ns=<wall time draining>
 * checksum=<sum over the records>.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_events.h"

/* What the Java handler reads from each record, summed the same way so both can be compared. */
static int on_sample(void *ctx, void *data, size_t size __attribute__((unused)))
{
	const struct baton_task_sample *s = data;
	u64 *checksum = ctx;

	*checksum += s->ts_ns + s->cpu_ns + s->pid;
	return 0;
}

static u64 now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "ringbuf_consumer: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *fill;
	struct ring_buffer *rb;
	u64 events, consumed = 0, cpu_ns = 0, wall_ns = 0, checksum = 0;
	int err;

	if (argc != 3 || (events = strtoull(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: ringbuf_consumer <bench_events.bpf.o> <events>\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return fail(argv[1], errno);
	err = bpf_object__load(obj);
	if (err)
		return fail("bpf_object__load", err);
	fill = bpf_object__find_program_by_name(obj, "fill");
	if (!fill)
		return fail("fill", ENOENT);
	rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "events"), on_sample, &checksum, NULL);
	if (!rb)
		return fail("ring_buffer__new", errno);

	while (consumed < events) {
		struct baton_bench_fill_args args = { .first_seq = consumed, .max_records = ~0u };
		/* A syscall program's context is copied back into ctx_in. */
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &args, .ctx_size_in = sizeof(args));
		u64 cpu, wall;
		int n;

		err = bpf_prog_test_run_opts(bpf_program__fd(fill), &opts);
		if (err || opts.retval || !args.submitted)
			return fail("fill", err ? err : EIO);
		cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
		wall = now_ns(CLOCK_MONOTONIC);
		n = ring_buffer__consume(rb);
		wall_ns += now_ns(CLOCK_MONOTONIC) - wall;
		cpu_ns += now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
		if (n < 0)
			return fail("ring_buffer__consume", n);
		if ((u32)n != args.submitted) {
			fprintf(stderr, "ringbuf_consumer: consumed %d of %u records\n", n, args.submitted);
			return 1;
		}
		consumed += n;
	}
	printf("events=%llu cpu_ns=%llu wall_ns=%llu checksum=%llu\n", (unsigned long long)consumed,
	       (unsigned long long)cpu_ns, (unsigned long long)wall_ns, (unsigned long long)checksum);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
