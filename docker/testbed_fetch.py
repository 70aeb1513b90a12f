#!/usr/bin/env python3
"""Runs N concurrent HTTP/1.0 GETs of one URL and reports, per download, what a test needs to
judge it: whether it completed, the sha256 of the body, and the longest gap between two reads
(the stall a client saw, for example while a failed lb instance's next hop was being removed).

Usage: testbed_fetch.py --count N --timeout SECONDS [--interval SECONDS] http://HOST[:PORT]/PATH
HOST is a name, an IPv4 address or a bracketed IPv6 address (http://[2001:2::100]/whoami).

With --interval, download i starts at i * interval (a steady stream of new connections, as real
clients make them) and --timeout bounds each download from its own start.

One line per download on stdout, in the order they finish:
  <i> <status> <sha256> <body bytes> <max gap ms> <local port>
status is "ok" (HTTP 200 and the connection closed cleanly after the body), or what went wrong
("reset", "timeout", "http-404", ...). Every download is bounded by --timeout, and the process
by --timeout plus a few seconds. Exit status 0 only when every download is ok.
"""
import argparse
import hashlib
import socket
import sys
import threading
import time
import urllib.parse


def fetch(index, host, port, path, deadline, results, lock):
    status, digest, body_bytes, max_gap, local_port = "error", "-", 0, 0.0, 0
    try:
        with socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic())) as s:
            local_port = s.getsockname()[1]
            s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, "[%s]" % host if ":" in host else host)).encode())
            sha = hashlib.sha256()
            head = b""
            in_body = False
            code = None
            last = time.monotonic()
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    status = "timeout"
                    break
                s.settimeout(remaining)
                try:
                    data = s.recv(1 << 16)
                except socket.timeout:
                    status = "timeout"
                    break
                now = time.monotonic()
                if in_body:
                    max_gap = max(max_gap, now - last)
                last = now
                if not data:
                    status = "ok" if code == 200 and in_body else "http-%s" % code
                    break
                if in_body:
                    sha.update(data)
                    body_bytes += len(data)
                    continue
                head += data
                end = head.find(b"\r\n\r\n")
                if end >= 0:
                    code = int(head.split(b" ", 2)[1])
                    rest = head[end + 4:]
                    sha.update(rest)
                    body_bytes += len(rest)
                    in_body = True
            digest = sha.hexdigest()
    except ConnectionResetError:
        status = "reset"
    except OSError as e:
        status = "error-" + (e.__class__.__name__)
    with lock:
        results.append(status == "ok")
        print(index, status, digest, body_bytes, int(max_gap * 1000), local_port, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("url")
    args = parser.parse_args()
    if not 1 <= args.count <= 1000 or not 0 < args.timeout <= 600 or not 0 <= args.interval * args.count <= 600:
        parser.error("--count 1..1000, --timeout up to 600 s, --interval times --count up to 600 s")
    url = urllib.parse.urlsplit(args.url)
    path = url.path + ("?" + url.query if url.query else "")
    start = time.monotonic()
    results, lock = [], threading.Lock()
    threads = []
    for i in range(args.count):
        begin = start + i * args.interval
        if begin > time.monotonic():
            time.sleep(begin - time.monotonic())
        t = threading.Thread(target=fetch, args=(i, url.hostname, url.port or 80, path, begin + args.timeout, results,
                                                 lock), daemon=True)
        t.start()
        threads.append(t)
    last_deadline = start + (args.count - 1) * args.interval + args.timeout
    for t in threads:
        t.join(max(0.0, last_deadline + 5 - time.monotonic()))
    sys.exit(0 if len(results) == args.count and all(results) else 1)


if __name__ == "__main__":
    main()
