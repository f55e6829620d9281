#!/bin/sh
# Guest half of event-path-vm.sh: attach Baton, run EventPathBench's round trips while it
# schedules (fewer trips than natively: the guest is emulated; a longer warm-up, as its JIT is
# slow too), detach. The consumer asks the agent for INTERACTIVE, as the agent's own event loop
# has. Arguments: the JDK's home and the output directory. Prints key=value facts.
set -u
jdk=$1
out=$2
tmp=$(mktemp -d)
state() { cat /sys/kernel/sched_ext/state; }
wait_state() { i=0; while [ "$(state)" != "$1" ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done; }

mount -t bpf bpf /sys/fs/bpf 2>/dev/null
bin/baton run >"$tmp/agent.log" 2>&1 &
agent=$!
wait_state enabled
echo "baton_state=$(state) baton_ops=$(cat /sys/kernel/sched_ext/root/ops)"
"$jdk/bin/java" @deploy/jvm.args \
  -Dbaton.bench.trips=20000 -Dbaton.bench.budget-s=60 -Dbaton.bench.warmup-s=20 \
  -Dbaton.bench.agent-api=127.0.0.1:9755 \
  -cp "integration-tests/target/classes:integration-tests/target/lib/*" dev.baton.bench.EventPathBench \
  bpf/build/test/bench_events.bpf.o - "$out/event-path-vm.json" roundtrip
echo "bench_status=$?"
echo "baton_after=$(state)"
kill -TERM $agent
wait $agent
echo "agent_status=$? kernel=$(uname -r)"
grep -v 'baton: events' "$tmp/agent.log" | sed 's/^/agent|/'
