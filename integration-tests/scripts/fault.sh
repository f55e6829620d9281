#!/bin/bash
# Runs inside a sched_ext guest. First, a CPU goes offline and comes back under the real
# scheduler, which follows both in place: no new attach, the policy plans for the CPUs online, and
# the CPU brought back runs tasks; stress-ng's scheduler stressors do not end it either. Under a
# test build without the hotplug callbacks, the kernel ends the scheduler at each change and asks
# for a new one: the agent must attach again, not count it as an ejection, and plan for the CPUs
# now online. Then a scheduler that stops dispatching (the test-only build
# bpf/build/test/baton_fault.bpf.o) under CPU hogs: the kernel's watchdog must eject it, every
# task must go on running (on EEVDF), and the agent must report each ejection, restart with
# doubling backoff, and give up after restart_max. Prints key=value facts for FaultIT.
set -u
. integration-tests/scripts/lib.sh
# The watchdog timeout the scheduler is loaded with: short of the 21 s after which RCU's stall
# detector, starved by the same fault, would eject it first (it did, on a loaded host).
timeout_s=${BATON_TEST_TIMEOUT_S:-10}
restart_max=2

echo "state_before=$(state)"

# --- CPU hotplug, followed in place ---------------------------------------------------------
# restart_max 0: an exit counted as an ejection would make the agent give up at once.
mark=$(dmesg | wc -l)
start_agent "$out/hotplug.log" --restart-max 0 --restart-backoff-ms 200
wait_log "$out/hotplug.log" "^baton: attached"
cpus_now() { curl -sf -m 60 http://127.0.0.1:9755/v1/status | sed -n 's/.*"cpus":\([0-9]*\).*/\1/p'; }
echo "hotplug_cpus_before=$(cpus_now)"
echo 0 >/sys/devices/system/cpu/cpu1/online
echo "hotplug_offline_exit=$?"
wait_log "$out/hotplug.log" "CPUs online now: 1"
echo "hotplug_offline_state=$(state)"
echo "hotplug_offline_cpus=$(cpus_now)"
echo 1 >/sys/devices/system/cpu/cpu1/online
echo "hotplug_online_exit=$?"
wait_log "$out/hotplug.log" "CPUs online now: 2"
echo "hotplug_online_state=$(state)"
echo "hotplug_online_cpus=$(cpus_now)"
# The CPU brought back serves its share: a hog allowed only there runs.
taskset -c 1 sh -c 'while :; do :; done' &
pinned=$!
sleep 2
echo "hotplug_pinned_ticks=$(awk '{ print $14 + $15 }' /proc/$pinned/stat)"
kill $pinned
# What a stress test of a host throws at a scheduler, under the same one: tasks pinned and freed,
# moved in and out of sched_ext by policy changes (FIFO, RR, DEADLINE, BATCH, IDLE), sched_*
# calls racing exiting tasks, nice changes, yields, CPUs going offline and online in a loop.
# None may end it: the counts below cover this too, and with restart_max 0 an ejection would
# also have ended the agent. (--pathological: stress-ng's cpu-online wants it.)
if command -v stress-ng >/dev/null; then
  echo "stress_ng=$(stress-ng --version | sed -n 's/^stress-ng, version \([^ ]*\).*/\1/p')"
  for s in affinity schedpolicy race-sched nice yield cpu-online; do
    stress-ng --$s 2 --timeout 5 --pathological >"$out/stress.log" 2>&1
    echo "stress_${s//-/_}_exit=$?"
    sed "s/^/stress|$s: /" "$out/stress.log" >>"$out/stress-all.log"
  done
  [ "$(cat /sys/devices/system/cpu/cpu1/online)" = 1 ] || echo 1 >/sys/devices/system/cpu/cpu1/online
  echo "stress_state=$(state)"
  echo "stress_agent=$(kill -0 $agent 2>/dev/null && echo running || echo gone)"
else
  echo "stress_ng=absent"
fi
echo "hotplug_attaches=$(grep -c '^baton: attached' "$out/hotplug.log")"
echo "hotplug_enables=$(dmesg | tail -n +$((mark + 1)) | grep -c 'BPF scheduler "baton" enabled')"
echo "hotplug_disables=$(dmesg | tail -n +$((mark + 1)) | grep -c 'BPF scheduler "baton" disabled')"
kill -TERM $agent
wait $agent
echo "hotplug_agent_exit=$?"

# --- CPU hotplug under a scheduler without the hotplug callbacks: a restart asked for --------
plain_opts=$BATON_JAVA_OPTS
export BATON_JAVA_OPTS="$plain_opts -Dbaton.test.bpf-object=$PWD/bpf/build/test/baton_nohotplug.bpf.o"
start_agent "$out/restart.log" --restart-max 0 --restart-backoff-ms 200
export BATON_JAVA_OPTS=$plain_opts
wait_log "$out/restart.log" "^baton: attached"
echo 0 >/sys/devices/system/cpu/cpu1/online
wait_until 3000 sh -c "[ \$(grep -c '^baton: attached' $out/restart.log) -ge 2 ]"
echo "restart_offline_state=$(state)"
echo "restart_offline_cpus=$(cpus_now)"
echo 1 >/sys/devices/system/cpu/cpu1/online
wait_until 3000 sh -c "[ \$(grep -c '^baton: attached' $out/restart.log) -ge 3 ]"
echo "restart_online_state=$(state)"
echo "restart_online_cpus=$(cpus_now)"
kill -TERM $agent
wait $agent
echo "restart_agent_exit=$?"
dmesg_mark=$(dmesg | wc -l) # the fault's enables and ejections are counted after this line

# --- a scheduler that stops dispatching ----------------------------------------------------
start_canary
for k in $(seq 1 "$(nproc)"); do
  sh -c 'while :; do :; done' &
  hogs="${hogs:-} $!"
done
export BATON_JAVA_OPTS="$BATON_JAVA_OPTS -Dbaton.test.bpf-object=$PWD/bpf/build/test/baton_fault.bpf.o"
start_agent "$out/agent.log" --restart-max $restart_max --restart-backoff-ms 500 --timeout-ms $((timeout_s * 1000))
wait $agent
echo "agent_exit=$?"
echo "state_final=$(state)"
echo "restart_max=$restart_max"
echo "timeout_s=$timeout_s"
# The kernel's own clock: seconds from each enable to the disable that follows.
dmesg | tail -n +$((dmesg_mark + 1)) | awk '{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t) }
  /sched_ext: BPF scheduler "baton" enabled/ { on = t }
  /sched_ext: BPF scheduler "baton" disabled/ && on { printf "%.1f ", t - on; on = 0 }' \
  >"$out/enabled_s"
echo "enabled_s=$(cat "$out/enabled_s")"
# The watchdog (runnable task stall) or, when the stall starves RCU first, its stall detector.
echo "ejections=$(dmesg | tail -n +$((dmesg_mark + 1)) | grep 'sched_ext: BPF scheduler "baton" disabled (' | grep -vc 'unregistered')"
# After the last ejection everything runs again on the default scheduler.
t0=$(wc -l <"$out/canary")
sleep 2
echo "canary_ticks_after=$(($(wc -l <"$out/canary") - t0))"
kill $hogs $canary 2>/dev/null
echo "done=yes"
dump agent "$out/agent.log"
dump hotplug "$out/hotplug.log"
dump restart "$out/restart.log"
cat "$out/stress-all.log" 2>/dev/null
dmesg | grep -i sched_ext | sed 's/^/dmesg|/'
