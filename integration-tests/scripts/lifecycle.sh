#!/bin/bash
# Runs inside a sched_ext guest: the agent's lifecycle with the scheduler pinned. SIGKILL leaves
# it attached and a new agent adopts it; SIGSTOP past the watchdog timeout ejects nothing;
# handover passes it to a new agent; SIGTERM and baton stop detach; a foreign scheduler is not
# replaced. A canary task and CPU hogs run throughout. Prints key=value facts for LifecycleIT.
set -u
. integration-tests/scripts/lib.sh
pins=/sys/fs/bpf/baton
# The watchdog timeout in force (ops.timeout_ms; the kernel's 30 s when the scheduler sets none).
timeout_s=${BATON_TEST_TIMEOUT_S:-30}

echo "state_before=$(state)"
start_canary
hogs=""
for k in $(seq 1 "$(nproc)"); do
  sh -c 'while :; do :; done' &
  hogs="$hogs $!"
done

# --- attach, pinned --------------------------------------------------------------------------
start_agent "$out/agent1.log"
wait_log "$out/agent1.log" "^baton: attached"
echo "attach_state=$(state)"
echo "attach_ops=$(ops)"
echo "pins=$(cd $pins && find . | sort | tr '\n' ' ')"
echo "pin_modes=$(find $pins -exec stat -c '%a' {} + | sort -u | tr '\n' ' ')"
curl -sf http://127.0.0.1:9755/metrics >"$out/metrics1.txt"
echo "metrics_exit=$?"
echo "metrics_baton_series=$(grep -c '^baton_' "$out/metrics1.txt")"
echo "metrics_enabled=$(grep '^baton_scheduler_state{state="enabled"}' "$out/metrics1.txt" | cut -d' ' -f2)"

# --- SIGKILL: the scheduler stays, a new agent adopts it --------------------------------------
kill -KILL $agent
wait $agent 2>/dev/null
echo "killed_exit=$?"
sleep 3 # past stale_ms: the BPF side schedules without hints now
echo "killed_state=$(state)"
echo "killed_ops=$(ops)"
echo "killed_pins=$([ -e $pins/link ] && echo present || echo absent)"
# Tasks come and go while no agent runs.
for k in $(seq 1 50); do /bin/true; done
start_agent "$out/agent2.log"
wait_log "$out/agent2.log" "^baton: adopted"
echo "adopt_state=$(state)"
sleep 2
bin/baton status >"$out/status2.json" 2>&1
echo "adopt_status=$(cat "$out/status2.json")"

# --- SIGSTOP past the watchdog timeout: nothing is ejected ------------------------------------
kill -STOP $agent
sleep $((timeout_s + 3))
echo "frozen_state=$(state)"
echo "frozen_ops=$(ops)"
kill -CONT $agent
e1=$(bin/baton status | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
for k in $(seq 1 50); do /bin/true; done
sleep 2
e2=$(bin/baton status | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
echo "thawed_events_before=$e1"
echo "thawed_events_after=$e2"
echo "thawed_alive=$(kill -0 $agent && echo yes || echo no)"

# --- handover: exit 9, still attached, a new agent adopts ------------------------------------
bin/baton handover >"$out/handover.log" 2>&1
echo "handover_cmd_exit=$?"
wait $agent
echo "handover_exit=$?"
echo "handover_state=$(state)"
start_agent "$out/agent3.log"
wait_log "$out/agent3.log" "^baton: adopted"
echo "handover_adopted=yes"

# --- SIGTERM: detach, exit 0, pins gone -------------------------------------------------------
kill -TERM $agent
wait $agent
echo "term_exit=$?"
wait_until 100 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]'
echo "term_state=$(state)"
echo "term_pins=$([ -e $pins ] && echo present || echo absent)"

# --- SIGKILL, then baton stop: detach without an agent ---------------------------------------
start_agent "$out/agent4.log"
wait_log "$out/agent4.log" "^baton: attached"
kill -KILL $agent
wait $agent 2>/dev/null
bin/baton stop >"$out/stop.log" 2>&1
echo "stop_exit=$?"
wait_until 100 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]'
echo "stop_state=$(state)"
echo "stop_pins=$([ -e $pins ] && echo present || echo absent)"
bin/baton stop >"$out/stop2.log" 2>&1
echo "stop_again_exit=$?"

# --- another sched_ext scheduler: refused, left alone -----------------------------------------
mkdir -p /sys/fs/bpf/other
bpftool struct_ops register bpf/build/test/other_sched.bpf.o /sys/fs/bpf/other >"$out/other.log" 2>&1
echo "other_register_exit=$?"
echo "other_state=$(state)"
echo "other_ops=$(ops)"
bin/baton run >"$out/agent5.log" 2>&1
echo "other_run_exit=$?"
echo "other_run_message=$(grep -m1 'another sched_ext scheduler' "$out/agent5.log")"
echo "other_state_after=$(state)"
echo "other_ops_after=$(ops)"
rm -rf /sys/fs/bpf/other
wait_until 100 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]'
echo "other_removed_state=$(state)"

kill $hogs $canary 2>/dev/null
echo "canary_max_gap_ms=$(canary_max_gap_ms)"
echo "canary_ticks=$(wc -l <"$out/canary")"
echo "timeout_s=$timeout_s"
dump "agent1" "$out/agent1.log"
dump "agent2" "$out/agent2.log"
dump "agent3" "$out/agent3.log"
dump "agent4" "$out/agent4.log"
dump "agent5" "$out/agent5.log"
dump "stop" "$out/stop.log"
dump "handover" "$out/handover.log"
dump "other" "$out/other.log"
dmesg | grep -i sched_ext | sed 's/^/dmesg|/'
