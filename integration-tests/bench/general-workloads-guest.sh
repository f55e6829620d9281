#!/bin/bash
# Guest half of general-workloads.sh: workloads that are not a farm's, under EEVDF, the minimal
# FIFO scheduler (bpf/test/fifo.bpf.c) and Baton with its default policy and no jobs, in one
# boot. Prints "general|SETUP|ROUND|METRIC|VALUE".
#
# Usage: general-workloads-guest.sh SECONDS ROUNDS
set -u
. integration-tests/scripts/lib.sh
secs=$1 rounds=$2
P=integration-tests/target/scenarios/schedprobe

# stress-ng's scheduler-heavy stressors, two instances each: bogo ops per second of wall time.
stressors="switch pipe mq futex fork yield cpu"

# probe SETUP ROUND NAME HOGS PERIOD_US WORK_US [RT_WORK_US]: a frame loop (work_us of CPU every
# period_us, due by the next release) next to HOGS CPU hogs and, with RT_WORK_US, a SCHED_FIFO
# loop doing that much every period_us (an RT neighbour: what it preempts must not then wait out
# a slice); the frame loop's share of missed frames and its wakeup delay.
probe() {
  local load="" i line # the hogs and the RT neighbour
  for i in $(seq "$4"); do $P hog --duration-ms $((secs * 1000)) >/dev/null & load="$load $!"; done
  if [ -n "${7:-}" ]; then
    $P periodic --fifo 10 --period-us "$5" --work-us "$7" --deadline-us "$5" --duration-ms $((secs * 1000)) \
      --name rt >/dev/null &
    load="$load $!"
  fi
  line=$($P periodic --period-us "$5" --work-us "$6" --deadline-us "$5" --duration-ms $((secs * 1000)) --name x)
  wait $load
  echo "$line" | awk -v p="general|$1|$2|$3_" '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%smissed_pct|%.2f\n", p, v["jobs"] ? 100 * v["misses"] / v["jobs"] : 0
    printf "%swake_p50_us|%d\n%swake_p90_us|%d\n", p, v["wake_p50_us"], p, v["wake_p90_us"] }'
}

measure() { # SETUP
  local r s ops
  for r in $(seq "$rounds"); do
    for s in $stressors; do
      ops=$(stress-ng --"$s" 2 -t "$secs" --metrics-brief 2>&1 | awk -v s="$s" '$4 == s { print $9; exit }')
      echo "general|$1|$r|$s|${ops:-0}"
    done
    probe "$1" "$r" probe2 2 1000 200
    probe "$1" "$r" probe8 8 10000 2000
    probe "$1" "$r" probert 2 2000 300 300
  done
}

echo "kernel=$(uname -r)"
measure eevdf

mount -t bpf bpf /sys/fs/bpf 2>/dev/null
bpftool struct_ops register bpf/build/test/fifo.bpf.o /sys/fs/bpf >"$out/fifo.log" 2>&1
wait_until 600 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = enabled ]'
echo "minimal_state=$(state)"
measure minimal
rm -f /sys/fs/bpf/fifo_ops
wait_until 600 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]'

start_agent "$out/agent.log" --no-pin
wait_log "$out/agent.log" "^baton: attached" || { cat "$out/agent.log"; exit 1; }
echo "baton_state=$(state)"
measure baton
kill -TERM "$agent"
wait "$agent"
sed -n 's/^baton: stats /baton_stats|/p' "$out/agent.log" | tail -1
