#!/usr/bin/python3
"""Sends COUNT fuzzed Ethernet frames to lb from a testbed namespace, as fast as lb's rings allow.

usage: fuzz_frames.py IFACE DST_MAC client|server COUNT SEED [BURST] [--ipv6]

A pool of frames is built first (seeded, so a run can be repeated), then sent round and round:
frames of real flows (TCP to the VIP with every flag mix, replies from a backend), UDP, ARP
requests and replies, ICMP echo and other ICMP, 802.1Q and QinQ tags, frames for lb's own
addresses and for other hosts, then each of them mutated (bits flipped), cut short, or replaced by
random bytes. Every IPv4 address in a frame stays inside 198.18.0.0/15 (a flip that leaves it is
undone), so nothing can be routed out of the testbed. Prints "sent N" and "kind K N" lines.
BURST frames go out back to back, then the sender yields for a moment (default 32).

With --ipv6 a third of the well-formed frames are IPv6 (the dual-stack testbed's addresses): TCP to
the VIP6 with every flag mix and the backends' replies, UDP, one to three extension headers before TCP
(a hop-by-hop header now and then out of its place, a routing header now and then with segments left), fragments,
ICMPv6 echo, neighbour solicitations (unicast) and advertisements, answers to TCP checks from
gateway-ip6's check ports, low hop limits. Every IPv6 address stays inside 2001:2::/48 the same way.
"""
import random
import socket
import struct
import sys
import time

from frames import checksum

with_ipv6 = "--ipv6" in sys.argv
args = [a for a in sys.argv if a != "--ipv6"]
iface, dst_mac_text, side, count, seed = args[1], args[2], args[3], int(args[4]), int(args[5])
burst = int(args[6]) if len(args) > 6 else 32
dst_mac = bytes.fromhex(dst_mac_text.replace(":", ""))
rng = random.Random(seed)
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
src_mac = sock.getsockname()[4]

TESTBED = (0xC612 << 16, 0xFFFE << 16)  # 198.18.0.0/15
VIP, LB_IP, GATEWAY, OTHER = "198.18.0.100", "198.18.0.1", "198.18.1.1", "198.18.0.99"
CLIENT, BACKEND, REMOTE = "198.18.0.11", "198.18.1.11", "198.18.2.11"
POOL = 20_000
TESTBED6 = bytes.fromhex("200100020000")  # 2001:2::/48
VIP6, LB_IP6, GATEWAY6, OTHER6 = "2001:2::100", "2001:2::1", "2001:2:0:1::1", "2001:2::99"
CLIENT6, BACKEND6 = "2001:2::11", "2001:2:0:1::11"
HOP_BY_HOP, ROUTING, FRAGMENT, DESTINATION_OPTIONS = 0, 43, 44, 60
CHECK_PORTS = (61000, 62023)  # TcpCheckFrames' source ports


def ipv4(src, dst, proto, payload, ttl=64):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), rng.randrange(65536), 0x4000, ttl, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def l4(src, dst, proto, header, payload):
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, len(header) + len(payload))
    c = checksum(pseudo + header + payload)
    at = 16 if proto == 6 else 6
    return header[:at] + struct.pack("!H", c if c or proto == 6 else 0xFFFF) + header[at + 2:] + payload


def tcp(src, dst, sport, dport, flags, payload=b""):
    header = struct.pack("!HHIIBBHHH", sport, dport, rng.randrange(1 << 32), rng.randrange(1 << 32), 0x50, flags, 65535, 0, 0)
    return ipv4(src, dst, 6, l4(src, dst, 6, header, payload))


def udp(src, dst, sport, dport, payload):
    return ipv4(src, dst, 17, l4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0), payload))


def icmp(src, dst, kind, payload):
    message = struct.pack("!BBHHH", kind, 0, 0, rng.randrange(65536), 1) + payload
    return ipv4(src, dst, 1, message[:2] + struct.pack("!H", checksum(message)) + message[4:])


def arp(op, sender_ip, target_ip, target_mac=b"\0" * 6):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, src_mac, socket.inet_aton(sender_ip), target_mac,
                       socket.inet_aton(target_ip))


def eth(payload, ethertype=0x0800, dst=None):
    return (dst or dst_mac) + src_mac + struct.pack("!H", ethertype) + payload


def a6(text):
    return socket.inet_pton(socket.AF_INET6, text)


def ipv6(src, dst, next_header, payload, hop_limit=64):
    return struct.pack("!IHBB", 6 << 28, len(payload), next_header, hop_limit) + a6(src) + a6(dst) + payload


def l4v6(src, dst, proto, header, payload):
    """The upper layer with its checksum over the RFC 8200 pseudo-header."""
    pseudo = a6(src) + a6(dst) + struct.pack("!IxxxB", len(header) + len(payload), proto)
    c = checksum(pseudo + header + payload)
    at = {6: 16, 17: 6, 58: 2}[proto]
    return header[:at] + struct.pack("!H", c if c or proto != 17 else 0xFFFF) + header[at + 2:] + payload


def extensions(kinds, upper_proto, upper):
    """Extension headers of the given kinds (8 bytes each) before an upper layer: (first next header, bytes)."""
    chain, next_header = upper, upper_proto
    for kind in reversed(kinds):
        if kind == FRAGMENT:
            offset = 0 if rng.random() < 0.5 else rng.randrange(1, 0x2000)
            body = struct.pack("!HI", offset << 3 | (1 if offset == 0 else rng.randrange(2)), rng.randrange(1 << 32))
        elif kind == ROUTING:
            body = struct.pack("!BB4x", 4, rng.choice((0, 0, 0, 1)))  # segments left 1 is refused by lb
        else:
            body = b"\x01\x04\0\0\0\0"  # PadN
        chain, next_header = bytes((next_header, 0)) + body + chain, kind
    return next_header, chain


def tcp6(src, dst, sport, dport, flags, payload=b"", kinds=(), hop_limit=64):
    header = struct.pack("!HHIIBBHHH", sport, dport, rng.randrange(1 << 32), rng.randrange(1 << 32), 0x50, flags, 65535, 0, 0)
    first, chain = extensions(kinds, 6, l4v6(src, dst, 6, header, payload))
    return ipv6(src, dst, first, chain, hop_limit)


def udp6(src, dst, sport, dport, payload, kinds=()):
    first, chain = extensions(kinds, 17, l4v6(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0), payload))
    return ipv6(src, dst, first, chain)


def icmp6(src, dst, kind, body, hop_limit=64):
    return ipv6(src, dst, 58, l4v6(src, dst, 58, struct.pack("!BBH", kind, 0, 0), body), hop_limit)


def solicitation(src, target):
    """A unicast neighbour solicitation (RFC 4861 7.2.2's reachability check) with a source link-layer option."""
    return icmp6(src, target, 135, b"\0" * 4 + a6(target) + bytes((1, 1)) + src_mac, 255)


def advertisement(src, dst):
    return icmp6(src, dst, 136, struct.pack("!I", 0x60000000) + a6(src) + bytes((2, 1)) + src_mac, 255)


def payload():
    return bytes(rng.randrange(256) for _ in range(rng.choice((0, 0, 1, 20, 100, 536, 1400))))


FLAGS = (0x02, 0x10, 0x18, 0x11, 0x04, 0x14, 0x12, 0x01, 0x00, 0x3F)


def client_frame6():
    """A well-formed IPv6 frame a client-side host could send."""
    kind = rng.randrange(9)
    port = 20_000 + rng.randrange(4_000)
    if kind < 3:
        return "tcp_vip6", eth(tcp6(CLIENT6, VIP6, port, 80, rng.choice(FLAGS), payload() if kind > 0 else b""), 0x86DD)
    if kind == 3:
        return "udp6", eth(udp6(CLIENT6, rng.choice((VIP6, LB_IP6, OTHER6)), port, rng.choice((53, 80)), payload()), 0x86DD)
    if kind == 4:
        kinds = [rng.choice((HOP_BY_HOP, DESTINATION_OPTIONS, ROUTING)) for _ in range(rng.randrange(1, 4))]
        return "extensions6", eth(tcp6(CLIENT6, VIP6, port, 80, rng.choice(FLAGS), kinds=kinds), 0x86DD)
    if kind == 5:
        return "fragment6", eth(udp6(CLIENT6, VIP6, port, 53, payload(), kinds=[FRAGMENT]), 0x86DD)
    if kind == 6:
        body = struct.pack("!HH", rng.randrange(65536), 1) + payload()[:200]
        return "icmp6", eth(icmp6(CLIENT6, rng.choice((VIP6, LB_IP6, OTHER6)), rng.choice((128, 128, 129, 1)), body), 0x86DD)
    if kind == 7:
        return "ns6", eth(solicitation(CLIENT6, rng.choice((VIP6, LB_IP6, OTHER6))), 0x86DD)
    return "hop_limit_low6", eth(tcp6(CLIENT6, VIP6, port, 80, 0x02, hop_limit=rng.randrange(2)), 0x86DD)


def server_frame6():
    """A well-formed IPv6 frame a server-side host could send."""
    kind = rng.randrange(6)
    port = 20_000 + rng.randrange(4_000)
    if kind < 2:
        return "tcp_reply6", eth(tcp6(BACKEND6, CLIENT6, 80, port, rng.choice(FLAGS), payload() if kind else b""), 0x86DD)
    if kind == 2:
        return "udp_reply6", eth(udp6(BACKEND6, CLIENT6, 5353, port, payload()), 0x86DD)
    if kind == 3:
        return "na6", eth(advertisement(BACKEND6, GATEWAY6), 0x86DD)
    if kind == 4:
        check_port = rng.randrange(CHECK_PORTS[0] - 2, CHECK_PORTS[1] + 3)
        return "check_reply6", eth(tcp6(BACKEND6, GATEWAY6, 80, check_port, rng.choice((0x12, 0x14, 0x04))), 0x86DD)
    body = struct.pack("!HH", rng.randrange(65536), 1) + payload()[:200]
    return "icmp6", eth(icmp6(BACKEND6, rng.choice((GATEWAY6, CLIENT6)), rng.choice((128, 129)), body), 0x86DD)


def client_frame():
    """A well-formed frame a client-side host could send."""
    if with_ipv6 and rng.randrange(3) == 0:
        return client_frame6()
    kind = rng.randrange(14)
    port = 20_000 + rng.randrange(4_000)
    if kind < 5:
        return "tcp_vip", eth(tcp(CLIENT, VIP, port, 80, rng.choice(FLAGS), payload() if kind > 2 else b""))
    if kind == 5:
        return "tcp_no_service", eth(tcp(CLIENT, rng.choice((VIP, LB_IP)), port, rng.choice((22, 81, 443)), 0x02))
    if kind == 6:
        return "tcp_other_host", eth(tcp(rng.choice((CLIENT, REMOTE)), OTHER, port, 80, 0x02))
    if kind == 7:
        return "udp", eth(udp(CLIENT, rng.choice((VIP, LB_IP, OTHER)), port, rng.choice((53, 80, 5353)), payload()))
    if kind == 8:
        return "arp", eth(arp(1, CLIENT, rng.choice((VIP, LB_IP, OTHER, GATEWAY))), 0x0806,
                          rng.choice((b"\xff" * 6, dst_mac)))
    if kind == 9:
        return "arp_reply", eth(arp(2, CLIENT, LB_IP, dst_mac), 0x0806)
    if kind == 10:
        return "icmp", eth(icmp(CLIENT, rng.choice((VIP, LB_IP, OTHER)), rng.choice((8, 8, 0, 3, 13)), payload()[:200]))
    if kind == 11:
        tag = struct.pack("!HH", rng.randrange(1, 4095), 0x0800)
        return "vlan", eth(tag + tcp(CLIENT, VIP, port, 80, 0x02), 0x8100)
    if kind == 12:
        tags = struct.pack("!HHHH", 7, 0x8100, 8, 0x0800)
        return "qinq", eth(tags + udp(CLIENT, VIP, port, 53, b"q"), 0x88A8)
    return "ttl_low", eth(tcp(CLIENT, VIP, port, 80, 0x02) if rng.random() < 0.5 else
                          ipv4(CLIENT, VIP, 6, tcp(CLIENT, VIP, port, 80, 0x02)[20:], ttl=rng.randrange(2)))


def server_frame():
    """A well-formed frame a server-side host could send."""
    if with_ipv6 and rng.randrange(3) == 0:
        return server_frame6()
    kind = rng.randrange(8)
    port = 20_000 + rng.randrange(4_000)
    if kind < 4:
        return "tcp_reply", eth(tcp(BACKEND, CLIENT, 80, port, rng.choice(FLAGS), payload() if kind > 1 else b""))
    if kind == 4:
        return "arp", eth(arp(1, BACKEND, rng.choice((GATEWAY, LB_IP, OTHER))), 0x0806,
                          rng.choice((b"\xff" * 6, dst_mac)))
    if kind == 5:
        return "arp_reply", eth(arp(2, BACKEND, GATEWAY, dst_mac), 0x0806)
    if kind == 6:
        return "icmp", eth(icmp(BACKEND, rng.choice((GATEWAY, CLIENT)), rng.choice((8, 0, 3)), payload()[:200]))
    return "udp_reply", eth(udp(BACKEND, CLIENT, 5353, port, payload()))


def keep_in_testbed(frame, original):
    """Undoes a change that moved an IPv4 address out of 198.18.0.0/15, or an IPv6 one out of 2001:2::/48 (untagged
    only: lb forwards nothing else)."""
    if len(frame) >= 54 and frame[12:14] == b"\x86\xdd":
        for at in (22, 38):
            if frame[at:at + 6] != TESTBED6:
                fix = original[at:at + 16] if len(original) >= at + 16 and original[12:14] == b"\x86\xdd" else a6(OTHER6)
                frame = frame[:at] + fix + frame[at + 16:]
        return frame
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    for at in (26, 30):
        address = struct.unpack("!I", frame[at:at + 4])[0]
        if address & TESTBED[1] != TESTBED[0]:
            fix = original[at:at + 4] if len(original) >= at + 4 and original[12:14] == b"\x08\x00" else socket.inet_aton(OTHER)
            frame = frame[:at] + fix + frame[at + 4:]
    return frame


def fuzzed():
    kind, frame = client_frame() if side == "client" else server_frame()
    choice = rng.randrange(10)
    if choice < 4:
        return kind, frame
    if choice < 7:
        mutated = bytearray(frame)
        for _ in range(rng.randrange(1, 5)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        return "mutated", keep_in_testbed(bytes(mutated), frame)
    if choice < 9:
        return "truncated", frame[:rng.randrange(14, len(frame) + 1)]
    raw = dst_mac + src_mac + bytes(rng.randrange(256) for _ in range(rng.randrange(2, 1500)))
    return "random", keep_in_testbed(raw, b"")


pool = [fuzzed() for _ in range(POOL)]
frames = [f for _, f in pool]
kinds = {}
sent = 0
started = time.monotonic()
for i in range(count):
    frame = frames[i % POOL]
    try:
        if sock.send(frame) == len(frame):
            sent += 1
            kind = pool[i % POOL][0]
            kinds[kind] = kinds.get(kind, 0) + 1
    except OSError:
        pass  # the device queue was full for a moment: not sent, not counted
    if i % burst == burst - 1:
        time.sleep(0)
print("sent", sent, flush=True)
print("seconds %.1f" % (time.monotonic() - started))
for kind in sorted(kinds):
    print("kind", kind, kinds[kind])
