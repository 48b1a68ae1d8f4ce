"""Downloads paths from one HTTP/1.1 server over one keep-alive connection, reading each body in
CHUNK-byte reads with PAUSE_MS between them, so the transfer takes a known time whatever the
sender does (curl's --limit-rate lets the first megabytes through at full speed, then sleeps).
Usage: paced_download.py HOST PORT CHUNK PAUSE_MS PATH... ; prints "PATH STATUS BYTES" per path."""
import http.client
import sys
import time

host, port, chunk, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) / 1000.0
connection = http.client.HTTPConnection(host, port)
for path in sys.argv[5:]:
    connection.request("GET", path)
    response = connection.getresponse()
    received = 0
    while True:
        data = response.read(chunk)
        if not data:
            break
        received += len(data)
        time.sleep(pause)
    print(path, response.status, received, flush=True)
connection.close()
