# Shared by the guest scripts (sourced inside a sched_ext VM). Facts go to stdout as key=value.
out=$(mktemp -d)
state() { cat /sys/kernel/sched_ext/state; }
ops() { cat /sys/kernel/sched_ext/root/ops 2>/dev/null; }

# wait_until TENTHS CMD...: polls CMD every 0.1 s; false if it never succeeded.
wait_until() {
  local n=$1 i=0
  shift
  while ! "$@" 2>/dev/null; do
    i=$((i + 1))
    [ $i -ge "$n" ] && return 1
    sleep 0.1
  done
}

# start_agent LOG ARGS...: starts bin/baton run in the background; its pid is in $agent.
start_agent() {
  local log=$1
  shift
  bin/baton run "$@" >"$log" 2>&1 &
  agent=$!
}

# Waits (up to 5 min: a JVM and the verifier under emulation, on a shared host) for LOG to
# contain a line matching RE.
wait_log() { wait_until 3000 grep -q "$2" "$1"; }

# A ticker that writes a CLOCK_REALTIME ns stamp every 50 ms: its largest gap shows a stall.
start_canary() {
  (while :; do date +%s%N; sleep 0.05; done) >"$out/canary" &
  canary=$!
}

# The canary's largest gap since it started, in ms.
canary_max_gap_ms() {
  awk 'NR > 1 { g = ($1 - p) / 1e6; if (g > m) m = g } { p = $1 } END { printf "%d", m }' "$out/canary"
}

dump() { # PREFIX FILE: the raw log, each line prefixed, for the test's messages
  [ -f "$2" ] && sed "s/^/$1|/" "$2"
}
