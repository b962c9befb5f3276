#!/usr/bin/env python3
"""Client of a virtual service for live checks and tests: COUNT requests, each on a new
connection, one JSON line per request: {"ok", "member", "status", "error", "ms"}.
http/https: GET PATH with the Host header, the member is the X-Server header (lab member
servers answer so); https verifies the certificate against CAFILE (the lab's test
certificates) for the Host name, and records the ALPN protocol. tcp: the member writes its
name first. COOKIE (persistence checks): "jar:NAME" sends back the NAME cookie the load
balancer set in an earlier answer (a browser keeping its session), "NAME=VALUE" sends that
cookie on every request; the answer records the NAME cookie set, if any.
Usage: slb-client.py MODE ADDR PORT COUNT [HOST] [PATH] [CAFILE] [HEADER:VALUE] [COOKIE]"""
import json
import socket
import ssl
import sys
import time

mode, addr, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else addr
path = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else "/"
cafile = sys.argv[7] if len(sys.argv) > 7 and sys.argv[7] else None
header = sys.argv[8] if len(sys.argv) > 8 and sys.argv[8] else None
cookie = sys.argv[9] if len(sys.argv) > 9 and sys.argv[9] else None
jar_name = cookie[4:] if cookie and cookie.startswith("jar:") else (cookie.split("=", 1)[0] if cookie else None)
sent = None if not cookie or cookie.startswith("jar:") else cookie
TIMEOUT = 2.0


def one():
    t0 = time.monotonic()
    out = {"ok": False}
    try:
        s = socket.create_connection((addr, port), timeout=TIMEOUT)
        try:
            if mode == "tcp":
                line = s.makefile("rb").readline().decode().strip()
                out.update(ok=bool(line), member=line)
            else:
                if mode == "https":
                    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
                    ctx.set_alpn_protocols(["http/1.1"])
                    s = ctx.wrap_socket(s, server_hostname=host)
                    out["alpn"] = s.selected_alpn_protocol()
                extra = f"{header.split(':', 1)[0]}: {header.split(':', 1)[1]}\r\n" if header else ""
                if sent:
                    extra += f"Cookie: {sent}\r\n"
                    out["cookie"] = sent
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode())
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
                status = int(head[0].split()[1]) if head and len(head[0].split()) > 1 else 0
                member = next((h.split(":", 1)[1].strip() for h in head[1:] if h.lower().startswith("x-server:")), None)
                out.update(ok=200 <= status < 400, status=status, member=member)
                if jar_name:
                    for h in head[1:]:
                        if h.lower().startswith("set-cookie:"):
                            pair = h.split(":", 1)[1].split(";", 1)[0].strip()
                            if pair.split("=", 1)[0] == jar_name:
                                out["set_cookie"] = pair
        finally:
            s.close()
    except Exception as e:  # every failure is an answer: the checks count them
        out["error"] = f"{type(e).__name__}: {e}"
    out["ms"] = round((time.monotonic() - t0) * 1000, 1)
    return out


for _ in range(count):
    answer = one()
    if cookie and cookie.startswith("jar:") and answer.get("set_cookie"):
        sent = answer["set_cookie"]
    print(json.dumps(answer), flush=True)
