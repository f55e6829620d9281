#!/usr/bin/env bash
# make demo: boots a sched_ext kernel in a VM, attaches Baton, runs a CPU-bound workload with
# more tasks than CPUs, stops Baton, and says what happened. (The transcoding-farm comparison
# against EEVDF, nice and SCHED_FIFO replaces this when the transcode policy lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "Booting a sched_ext kernel ($(bin/baton vm --list-kernels | head -1)) under qemu; this takes a minute..."
rc=0
bin/baton vm --cpus 2 -- sh integration-tests/scripts/walking-skeleton.sh >"$log" 2>&1 || rc=$?
fact() { sed -n "s/^$1=//p" "$log" | head -1; }

if [ "$rc" != 0 ]; then
  echo "The guest run failed (exit $rc):"
  cat "$log"
  exit "$rc"
fi
cat <<REPORT

  sched_ext state before Baton:   $(fact state_before)
  after 'baton run':              $(fact state_attached) (ops: $(fact ops))
  workload:                       $(fact workload_completed) of $(fact workload_tasks) CPU-bound tasks finished on 2 vCPUs
  state after the workload:       $(fact state_after_workload)
  agent exit after SIGTERM:       $(fact agent_exit)
  state after Baton stopped:      $(fact state_final)

What the agent printed:
$(sed -n 's/^agent|/  /p' "$log")

What the kernel said:
$(sed -n 's/^dmesg|/  /p' "$log")

Tasks the agent saw, by name (top 8):
$(sed -n 's/^task|//p' "$log" | cut -f4 | sort | uniq -c | sort -rn | head -8)
REPORT
