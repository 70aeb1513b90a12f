#!/usr/bin/env python3
"""A fixed delay on one link, without netem: an L2 forwarder between two interfaces.

This kernel has no netem (nor fq/etf), so a path is delayed by a namespace in the middle of it
that runs this program: every frame arriving on --delayed-in leaves on --delayed-out exactly
--delay-ms later (a FIFO; the delay is the same for every frame, so the order is kept), and
every frame arriving on --delayed-out leaves on --delayed-in at once. The two interfaces need no
addresses (the namespace's kernel drops what it sees); the ends of the link see one Ethernet
segment. Run it with offloads off on both interfaces (wire-size frames).

Bounded: it exits after --max-seconds (default 3600) or on SIGTERM/SIGINT, and writes its
counters to --stats (JSON) when it stops. The hold time is measured from the moment the frame is
read; the timer is epoll's (1 ms resolution, rounded up), so each frame is held between delay and
delay + ~1 ms; ping through the link shows the actual figure.

    delay_forwarder.py --delayed-in a0 --delayed-out a1 --delay-ms 5 [--max-seconds S] [--stats F]
"""
import argparse
import collections
import json
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
BURST = 64


def open_socket(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.bind((dev, 0))
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delayed-in", required=True)
    ap.add_argument("--delayed-out", required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--max-seconds", type=float, default=3600.0)
    ap.add_argument("--stats")
    a = ap.parse_args()
    if not 0 <= a.delay_ms <= 1000 or not 0 < a.max_seconds <= 86400:
        sys.exit("delay_forwarder: --delay-ms must be 0..1000 and --max-seconds 0..86400")
    delay = a.delay_ms / 1e3
    s_in, s_out = open_socket(a.delayed_in), open_socket(a.delayed_out)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ep = select.epoll()
    ep.register(s_in.fileno(), select.EPOLLIN)
    ep.register(s_out.fileno(), select.EPOLLIN)
    held = collections.deque()
    c = dict(delayed=0, passed=0, send_errors=0, max_held=0)
    end = time.monotonic() + a.max_seconds
    while not stop:
        now = time.monotonic()
        if now >= end:
            break
        timeout = min(held[0][0] - now, 0.2) if held else 0.2
        try:
            events = ep.poll(max(timeout, 0))
        except InterruptedError:
            continue
        for fd, _ in events:
            src = s_in if fd == s_in.fileno() else s_out
            for _ in range(BURST):
                try:
                    frame, addr = src.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:   # our own transmissions, seen by the tap
                    continue
                if src is s_in:
                    held.append((time.monotonic() + delay, frame))
                else:
                    try:
                        s_in.send(frame)
                        c["passed"] += 1
                    except OSError:
                        c["send_errors"] += 1
        c["max_held"] = max(c["max_held"], len(held))
        now = time.monotonic()
        while held and held[0][0] <= now:
            try:
                s_out.send(held.popleft()[1])
                c["delayed"] += 1
            except OSError:
                c["send_errors"] += 1
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump(c, f)


if __name__ == "__main__":
    main()
