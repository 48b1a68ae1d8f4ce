"""A small HTTP/1.1 server for the agent's tests, on 127.0.0.1 only.

GET  /slow?ms=N   answers after N milliseconds
GET  anything     answers 200 "ok\n"
POST anything     answers with the request's body and Content-Type
Every answer carries "X-Served-By: echo". Prints "port N" once listening.
"""
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, body, content_type="text/plain"):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "echo")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/slow":
            ms = int(urllib.parse.parse_qs(url.query).get("ms", ["100"])[0])
            time.sleep(ms / 1000.0)
        self.answer(b"ok\n")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.answer(body, self.headers.get("Content-Type", "application/octet-stream"))

    def log_message(self, format, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print("port %d" % server.server_address[1], flush=True)
server.serve_forever()
