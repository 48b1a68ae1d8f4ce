# Shared by ./spanwire, scripts/build.sh, scripts/test.sh and the Dockerfile's build stage.
# Source it; it defines functions only.

# Packages the build needs (clang compiles the kernel programs against libbpf's headers; llvm-strip
# takes the debug info the kernel and libbpf do not read out of them).
SPANWIRE_BUILD_PACKAGES="clang llvm libbpf-dev libbpf1"
# Packages the agent needs at run time.
# The agent's JVM: a heap that starts at 16 MiB and stops at 24 with a young generation of 10
# (eden 6, two survivor spaces of 2), and the serial collector, keep its RSS small and leave the
# cores to the traced programs (a parallel collector's threads would compete with them). The
# serial collector grows its old generation to the maximum before it collects it, so that is what
# a busy agent keeps resident (a 64 MiB maximum measured 146-164 MiB of RSS in bench/soak.sh; a
# 32 MiB one, old generation 22, 104.1-104.5 per minute once it was full and a peak of 108.0 in
# 10 minutes of the soak; this 24, old generation 14, 95.6-98.7 from the second minute, peak 102.3,
# a full collection every 3 minutes taking 42-80 ms, agent CPU under bench/pair.sh -x B/A 0.978). The
# survivor spaces hold the exchanges in flight at a young collection (about 1.1 MiB under
# bench/load.sh -x); -Xmn8m's 0.8 MiB overflowed at every collection, the exchanges were promoted
# and the old generation filled: peak RSS under -x 119-129 MiB against 109-120 with these (same
# jar, alternating runs), the old generation 24 MiB against 6-7. The C heap is trimmed every 10 s
# and glibc keeps two malloc arenas: what the compilers' arenas and libbpf's loading freed goes
# back. A compilation stops at 6 MiB of compiler memory (MemLimit, JDK 22+; the method then runs
# as C1 compiled it): the largest C2 compiles of the pipeline took 10-23 MiB each, beside a C1
# compile in the other thread, and that was the peak. The ring buffer reader's loop is compiled
# without the record handler inlined (dontinline), which keeps it under the limit: inlined, the
# handler brought the pipeline into the loop's compilation, which then stopped at the limit and
# left the capture loop to C1. Peak RSS under bench/load.sh -x 99.9-101.5 MiB against
# 104.4-105.6 at 8 MiB and 111-113 without a limit, capture only 86.2 / 88.8 against 88.4 / 88.7
# (same jar, alternating runs), agent CPU within the runs' noise. The launcher, the image
# and the benchmarks use these; set SPANWIRE_JAVA_OPTS / MALLOC_ARENA_MAX to change (and
# MALLOC_MMAP_THRESHOLD_, below).
# Methods are compiled after four times the JIT's default invocation and loop counts
# (CompileThresholdScaling=4): the lukewarm paths of short-lived processes, TLS scans and the
# process registry stay interpreted, and less code, fewer compilations and their memory are
# kept: in 10 minutes of bench/soak.sh 92.9-93.4 MiB per minute from the fourth, peak 99.5, against
# 95.6-98.7 and 102.3 without it; bench/pair.sh -x after a minute's warm-up agent CPU B/A 0.993,
# peak 93.1 against 96.8 MiB (in the first 25 s the hot paths run longer in C1's profiling code:
# 1.063); an agent started into a running wrk load lost no events in 10 starts.
# The JVM's own warnings go to stderr (its default is stdout, which carries the agent's output).
: "${SPANWIRE_JAVA_OPTS:=-Xms16m -Xmx24m -Xmn10m -XX:SurvivorRatio=3 -XX:+UseSerialGC -XX:TrimNativeHeapInterval=10000 -XX:CompileCommand=quiet -XX:CompileCommand=MemLimit,*.*,6m -XX:CompileCommand=dontinline,dev.spanwire.bpf.RingBufferReader::handle -XX:CompileThresholdScaling=4 -Xlog:disable -Xlog:all=warning:stderr}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# libisal2 (ISA-L) and libdeflate0: span export's gzip, by the first there (ISA-L at a third of
# libdeflate's CPU, libdeflate at half of the JDK's zlib's, which is used where neither is).
SPANWIRE_RUNTIME_PACKAGES="libbpf1 libisal2 libdeflate0"
# Real peers the tests drive on 127.0.0.1, plus setpriv (util-linux), ip (iproute2) and openssl (a
# self-signed certificate for the OTLP-over-TLS test).
SPANWIRE_TEST_PACKAGES="nginx-light binutils curl wrk socat python3 nodejs nghttp2-client nghttp2-server iproute2 util-linux openssl"
# A newer clang than the build's, whose programs must pass the verifier too (the Docker image
# builds with Ubuntu's newer clang); installed where the distribution has it.
SPANWIRE_OPTIONAL_TEST_PACKAGES="clang-19"
# Minimum Java feature version: the FFM API is final since 22.
SPANWIRE_MIN_JDK=22

say() { printf 'spanwire: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Stops the agent the calling shell started as "$1" with SIGTERM and waits for it. An agent that
# ended any other way than by that signal (143) or cleanly (0), a crash above all (134 after the
# JVM's fatal error report), is an error: the harness says so with the tail of its log "$2"
# instead of reading on (a crash in bench/load.sh's untimed first run went unnoticed).
stop_agent_process() {
  local pid=$1 log=$2 rc=0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 143 ]; then
    tail -n 40 "$log" >&2
    die "the agent (pid $pid) exited with status $rc, not by the SIGTERM it was sent (143)"
  fi
}

# Writes "$1/nginx.conf" for the benchmark harnesses' nginx: one worker in the foreground, keeping
# its files under "$1" (its error log critical lines only: a body buffered to a temporary file is a
# warning per upload), with the server block's directives "$2" (listen, root, locations).
bench_nginx_conf() {
  local work=$1 server=$2
  cat >"$work/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1;
error_log $work/error.log crit; pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy; fastcgi_temp_path $work/fcgi;
  uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  server { $server }
}
CONF
}

# The BPF programs of the agent whose pid is "$1", from its program fds' fdinfo: "id name run_cnt
# run_time_ns" lines (run times while kernel.bpf_stats_enabled is on; names from bpftool where it is
# installed, prog<ID> otherwise), for the harnesses' kernel cost.
bpf_programs() {
  local pid=$1 names=""
  command -v bpftool >/dev/null && names=$(bpftool prog show 2>/dev/null | awk -F'[: ]+' '/^[0-9]+:/ {
    for (i = 2; i < NF; i++) if ($i == "name") print $1, $(i + 1) }')
  # an fd the agent closed between the listing and the read is not a program's: its failed read
  # must not fail the loop (as the last iteration it failed the pipeline, and set -e ended the
  # harness without a word: one -k run in five, an empty log)
  for f in /proc/"$pid"/fdinfo/*; do
    awk '/^prog_id:/ {id = $2} /^run_cnt:/ {c = $2} /^run_time_ns:/ {t = $2} END {if (id != "" && c != "") print id, c, t}' "$f" 2>/dev/null || true
  done | sort -u | awk -v names="$names" 'BEGIN {n = split(names, l, "\n"); for (i = 1; i <= n; i++) {split(l[i], w, " "); name[w[1]] = w[2]}}
    {print $1, ($1 in name ? name[$1] : "prog" $1), $2, $3}'
}

# A free TCP port on 127.0.0.1, for the benchmark harnesses' servers.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits for the benchmarks' counting OTLP receiver, its log "$1", to listen: it answers requests of
# its own first (a few seconds: see CountingReceiver.warmUp). Dies with the log after 60 s.
await_receiver() {
  local log=$1
  for _ in $(seq 600); do grep -q listening "$log" && break; sleep 0.1; done
  grep -q listening "$log" || { cat "$log" >&2; die "the OTLP receiver did not start"; }
}

# Starts the counting OTLP receiver (bench/jmh's CountingReceiver; JDK "$1", repository "$2") on
# 127.0.0.1 port "$3", answering each request "$4" ms after it came, its log "$5", and sets
# receiver_pid. C1 only and the serial collector: it shares the measured cores with the agent, and
# its C2 compiler and G1's threads took 2-3 s of CPU in an -x --pid run (0.7 s in all so; 2.5 us a span).
start_counting_receiver() {
  local java_home=$1 root=$2 port=$3 rtt=$4 log=$5
  "$java_home/bin/java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms64m -Xmx256m \
    -cp "$root/bench/jmh/target/benchmarks.jar" dev.spanwire.bench.CountingReceiver "$port" "$rtt" \
    >"$log" 2>&1 &
  receiver_pid=$!
  await_receiver "$log"
}

# Installs the Debian/Ubuntu packages among "$@" that are not installed yet (as root, with
# apt-get); says exactly what is missing otherwise.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "missing packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})"
  fi
  say "installing ${missing[*]}"
  if [ -z "${SPANWIRE_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    export SPANWIRE_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

# Installs those of "$@" the distribution offers (as root); says which it has not.
ensure_available_packages() {
  local pkg available=()
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null || return 0
  for pkg in "$@"; do
    if apt-cache show "$pkg" >/dev/null 2>&1; then
      available+=("$pkg")
    else
      say "$pkg is not offered here; skipping it"
    fi
  done
  [ ${#available[@]} -eq 0 ] || ensure_packages "${available[@]}"
}

# The feature version of the JDK at $1 (a JAVA_HOME), or nothing: from its release file, else
# (no such file) from the JVM itself, which costs a start of it.
jdk_feature() {
  local version
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  if [ -n "$version" ]; then
    echo "$version"
    return 0
  fi
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

# The JVM's ahead-of-time cache for the agent (JDK 25+: JEP 483, 514, 515): the classes it loads
# and links at start, and their profiles, recorded by the first run of a jar on a JDK (written when
# that run exits) and mapped by the runs after it. Measured (README): start to "capturing" 1.7-1.8 s
# -> 1.3-1.4 s, peak RSS under wrk 102-110 -> 101 MiB. A cache that does not match (another jar, JDK or flags) is
# ignored by the JVM with a warning on stderr. Prints the JVM options for "$1" (JAVA_HOME) running
# "$2" (the jar) with the agent's arguments "${@:3}"; none for the subcommands that do not capture,
# with SPANWIRE_AOT=0, or where the cache directory (SPANWIRE_CACHE_DIR, by default
# $XDG_CACHE_HOME/spanwire or ~/.cache/spanwire) cannot be made.
aot_options() {
  local java_home=$1 jar=$2 feature dir key cache file pid
  shift 2
  [ "${SPANWIRE_AOT:-1}" != 0 ] || return 0
  feature=$(jdk_feature "$java_home")
  [ -n "$feature" ] && [ "$feature" -ge 25 ] || return 0
  case "${1:-}" in doctor | config | help | -h | --help | -V | --version) return 0 ;; esac
  dir=${SPANWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/spanwire}
  mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ] || return 0
  # the JVM checks the jar's path, size and time; its bytes tell a rebuild within the same second
  key=$({ echo "$jar"; stat -c '%s %Y' "$jar"; cksum <"$jar"; cat "$java_home/release"; echo "$SPANWIRE_JAVA_OPTS"; } \
    | cksum | cut -d' ' -f1)
  cache=$dir/spanwire-$key.aot
  # A run records into a file of its own (spanwire-KEY.PID.recording; the launcher execs, so PID
  # is the JVM's), never into the cache another run may be mapping. Once that JVM is gone, a
  # recording it finished (its .config, which the JVM removes when the cache is complete, gone)
  # becomes the cache by a rename; an unfinished one (a run killed while writing) is dropped.
  for file in "$dir"/spanwire-*.recording; do
    [ -e "$file" ] || continue
    pid=${file%.recording}
    pid=${pid##*.}
    kill -0 "$pid" 2>/dev/null && continue
    if [ "$file" != "${file#"$dir/spanwire-$key."}" ] && [ -s "$file" ] && [ ! -e "$file.config" ] && [ ! -s "$cache" ]; then
      mv -f "$file" "$cache"
    else
      rm -f "$file" "$file.config"
    fi
  done
  # caches of other jars, JDKs or flags go
  for file in "$dir"/spanwire-*.aot; do
    [ -e "$file" ] && [ "$file" != "$cache" ] && rm -f "$file"
  done
  # what the JVM says about the cache goes to stderr, its errors only (a skipped class is no news)
  echo "-XX:+DisplayVMOutputToStderr -Xlog:aot*=error:stderr"
  if [ -s "$cache" ]; then
    echo "-XX:AOTCache=$cache"
    # JDK 25 replays the recorded run's method profiles at start, which has the JIT compile at
    # once what that run compiled over its life: C1 and C2 took ~1.3 s of CPU before "capturing"
    # on 2 cores, beside the start itself (with the replay off, ~0.9-1.1 s; start 1.43 -> 1.22 s
    # median). The flag is JDK 25's (diagnostic, may go in a later release): only there.
    [ "$feature" != 25 ] || echo "-XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining"
  else
    echo "-XX:AOTCacheOutput=$dir/spanwire-$key.${SPANWIRE_JVM_PID:-$$}.recording"
    # and, as JDK 25's runs do not replay them, without the recorded profiles (1-2 MiB less of the
    # cache mapped in every run)
    [ "$feature" != 25 ] || echo "-XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining"
  fi
}

# Runs the agent in place of this shell as ./spanwire does: "$1" (JAVA_HOME), the jar "$2", the
# agent's arguments "${@:3}", with SPANWIRE_JAVA_OPTS and the ahead-of-time cache. The shell (or
# subshell) execs the JVM, so a recording of the cache is named by the JVM's pid.
exec_agent() {
  local java_home=$1 jar=$2
  # this shell's own pid, also in a subshell ("$$" is the parent's there): the JVM's once it execs
  local SPANWIRE_JVM_PID=$BASHPID
  shift 2
  local aot
  aot=$(aot_options "$java_home" "$jar" "$@")
  set -f # the options are split into words, never expanded as file names (MemLimit's *.*)
  # glibc's malloc serves blocks of 32,000 bytes and more from mmap, so they go back to the system
  # when freed: the JIT compilers' arena chunks (32 KiB, pooled for 5 s) otherwise stay in malloc's
  # arenas until the next trim, up to 10 s, and a burst of compilations stacked up there (the
  # JVM's only; what the benchmarks run beside it keeps glibc's default; set it to change).
  # Three-minute soaks taking turns: peak 98.1 / 97.6 MiB against 105.1 / 101.4, mean 92.1 /
  # 90.8 against 95.9 / 96.1; bench/pair.sh -r 4: agent CPU B/A 1.012 capture only, 0.993 -x.
  # shellcheck disable=SC2086 # SPANWIRE_JAVA_OPTS and the AOT options are lists of words
  MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-32000} exec "$java_home/bin/java" $SPANWIRE_JAVA_OPTS $aot \
    --enable-native-access=ALL-UNNAMED -jar "$jar" "$@"
}

# Whether the next run of the jar "$2" under the JDK "$1" records the ahead-of-time cache (none
# is there yet); it is written as that run exits.
aot_recording() {
  [[ $(aot_options "$1" "$2") == *AOTCacheOutput* ]]
}

# Prints a JAVA_HOME with a JDK >= SPANWIRE_MIN_JDK: $JAVA_HOME first, then the newest under
# /usr/lib/jvm. As root on Debian/Ubuntu without one, installs openjdk-25 (or the newest >= 22
# the distribution has).
find_jdk() {
  local home feature best="" best_feature=0
  if [ -n "${JAVA_HOME:-}" ]; then
    feature=$(jdk_feature "$JAVA_HOME")
    if [ -n "$feature" ] && [ "$feature" -ge "$SPANWIRE_MIN_JDK" ]; then
      echo "$JAVA_HOME"; return 0
    fi
    say "JAVA_HOME=$JAVA_HOME is not a JDK $SPANWIRE_MIN_JDK+ (found ${feature:-none}); looking in /usr/lib/jvm"
  fi
  for home in /usr/lib/jvm/*/; do
    home=${home%/}
    [ -L "$home" ] && continue
    feature=$(jdk_feature "$home")
    if [ -n "$feature" ] && [ "$feature" -ge "$SPANWIRE_MIN_JDK" ] && [ "$feature" -gt "$best_feature" ]; then
      best=$home best_feature=$feature
    fi
  done
  if [ -n "$best" ]; then echo "$best"; return 0; fi
  if [ "${1:-}" != "--no-install" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    local version
    [ -n "${SPANWIRE_APT_UPDATED:-}" ] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; export SPANWIRE_APT_UPDATED=1; }
    for version in 25 24 23 22; do
      if apt-cache show "openjdk-$version-jdk-headless" >/dev/null 2>&1; then
        say "installing openjdk-$version-jdk-headless"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "openjdk-$version-jdk-headless" >&2 \
          && { find_jdk --no-install; return $?; }
      fi
    done
  fi
  die "no JDK $SPANWIRE_MIN_JDK or newer: set JAVA_HOME to one, or install one under /usr/lib/jvm (e.g. Temurin 25 from adoptium.net)"
}

# Builds the agent jar with the Maven wrapper, without tests. The old jar is unlinked first: the
# shade plugin writes the jar in place, and an agent still running from it (a second ./spanwire
# after a git pull) reads its classes from that file; unlinked, the running JVM keeps the old one.
build_agent() {
  local root=$1 java_home=$2
  say "building (first run, or sources changed)"
  rm -f "$root/exporter/target/spanwire.jar"
  (cd "$root" && JAVA_HOME="$java_home" ./mvnw -B -q -DskipTests package >&2) || die "build failed"
}

# Whether the jar is missing or older than any source, pom or the BPF code.
agent_stale() {
  local root=$1 jar=$1/exporter/target/spanwire.jar
  [ -f "$jar" ] || return 0
  [ -n "$(find "$root/pom.xml" "$root/semconv" "$root/bpf" "$root/exporter" \
    -path '*/target' -prune -o -newer "$jar" -type f -print -quit)" ]
}
