#!/bin/sh
# Runs inside a sched_ext guest: Baton with the transcode policy, a CPU hog whose runtime samples
# are compared with the kernel's CPU accounting, and a periodic "live" task run twice among CPU
# hogs, first unregistered, then registered through baton job put; then a reload of the agent's
# config file. Prints key=value facts for
# JobsApiIT; raw logs follow prefixed with "agent|", "jobs|" and "dmesg|".
# Usage: jobs-api.sh PERIODIC_BINARY
set -u
periodic=$1
out=$(mktemp -d)
api=127.0.0.1:9755
state() { cat /sys/kernel/sched_ext/state; }
# A process that stops itself before it starts: its pid can be registered before it runs.
stopped() { sh -c 'kill -STOP $$; exec "$@"' sh "$@" & }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

printf 'policy:\n  policy: transcode\n' >"$out/baton.yaml"
bin/baton run --config "$out/baton.yaml" >"$out/agent.log" 2>&1 &
agent=$!
i=0
while [ "$(state)" != enabled ] && [ $i -lt 1200 ] && kill -0 $agent 2>/dev/null; do
  sleep 0.1
  i=$((i + 1))
done
echo "state_attached=$(state)"
i=0
until curl -sf "http://$api/v1/status" >"$out/status.json" && grep -q '"scheduler":"attached"' "$out/status.json" ||
  [ $i -ge 600 ]; do sleep 0.2; i=$((i + 1)); done
echo "status_json=$(cat "$out/status.json")"

# The CLI's JVM is slow to start in an emulated guest: curl does what is not about the CLI.
put() { curl -s -o "$out/put-$1.json" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d "$2" "http://$api/v1/jobs/$1"; }

# 1. Samples: a hog's CPU time as the policy saw it, against the kernel's utime + stime.
stopped sh -c 'while :; do :; done'
hog=$!
sleep 0.2
echo "put_hog_status=$(put hog "{\"class\":\"vod\",\"pids\":[$hog]}")"
kill -CONT $hog
sleep 3
kill -STOP $hog
sleep 1 # the agent reads the ring buffer at least every 250 ms
echo "hog_stat_ms=$(($(cpu_ticks $hog) * 1000 / $(getconf CLK_TCK)))"
curl -sf "http://$api/v1/tasks" >"$out/tasks.json"
echo "hog_task=$(grep -o "{\"pid\":$hog,[^}]*}" "$out/tasks.json")"
kill -KILL $hog
curl -s -X DELETE "http://$api/v1/jobs/hog"

# 2. A periodic task (5 ms of CPU every 50 ms) among one hog per CPU: unregistered, then live.
hogs=""
for k in $(seq 1 $(nproc)); do
  sh -c 'while :; do :; done' &
  hogs="$hogs $!"
done
"$periodic" 50000 5000 40 unreg_
stopped "$periodic" 50000 5000 40 reg_
live=$!
sleep 0.2
bin/baton job put cam1 --class live --period-us 50000 --tenant acme --pid $live --api $api \
  --timeout-s 300 >"$out/put-live.log" 2>&1
echo "put_live_exit=$?"
echo "live_pid=$live"
sleep 0.5 # a policy tick
curl -sf "http://$api/v1/hints" >"$out/hints.json"
echo "live_hint=$(grep -o "{\"pid\":$live,[^}]*}" "$out/hints.json")"
kill -CONT $live
wait $live
curl -sf "http://$api/v1/jobs" >"$out/jobs.json"
echo "jobs_json=$(cat "$out/jobs.json")"
echo "rm_status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$api/v1/jobs/cam1")"
echo "rm_again=$(curl -s -X DELETE "http://$api/v1/jobs/cam1")"
kill $hogs

# 3. A reload: the class slices, timings and handover_grace_ms reach the running scheduler;
# timeout_ms, the kernel's watchdog fixed at attach, takes a restart. The events the agent
# receives in 3 s with four hogs running, before and after sample_ms goes from 100 to 1000: most
# are runtime samples, which the BPF side sends at most once per sample_ms per task (a task that
# runs less often than that sends one each time it stops either way).
events() { curl -sf "http://$api/metrics" | awk '/^baton_agent_received_events_total/ { print int($2) }'; }
spin=""
for i in 1 2 3 4; do
  sh -c 'while :; do :; done' &
  spin="$spin $!"
done
sleep 1
e0=$(events)
sleep 3
e1=$(events)
printf 'policy:\n  policy: transcode\nslice_us: 5000\nhandover_grace_ms: 1000\nstale_ms: 3000\nsample_ms: 1000\ntimeout_ms: 20000\n' >"$out/baton.yaml"
echo "reload_json=$(curl -s -X POST "http://$api/v1/reload")"
echo "status_reloaded=$(curl -sf "http://$api/v1/status")"
sleep 1
e2=$(events)
sleep 3
e3=$(events)
kill $spin
echo "events_sampled_often=$((e1 - e0))"
echo "events_sampled_seldom=$((e3 - e2))"

# 4. A reload that lowers stale_ms reaches the BPF side's heartbeat check within 500 ms, however
# long the old one: at stale_ms 60000 the check runs every 500 ms (every 15 s uncapped). After a
# reload to 200, the agent frozen for 2 s must be seen stale.
stale_periods() { curl -sf "http://$api/metrics" | awk '/^baton_bpf_stale_periods/ { print int($2) }'; }
conf='policy:\n  policy: transcode\nslice_us: 5000\nhandover_grace_ms: 1000\nsample_ms: 1000\ntimeout_ms: 20000\n'
printf "${conf}stale_ms: 60000\n" >"$out/baton.yaml"
curl -s -o /dev/null -X POST "http://$api/v1/reload"
sleep 1.5 # the check has run since, and set its next run with stale_ms 60000
printf "${conf}stale_ms: 200\n" >"$out/baton.yaml"
curl -s -o /dev/null -X POST "http://$api/v1/reload"
s0=$(stale_periods)
kill -STOP $agent
sleep 2
kill -CONT $agent
sleep 1
echo "stale_periods_frozen=$(($(stale_periods) - s0))"

kill -TERM $agent
wait $agent
echo "agent_exit=$?"
echo "state_final=$(state)"
sed 's/^/agent|/' "$out/agent.log"
for f in "$out/put-live.log" "$out"/put-*.json; do sed 's/^/jobs|/' "$f"; echo; done
dmesg | grep -i sched_ext | sed 's/^/dmesg|/'
