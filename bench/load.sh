#!/usr/bin/env bash
# End-to-end load harness: wrk against a local nginx, first without the agent, then with the
# agent capturing (`--output none` unless --output says otherwise, plus whatever AGENT_ARGS says). Prints requests/s of both runs,
# their ratio, the agent's CPU seconds and peak RSS during the loaded run, the events it lost, and
# the exchanges it reported against the requests wrk completed while it ran, and the share of the
# cores' time nothing ran in either run: wrk and nginx wait on each other, so what the agent adds to
# that waiting costs requests beside its own CPU.
#
#   bench/load.sh [-d SECONDS] [-c CONNECTIONS] [-t THREADS] [-r ROUNDS] [-w SECONDS] [-x [--otlp-rtt MS]]
#                 [--pid] [--download BYTES] [--upload BYTES] [--close] [--tls] [--h2 [-m STREAMS]] [-k]
#                 [--output FORMAT]
#
# --output table measures ./spanwire's default, the live table (written to a file here, as a
# terminal that keeps up would take it); json, AppScope's events. The default, none, measures
# capture (and export with -x) alone.
# --download N serves a file of N bytes instead of the 17-byte page; --upload N POSTs N bytes per
# request (nginx reads and drops them). --close sends each request on a connection of its own
# (wrk with Connection: close: a connect, an accept and a close per request, as HTTP/1.0 clients,
# health checks and proxies without keep-alive make them). --tls puts nginx behind TLS (a
# certificate openssl makes) and reports the agent's TLS library calls (uprobe hits) per second.
# --h2 speaks HTTP/2 without TLS (nginx's h2c) and drives it with h2load instead of wrk, STREAMS
# (default 10) concurrent streams per connection; with --tls, HTTP/2 over TLS by ALPN. AGENT_JAR
# runs another build.
#
# --pid traces nginx's process only (the agent's --pid), so the cost of tracing one service is
# measured; wrk's side is then not traced. The capture backend and other agent flags come from
# AGENT_ARGS, e.g. AGENT_ARGS="--capture-backend syscall"; the JVM's from SPANWIRE_JAVA_OPTS (the
# same default as ./spanwire), and the agent maps ./spanwire's ahead-of-time cache as users' runs
# do (an untimed first run records it; SPANWIRE_AOT=0 measures without one).
#
# -k (--kernel-cost) also reports what the agent's BPF programs cost: their run time per 1,000
# requests and per call, from the kernel's BPF statistics (kernel.bpf_stats_enabled, on for the
# timed runs only). That CPU is spent in the traced processes' own syscalls, so the agent's CPU
# above leaves it out. The statistics read the clock twice per program run, which the figures and
# the ratio then include (tens of nanoseconds per call).
#
# -x exports spans and metrics over OTLP/gRPC (the defaults: gzip, batches of 512) to a counting
# receiver in its own process and reports the spans it received; without it export is off. The
# receiver is a JVM (C1 only, serial collector: see below), warmed before the runs (it answers
# 500 requests of 512 spans of its own): cold, it took ~0.85 s over the agent's first request,
# whose spans then dropped at the full queue meanwhile, the receiver's start counted against the
# agent. Its own CPU in the timed runs is printed per 1,000 requests: it shares the measured cores
# with wrk, nginx and the agent, and so takes from the ratio what a collector elsewhere would not.
# --otlp-rtt MS makes that receiver answer each request MS after it came, as an endpoint a round
# trip away (SPANWIRE_OTLP_CONCURRENT_EXPORTS sets the agent's requests in flight).
#
# Rounds alternate (without, with, without, with, ...; default 3 each) and the medians are
# compared, since single runs on a 2-core machine vary by several percent. Each round starts a
# new agent and loads it for -w SECONDS (default 2) before the timed run: the JIT's C2 compiler
# is still at work for 10-20 s of load, a third of the agent's CPU in a short timed run, which a
# long-running agent has behind it; -w 20 measures that warm agent.
# Bounded: each wrk run lasts SECONDS (default 10); everything talks to 127.0.0.1 only.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"

duration=10 connections=16 threads=2 rounds=3 warmup=2 export="" one_pid="" download="" upload="" close="" tls="" h2="" streams=10
otlp_rtt=0
kernel_cost="" output=none
usage() { echo "usage: $0 [-d seconds] [-c connections] [-t threads] [-r rounds] [-w seconds] [-x [--otlp-rtt ms]] [--pid] [--download bytes] [--upload bytes] [--close] [--tls] [--h2 [-m streams]] [-k] [--output format]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    -d) duration=$2; shift ;; -c) connections=$2; shift ;; -t) threads=$2; shift ;; -r) rounds=$2; shift ;;
    -w) warmup=$2; shift ;;
    -x) export=1 ;; --otlp-rtt) otlp_rtt=$2; shift ;; --pid|-p) one_pid=1 ;;
    --download) download=$2; shift ;; --upload) upload=$2; shift ;; --close) close=1 ;; --tls) tls=1 ;;
    --h2) h2=1 ;; -m) streams=$2; shift ;; -k|--kernel-cost) kernel_cost=1 ;; --output) output=$2; shift ;;
    *) usage ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || die "the harness loads BPF programs: run it as root"
[[ $otlp_rtt =~ ^[0-9]+$ ]] || die "--otlp-rtt takes whole milliseconds, got $otlp_rtt"
[ "$otlp_rtt" -eq 0 ] || [ -n "$export" ] || die "--otlp-rtt needs -x"
ensure_packages $SPANWIRE_BUILD_PACKAGES $SPANWIRE_RUNTIME_PACKAGES nginx-light wrk nghttp2-client
# bpftool names the BPF programs in -k's kernel cost line (prog<ID> without it)
[ -z "$kernel_cost" ] || ensure_available_packages bpftool
java_home=$(find_jdk)
[ -n "${AGENT_JAR:-}" ] || ! agent_stale "$root" || build_agent "$root" "$java_home"

work=$(mktemp -d /tmp/spanwire-bench.XXXXXX)
agent_pid="" nginx_pid="" receiver_pid=""
cleanup() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
stats_were=""
restore_bpf_stats() { [ -z "$stats_were" ] || sysctl -qw kernel.bpf_stats_enabled="$stats_were" || true; }
trap 'restore_bpf_stats; cleanup' EXIT

port=$(free_port)
mkdir -p "$work/www"
listen="127.0.0.1:$port" scheme=http
if [ -n "$tls" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 \
    -subj /CN=localhost 2>/dev/null
  listen="127.0.0.1:$port ssl${h2:+ http2}; ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem" scheme=https
elif [ -n "$h2" ]; then
  listen="127.0.0.1:$port http2"
fi
printf 'hello from nginx\n' > "$work/www/index.html"
bench_nginx_conf "$work" "listen $listen; root $work/www; client_max_body_size 64m;
  location = /upload { client_body_buffer_size 1m; return 200 \"ok\\n\"; }"
/usr/sbin/nginx -p "$work" -c "$work/nginx.conf" & nginx_pid=$!
curl_h2=()
[ -n "$h2" ] && [ -z "$tls" ] && curl_h2=(--http2-prior-knowledge)
for _ in $(seq 100); do curl -sk "${curl_h2[@]}" -o /dev/null "$scheme://127.0.0.1:$port/" && break; sleep 0.05; done

url="$scheme://127.0.0.1:$port/index.html"
wrk_script=()
if [ -n "$download" ]; then
  head -c "$download" /dev/urandom >"$work/www/download.bin"
  url="$scheme://127.0.0.1:$port/download.bin"
elif [ -n "$upload" ]; then
  url="$scheme://127.0.0.1:$port/upload"
  cat >"$work/upload.lua" <<LUA
wrk.method = "POST"
wrk.body = string.rep("u", $upload)
wrk.headers["Content-Type"] = "application/octet-stream"
LUA
  wrk_script=(-s "$work/upload.lua")
fi
jar=${AGENT_JAR:-$root/exporter/target/spanwire.jar}
otlp=(--otlp-endpoint none)
if [ -n "$export" ]; then
  (cd "$root" && JAVA_HOME="$java_home" ./mvnw -B -q -Pbench -DskipTests install >&2)
  receiver_port=$(free_port)
  otlp=(--otlp-endpoint "http://127.0.0.1:$receiver_port")
fi
start_receiver() {
  [ -z "$export" ] || start_counting_receiver "$java_home" "$root" "$receiver_port" "$otlp_rtt" "$work/receiver.log"
}
stop_receiver() {
  [ -n "$receiver_pid" ] || return 0
  kill -TERM "$receiver_pid"; wait "$receiver_pid" 2>/dev/null || true; receiver_pid=""
}
start_receiver
[ -n "$h2" ] && { [ -z "$download$upload$close" ] || die "--h2 serves the page only, on kept connections"; }
[ -z "$close" ] || wrk_script+=(-H "Connection: close")
# one load run of $1 seconds into $work/wrk.out: wrk, or h2load for HTTP/2
load() {
  if [ -n "$h2" ]; then
    h2load -D "$1" -c "$connections" -t "$threads" -m "$streams" "$url" >"$work/wrk.out"
  else
    wrk -t"$threads" -c"$connections" -d"$1s" "${wrk_script[@]}" "$url" >"$work/wrk.out"
  fi
}
# the last run's completed requests, and its requests/s
completed() {
  if [ -n "$h2" ]; then
    awk '/^requests:/ {for (i = 1; i <= NF; i++) if ($i ~ /^succeeded/) print $(i - 1)}' "$work/wrk.out"
  else
    awk '/ requests in / {print $1}' "$work/wrk.out"
  fi
}
rate() {
  if [ -n "$h2" ]; then awk '/^finished in/ {print $4}' "$work/wrk.out"; else awk '/Requests\/sec/ {print $2}' "$work/wrk.out"; fi
}
# the host's CPU time so far, all cores, in ticks: "idle total" (idle and iowait count as idle)
host_ticks() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t}' /proc/stat; }
# requests/s on stdout; the completed request count appended to $work/completed, the share of the
# cores' time that nothing ran during the run (percent) to file $1
rps() {
  local before after
  before=$(host_ticks)
  load "$duration"
  after=$(host_ticks)
  echo "$before $after" | awk '{print 100 * ($3 - $1) / ($4 - $2)}' >>"$1"
  completed >>"$work/completed"
  rate
}

load 2   # warm nginx up

only=()
[ -n "$one_pid" ] && only=(--pid "$nginx_pid")
start_agent() {
  local launched
  launched=$(date +%s%N)
  rm -f "$work/agent.log" # a new file: nothing an earlier JVM (or its cache-writing child) wrote is read as this one's
  # as ./spanwire runs it: its JVM options and ahead-of-time cache (SPANWIRE_AOT=0: without one),
  # from a shell that execs the JVM, so the cache's recording is named by the JVM's pid
  # shellcheck disable=SC2016 # expanded by that shell
  SPANWIRE_JAVA_OPTS=$SPANWIRE_JAVA_OPTS bash -c '. "$1"; shift; exec_agent "$@"' spanwire "$root/scripts/lib.sh" "$java_home" "$jar" \
    --output "$output" "${otlp[@]}" "${only[@]}" ${AGENT_ARGS:-} 2>"$work/agent.log" >"$work/agent.out" & agent_pid=$!
  # waited for with shell builtins only: a grep and a sleep every 10 ms were ~200 processes a
  # second competing with the start they timed (80 ms more to "capturing" on 2 cores); the wait
  # is a read with a timeout on a FIFO nobody writes
  local log="" _
  [ -p "$work/never" ] || mkfifo "$work/never"
  exec 9<>"$work/never"
  for _ in $(seq 1000); do
    [ ! -e "$work/agent.log" ] || read -r -d '' log <"$work/agent.log" || true
    [[ $log == *capturing* ]] && break
    read -r -t 0.01 -u 9 _ || true
  done
  exec 9>&-
  grep -q capturing "$work/agent.log" || { cat "$work/agent.log" >&2; die "agent did not start"; }
  echo $(( ($(date +%s%N) - launched) / 1000000 )) >>"$work/startup"
  grep -o 'backend [a-z]*' "$work/agent.log" | head -n1 >"$work/backend" || true
  sleep 1   # idle: started, no traffic yet
  awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status" >>"$work/idle"
  load "$warmup"   # warm the agent's JIT up
  completed >>"$work/completed"
}
stop_agent() {
  local pid=$agent_pid
  agent_pid="" # stopped here, not again by the exit trap
  stop_agent_process "$pid" "$work/agent.log"
  grep -o 'stopped: .*' "$work/agent.log" >>"$work/stats" || echo "stopped: (no summary)" >>"$work/stats"
}
# the ahead-of-time cache is recorded by a first run of this jar (written as it exits): one
# untimed run makes it, so every timed round maps it, as every ./spanwire after the first does
recording() { aot_recording "$java_home" "$jar"; }
if recording; then
  start_agent; stop_agent
  # the JVM assembles the cache in a child process as it exits; the timed runs start once it is there
  for _ in $(seq 600); do recording || break; sleep 0.1; done
  # a new receiver: the spans it counts are the timed rounds' only (this run's had been counted
  # with them, 1.2-1.7 times the spans the rounds exported)
  stop_receiver; start_receiver
fi
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$agent_pid/stat"; }
# the counting receiver's CPU (0 without -x): it runs on the measured cores, where a collector
# would usually not, so the timed runs' share of it is printed beside the agent's
receiver_cpu() { if [ -n "$receiver_pid" ]; then awk '{print $14 + $15}' "/proc/$receiver_pid/stat"; else echo 0; fi; }
: >"$work/base" ; : >"$work/traced" ; : >"$work/cpu" ; : >"$work/rss" ; : >"$work/stats"
: >"$work/startup" ; : >"$work/idle" ; : >"$work/seen" ; : >"$work/coverage" ; : >"$work/receiver.cpu"
: >"$work/base.idle" ; : >"$work/traced.idle"
for round in $(seq "$rounds"); do
  rps "$work/base.idle" >>"$work/base"
  : >"$work/completed"
  start_agent
  if [ -n "$kernel_cost" ]; then
    [ -n "$stats_were" ] || stats_were=$(sysctl -n kernel.bpf_stats_enabled)
    sysctl -qw kernel.bpf_stats_enabled=1
    bpf_programs "$agent_pid" >"$work/bpf.before"
  fi
  cpu_before=$(cpu)
  receiver_before=$(receiver_cpu)
  rps "$work/traced.idle" >>"$work/traced"
  receiver_after=$(receiver_cpu)
  echo $(( $(cpu) - cpu_before )) >>"$work/cpu"
  # the timed run's requests, and the agent's CPU per 1,000 of them
  timed=$(completed)
  if [ -n "$kernel_cost" ]; then
    bpf_programs "$agent_pid" >"$work/bpf.after"
    restore_bpf_stats
    # this round's run time and calls of each program, and in all per 1,000 requests
    awk -v n="$timed" 'NR == FNR {cnt[$1] = $3; ns[$1] = $4; next}
      ($1 in cnt) && $3 > cnt[$1] {c = $3 - cnt[$1]; t = $4 - ns[$1]; all += t
        printf "%s %d %.0f %d\n", $2, c, t / c, n >>"'"$work/bpf.calls"'"}
      END {print all / 1e6 * 1000 / n}' "$work/bpf.before" "$work/bpf.after" >>"$work/bpf.per1000"
  fi
  echo "$(( $(cpu) - cpu_before )) $timed" >>"$work/seen"
  echo "$(( receiver_after - receiver_before )) $timed" >>"$work/receiver.cpu"
  awk '/VmHWM/ {print $2}' "/proc/$agent_pid/status" >>"$work/rss"
  stop_agent
  # every request the load tool completed while the agent ran, against the exchanges of each side
  made=$(awk '{s += $1} END {print s}' "$work/completed")
  server=$(tail -n1 "$work/stats" | grep -o ', server [0-9]*' | awk '{print $3}')
  client=$(tail -n1 "$work/stats" | grep -o ', client [0-9]*' | awk '{print $3}')
  # (an older agent, AGENT_JAR, may not count TLS calls)
  tlscalls=$(tail -n1 "$work/stats" | grep -o ', TLS calls [0-9]*' | awk '{print $4}' || true)
  echo "$made ${server:-0} ${client:-0} ${tlscalls:-0}" >>"$work/coverage"
  echo "round $round: without $(tail -n1 "$work/base") with $(tail -n1 "$work/traced") requests/s;" \
    "completed $made, agent saw server ${server:-0} client ${client:-0}" >&2
done
baseline=$(median <"$work/base")
# each round's traced run against the untraced run just before it: steadier than the ratio of the
# medians when the host's speed drifts between rounds
paired=$(paste "$work/base" "$work/traced" | awk '{print $2 / $1}' | median)
traced=$(median <"$work/traced")
cpu_ticks=$(median <"$work/cpu")
rss_kib=$(sort -n "$work/rss" | tail -n1)
idle_kib=$(median <"$work/idle")
startup_ms=$(median <"$work/startup")
base_idle=$(median <"$work/base.idle")
traced_idle=$(median <"$work/traced.idle")
# agent CPU milliseconds per 1,000 requests of the timed runs
cpu_per_k=$(awk -v hz="$ticks" '{print 1000 * ($1 / hz) * 1000 / $2}' "$work/seen" | median)
backend=$(sed 's/backend //' "$work/backend")
stats=$(tail -n1 "$work/stats")
lost=$(grep -o 'records [0-9]*, lost in kernel [0-9]*' "$work/stats" | awk '{s += $6} END {print s + 0}')
read -r made server client tlscalls < <(awk '{m += $1; s += $2; c += $3; t += $4} END {print m, s, c, t}' "$work/coverage")
kernel_line=""
if [ -n "$kernel_cost" ]; then
  # per program: calls per timed request and the median of the rounds' ns per call, most called first
  kernel_line="$(median <"$work/bpf.per1000" | awk '{printf "%.1f", $1}') ms per 1,000 requests, in the traced processes' syscalls;$(
    awk '{calls[$1] += $2; asked[$1] += $4; ns[$1] = ns[$1] " " $3} END {for (p in calls) print calls[p] / asked[p], p, ns[p]}' \
      "$work/bpf.calls" | sort -rg |
      while read -r per name nss; do
        printf ' %s %.2f per request, %s ns each;' "$name" "$per" "$(printf '%s\n' $nss | median)"
      done)"
fi
received="export off"
if [ -n "$receiver_pid" ]; then
  stop_receiver
  received="$(grep -o 'received spans [0-9]*' "$work/receiver.log" | awk '{print $3}') spans at the OTLP receiver (all rounds)"
  received="$received; the receiver's own CPU $(awk -v hz="$ticks" '{print 1000 * ($1 / hz) * 1000 / $2}' "$work/receiver.cpu" |
    median | awk '{printf "%.1f", $1}') ms per 1,000 requests, on the same cores"
  [ "$otlp_rtt" -eq 0 ] || received="$received, which answered each request $otlp_rtt ms after it came"
fi

awk -v b="$baseline" -v t="$traced" -v c="$cpu_ticks" -v hz="$ticks" -v rounds="$rounds" \
    -v rss="$rss_kib" -v d="$duration" -v conns="$connections" -v thr="$threads" -v s="$stats" \
    -v lost="$lost" -v nproc="$(nproc)" -v made="$made" -v server="$server" -v client="$client" \
    -v tlscalls="$tlscalls" -v received="$received" -v idle="$idle_kib" -v startup="$startup_ms" -v cpk="$cpu_per_k" \
    -v paired="$paired" -v bidle="$base_idle" -v tidle="$traced_idle" -v backend="${backend:-?}" -v scope="${one_pid:+nginx only (--pid)}" \
    -v tool="${h2:+h2load -m $streams (HTTP/2)}${close:+wrk, one request per connection,}" -v kernel="$kernel_line" 'BEGIN {
  printf "%s -t%d -c%d -d%ds against nginx on 127.0.0.1, %d cores, median of %d rounds\n", (tool == "" ? "wrk" : tool), thr, conns, d, nproc, rounds
  printf "  agent traces    %s, capture backend %s\n", (scope == "" ? "every process" : scope), backend
  printf "  without agent   %10.0f requests/s\n", b
  printf "  with agent      %10.0f requests/s\n", t
  printf "  ratio           %10.3f (median of the rounds'"'"' own ratios %.3f)\n", t / b, paired
  printf "  agent CPU       %10.2f s per %d s run (%.0f%% of one core)\n", c / hz, d, 100 * c / hz / d
  printf "  cores idle      %10.1f %% of their time without the agent, %.1f %% with it (medians; nothing ran)\n", bidle, tidle
  xpr = (server + client) / made
  printf "  agent CPU/1000  %10.1f ms per 1,000 requests (%.1f ms per 1,000 exchanges; %.2f exchanges per request)\n", cpk, cpk / xpr, xpr
  if (kernel != "") printf "  kernel CPU/1000  %s\n", kernel
  printf "  agent peak RSS  %10.1f MiB (idle %.1f MiB)\n", rss / 1024, idle / 1024
  printf "  start-up        %10d ms to \"capturing\" (median)\n", startup
  printf "  events lost     %10d (all rounds)\n", lost
  printf "  exchanges       server %d (%.2f%%), client %d (%.2f%%) of %d requests the load tool completed\n", server, 100 * server / made, client, 100 * client / made, made
  printf "  OTLP export     %s\n", received
  if (tlscalls > 0) printf "  TLS calls       %10.0f per second (uprobe hits: %.2f per request)\n", tlscalls / made * t, tlscalls / made
  printf "  last agent      %s\n", s
}'
