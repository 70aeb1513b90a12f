#!/usr/bin/python3
"""Asks a UDP echo service COUNT times, each time from a new socket (a new source port, so a new
flow for a load balancer), and prints what answered; IPv4 or IPv6 alike.

usage: udp_ask.py HOST PORT COUNT [TIMEOUT_SECONDS]
HOST is an IPv4 or IPv6 address (no brackets). Datagram i is "hello <i>"; one line per datagram:
  <i> <reply source address> <reply source port> <reply>
or "<i> timeout" when no reply came within the timeout (default 3 s). Exit status 0 only when
every datagram was answered. COUNT is 1..1000, so a run is bounded by COUNT x TIMEOUT.
Every socket stays open until the end: the kernel picks ephemeral UDP ports at random, and a
closed socket's port may come again, which would be the same flow to lb (a few percent of runs
of 30, before this).
"""
import socket
import sys


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) == 5 else 3.0
    if not 1 <= count <= 1000 or not 0 < timeout <= 30:
        sys.exit("udp_ask.py: COUNT must be 1..1000 and TIMEOUT_SECONDS 0..30")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    answered = 0
    held = []
    for i in range(count):
        s = socket.socket(family, socket.SOCK_DGRAM)
        held.append(s)
        s.settimeout(timeout)
        s.sendto(b"hello %d" % i, (host, port))
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            print(i, "timeout", flush=True)
            continue
        print(i, peer[0], peer[1], data.decode("ascii", "replace"), flush=True)
        answered += 1
    for s in held:
        s.close()
    sys.exit(0 if answered == count else 1)


if __name__ == "__main__":
    main()
