#!/usr/bin/python3
"""Backend server for the lb testbed; docker/testbed.sh starts one in each server namespace.

HTTP on port 80:
  GET /whoami        the server's own IP address as the body (no newline)
  GET /file/<name>   the file <name> from the files directory (names: letters, digits, . _ -);
                     with ?rate=N the server paces the body at N bytes per second (N >= 1024), so
                     a download lasts size/N seconds whatever the client's buffers (curl's
                     --limit-rate only paces its reads: the kernel's receive buffer may take the
                     whole of a 12 MiB file within seconds)
  POST /sink         reads the request body (Content-Length, at most 256 MiB) and answers
                     "<sha256 hex> <bytes>" of it: an upload whose integrity the client checks
UDP echo on port 5353: the reply is "<server ip> " followed by the datagram as received. The reply
leaves from the address the request was sent to (IP_PKTINFO), so in the testbed's dsr and ipip
modes, where the server holds the VIP locally, a client talking to VIP:5353 gets its answer from
VIP:5353 and not from the server's own address.

With --ip6 (the testbed's --ipv6) both also listen on IPv6, on sockets of their own (IPV6_V6ONLY,
so the IPv4 ones stay exactly as they are): there /whoami and the echo's prefix are the --ip6
address, and the echo's reply leaves from the address asked (IPV6_PKTINFO).

It writes its PID to --pidfile only after both sockets are bound, so the pidfile also says "ready".
Runs until SIGTERM.
"""
import argparse
import hashlib
import http.server
import os
import re
import shutil
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$")
MAX_UPLOAD = 256 << 20


def make_handler(server_ip, files_dir):
    body_ip = server_ip.encode("ascii")

    class Handler(http.server.BaseHTTPRequestHandler):
        # HTTP/1.1 so clients may keep a connection open; every reply has a Content-Length.
        protocol_version = "HTTP/1.1"
        server_version = "lb-testbed"
        sys_version = ""

        def do_GET(self):
            self._reply(send_body=True)

        def do_HEAD(self):
            self._reply(send_body=False)

        def do_POST(self):
            length = self.headers.get("Content-Length", "")
            if self.path != "/sink":
                self._send_bytes(404, b"not found\n", True)
            elif not length.isdigit() or int(length) > MAX_UPLOAD:
                self._send_bytes(400, b"bad Content-Length\n", True)
            else:
                digest = hashlib.sha256()
                left = int(length)
                while left > 0:
                    data = self.rfile.read(min(left, 1 << 16))
                    if not data:
                        self.close_connection = True
                        return
                    digest.update(data)
                    left -= len(data)
                self._send_bytes(200, ("%s %d" % (digest.hexdigest(), int(length))).encode("ascii"), True)

        def _reply(self, send_body):
            path, _, query = self.path.partition("?")
            if path == "/whoami":
                self._send_bytes(200, body_ip, send_body)
            elif path.startswith("/file/"):
                rate = urllib.parse.parse_qs(query).get("rate", ["0"])[0]
                if not rate.isdigit() or (rate != "0" and int(rate) < 1024):
                    self._send_bytes(400, b"bad rate\n", send_body)
                    return
                self._send_file(path[len("/file/"):], send_body, int(rate))
            else:
                self._send_bytes(404, b"not found\n", send_body)

        def _send_bytes(self, status, body, send_body):
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def _send_file(self, name, send_body, rate=0):
            if not FILE_NAME.match(name):
                self._send_bytes(400, b"bad file name\n", send_body)
                return
            try:
                f = open(os.path.join(files_dir, name), "rb")
            except OSError:
                self._send_bytes(404, b"no such file\n", send_body)
                return
            with f:
                size = os.fstat(f.fileno()).st_size
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                if send_body and rate == 0:
                    shutil.copyfileobj(f, self.wfile, 1 << 16)
                elif send_body:
                    self._send_paced(f, rate)

        def _send_paced(self, f, rate):
            chunk = max(1024, min(1 << 16, rate // 20))  # about 20 writes a second
            start = time.monotonic()
            sent = 0
            while True:
                data = f.read(chunk)
                if not data:
                    return
                self.wfile.write(data)
                sent += len(data)
                delay = start + sent / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

        def log_message(self, fmt, *args):
            pass  # one line per request would flood the log during load tests

    return Handler


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the default of 5 drops SYNs under a burst of new connections


class HttpServer6(HttpServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; Python 3.11 does not export it
IN_PKTINFO = struct.Struct("=i4s4s")  # struct in_pktinfo: ifindex, spec_dst, addr


def udp_echo(sock, prefix):
    sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    while True:
        data, ancillary, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(IN_PKTINFO.size))
        reply_from = []
        for level, kind, value in ancillary:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(value) >= IN_PKTINFO.size:
                _ifindex, _spec_dst, local = IN_PKTINFO.unpack_from(value)
                # Source = the request's destination; ifindex 0: let routing choose the device.
                reply_from = [(socket.IPPROTO_IP, IP_PKTINFO, IN_PKTINFO.pack(0, local, bytes(4)))]
        sock.sendmsg([prefix + data], reply_from, 0, peer)


IN6_PKTINFO = struct.Struct("=16si")  # struct in6_pktinfo: addr, ifindex


def udp_echo6(sock, prefix):
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    while True:
        data, ancillary, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(IN6_PKTINFO.size))
        reply_from = []
        for level, kind, value in ancillary:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO and len(value) >= IN6_PKTINFO.size:
                local, _ifindex = IN6_PKTINFO.unpack_from(value)
                reply_from = [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, IN6_PKTINFO.pack(local, 0))]
        sock.sendmsg([prefix + data], reply_from, 0, peer)


def udp_socket(family, port):
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(("::", port))
    else:
        sock.bind(("0.0.0.0", port))
    return sock


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ip", required=True, help="this server's address, the /whoami body")
    parser.add_argument("--ip6", help="this server's IPv6 address: also listen on IPv6, where it is the /whoami body")
    parser.add_argument("--files", required=True, help="directory served under /file/")
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--http-port", type=int, default=80)
    parser.add_argument("--udp-port", type=int, default=5353)
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    http_server = HttpServer(("0.0.0.0", args.http_port), make_handler(args.ip, args.files))
    udp = udp_socket(socket.AF_INET, args.udp_port)
    threading.Thread(target=udp_echo, args=(udp, args.ip.encode("ascii") + b" "), daemon=True).start()
    if args.ip6:
        http_server6 = HttpServer6(("::", args.http_port), make_handler(args.ip6, args.files))
        threading.Thread(target=http_server6.serve_forever, daemon=True).start()
        udp6 = udp_socket(socket.AF_INET6, args.udp_port)
        threading.Thread(target=udp_echo6, args=(udp6, args.ip6.encode("ascii") + b" "), daemon=True).start()

    tmp = args.pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, args.pidfile)
    http_server.serve_forever()


if __name__ == "__main__":
    main()
