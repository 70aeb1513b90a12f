#!/usr/bin/python3
"""Holds TCP connections open, for tests of least-connection scheduling and draining.

usage: tcp_hold.py HOST PORT COUNT SECONDS
Opens COUNT connections to HOST:PORT and prints "open <local port>" for each, then reads
commands from standard input: "close <local port>" closes one; "get <local port>" sends an HTTP
request for /whoami on it and prints "got <local port> <status> <body>" (or "failed <local port>
<reason>"; the server closes the connection after it); "poke <local port>" sends one space (an
HTTP server takes leading white space as the start of a request and waits) and prints "poked
<local port>", so a test sees which path a connection takes without ending it; "quit" closes all. It exits by
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
    if len(words) == 2 and words[0] == "get" and int(words[1]) in conns:
        s = conns[int(words[1])]
        try:
            s.settimeout(3)
            s.sendall(("GET /whoami HTTP/1.0\r\nHost: %s\r\n\r\n" % host).encode())
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            print("got", words[1], head.split(b" ")[1].decode(), body.decode().strip(), flush=True)
        except Exception as e:
            print("failed", words[1], type(e).__name__, flush=True)
        continue
    if len(words) == 2 and words[0] == "poke" and int(words[1]) in conns:
        try:
            conns[int(words[1])].sendall(b" ")
            print("poked", words[1], flush=True)
        except Exception as e:
            print("failed", words[1], type(e).__name__, flush=True)
        continue
    if len(words) == 2 and words[0] == "close" and int(words[1]) in conns:
        conns.pop(int(words[1])).close()
        print("closed", words[1], flush=True)
for s in conns.values():
    s.close()
os._exit(0)
