#!/usr/bin/env bash
# Soak: the agent under hours-style churn, bounded and on 127.0.0.1 only. Against one nginx (HTTP/1,
# h2c and TLS listeners) it runs at once, for MINUTES (default 10):
#   * keep-alive clients (wrk, 8 connections, paced to about 4,000 requests/s, distinct paths)
#   * one request per connection (wrk with Connection: close, about 2,000 new connections/s)
#   * short-lived client processes: curl loops (about 50 processes/s)
#   * pipelining (bursts of 10 requests in one write), 1 MiB downloads, 1 MiB uploads,
#     connections reset with RST mid-response, slow clients sending one header byte per 100 ms
#     (python)
#   * HTTP/2 (h2load, 200 requests/s), TLS (wrk over https, paced) and HTTP/2 over TLS (h2load,
#     ALPN h2, 100 requests/s)
# The agent runs as ./spanwire runs it (JVM options, ahead-of-time cache). Every minute it prints
# the agent's RSS, its heap in use and old generation (read without a collection), the connection tables (the
# kernel's conn_info map by bpftool, the pipeline's spanwire.connections), the process registry
# (spanwire.processes) and the events lost; at the end, once traffic stopped, again after a minute
# (tables released?), then the exchanges the agent saw against what the clients completed, and
# wrong pairs: nginx answers every /p... request with its own path in X-Uri, and every exchange
# the agent reports (JSON events, both sides) whose answer carries one must carry its request's.
#
#   bench/soak.sh [MINUTES]
#
# AGENT_JAR runs another build (as bench/load.sh: then the sources are not built, so a jar of
# another commit is measured as it is).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
minutes=${1:-10}
[ "$(id -u)" -eq 0 ] || die "the soak loads BPF programs: run it as root"
ensure_packages $SPANWIRE_BUILD_PACKAGES $SPANWIRE_RUNTIME_PACKAGES nginx-light wrk nghttp2-client curl python3 bpftool
java_home=$(find_jdk)
[ -n "${AGENT_JAR:-}" ] || ! agent_stale "$root" || build_agent "$root" "$java_home"
jar=${AGENT_JAR:-$root/exporter/target/spanwire.jar}
seconds=$((minutes * 60))

work=$(mktemp -d /tmp/spanwire-soak.XXXXXX)
pids=()
agent_pid="" nginx_pid=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
http=$(free_port) h2c=$(free_port) https=$(free_port) h2tls=$(free_port)
mkdir -p "$work/www"
printf 'hello\n' >"$work/www/index.html"
head -c $((1 << 20)) /dev/urandom >"$work/www/big.bin"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 -subj /CN=localhost 2>/dev/null
bench_nginx_conf "$work" "listen 127.0.0.1:$http; listen 127.0.0.1:$h2c http2;
  listen 127.0.0.1:$https ssl; listen 127.0.0.1:$h2tls ssl http2;
  ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
  root $work/www; client_max_body_size 2m;
  location /p { default_type text/plain; add_header X-Uri \"\$uri\" always; return 200 \"\$uri\"; }"
/usr/sbin/nginx -p "$work" -c "$work/nginx.conf" & nginx_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$http/" && break; sleep 0.05; done

cat >"$work/agent.conf" <<CONF
spanwire.metrics { output = json, agent = true, interval = 60s }
# one JSON event per exchange and side: its target and the X-Uri nginx answered with
spanwire.watch = [{ type = http, name = "^http-resp$", field = "^http_(target|response_header_x_uri)$", value = ".*", headers = ["(?i)^x-uri:"] }]
CONF
# Reads the agent's stdout: metric lines go to agent.out, HTTP events are checked for wrong pairs.
cat >"$work/pairs.py" <<'PY'
import re, sys
target = re.compile(r'"http_target":"((?:[^"\\]|\\.)*)"')
uri = re.compile(r'"http_response_header_x_uri":"((?:[^"\\]|\\.)*)"')
checked = wrong = 0
examples = []
with open(sys.argv[1], "w") as metrics:
    for line in sys.stdin:
        if '"_metric"' in line:
            metrics.write(line); metrics.flush(); continue
        u = uri.search(line)
        if not u:
            continue
        t = target.search(line)
        checked += 1
        if t is None or t.group(1).split("?")[0] != u.group(1):
            wrong += 1
            if len(examples) < 5:
                examples.append(line.strip()[:300])
with open(sys.argv[2], "w") as out:
    out.write("%d %d\n" % (checked, wrong))
    for e in examples:
        out.write(e + "\n")
PY
mkfifo "$work/events"
# the checker yields the CPU to the agent and the clients (behind, it holds the agent's output back,
# which is counted as output dropped, never as capture lost)
nice -n 10 python3 "$work/pairs.py" "$work/agent.out" "$work/pairs" <"$work/events" & checker_pid=$!
# the agent as ./spanwire runs it (its JVM options and ahead-of-time cache); a first run of a new
# jar records the cache as it exits, so that run is made beforehand, without load
wait_capturing() {
  for _ in $(seq 1000); do grep -q capturing "$work/agent.log" && break; sleep 0.01; done
  grep -q capturing "$work/agent.log" || { cat "$work/agent.log" >&2; die "agent did not start"; }
}
if aot_recording "$java_home" "$jar"; then
  (exec_agent "$java_home" "$jar" --output none --otlp-endpoint none) 2>"$work/agent.log" >/dev/null & agent_pid=$!
  wait_capturing
  pid=$agent_pid; agent_pid=""
  stop_agent_process "$pid" "$work/agent.log"
  for _ in $(seq 600); do aot_recording "$java_home" "$jar" || break; sleep 0.1; done
fi
(exec_agent "$java_home" "$jar" --config "$work/agent.conf" --output json --otlp-endpoint none) \
  2>"$work/agent.log" >"$work/events" & agent_pid=$!
wait_capturing

cat >"$work/paced.lua" <<'LUA'
local n = 0
request = function() n = n + 1; return wrk.format("GET", "/p" .. n) end
delay = function() return 2 end
LUA
cat >"$work/clients.py" <<'PY'
import os, socket, sys, threading, time
kind, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.time() + seconds
done = 0
upload = os.urandom(1 << 20)
def read_answers(s, n):
    buf, got = b"", 0
    while got < n:
        i = buf.find(b"\r\n\r\n")
        if i >= 0:
            head = buf[:i].decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            if len(buf) >= i + 4 + length:
                buf = buf[i + 4 + length:]; got += 1; continue
        chunk = s.recv(65536)
        if not chunk: break
        buf += chunk
    return got
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", port))
        if kind == "pipelined":
            s.sendall(b"".join(b"GET /p%d HTTP/1.1\r\nHost: h\r\n\r\n" % i for i in range(10)))
            done += read_answers(s, 10); time.sleep(0.1)
        elif kind == "big":
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n")
            done += read_answers(s, 1); time.sleep(0.2)
        elif kind == "upload":
            s.sendall(b"POST /p-up HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(upload) + upload)
            done += read_answers(s, 1); time.sleep(0.2)
        elif kind == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n")
            s.recv(65536); time.sleep(0.1)
        elif kind == "slow":
            for b in b"GET /p-slow HTTP/1.1\r\nHost: h\r\n\r\n":
                s.sendall(bytes([b])); time.sleep(0.1)
            done += read_answers(s, 1)
        s.close()
    except OSError:
        time.sleep(0.1)
print(done)
PY
curl_loop() { # how many curl processes completed, in $work/curl.$1
  local n=0 end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do curl -s -o /dev/null "http://127.0.0.1:$http/p-curl" && n=$((n + 1)); done
  echo $n >"$work/curl.$1"
}

# to a tenth of a MiB: whole MiB cut 100.9 to 100, which reads as within a goal of 100
rss() { awk '/VmRSS/ {printf "%.1f\n", $2 / 1024}' "/proc/$agent_pid/status"; }
# The heap read without a collection: jstat reads the JVM's shared counters and never attaches. (A
# full GC forced every minute, as this soak once made for "heap after a full GC", kept the old
# generation from growing as it grows in a real run: promoted garbage expands it towards -Xmx
# until a collection is due, and it stays committed, resident.) Prints the heap in use and the old
# generation's committed size, MiB.
heap() {
  local v
  v=$("$java_home/bin/jstat" -gc "$agent_pid" 2>/dev/null \
    | awk 'NR == 2 {printf "%.1f %.1f", ($3 + $4 + $6 + $8) / 1024, $7 / 1024}')
  echo "${v:-? ?}"
}
live_heap() { # used heap after a full GC, MiB (once, at the end: it collects)
  "$java_home/bin/jcmd" "$agent_pid" GC.run >/dev/null 2>&1 || true
  # the heap's generations (serial GC: DefNew and Tenured; G1: one line)
  "$java_home/bin/jcmd" "$agent_pid" GC.heap_info 2>/dev/null \
    | awk '/^ *(DefNew|Tenured|def new generation|tenured generation|garbage-first heap)/ {
             for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub(/K.*/, "", v); s += v}}
           END {printf "%.1f", s / 1024}'
}
kernel_conns() { bpftool -j map dump name conn_info 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?"; }
gauge() { # the agent's latest JSON value of $1
  grep -a "\"_metric\":\"$1\"" "$work/agent.out" | tail -n1 | grep -o '"_value":[0-9.]*' | cut -d: -f2 || true
}
lost() { grep -a '"_metric":"spanwire.events.lost"' "$work/agent.out" | grep -o '"_value":[0-9.]*' | cut -d: -f2 | awk '{s += $1} END {print s + 0}'; }
row() { printf '%-8s %8s %9s %8s %12s %12s %10s %8s\n' "$@"; }

echo "soak: $minutes min; agent pid $agent_pid; nginx :$http (h2c :$h2c, tls :$https, h2 over tls :$h2tls)"
row minute "rss MiB" "heap MiB" "old MiB" "kernel conns" "java conns" processes lost
row 0 "$(rss)" $(heap) "$(kernel_conns)" "-" "-" 0
wrk -t1 -c8 -d"${seconds}s" -s "$work/paced.lua" "http://127.0.0.1:$http/" >"$work/wrk.keepalive" 2>&1 & pids+=($!)
wrk -t1 -c4 -d"${seconds}s" -H "Connection: close" -s "$work/paced.lua" "http://127.0.0.1:$http/" >"$work/wrk.close" 2>&1 & pids+=($!)
wrk -t1 -c2 -d"${seconds}s" -s "$work/paced.lua" "https://127.0.0.1:$https/" >"$work/wrk.tls" 2>&1 & pids+=($!)
h2load -c2 -m4 --rps 100 -D "$seconds" "http://127.0.0.1:$h2c/p-h2" >"$work/h2load.out" 2>&1 & pids+=($!)
h2load -c1 -m4 --rps 100 -D "$seconds" "https://127.0.0.1:$h2tls/p-h2s" >"$work/h2load.tls" 2>&1 & pids+=($!)
for kind in pipelined big upload reset slow slow slow; do
  python3 "$work/clients.py" "$kind" "$http" "$seconds" >>"$work/py.$kind" 2>/dev/null & pids+=($!)
done
for i in 1 2; do curl_loop "$i" & pids+=($!); done
for m in $(seq "$minutes"); do
  sleep 60
  row "$m" "$(rss)" $(heap) "$(kernel_conns)" "$(gauge spanwire.connections)" "$(gauge spanwire.processes)" "$(lost)"
done
wait "${pids[@]}" 2>/dev/null || true
pids=()
sleep 65   # a minute without traffic: idle connections go, exited processes are swept
row "+1 idle" "$(rss)" $(heap) "$(kernel_conns)" "$(gauge spanwire.connections)" "$(gauge spanwire.processes)" "$(lost)"
# the highest RSS of the agent's life, then what its heap holds once collected
peak=$(awk '/VmHWM/ {printf "%.1f\n", $2 / 1024}' "/proc/$agent_pid/status")
echo "agent heap after a full GC, idle: $(live_heap) MiB"
pid=$agent_pid; agent_pid=""
stop_agent_process "$pid" "$work/agent.log"
wait "$checker_pid" 2>/dev/null || true
summary=$(grep -o 'stopped: .*' "$work/agent.log" || echo "")
completed() { awk '/ requests in / {print $1}' "$1"; }
# a load tool that ended without its summary (it died, or could not connect) is counted as 0 made:
# say so, since the coverage below then reads high
incomplete=""
for f in wrk.keepalive wrk.close wrk.tls h2load.out h2load.tls; do
  grep -q -e ' requests in ' -e '^requests:' "$work/$f" || {
    echo "soak: $f has no request count (counted as 0): $(tail -n 3 "$work/$f" | tr '\n' ' ')"
    incomplete=" (not comparable: a load tool did not report)"
  }
done
made_wrk=$(( $(completed "$work/wrk.keepalive") + $(completed "$work/wrk.close") + $(completed "$work/wrk.tls") ))
h2_succeeded() { awk '/^requests:/ {for (i = 1; i <= NF; i++) if ($i ~ /^succeeded/) print $(i - 1)}' "$1"; }
made_h2=$(( $(h2_succeeded "$work/h2load.out") + $(h2_succeeded "$work/h2load.tls") ))
made_py=$(cat "$work"/py.pipelined "$work"/py.big "$work"/py.upload "$work"/py.slow | awk '{s += $1} END {print s}')
made_curl=$(cat "$work"/curl.* | awk '{s += $1} END {print s}')
made=$((made_wrk + made_h2 + made_py + made_curl))
server=$(echo "$summary" | grep -o ', server [0-9]*' | awk '{print $3}')
client=$(echo "$summary" | grep -o ', client [0-9]*' | awk '{print $3}')
echo "clients completed $made exchanges (wrk $made_wrk, h2load $made_h2, python $made_py, curl $made_curl; resets not counted)"
# each python client's own count: the pipelined one makes at most 10 every 0.1 s, big and upload
# one every 0.2 s, a slow one one every ~3.5 s (a total of 245,848 in 10 minutes was seen once,
# about four times what they can make; this tells which one said so)
echo "python clients: pipelined $(paste -sd+ "$work/py.pipelined"), big $(paste -sd+ "$work/py.big"), upload $(paste -sd+ "$work/py.upload"), slow $(paste -sd+ "$work/py.slow")"
echo "agent saw server side ${server:-?} ($(awk -v s="${server:-0}" -v m="$made" 'BEGIN {printf "%.2f", 100 * s / m}') %)$incomplete, client side ${client:-?}"
read -r checked wrong <"$work/pairs" || { checked=0; wrong=0; }
echo "wrong pairs: $wrong of $checked exchanges whose answer named its request (X-Uri), both sides"
[ "$wrong" -eq 0 ] || tail -n +2 "$work/pairs"
echo "agent peak RSS: $peak MiB"
echo "agent: $summary"
