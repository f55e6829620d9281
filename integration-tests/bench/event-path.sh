#!/usr/bin/env bash
# make bench: the event-path benchmark, natively on this host (BPF ring buffers, maps and
# BPF_PROG_TEST_RUN; no sched_ext). Builds the C baseline consumer, runs EventPathBench, which
# prints a table and writes target/bench/event-path.json. Needs root (loads BPF) and `make build`.
# Optional argument: the sections to run (throughput,hints,roundtrip), for a quicker look at one.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tools/lib.sh"

out=$root/target/bench
object=$root/bpf/build/test/bench_events.bpf.o
classes=$root/integration-tests/target/classes
[ "$(id -u)" = 0 ] || die "the benchmark loads BPF programs: run it as root"
[ -f "$object" ] && [ -d "$classes/dev/baton/bench" ] || die "the benchmark is not built: run make build"
jdk=$(find_jdk) || die "no JDK >= 25 found: set JAVA_HOME to one"
mkdir -p "$out"
gcc -O2 -Wall -Wextra -Werror -I "$root/bpf" -I "$root/bpf/test" -o "$out/ringbuf_consumer" \
  "$root/integration-tests/bench/ringbuf_consumer.c" -lbpf
# The agent's JVM options (deploy/jvm.args, as both launchers), so the figures are the agent's.
exec "$jdk/bin/java" @"$root/deploy/jvm.args" \
  -cp "$classes:$root/integration-tests/target/lib/*" dev.baton.bench.EventPathBench \
  "$object" "$out/ringbuf_consumer" "$out/event-path.json" "$@"
