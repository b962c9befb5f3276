#!/usr/bin/env python3
"""A pool member for lab tests: answers every HTTP request with its own name (status 200,
header X-Server), or, in tcp mode, writes its name and echoes what it reads. Listens on all
addresses (IPv4 and IPv6) of the endpoint's namespace. Usage: member-server.py NAME http|tcp PORT"""
import http.server
import socket
import socketserver
import sys

name, mode, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


class Http(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = (name + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Server", name)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET
    do_POST = do_GET

    def log_message(self, *args):
        pass


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall((name + "\n").encode())
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(data)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        # Dual stack: IPv4 clients arrive as mapped addresses.
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


Server(("::", port), Http if mode == "http" else Echo).serve_forever()
