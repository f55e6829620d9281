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
#   a scenario is a name from integration-tests/scenarios/ or a path to a .farm file. By default
#   simple and hard, and ffmpeg (real encoders) when ffmpeg is installed.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
farm=$root/integration-tests/target/workload/farm
have_ffmpeg=0
command -v ffmpeg >/dev/null 2>&1 && have_ffmpeg=1
seconds="" scenarios="simple hard$([ $have_ffmpeg = 0 ] || echo ' ffmpeg')" setups="alone eevdf nice fifo baton"
while [ $# -gt 0 ]; do
  case $1 in
  --seconds) seconds=$2; shift 2 ;;
  --scenarios) scenarios=$2; shift 2 ;;
  --setups) setups=$2; shift 2 ;;
  *) echo "usage: farm-scenarios.sh [--seconds S] [--scenarios LIST] [--setups LIST]" >&2; exit 2 ;;
  esac
done
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
  local scen=$1 out=$2 fpid rc hook_rc
  shift 2
  rm -f "$work/ready" "$work/go"
  "$farm" run -f "$scen" ${seconds:+-e "seconds $seconds"} \
    --ready-file "$work/ready" --go-file "$work/go" "$@" >"$out" 2>"$work/err" &
  fpid=$!
  while [ ! -f "$work/ready" ] && kill -0 $fpid 2>/dev/null; do sleep 0.05; done
  hook_rc=0
  if [ -f "$work/ready" ] && [ -n "$before_go" ]; then
    $before_go "$work/ready" || hook_rc=$?
  fi
  [ $hook_rc = 0 ] || kill $fpid 2>/dev/null
  touch "$work/go"
  wait $fpid
  rc=$?
  [ $hook_rc = 0 ] || { echo "before-go hook failed (exit $hook_rc)" >>"$work/err"; rc=$hook_rc; }
  return $rc
}

run_alone() { grep -v '^vod' "$1" >"$work/alone.farm" && run_farm "$work/alone.farm" "$2"; }
run_eevdf() { run_farm "$1" "$2"; }
run_nice() { run_farm "$1" "$2" --live-nice -10; }
run_fifo() { run_farm "$1" "$2" --live-policy fifo; }

# ---- Baton's setup: the slot for the transcode policy -------------------------------------------
# To come with the transcode policy and the job API. The plan:
#   1. attach: bin/baton run --config <transcode config> & ; wait for sched_ext state "enabled";
#   2. before_go=register_jobs; run_farm "$1" "$2"   (no --live-nice, no --live-policy: the
#      policy decides from the jobs alone), where register_jobs reads the ready file and calls
#      `bin/baton job put ...` for each encoder: live ones with pid and period_us (their frame
#      deadline), VOD ones with pid and tenant;
#   3. stop the agent (SIGTERM), check it detached (state "disabled"), and print its exit status.
run_baton() {
  echo "Baton's setup waits for the transcode policy and its job API" >"$work/err"
  return 3
}

status=0
for s in $scenarios; do
  case $s in
  */* | *.farm) scen=$s name=$(basename "$s" .farm) ;;
  *) scen=$root/integration-tests/scenarios/$s.farm name=$s ;;
  esac
  for setup in $setups; do
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
