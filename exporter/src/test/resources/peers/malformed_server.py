"""A keep-alive HTTP/1.1 server on 127.0.0.1 that answers /b with a response a strict parser
refuses (argv[1]: "dupcl" two Content-Length headers, "barelf" bare LF line ends) and every other
path with its status: /a 200, /c 500, /d 204, anything else 200; bodies echo the path. Real
clients (curl) accept both malformations and keep the connection. Prints "port N" once listening.
"""
import socket
import sys
import threading

BAD = {
    "dupcl": b"HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
    "barelf": b"HTTP/1.1 404 Not Found\nContent-Length: 1\n\nx",
}[sys.argv[1]]
STATUS = {b"/a": 200, b"/c": 500, b"/d": 204}


def serve(conn):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            data = conn.recv(65536)
            if not data:
                conn.close()
                return
            buf += data
        head, buf = buf.split(b"\r\n\r\n", 1)
        path = head.split(b" ")[1]
        status = STATUS.get(path, 200)
        if path == b"/b":
            conn.sendall(BAD)
        elif status == 204:
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 %d Status\r\nContent-Length: %d\r\n\r\n%s" % (status, len(path), path))


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(16)
print("port %d" % server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
