#!/bin/sh
# Runs inside a sched_ext guest (bin/baton vm): attaches Baton, runs a CPU-bound workload with
# more tasks than CPUs, stops Baton with SIGTERM, and prints key=value facts for WalkingSkeletonIT.
# Any line may be asserted on; raw logs follow prefixed with "agent|", "task|" and "dmesg|".
set -u
out=$(mktemp -d)
state() { cat /sys/kernel/sched_ext/state; }

echo "state_before=$(state)"
# A cgroup capped at 10% of a CPU and weighted down, as a container runtime makes them: sched_ext
# leaves cpu.max and cpu.weight to the BPF scheduler; Baton enforces the one (its limit known
# from before the attach) and says it does not apply the other.
echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/capped
echo "10000 100000" >/sys/fs/cgroup/capped/cpu.max
echo 50 >/sys/fs/cgroup/capped/cpu.weight
bin/baton check >"$out/check.log" 2>&1
echo "check_exit=$?"
# In a pid namespace of its own (a container without --pid=host) pids name other processes.
unshare --pid --fork --mount-proc bin/baton check >"$out/check-pidns.log" 2>&1
echo "check_pidns_exit=$?"

# On one CPU, as an operator may confine the agent (taskset, systemd's CPUAffinity=): it still
# schedules, and plans for, every CPU of the guest.
taskset -c 0 bin/baton run --tasks-out "$out/tasks.tsv" >"$out/agent.log" 2>&1 &
agent=$!
i=0
while [ "$(state)" != enabled ] && [ $i -lt 1200 ] && kill -0 $agent 2>/dev/null; do
  sleep 0.1
  i=$((i + 1))
done
echo "state_attached=$(state)"
echo "ops=$(cat /sys/kernel/sched_ext/root/ops 2>/dev/null)"

# More busy tasks than CPUs, so they must queue and be dispatched from the shared DSQ.
n=$(($(nproc) * 2 + 1))
pids=""
for k in $(seq 1 $n); do
  sh -c 'i=0; while [ $i -lt 60000 ]; do i=$((i + 1)); done' &
  pids="$pids $!"
done
ok=0
for p in $pids; do wait "$p" && ok=$((ok + 1)); done
echo "cpus=$(nproc --all)"
echo "agent_affinity=$(taskset -pc $agent | sed 's/.*: //')"
echo "workload_tasks=$n"
echo "workload_completed=$ok"
echo "workload_pids=$(echo $pids)"
echo "state_after_workload=$(state)"
# Generous: a cold JVM's first request, emulated 15-20x slower, on a host that may be busy.
bin/baton status --timeout-s 120 >"$out/status.json" 2>&1
echo "status_exit=$?"
echo "status_json=$(cat "$out/status.json")"
# The run-delay histogram: the workload's tasks queued, so NORMAL's must have counted waits.
curl -sf -m 60 http://127.0.0.1:9755/metrics >"$out/metrics.txt"
echo "run_delay_normal_count=$(sed -n 's/^baton_bpf_run_delay_seconds_count{class="normal"} //p' "$out/metrics.txt")"
echo "unapplied_cpu_max=$(sed -n 's/^baton_unapplied_cgroups{control="cpu.max"} //p' "$out/metrics.txt")"
echo "run_delay_normal_sum=$(sed -n 's/^baton_bpf_run_delay_seconds_sum{class="normal"} //p' "$out/metrics.txt")"

# One busy task in the capped cgroup for 1.5 s, the workload done: what it got, against the cap's 150 ms.
sh -c 'echo $$ >/sys/fs/cgroup/capped/cgroup.procs && exec sh -c "while :; do :; done"' &
hog=$!
sleep 1.5 # also lets the agent print at least one per-second summary
kill $hog
wait $hog 2>/dev/null
echo "capped_usage_us=$(sed -n 's/^usage_usec //p' /sys/fs/cgroup/capped/cpu.stat)"
rmdir /sys/fs/cgroup/capped
kill -TERM $agent
wait $agent
echo "agent_exit=$?"
i=0
while [ "$(state)" != disabled ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "state_final=$(state)"
sed 's/^/check|/' "$out/check.log"
sed 's/^/check-pidns|/' "$out/check-pidns.log"
sed 's/^/agent|/' "$out/agent.log"
sed 's/^/task|/' "$out/tasks.tsv" 2>/dev/null
dmesg | grep -i sched_ext | sed 's/^/dmesg|/'
