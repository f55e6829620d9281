#!/bin/bash
# Runs inside a sched_ext guest: the agent's lifecycle with the scheduler pinned, under a canary
# task and CPU hogs. An agent with only CAP_BPF and CAP_PERFMON attaches and serves metrics;
# SIGKILL leaves the scheduler attached and a new agent adopts it, with the jobs registered
# through the API whose processes still run (again after the handover); a fork storm overflows its
# task table; SIGSTOP past the watchdog timeout ejects nothing; handover passes the scheduler to
# a third agent, which a real Prometheus scrapes; a fourth finds the pinned scheduler's interface
# another build's and replaces it; baton stop detaches it; a foreign scheduler is refused and left
# alone. Prints key=value facts for LifecycleIT; raw logs follow, prefixed.
set -u
. integration-tests/scripts/lib.sh
pins=/sys/fs/bpf/baton
# The watchdog timeout the first agent loads the scheduler with (the kernel's default is 30 s): the
# SIGSTOP phase waits past it.
timeout_s=${BATON_TEST_TIMEOUT_S:-10}
prom=/var/cache/baton/prometheus/usr/bin

echo "state_before=$(state)"
start_canary

# --- 1. the smallest privileges attach, pinned ------------------------------------------------
bin/baton check >"$out/check.log" 2>&1
echo "check_exit=$?"
# handover_grace_ms at its longest: the second agent, a JVM starting beside the hogs, may take
# longer than the default to adopt, and phase 2 counts the times the hints went stale.
setpriv --bounding-set=-all,+bpf,+perfmon --inh-caps=-all -- bin/baton run --timeout-ms $((timeout_s * 1000)) \
  --handover-grace-ms 600000 >"$out/agent1.log" 2>&1 &
agent=$!
wait_log "$out/agent1.log" "^baton: attached"
# The hogs from here on: the first JVM and the verifier beside them took a minute more and tested
# nothing the later agents' starts under them do not.
hogs=""
for k in $(seq 1 "$(nproc)"); do
  sh -c 'while :; do :; done' &
  hogs="$hogs $!"
done
echo "caps_first_agent=$(grep CapEff /proc/$agent/status | cut -f2)"
echo "attach_state=$(state)"
echo "attach_ops=$(ops)"
echo "pins=$(cd $pins && find . -mindepth 1 | sort | tr '\n' ' ')"
echo "pin_modes=$(find $pins -mindepth 1 -exec stat -c '%a' {} + | sort -u | tr '\n' ' ')"
echo "pin_dir_mode=$(stat -c '%a %U' $pins)"
curl -sf -m 120 http://127.0.0.1:9755/metrics >"$out/metrics1.txt"
echo "metrics_exit=$?"
echo "metrics_baton_series=$(grep -c '^baton_' "$out/metrics1.txt")"
echo "metrics_enabled=$(sed -n 's/^baton_scheduler_state{state="enabled"} //p' "$out/metrics1.txt")"
$prom/promtool check metrics <"$out/metrics1.txt" >"$out/promtool.log" 2>&1
echo "promtool_metrics_exit=$?"
# Two jobs through the API: the canary's, and one whose process exits while no agent runs.
sleep 600 &
doomed=$!
put_job() { # ID JSON: the status code
  curl -s -m 60 -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d "$2" \
    "http://127.0.0.1:9755/v1/jobs/$1"
}
echo "job_put=$(put_job canary "{\"class\":\"live\",\"period_us\":50000,\"pids\":[$canary]}")" \
  "$(put_job doomed "{\"class\":\"vod\",\"tenant\":\"t\",\"pids\":[$doomed]}")"
# jobs_facts PREFIX: the API jobs the agent has (ids), and how many tasks the canary's selects.
jobs_facts() {
  curl -sf -m 60 http://127.0.0.1:9755/v1/jobs | sed 's/},{/}\n{/g' >"$out/jobs.json"
  echo "$1_jobs=$(sed -n 's/.*"id":"\([^"]*\)".*"origin":"api".*/\1/p' "$out/jobs.json" | sort | tr '\n' ' ')"
  echo "$1_canary_tasks=$(sed -n '/"id":"canary"/s/.*"tasks":\([0-9]*\).*/\1/p' "$out/jobs.json")"
  echo "$1_kept_hint=$(curl -sf -m 60 http://127.0.0.1:9755/v1/hints | grep -o "{\"pid\":$kept,[^}]*}")"
}
# An operator's hint (baton hint, /v1/hints) on a process that runs throughout: adopting agents
# keep it, and say it is the operator's.
sleep 600 &
kept=$!
echo "kept_hint_put=$(curl -s -m 60 -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  -d '{"class":"batch"}' "http://127.0.0.1:9755/v1/hints/$kept")"
jobs_facts registered

# --- 2. SIGKILL: the scheduler stays, and the dead agent's hints; a new agent adopts it --------
# metric NAME FILE: a counter's value in a /metrics scrape.
metric() { sed -n "s/^$1 //p" "$2"; }
curl -sf -m 120 http://127.0.0.1:9755/metrics >"$out/metrics_killed.txt"
echo "killed_stale_periods_before=$(metric baton_bpf_stale_periods_total "$out/metrics_killed.txt")"
kill -KILL $agent
wait $agent 2>/dev/null
echo "killed_exit=$?"
kill $doomed
sleep 3 # past stale_ms: the BPF side has found the agent gone, and keeps its hints
echo "killed_state=$(state)"
echo "killed_ops=$(ops)"
echo "killed_pins=$([ -e $pins/link ] && echo present || echo absent)"
for k in $(seq 1 50); do /bin/true; done # tasks come and go while no agent runs
start_agent "$out/agent2.log" --max-tasks 16
wait_log "$out/agent2.log" "^baton: adopted"
echo "adopt_state=$(state)"
curl -sf -m 120 http://127.0.0.1:9755/metrics >"$out/metrics_adopted.txt"
echo "adopt_stale_periods=$(metric baton_bpf_stale_periods_total "$out/metrics_adopted.txt")"
echo "adopt_agent_deaths=$(metric baton_bpf_agent_deaths_total "$out/metrics_adopted.txt")"
jobs_facts adopted

# --- 3. fork storm: the task table stays bounded, drops are counted ---------------------------
sleepers=""
for k in $(seq 1 40); do
  sleep 600 &
  sleepers="$sleepers $!"
done
kill $hogs # forks are what this phase measures, not CPU contention
storm_start=$(date +%s)
storm=""
for s in 1 2 3 4; do
  # Subshells: a fork and an exit each, without exec's cost under emulation.
  (for k in $(seq 1 500); do (:) & wait $!; done) &
  storm="$storm $!"
done
wait $storm
echo "storm_s=$(($(date +%s) - storm_start))"
sleep 2
curl -sf -m 60 http://127.0.0.1:9755/v1/status >"$out/status2.json" 2>&1
echo "storm_status=$(cat "$out/status2.json")"
curl -sf -m 120 http://127.0.0.1:9755/metrics >"$out/metrics2.txt"
echo "storm_dropped_tasks=$(sed -n 's/^baton_agent_dropped_tasks_total //p' "$out/metrics2.txt")"
echo "storm_tracked=$(sed -n 's/^baton_agent_tracked_tasks //p' "$out/metrics2.txt")"
echo "storm_ring_drops=$(sed -n 's/^baton_bpf_ring_dropped_events_total //p' "$out/metrics2.txt")"
echo "storm_agent_alive=$(kill -0 $agent && echo yes || echo no)"
echo "storm_state=$(state)"
kill $sleepers 2>/dev/null
hogs=""
for k in $(seq 1 "$(nproc)"); do
  sh -c 'while :; do :; done' &
  hogs="$hogs $!"
done

# --- 4. SIGSTOP past the watchdog timeout: nothing is ejected ---------------------------------
kill -STOP $agent
sleep $((timeout_s + 3))
echo "frozen_state=$(state)"
echo "frozen_ops=$(ops)"
kill -CONT $agent
# curl, not baton status (walking-skeleton.sh covers the CLI): a JVM start is 7-8 s here.
e1=$(curl -sf -m 60 http://127.0.0.1:9755/v1/status | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
for k in $(seq 1 50); do /bin/true; done
sleep 2
e2=$(curl -sf -m 60 http://127.0.0.1:9755/v1/status | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
echo "thawed_events_before=$e1"
echo "thawed_events_after=$e2"

# --- 5. handover: exit 9, still attached; a third agent adopts --------------------------------
bin/baton handover --timeout-s 60 >"$out/handover.log" 2>&1
echo "handover_cmd_exit=$?"
wait $agent
echo "handover_exit=$?"
echo "handover_state=$(state)"
echo "handover_pins=$([ -e $pins/link ] && echo present || echo absent)"
start_agent "$out/agent3.log"
wait_log "$out/agent3.log" "^baton: adopted"
echo "handover_adopted=yes"
jobs_facts handover

# --- 6. a real Prometheus scrapes the agent ---------------------------------------------------
cat >"$out/prometheus.yml" <<'CFG'
global: {scrape_interval: 2s, scrape_timeout: 2s}
scrape_configs:
  - job_name: baton
    static_configs: [{targets: ["127.0.0.1:9755"]}]
CFG
$prom/prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/tsdb" \
  --web.listen-address=127.0.0.1:9090 >"$out/prometheus.log" 2>&1 &
promd=$!
query() { curl -sf -m 30 "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1"; }
wait_until 3000 sh -c "curl -sf -m 30 'http://127.0.0.1:9090/api/v1/query?query=up' | grep -q '\"value\":\\[[0-9.]*,\"1\"\\]'"
echo "prom_up=$(query 'up{job="baton"}' | jq -r '.data.result[0].value[1]')"
echo "prom_baton_series=$(query 'count({__name__=~"baton_.+"})' | jq -r '.data.result[0].value[1]')"
echo "prom_enabled=$(query 'baton_scheduler_state{state="enabled"}' | jq -r '.data.result[0].value[1]')"
echo "prom_events=$(query 'baton_agent_received_events_total' | jq -r '.data.result[0].value[1]')"
kill $promd
wait $promd 2>/dev/null

# --- 7. a pinned scheduler of another interface: detached, this agent's own attached ----------
# What an upgrade's handover meets when bpf/intf.h changed without changing a map's size: the
# interface fingerprint the loading agent stamped (first in the live state) is another build's.
echo "dmesg_enabled_before_refit=$(dmesg | grep -c 'BPF scheduler "baton" enabled')"
echo "dmesg_disabled_before_refit=$(dmesg | grep -c 'BPF scheduler "baton" disabled')"
bin/baton handover --timeout-s 60 >"$out/handover2.log" 2>&1
wait $agent
echo "refit_handover_exit=$?"
live=$(find $pins/maps -name '*data_live' | head -1)
rest=$(bpftool -j map lookup pinned "$live" key 0 0 0 0 | jq -r '.value | map(ltrimstr("0x")) | .[8:] | join(" ")')
bpftool map update pinned "$live" key 0 0 0 0 value hex de ad be ef de ad be ef $rest >"$out/tamper.log" 2>&1
echo "refit_tamper_exit=$?"
start_agent "$out/agent4.log"
wait_log "$out/agent4.log" "^baton: attached"
echo "refit_state=$(state)"
echo "refit_ops=$(ops)"
echo "refit_message=$(grep -m1 'built with another bpf/intf.h' "$out/agent4.log")"

# --- 8. baton stop detaches the pinned scheduler; the agent sees it and exits 0 ---------------
bin/baton stop >"$out/stop.log" 2>&1
echo "stop_exit=$?"
wait $agent
echo "stop_agent_exit=$?"
wait_until 100 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]'
echo "stop_state=$(state)"
echo "stop_pins=$([ -e $pins ] && echo present || echo absent)"
bin/baton stop >"$out/stop2.log" 2>&1
echo "stop_again_exit=$?"

# --- 9. another sched_ext scheduler: refused, left alone --------------------------------------
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
echo "other_pins_after=$([ -e $pins ] && echo present || echo absent)"
rm -rf /sys/fs/bpf/other
wait_until 100 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]'
echo "other_removed_state=$(state)"

kill $hogs $canary $kept 2>/dev/null
echo "canary_max_gap_ms=$(canary_max_gap_ms)"
echo "canary_ticks=$(wc -l <"$out/canary")"
echo "timeout_s=$timeout_s"
echo "done=yes"
for f in check agent1 agent2 agent3 agent4 agent5 handover handover2 tamper stop stop2 other promtool prometheus; do dump "$f" "$out/$f.log"; done
dmesg | grep -i sched_ext | sed 's/^/dmesg|/'
