#!/usr/bin/env bash
# Runs one command in a fresh sched_ext guest (qemu, software emulation) and exits with its status.
# The guest sees the host's root read-only and the current directory read-write at the same path,
# so the project's launcher and build output work there as on the host.
#
# Usage: run.sh [--cpus N] [--mem SIZE] [--kernel VERSION] [--timeout-s S] [--boot-timeout-s S] -- CMD...
#        run.sh --list-kernels
# Exit: the command's status, or 123 kernel oops/panic, 124 timeout, 125 harness failure (qemu
# crashing after the command started, or crashing or hanging on three boots in a row before it
# did, is one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../tools/lib.sh"

cpus=2 mem=2G kernel="" timeout_s=900 boot_timeout_s=120
usage() { echo "usage: baton vm [--cpus N] [--mem SIZE] [--kernel VERSION] [--timeout-s S] [--boot-timeout-s S] -- CMD..." >&2; exit 125; }
harness_fail() { printf 'baton vm: %s\n' "$*" >&2; exit 125; }

while [ $# -gt 0 ]; do
  case $1 in
  --cpus) cpus=${2:?}; shift 2 ;;
  --mem) mem=${2:?}; shift 2 ;;
  --kernel) kernel=${2:?}; shift 2 ;;
  --timeout-s) timeout_s=${2:?}; shift 2 ;;
  --boot-timeout-s) boot_timeout_s=${2:?}; shift 2 ;;
  --list-kernels)
    list=$(cached_kernels)
    [ -n "$list" ] || harness_fail "no sched_ext kernel cached in $BATON_CACHE/kernels: run tools/setup.sh"
    echo "$list" | sed '1s/$/ (default)/'
    exit 0 ;;
  --) shift; break ;;
  *) usage ;;
  esac
done
[ $# -gt 0 ] || usage
case $cpus in '' | *[!0-9]*) harness_fail "--cpus takes a whole number, not '$cpus'" ;; esac
case $timeout_s in '' | *[!0-9]*) harness_fail "--timeout-s takes whole seconds, not '$timeout_s'" ;; esac
case $boot_timeout_s in '' | *[!0-9]* | 0) harness_fail "--boot-timeout-s takes whole seconds above 0, not '$boot_timeout_s'" ;; esac

if [ -z "$kernel" ]; then
  kernel=$(cached_kernels | head -1)
  [ -n "$kernel" ] || harness_fail "no sched_ext kernel cached in $BATON_CACHE/kernels: run tools/setup.sh (make build does)"
fi
kdir=$BATON_CACHE/kernels/$kernel
[ -f "$kdir/ready" ] || harness_fail "kernel '$kernel' is not cached; cached: $(cached_kernels | tr '\n' ' ')"
command -v qemu-system-x86_64 >/dev/null || harness_fail "qemu-system-x86_64 not found: run tools/setup.sh"
[ -x /bin/busybox ] || harness_fail "/bin/busybox (busybox-static) not found: run tools/setup.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/baton-vm.XXXXXX")
qpid=""
cleanup() {
  [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# initramfs: static busybox, the init script, the 9p modules. Small enough to build every boot.
mkdir -p "$work/initrd/bin" "$work/initrd/modules" "$work/ctl"
cp /bin/busybox "$work/initrd/bin/busybox"
cp "$here/init" "$work/initrd/init"
cp "$kdir"/modules/* "$work/initrd/modules/"
(cd "$work/initrd" && find . | busybox cpio -o -H newc 2>/dev/null) >"$work/initrd.cpio"
deadline=$((SECONDS + timeout_s))

pwd >"$work/ctl/workdir"
{
  echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb"
  echo "export BATON_IN_VM=1"
  # C1 only, unless the caller chose: qemu's multi-threaded TCG crashed the agent's JVM twice
  # (SIGSEGV at the entry of a C1-compiled method just patched by a tier-up, executed on another
  # vCPU). With one tier a method's code is not replaced, only deoptimized now and then; it also
  # saves the C2 compiler's CPU, which under emulation costs more than it returns. Methods compile
  # at a tenth of the usual call counts: emulated, a JVM takes 15-20 times longer to warm up, and
  # the farm's agent was still compiling through its measured run (a third of its CPU there).
  printf 'export BATON_JAVA_OPTS=%q\n' "${BATON_JAVA_OPTS:--XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.1}"
  for v in JAVA_HOME BATON_CACHE; do
    [ -z "${!v:-}" ] || printf 'export %s=%q\n' "$v" "${!v}"
  done
  printf 'cd %q || exit 125\n' "$(pwd)"
  printf 'exec'
  printf ' %q' "$@"
  echo
} >"$work/ctl/cmd"

# qemu's multi-threaded TCG itself aborts now and then (seen: an assertion in iotlb_to_section,
# QEMU 10.0.2, while the guest kernel was still booting), and once hung before the guest printed
# anything (a CI run lost its whole timeout, 1500 s, to it). A boot that ends or is killed before
# the command started changed nothing and printed nothing of the command's, so it is booted
# again; a crash after the command started fails the run, since part of the command has already
# happened. A guest reaches its command in about 5 s here (`--boot-timeout-s` is 24 times that).
# tsc=reliable: under TCG the guest's TSC is the host's, steady, but the kernel's clocksource
# watchdog, reading the emulated HPET late while the host is busy, marked it unstable 165-190 s
# into SchedulerIT's boot. From then on the guest read time from the HPET (an emulated device
# access per read) and a running task saw ~15 ticks a second of its CPU's 250, up to 0.4 s
# without one (counted in ops.tick): no host Baton runs on behaves so. With it, ~250.
boots=3
for boot in $(seq 1 $boots); do
  rm -f "$work/ctl/status" "$work/ctl/started" "$work/console.log"
  boot_deadline=$((SECONDS + boot_timeout_s))
  hung=""
  # The guest's stdout is ours: qemu writes hvc0 straight to our stdout.
  qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem" \
    -nodefaults -no-reboot -display none -monitor none \
    -kernel "$kdir/vmlinuz" -initrd "$work/initrd.cpio" \
    -append "console=ttyS0 quiet oops=panic panic=-1 rdinit=/init tsc=reliable" \
    -serial "file:$work/console.log" \
    -device virtio-serial-pci -chardev stdio,id=out,signal=off -device virtconsole,chardev=out \
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev local,id=work,path="$(pwd)",security_model=none,multidevs=remap \
    -device virtio-9p-pci,fsdev=work,mount_tag=work \
    -fsdev local,id=ctl,path="$work/ctl",security_model=none \
    -device virtio-9p-pci,fsdev=ctl,mount_tag=ctl \
    </dev/null &
  qpid=$!

  while kill -0 "$qpid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      kill "$qpid" 2>/dev/null || true
      wait "$qpid" 2>/dev/null || true
      qpid=""
      printf 'baton vm: timed out after %ss; guest console tail:\n' "$timeout_s" >&2
      tail -n 30 "$work/console.log" >&2 || true
      exit 124
    fi
    if [ $SECONDS -ge $boot_deadline ] && [ ! -e "$work/ctl/started" ]; then
      hung=1
      kill "$qpid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  qrc=0
  wait "$qpid" || qrc=$?
  qpid=""
  if [ -n "$hung" ]; then
    # Started between the look and the kill: part of the command may have run.
    [ ! -e "$work/ctl/started" ] || harness_fail "the command started as its boot was given up for hung; not run again"
    why="the guest did not reach the command within ${boot_timeout_s}s"
  else
    # Above 128: qemu died of a signal it did not get from us (an abort, a segfault).
    [ "$qrc" -gt 128 ] && [ ! -f "$work/ctl/status" ] || break
    if [ -f "$work/ctl/started" ]; then
      echo "baton vm: qemu itself crashed (exit $qrc) after the command started: an emulator failure, not the guest's; qemu's message is above" >&2
      exit 125
    fi
    why="qemu itself crashed (exit $qrc) before the command started"
  fi
  if [ "$boot" -ge $boots ]; then
    echo "baton vm: $why, $boots boots in a row: an emulator failure; qemu's messages are above, the console's tail below" >&2
    tail -n 30 "$work/console.log" >&2 || true
    exit 125
  fi
  echo "baton vm: $why: booting again ($((boot + 1)) of $boots)" >&2
done

# A kernel oops or panic fails the run whatever the command returned.
oops_re='Oops:|Kernel panic - not syncing|BUG: |general protection fault|kernel BUG at'
if grep -qE "$oops_re" "$work/console.log"; then
  echo "baton vm: the guest kernel oopsed or panicked (kernel $kernel); console:" >&2
  grep -E -B2 -A40 "$oops_re" "$work/console.log" | head -80 >&2
  # One oops is named for what it is: a CPU stopped at a breakpoint in the kernel's own text that
  # no code patching claimed. Static keys (flipped by every sched_ext enable and disable, and by
  # CPU hotplug) are patched by planting int3, syncing every CPU, writing the new bytes, syncing
  # again; a CPU that executes the int3 after that ran code the patching CPU had already replaced.
  # qemu's multi-threaded TCG does that now and then (QEMU 7.2: 2 of 27 boots, in
  # enqueue_task_fair before any scheduler was loaded; 10.0.2: seen once in this project's CI,
  # in __schedule during FaultIT's hotplug and restarts; the agent's JVM died the same way on C1's
  # patched entries, see BATON_JAVA_OPTS above). A BPF program writes no kernel text, and its
  # own code (bpf_prog_*, trampolines) is left out of this verdict.
  first=$(grep -m1 -E "$oops_re" "$work/console.log")
  rip=$(sed -n '/Oops: int3/,$p' "$work/console.log" | grep -m1 -oE 'RIP: 0010:[^ ]+' || true)
  rip=${rip#RIP: 0010:}
  case $first:$rip in
  *'Oops: int3'*:bpf_* | *'Oops: int3'*:0x*) ;;
  *'Oops: int3'*:[a-z_]*+0x*)
    echo "baton vm: the oops is a stale code-patching breakpoint in kernel text ($rip)," \
      "an emulator failure (qemu's multi-threaded TCG), not the guest's" >&2 ;;
  esac
  exit 123
fi
if [ ! -f "$work/ctl/status" ]; then
  echo "baton vm: the guest ended without reporting a status (qemu exit $qrc); console:" >&2
  tail -n 40 "$work/console.log" >&2 || true
  exit 125
fi
exit "$(cat "$work/ctl/status")"
