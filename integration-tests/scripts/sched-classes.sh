#!/bin/sh
# Runs inside a sched_ext guest (bin/baton vm --cpus 2): Baton's classes, deadlines, wakeup
# preemption, the handback of what an RT task preempts, weights, starvation guard, stale-heartbeat
# fallback and pid-reuse safety, each measured with integration-tests/target/scenarios/schedprobe
# while Baton runs, hints written through the agent (the baton hint CLI once, its HTTP API
# otherwise). Prints key=value facts for SchedulerIT; raw logs follow prefixed with "agent|",
# "agent2|" and "dmesg|".
#
# Timing in an emulated guest on a shared host is noisy, so the deadline scenarios run the
# policies side by side in the same seconds (a SCHED_FIFO copy of the task is the noise floor)
# and the facts are sums over rounds; the test asserts contrasts, never absolute times.
#
# Usage: sched-classes.sh [full|core]. core leaves out what costs a JVM start each (the baton hint
# CLI, and a second agent run without the starvation guard): for the second kernel.
set -u
mode=${1:-full}
P=integration-tests/target/scenarios/schedprobe
out=$(mktemp -d)
state() { cat /sys/kernel/sched_ext/state; }
fact() { echo "$1=$2"; }

# The agent's API without a JVM per call: METHOD PATH [JSON]; prints the status code.
api() { $P http "$@" 2>/dev/null | head -1; }

# The body of GET PATH from the agent's API.
api_get() { $P http GET "$1" 2>/dev/null | tail -n +2; }

# Nanoseconds PID has run on a CPU (first field of /proc/PID/schedstat).
cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat" 2>/dev/null || echo 0; }

# Starts the agent with the given options; waits until it attached and serves hints.
start_agent() {
  log=$1
  shift
  bin/baton run "$@" >"$log" 2>&1 &
  agent=$!
  i=0
  until [ "$(api GET /v1/hints)" = 200 ] || [ $i -ge 1500 ] || ! kill -0 $agent 2>/dev/null; do
    sleep 0.2
    i=$((i + 1))
  done
}

# Sums the key=value fields KEYS of the result lines of NAME in FILE: "name_key=sum" facts.
sum_results() {
  awk -v name="$2" -v prefix="$3" '$1 == name {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] } n++
    } END { for (k in s) print prefix "_" k "=" s[k]; print prefix "_rounds=" n + 0 }' "$1"
}

# live_frames NAME PERIOD_US DURATION_MS: a LIVE frame loop on CPU 1 (2 ms of work a period, due
# 25 ms after each release) until it ends; its sums as NAME_* facts.
live_frames() {
  rm -f "$out/go"
  $P periodic --cpu 1 --period-us "$2" --work-us 2000 --deadline-us 25000 --duration-ms "$3" --go "$out/go" \
    --name "$1_frames" >"$out/$1.txt" &
  frames=$!
  api PUT /v1/hints/$frames '{"class":"live","deadline_us":25000}' >/dev/null
  touch "$out/go"
  wait $frames
  sum_results "$out/$1.txt" "$1_frames" "$1"
}

fact kernel "$(uname -r)"
fact cpus "$(nproc)"
t0=$(date +%s)
# Longer NORMAL and BATCH slices put the cost of not preempting (a wait for the running slice to
# end) above the host's timer noise; LIVE keeps the default.
start_agent "$out/agent.log" --slice-us 100000 --slice-us live=20000 --timeout-ms 10000 --restart-max 0 \
  --handover-grace-ms 8000
fact agent_start_s $(($(date +%s) - t0))
fact state_attached "$(state)"
fact ops "$(cat /sys/kernel/sched_ext/root/ops 2>/dev/null)"
# The agent's own hint: its whole process (every JVM thread) INTERACTIVE, keyed by its pid.
fact agent_hint "$(api_get /v1/hints | grep -o "{\"pid\":$agent,[^}]*}")"

# Cgroup hints: the operator's commands run INTERACTIVE (their JVM would otherwise crawl behind
# the hogs below), and a "background" cgroup is IDLE.
mkdir -p /sys/fs/cgroup
mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null
mkdir -p /sys/fs/cgroup/operator /sys/fs/cgroup/background
fact cgroup_controllers "$(cat /sys/fs/cgroup/cgroup.subtree_control)"
fact cgroup_operator_put "$(api PUT /v1/hints/cgroups/$(stat -c %i /sys/fs/cgroup/operator) '{"class":"interactive"}')"
fact cgroup_background_put "$(api PUT /v1/hints/cgroups/$(stat -c %i /sys/fs/cgroup/background) '{"class":"idle"}')"
# Runs a command in cgroup NAME.
in_cgroup() {
  name=$1
  shift
  sh -c 'echo $$ >/sys/fs/cgroup/'"$name"'/cgroup.procs && exec "$@"' sh "$@"
}

# Background load for the deadline scenarios: more CPU hogs than CPUs, NORMAL and BATCH.
hogs="" # NORMAL, NORMAL, BATCH, BATCH
for k in 1 2; do
  $P hog --duration-ms 600000 --name normal_hog >/dev/null &
  hogs="$hogs $!"
done
for k in 1 2; do
  $P hog --duration-ms 600000 --name batch_hog >/dev/null &
  hogs="$hogs $!"
  api PUT /v1/hints/$! '{"class":"batch"}' >/dev/null
done

# Default classes: an unhinted hog is NORMAL, a kernel thread (khugepaged, nice 19) INTERACTIVE.
# Writing khugepaged's sleep wakes it, so it has been scheduled since the attach.
kh=$(grep -lx khugepaged /proc/[0-9]*/comm 2>/dev/null | head -1 | cut -d/ -f3)
kh_sleep=/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs
kh_was=$(cat $kh_sleep 2>/dev/null)
[ -z "$kh_was" ] || echo 100 >$kh_sleep
sleep 1
fact default_kthread "$([ -n "$kh" ] && api_get /v1/hints/$kh)"
fact default_hog "$(api_get /v1/hints/$(echo $hogs | cut -d' ' -f1))"
[ -z "$kh_was" ] || echo "$kh_was" >$kh_sleep

# --- LIVE vs NORMAL under hogs: three copies of one frame loop run together, released 66 ms
# apart: one hinted LIVE, one left NORMAL, one SCHED_FIFO (what the host's noise allows). Each
# needs half a CPU, more than a NORMAL task's share here (LIVE and FIFO take one CPU; the other
# goes to three NORMAL tasks): a lighter loop wakes in time as NORMAL too (it preempts the hogs),
# and what a LIVE hint adds is CPU beyond the share, which vtime gives no task.
: >"$out/live.txt"
for round in 1 2 3; do
  rm -f "$out/go"
  opts="--period-us 200000 --work-us 100000 --deadline-us 200000 --duration-ms 8000 --go $out/go"
  $P periodic $opts --name live >>"$out/live.txt" &
  live=$!
  $P periodic $opts --offset-us 66000 --name normal >>"$out/live.txt" &
  normal=$!
  $P periodic $opts --offset-us 133000 --fifo 10 --name fifo >>"$out/live.txt" &
  fifo=$!
  if [ $round = 1 ] && [ $mode = full ]; then
    # The operator's path, end to end: CLI -> agent API -> HintWriter -> BPF map -> scheduling.
    in_cgroup operator bin/baton hint $live --class live --deadline-us 200000 >"$out/cli.txt" 2>&1
    fact cli_hint_exit $?
    fact cli_hint_out "$(cat "$out/cli.txt")"
  else
    api PUT /v1/hints/$live '{"class":"live","deadline_us":200000}' >/dev/null
  fi
  touch "$out/go"
  wait $live $normal $fifo
done
if [ $mode = full ]; then
  in_cgroup operator bin/baton hint --list >"$out/list.txt" 2>&1
  fact cli_list_exit $?
  fact cli_list_batch "$(awk -v p=$(echo $hogs | cut -d' ' -f3) '$1 == p' "$out/list.txt")"
  sed 's/^/list|/' "$out/list.txt"
fi
sum_results "$out/live.txt" live live
sum_results "$out/live.txt" normal normal
sum_results "$out/live.txt" fifo fifo

# --- EDF: two LIVE tasks on one CPU, 25% and 55% of it, deadlines equal to their periods; then
# the same pair under SCHED_FIFO, which runs each job to completion in arrival order. Periods of
# 200 ms and 1 s keep the host's timer noise small against the slack; slices as long as a job
# keep the starvation guard from cutting into one.
: >"$out/edf.txt"
for policy in live fifo; do
  rm -f "$out/go"
  f=""
  [ $policy = fifo ] && f="--fifo 10"
  $P periodic --cpu 1 --period-us 200000 --work-us 50000 --duration-ms 10000 --go "$out/go" $f \
    --name ${policy}_short >>"$out/edf.txt" &
  short=$!
  $P periodic --cpu 1 --period-us 1000000 --work-us 550000 --duration-ms 10000 --go "$out/go" $f \
    --name ${policy}_long >>"$out/edf.txt" &
  long=$!
  if [ $policy = live ]; then
    api PUT /v1/hints/$short '{"class":"live","deadline_us":200000,"slice_us":60000}' >/dev/null
    api PUT /v1/hints/$long '{"class":"live","deadline_us":1000000,"slice_us":600000}' >/dev/null
  fi
  touch "$out/go"
  wait $short $long
done
for n in live_short live_long fifo_short fifo_long; do sum_results "$out/edf.txt" $n edf_$n; done
kill $hogs 2>/dev/null
wait $hogs 2>/dev/null

# --- Overrun: two LIVE hogs share CPU 1 for 3 s, each running half the time, then a LIVE frame
# loop joins them there (2 ms every 50 ms, due 25 ms after release). A hog that ran a whole
# relative deadline without sleeping goes after the LIVE tasks on time until it sleeps, so the
# loop's frames wait for neither hog.
$P hog --cpu 1 --duration-ms 10000 >/dev/null &
ohogs=$!
$P hog --cpu 1 --duration-ms 10000 >/dev/null &
ohogs="$ohogs $!"
for h in $ohogs; do api PUT /v1/hints/$h '{"class":"live","deadline_us":40000,"slice_us":5000}' >/dev/null; done
sleep 3
live_frames overrun 50000 4000
kill $ohogs 2>/dev/null
wait $ohogs 2>/dev/null
fact overrun_state "$(state)"

# --- Overrun under a live overload: a LIVE hog that overran shares CPU 1 for 3 s with three LIVE
# tasks that sleep between 5 ms bursts, 1 ms each time (2.5 CPUs of on-time work, none of it
# ever overrunning). The hog goes after them, but not for ever: it must still get CPU.
$P hog --cpu 1 --duration-ms 5000 >/dev/null &
shog=$!
api PUT /v1/hints/$shog '{"class":"live","deadline_us":20000}' >/dev/null
sleep 1 # it runs alone and overruns
sbursts=""
for i in 1 2 3; do
  $P bursts --cpu 1 --period-us 6000 --work-us 5000 --duration-ms 3000 >/dev/null &
  sbursts="$sbursts $!"
  api PUT /v1/hints/$! '{"class":"live","deadline_us":20000}' >/dev/null
done
c0=$(cpu_ns $shog)
wait $sbursts
fact overload_hog_ms $((($(cpu_ns $shog) - c0) / 1000000))
fact overload_state "$(state)"
kill $shog 2>/dev/null
wait $shog 2>/dev/null

# --- Overrunning mid-run: on CPU 1 a LIVE task with a long slice (200 ms) runs 80 ms bursts 15 ms
# apart, due 10 ms after each wakeup, so it overruns 10 ms into every burst; a LIVE frame loop
# there (2 ms every 47 ms, due 25 ms after release) meets its bursts at every phase. A frame must
# go first from the moment the burst overruns, whether it woke before that or after.
$P bursts --cpu 1 --period-us 95000 --work-us 80000 --duration-ms 7000 >/dev/null &
mburst=$!
api PUT /v1/hints/$mburst '{"class":"live","deadline_us":10000,"slice_us":200000}' >/dev/null
live_frames midrun 47000 5000
kill $mburst 2>/dev/null
wait $mburst 2>/dev/null
fact midrun_state "$(state)"

# beside_hogs NAME FIFO_CPU: the NORMAL frame loop NAME on CPU 1 beside two NORMAL hogs there,
# and a SCHED_FIFO copy of it, NAME_fifo, on FIFO_CPU, both from the same moment; their sums as
# NAME_* and NAME_fifo_* facts.
beside_hogs() {
  $P hog --cpu 1 --duration-ms 9000 >/dev/null &
  bh1=$!
  $P hog --cpu 1 --duration-ms 9000 >/dev/null &
  bh2=$!
  sleep 1
  rm -f "$out/go"
  : >"$out/$1.txt"
  opts="--period-us 1000 --work-us 200 --deadline-us 1000 --duration-ms 3000 --go $out/go"
  $P periodic --cpu 1 $opts --name "$1" >>"$out/$1.txt" &
  bn=$!
  $P periodic --cpu "$2" $opts --fifo 10 --name "$1_fifo" >>"$out/$1.txt" &
  bf=$!
  touch "$out/go"
  wait $bn $bf
  kill $bh1 $bh2 2>/dev/null
  wait $bh1 $bh2 2>/dev/null
  sum_results "$out/$1.txt" "$1" "$1"
  sum_results "$out/$1.txt" "$1_fifo" "$1_fifo"
}

# --- Wakeup preemption: a NORMAL frame loop (200 us of work every 1 ms) on CPU 1 beside two
# NORMAL hogs there, whose slices are 100 ms: it takes the CPU from a hog as it wakes, rather than
# when the hog's slice ends. A SCHED_FIFO copy on CPU 0 is the noise floor. The background hogs
# are stopped meanwhile, here and in the next scenario: unpinned, they ran on CPU 1 too, and a
# task that may run only there keeps its vtime on that CPU's clock, not comparable with theirs
# (with them running, the loop on 7.2 once waited 158 ms and missed 16%).
kill -STOP $hogs
beside_hogs wake 0

# --- A higher scheduling class: the same loop and hogs on CPU 1, and the SCHED_FIFO copy there
# too. What the FIFO loop preempts is handed back to its DSQ (7.1+: SCX_ENQ_IMMED), not left at
# the head of CPU 1's local queue with the rest of its 100 ms slice, where the NORMAL loop waited
# for it. The loop's own deadlines are not the measure here: with the FIFO loop's 20% and the
# emulated context switches, CPU 1 is nearly full, and EEVDF too missed 85% of them.
reenqueued() { api_get /metrics | awk '/^baton_bpf_reenqueued_tasks_total/ { print int($2) }'; }
r0=$(reenqueued)
beside_hogs rt 1
sleep 1 # the agent reads the counters once per loop turn
r1=$(reenqueued)
fact rt_reenqueued $((${r1:-0} - ${r0:-0}))
kill -CONT $hogs

# --- Weights: two NORMAL hogs on CPU 1 with weights 200 and 100 (and 20 ms slices).
$P hog --cpu 1 --duration-ms 60000 >/dev/null &
heavy=$!
$P hog --cpu 1 --duration-ms 60000 >/dev/null &
light=$!
fact weights_heavy_put "$(api PUT /v1/hints/$heavy '{"class":"normal","weight":200,"slice_us":20000}')"
fact weights_light_put "$(api PUT /v1/hints/$light '{"class":"normal","weight":100,"slice_us":20000}')"
sleep 1
h0=$(cpu_ns $heavy) l0=$(cpu_ns $light)
sleep 5
fact weights_heavy_ns $(($(cpu_ns $heavy) - h0))
fact weights_light_ns $(($(cpu_ns $light) - l0))

# --- Stale heartbeat: the same pair at 400:100; stop the agent (SIGSTOP: no heartbeat, BPF
# keeps scheduling), then let it go on.
api PUT /v1/hints/$heavy '{"class":"normal","weight":400,"slice_us":20000}' >/dev/null
sleep 1
phase() { # NAME SECONDS
  h0=$(cpu_ns $heavy) l0=$(cpu_ns $light)
  sleep "$2"
  fact stale_${1}_heavy_ns $(($(cpu_ns $heavy) - h0))
  fact stale_${1}_light_ns $(($(cpu_ns $light) - l0))
}
phase fresh 3
kill -STOP $agent
sleep 3 # past stale_ms (2000) and a timer tick
phase stopped 3
kill -CONT $agent
sleep 3 # the agent catches up and beats again
phase resumed 3
kill $heavy $light 2>/dev/null
wait $heavy $light 2>/dev/null

# --- Pid reuse: A is hinted IDLE and competes with a NORMAL hog C on CPU 1; then A exits and a
# new process B is given A's pid, and competes with C in turn.
$P hog --cpu 1 --duration-ms 60000 >/dev/null &
c=$!
$P hog --cpu 1 --duration-ms 60000 >/dev/null &
a=$!
fact reuse_a_put "$(api PUT /v1/hints/$a '{"class":"idle","slice_us":20000}')"
sleep 1
a0=$(cpu_ns $a) c0=$(cpu_ns $c)
sleep 3
fact reuse_a_ns $(($(cpu_ns $a) - a0))
fact reuse_c_with_a_ns $(($(cpu_ns $c) - c0))
kill $a
wait $a 2>/dev/null
$P reuse-pid $a hog --cpu 1 --duration-ms 6000 >"$out/reuse.txt" 2>&1 &
i=0
until [ -d /proc/$a ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
fact reuse_pid_taken "$([ -d /proc/$a ] && echo yes || echo no)"
sleep 1
b0=$(cpu_ns $a) c0=$(cpu_ns $c)
sleep 3
fact reuse_b_ns $(($(cpu_ns $a) - b0))
fact reuse_c_with_b_ns $(($(cpu_ns $c) - c0))
fact reuse_listing "$(api_get /v1/hints)"
kill $c 2>/dev/null
wait $c 2>/dev/null

# --- No starvation: full LIVE + NORMAL load with a BATCH and an IDLE hog, under a 5 s watchdog.
hogs=""
for k in 1 2 3; do
  $P hog --duration-ms 60000 >/dev/null &
  hogs="$hogs $!"
done
$P hog --duration-ms 60000 >/dev/null &
batch=$!
api PUT /v1/hints/$batch '{"class":"batch"}' >/dev/null
# Another BATCH hog that only CPU 0 may run: the guard serves BATCH elsewhere, and must still
# come to it on CPU 0.
taskset -c 0 $P hog --duration-ms 60000 >/dev/null &
pinned=$!
api PUT /v1/hints/$pinned '{"class":"batch"}' >/dev/null
$P periodic --period-us 20000 --work-us 8000 --duration-ms 10000 --name starve_live >"$out/starve.txt" &
sl=$!
api PUT /v1/hints/$sl '{"class":"live","deadline_us":20000}' >/dev/null
# IDLE by its cgroup's hint, joined after fork and after the last hint write, so nothing but the
# move itself can make BPF look its hint up again (the cpu controller is off here, so the kernel
# does not tell sched_ext about the move). sh execs the hog, so $! is the hog.
sh -c 'echo $$ >/sys/fs/cgroup/background/cgroup.procs && exec "$@"' sh $P hog --duration-ms 60000 >/dev/null &
idle=$!
b0=$(cpu_ns $batch) p0=$(cpu_ns $pinned) i0=$(cpu_ns $idle) n0=$(cpu_ns $(echo $hogs | cut -d' ' -f1))
sleep 10
fact starve_batch_ns $(($(cpu_ns $batch) - b0))
fact starve_pinned_batch_ns $(($(cpu_ns $pinned) - p0))
fact starve_idle_ns $(($(cpu_ns $idle) - i0))
fact starve_normal_ns $(($(cpu_ns $(echo $hogs | cut -d' ' -f1)) - n0))
wait $sl
fact starve_state "$(state)"
fact starve_agent_alive "$(kill -0 $agent 2>/dev/null && echo yes || echo no)"
kill $hogs $batch $pinned $idle 2>/dev/null
wait $hogs $batch $pinned $idle 2>/dev/null

# --- cpu.max: a cgroup limited to 25% of a CPU runs two hogs against two unlimited ones on the
# two CPUs; then its limit goes back to max; then one hog runs alone on a CPU in a child cgroup
# limited to 50%, and the parent is limited to 30% while it runs, so that nothing but the
# tighter limit, an ancestor's, keeps it off its CPU. The cpu controller is on for this phase only.
cg_usage() { awk '$1 == "usage_usec" {print $2}' /sys/fs/cgroup/$1/cpu.stat; }
now_us() { echo $(($(date +%s%N) / 1000)); }
# cg_window NAME SECONDS: the capped cgroup's CPU time and the wall time over SECONDS, as facts.
cg_window() {
  u0=$(cg_usage capped) t0=$(now_us)
  sleep "$2"
  fact cpumax_$1_usage_us $(($(cg_usage capped) - u0))
  fact cpumax_$1_wall_us $(($(now_us) - t0))
}
echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/capped
echo "25000 100000" >/sys/fs/cgroup/capped/cpu.max
# In the cgroup by sh's exec, not in_cgroup: $! of a backgrounded function is a subshell, and
# killing it left the hog running (into the next phase).
into_capped='echo $$ >/sys/fs/cgroup/capped/cgroup.procs && exec "$@"'
chogs=""
for k in 1 2; do # killed below: a guest the host slows stretches the windows, not the hogs
  sh -c "$into_capped" sh $P hog --duration-ms 60000 >/dev/null &
  chogs="$chogs $!"
  $P hog --duration-ms 60000 >/dev/null &
  chogs="$chogs $!"
done
sleep 1
cg_window limited 5
echo max >/sys/fs/cgroup/capped/cpu.max
sleep 0.5
cg_window lifted 3
kill $chogs 2>/dev/null
wait $chogs 2>/dev/null
echo +cpu >/sys/fs/cgroup/capped/cgroup.subtree_control # once capped holds no task of its own
mkdir -p /sys/fs/cgroup/capped/inner
echo "50000 100000" >/sys/fs/cgroup/capped/inner/cpu.max
sh -c 'echo $$ >/sys/fs/cgroup/capped/inner/cgroup.procs && exec "$@"' sh $P hog --cpu 1 --duration-ms 60000 >/dev/null &
lone=$!
sleep 0.5 # running, and kept running: no ops.enqueue tells BPF of the limit set now
echo "30000 100000" >/sys/fs/cgroup/capped/cpu.max
sleep 0.5
cg_window lone 4
kill $lone 2>/dev/null
wait $lone 2>/dev/null
fact cpumax_state "$(state)"
i=0 # its last task may still be on its way out
until rmdir /sys/fs/cgroup/capped/inner 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
rmdir /sys/fs/cgroup/capped
echo -cpu >/sys/fs/cgroup/cgroup.subtree_control

# --- Handover: the agent exits 9 leaving the scheduler attached, its last heartbeat set
# handover_grace_ms (8 s here) ahead. With no agent running, its hints hold past stale_ms (the
# pair at 400:100 keeps its weights 2.5-5.5 s after the exit) and go stale after the grace and
# stale_ms (equal weights 12-15 s after).
$P hog --cpu 1 --duration-ms 60000 >/dev/null &
heavy=$!
$P hog --cpu 1 --duration-ms 60000 >/dev/null &
light=$!
api PUT /v1/hints/$heavy '{"class":"normal","weight":400,"slice_us":20000}' >/dev/null
api PUT /v1/hints/$light '{"class":"normal","weight":100,"slice_us":20000}' >/dev/null
sleep 1
fact handover_post "$(api POST /v1/handover)"
wait $agent
fact agent_exit $?
sleep 2.5
phase handover_kept 3
sleep 6.5
phase handover_gone 3
fact handover_state "$(state)"
kill $heavy $light 2>/dev/null
wait $heavy $light 2>/dev/null
# The pins hold the scheduler's last reference now: removing them detaches it (what baton stop
# does, without a JVM start here; LifecycleIT covers baton stop).
rm -r /sys/fs/bpf/baton
fact unpin_exit $?
i=0
while [ "$(state)" != disabled ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fact state_detached "$(state)"

# --- The guard is what prevents ejection: without it, the same kind of load (NORMAL hogs on
# every CPU and an IDLE task) ends in the watchdog's ejection.
if [ $mode = full ]; then
  start_agent "$out/agent2.log" --starve-ms 0 --timeout-ms 4000 --restart-max 0
  fact noguard_attached "$(state)"
  hogs=""
  for k in 1 2 3; do
    $P hog --duration-ms 60000 >/dev/null &
    hogs="$hogs $!"
  done
  $P hog --duration-ms 60000 >/dev/null &
  idle=$!
  api PUT /v1/hints/$idle '{"class":"idle"}' >/dev/null
  i=0
  while kill -0 $agent 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  kill -TERM $agent 2>/dev/null
  wait $agent
  fact noguard_agent_exit $?
  kill $hogs $idle 2>/dev/null
  wait $hogs $idle 2>/dev/null
fi
fact state_final "$(state)"

sed 's/^/agent|/' "$out/agent.log"
[ -f "$out/agent2.log" ] && sed 's/^/agent2|/' "$out/agent2.log"
sed 's/^/probe|/' "$out/reuse.txt"
dmesg | grep -i sched_ext | sed 's/^/dmesg|/'
