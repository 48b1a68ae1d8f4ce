"""An HTTPS/1.1 server for the agent's tests, on 127.0.0.1 only: python's http.server behind
python's ssl module (libssl). Arguments: certificate file, key file. GET answers "secure\n", POST
answers with the request's body. Prints "port N" once listening."""
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(200, b"secure\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.answer(200, self.rfile.read(length))

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print("port %d" % server.server_address[1], flush=True)
server.serve_forever()
