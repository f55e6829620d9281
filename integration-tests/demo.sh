#!/usr/bin/env bash
# make demo: the transcoding-farm comparison. Boots a sched_ext kernel on 2 vCPUs (no more than
# this host's cores: with more, host contention would decide the result), runs every scenario
# under every setup in that one boot (integration-tests/scripts/farm-scenarios.sh), prints the
# table, and writes target/demo/farm.json and target/demo/farm.svg.
#
# Usage: demo.sh [farm-scenarios.sh options, e.g. --seconds 10 --scenarios hard]
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh
out=target/demo
mkdir -p "$out"
log=$out/farm.log
jdk=$(find_jdk) || die "no JDK >= 25 found (make build sets one up)"
[ -f integration-tests/target/classes/dev/baton/it/farm/FarmReport.class ] ||
  die "the demo is not built: run make build"

cpus=2
host_cores=$(nproc)
[ "$host_cores" -ge "$cpus" ] || cpus=$host_cores
# Everything the host's CPUs did during the run, to tell how much of it was not this demo.
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# The guest's vCPUs are host threads: other work on the host steals time from them, and the
# guest charges the stall to whatever it was running, so frames miss for no scheduler's fault.
# The VM runs in a session of its own whose CPU share is raised (autogroup nice, root only, for
# as long as the demo runs); BATON_DEMO_BOOST=0 leaves it at the default.
boost=${BATON_DEMO_BOOST:--15}
in_own_session() {
  setsid -w bash -c '[ "$0" = 0 ] || echo "$0" >/proc/self/autogroup 2>/dev/null; exec "$@"' "$boost" "$@"
}

echo "Booting a sched_ext kernel ($(bin/baton vm --list-kernels | head -1)) on $cpus vCPUs; each"
echo "scenario runs under every setup in this one boot, about 25 s each (a few minutes in all)..."
before=$(busy)
start=$(date +%s)
rc=0
TIMEFORMAT='%U %S'
{ time in_own_session bin/baton vm --cpus "$cpus" --timeout-s 1800 -- \
  sh integration-tests/scripts/farm-scenarios.sh "$@" >"$log" 2>&1 || rc=$?; } 2>"$out/time"
elapsed=$(($(date +%s) - start))
after=$(busy)

if ! grep -q '^setup=' "$log"; then
  echo "The guest run failed (exit $rc) before any scenario ran:"
  cat "$log"
  exit $((rc ? rc : 1))
fi
echo
"$jdk/bin/java" -cp integration-tests/target/classes dev.baton.it.farm.FarmReport "$log" "$out"

# The VM's own CPU time (user + system of this script's children) against all the host's.
read -r vm_user vm_sys <"$out/time"
other=$(awk -v b="$before" -v a="$after" -v u="$vm_user" -v s="$vm_sys" -v t="$elapsed" -v n="$host_cores" \
  'BEGIN { hz = 100; o = ((a - b) / hz - u - s) / (t * n) * 100; printf "%.0f", o < 0 ? 0 : o }')
echo
echo "Chart: $out/farm.svg   data: $out/farm.json   raw records: $log"
if [ "$other" -gt 10 ]; then
  echo "Note: other work used about $other% of this host's $host_cores cores during the run; the"
  echo "guest's vCPUs lost time to it, so frames may have missed for reasons no guest scheduler controls."
  echo "Compare setups with each other, and rerun on a quiet host for clean numbers."
fi
if [ "$rc" != 0 ]; then
  echo "Some runs failed (guest exit $rc): see the 'not run' rows and $log."
  exit "$rc"
fi
