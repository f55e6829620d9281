#!/usr/bin/env bash
# make bench: what the policy engine costs the agent's event loop, natively (JMH): a 100 ms
# policy period of a farm host and a single runtime sample, transcode against the fair
# policy's bookkeeping alone. Writes target/bench/policy-tick.json (and JMH's own
# policy-tick-jmh.json). Needs `make build`; no root, no BPF.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tools/lib.sh"

out=$root/target/bench
classes=$root/integration-tests/target/classes
[ -f "$classes/META-INF/BenchmarkList" ] || die "the benchmark is not built: run make build"
jdk=$(find_jdk) || die "no JDK >= 25 found: set JAVA_HOME to one"
mkdir -p "$out"
exec "$jdk/bin/java" @"$root/deploy/jvm.args" -cp "$classes:$root/integration-tests/target/lib/*" \
  dev.baton.bench.PolicyTickBench "$out/policy-tick.json"
