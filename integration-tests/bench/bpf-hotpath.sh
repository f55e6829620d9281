#!/usr/bin/env bash
# Benchmark (not a test): the average run time of each of Baton's BPF callbacks, from the kernel's
# BPF statistics (kernel.bpf_stats_enabled: run_time_ns / run_cnt), next to the same figure for a
# minimal global-FIFO scheduler built from the same tree, under the same workload in one VM boot.
# Writes ${BATON_BENCH_OUT:-target/bench}/bpf-hotpath.json; run from the repository root after
# make build. Emulated guests inflate absolute times (15-20x); the ratios are the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. integration-tests/bench/lib.sh
bench_vm_prepare
bin/baton vm --cpus 2 --timeout-s 900 -- sh integration-tests/bench/bpf-hotpath-guest.sh | tee "$log" >&2
grep -q '^fifo_state=enabled' "$log" || { echo "bpf-hotpath: the FIFO scheduler did not run" >&2; exit 1; }
grep -q '^baton_state=enabled' "$log" || { echo "bpf-hotpath: Baton did not run" >&2; exit 1; }

awk -F'|' -v kernel="$(sed -n 's/^kernel=//p' "$log")" '
  $1 == "prog" { cnt[$2, $3] = $4; t[$2, $3] = $5; names[$3] = 1; tc[$2] += $4; tt[$2] += $5 }
  function avg(s, n) { return cnt[s, n] ? t[s, n] / cnt[s, n] : 0 }
  function obj(s,    n, sep, o) {
    o = "{"; sep = ""
    for (n in names) if ((s, n) in cnt) {
      o = o sep sprintf("\"%s\": {\"run_cnt\": %d, \"run_time_ns\": %d, \"avg_ns\": %.1f}", n, cnt[s, n], t[s, n], avg(s, n)); sep = ", " }
    return o "}" }
  END {
    printf "{\n  \"benchmark\": \"bpf-hotpath\",\n  \"kernel\": \"%s\",\n  \"unit\": \"ns per callback run (emulated guest)\",\n", kernel
    printf "  \"baton\": %s,\n  \"fifo\": %s,\n", obj("baton"), obj("fifo")
    printf "  \"ratio_baton_to_fifo\": {"; sep = ""
    for (n in names) if (("fifo", n) in cnt && ("baton", n) in cnt && avg("fifo", n) > 0) {
      printf "%s\"%s\": %.2f", sep, n, avg("baton", n) / avg("fifo", n); sep = ", " }
    # All of a scheduler'"'"'s BPF time over the calls of the callbacks both have.
    printf "},\n  \"baton_total_ns_per_enqueue_or_select\": %.1f,\n", (cnt["baton", "enqueue"] + cnt["baton", "select_cpu"]) ? tt["baton"] / (cnt["baton", "enqueue"] + cnt["baton", "select_cpu"]) : 0
    printf "  \"fifo_total_ns_per_enqueue_or_select\": %.1f\n}\n", (cnt["fifo", "enqueue"] + cnt["fifo", "select_cpu"]) ? tt["fifo"] / (cnt["fifo", "enqueue"] + cnt["fifo", "select_cpu"]) : 0
  }' "$log" >"$out/bpf-hotpath.json"
cat "$out/bpf-hotpath.json"
