#!/usr/bin/env bash
# Installs Baton from a built checkout (make build): a jlink runtime image with the agent in
# /opt/baton, the default config in /etc/baton (kept if present), the systemd unit. Run as root;
# then `systemctl daemon-reload && systemctl enable --now baton`.
#
# Usage: deploy/install.sh [--destdir DIR]   (DIR: stage everything under DIR, e.g. for packaging)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/tools/lib.sh"

destdir=""
while [ $# -gt 0 ]; do
  case $1 in
  --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
  *) die "unknown option $1 (usage: deploy/install.sh [--destdir DIR])" ;;
  esac
done

jar=$root/agent/target/baton-agent.jar
[ -f "$jar" ] || die "$jar is missing: build first (make build)"
jdk=$(find_jdk) || die "no JDK >= 25 (with jlink) found: set JAVA_HOME"
ldconfig -p 2>/dev/null | grep -q 'libbpf.so.1 ' || note "warning: libbpf.so.1 is not installed here; Baton needs libbpf1 >= 1.4 at run time"

prefix=$destdir/opt/baton
umask 022
rm -rf "$prefix"
mkdir -p "$prefix/bin" "$prefix/lib"
cp "$jar" "$root"/agent/target/lib/*.jar "$root/deploy/jvm.args" "$prefix/lib/"

# The smallest runtime the agent's jars need, as jdeps reads them, plus what is reached only
# reflectively: jdk.unsupported (Netty), jdk.management (Micrometer's process metrics).
modules=$("$jdk/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps \
  --class-path "$prefix/lib/*" "$prefix/lib/baton-agent.jar")
"$jdk/bin/jlink" --add-modules "$modules,jdk.unsupported,jdk.management" --strip-debug --no-man-pages \
  --no-header-files --compress=zip-6 --output "$prefix/runtime"

cat >"$prefix/bin/baton" <<'LAUNCHER'
#!/bin/sh
# Baton's launcher: the bundled runtime, the agent's jars, its JVM options (lib/jvm.args; an
# upgrade replaces them). BATON_JAVA_OPTS adds to or overrides them, e.g. a larger -Xmx for a
# larger max_tasks: `systemctl edit baton`, then Environment=BATON_JAVA_OPTS=-Xmx2g.
# lib/baton.aot, made by the installer, holds the agent's classes loaded and linked (the JVM's
# AOT cache): used only while no jar is newer, since the JVM would not notice a replaced one.
# Options that do not fit it (a heap past 32 GB) make the JVM skip it, quietly (-Xlog:aot=off).
here=$(dirname "$(readlink -f "$0")")/..
cache=""
[ -f "$here/lib/baton.aot" ] && [ -z "$(find "$here/lib" -name '*.jar' -newer "$here/lib/baton.aot")" ] &&
  cache=-XX:AOTCache=$here/lib/baton.aot
exec "$here/runtime/bin/java" @"$here/lib/jvm.args" ${cache:+"$cache" -Xlog:aot=off} ${BATON_JAVA_OPTS:-} -cp "$here/lib/*" \
  dev.baton.agent.Main "$@"
LAUNCHER
chmod 755 "$prefix/bin/baton"
# The AOT cache, trained by the installed runtime on the installed jars (it is specific to both):
# the agent starts faster after every restart. Nothing of this host is changed by the training.
make_aot_cache "$prefix/runtime/bin/java" "$prefix/lib/jvm.args" "$prefix/lib/*" "$prefix/lib/baton.aot"
cp "$root/README.md" "$prefix/README.md"

mkdir -p "$destdir/etc/baton" "$destdir/etc/systemd/system"
chmod 755 "$destdir/etc/baton"
if [ ! -e "$destdir/etc/baton/baton.yaml" ]; then
  install -m 644 "$root/deploy/baton.yaml" "$destdir/etc/baton/baton.yaml"
fi
install -m 644 "$root/deploy/baton.service" "$destdir/etc/systemd/system/baton.service"
note "installed in ${destdir:-/}: /opt/baton (runtime $(cat "$prefix/runtime/release" | sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p'), modules $modules), /etc/baton/baton.yaml, /etc/systemd/system/baton.service"
