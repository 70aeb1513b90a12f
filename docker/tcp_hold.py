#!/usr/bin/python3
"""Holds TCP connections open, for tests of least-connection scheduling and draining.

usage: tcp_hold.py HOST PORT COUNT SECONDS
Opens COUNT connections to HOST:PORT and prints "open <local port>" for each, then reads
commands from standard input: "close <local port>" closes one, "quit" closes all. It exits by
itself after SECONDS whatever happens, so no test can leave it running.
"""
import os
import socket
import sys
import threading

host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
# The deadline holds whatever the test does: a watchdog ends the process.
threading.Timer(seconds, lambda: os._exit(0)).start()
conns = {}
for _ in range(count):
    s = socket.create_connection((host, port), timeout=5)
    conns[s.getsockname()[1]] = s
    print("open", s.getsockname()[1], flush=True)
for line in iter(sys.stdin.readline, ""):
    words = line.split()
    if words == ["quit"]:
        break
    if len(words) == 2 and words[0] == "close" and int(words[1]) in conns:
        conns.pop(int(words[1])).close()
        print("closed", words[1], flush=True)
for s in conns.values():
    s.close()
os._exit(0)
