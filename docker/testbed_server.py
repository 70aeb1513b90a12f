#!/usr/bin/python3
"""Backend server for the lb testbed; docker/testbed.sh starts one in each server namespace.

HTTP on port 80:
  GET /whoami        the server's own IP address as the body (no newline)
  GET /file/<name>   the file <name> from the files directory (names: letters, digits, . _ -)
UDP echo on port 5353: the reply is "<server ip> " followed by the datagram as received.

It writes its PID to --pidfile only after both sockets are bound, so the pidfile also says "ready".
Runs until SIGTERM.
"""
import argparse
import http.server
import os
import re
import shutil
import signal
import socket
import sys
import threading

FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$")


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

        def _reply(self, send_body):
            path = self.path.split("?", 1)[0]
            if path == "/whoami":
                self._send_bytes(200, body_ip, send_body)
            elif path.startswith("/file/"):
                self._send_file(path[len("/file/"):], send_body)
            else:
                self._send_bytes(404, b"not found\n", send_body)

        def _send_bytes(self, status, body, send_body):
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def _send_file(self, name, send_body):
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
                if send_body:
                    shutil.copyfileobj(f, self.wfile, 1 << 16)

        def log_message(self, fmt, *args):
            pass  # one line per request would flood the log during load tests

    return Handler


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the default of 5 drops SYNs under a burst of new connections


def udp_echo(sock, prefix):
    while True:
        data, peer = sock.recvfrom(65535)
        sock.sendto(prefix + data, peer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ip", required=True, help="this server's address, the /whoami body")
    parser.add_argument("--files", required=True, help="directory served under /file/")
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--http-port", type=int, default=80)
    parser.add_argument("--udp-port", type=int, default=5353)
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    http_server = HttpServer(("0.0.0.0", args.http_port), make_handler(args.ip, args.files))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind(("0.0.0.0", args.udp_port))
    threading.Thread(target=udp_echo, args=(udp, args.ip.encode("ascii") + b" "), daemon=True).start()

    tmp = args.pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, args.pidfile)
    http_server.serve_forever()


if __name__ == "__main__":
    main()
