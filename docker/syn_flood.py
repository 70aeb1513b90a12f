#!/usr/bin/python3
"""Floods a VIP with TCP SYNs from random sources, at a fixed rate for a fixed time.

usage: syn_flood.py IFACE DST_MAC VIP PORT RATE SECONDS [SEED]

Sources are random addresses of 198.18.4.0-198.18.255.255 (198.18.0.0/16 without the
testbed's own LANs 198.18.0.0/22) with random ports, so every SYN is a new flow to lb and no
reply (the backends' SYN-ACKs come back through lb to this namespace's MAC) reaches a real
host: this namespace's kernel drops packets for addresses it does not hold. Frames are built
once (65,536 distinct ones, cycled with a fresh source port per lap) and sent paced in 1 ms
ticks, so the flood is a steady RATE per second, not a burst; it stops after SECONDS or RATE *
SECONDS frames, whichever comes first. Prints "flooding" once the frames are built and the
flood starts, and at the end "sent <frames> seconds <elapsed> rate <per s> refused <frames>".

A frame the kernel refuses (ENOBUFS: veth drops when the receiving side's backlog is full, which
a loaded 2-core machine reaches at this rate; EAGAIN) is counted as refused, not sent, and the
flood goes on: an exception here used to end the flood early.
"""
import errno
import random
import socket
import struct
import sys
import time

iface, dst_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
vip, port = socket.inet_aton(sys.argv[3]), int(sys.argv[4])
rate, seconds = int(sys.argv[5]), float(sys.argv[6])
rng = random.Random(int(sys.argv[7]) if len(sys.argv) > 7 else 1)
DISTINCT = 65536
TICK = 0.001


def fold(total):
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def checksum(data):
    return ~fold(sum(struct.unpack("!%dH" % (len(data) // 2), data))) & 0xFFFF


sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
eth = dst_mac + sock.getsockname()[4] + b"\x08\x00"

# Per frame, everything but the source port is fixed; the TCP checksum is the sum without the
# port, so a lap's new port is one addition.
frames = []
for _ in range(DISTINCT):
    src = struct.pack("!BBH", 198, 18, rng.randrange(4 * 256, 65536))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, rng.randrange(65536), 0x4000, 64, 6, 0, src, vip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    tcp = struct.pack("!HHIIBBHHH", 0, port, rng.randrange(1 << 32), 0, 0x50, 0x02, 64240, 0, 0)
    pseudo = src + vip + struct.pack("!BBH", 0, 6, 20)
    partial = sum(struct.unpack("!%dH" % ((len(pseudo) + len(tcp)) // 2), pseudo + tcp))
    frames.append((eth + ip, tcp[2:16], tcp[18:], partial))

total = int(rate * seconds)
per_tick = max(1, rate * TICK)
sent = 0
refused = 0
budget = 0.0
lap_port = 1024 + rng.randrange(60000)
print("flooding", flush=True)
start = time.monotonic()
deadline = start + seconds
next_tick = start
index = 0
while sent < total:
    now = time.monotonic()
    if now >= deadline:
        break
    if now < next_tick:
        time.sleep(next_tick - now)
        continue
    next_tick += TICK
    budget += per_tick
    while budget >= 1 and sent < total:
        head, middle, tail, partial = frames[index]
        sport = (lap_port + index) & 0xFFFF or 1
        csum = ~fold(partial + sport) & 0xFFFF
        frame = head + struct.pack("!H", sport) + middle + struct.pack("!H", csum) + tail
        try:
            if sock.send(frame) == len(frame):
                sent += 1
        except OSError as e:
            if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                raise
            refused += 1
        budget -= 1
        index += 1
        if index == DISTINCT:
            index = 0
            lap_port = (lap_port + 7919) & 0xFFFF
elapsed = time.monotonic() - start
print("sent %d seconds %.2f rate %.0f refused %d" % (sent, elapsed, sent / elapsed if elapsed > 0 else 0, refused),
      flush=True)
