#!/bin/sh
# Runs inside a sched_ext guest (bin/baton vm): the transcoding-farm scenarios under each setup,
# one after another in this boot, so that setups compare on the same kernel, vCPUs and host load.
# Every record farm prints comes out prefixed with "setup=S scenario=N "; a failed run prints a
# record=error line instead and makes the exit status 1; a setup that cannot run here (its run_
# function returns 3) prints record=skipped and is no failure.
#
# Setups: alone  the live encoders alone at the defaults: the floor this VM and host allow
#         eevdf  everything at the defaults (what a host does with no tuning)
#         nice   live encoders at nice -10 (what an operator does today)
#         fifo   live encoders at SCHED_FIFO, one priority for all
#         baton  Baton with the transcode policy: jobs registered through its API, no renicing
#
# Usage: farm-scenarios.sh [--seconds S] [--scenarios "simple hard"] [--setups "alone eevdf ..."]
#                          [--rounds N]
#   a scenario is a name from integration-tests/scenarios/ or a path to a .farm file. By default
#   simple and hard, and ffmpeg (real encoders) when ffmpeg is installed. --rounds repeats every
#   scenario's setups N times in turn (default 1), to tell a setup's effect from the host's noise.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
farm=$root/integration-tests/target/workload/farm
have_ffmpeg=0
command -v ffmpeg >/dev/null 2>&1 && have_ffmpeg=1
seconds="" scenarios="simple hard$([ $have_ffmpeg = 0 ] || echo ' ffmpeg')" setups="alone eevdf nice fifo baton" rounds=1
while [ $# -gt 0 ]; do
  case $1 in
  --seconds) seconds=$2; shift 2 ;;
  --scenarios) scenarios=$2; shift 2 ;;
  --setups) setups=$2; shift 2 ;;
  --rounds) rounds=$2; shift 2 ;;
  *) echo "usage: farm-scenarios.sh [--seconds S] [--scenarios LIST] [--setups LIST] [--rounds N]" >&2; exit 2 ;;
  esac
done
case $rounds in '' | *[!0-9]* | 0) echo "farm-scenarios: --rounds wants a whole number >= 1, not '$rounds'" >&2; exit 2 ;; esac
[ -x "$farm" ] || { echo "farm-scenarios: $farm is missing: build first (make build)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "cpus=$(nproc)"
echo "kernel=$(uname -r)"
echo "sched_ext_state=$(cat /sys/kernel/sched_ext/state 2>/dev/null || echo none)"
echo "ffmpeg=$([ $have_ffmpeg = 1 ] && ffmpeg -version 2>/dev/null | sed -n '1s/^ffmpeg version \([^ ]*\).*/\1/p' || echo absent)"

# Runs farm on one scenario; $before_go (if set) runs once every encoder is set up and waiting,
# with the ready file (farm's record=encoder lines, with pids) as its argument.
before_go=""
run_farm() { # scenario-file out-file farm-options...
  local scen=$1 out=$2 fpid rc hook_rc stat0
  shift 2
  rm -f "$work/ready" "$work/go"
  "$farm" run -f "$scen" ${seconds:+-e "seconds $seconds"} \
    --ready-file "$work/ready" --go-file "$work/go" "$@" >"$out" 2>"$work/err" &
  fpid=$!
  while [ ! -f "$work/ready" ] && kill -0 $fpid 2>/dev/null; do sleep 0.05; done
  hook_rc=0
  if [ -f "$work/ready" ] && [ -n "$before_go" ]; then
    $before_go "$work/ready" 2>>"$work/err" || hook_rc=$?
  fi
  [ $hook_rc = 0 ] || kill $fpid 2>/dev/null
  stat0=$(guest_stat)
  touch "$work/go"
  wait $fpid
  rc=$?
  [ $rc != 0 ] || guest_record "$stat0" "$(guest_stat)" >>"$out"
  [ $hook_rc = 0 ] || { echo "before-go hook failed (exit $hook_rc)" >>"$work/err"; rc=$hook_rc; }
  return $rc
}

# guest_stat: the guest's CPU time by kind (jiffies: user nice system idle iowait irq softirq),
# interrupts and context switches so far, and the time now (ms).
guest_stat() {
  awk '$1 == "cpu" { printf "%s %s %s %s %s %s %s ", $2, $3, $4, $5, $6, $7, $8 }
       $1 == "ctxt" || $1 == "intr" { printf "%s ", $2 }' /proc/stat
  awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# guest_record BEFORE AFTER: where the guest's CPUs went between two guest_stat lines, so that
# a setup's throughput can be told apart from CPU lost to idling, the kernel or interrupts.
guest_record() {
  echo "$1 $2" | awk '{ for (i = 1; i <= 10; i++) d[i] = $(i + 10) - $i
    t = d[1] + d[2] + d[3] + d[4] + d[5] + d[6] + d[7]; if (t <= 0) t = 1; s = d[10] / 1000; if (s <= 0) s = 1
    printf "record=guest user_pct=%.1f system_pct=%.1f irq_pct=%.1f idle_pct=%.1f intr_per_s=%d ctxt_per_s=%d\n",
      100 * (d[1] + d[2]) / t, 100 * d[3] / t, 100 * (d[6] + d[7]) / t, 100 * (d[4] + d[5]) / t, d[8] / s, d[9] / s }'
}

run_alone() { grep -v '^vod' "$1" >"$work/alone.farm" && run_farm "$work/alone.farm" "$2"; }
run_eevdf() { run_farm "$1" "$2"; }
run_nice() { run_farm "$1" "$2" --live-nice -10; }
run_fifo() { run_farm "$1" "$2" --live-policy fifo; }

# ---- Baton's setup ---------------------------------------------------------------------------
# The agent attaches with the transcode policy before farm starts (a JVM starts in seconds under
# emulation; that is not part of the scenario), every encoder is registered through the control
# API while farm waits for its go file (live: pid and frame period; VOD: pid and tenant), and
# nothing is reniced: the policy decides from the jobs alone. The scenario's tenant weights go
# into the policy config, as an operator would declare them. An unmeasured run of the same
# scenario warms the agent up first. The agent runs unpinned, so the scheduler cannot outlive
# this setup; SIGTERM must detach it and exit 0.
api=127.0.0.1:9755
sched_state() { cat /sys/kernel/sched_ext/state 2>/dev/null || echo none; }

# policy_config SCENARIO: the transcode policy, with every VOD tenant at the scenario's weight
# (farm's default is 1; the policy's would be 100).
policy_config() {
  echo "policy: transcode"
  awk '$1 == "tenant" { for (i = 3; i <= NF; i++) if ($i ~ /^weight=/) w[$2] = substr($i, 8) }
       $1 == "vod" { for (i = 3; i <= NF; i++) if ($i ~ /^tenant=/ && !t[substr($i, 8)]++) nt++ }
       END { if (nt) print "tenants:"; for (n in t) printf "  %s: {weight: %d}\n", n, (n in w) ? w[n] : 1 }' "$1"
}

# field NAME LINE: the value of NAME=... in a record line.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# call METHOD PATH [JSON]: one request to the agent's API; the body goes to $work/answer, the
# status code to stdout.
call() {
  curl -s -m 60 -o "$work/answer" -w '%{http_code}' -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} \
    "http://$api$2"
}

# register_jobs READY: one job per encoder, $job_prefix before its name, through the API.
register_jobs() {
  local line name kind pid body code
  while read -r line; do
    name=$(field name "$line") kind=$(field kind "$line") pid=$(field pid "$line")
    case $kind in
    live) body="{\"class\":\"live\",\"period_us\":$(field period_us "$line"),\"pids\":[$pid]}" ;;
    vod) body="{\"class\":\"vod\",\"tenant\":\"$(field tenant "$line")\",\"pids\":[$pid]}" ;;
    *) echo "unknown encoder kind '$kind' in the ready file" >&2; return 1 ;;
    esac
    code=$(call PUT "/v1/jobs/$job_prefix$name" "$body")
    [ "$code" = 200 ] || { echo "PUT /v1/jobs/$job_prefix$name: $code $(cat "$work/answer")" >&2; return 1; }
  done <"$1"
  agent_cpu0=$(cpu_ms $agent)
  thread_cpu $agent >"$work/threads0"
}

# thread_cpu PID: "tid name cpu_ms" for each thread of the process, sorted by tid. One awk for
# all threads (their stat files), not a process or two per thread: this runs just before the
# measured run starts. A name may hold spaces and parentheses: it ends at the last ')'.
thread_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{
      o = index($0, "("); c = 0
      for (k = length($0); k > o; k--) if (substr($0, k, 1) == ")") { c = k; break }
      name = substr($0, o + 1, c - o - 1); gsub(/ /, "_", name)
      split(substr($0, c + 2), f, " ") # f[1] is field 3 (state): utime, stime are f[12], f[13]
      print $1, name, int((f[12] + f[13]) * 1000 / hz)
    }' /proc/"$1"/task/*/stat 2>/dev/null | LC_ALL=C sort
}

# agent_threads PID: where the agent's CPU went since register_jobs, by kind of thread: its event
# loop (the JVM's main thread), the JIT, the collector and the VM's own threads, the API (Netty).
# A thread that ended meanwhile is in the process's cpu_ms but in none of these.
agent_threads() {
  thread_cpu "$1" >"$work/threads1"
  LC_ALL=C join -a 2 "$work/threads0" "$work/threads1" | awk '{
      n = NF == 5 ? $4 : $2; d = NF == 5 ? $5 - $3 : $3
      g = n == "java" ? "loop" : n ~ /^C[12]_Compiler/ ? "jit" : n ~ /^(GC_|G1_|VM_)/ ? "gc_vm" : n ~ /^(baton-api|multiThreadIoEv)/ ? "api" : "other"
      s[g] += d
    } END { printf "agent_loop_ms=%d agent_jit_ms=%d agent_gc_vm_ms=%d agent_api_ms=%d agent_other_ms=%d", s["loop"], s["jit"], s["gc_vm"], s["api"], s["other"] }'
}

# remove_jobs READY: the jobs register_jobs made.
remove_jobs() {
  local line code
  while read -r line; do
    code=$(call DELETE "/v1/jobs/$job_prefix$(field name "$line")")
    [ "$code" = 204 ] || { echo "DELETE a job: $code $(cat "$work/answer")" >&2; return 1; }
  done <"$1"
}

# job_records LOG_FROM: each job as the policy saw it, from /v1/jobs (its CPU and waiting over
# the run, its health at the end) and from the agent's log after line LOG_FROM (the highest lag
# level it reached, how often it was reported infeasible).
job_records() {
  local j name
  [ "$(call GET /v1/jobs)" = 200 ] || return 0
  { cat "$work/answer"; echo; } | sed 's/},{/}\n{/g' | while read -r j; do
    name=$(echo "$j" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
    printf 'record=job name=%s class=%s health=%s cpu_ms=%s wait_ms=%s max_lag_level=%s infeasible_reports=%s\n' "$name" \
      "$(echo "$j" | sed -n 's/.*"class":"\([^"]*\)".*/\1/p')" \
      "$(echo "$j" | sed -n 's/.*"health":"\([^"]*\)".*/\1/p' | grep . || echo none)" \
      "$(($(echo "$j" | sed -n 's/.*"cpu_ns":\([0-9]*\).*/\1/p') / 1000000))" \
      "$(($(echo "$j" | sed -n 's/.*"wait_ns":\([0-9]*\).*/\1/p') / 1000000))" \
      "$(tail -n +"$1" "$work/agent.log" | sed -n "s/^baton: job $name: lagging lag \([0-9]*\).*/\1/p" | sort -n | tail -1 | grep . || echo 0)" \
      "$(tail -n +"$1" "$work/agent.log" | grep -c "^baton: job $name: infeasible")"
  done
}

# cpu_ms PID: the CPU time the process has used (user + system), 0 if it is gone.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat" 2>/dev/null || echo 0; }

run_baton() { # scenario-file out-file
  local i rc=0 agent_rc state log_from agent_split=""
  command -v curl >/dev/null || { echo "curl is missing (the setup talks to Baton's API)" >"$work/err"; return 2; }
  [ "$(sched_state)" = disabled ] ||
    { echo "a sched_ext scheduler is already $(sched_state) (want disabled)" >"$work/err"; return 2; }
  policy_config "$1" >"$work/policy.yaml"
  "$root/bin/baton" run --no-pin --policy-config "$work/policy.yaml" >"$work/agent.log" 2>&1 &
  agent=$!
  # Up to 5 minutes: a JVM and the BPF verifier under emulation, on a host that may be busy.
  i=0
  until [ "$(sched_state)" = enabled ] && curl -sf -m 10 -o /dev/null "http://$api/v1/status"; do
    if ! kill -0 $agent 2>/dev/null || [ $i -ge 1500 ]; then
      kill -TERM $agent 2>/dev/null
      wait $agent
      { echo "the agent did not attach (exit $?, state $(sched_state)):"; tail -5 "$work/agent.log"; } >"$work/err"
      return 1
    fi
    sleep 0.2
    i=$((i + 1))
  done
  # The warm-up, a whole unmeasured run: a JVM's first minute of real work is its JIT's busiest
  # (measured in the hard scenario: after a 5 s warm-up the agent used 5.4% of this guest's CPU
  # during the run, after a whole run 4.5%, all of it taken from VOD), and a farm host's agent
  # has long been running when load like this arrives. Its jobs go before the measured run's.
  before_go=register_jobs job_prefix=warm-up-
  run_farm "$1" "$work/warm-up" && remove_jobs "$work/ready" 2>>"$work/err" || rc=$?
  if [ $rc = 0 ]; then
    before_go=register_jobs job_prefix=""
    log_from=$(($(wc -l <"$work/agent.log") + 1))
    run_farm "$1" "$2" || rc=$?
    agent_cpu=$(($(cpu_ms $agent) - agent_cpu0)) agent_split=$(agent_threads $agent)
    job_records "$log_from" >>"$2"
  else
    sed -i '1s/^/warm-up: /' "$work/err"
  fi
  before_go=""
  kill -TERM $agent
  wait $agent
  agent_rc=$?
  state=$(sched_state)
  # With the BPF side's counters from its last report (guard dispatches, kicks, ...), and how
  # long LIVE tasks waited from wakeup to running (log2 bucket bounds): frames missed while
  # those waits stayed short were lost to time the guest did not run, not to queueing.
  [ $rc != 0 ] || echo "record=agent exit=$agent_rc state=$state cpu_ms=$agent_cpu $agent_split" \
    "$(sed -n 's/^baton: stats //p' "$work/agent.log" | tail -1)" \
    "$(sed -n 's/^baton: run delay from wakeup to running: live waits=\([0-9]*\) mean_us=\([0-9]*\) p99_us=\([0-9a-z]*\) max_us=\([0-9a-z]*\).*/live_waits=\1 live_delay_mean_us=\2 live_delay_p99_us=\3 live_delay_max_us=\4/p' "$work/agent.log" | tail -1)" >>"$2"
  if [ $rc = 0 ] && { [ $agent_rc != 0 ] || [ "$state" != disabled ]; }; then
    { echo "the agent exited $agent_rc leaving the scheduler $state:"; tail -5 "$work/agent.log"; } >"$work/err"
    rc=1
  fi
  [ $rc = 0 ] || tail -5 "$work/agent.log" >>"$work/err"
  return $rc
}

status=0
for s in $scenarios; do
  case $s in
  */* | *.farm) scen=$s name=$(basename "$s" .farm) ;;
  *) scen=$root/integration-tests/scenarios/$s.farm name=$s ;;
  esac
  for setup in $(for r in $(seq "$rounds"); do echo $setups; done); do
    prefix="setup=$setup scenario=$name"
    rc=0
    if grep -q '^live .* cmd ffmpeg ' "$scen" 2>/dev/null && [ $have_ffmpeg = 0 ]; then
      echo "$prefix record=skipped message=ffmpeg is not installed"
      continue
    fi
    case $setup in
    alone | eevdf | nice | fifo | baton) "run_$setup" "$scen" "$work/out" || rc=$? ;;
    *) echo "unknown setup '$setup' (want alone, eevdf, nice, fifo or baton)" >"$work/err"; rc=2 ;;
    esac
    sed "s/^/$prefix /" "$work/out" 2>/dev/null
    if [ $rc = 3 ]; then
      echo "$prefix record=skipped message=$(tr '\n' ' ' <"$work/err")"
    elif [ $rc != 0 ]; then
      echo "$prefix record=error exit=$rc message=$(tr '\n' ' ' <"$work/err")"
      status=1
    fi
    rm -f "$work/out"
  done
done
exit $status
