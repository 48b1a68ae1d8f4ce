#!/usr/bin/env bash
# Records the real HTTP/1 byte streams in this folder: real clients and servers on 127.0.0.1 with
# socat in between as a logging proxy (-r: client to server, -R: server to client). Run it from
# this folder to re-record; RealCapturesTest parses every pair <name>.req / <name>.resp.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$work/www"
printf 'alpha\n' > "$work/www/a.txt"
touch -d '2023-11-14 22:13:20 UTC' "$work/www/a.txt"
head -c 3000 /dev/urandom > "$work/www/b.bin"
nginx_port=$(port)
cat > "$work/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; error_log $work/error.log; pid $work/nginx.pid;
events {}
http { access_log off; client_body_temp_path $work/body;
  server { listen 127.0.0.1:$nginx_port; root $work/www; location /echo { return 200 "ok\n"; } } }
CONF
/usr/sbin/nginx -p "$work" -c "$work/nginx.conf" &
python_port=$(port)
python3 -m http.server "$python_port" --bind 127.0.0.1 --directory "$work/www" 2>/dev/null &
chunked_port=$(port)
cat > "$work/chunked.py" <<'PY'
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in (b"first chunk\n", b"second, longer chunk of the response\n", b"x" * 300):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
python3 "$work/chunked.py" "$chunked_port" &
sleep 1

# record NAME TARGET_PORT CLIENT_COMMAND... (the client talks to $proxy)
record() {
  local name=$1 target=$2; shift 2
  proxy=$(port)
  socat -r "$here/$name.req" -R "$here/$name.resp" "TCP-LISTEN:$proxy,bind=127.0.0.1,reuseaddr" "TCP:127.0.0.1:$target" &
  local socat_pid=$!
  sleep 0.3
  eval "$@" >/dev/null
  wait "$socat_pid" || true
}
record curl-nginx-keepalive "$nginx_port" 'curl -s -A capture/1 http://127.0.0.1:$proxy/a.txt "http://127.0.0.1:$proxy/b.bin?x=1" http://127.0.0.1:$proxy/missing'
record curl-nginx-head "$nginx_port" 'curl -s -I http://127.0.0.1:$proxy/a.txt'
record curl-nginx-304 "$nginx_port" 'curl -s -H "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT" http://127.0.0.1:$proxy/a.txt'
record curl-nginx-chunked-upload "$nginx_port" 'head -c 9000 /dev/zero | curl -s -H "Transfer-Encoding: chunked" --data-binary @- http://127.0.0.1:$proxy/echo'
record curl-nginx-post "$nginx_port" 'curl -s -d "name=value&other=2" http://127.0.0.1:$proxy/echo'
record curl-python-http10 "$python_port" 'curl -s http://127.0.0.1:$proxy/a.txt'
record curl-python-chunked "$chunked_port" 'curl -s --raw http://127.0.0.1:$proxy/stream'
record socat-nginx-pipelined "$nginx_port" 'printf "GET /a.txt HTTP/1.1\r\nHost: p\r\n\r\nGET /missing HTTP/1.1\r\nHost: p\r\n\r\nHEAD /a.txt HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n" | socat -t 5 - TCP:127.0.0.1:$proxy'
ls -l "$here"
