#!/usr/bin/env bash
# Finds or installs everything Baton's build and tests need, and caches the sched_ext test kernels.
# Idempotent: with everything present it only refreshes the kernel index (a few seconds).
#
# Debian 12 takes libbpf, bpftool and QEMU from bookworm-backports (QEMU 7.2 oopses guests under
# multi-threaded TCG); Debian 13 has them stock. Backports and the kernel suites are read through
# private apt lists under $BATON_CACHE: the machine's own apt sources are never changed.
#
# Usage: tools/setup.sh [--no-kernels]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

want_kernels=1
[ "${1:-}" = "--no-kernels" ] && want_kernels=0

# The suites whose amd64 kernels have CONFIG_SCHED_CLASS_EXT=y today; each contributes its newest.
KERNEL_SUITES=${BATON_KERNEL_SUITES:-"trixie-backports sid"}
DEBIAN_MIRROR=${BATON_DEBIAN_MIRROR:-http://deb.debian.org/debian}

. /etc/os-release 2>/dev/null || true
codename=${VERSION_CODENAME:-unknown}
if [ "${ID:-}" != debian ]; then
  note "this is ${PRETTY_NAME:-an unknown system}; setup knows Debian 12 and 13."
  note "elsewhere install by hand: clang >= 19, libbpf-dev >= 1.4, bpftool, qemu-system-x86 >= 10,"
  note "a static busybox, stress-ng, zstd, xz, gcc, make and a JDK >= 25; then run setup again to fetch kernels."
fi

apt_dir=$BATON_CACHE/apt
as_root() {
  [ "$(id -u)" = 0 ] || die "need root to $* (run as root, or install it yourself and re-run)"
}

# apt-get/apt-cache over the machine's sources plus one extra suite, with lists kept in our cache.
# Our list replaces /etc/apt/sources.list, so it carries that file's lines too: a classic install
# (not a container image with only sources.list.d/) keeps its main suite there.
apt_with() { # suite tool args...
  local suite=$1 tool=$2
  shift 2
  local d=$apt_dir/$suite
  mkdir -p "$d/lists/partial"
  { cat /etc/apt/sources.list 2>/dev/null || true; echo "deb $DEBIAN_MIRROR $suite main"; } >"$d/sources.list"
  "$tool" -o Dir::Etc::SourceList="$d/sources.list" -o Dir::State::Lists="$d/lists" "$@"
}

# Only the one suite, for resolving kernels (never installs from it). Signatures are checked, but
# not Valid-Until: a mirror or clock a few weeks off must not cost us a kernel we only boot in tests.
apt_only() { # suite tool args...
  local suite=$1 tool=$2
  shift 2
  local d=$apt_dir/only-$suite
  mkdir -p "$d/lists/partial"
  echo "deb $DEBIAN_MIRROR $suite main" >"$d/sources.list"
  "$tool" -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$d/lists" -o Debug::NoLocking=1 -o Acquire::Check-Valid-Until=false "$@"
}

ver_ge() { dpkg --compare-versions "$1" ge "$2" 2>/dev/null || [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

# ---- tools -------------------------------------------------------------------------------------
missing_base=() missing_bpo=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

command -v clang-19 >/dev/null || missing_base+=(clang-19)
command -v llvm-objcopy-19 >/dev/null || missing_base+=(llvm-19)
command -v gcc >/dev/null || missing_base+=(gcc libc6-dev)
command -v make >/dev/null || missing_base+=(make)
command -v zstd >/dev/null || missing_base+=(zstd)
command -v xz >/dev/null || missing_base+=(xz-utils)
command -v pkg-config >/dev/null || missing_base+=(pkg-config)
command -v curl >/dev/null || missing_base+=(curl) # the VM tests scrape and query over HTTP
command -v python3 >/dev/null || missing_base+=(python3) # plays systemd's notify socket in a test
command -v modinfo >/dev/null || missing_base+=(kmod)
have_pkg busybox-static || missing_base+=(busybox-static)
command -v stress-ng >/dev/null || missing_base+=(stress-ng) # FaultIT stresses the scheduler with it

libbpf_ver=$(pkg-config --modversion libbpf 2>/dev/null || echo 0)
ver_ge "$libbpf_ver" 1.4 || missing_bpo+=(libbpf-dev libbpf1)
bpftool version >/dev/null 2>&1 || missing_bpo+=(bpftool)
# || true: with pipefail a missing qemu (status 127) would end the script here without a word.
qemu_ver=$(qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/.*version \([0-9.]*\).*/\1/p' || true)
ver_ge "${qemu_ver:-0}" 10 || missing_bpo+=(qemu-system-x86)

jdk=$(find_jdk || true)

if [ ${#missing_base[@]} -gt 0 ] || [ ${#missing_bpo[@]} -gt 0 ] || [ -z "$jdk" ]; then
  [ "${ID:-}" = debian ] || die "missing: ${missing_base[*]} ${missing_bpo[*]} ${jdk:-JDK>=25}"
  as_root "install ${missing_base[*]} ${missing_bpo[*]}"
  export DEBIAN_FRONTEND=noninteractive
  case $codename in
  bookworm) bpo=bookworm-backports ;;
  *) bpo="" ;;
  esac
  [ -n "$jdk" ] || case $codename in
  bookworm) die "no JDK >= 25 found (JAVA_HOME, /usr/lib/jvm/*). Debian 12 has none: install Temurin 25
  (https://adoptium.net) or set JAVA_HOME to a JDK >= 25, then run this again." ;;
  *) missing_base+=(openjdk-25-jdk-headless) ;;
  esac
  if [ -n "$bpo" ]; then
    apt_with "$bpo" apt-get update -qq
    inst() { apt_with "$bpo" apt-get install -y -qq --no-install-recommends "$@"; }
  else
    apt-get update -qq
    inst() { apt-get install -y -qq --no-install-recommends "$@"; }
  fi
  [ ${#missing_base[@]} -eq 0 ] || inst "${missing_base[@]}" >/dev/null ||
    die "could not install ${missing_base[*]} (apt-get said why above)"
  if [ ${#missing_bpo[@]} -gt 0 ]; then
    if [ -n "$bpo" ]; then inst -t "$bpo" "${missing_bpo[@]}" >/dev/null; else inst "${missing_bpo[@]}" >/dev/null; fi ||
      die "could not install ${missing_bpo[*]}${bpo:+ from $bpo}"
  fi
  jdk=$(find_jdk) || die "no JDK >= 25 after installing: set JAVA_HOME to one"
fi

libbpf_ver=$(pkg-config --modversion libbpf)
ver_ge "$libbpf_ver" 1.4 || die "libbpf $libbpf_ver is too old: Baton needs >= 1.4 (libbpf-dev)"
qemu_ver=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
ver_ge "$qemu_ver" 10 || die "QEMU $qemu_ver is too old: Baton's VM tests need >= 10 (7.2 oopses guests)"

# ---- bpffs ----------------------------------------------------------------------------------------
# The host tests pin maps under /sys/fs/bpf as a restarted agent reopens them. systemd mounts it at
# boot; a container or a machine booted without systemd may not have it.
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  as_root "mount the BPF filesystem at /sys/fs/bpf"
  mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf ||
    die "could not mount the BPF filesystem at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)"
  note "mounted the BPF filesystem at /sys/fs/bpf"
fi

# ---- prometheus ----------------------------------------------------------------------------------
# The metrics tests scrape the agent with a real Prometheus and lint the exposition and the alert
# rules with promtool. Debian's package runs from where dpkg -x unpacks it, so it is cached, not
# installed: the machine keeps no Prometheus service it did not ask for.
fetch_prometheus() {
  local d=$BATON_CACHE/prometheus tmp deb
  [ -x "$d/usr/bin/promtool" ] && "$d/usr/bin/promtool" --version >/dev/null 2>&1 && return 0
  tmp=$(mktemp -d)
  local try
  for try in 1 2; do
    (cd "$tmp" && apt-get download -qq prometheus 2>&1 | grep -v unsandboxed >&2) || true
    deb=$(ls "$tmp"/prometheus_*.deb 2>/dev/null | head -1)
    [ -z "$deb" ] && [ $try = 1 ] && as_root "update apt's lists" && apt-get update -qq
    [ -n "$deb" ] && break
  done
  [ -n "$deb" ] || { rm -rf "$tmp"; die "could not download Debian's prometheus package (apt-get update first?)"; }
  rm -rf "$d" && mkdir -p "$d" && dpkg-deb -x "$deb" "$d" && rm -rf "$tmp"
  "$d/usr/bin/promtool" --version >/dev/null || die "$d/usr/bin/promtool does not run"
}
fetch_prometheus

# ---- kernels -----------------------------------------------------------------------------------
# Resolves the newest amd64 kernel of a suite whose config has sched_ext, and caches what a boot
# needs: vmlinuz, config, the 9p modules (decompressed, with their dependencies), vmlinux.h.
fetch_kernel() { # suite
  local suite=$1 abi names n tmp dest
  apt_only "$suite" apt-get update -qq || { note "could not read $suite's index"; return 1; }
  # Plain flavour only: -cloud lacks 9p, -rt changes what we measure.
  names=$(apt_only "$suite" apt-cache pkgnames linux-image- |
    grep -E '^linux-image-[0-9]+\.[0-9]+(\.[0-9]+)?\+deb[0-9]+-amd64$' |
    sed 's/^linux-image-//; s/-amd64$//' | sort -V -r | head -3)
  [ -n "$names" ] || { note "no amd64 kernels in $suite"; return 1; }
  for abi in $names; do
    dest=$BATON_CACHE/kernels/$abi
    if [ -f "$dest/ready" ]; then
      echo "$abi"
      return 0
    fi
    tmp=$(mktemp -d)
    if fetch_into "$suite" "$abi" "$tmp"; then
      rm -rf "$dest"
      mkdir -p "$(dirname "$dest")"
      mv "$tmp/kernel" "$dest"
      echo "suite=$suite" >"$dest/ready"
      rm -rf "$tmp"
      echo "$abi"
      return 0
    fi
    rm -rf "$tmp"
  done
  return 1
}

fetch_into() { # suite abi tmp
  local suite=$1 abi=$2 tmp=$3 pkgs p x k cfg vmlinuz mods
  if apt_only "$suite" apt-cache show "linux-binary-$abi-amd64" >/dev/null 2>&1; then
    pkgs="linux-base-$abi-amd64 linux-binary-$abi-amd64 linux-modules-$abi-amd64"
  else
    pkgs="linux-image-$abi-amd64"
  fi
  note "fetching kernel $abi from $suite ($pkgs)"
  (cd "$tmp" && apt_only "$suite" apt-get download -qq $pkgs 2>&1 | grep -v 'unsandboxed' >&2) || true
  for p in $pkgs; do
    ls "$tmp"/"$p"_*.deb >/dev/null 2>&1 || { note "download of $p failed"; return 1; }
  done
  x=$tmp/x
  for p in "$tmp"/*.deb; do dpkg-deb -x "$p" "$x"; done
  cfg=$(find "$x" -name 'config*' -path "*$abi*" -type f | head -1)
  vmlinuz=$(find "$x" -name 'vmlinuz*' -type f | head -1)
  mods=$(find "$x" -type d -path "*/modules/$abi-amd64" | head -1)
  [ -n "$cfg" ] && [ -n "$vmlinuz" ] && [ -n "$mods" ] || { note "$abi: unexpected package layout"; return 1; }
  if ! grep -qx 'CONFIG_SCHED_CLASS_EXT=y' "$cfg"; then
    note "$abi ($suite) has no CONFIG_SCHED_CLASS_EXT; skipped"
    return 1
  fi
  grep -qx 'CONFIG_DEBUG_INFO_BTF=y' "$cfg" || { note "$abi has no BTF; skipped"; return 1; }
  k=$tmp/kernel
  mkdir -p "$k/modules"
  cp "$vmlinuz" "$k/vmlinuz"
  cp "$cfg" "$k/config"
  # 9p shares the host's root with the guest; load order = dependencies first.
  local order=() seen=" "
  add_mod() {
    local name=$1 f deps d
    case $seen in *" $name "*) return 0 ;; esac
    seen="$seen$name "
    grep -q "/$name.ko" "$mods/modules.builtin" 2>/dev/null && return 0
    f=$(find "$mods/kernel" -name "$name.ko*" | head -1)
    [ -n "$f" ] || { note "$abi: module $name not found"; return 1; }
    deps=$(modinfo -F depends "$f" | tr ',' ' ')
    for d in $deps; do add_mod "$d" || return 1; done
    case $f in
    *.xz) xz -dc "$f" >"$k/modules/$name.ko" ;;
    *.zst) zstd -qdc "$f" >"$k/modules/$name.ko" ;;
    *) cp "$f" "$k/modules/$name.ko" ;;
    esac
    order+=("$name")
  }
  add_mod 9pnet_virtio || return 1
  add_mod 9p || return 1
  printf '%s\n' "${order[@]}" >"$k/modules/order"
  # vmlinuz is a bzImage around a zstd-compressed ELF; its .BTF gives vmlinux.h.
  local off
  off=$(grep -abo $'\x28\xb5\x2f\xfd' "$k/vmlinuz" | head -1 | cut -d: -f1)
  [ -n "$off" ] || { note "$abi: no zstd payload in vmlinuz"; return 1; }
  tail -c +$((off + 1)) "$k/vmlinuz" | zstd -qdc >"$tmp/vmlinux" 2>/dev/null || true
  llvm-objcopy-19 --dump-section .BTF="$k/vmlinux.btf" "$tmp/vmlinux" /dev/null 2>/dev/null ||
    { note "$abi: could not extract BTF"; return 1; }
  bpftool btf dump file "$k/vmlinux.btf" format c >"$k/vmlinux.h" ||
    { note "$abi: bpftool could not dump BTF"; return 1; }
  grep -q 'struct sched_ext_ops {' "$k/vmlinux.h" || { note "$abi: BTF lacks sched_ext_ops"; return 1; }
}

if [ "$want_kernels" = 1 ]; then
  [ -w "$(dirname "$BATON_CACHE")" ] || [ -w "$BATON_CACHE" ] || as_root "write $BATON_CACHE"
  mkdir -p "$BATON_CACHE/kernels"
  got=""
  for s in $KERNEL_SUITES; do
    if abi=$(fetch_kernel "$s"); then got="$got $abi"; fi
  done
  if [ -z "$got" ]; then
    cached=$(cached_kernels | head -1)
    [ -n "$cached" ] || die "no sched_ext kernel could be fetched from: $KERNEL_SUITES (is Debian's archive reachable?)"
    note "could not refresh kernels; using cached $cached"
  fi
  newest=$(cached_kernels | head -1)
  ln -sfn "$newest" "$BATON_CACHE/kernels/default"
fi

note "ready: clang-19, libbpf $libbpf_ver, qemu $qemu_ver, prometheus $("$BATON_CACHE/prometheus/usr/bin/promtool" --version | sed -n "1s/.*version \\([^ ]*\\).*/\\1/p"), JDK $jdk$([ "$want_kernels" = 1 ] && echo ", kernels:$(cached_kernels | tr '\n' ' ')")"
