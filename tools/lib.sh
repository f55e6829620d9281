# Shared by Baton's shell tools (setup, VM harness, launcher): where things live and how to
# find them. Sourced, never run.

# Everything downloaded or derived from outside the tree (kernels, apt lists) lives here, so a
# clean checkout stays clean and a second checkout reuses the downloads.
BATON_CACHE=${BATON_CACHE:-/var/cache/baton}

die() {
  printf 'baton: %s\n' "$*" >&2
  exit 1
}

note() {
  printf 'baton: %s\n' "$*" >&2
}

# Makes the JVM's AOT cache OUT: JAVA (a JDK 25+ launcher) runs dev.baton.agent.AotTraining
# with the agent's JVM_ARGS file and CLASSPATH, which the cache then fits, and nothing else. The
# training's own output is shown only if it fails.
make_aot_cache() { # JAVA JVM_ARGS CLASSPATH OUT
  local log
  rm -f "$4"
  log=$(mktemp)
  if "$1" @"$2" -XX:AOTCacheOutput="$4" -cp "$3" dev.baton.agent.AotTraining >"$log" 2>&1 && [ -f "$4" ]; then
    rm -f "$log"
  else
    cat "$log" >&2
    rm -f "$log" "$4"
    die "the AOT cache's training run failed"
  fi
}

# The feature release of a JDK, from its release file (starting a JVM per candidate is slow in
# an emulated guest).
jdk_release() {
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null
}

# Prints the home of a JDK >= 25: $JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
find_jdk() {
  local home rel best="" best_rel=0
  for home in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/*; do
    [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || continue
    rel=$(jdk_release "$home")
    [ -n "$rel" ] || continue
    if [ "$home" = "${JAVA_HOME:-}" ] && [ "$rel" -ge 25 ]; then
      echo "$home"
      return 0
    fi
    if [ "$rel" -gt "$best_rel" ]; then best=$home best_rel=$rel; fi
  done
  [ "$best_rel" -ge 25 ] || return 1
  echo "$best"
}

# Cached sched_ext kernels, newest first, one version per line.
cached_kernels() {
  local d
  [ -d "$BATON_CACHE/kernels" ] || return 0
  for d in "$BATON_CACHE"/kernels/*/; do
    d=${d%/}
    [ -L "$d" ] || [ ! -f "$d/ready" ] || basename "$d"
  done | sort -V -r
}
