#!/usr/bin/python3
"""IP-in-IP decapsulation in user space for a testbed server (docker/testbed.sh, mode ipip).

Why: this kernel has no ipip module and no ip6_tunnel module (`ip link add type ipip` and
`ip link add type ip6tnl` say "Unknown device type", there is no modprobe and no /lib/modules),
so a backend cannot terminate lb's IP-in-IP tunnels in the kernel. This process does it instead,
inside the server's network namespace, for both families:

  * a raw socket socket(AF_INET, SOCK_RAW, IPPROTO_IPIP) receives every IPv4 packet of protocol 4
    addressed to this host (outer header included; the kernel has already reassembled outer
    fragments). While it is open the kernel does not answer protocol-4 packets with ICMP
    protocol-unreachable (ip_local_deliver_finish sends that only when no raw socket took the
    packet); without this process running, it does.
  * a second raw socket socket(AF_INET6, SOCK_RAW, 41) receives every IPv6 packet of next header
    41 (IPv6 in IPv6, RFC 2473) addressed to this host. Unlike the IPv4 one it returns the
    payload only: for IPv6 raw sockets the kernel strips the IPv6 header (and any extension
    headers), so what it returns starts with the inner IPv6 header (checked on this machine: a
    48-byte inner packet came back as 48 bytes starting 0x6..., the outer source in recvfrom's
    address). An IPv6 socket opens where IPv6 is off too; it then receives nothing.
  * it checks the outer (IPv4) and inner headers and writes the inner packet to a TUN device
    (default ipip0, IFF_TUN | IFF_NO_PI; without packet information the kernel tells IPv4 from
    IPv6 by the version nibble, so one device takes both). The kernel then receives it on ipip0
    as if it had arrived on an interface and delivers it to the local VIP socket; the reply is
    routed normally (in the testbed: out of eth0 via the router, straight to the client).

The TUN device is created (persistent), brought up and given rp_filter 0 by testbed.sh `up`; this
process only attaches to it. Counters (received, decapsulated, dropped by reason, write errors)
are printed to stderr on SIGTERM/SIGINT/SIGUSR1 and written to --stats FILE at most once a second
and at exit, as "name value" lines; the IPv6-in-IPv6 ones end in 6 (received6, decapsulated6, ...).

Limits:
  * One Python thread, one syscall per packet each way (recv, write): its sustained rate is far
    below lb's (not measured; expect tens of kpps, not hundreds). SO_RCVBUF is forced
    (SO_RCVBUFFORCE, root) to --rcvbuf (default 32 MiB) so bursts queue instead of dropping: a
    burst of 50,000 packets (128-byte inner packets, sent at about 156 kpps) was decapsulated
    without a loss. What still overflows the socket buffer is dropped by the kernel and shows
    in the "drops" column of /proc/net/raw (raw6 for IPv6) in the server's namespace, not in these
    counters.
  * IPv4 in IPv4 (protocol 4) and IPv6 in IPv6 (next header 41) only: no 6in4, no 4in6, no GRE,
    no FOU/GUE.
  * No tunnel endpoint check: any source may send to it (the outer source is counted, not
    filtered); it is a test tool on an isolated testbed, not a security boundary.
  * The inner packet's TTL or hop limit is left as it is (RFC 2003 and RFC 2473 decapsulators do
    not decrement it), and the outer header's ECN is not merged into the inner one.
  * The inner packet is written as received, checksums unverified: the kernel checks them when
    it delivers the packet (a bad one is dropped and counted by the kernel, e.g. InCsumErrors).
"""
import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41
IPV6_HEADER_LENGTH = 40
BATCH = 64

COUNTERS = ("received", "decapsulated", "drop_short", "drop_bad_outer", "drop_not_ipip",
            "drop_bad_inner", "write_errors",
            "received6", "decapsulated6", "drop_short6", "drop_bad_inner6", "write_errors6")


class Stop(Exception):
    pass


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH22x", name.encode("ascii"), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    return fd


def inner_packet(packet, counts):
    """The inner IPv4 packet of an outer IPv4 packet as the raw socket returns it, or None."""
    if len(packet) < 40:
        counts["drop_short"] += 1
        return None
    version_ihl = packet[0]
    outer_ihl = (version_ihl & 0x0F) * 4
    outer_total = struct.unpack_from("!H", packet, 2)[0]
    if version_ihl >> 4 != 4 or outer_ihl < 20 or outer_total > len(packet) or outer_total < outer_ihl + 20:
        counts["drop_bad_outer"] += 1
        return None
    if packet[9] != IPPROTO_IPIP:
        counts["drop_not_ipip"] += 1
        return None
    inner = packet[outer_ihl:outer_total]
    inner_ihl = (inner[0] & 0x0F) * 4
    inner_total = struct.unpack_from("!H", inner, 2)[0]
    if inner[0] >> 4 != 4 or inner_ihl < 20 or inner_total < inner_ihl or inner_total > len(inner):
        counts["drop_bad_inner"] += 1
        return None
    return inner[:inner_total]


def inner_packet6(payload, counts):
    """The inner IPv6 packet of an IPv6-in-IPv6 payload as the raw IPv6 socket returns it, or None."""
    if len(payload) < IPV6_HEADER_LENGTH:
        counts["drop_short6"] += 1
        return None
    payload_length = struct.unpack_from("!H", payload, 4)[0]
    if payload[0] >> 4 != 6 or IPV6_HEADER_LENGTH + payload_length > len(payload):
        counts["drop_bad_inner6"] += 1
        return None
    return payload[:IPV6_HEADER_LENGTH + payload_length]


def write_stats(path, counts):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for name in COUNTERS:
            f.write("%s %d\n" % (name, counts[name]))
    os.rename(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tun", default="ipip0", help="the TUN device to write inner packets to")
    parser.add_argument("--pidfile", required=True, help="written once the sockets are ready")
    parser.add_argument("--stats", help="counters file, rewritten at most once a second")
    parser.add_argument("--rcvbuf", type=int, default=32 << 20, help="raw socket receive buffer, bytes")
    args = parser.parse_args()

    counts = dict.fromkeys(COUNTERS, 0)

    def report(*_):
        print("ipip_decap: " + " ".join("%s=%d" % (n, counts[n]) for n in COUNTERS), file=sys.stderr, flush=True)

    def stop(*_):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR1, report)

    tun = open_tun(args.tun)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPIP)
    raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_IPV6)
    for sock in (raw, raw6):
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, args.rcvbuf)
        sock.setblocking(False)
    # Per family: the counter suffix and how to find the inner packet in what the socket returns.
    families = {raw.fileno(): (raw, "", inner_packet), raw6.fileno(): (raw6, "6", inner_packet6)}

    tmp = args.pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, args.pidfile)
    print("ipip_decap: pid %d, raw sockets (protocols 4 and 41) rcvbuf %d, writing to %s" % (
        os.getpid(), raw.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), args.tun), file=sys.stderr, flush=True)

    written_at = 0.0
    dirty = True
    try:
        while True:
            # Wake up at least once a second to refresh the stats file.
            readable, _, _ = select.select(list(families), [], [], 1.0)
            for fd in readable:
                sock, suffix, unwrap = families[fd]
                # Drain a bounded batch per wake-up: one select per batch, not per packet, and
                # neither family can starve the other.
                for _ in range(BATCH):
                    try:
                        packet = sock.recv(65535)
                    except BlockingIOError:
                        break
                    counts["received" + suffix] += 1
                    dirty = True
                    inner = unwrap(packet, counts)
                    if inner is not None:
                        try:
                            os.write(tun, inner)
                            counts["decapsulated" + suffix] += 1
                        except OSError:
                            counts["write_errors" + suffix] += 1
            now = time.monotonic()
            if dirty and now - written_at >= 1.0:
                write_stats(args.stats, counts)
                written_at = now
                dirty = False
    except Stop:
        pass
    finally:
        write_stats(args.stats, counts)
        report()


if __name__ == "__main__":
    main()
