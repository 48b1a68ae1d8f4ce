#!/usr/bin/env bash
# Paired comparison of two agents: both run at once on the same wrk load against one nginx, so
# the host's swings hit both alike. On the 2-core guests this project is measured on, the same
# fixed work took 0.26-0.54 s of CPU from one second to the next, and bench/load.sh's rounds (one
# agent, then the other) swung more than the changes they were to tell apart.
#
#   bench/pair.sh [-d SECONDS] [-r ROUNDS] [-w SECONDS] [-c CONNECTIONS] [-t THREADS] [-x] [--close] [-k]
#
# Side A runs AGENT_JAR_A (default: this build) with SPANWIRE_JAVA_OPTS_A (default: ./spanwire's
# JVM options), side B AGENT_JAR_B with SPANWIRE_JAVA_OPTS_B; AGENT_ARGS go to both. Each round
# starts both agents (A first in odd rounds, B first in even), loads them for -w SECONDS (default
# 10), then times a wrk run of -d SECONDS (default 20) and reads each agent's CPU and peak RSS
# (VmHWM). It prints every round (with the exchanges each agent reported, the events it lost and,
# with -x, the spans it exported and dropped: a side that did less reads cheaper), then each
# side's median CPU per 1,000 requests, the median of the rounds' B/A ratios and each side's
# highest peak.
#
# Both agents trace every process (their own excluded), so each BPF hook runs twice and nginx is
# slower than under one agent: the figures compare A with B, not with bench/load.sh's. Capture
# only by default (--otlp-endpoint none, --output none): both see the same syscalls. -x: both
# export to one counting receiver, and each also captures the other's export connection (its
# frames; large DATA is not copied), alike for both. Each side keeps its own ahead-of-time cache
# (recorded by an untimed first run, as bench/load.sh does; SPANWIRE_AOT=0: none). --close sends
# each request on a connection of its own (wrk with Connection: close), as bench/load.sh --close.
#
# -k (--kernel-cost) also reports what each side's BPF programs cost during the timed runs, from the
# kernel's BPF statistics (on for those runs only): ns per run of each program, both sides' programs
# running on the very same syscalls. The side attached first runs first and meets the cache misses
# (the caller's buffer, the socket, the task) that the other then finds warm, 80-200 ns a run on
# the 2-core guest: with -k the second side starts once the first is capturing, the rounds
# alternate which is first, and the summary gives, beside each side's median, B - A from within
# the rounds (what running first costs, and each round's own speed, cancel): take an even number
# of rounds. Where the throughput swings too much to tell two builds' programs apart by
# bench/load.sh -k, this tells them apart on the same calls. Programs are matched by the names bpftool gives (installed
# where the distribution offers it); without it only the rounds' lines are printed.
#
# An A/A run (nothing set) shows the harness's own spread: on such a guest a few percent a round.
# Bounded: every run lasts its seconds; everything talks to 127.0.0.1 only.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"

duration=20 rounds=3 warmup=10 connections=50 threads=1 export="" close=() kernel_cost=""
usage() { echo "usage: $0 [-d seconds] [-r rounds] [-w seconds] [-c connections] [-t threads] [-x] [--close] [-k]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    -d) duration=$2; shift ;; -r) rounds=$2; shift ;; -w) warmup=$2; shift ;;
    -c) connections=$2; shift ;; -t) threads=$2; shift ;; -x) export=1 ;; --close) close=(-H "Connection: close") ;;
    -k|--kernel-cost) kernel_cost=1 ;;
    *) usage ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || die "the harness loads BPF programs: run it as root"
ensure_packages $SPANWIRE_BUILD_PACKAGES $SPANWIRE_RUNTIME_PACKAGES nginx-light wrk curl
# bpftool names the BPF programs in -k's lines (prog<ID> without it)
[ -z "$kernel_cost" ] || ensure_available_packages bpftool
java_home=$(find_jdk)
[ -n "${AGENT_JAR_A:-}" ] && [ -n "${AGENT_JAR_B:-}" ] || ! agent_stale "$root" || build_agent "$root" "$java_home"
jar_a=${AGENT_JAR_A:-$root/exporter/target/spanwire.jar}
jar_b=${AGENT_JAR_B:-$root/exporter/target/spanwire.jar}
# lib.sh has set SPANWIRE_JAVA_OPTS to ./spanwire's default unless the caller did
opts_a=${SPANWIRE_JAVA_OPTS_A:-$SPANWIRE_JAVA_OPTS}
opts_b=${SPANWIRE_JAVA_OPTS_B:-$SPANWIRE_JAVA_OPTS}

work=$(mktemp -d /tmp/spanwire-pair.XXXXXX)
pid_a="" pid_b="" nginx_pid="" receiver_pid="" stats_were=""
restore_bpf_stats() { [ -z "$stats_were" ] || sysctl -qw kernel.bpf_stats_enabled="$stats_were" || true; }
cleanup() {
  restore_bpf_stats
  for p in $pid_a $pid_b $receiver_pid $nginx_pid; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
mkdir -p "$work/www" "$work/cache.A" "$work/cache.B"
printf 'hello from nginx\n' >"$work/www/index.html"
bench_nginx_conf "$work" "listen 127.0.0.1:$port; root $work/www;"
/usr/sbin/nginx -p "$work" -c "$work/nginx.conf" & nginx_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
url="http://127.0.0.1:$port/index.html"

otlp=(--otlp-endpoint none)
if [ -n "$export" ]; then
  (cd "$root" && JAVA_HOME="$java_home" ./mvnw -B -q -Pbench -DskipTests install >&2)
  receiver_port=$(free_port)
  otlp=(--otlp-endpoint "http://127.0.0.1:$receiver_port")
  start_counting_receiver "$java_home" "$root" "$receiver_port" 0 "$work/receiver.log"
fi

# side jar opts: starts that side's agent as ./spanwire runs it, its cache its own
start_side() {
  local side=$1 jar=$2 opts=$3
  rm -f "$work/$side.log"
  SPANWIRE_JAVA_OPTS=$opts SPANWIRE_CACHE_DIR=$work/cache.$side \
    bash -c '. "$1"; shift; exec_agent "$@"' spanwire "$root/scripts/lib.sh" "$java_home" "$jar" \
    --output none "${otlp[@]}" ${AGENT_ARGS:-} 2>"$work/$side.log" >/dev/null &
  if [ "$side" = A ]; then pid_a=$!; else pid_b=$!; fi
}
await_capturing() {
  for _ in $(seq 600); do grep -q capturing "$work/$1.log" 2>/dev/null && return 0; sleep 0.1; done
  cat "$work/$1.log" >&2
  die "agent $1 did not start"
}
# the side started first attaches its programs first (with -k it is capturing before the other
# starts, so its programs run first on every call; without, the two starts overlap)
start_both() { # the side to start first
  if [ "$1" = A ]; then start_side A "$jar_a" "$opts_a"; [ -z "$kernel_cost" ] || await_capturing A; start_side B "$jar_b" "$opts_b"
  else start_side B "$jar_b" "$opts_b"; [ -z "$kernel_cost" ] || await_capturing B; start_side A "$jar_a" "$opts_a"; fi
  for _ in $(seq 600); do
    grep -q capturing "$work/A.log" 2>/dev/null && grep -q capturing "$work/B.log" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$work/A.log" "$work/B.log" >&2
  die "the agents did not start"
}
stop_both() {
  local a=$pid_a b=$pid_b
  pid_a="" pid_b=""
  stop_agent_process "$a" "$work/A.log"
  stop_agent_process "$b" "$work/B.log"
}
load() { wrk -t"$threads" -c"$connections" -d"$1s" "${close[@]}" "$url" >"$work/wrk.out"; }
recording() {
  SPANWIRE_JAVA_OPTS=$opts_a SPANWIRE_CACHE_DIR=$work/cache.A aot_recording "$java_home" "$jar_a" ||
    SPANWIRE_JAVA_OPTS=$opts_b SPANWIRE_CACHE_DIR=$work/cache.B aot_recording "$java_home" "$jar_b"
}
if recording; then
  start_both A; load 2; stop_both
  # each JVM assembles its cache in a child process as it exits
  for _ in $(seq 600); do recording || break; sleep 0.1; done
fi

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
: >"$work/rounds"
for round in $(seq "$rounds"); do
  first=A; [ $((round % 2)) = 1 ] || first=B
  start_both "$first"
  load "$warmup"
  if [ -n "$kernel_cost" ]; then
    [ -n "$stats_were" ] || stats_were=$(sysctl -n kernel.bpf_stats_enabled)
    sysctl -qw kernel.bpf_stats_enabled=1
    bpf_programs "$pid_a" >"$work/bpf.A.before"
    bpf_programs "$pid_b" >"$work/bpf.B.before"
  fi
  a0=$(cpu "$pid_a") b0=$(cpu "$pid_b")
  load "$duration"
  a1=$(cpu "$pid_a") b1=$(cpu "$pid_b")
  if [ -n "$kernel_cost" ]; then
    bpf_programs "$pid_a" >"$work/bpf.A.after"
    bpf_programs "$pid_b" >"$work/bpf.B.after"
    restore_bpf_stats
    # each side's programs this round: "side name runs ns-per-run", most run first
    for side in A B; do
      awk -v side="$side" 'NR == FNR {cnt[$1] = $3; ns[$1] = $4; next}
        ($1 in cnt) && $3 > cnt[$1] {c = $3 - cnt[$1]; printf "%s %s %d %.1f\n", side, $2, c, ($4 - ns[$1]) / c}' \
        "$work/bpf.$side.before" "$work/bpf.$side.after" | sort -k3,3nr >"$work/bpf.$side.round"
    done
  fi
  requests=$(awk '/ requests in / {print $1}' "$work/wrk.out")
  ha=$(hwm "$pid_a") hb=$(hwm "$pid_b")
  stop_both
  echo "$round $first $requests $((a1 - a0)) $((b1 - b0)) $ha $hb" >>"$work/rounds"
  awk -v hz="$ticks" '{printf "round %d (%s first): %d requests; A %.2f s CPU, %.2f ms per 1,000, peak %.1f MiB; B %.2f s, %.2f ms per 1,000, peak %.1f MiB; B/A %.3f\n",
    $1, $2, $3, $4 / hz, 1e6 * $4 / hz / $3, $6 / 1024, $5 / hz, 1e6 * $5 / hz / $3, $7 / 1024, $5 / $4}' <<<"$(tail -n1 "$work/rounds")"
  # the work each side did (its last line's counts, over its whole life): a side that lost events
  # or dropped spans did less, and reads cheaper for it
  for side in A B; do
    line=$(grep -o 'stopped: .*' "$work/$side.log" || echo "stopped: (no summary)")
    printf '  %s: %s exchanges, %s events lost in the kernel%s\n' "$side" \
      "$(grep -o ', exchanges [0-9]*' <<<"$line" | awk '{print $3}')" \
      "$(grep -o 'records [0-9]*, lost in kernel [0-9]*' <<<"$line" | awk '{print $6}')" \
      "$([ -z "$export" ] || grep -o ', spans exported [0-9]*, spans dropped [0-9]*' <<<"$line")"
    if [ -n "$kernel_cost" ]; then
      printf '  %s kernel:%s\n' "$side" "$(awk '{printf " %s %d runs, %.0f ns each;", $2, $3, $4}' "$work/bpf.$side.round")"
      sed "s/^/$round $first /" "$work/bpf.$side.round" >>"$work/bpf.all"
    fi
  done
done
a=$(awk -v hz="$ticks" '{print 1e6 * $4 / hz / $3}' "$work/rounds" | median)
b=$(awk -v hz="$ticks" '{print 1e6 * $5 / hz / $3}' "$work/rounds" | median)
ratio=$(awk '{print $5 / $4}' "$work/rounds" | median)
peak_a=$(awk '{print $6}' "$work/rounds" | sort -n | tail -n1)
peak_b=$(awk '{print $7}' "$work/rounds" | sort -n | tail -n1)
mode="capture only"
[ -z "$export" ] || mode="both exporting to one receiver"
[ ${#close[@]} = 0 ] || mode="$mode, one request per connection"
printf 'wrk -t%d -c%d -d%ds against nginx on 127.0.0.1, two agents at once (%s), %d rounds\n' \
  "$threads" "$connections" "$duration" "$mode" "$rounds"
printf '  A %s %s\n  B %s %s\n' "$jar_a" "$opts_a" "$jar_b" "$opts_b"
awk -v a="$a" -v b="$b" -v r="$ratio" -v pa="$peak_a" -v pb="$peak_b" 'BEGIN {
  printf "  agent CPU/1000  A %.2f, B %.2f ms per 1,000 requests (medians); B/A %.3f (median of the rounds'"'"' ratios)\n", a, b, r
  printf "  peak RSS        A %.1f, B %.1f MiB\n", pa / 1024, pb / 1024 }'
if [ -n "$kernel_cost" ]; then
  # per program run in every round by both sides ("round first side name runs ns" lines): the
  # median of the rounds' ns per run, and B - A from within the rounds: a round's first side less
  # its second is (first - second) + the cost of running first, so half of what that difference
  # averages with B first less with A first is B - A, the cost of running first and the round's
  # own speed cancelled (needs rounds of both orders: -r 2 or more)
  printf '  kernel ns/run  %s\n' "$(
    for name in $(awk '{print $4}' "$work/bpf.all" | sort | uniq -c | awk -v n="$rounds" '$1 == 2 * n {print $2}'); do
      na=$(awk -v p="$name" '$3 == "A" && $4 == p {print $6}' "$work/bpf.all" | median)
      nb=$(awk -v p="$name" '$3 == "B" && $4 == p {print $6}' "$work/bpf.all" | median)
      within=$(awk -v p="$name" '$4 == p {ns[$1, $3] = $6; first[$1] = $2}
        END {for (r in first) {o = first[r] == "A" ? "B" : "A"; d = ns[r, first[r]] - ns[r, o]
          if (first[r] == "A") {sa += d; na++} else {sb += d; nb++}}
          if (na && nb) printf "%+.0f", (sb / nb - sa / na) / 2; else printf "?"}' "$work/bpf.all")
      awk -v p="$name" -v a="$na" -v b="$nb" -v w="$within" 'BEGIN {printf "%s A %.0f, B %.0f (B/A %.3f; B - A within the rounds %s ns); ", p, a, b, b / a, w}'
    done)"
fi
