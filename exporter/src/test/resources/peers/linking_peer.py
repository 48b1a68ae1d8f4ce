"""HTTP/1.1 servers on 127.0.0.1 for the trace-linking tests, one thread per request.

linking_peer.py backend         answers 200 with the request's path as its body (keep-alive)
linking_peer.py front PORT      calls http://127.0.0.1:PORT/b<path> with urllib on the thread that
                                serves the request, then answers with what the backend said
Prints "port N" once listening.
"""
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    backend = None

    def do_GET(self):
        if self.backend is None:
            body = self.path.encode()
        else:
            with urllib.request.urlopen("http://127.0.0.1:%d/b%s" % (self.backend, self.path), timeout=10) as r:
                body = r.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    if sys.argv[1] == "front":
        Handler.backend = int(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()
