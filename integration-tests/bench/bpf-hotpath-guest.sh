#!/bin/sh
# Guest half of bpf-hotpath.sh: the same workload under Baton and under the minimal FIFO
# scheduler (bpf/test/fifo.bpf.c) in one boot, with the kernel's BPF run-time statistics on.
# Prints "prog|SCHEDULER|CALLBACK|RUN_CNT|RUN_TIME_NS" per struct_ops program.
#
# With --rounds N NAME=OBJECT..., for bpf-ab.sh --hotpath instead: no FIFO, but each Baton
# object in turn, N rounds, "prog|NAME|..." lines per run (the agent is the same each time).
set -u
rounds="" objects=""
if [ "${1:-}" = --rounds ]; then
  rounds=$2
  shift 2
  objects="$*"
fi
P=integration-tests/target/scenarios/schedprobe
out=$(mktemp -d)
state() { cat /sys/kernel/sched_ext/state; }
wait_state() { i=0; while [ "$(state)" != "$1" ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done; }

mount -t bpf bpf /sys/fs/bpf 2>/dev/null
echo 1 >/proc/sys/kernel/bpf_stats_enabled

# Wakeups, sleeps and preemption: three CPU hogs and four 5 ms frame loops, for 10 s.
workload() {
  pids=""
  for k in 1 2 3; do $P hog --duration-ms 10000 >/dev/null & pids="$pids $!"; done
  for k in 1 2 3 4; do
    $P periodic --period-us 5000 --work-us 500 --offset-us $((k * 1000)) --duration-ms 10000 >/dev/null &
    pids="$pids $!"
  done
  wait $pids
}

# prog|SCHED|name|run_cnt|run_time_ns for the loaded struct_ops programs whose names start PREFIX.
dump() {
  bpftool prog show | awk -v sched="$1" -v prefix="$2" '
    / struct_ops / { name = ""; for (i = 1; i <= NF; i++) if ($i == "name") name = $(i + 1); cnt = 0; t = 0
      for (i = 1; i <= NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") cnt = $(i + 1) }
      if (index(name, prefix) == 1) print "prog|" sched "|" substr(name, length(prefix) + 1) "|" cnt "|" t }'
}

# run_baton NAME [OBJECT]: the workload under Baton (its own object, or OBJECT).
run_baton() {
  BATON_JAVA_OPTS="${BATON_JAVA_OPTS:-}${2:+ -Dbaton.test.bpf-object=$2}" bin/baton run >"$out/agent.log" 2>&1 &
  agent=$!
  wait_state enabled
  echo "${1}_state=$(state)"
  sleep 2
  workload
  dump "$1" baton_
  kill -TERM $agent
  wait $agent
  wait_state disabled
}

if [ -n "$rounds" ]; then
  for r in $(seq "$rounds"); do
    for o in $objects; do run_baton "${o%%=*}" "${o#*=}"; done
  done
  echo "kernel=$(uname -r)"
  exit 0
fi

run_baton baton

bpftool struct_ops register bpf/build/test/fifo.bpf.o /sys/fs/bpf >"$out/fifo.log" 2>&1
wait_state enabled
echo "fifo_state=$(state) fifo_ops=$(cat /sys/kernel/sched_ext/root/ops)"
sleep 2
workload
dump fifo fifo_
rm -f /sys/fs/bpf/fifo_ops
wait_state disabled
echo "final_state=$(state)"
echo "kernel=$(uname -r)"
sed 's/^/agent|/' "$out/agent.log" | grep -v 'baton: events'
sed 's/^/fifo|/' "$out/fifo.log"
