# Sourced by the benchmarks that boot a VM, from the repository root: sets $out (the results'
# directory, made), builds the BPF objects and schedprobe, and sets $log, a temporary file
# removed on exit.
bench_vm_prepare() {
  out=${BATON_BENCH_OUT:-target/bench}
  mkdir -p "$out"
  make -s -C bpf >/dev/null
  make -s -C integration-tests/scenarios >/dev/null
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
}
