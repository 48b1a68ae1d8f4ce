"""Answers each request on 127.0.0.1, then resets the connection (SO_LINGER 0): the client's
socket reaches the TCP state CLOSE while the answer still waits unread in it.
Prints "port N" once listening."""
import socket
import struct
import threading


def serve(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            conn.close()
            return
        data += chunk
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nreset")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print("port %d" % listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
