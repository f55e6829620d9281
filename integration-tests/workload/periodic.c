/*
 * A stand-in for a live encoder: every period_us it burns work_us of its own CPU time (one
 * "frame"), then sleeps until the next period. A frame misses its deadline when it finishes later
 * than the start of the next period. Prints key=value facts for the VM tests.
 *
 * Usage: periodic PERIOD_US WORK_US FRAMES [PREFIX]
 * CPU time, not wall time, measures the work, so being preempted delays a frame without
 * shortening it: the misses are what the scheduler caused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: periodic PERIOD_US WORK_US FRAMES [PREFIX]\n");
		return 2;
	}
	long long period = atoll(argv[1]) * 1000, work = atoll(argv[2]) * 1000;
	int frames = atoi(argv[3]), misses = 0;
	const char *prefix = argc > 4 ? argv[4] : "";
	long long release = ns(CLOCK_MONOTONIC), late_sum = 0, late_max = 0;

	for (int f = 0; f < frames; f++) {
		long long until = ns(CLOCK_THREAD_CPUTIME_ID) + work;
		while (ns(CLOCK_THREAD_CPUTIME_ID) < until)
			;
		long long late = ns(CLOCK_MONOTONIC) - (release + period);
		if (late > 0) {
			misses++;
			late_sum += late;
			if (late > late_max)
				late_max = late;
		}
		release += period;
		/* A frame that overran starts the next one at once, as an encoder catching up would. */
		struct timespec t = { release / 1000000000LL, release % 1000000000LL };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
	printf("%sframes=%d\n%smisses=%d\n%smean_late_us=%lld\n%smax_late_us=%lld\n", prefix, frames, prefix,
	       misses, prefix, misses ? late_sum / misses / 1000 : 0, prefix, late_max / 1000);
	return 0;
}
