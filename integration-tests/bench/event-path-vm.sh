#!/usr/bin/env bash
# make bench: the event path's round trip (BPF event -> Java -> hint visible to BPF) in a
# sched_ext guest with Baton attached, the same measurement as event-path.sh's section 4 on the
# host. Writes ${BATON_BENCH_OUT:-target/bench}/event-path-vm.json. Run from a built checkout
# (make build). Emulation (qemu TCG, 15-20x slower than native) inflates the times: compare them
# with the host's only as orders of magnitude.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tools/lib.sh
out=${BATON_BENCH_OUT:-target/bench}
mkdir -p "$out"
[ -f bpf/build/test/bench_events.bpf.o ] && [ -d integration-tests/target/classes/dev/baton/bench ] \
  || die "the benchmark is not built: run make build"
jdk=$(find_jdk) || die "no JDK >= 25 found: set JAVA_HOME to one"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rm -f "$out/event-path-vm.json"
bin/baton vm --cpus 2 --timeout-s 900 -- sh integration-tests/bench/event-path-vm-guest.sh "$jdk" "$out" \
  | tee "$log" >&2
grep -q '^baton_state=enabled' "$log" || die "event-path-vm: Baton did not attach in the guest"
grep -q '^bench_status=0' "$log" || die "event-path-vm: the benchmark failed in the guest"
grep -q '^baton_after=enabled' "$log" || die "event-path-vm: Baton was no longer attached at the end"
[ -s "$out/event-path-vm.json" ] || die "event-path-vm: no $out/event-path-vm.json"
