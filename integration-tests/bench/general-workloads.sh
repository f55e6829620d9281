#!/usr/bin/env bash
# Benchmark (not a test): what a host's other work sees under Baton. stress-ng's scheduler-heavy
# stressors (bogo ops/s) and three frame loops beside CPU hogs, one with a SCHED_FIFO neighbour
# (share of frames missed, wakeup delay), under EEVDF, the minimal FIFO scheduler and Baton
# (default policy, no jobs), in one VM boot. Writes ${BATON_BENCH_OUT:-target/bench}/general-workloads.json with each setup's mean over
# the rounds and its ratio to EEVDF's. Run from the repository root after make build.
#
# Usage: general-workloads.sh [--seconds S] [--rounds N]   (defaults 8 and 2: about 13 minutes)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
secs=8 rounds=2
while [ $# -gt 0 ]; do
  case $1 in
  --seconds) secs=${2:?}; shift 2 ;;
  --rounds) rounds=${2:?}; shift 2 ;;
  *) echo "usage: general-workloads.sh [--seconds S] [--rounds N]" >&2; exit 2 ;;
  esac
done
case $secs$rounds in *[!0-9]*) echo "general-workloads: --seconds and --rounds take whole numbers" >&2; exit 2 ;; esac
. integration-tests/bench/lib.sh
bench_vm_prepare
bin/baton vm --cpus 2 --timeout-s $((300 + secs * rounds * 3 * 12)) -- \
  bash integration-tests/bench/general-workloads-guest.sh "$secs" "$rounds" | tee "$log" >&2
for s in minimal baton; do
  grep -q "^${s}_state=enabled" "$log" || { echo "general-workloads: the $s scheduler did not run" >&2; exit 1; }
done

awk -F'|' -v kernel="$(sed -n 's/^kernel=//p' "$log")" -v secs="$secs" -v rounds="$rounds" '
  $1 == "general" { sum[$2, $4] += $5; n[$2, $4]++; if (!(($4) in seen)) { seen[$4] = 1; order[++m] = $4 } }
  function mean(s, k) { return n[s, k] ? sum[s, k] / n[s, k] : 0 }
  function obj(s,    i, k, o, sep) {
    o = "{"; sep = ""
    for (i = 1; i <= m; i++) { k = order[i]; if ((s, k) in n) { o = o sep sprintf("\"%s\": %.2f", k, mean(s, k)); sep = ", " } }
    return o "}" }
  function ratio(s,    i, k, o, sep) {
    o = "{"; sep = ""
    for (i = 1; i <= m; i++) { k = order[i]; if ((s, k) in n && mean("eevdf", k) > 0) {
      o = o sep sprintf("\"%s\": %.2f", k, mean(s, k) / mean("eevdf", k)); sep = ", " } }
    return o "}" }
  END {
    printf "{\n  \"benchmark\": \"general-workloads\",\n  \"kernel\": \"%s\",\n  \"seconds\": %d,\n  \"rounds\": %d,\n", kernel, secs, rounds
    printf "  \"units\": \"stressors: bogo ops/s (higher is better); probes: %% of frames missed and wakeup delay in us (lower is better); emulated guest, 2 vCPUs\",\n"
    printf "  \"eevdf\": %s,\n  \"minimal\": %s,\n  \"baton\": %s,\n", obj("eevdf"), obj("minimal"), obj("baton")
    printf "  \"minimal_to_eevdf\": %s,\n  \"baton_to_eevdf\": %s\n}\n", ratio("minimal"), ratio("baton")
  }' "$log" >"$out/general-workloads.json"
cat "$out/general-workloads.json"
