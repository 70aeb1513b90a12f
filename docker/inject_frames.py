#!/usr/bin/python3
"""Sends malformed Ethernet frames to lb from a client namespace, COUNT of each kind.

usage: inject_frames.py IFACE DST_MAC COUNT
Kinds, one line each on stdout as "<kind> <sent>": truncated_ipv4 (IPv4 ethertype, 10 bytes of
header), bad_ihl (IHL 3), bad_total_length (total length beyond the frame), ipv4_fragment (more
fragments set), unknown_ethertype (0x88b5), bad_ip_checksum, vlan_tagged (a well-formed TCP SYN
to the VIP inside an 802.1Q tag of VLAN 7). Every IPv4 frame is addressed to
the VIP 198.18.0.100 from 198.18.0.11; nothing leaves the testbed.
"""
import socket
import struct
import sys
import time

from frames import checksum

iface, dst_mac, count = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), int(sys.argv[3])
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
src_mac = sock.getsockname()[4]
src, dst = socket.inet_aton("198.18.0.11"), socket.inet_aton("198.18.0.100")


def ipv4(total_length=40, ihl=5, flags_frag=0x4000, good_checksum=True, payload_len=20):
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total_length, 0, flags_frag, 64, 6, 0, src, dst)
    c = checksum(header) if good_checksum else (checksum(header) ^ 0x5A5A)
    header = header[:10] + struct.pack("!H", c) + header[12:]
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 65535, 0, 0)[:payload_len]
    return header + tcp


eth = dst_mac + src_mac
kinds = {
    "truncated_ipv4": eth + b"\x08\x00" + ipv4()[:10],
    "bad_ihl": eth + b"\x08\x00" + ipv4(ihl=3),
    "bad_total_length": eth + b"\x08\x00" + ipv4(total_length=1400),
    "ipv4_fragment": eth + b"\x08\x00" + ipv4(flags_frag=0x2000),
    "unknown_ethertype": eth + b"\x88\xb5" + b"\x00" * 46,
    "bad_ip_checksum": eth + b"\x08\x00" + ipv4(good_checksum=False),
    "vlan_tagged": eth + b"\x81\x00\x00\x07\x08\x00" + ipv4(),
}
for kind, frame in kinds.items():
    sent = 0
    for i in range(count):
        sent += 1 if sock.send(frame) == len(frame) else 0
        if i % 10 == 9:
            time.sleep(0.001)  # a steady stream, not a burst: this checks classification, not ring depth
    print(kind, sent, flush=True)
