#!/usr/bin/env python3
"""Steady load on a virtual service for lab tests: CONCURRENCY threads send requests, each on a
new connection, for SECONDS, and the run prints one JSON object: {"samples": [[t_ms, ms, ok,
member], ...]} where t_ms is the wall-clock start of the request (epoch ms, so a test can cut
the run into before/during/after a change it timed itself), ms its duration, ok 1/0, member
the X-Server header (http/https) or the first line (tcp), or the error text of a failed one.
Usage: slb-load.py MODE ADDR PORT SECONDS CONCURRENCY [HOST] [PATH] [CAFILE]"""
import json
import socket
import ssl
import sys
import threading
import time

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
seconds, concurrency = float(sys.argv[4]), int(sys.argv[5])
host = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else addr
path = sys.argv[7] if len(sys.argv) > 7 and sys.argv[7] else "/"
cafile = sys.argv[8] if len(sys.argv) > 8 and sys.argv[8] else None
TIMEOUT = 3.0
ctx = None
if mode == "https":
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    ctx.set_alpn_protocols(["http/1.1"])
request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


def one():
    s = socket.create_connection((addr, port), timeout=TIMEOUT)
    try:
        if mode == "tcp":
            line = s.makefile("rb").readline().decode().strip()
            return bool(line), line
        if ctx:
            s = ctx.wrap_socket(s, server_hostname=host)
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        status = int(head[0].split()[1]) if head and len(head[0].split()) > 1 else 0
        member = next((h.split(":", 1)[1].strip() for h in head[1:] if h.lower().startswith("x-server:")), "")
        return 200 <= status < 400, member or f"status {status}"
    finally:
        s.close()


samples = []
lock = threading.Lock()
end = time.time() + seconds


def worker():
    mine = []
    while time.time() < end:
        t0 = time.time()
        try:
            ok, what = one()
        except Exception as e:  # a failed request is a sample, not a crash
            ok, what = False, type(e).__name__ + ": " + str(e)[:80]
        mine.append([int(t0 * 1000), round((time.time() - t0) * 1000, 2), 1 if ok else 0, what])
        if not ok:
            # A refused connection fails in microseconds: paced like a client retrying, so the
            # failures counted are the requests a real client would have lost, not a busy loop.
            time.sleep(0.02)
    with lock:
        samples.extend(mine)


threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads:
    t.start()
for t in threads:
    t.join()
samples.sort(key=lambda s: s[0])
print(json.dumps({"samples": samples}))
