#!/usr/bin/python3
"""The testbed benchmark: lb against the kernel's own forwarding and NAT on the netns testbed.

Started by run.sh (read its header first). For each repetition and each peer it brings up a
fresh testbed (docker/testbed.sh up), so no peer inherits conntrack entries, TIME_WAIT sockets,
neighbour entries or netfilter hooks from another, and measures:

  http-ka / http-close  wrk against nginx (keep-alive on; off via "Connection: close")
  bulk                  iperf3, 4 parallel TCP streams, client -> server through the box
  udp sweep             tcpreplay, 64-byte UDP frames over 256 flows, paced at fractions of the
                        reference rate (what kernel forwarding delivers with the generator at top
                        speed), then at top speed; offered = the client's tx counter, delivered =
                        nft counters in the servers, loss = 1 - delivered / offered. (trafgen's
                        -b shaper sends ~0.6 s bursts at about twice the asked rate, then pauses;
                        its -t gap pacing tops out near 60 kpps here: tcpreplay paces evenly.)
  latency               sockperf UDP ping-pong RTT through the box and directly (client LAN),
                        with the box idle and with the sweep's half-load rate in the background;
                        p50/p99/p99.9 from an HdrHistogram (3 digits) of every round trip in
                        sockperf's per-message log (lb.benchmarks.harness.RttPercentiles)
  box CPU               CPU time of the box's CPU (100 x (1 - delta idle / delta wall), steal
                        excluded) per request, per Gbit, per packet; for lb also the process's
                        utime + stime

IPv6 (--ipv6, or the peers ip6tables and lb6 named with --peers): the dual-stack testbed
(testbed.sh up --ipv6), clients to the VIP6 2001:2::100, backends on 2001:2:0:1::/64; ip6tables
DNAT (legacy, nth statistic) against lb with IPv6 services. These peers run the HTTP and bulk
tests only (wrk req/s, iperf3, box CPU per request and per Gbit): the UDP sweep, the latency test
and the flow-count scaling build IPv4 frames. Their report goes to the log directory only (a
partial run must not replace the IPv4 table in RESULTS.md).

CPU placement (2 CPUs): CPU 0 is the box, CPU 1 everything else (generators, servers, the
harness itself and its helpers). lb, all of its JVM's threads, runs under taskset -c 0.
On veth the receive softirq runs on the CPU that sends, so RPS moves it: rps_cpus of cli0 and
srv0 (the box's interfaces) is CPU 0, so the box's receive path, forwarding or lb's packet
sockets, runs there; rps_cpus of the switch ports facing the box (lbc, lbs) is CPU 1, so what
the box sends is switched and received by the servers and clients on CPU 1.

Every process it starts and every testbed prefix is recorded in a state file under
/run/lb-harness before it exists; cleanup() (also run by run.sh's EXIT trap through
--cleanup) stops exactly those PIDs (checked by start time) and deletes exactly those testbeds
(the state file, processes and commands: harness_common.py, shared with paths.py).
"""

import argparse
import datetime
import json
import os
import re
import secrets
import signal
import statistics
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository from root's runs
from harness_common import (HarnessError, Proc as _Proc, Registry, cleanup_file, in_ns, iperf3_result, lb_control,
                            make_log, run)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTBED = os.path.join(REPO, "docker", "testbed.sh")
LB = os.path.join(REPO, "bin", "lb")
BENCH_JAR = os.path.join(REPO, "benchmarks", "target", "benchmarks.jar")
STATE_DIR = "/run/lb-harness"
HZ = os.sysconf("SC_CLK_TCK")

BOX_CPU = 0
GEN_CPU = 1

VIP = "198.18.0.100"
BOX_CLIENT_IP = "198.18.0.1"
GATEWAY_IP = "198.18.1.1"
SERVERS = ["198.18.1.11", "198.18.1.12", "198.18.1.13"]
CLIENT1_IP = "198.18.0.11"
CLIENT2_IP = "198.18.0.12"
DIRECT_IP = "198.18.0.2"  # the router rt, on the client LAN: the latency reference without the box
HTTP_PORT, BULK_PORT, SINK_PORT, PINGPONG_PORT = 80, 5201, 9, 11111
HTTP_FILE = "index.html"
HTTP_FILE_BYTES = 100
WRK_CONNECTIONS = 16
IPERF_STREAMS = 4
UDP_FLOWS = 256  # source ports 1024..1279
# The latency probe (sockperf client and servers) shares CPU 1 with the generator: at a
# real-time priority it runs as soon as its packet arrives instead of waiting for the busy-
# waiting generator's time slice, so what it measures is the path, not the scheduler.
RT_PRIO = ["chrt", "-f", "10"]

PEERS = [
    ("kernel", "kernel forwarding"),
    ("iptables", "iptables DNAT"),
    ("nftables", "nftables DNAT"),
    ("lb", "lb (backoff)"),
    ("lbspin", "lb (spin)"),
    ("lb2w", "lb (2 workers)"),
    ("lbdsr", "lb dsr"),
    ("lbipip", "lb ipip"),
]
# lb's forwarding mode per peer key (nat unless named here). In dsr and ipip the testbed's
# servers hold the VIP and reply through the router rt, not through the box.
PEER_MODES = {"lbdsr": "dsr", "lbipip": "ipip"}
DECAP = os.path.join(REPO, "docker", "ipip_decap.py")
SERVER_NETWORK = "198.18.1.0/24"

# IPv6 (the dual-stack testbed): the same roles, addresses from 2001:2::/48.
VIP6 = "2001:2::100"
BOX_CLIENT_IP6 = "2001:2::1"
GATEWAY_IP6 = "2001:2:0:1::1"
SERVERS6 = ["2001:2:0:1::11", "2001:2:0:1::12", "2001:2:0:1::13"]
IPV6_PEERS = ("ip6tables", "lb6")


def is_ipv6(key):
    return key in IPV6_PEERS


def url_host(address):
    """An address as the host part of a URL: IPv6 in brackets."""
    return f"[{address}]" if ":" in address else address


def peer_mode(key):
    return PEER_MODES.get(key, "nat")
# Run only when named with --peers: measured once for a decision (see RESULTS.md), not every run.
EXTRA_PEERS = [
    ("lbv3", "lb (backoff, rx v3)"),
    ("lbsleep", "lb (backoff, idle spin 0)"),
    ("ip6tables", "ip6tables DNAT (IPv6)"),
    ("lb6", "lb (backoff, IPv6)"),
]
# lb with two workers runs on both CPUs (its second worker shares CPU 1 with the generators and
# servers): CPU 0's busy time does not measure it, so its box-CPU cells are left empty.
BOTH_CPUS = ("lb2w",)
# Flow-count scaling (lb (backoff) only): per-packet cost with few and with a million active flows.
SCALING_FLOWS_SMALL = 1_000
SCALING_SRC_IPS = [f"198.18.0.{32 + i}" for i in range(16)]  # c1's extra sources: 16 x 62,500 ports
SCALING_PORTS = 62_500

# The peers that run lb (their counters and the lb targets are reported); the IPv6 ones have no
# sweep or latency figures, so the targets leave them out.
def lb_keys():
    return tuple(k for k, _ in PEERS if k.startswith("lb") and not is_ipv6(k))


def lb_process_keys():
    return tuple(k for k, _ in PEERS if k.startswith("lb"))

PROFILES = {
    "full": dict(reps=3, wrk_s=2, warm_s=1, iperf_s=2, step_s=1.0, lat_s=1.5, calib_s=1.5,
                 steps=(0.25, 0.5, 1.0, None), scaling_windows=3, limit_s=1200),
    "quick": dict(reps=1, wrk_s=1, warm_s=1, iperf_s=1, step_s=1.0, lat_s=1, calib_s=1.0,
                  steps=(0.5, None), scaling_windows=1, limit_s=240),
}


T0 = time.monotonic()
log = make_log("harness", T0)


# ------------------------------------------------------------------------------ processes

def proc_cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


class Proc(_Proc):
    """A background process started in a new session and recorded in the registry (logs here)."""

    def __init__(self, registry, argv, logpath):
        super().__init__(registry, argv, logpath, log)


# ------------------------------------------------------------------------------ CPU meter

def cpu_idle_ticks(cpu):
    """idle + iowait + steal of one CPU from /proc/stat, in clock ticks. Idle time is exact with
    NO_HZ (measured at idle entry and exit); steal is time the hypervisor ran something else."""
    tag = f"cpu{cpu} "
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(tag):
                v = [int(x) for x in line.split()[1:]]
                return v[3] + v[4] + v[7]
    raise HarnessError(f"no {tag.strip()} in /proc/stat")


PF_KTHREAD = 0x00200000
# Network namespace inodes of the current testbed: every process in them is this run's.
MY_NETNS = set()
# A box-CPU window during which other users' processes used more than this % of one CPU is
# left out of the CPU-per-unit medians (the machine is shared; CPU 0's idle time cannot tell
# the box's work from theirs).
FOREIGN_LIMIT_PCT = 10.0


def foreign_ticks():
    """utime + stime (clock ticks) of every process that is not this run's: not a kernel thread
    (softirq work in ksoftirqd is the box's), not in this run's namespaces, not this harness."""
    ticks = {}
    mine = {os.getpid(), os.getppid()}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in mine:
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[6]) & PF_KTHREAD:
                continue
            if MY_NETNS and os.stat(f"/proc/{name}/ns/net").st_ino in MY_NETNS:
                continue
            ticks[int(name)] = int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return ticks


def lb_info(sock):
    """lb's 'show info json' from its control socket."""
    return lb_control(sock, "show info json")


def work_figures(cpu):
    """lb's own accounting over a window: frames per busy second of its workers (its capacity if
    it never waited), frames per busy duty cycle (the batch), and sleeps per frame."""
    w = cpu.get("lb_work")
    if not w or not w["rx_packets"]:
        return {}
    return dict(lb_rx_frames=w["rx_packets"],
                lb_capacity_pps=w["rx_packets"] / (w["worker_busy_ns"] / 1e9) if w["worker_busy_ns"] else None,
                lb_busy_us_per_frame=w["worker_busy_ns"] / 1e3 / w["rx_packets"],
                lb_kick_us_per_frame=w["worker_tx_kick_ns"] / 1e3 / w["rx_packets"],
                lb_own_us_per_frame=(w["worker_busy_ns"] - w["worker_tx_kick_ns"]) / 1e3 / w["rx_packets"],
                lb_batch=w["rx_packets"] / w["worker_busy_cycles"] if w["worker_busy_cycles"] else None,
                lb_sleeps_per_frame=w["worker_sleeps"] / w["rx_packets"])


class BoxMeter:
    """Busy seconds of the box's CPU (and lb's process CPU seconds and its workers' own busy-time
    accounting) over a window, and the CPU other users' processes took meanwhile (on either CPU)."""

    def __init__(self, lb_pid=None, lb_sock=None):
        self.lb_pid = lb_pid
        self.lb_sock = lb_sock if lb_pid else None

    def start(self):
        self.f0 = foreign_ticks()
        self.info0 = lb_info(self.lb_sock) if self.lb_sock else None
        self.t0 = time.monotonic()
        self.idle0 = cpu_idle_ticks(BOX_CPU)
        self.lb0 = proc_cpu_seconds(self.lb_pid) if self.lb_pid else None
        return self

    def stop(self):
        wall = time.monotonic() - self.t0
        idle = (cpu_idle_ticks(BOX_CPU) - self.idle0) / HZ
        busy = max(0.0, wall - idle)
        lb = proc_cpu_seconds(self.lb_pid) - self.lb0 if self.lb_pid else None
        f1 = foreign_ticks()
        foreign = sum(t - self.f0.get(pid, 0) for pid, t in f1.items()) / HZ
        res = dict(wall_s=wall, box_busy_s=busy, lb_cpu_s=lb, foreign_pct=100 * max(0.0, foreign) / wall)
        if self.info0:
            info1 = lb_info(self.lb_sock)
            d = {k: info1[k] - self.info0[k] for k in ("rx_packets", "worker_busy_ns", "worker_tx_kick_ns",
                                                        "worker_busy_cycles", "worker_sleeps", "dropped")}
            res["lb_work"] = d
        return res


# ------------------------------------------------------------------------------ the testbed

class Testbed:
    """One fresh testbed for one peer: nginx, iperf3 and sockperf servers, UDP sinks, RPS."""

    def __init__(self, h, prefix, mode="nat", ipv6=False):
        self.h = h
        self.prefix = prefix
        self.mode = mode
        self.ipv6 = ipv6
        self.dir = os.path.join(h.logdir, prefix)
        os.makedirs(self.dir, exist_ok=True)
        self.procs = []

    def ns(self, role):
        return f"{self.prefix}-{role}"

    def up(self):
        self.h.registry.add_prefix(self.prefix)
        run(["bash", TESTBED, "up", "--prefix", self.prefix, "--servers", str(len(SERVERS)),
             "--mode", self.mode] + (["--ipv6"] if self.ipv6 else []), timeout=60)
        MY_NETNS.clear()
        for name in os.listdir("/run/netns"):
            if name.startswith(self.prefix + "-"):
                MY_NETNS.add(os.stat(f"/run/netns/{name}").st_ino)
        self.cli0_mac = self.mac("lb", "cli0")
        self.c1_mac = self.mac("c1", "eth0")
        self.c2_mac = self.mac("c2", "eth0")
        self.set_rps("lb", "cli0", BOX_CPU)
        self.set_rps("lb", "srv0", BOX_CPU)
        self.set_rps("sw", "lbc", GEN_CPU)
        self.set_rps("sw", "lbs", GEN_CPU)
        for i in range(len(SERVERS)):
            self.add_sink(f"s{i + 1}")
        self.start_servers()

    def mac(self, role, dev):
        out = run(["ip", "-n", self.ns(role), "-o", "link", "show", dev])
        return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)

    def set_rps(self, role, dev, cpu):
        run(in_ns(self.ns(role), ["sh", "-c", f"echo {1 << cpu:x} > /sys/class/net/{dev}/queues/rx-0/rps_cpus"]))

    def add_sink(self, role):
        # ipip: count (and drop) the sink's datagrams as they reach the backend, still
        # encapsulated (@th is the inner IPv4 header there, its UDP destination port 22 bytes in),
        # so the sweep measures the box and not the backend's user-space decapsulator.
        match = f"ip protocol 4 @th,176,16 {SINK_PORT}" if self.mode == "ipip" else f"udp dport {SINK_PORT}"
        rules = ("table inet harness {\n chain pre {\n  type filter hook prerouting priority -300\n"
                 f"  {match} counter drop\n }}\n}}\n")
        subprocess.run(in_ns(self.ns(role), ["nft", "-f", "-"]), input=rules, text=True,
                       check=True, timeout=10, capture_output=True)

    def sink_count(self, roles):
        total = 0
        for role in roles:
            out = run(in_ns(self.ns(role), ["nft", "list", "table", "inet", "harness"]))
            total += int(re.search(r"counter packets (\d+)", out).group(1))
        return total

    def start(self, role, argv, name, cpu=GEN_CPU):
        p = Proc(self.h.registry, in_ns(self.ns(role), argv, cpu), os.path.join(self.dir, name + ".log"))
        self.procs.append(p)
        return p

    def start_servers(self):
        # dsr and ipip: the packets still say VIP, which the servers hold on lo: listen there too.
        one_way = self.mode != "nat"
        for i, ip in enumerate(SERVERS):
            role = f"s{i + 1}"
            if self.mode == "ipip":
                self.start(role, ["/usr/bin/python3", DECAP, "--tun", "ipip0", "--pidfile",
                                  os.path.join(self.dir, f"decap-{role}.pid")], "decap-" + role)
            d = os.path.join(self.dir, "nginx-" + role)
            os.makedirs(os.path.join(d, "www"), exist_ok=True)
            os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
            with open(os.path.join(d, "www", HTTP_FILE), "w") as f:
                f.write(("small file from " + ip + " ").ljust(HTTP_FILE_BYTES - 1, "x") + "\n")
            conf = os.path.join(d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(f"""master_process off;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp;
  proxy_temp_path {d}/tmp;
  fastcgi_temp_path {d}/tmp;
  keepalive_requests 10000000;
  server {{ listen {ip}:{HTTP_PORT} backlog=4096;{f" listen {VIP}:{HTTP_PORT} backlog=4096;" if one_way else ""}{f" listen [{SERVERS6[i]}]:{HTTP_PORT} backlog=4096;" if self.ipv6 else ""} root {d}/www; }}
}}
""")
            self.start(role, ["nginx", "-e", f"{d}/error.log", "-c", conf], "nginx-" + role)
            # Bound to the VIP in dsr/ipip, so its replies come from the VIP the client asked.
            self.start(role, RT_PRIO + ["sockperf", "server", "-i", VIP if one_way else "0.0.0.0", "-p",
                                        str(PINGPONG_PORT)], "sockperf-" + role)
        self.start("s1", ["iperf3", "-s", "-p", str(BULK_PORT)], "iperf3-s1")
        self.start("rt", RT_PRIO + ["sockperf", "server", "-i", "0.0.0.0", "-p", str(PINGPONG_PORT)], "sockperf-rt")
        url = f"http://{SERVERS[0]}/{HTTP_FILE}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            dead = [p.logpath for p in self.procs if not p.alive()]
            if dead:
                raise HarnessError(f"a server exited at start: {dead[0]}: {open(dead[0]).read()[-300:]}")
            ok = all(subprocess.run(in_ns(self.ns("s1"), ["ss", "-ltnH", f"sport = :{port}"]),
                                    capture_output=True, text=True, timeout=5).stdout.strip()
                     for port in (HTTP_PORT, BULK_PORT))
            if ok:
                return
            time.sleep(0.1)
        raise HarnessError(f"the servers did not listen within 10 s ({url})")

    def down(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []
        run(["bash", TESTBED, "down", "--prefix", self.prefix], timeout=60)
        self.h.registry.drop_prefix(self.prefix)


# ------------------------------------------------------------------------------ the peers

class Peer:
    """One way of being the box. setup() configures the lb namespace; target() is where clients
    send: the VIP, or for the plain router a server's own address."""

    def __init__(self, key, title):
        self.key, self.title = key, title
        self.lb = None

    def setup(self, tb):
        lbns = tb.ns("lb")
        if self.key == "ip6tables":
            self.ip6tables_box(tb)
            return
        if self.key.startswith("lb"):
            if peer_mode(self.key) == "ipip":
                # lb cannot encapsulate a TSO super-frame (no tunnel GSO for packet sockets on this
                # kernel: it counts drop_tunnel_gso), so the clients send wire-sized frames, as
                # from a NIC without GRO; the 20 bytes the tunnel adds come off by PMTU discovery
                # (lb answers over-MTU frames with ICMP frag-needed).
                for c in ("c1", "c2"):
                    run(in_ns(tb.ns(c), ["ethtool", "-K", "eth0", "tso", "off", "gso", "off"]))
            self.start_lb(tb)
            return
        # The testbed drops frames at tc ingress of lb's interfaces (lb has them by then); a
        # kernel peer forwards them itself, so the filter goes.
        for dev in ("cli0", "srv0"):
            run(in_ns(lbns, ["tc", "qdisc", "del", "dev", dev, "clsact"]))
        run(["ip", "-n", lbns, "addr", "add", f"{BOX_CLIENT_IP}/24", "dev", "cli0"])
        run(["ip", "-n", lbns, "addr", "add", f"{GATEWAY_IP}/24", "dev", "srv0"])
        run(in_ns(lbns, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]))
        if self.key == "kernel":
            for c in ("c1", "c2"):
                run(["ip", "-n", tb.ns(c), "route", "add", "198.18.1.0/24", "via", BOX_CLIENT_IP])
            return
        run(["ip", "-n", lbns, "addr", "add", f"{VIP}/32", "dev", "cli0"])
        if self.key == "iptables":
            self.iptables_rules(lbns)
        else:
            self.nft_rules(lbns)

    def ip6tables_box(self, tb):
        """The lb namespace as an IPv6 router with ip6tables DNAT: the testbed keeps IPv6 off
        there (lb needs no kernel addresses), so it is turned on here, without DAD."""
        lbns = tb.ns("lb")
        for dev in ("cli0", "srv0"):
            run(in_ns(lbns, ["tc", "qdisc", "del", "dev", dev, "clsact"]))
        run(in_ns(lbns, ["sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                         "net.ipv6.conf.cli0.accept_dad=0", "net.ipv6.conf.srv0.accept_dad=0",
                         "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.cli0.disable_ipv6=0",
                         "net.ipv6.conf.srv0.disable_ipv6=0", "net.ipv6.conf.all.forwarding=1"]))
        run(["ip", "-n", lbns, "-6", "addr", "add", f"{BOX_CLIENT_IP6}/64", "dev", "cli0", "nodad"])
        run(["ip", "-n", lbns, "-6", "addr", "add", f"{VIP6}/128", "dev", "cli0", "nodad"])
        run(["ip", "-n", lbns, "-6", "addr", "add", f"{GATEWAY_IP6}/64", "dev", "srv0", "nodad"])
        ipt = in_ns(lbns, ["ip6tables-legacy", "-t", "nat", "-A", "PREROUTING", "-d", VIP6])
        run(ipt + ["-p", "tcp", "--dport", str(BULK_PORT), "-j", "DNAT", "--to-destination", SERVERS6[0]])
        n = len(SERVERS6)
        for i, backend in enumerate(SERVERS6):
            nth = [] if i == n - 1 else ["-m", "statistic", "--mode", "nth", "--every", str(n - i), "--packet", "0"]
            run(ipt + ["-p", "tcp", "--dport", str(HTTP_PORT)] + nth + ["-j", "DNAT", "--to-destination", backend])

    def iptables_rules(self, lbns):
        ipt = in_ns(lbns, ["iptables-legacy", "-t", "nat", "-A", "PREROUTING", "-d", VIP])
        run(ipt + ["-p", "tcp", "--dport", str(BULK_PORT), "-j", "DNAT", "--to-destination", SERVERS[0]])
        n = len(SERVERS)
        for proto, port in (("tcp", HTTP_PORT), ("udp", SINK_PORT), ("udp", PINGPONG_PORT)):
            for i, backend in enumerate(SERVERS):
                nth = [] if i == n - 1 else ["-m", "statistic", "--mode", "nth", "--every", str(n - i), "--packet", "0"]
                run(ipt + ["-p", proto, "--dport", str(port)] + nth + ["-j", "DNAT", "--to-destination", backend])

    def nft_rules(self, lbns):
        spread = "numgen inc mod {} map {{ {} }}".format(
            len(SERVERS), ", ".join(f"{i} : {ip}" for i, ip in enumerate(SERVERS)))
        rules = f"""table ip harness_nat {{
 chain pre {{
  type nat hook prerouting priority dstnat
  ip daddr {VIP} tcp dport {BULK_PORT} dnat to {SERVERS[0]}
  ip daddr {VIP} tcp dport {HTTP_PORT} dnat to {spread}
  ip daddr {VIP} udp dport {{ {SINK_PORT}, {PINGPONG_PORT} }} dnat to {spread}
 }}
}}
"""
        subprocess.run(in_ns(lbns, ["nft", "-f", "-"]), input=rules, text=True, check=True,
                       timeout=10, capture_output=True)

    def start_lb(self, tb):
        conf = os.path.join(tb.dir, "lb.conf")
        mode = peer_mode(self.key)
        backends = f"  mode {mode}\n" + "".join(f"  backend {ip}\n" for ip in SERVERS)
        if is_ipv6(self.key):
            self.write_lb6_conf(conf, tb)
        else:
            with open(conf, "w") as f:
                f.write(f"""server-network {SERVER_NETWORK}
client-interface cli0
client-ip {BOX_CLIENT_IP}
server-interface srv0
gateway-ip {GATEWAY_IP}
probe-interval 500ms
probe-timeout 3s
control-socket {tb.dir}/lb.sock
service web {VIP}:{HTTP_PORT}/tcp
  scheduler rr
{backends}service bulk {VIP}:{BULK_PORT}/tcp
  scheduler rr
  mode {mode}
  backend {SERVERS[0]}
service sink {VIP}:{SINK_PORT}/udp
  scheduler rr
{backends}service pingpong {VIP}:{PINGPONG_PORT}/udp
  scheduler rr
{backends}""")
        self.start_lb_process(tb, conf)

    def write_lb6_conf(self, conf, tb):
        """lb with the IPv6 counterparts of the HTTP and bulk services (its IPv4 addresses too)."""
        backends = "".join(f"  backend {ip}\n" for ip in SERVERS6)
        with open(conf, "w") as f:
            f.write(f"""client-interface cli0
client-ip {BOX_CLIENT_IP}
client-ip6 {BOX_CLIENT_IP6}
server-interface srv0
gateway-ip {GATEWAY_IP}
gateway-ip6 {GATEWAY_IP6}
probe-interval 500ms
probe-timeout 3s
control-socket {tb.dir}/lb.sock
service web6 [{VIP6}]:{HTTP_PORT}/tcp
  scheduler rr
{backends}service bulk6 [{VIP6}]:{BULK_PORT}/tcp
  scheduler rr
  backend {SERVERS6[0]}
""")

    def start_lb_process(self, tb, conf):
        strategy = "spin" if self.key == "lbspin" else "backoff"
        self.lb_argv = [LB, "--config", conf, "--idle-strategy", strategy]
        if self.key == "lbv3":
            # TPACKET_V3 hands over blocks (retired when full or after 1 ms): the V2/V3 comparison.
            self.lb_argv += ["--rx-ring", "v3"]
        if self.key == "lbsleep":
            self.lb_argv += ["--idle-spin", "0"]
        cpu = BOX_CPU
        if self.key == "lb2w":
            self.lb_argv += ["--workers", "2"]
            cpu = f"{BOX_CPU},{GEN_CPU}"
        self.lb = tb.start("lb", self.lb_argv, "lb", cpu=cpu)

    def target(self):
        if is_ipv6(self.key):
            return VIP6
        return SERVERS[0] if self.key == "kernel" else VIP

    def sink_targets(self):
        return SERVERS if self.key == "kernel" else [VIP]

    def stop(self):
        """Stops lb; returns its counters (name -> value) and the tail of its stderr."""
        if not self.lb:
            return None
        out = self.lb.stop()
        self.lb_exit = self.lb.popen.returncode
        self.lb = None
        counters = {}
        for line in out.splitlines():
            m = re.match(r"counter (\S+) (\d+)$", line)
            if m:
                counters[m.group(1)] = int(m.group(2))
        return dict(counters=counters, exit=self.lb_exit,
                    log_tail=[l for l in out.splitlines() if not l.startswith("counter ")][-15:])


# ------------------------------------------------------------------------------ the tools

def parse_duration_us(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    v = float(m.group(1))
    return v * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


def parse_wrk(out):
    res = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise HarnessError(f"wrk printed no rate: {out[-300:]}")
    res["rps"] = float(m.group(1))
    res["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    for pct, val in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M):
        res[f"p{pct}_us"] = parse_duration_us(val)
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    return res


def parse_sockperf(out):
    """Percentiles of the RTT in us; None when sockperf found no valid observation (every reply
    came too late or never: "No valid observations found")."""
    res = {}
    for pct, key in (("50.000", "p50"), ("99.000", "p99"), ("99.900", "p999")):
        m = re.search(rf"percentile {re.escape(pct)} =\s+([\d.]+)", out)
        if not m and "No valid observations" not in out:
            raise HarnessError(f"sockperf printed no percentile {pct}: {out[-300:]}")
        res[key] = float(m.group(1)) if m else None
    m = re.search(r"# dropped messages = (\d+)", out)
    res["dropped"] = int(m.group(1)) if m else None
    m = re.search(r"Total (\d+) observations", out)
    res["samples"] = int(m.group(1)) if m else None
    return res


def rtt_percentiles(paths):
    """HdrHistogram percentiles (us) of sockperf full logs, one JVM for all of them
    (lb.benchmarks.harness.RttPercentiles, in the benchmarks jar)."""
    out = run(["java", "-cp", BENCH_JAR, "lb.benchmarks.harness.RttPercentiles"] + paths, timeout=60)
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(rows) != len(paths):
        raise HarnessError(f"RttPercentiles printed {len(rows)} results for {len(paths)} logs: {out[-300:]}")
    return rows


def softnet_drops():
    """Per-CPU backlog drops (column 2 of /proc/net/softnet_stat, one line per CPU): packets the
    kernel dropped because a CPU's input queue was full."""
    with open("/proc/net/softnet_stat") as f:
        return [int(line.split()[1], 16) for line in f]


def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_udp_pcap(path, dst_mac, src_mac, src_ip, dst_ips, flows):
    """A pcap of 60-byte Ethernet/IPv4/UDP frames (64 on the wire), one per flow."""
    mac = lambda m: bytes.fromhex(m.replace(":", ""))
    addr = lambda a: bytes(int(x) for x in a.split("."))
    payload = b"B" * (60 - 14 - 20 - 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(flows):
            src, dst = addr(src_ip), addr(dst_ips[i % len(dst_ips)])
            udp = struct.pack("!HHHH", 1024 + i, SINK_PORT, 8 + len(payload), 0) + payload
            pseudo = src + dst + struct.pack("!BBH", 0, 17, len(udp))
            udp = udp[:6] + struct.pack("!H", inet_checksum(pseudo + udp) or 0xFFFF) + udp[8:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", inet_checksum(ip)) + ip[12:]
            frame = mac(dst_mac) + mac(src_mac) + b"\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)


def write_flows_pcap(path, dst_mac, src_mac, src_ips, ports, dst_ip):
    """A pcap of len(src_ips) x ports 60-byte UDP frames to dst_ip's sink port, one flow each
    (source ports from 1024). The UDP checksum is 0 (none, allowed for IPv4), so a million
    frames take half a second to write."""
    mac = lambda m: bytes.fromhex(m.replace(":", ""))
    addr = lambda a: bytes(int(x) for x in a.split("."))
    payload = b"B" * (60 - 14 - 20 - 8)
    record = struct.pack("<IIII", 0, 0, 60, 60)
    eth = mac(dst_mac) + mac(src_mac) + b"\x08\x00"
    udp_tail = struct.pack("!HHH", SINK_PORT, 8 + len(payload), 0) + payload
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for src_ip in src_ips:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0, 64, 17, 0,
                             addr(src_ip), addr(dst_ip))
            ip = ip[:10] + struct.pack("!H", inet_checksum(ip)) + ip[12:]
            head = record + eth + ip
            f.write(b"".join(head + struct.pack("!H", 1024 + port) + udp_tail for port in range(ports)))


def net_dev_packets(pid, dev, column):
    """A counter of one interface, read through /proc/PID/net/dev of a process in its
    namespace: no process start, so it can be sampled during a run."""
    with open(f"/proc/{pid}/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == dev:
                v = rest.split()
                return int(v[1] if column == "rx" else v[9])
    raise HarnessError(f"no {dev} in /proc/{pid}/net/dev")


class Harness:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.p = PROFILES["quick" if args.quick else "full"]
        self.runid = os.path.basename(args.state).split(".")[0] if args.state else secrets.token_hex(2)
        self.logdir = args.logdir or f"/tmp/lb-harness-{self.runid}"
        os.makedirs(self.logdir, exist_ok=True)
        os.makedirs(STATE_DIR, exist_ok=True)
        self.registry = Registry(args.state or os.path.join(STATE_DIR, f"{self.runid}.state"))
        self.t_start = time.monotonic()
        self.results = {key: dict(title=title, reps=[]) for key, title in PEERS}
        self.env = dict(background_busy=[], loadavg=[])
        self.lb_sock = None
        self.lb_pid = None

    def check_time(self):
        if time.monotonic() - self.t_start > self.p["limit_s"]:
            raise HarnessError(f"over the time limit of {self.p['limit_s']} s: stopping")

    # -- tools -----------------------------------------------------------------------------

    def udp_pcap(self, tb, dst_mac, dst_ips):
        """64-byte frames (60 + FCS) from c1, UDP to the sink port, source ports 1024..1279 (one
        flow each), destinations taken in turn from dst_ips; checksums computed here."""
        path = os.path.join(tb.dir, f"udp-{dst_ips[0]}-{len(dst_ips)}.pcap")
        write_udp_pcap(path, dst_mac, tb.c1_mac, CLIENT1_IP, dst_ips, UDP_FLOWS)
        return path

    def generator(self, tb, pcap, rate, name, loops=0):
        """tcpreplay looping the pcap (loops=0: until stopped): paced at rate packets/s
        (busy-waits, evenly spaced), or at top speed when rate is None."""
        if rate:
            pace = [f"--pps={int(rate)}", f"--pps-multi={max(1, int(rate) // 20000)}"]
        else:
            pace = ["--topspeed"]
        argv = ["tcpreplay", "-i", "eth0", "-q", "-K", f"--loop={loops}"] + pace + [pcap]
        return tb.start("c1", argv, name)

    def flow_scaling(self, tb, sinks):
        """lb's per-packet cost with 1,000 and with 1,000,000 active UDP flows at the same paced
        rate (half the reference): the million flows are created first by one pass over them,
        then windows of each kind alternate, so drift falls on both alike. Per-packet cost is
        the workers' busy time per frame (their own accounting) and the box CPU per packet."""
        big = os.path.join(tb.dir, "flows-1m.pcap")
        write_flows_pcap(big, tb.cli0_mac, tb.c1_mac, SCALING_SRC_IPS, SCALING_PORTS, VIP)
        small = os.path.join(tb.dir, "flows-1k.pcap")
        write_flows_pcap(small, tb.cli0_mac, tb.c1_mac, [CLIENT1_IP], SCALING_FLOWS_SMALL, VIP)
        n_big = len(SCALING_SRC_IPS) * SCALING_PORTS
        t0 = time.monotonic()
        gen = self.generator(tb, big, 0.75 * self.ref_pps, "tcpreplay-create", loops=1)
        try:
            gen.popen.wait(timeout=30 + n_big / (0.75 * self.ref_pps))
        finally:
            gen.stop(signal.SIGINT, group=True)
        created_s = time.monotonic() - t0
        flows_after_create = lb_info(self.lb_sock)["flows"]
        rate = 0.5 * self.ref_pps
        out = dict(flows_big=n_big, flows_small=SCALING_FLOWS_SMALL, create_s=created_s,
                   flows_after_create=flows_after_create, small=[], big=[])
        for _ in range(self.p["scaling_windows"]):
            for kind, pcap in (("small", small), ("big", big)):
                step = self.udp_step(tb, pcap, rate, self.p["step_s"], sinks, self.lb_pid)
                step["flows_at_end"] = lb_info(self.lb_sock)["flows"]
                out[kind].append(step)
        return out

    def udp_step(self, tb, pcap, rate, dur, sink_roles, lb_pid):
        """One sweep step: offered and delivered rate, loss, box CPU per delivered packet, and
        where the kernel dropped (per-CPU backlog drops: CPU 0 is the box's, CPU 1 the rest's)."""
        before_sink = tb.sink_count(sink_roles)
        before_tx = self.c1_tx_total(tb)
        backlog0 = softnet_drops()
        gen = self.generator(tb, pcap, rate, f"tcpreplay-{int(rate or 0)}")
        self.wait_sending(gen)
        tx0 = net_dev_packets(gen.pid, "eth0", "tx")
        meter = BoxMeter(lb_pid, self.lb_sock).start()
        time.sleep(dur)
        tx1 = net_dev_packets(gen.pid, "eth0", "tx")
        cpu = meter.stop()
        gen.stop(signal.SIGINT, group=True)
        time.sleep(0.3)  # let the last packets through the box
        offered_total = self.c1_tx_total(tb) - before_tx
        delivered_total = tb.sink_count(sink_roles) - before_sink
        loss = 1 - delivered_total / offered_total if offered_total else None
        offered_pps = (tx1 - tx0) / cpu["wall_s"]
        delivered_pps = offered_pps * (delivered_total / offered_total) if offered_total else 0
        window_delivered = delivered_pps * cpu["wall_s"]
        backlog = [b - a for a, b in zip(backlog0, softnet_drops())]
        res = dict(target_pps=rate, offered_pps=offered_pps, delivered_pps=delivered_pps,
                   offered_total=offered_total, delivered_total=delivered_total, loss=loss,
                   backlog_drops_box_cpu=backlog[BOX_CPU], backlog_drops_gen_cpu=backlog[GEN_CPU],
                   box_busy_pct=100 * cpu["box_busy_s"] / cpu["wall_s"], foreign_pct=cpu["foreign_pct"],
                   box_us_per_pkt=1e6 * cpu["box_busy_s"] / window_delivered if window_delivered else None)
        if cpu["lb_cpu_s"] is not None and window_delivered:
            res["lb_us_per_pkt"] = 1e6 * cpu["lb_cpu_s"] / window_delivered
        res.update(work_figures(cpu))
        return res

    def wait_sending(self, gen):
        """Until tcpreplay has loaded its pcap (-K: a million frames take a while) and sends, then
        0.3 s more for a steady rate."""
        first = net_dev_packets(gen.pid, "eth0", "tx")
        deadline = time.monotonic() + 10
        while net_dev_packets(gen.pid, "eth0", "tx") - first < 100:
            if not gen.alive():
                raise HarnessError(f"tcpreplay exited: {gen.stop(group=True)[-300:]}")
            if time.monotonic() > deadline:
                raise HarnessError("tcpreplay sent nothing for 10 s")
            time.sleep(0.02)
        time.sleep(0.3)

    def c1_tx_total(self, tb):
        return int(run(in_ns(tb.ns("c1"), ["cat", "/sys/class/net/eth0/statistics/tx_packets"])).strip())

    def wrk(self, tb, url, close, dur, lb_pid):
        argv = ["wrk", "-t", "1", "-c", str(WRK_CONNECTIONS), "-d", f"{max(1, round(dur))}s", "--latency"]
        if close:
            argv += ["-H", "Connection: close"]
        meter = BoxMeter(lb_pid, self.lb_sock).start()
        out = run(in_ns(tb.ns("c1"), argv + [url], GEN_CPU), timeout=dur + 30)
        cpu = meter.stop()
        res = parse_wrk(out)
        res["box_us_per_req"] = 1e6 * cpu["box_busy_s"] / res["requests"] if res["requests"] else None
        if cpu["lb_cpu_s"] is not None and res["requests"]:
            res["lb_us_per_req"] = 1e6 * cpu["lb_cpu_s"] / res["requests"]
        res["box_busy_pct"] = 100 * cpu["box_busy_s"] / cpu["wall_s"]
        res["foreign_pct"] = cpu["foreign_pct"]
        return res

    def iperf(self, tb, target, dur, lb_pid, reverse=False):
        """Bulk TCP through the box: client to server (upload), or with reverse server to client
        (download: iperf3 -R, the direction dsr and ipip take off the box)."""
        argv = ["iperf3", "-c", target, "-p", str(BULK_PORT), "-P", str(IPERF_STREAMS), "-t", str(dur), "-J"]
        if reverse:
            argv.append("-R")
        meter = BoxMeter(lb_pid, self.lb_sock).start()
        out = run(in_ns(tb.ns("c1"), argv, GEN_CPU), timeout=dur + 30, check=False)
        cpu = meter.stop()
        j = iperf3_result(out)
        end = j["end"]
        bits = end["sum_received"]["bytes"] * 8
        res = dict(gbps=end["sum_received"]["bits_per_second"] / 1e9,
                   retransmits=end["sum_sent"].get("retransmits"),
                   box_ms_per_gbit=1e3 * cpu["box_busy_s"] / (bits / 1e9) if bits else None,
                   box_busy_pct=100 * cpu["box_busy_s"] / cpu["wall_s"], foreign_pct=cpu["foreign_pct"])
        if cpu["lb_cpu_s"] is not None and bits:
            res["lb_ms_per_gbit"] = 1e3 * cpu["lb_cpu_s"] / (bits / 1e9)
        return res

    def sockperf(self, tb, target, dur, name):
        """One ping-pong run; its per-message log (every RTT of the valid duration) goes to a file
        for rtt_percentiles. Returns sockperf's own summary and the log's path."""
        log_path = os.path.join(tb.dir, f"rtt-{name}.csv")
        argv = ["sockperf", "ping-pong", "-i", target, "-p", str(PINGPONG_PORT), "-t", str(dur),
                "-m", "64", "--full-rtt", "--full-log", log_path]
        out = run(in_ns(tb.ns("c2"), RT_PRIO + argv, GEN_CPU), timeout=dur + 30)
        res = {f"sockperf_{k}": v for k, v in parse_sockperf(out).items()}
        res["full_log"] = log_path
        return res

    def latency_pair(self, tb, peer, dur, name):
        """Direct, then through the box; p50/p99/p99.9 from an HdrHistogram of every RTT."""
        direct = self.sockperf(tb, DIRECT_IP, dur, f"{name}-direct")
        through = self.sockperf(tb, peer.target(), dur, f"{name}-through")
        for run_res, pct in zip((direct, through), rtt_percentiles([direct["full_log"], through["full_log"]])):
            valid = pct["count"] > 0
            run_res.update({k: pct[k] if valid else None for k in ("p50", "p99", "p999", "max")})
            run_res["samples"] = pct["count"]
        added = {k: None if through[k] is None or direct[k] is None else through[k] - direct[k]
                 for k in ("p50", "p99", "p999")}
        return dict(direct=direct, through=through, added=added)

    # -- calibration and one peer ----------------------------------------------------------

    def calibrate(self):
        """The reference rate: what kernel forwarding delivers to the servers with the generator
        at top speed (the kernel router's capacity on one CPU here, or the generator's maximum if
        that is lower). The sweep's steps and the latency test's background load are fractions
        of it."""
        tb = Testbed(self, f"lbh{self.runid}cal")
        tb.up()
        try:
            Peer("kernel", "kernel forwarding").setup(tb)
            pcap = self.udp_pcap(tb, tb.cli0_mac, SERVERS)
            sinks = [f"s{i + 1}" for i in range(len(SERVERS))]
            self.udp_step(tb, pcap, 20000, 0.5, sinks, None)  # ARP resolved, caches warm
            rates = [self.udp_step(tb, pcap, None, self.p["calib_s"], sinks, None) for _ in range(2)]
        finally:
            tb.down()
        self.ref_pps = max(r["delivered_pps"] for r in rates)
        self.env["calibration"] = rates
        log(f"reference rate (kernel forwarding, generator at top speed): {self.ref_pps / 1e3:.1f} kpps delivered "
            f"of {max(r['offered_pps'] for r in rates) / 1e3:.1f} kpps offered")

    def peer_run(self, rep, key, title):
        self.check_time()
        peer = Peer(key, title)
        tb = Testbed(self, f"lbh{self.runid}r{rep}{key}", peer_mode(key), ipv6=is_ipv6(key))
        res = dict(rep=rep)
        log(f"rep {rep}: {title}")
        phases = res["phase_s"] = {}
        mark = [time.monotonic()]

        def phase(name):
            now = time.monotonic()
            phases[name] = round(now - mark[0], 2)
            mark[0] = now

        tb.up()
        phase("testbed_up")
        try:
            self.env["loadavg"].append(float(open("/proc/loadavg").read().split()[0]))
            res["background_busy_pct"], res["background_foreign_pct"] = self.settle()
            self.env["background_busy"].append(res["background_busy_pct"])
            self.env.setdefault("background_foreign", []).append(res["background_foreign_pct"])

            phase("settle")
            peer.setup(tb)
            lb_pid = peer.lb.pid if peer.lb else None
            self.lb_pid = lb_pid
            self.lb_sock = os.path.join(tb.dir, "lb.sock") if peer.lb else None
            url = f"http://{url_host(peer.target())}/{HTTP_FILE}"
            self.wait_ready(tb, peer, url)
            phase("start_and_ready")
            if is_ipv6(key):
                self.tcp_only_run(tb, peer, url, lb_pid, res, phase)
                return
            pcap = self.udp_pcap(tb, tb.cli0_mac, peer.sink_targets())
            sinks = [f"s{i + 1}" for i in range(len(SERVERS))]

            # Warm-up, the same for every peer: every kind of traffic once, so that lb's JIT has
            # compiled each path (TCP both ways, UDP both ways) before measuring. The compiler
            # threads share CPU 0 with lb's worker and would otherwise show up as millisecond RTT
            # tails in whichever test comes first. The UDP ping-pong runs alongside the rest: it
            # spends 2 s before it sends anything.
            pingpong = tb.start("c2", RT_PRIO + ["sockperf", "ping-pong", "-i", peer.target(), "-p",
                                                 str(PINGPONG_PORT), "-t", str(self.p["warm_s"]), "-m", "64"],
                                "sockperf-warm-up")
            self.wrk(tb, url, False, self.p["warm_s"], None)
            self.wrk(tb, url, True, self.p["warm_s"], None)
            self.udp_step(tb, pcap, 0.25 * self.ref_pps, self.p["warm_s"], sinks, None)
            try:
                pingpong.popen.wait(timeout=30)
            finally:
                pingpong.stop()
            phase("warm_up")

            self.http_and_bulk(tb, peer, url, lb_pid, res)
            phase("http_and_bulk")
            res["sweep"] = [self.udp_step(tb, pcap, None if f is None else f * self.ref_pps,
                                          self.p["step_s"], sinks, lb_pid) for f in self.p["steps"]]
            phase("sweep")
            res["latency_idle"] = self.latency_pair(tb, peer, self.p["lat_s"], "idle")
            half = 0.5 * self.ref_pps
            before = tb.sink_count(sinks)
            tx_before = self.c1_tx_total(tb)
            bgen = self.generator(tb, pcap, half, "tcpreplay-background")
            try:
                time.sleep(0.3)
                res["latency_half"] = self.latency_pair(tb, peer, self.p["lat_s"], "half")
            finally:
                bgen.stop(signal.SIGINT, group=True)
            time.sleep(0.3)
            offered = self.c1_tx_total(tb) - tx_before
            delivered = tb.sink_count(sinks) - before
            res["latency_half"]["background_loss"] = 1 - delivered / offered if offered else None
            res["latency_half"]["background_pps"] = half
            phase("latency")
            if key == "lb" and rep == 1:
                res["flow_scaling"] = self.flow_scaling(tb, sinks)
                phase("flow_scaling")
            if peer.lb and not peer.lb.alive():
                raise HarnessError(f"lb exited during the run: {open(peer.lb.logpath).read()[-500:]}")
        finally:
            try:
                lbres = peer.stop()
                if lbres:
                    res["lb"] = lbres
                if key != "kernel" and not key.startswith("lb"):
                    res["conntrack_count"] = run(in_ns(tb.ns("lb"), ["sh", "-c", "cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || true"]), check=False).strip()
            finally:
                tb.down()
                phase("stop_and_down")
        self.results[key]["reps"].append(res)
        log(f"  http-ka {res['http_ka']['rps']:.0f}/s close {res['http_close']['rps']:.0f}/s "
            f"bulk {res['bulk']['gbps']:.2f} down {res['bulk_down']['gbps']:.2f} Gbit/s; sweep loss "
            + " ".join(f"{100 * s['loss']:.2f}%" for s in res["sweep"])
            + f"; added p99 idle {fmt(res['latency_idle']['added']['p99'], 0)} us"
            + f" half {fmt(res['latency_half']['added']['p99'], 0)} us"
            + "; phases " + " ".join(f"{k} {v:.1f}" for k, v in phases.items()))

    def http_and_bulk(self, tb, peer, url, lb_pid, res):
        """wrk keep-alive and close, iperf3 upload and download: every peer's TCP figures."""
        d = self.p["wrk_s"]
        res["http_ka"] = self.wrk(tb, url, False, d, lb_pid)
        res["http_close"] = self.wrk(tb, url, True, d, lb_pid)
        res["bulk"] = self.iperf(tb, peer.target(), self.p["iperf_s"], lb_pid)
        res["bulk_down"] = self.iperf(tb, peer.target(), self.p["iperf_s"], lb_pid, reverse=True)

    def tcp_only_run(self, tb, peer, url, lb_pid, res, phase):
        """The IPv6 peers' tests: HTTP both ways and bulk TCP both ways, after the same wrk warm-up."""
        self.wrk(tb, url, False, self.p["warm_s"], None)
        self.wrk(tb, url, True, self.p["warm_s"], None)
        phase("warm_up")
        self.http_and_bulk(tb, peer, url, lb_pid, res)
        res["sweep"] = []
        phase("http_and_bulk")
        if peer.lb and not peer.lb.alive():
            raise HarnessError(f"lb exited during the run: {open(peer.lb.logpath).read()[-500:]}")
        self.results[peer.key]["reps"].append(res)
        log(f"  http-ka {res['http_ka']['rps']:.0f}/s close {res['http_close']['rps']:.0f}/s "
            f"bulk {res['bulk']['gbps']:.2f} down {res['bulk_down']['gbps']:.2f} Gbit/s (IPv6: no sweep, no latency)")

    def settle(self):
        """Waits (at most 5 s) until the box's CPU is quiet and other users' processes are: deleting
        the previous testbed's namespaces goes on in a kernel worker for a while, and the machine
        is shared. Returns the last 0.5 s window's CPU 0 busy % and other users' CPU %."""
        for _ in range(10):
            m = BoxMeter().start()
            time.sleep(0.5)
            w = m.stop()
            busy = 100 * w["box_busy_s"] / w["wall_s"]
            if busy < 10 and w["foreign_pct"] < FOREIGN_LIMIT_PCT:
                break
        return busy, w["foreign_pct"]

    def wait_ready(self, tb, peer, url):
        """Until the target serves every backend once in a row (lb learns backend MACs by ARP)."""
        deadline = time.monotonic() + 30
        ok = 0
        while time.monotonic() < deadline:
            if peer.lb and not peer.lb.alive():
                raise HarnessError(f"lb exited at start: {open(peer.lb.logpath).read()[-800:]}")
            r = subprocess.run(in_ns(tb.ns("c1"), ["curl", "-g", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                   "--max-time", "1", url]),
                               capture_output=True, text=True, timeout=10)
            ok = ok + 1 if r.stdout == "200" else 0
            if ok >= 2 * len(SERVERS):
                return
            time.sleep(0.05 if ok else 0.2)
        raise HarnessError(f"{url} did not answer within 30 s through {peer.title}")

    def run_all(self):
        self.env["loadavg_start"] = open("/proc/loadavg").read().strip()
        self.calibrate()
        # Rounds: every peer once per repetition, so drifting background load (the machine is
        # shared) spreads over all peers instead of falling on one.
        for rep in range(1, self.p["reps"] + 1):
            for key, title in PEERS:
                self.peer_run(rep, key, title)
        self.env["loadavg_end"] = open("/proc/loadavg").read().strip()
        self.env["finished"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        self.env["elapsed_s"] = time.monotonic() - self.t_start


# ------------------------------------------------------------------------------ reporting

def med_spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return dict(median=statistics.median(values), min=min(values), max=max(values), n=len(values))


def pick(reps, path):
    out = []
    for r in reps:
        v = r
        for k in path:
            if v is None:
                break
            # An IPv6 peer's sweep is empty: its step cells are None, not an error.
            v = (v[k] if k < len(v) else None) if isinstance(k, int) else v.get(k)
        out.append(v)
    return out


def metric_rows(results, steps):
    """(label, unit, better, digits, path-or-function) of every row of the table."""
    rows = [
        ("HTTP keep-alive", "req/s", "higher", 0, ("http_ka", "rps")),
        ("HTTP keep-alive p50 latency", "us", "lower", 0, ("http_ka", "p50_us")),
        ("HTTP keep-alive p99 latency", "us", "lower", 0, ("http_ka", "p99_us")),
        ("HTTP keep-alive, box CPU per request", "us", "lower", 1, ("http_ka", "box_us_per_req")),
        ("HTTP Connection: close", "req/s", "higher", 0, ("http_close", "rps")),
        ("HTTP close p99 latency", "us", "lower", 0, ("http_close", "p99_us")),
        ("HTTP close, box CPU per request", "us", "lower", 1, ("http_close", "box_us_per_req")),
        ("iperf3 TCP, 4 streams", "Gbit/s", "higher", 2, ("bulk", "gbps")),
        ("iperf3 box CPU per Gbit", "ms", "lower", 0, ("bulk", "box_ms_per_gbit")),
        ("iperf3 retransmits", "segments", "lower", 0, ("bulk", "retransmits")),
        ("iperf3 download (-R), 4 streams", "Gbit/s", "higher", 2, ("bulk_down", "gbps")),
        ("iperf3 download box CPU per Gbit", "ms", "lower", 0, ("bulk_down", "box_ms_per_gbit")),
    ]
    for i, f in enumerate(steps):
        name = f"{int(f * 100)}% of reference" if f else "generator at top speed"
        rows.append((f"UDP 64 B, {name}: offered", "kpps", "higher", 1, ("sweep", i, "offered_pps"), 1e-3))
        rows.append((f"UDP 64 B, {name}: delivered", "kpps", "higher", 1, ("sweep", i, "delivered_pps"), 1e-3))
        rows.append((f"UDP 64 B, {name}: loss", "%", "lower", 2, ("sweep", i, "loss"), 100))
        rows.append((f"UDP 64 B, {name}: box CPU per packet", "us", "lower", 2, ("sweep", i, "box_us_per_pkt")))
    for i, f in enumerate(steps):
        if f == 0.5:
            rows.append(("UDP 64 B, 50% of reference: lb process CPU per packet", "us", "lower", 2, ("sweep", i, "lb_us_per_pkt")))
    for i, f in enumerate(steps):
        if f in (0.5, None):
            name = "50% of reference" if f else "top speed"
            rows.append((f"UDP 64 B, {name}: lb worker busy time per frame", "us", "lower", 2, ("sweep", i, "lb_busy_us_per_frame")))
            rows.append((f"UDP 64 B, {name}: of which TX kicks (kernel transmit)", "us", "lower", 2, ("sweep", i, "lb_kick_us_per_frame")))
            rows.append((f"UDP 64 B, {name}: lb frames per busy second (one worker's capacity)", "kpps", "higher", 0,
                         ("sweep", i, "lb_capacity_pps"), 1e-3))
            rows.append((f"UDP 64 B, {name}: lb frames per busy duty cycle (batch)", "frames", "higher", 1, ("sweep", i, "lb_batch")))
            rows.append((f"UDP 64 B, {name}: lb sleeps per frame", "", "lower", 3, ("sweep", i, "lb_sleeps_per_frame")))
    for load, lname in (("latency_idle", "box idle"), ("latency_half", "50% load")):
        for p, pname in (("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")):
            rows.append((f"added RTT {pname}, {lname}", "us", "lower", 0, (load, "added", p)))
    rows.append(("direct RTT p99 (no box), box idle", "us", "lower", 0, ("latency_idle", "direct", "p99")))
    return rows


def fmt(v, digits):
    if v is None:
        return "n/a"
    if abs(v) >= 1000 and digits == 0:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def summarize(results, steps):
    table = []
    for row in metric_rows(results, steps):
        label, unit, better, digits, path = row[:5]
        scale = row[5] if len(row) > 5 else 1
        cells = {}
        cpu_metric = path[-1].startswith(("box_", "lb_"))
        for key, _ in PEERS:
            vals = [None if v is None else v * scale for v in pick(results[key]["reps"], path)]
            if key in BOTH_CPUS and path[-1].startswith("box_"):
                vals = []
            left_out = 0
            if cpu_metric:
                foreign = pick(results[key]["reps"], path[:-1] + ("foreign_pct",))
                clean = [v for v, f in zip(vals, foreign) if f is not None and f <= FOREIGN_LIMIT_PCT]
                left_out = sum(1 for v in vals if v is not None) - sum(1 for v in clean if v is not None)
                if any(v is not None for v in clean):
                    vals = clean
                else:
                    left_out = -1  # every window was loaded: all kept, flagged
            cells[key] = med_spread(vals)
            if cells[key]:
                cells[key]["left_out"] = left_out
        table.append(dict(label=label, unit=unit, better=better, digits=digits, cells=cells))
    return table


def markdown_table(table):
    head = "| metric | " + " | ".join(PEERS_TITLE[k] for k, _ in PEERS) + " |"
    lines = [head, "|---|" + "---:|" * len(PEERS)]
    for row in table:
        cells = []
        for key, _ in PEERS:
            c = row["cells"][key]
            if c is None:
                cells.append("n/a")
            else:
                text = fmt(c["median"], row["digits"])
                if c["n"] > 1:
                    text += f" ({fmt(c['min'], row['digits'])}–{fmt(c['max'], row['digits'])})"
                if c.get("left_out", 0) > 0:
                    text += f" [{c['left_out']} loaded run(s) left out]"
                elif c.get("left_out", 0) < 0:
                    text += " [all runs loaded]"
                cells.append(text)
        lines.append(f"| {row['label']} ({row['unit']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


PEERS_TITLE = dict(PEERS + EXTRA_PEERS)
COLORS = dict(kernel="#7f7f7f", iptables="#1f77b4", nftables="#2ca02c", lb="#d62728", lbspin="#ff7f0e",
              lbv3="#9467bd", lb2w="#8c564b", lbsleep="#e377c2", lbdsr="#17becf",
              lbipip="#bcbd22", ip6tables="#aec7e8", lb6="#ff9896")


def svg_chart(table, chart_rows, title):
    """Grouped bars: one panel per metric, one bar per peer (the median), a whisker for min-max."""
    rows = [r for label in chart_rows for r in table if r["label"] == label]
    cols = 3
    pw, ph = 300, 210
    top = 70
    nrows = (len(rows) + cols - 1) // cols
    width, height = cols * pw + 20, top + nrows * ph + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="15" font-weight="bold">{esc(title)}</text>']
    x = 10
    for key, name in PEERS:
        out.append(f'<rect x="{x}" y="34" width="12" height="12" fill="{COLORS[key]}"/>')
        out.append(f'<text x="{x + 16}" y="44">{esc(name)}</text>')
        x += 24 + 7 * len(name)
    out.append(f'<text x="10" y="62" fill="#555">bar: median of the repetitions; whisker: min–max; '
               f'*: every run of it overlapped other users\' load (box CPU rows)</text>')
    for idx, row in enumerate(rows):
        px = 10 + (idx % cols) * pw
        py = top + (idx // cols) * ph
        out.append(f'<text x="{px + 4}" y="{py + 14}" font-weight="bold">{esc(chart_rows[row["label"]])}</text>')
        out.append(f'<text x="{px + 4}" y="{py + 28}" fill="#555">{esc(row["unit"])}, {row["better"]} is better</text>')
        cells = [row["cells"][k] for k, _ in PEERS]
        vmax = max([c["max"] for c in cells if c] + [1e-9])
        vmin = min([c["min"] for c in cells if c] + [0])
        span = vmax - vmin if vmax > vmin else 1
        base_y, plot_h = py + ph - 40, ph - 90
        zero_y = base_y - (0 - vmin) / span * plot_h
        out.append(f'<line x1="{px + 10}" y1="{zero_y:.1f}" x2="{px + pw - 20}" y2="{zero_y:.1f}" stroke="#999"/>')
        bw = (pw - 40) / len(PEERS)
        for i, (key, _) in enumerate(PEERS):
            c = row["cells"][key]
            bx = px + 15 + i * bw
            if not c:
                out.append(f'<text x="{bx + 4:.1f}" y="{zero_y - 4:.1f}" fill="#999">n/a</text>')
                continue
            y_med = base_y - (c["median"] - vmin) / span * plot_h
            y0, y1 = sorted((zero_y, y_med))
            out.append(f'<rect x="{bx + 3:.1f}" y="{y0:.1f}" width="{bw - 8:.1f}" height="{max(y1 - y0, 0.5):.1f}" fill="{COLORS[key]}"/>')
            if c["n"] > 1:
                ya = base_y - (c["min"] - vmin) / span * plot_h
                yb = base_y - (c["max"] - vmin) / span * plot_h
                cx = bx + 3 + (bw - 8) / 2
                out.append(f'<line x1="{cx:.1f}" y1="{ya:.1f}" x2="{cx:.1f}" y2="{yb:.1f}" stroke="black"/>')
                for yy in (ya, yb):
                    out.append(f'<line x1="{cx - 4:.1f}" y1="{yy:.1f}" x2="{cx + 4:.1f}" y2="{yy:.1f}" stroke="black"/>')
            label_y = min(y_med, base_y - (c["max"] - vmin) / span * plot_h) - 4
            mark = "*" if c.get("left_out", 0) < 0 else ""
            out.append(f'<text x="{bx + (bw - 2) / 2:.1f}" y="{label_y:.1f}" text-anchor="middle" font-size="10">{esc(fmt(c["median"], row["digits"]) + mark)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def flow_scaling_figures(results):
    """Medians (and spread) over every window of every repetition of lb (backoff)'s flow-count
    scaling test, or None when it did not run."""
    runs = [r["flow_scaling"] for r in results.get("lb", {}).get("reps", []) if r.get("flow_scaling")]
    if not runs:
        return None
    out = dict(runs=len(runs), flows_after_create=[r["flows_after_create"] for r in runs],
               create_s=[r["create_s"] for r in runs], flows_big=runs[0]["flows_big"], flows_small=runs[0]["flows_small"])
    for kind in ("small", "big"):
        windows = [w for r in runs for w in r[kind]]
        out[kind] = {m: med_spread([w.get(m) for w in windows])
                     for m in ("lb_busy_us_per_frame", "lb_own_us_per_frame", "box_us_per_pkt", "lb_us_per_pkt", "loss", "offered_pps", "lb_batch")}
        out[kind]["flows_at_end"] = [w.get("flows_at_end") for w in windows]
    return out


def flow_scaling_summary(results):
    f = flow_scaling_figures(results)
    if not f:
        return "Flow-count scaling: not run."
    def cell(kind, m, digits, scale=1):
        c = f[kind][m]
        if not c:
            return "n/a"
        return f"{fmt(c['median'] * scale, digits)} ({fmt(c['min'] * scale, digits)}–{fmt(c['max'] * scale, digits)})"
    def ratio(m):
        a, b = f["small"][m], f["big"][m]
        return b["median"] / a["median"] if a and b and a["median"] else None
    lines = [
        f"Flow-count scaling, lb (backoff): UDP at 50% of the reference rate through {f['flows_small']:,} flows, "
        f"then through {f['flows_big']:,} flows (created first by one pass at 75%: "
        f"{', '.join(f'{n:,}' for n in f['flows_after_create'])} flows in the table after it), windows alternating; "
        f"{len(f['small']['flows_at_end'])} window(s) of each kind over {f['runs']} run(s).",
        "",
        f"| metric | {f['flows_small']:,} flows | {f['flows_big']:,} flows | ratio |",
        "|---|---:|---:|---:|",
        f"| lb worker busy time per frame (us) | {cell('small', 'lb_busy_us_per_frame', 2)} | {cell('big', 'lb_busy_us_per_frame', 2)} | {fmt(ratio('lb_busy_us_per_frame'), 2)} |",
        f"| of which outside the TX kicks (lb's own work, us) | {cell('small', 'lb_own_us_per_frame', 2)} | {cell('big', 'lb_own_us_per_frame', 2)} | {fmt(ratio('lb_own_us_per_frame'), 2)} |",
        f"| box CPU per packet (us) | {cell('small', 'box_us_per_pkt', 2)} | {cell('big', 'box_us_per_pkt', 2)} | {fmt(ratio('box_us_per_pkt'), 2)} |",
        f"| lb process CPU per packet (us) | {cell('small', 'lb_us_per_pkt', 2)} | {cell('big', 'lb_us_per_pkt', 2)} | {fmt(ratio('lb_us_per_pkt'), 2)} |",
        f"| frames per busy duty cycle | {cell('small', 'lb_batch', 1)} | {cell('big', 'lb_batch', 1)} | |",
        f"| loss (%) | {cell('small', 'loss', 3, 100)} | {cell('big', 'loss', 3, 100)} | |",
        f"| flows in the table at the window's end | {', '.join(f'{n:,}' for n in f['small']['flows_at_end'] if n is not None)} | "
        f"{', '.join(f'{n:,}' for n in f['big']['flows_at_end'] if n is not None)} | |",
    ]
    return "\n".join(lines)


def targets(table, steps, results):
    """The issue's targets, checked on the medians."""
    by = {r["label"]: r["cells"] for r in table}
    lines = []

    def med(label, key):
        c = by.get(label, {}).get(key)
        return c["median"] if c else None

    half_idx = [i for i, f in enumerate(steps) if f == 0.5]
    if half_idx:
        lbl = f"UDP 64 B, 50% of reference: box CPU per packet"
        ipt = med(lbl, "iptables")
        for key in lb_keys():
            v = med(lbl, key)
            ok = v is not None and ipt is not None and v <= ipt
            lines.append(f"- {'MET' if ok else 'MISSED'}: box CPU per forwarded packet at 50% load, "
                         f"{PEERS_TITLE[key]} {fmt(v, 2)} us vs iptables DNAT {fmt(ipt, 2)} us (target: at most iptables').")
    for key in lb_keys():
        losses = [s["loss"] for r in results[key]["reps"] for s in r["sweep"]]
        worst = max(losses) if losses else None
        ok = worst is not None and worst <= 0
        lines.append(f"- {'MET' if ok else 'MISSED'}: zero loss at every step of the sweep, {PEERS_TITLE[key]}: "
                     f"worst step lost {fmt(100 * worst if worst is not None else None, 3)}% "
                     f"(all steps, all repetitions).")
    # HTTP against the kernel's DNAT of the same family, for the pairs that ran.
    for ours, theirs, family in (("lb", "iptables", ""), ("lb6", "ip6tables", " over IPv6")):
        if ours not in results or theirs not in results:
            continue
        for proto in ("HTTP keep-alive", "HTTP Connection: close"):
            ipt, v = med(proto, theirs), med(proto, ours)
            ok = v is not None and ipt is not None and v >= 0.9 * ipt
            ratio = v / ipt if v is not None and ipt else None
            lines.append(f"- {'MET' if ok else 'MISSED'}: {proto} req/s{family} with the default idle strategy: lb {fmt(v, 0)} "
                         f"= {fmt(ratio, 2)} x {PEERS_TITLE[theirs]} {fmt(ipt, 0)} (target: at least 0.9 x).")
    for key in lb_keys():
        v = med("added RTT p99, 50% load", key)
        invalid = sum(1 for r in results[key]["reps"] if r["latency_half"]["added"]["p99"] is None)
        ok = v is not None and v <= 100 and not invalid
        note = f" ({invalid} run(s) without one valid sample: counted as missed)" if invalid else ""
        lines.append(f"- {'MET' if ok else 'MISSED'}: added p99 RTT at half load, {PEERS_TITLE[key]}: {fmt(v, 0)} us{note} "
                     f"(target: at most 100 us; kernel forwarding itself adds {fmt(med('added RTT p99, 50% load', 'kernel'), 0)} us here).")
    # The one-way modes (issue 9): the return path no longer crosses the box.
    for key in (k for k in lb_keys() if peer_mode(k) != "nat"):
        for label, bound in (("iperf3 download box CPU per Gbit", 0.3), ("HTTP keep-alive, box CPU per request", 1.0),
                             ("HTTP close, box CPU per request", 1.0)):
            ipt, v = med(label, "iptables"), med(label, key)
            ratio = v / ipt if v is not None and ipt else None
            ok = ratio is not None and ratio <= bound
            lines.append(f"- {'MET' if ok else 'MISSED'}: {label}, {PEERS_TITLE[key]} {fmt(v, 2)} = {fmt(ratio, 2)} x "
                         f"iptables DNAT {fmt(ipt, 2)} (target: at most {bound} x).")
    cap = med("UDP 64 B, top speed: lb frames per busy second (one worker's capacity)", "lb")
    if cap is not None:
        lines.append(f"- {'MET' if cap >= 1000 else 'MISSED'}: one worker's capacity from busy-time accounting, lb (backoff) "
                     f"at the generator's top speed: {fmt(cap, 0)} kpps (target: at least 1,000 kpps).")
    f = flow_scaling_figures(results)
    if f and f["small"]["lb_busy_us_per_frame"] and f["big"]["lb_busy_us_per_frame"]:
        a, b = f["small"]["lb_busy_us_per_frame"]["median"], f["big"]["lb_busy_us_per_frame"]["median"]
        lines.append(f"- {'MET' if b <= 2 * a else 'MISSED'}: flow-count scaling, lb worker busy time per frame at "
                     f"{f['flows_big']:,} flows {fmt(b, 2)} us = {fmt(b / a, 2)} x at {f['flows_small']:,} flows {fmt(a, 2)} us "
                     f"(target: at most 2 x; the JMH pipeline benchmark isolates the table: see above).")
    return "\n".join(lines)


def foreign_summary(results):
    vals = []
    for key, _ in PEERS:
        for r in results[key]["reps"]:
            windows = [r["http_ka"], r["http_close"], r["bulk"]] + ([r["bulk_down"]] if "bulk_down" in r else []) + r["sweep"]
            vals += [w.get("foreign_pct") for w in windows if w.get("foreign_pct") is not None]
    if not vals:
        return "n/a"
    over = sum(1 for v in vals if v > FOREIGN_LIMIT_PCT)
    return (f"median {statistics.median(vals):.1f}% of a CPU, max {max(vals):.0f}%; "
            f"{over} of {len(vals)} windows over {FOREIGN_LIMIT_PCT:.0f}%")


def lb_counters_summary(results):
    """lb's own drop counters (printed on SIGTERM), summed over the repetitions."""
    lines = []
    for key in lb_process_keys():
        totals = {}
        exits = []
        for r in results[key]["reps"]:
            lbres = r.get("lb") or {}
            exits.append(lbres.get("exit"))
            for name, v in lbres.get("counters", {}).items():
                if name.startswith("drop") or name.startswith("rx_") or name.startswith("tx_") and name.endswith("frames"):
                    totals[name] = totals.get(name, 0) + v
        shown = ", ".join(f"{k} {v:,}" for k, v in totals.items()
                          if v and (k.startswith("drop") or k.endswith("frames")))
        lines.append(f"- {PEERS_TITLE[key]}: {shown or 'no counters'} (exit status on SIGTERM: {exits})")
    return "\n".join(lines)


def machine_facts():
    def sh(cmd):
        try:
            r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20)
            return (r.stdout + r.stderr).strip()
        except subprocess.TimeoutExpired:
            return "?"
    model = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    mem = re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read())
    return dict(
        nproc=sh("nproc --all"),  # not plain nproc: this process is pinned to one CPU
        cpu=model.group(1) if model else "?",
        hypervisor=sh("lscpu | awk -F: '/Hypervisor vendor/{gsub(/^ +/, \"\", $2); print $2}'") or "none",
        mem_gib=f"{int(mem.group(1)) / 1024 / 1024:.1f}" if mem else "?",
        kernel=sh("uname -r"),
        java=sh("java -version 2>&1 | head -n 2 | tr '\\n' ' '"),
        tools=sh("echo \"$(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); iperf3 $(iperf3 -v | head -n1 | cut -d' ' -f2); "
                 "$(tcpreplay -V 2>&1 | head -n1 | cut -d' ' -f1,3); sockperf $(sockperf --version 2>&1 | head -n1 | sed 's/.*version //'); "
                 "$(nginx -v 2>&1 | cut -d: -f2 | sed 's/^ //'); $(iptables-legacy -V); $(nft -v)\""),
        commit=sh(f"git -C {REPO} rev-parse --short HEAD") + (
            " with uncommitted changes" if sh(f"git -C {REPO} status --porcelain --untracked-files=no") else ""),
    )


def write_outputs(h, out_dir, update_repo):
    steps = h.p["steps"]
    table = summarize(h.results, steps)
    facts = getattr(h, "facts", None) or machine_facts()
    env = h.env
    bg = med_spread(env["background_busy"])
    la = med_spread(env["loadavg"])
    chart_rows = {  # table row -> panel title
        "HTTP keep-alive": "HTTP keep-alive",
        "HTTP Connection: close": "HTTP Connection: close",
        "iperf3 TCP, 4 streams": "iperf3, 4 TCP streams",
        "HTTP keep-alive, box CPU per request": "box CPU per request, keep-alive",
        "HTTP close, box CPU per request": "box CPU per request, close",
        "iperf3 box CPU per Gbit": "box CPU per Gbit, iperf3",
        "UDP 64 B, 50% of reference: box CPU per packet": "box CPU per UDP packet, 50% load",
        "UDP 64 B, generator at top speed: delivered": "UDP delivered, generator top speed",
        "UDP 64 B, generator at top speed: loss": "UDP loss, generator top speed",
        "added RTT p99, box idle": "added RTT p99, box idle",
        "added RTT p99, 50% load": "added RTT p99, 50% load",
        "added RTT p99.9, 50% load": "added RTT p99.9, 50% load",
    }
    os.makedirs(out_dir, exist_ok=True)
    # The raw results first: a report that fails to render must not lose a 10-minute run.
    if os.path.abspath(out_dir) != HERE:
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            json.dump(dict(profile=h.p, ref_pps=h.ref_pps, env=env, facts=facts, results=h.results),
                      f, indent=1, default=str)
    svg = svg_chart(table, chart_rows, "lb vs the kernel on the netns testbed" + (" (quick)" if h.quick else ""))
    cmd = "sudo benchmarks/harness/run.sh" + (" --quick" if h.quick else "")
    when = env.get("finished") or datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    md = f"""<!-- harness:begin (written by benchmarks/harness/run.sh; text outside these markers is kept) -->
Run {when} with `{cmd}` ({h.p['reps']} repetition(s) x {len(PEERS)} peers, {env['elapsed_s']:.0f} s; lb built from commit {facts['commit']}).

Machine: {facts['nproc']} CPUs, {facts['cpu']} ({facts['hypervisor']} guest), {facts['mem_gib']} GiB, kernel {facts['kernel']};
{facts['java']}.
Tools: {facts['tools']}.
Load (shared machine): load average {env['loadavg_start']} at the start, {env['loadavg_end']} at the end;
1-min load average before each peer run: median {fmt(la['median'], 2)} (min {fmt(la['min'], 2)}, max {fmt(la['max'], 2)});
CPU 0 busy with no traffic just before each peer run (after waiting up to 5 s for it and other users to be quiet): median {fmt(bg['median'], 1)}% (max {fmt(bg['max'], 1)}%);
other users' processes during the box-CPU windows: {foreign_summary(h.results)}.
Reference rate (64-byte UDP, tcpreplay at top speed from c1 through kernel forwarding to the servers, delivered): {h.ref_pps / 1e3:.1f} kpps;
the sweep's steps and the latency test's background load ("50% load") are fractions of it.

Cells: median (min–max) over the repetitions. Box CPU: CPU 0's busy time (wall minus idle and steal) per unit of work;
a run during whose window other users' processes took more than {FOREIGN_LIMIT_PCT:.0f}% of a CPU is left out of the box-CPU rows (said in the cell).
Added RTT: sockperf UDP ping-pong RTT through the box minus the same client's RTT to a host on its own LAN, paired per run; percentiles from an HdrHistogram of every round trip in sockperf's per-message log.

{markdown_table(table)}

lb's counters over all repetitions (every run of lb, warm-up and all tests included):

{lb_counters_summary(h.results)}

{flow_scaling_summary(h.results)}

Targets (from the issue), on the medians:

{targets(table, steps, h.results)}

![chart](harness/results.svg)
<!-- harness:end -->
"""
    os.makedirs(out_dir, exist_ok=True)
    if os.path.abspath(out_dir) == HERE:  # --report on the repository's own results.json
        out_dir = os.path.join("/tmp", "lb-harness-report")
        os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(dict(profile=h.p, ref_pps=h.ref_pps, env=env, facts=facts, results=h.results),
                  f, indent=1, default=str)
    with open(os.path.join(out_dir, "results.svg"), "w") as f:
        f.write(svg)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(md)
    if update_repo:
        with open(os.path.join(HERE, "results.svg"), "w") as f:
            f.write(svg)
        with open(os.path.join(HERE, "results.json"), "w") as f:
            json.dump(dict(profile=h.p, ref_pps=h.ref_pps, env=env, facts=facts, results=h.results),
                      f, indent=1, default=str)
        update_results_md(os.path.join(REPO, "benchmarks", "RESULTS.md"), md)
    print(md)


def rerender(path):
    """The report of a finished run, from its results.json: for changes to the report's form."""
    with open(path) as f:
        saved = json.load(f)
    PEERS[:] = [(k, t) for k, t in PEERS if saved["results"].get(k, {}).get("reps")]
    h = argparse.Namespace(p=saved["profile"], results=saved["results"], env=saved["env"],
                           ref_pps=saved["ref_pps"], facts=saved["facts"])
    h.p["steps"] = tuple(h.p["steps"])
    h.quick = h.p["reps"] == PROFILES["quick"]["reps"] and h.p["steps"] == PROFILES["quick"]["steps"]
    h.facts["nproc"] = str(os.cpu_count()) if h.facts.get("nproc") == "1" else h.facts["nproc"]  # runs before the nproc --all fix
    h.env.setdefault("finished", datetime.datetime.fromtimestamp(os.path.getmtime(path)).astimezone().strftime("%Y-%m-%d %H:%M %Z"))
    write_outputs(h, os.path.dirname(os.path.abspath(path)), update_repo=not h.quick)


def update_results_md(path, block):
    """Replaces the block between the harness markers inside '## Testbed benchmark' (creating
    the section, or the file, when missing); everything else in the file stays."""
    text = open(path).read() if os.path.exists(path) else ""
    begin = text.find("<!-- harness:begin")
    end = text.find("<!-- harness:end -->")
    if begin >= 0 and end > begin:
        text = text[:begin] + block + text[end + len("<!-- harness:end -->\n"):]
    elif "## Testbed benchmark" in text:
        i = text.index("## Testbed benchmark")
        j = text.index("\n", i) + 1
        text = text[:j] + "\n" + block + text[j:]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + "## Testbed benchmark\n\n" + block
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one repetition, short steps (about 2 minutes)")
    ap.add_argument("--ipv6", action="store_true", help="the IPv6 peers only: --peers " + ",".join(IPV6_PEERS))
    ap.add_argument("--peers", help="comma-separated peer keys to run (default: " + ",".join(k for k, _ in PEERS) + "; also: " + ",".join(k for k, _ in EXTRA_PEERS) + ")")
    ap.add_argument("--logdir", help="where logs and per-run results go (default /tmp/lb-harness-ID)")
    ap.add_argument("--state", help="state file of what this run creates (default /run/lb-harness/ID.state)")
    ap.add_argument("--cleanup", metavar="STATE", help="only clean up what the state file lists, then exit")
    ap.add_argument("--report", metavar="RESULTS_JSON",
                    help="only write the report again from a run's results.json (into the repository when it was a full run)")
    args = ap.parse_args()
    if args.report:
        rerender(args.report)
        return 0
    if args.cleanup:
        cleanup_file(args.cleanup)
        return 0
    if args.ipv6 and args.peers:
        print("harness: --ipv6 is --peers " + ",".join(IPV6_PEERS) + ": give one of them", file=sys.stderr)
        return 2
    if args.ipv6:
        args.peers = ",".join(IPV6_PEERS)
    if args.peers:
        keys = args.peers.split(",")
        unknown = [k for k in keys if k not in PEERS_TITLE]
        if unknown:
            print(f"harness: unknown peer(s) {','.join(unknown)}; known: {','.join(PEERS_TITLE)}", file=sys.stderr)
            return 2
        PEERS[:] = [(k, PEERS_TITLE[k]) for k in keys]
    if os.geteuid() != 0:
        print("harness: must run as root (network namespaces)", file=sys.stderr)
        return 1
    # The harness and every helper it runs (ip, nft, testbed.sh) stay off the box's CPU; lb is
    # moved to CPU 0 explicitly with taskset.
    os.sched_setaffinity(0, {GEN_CPU})
    h = Harness(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    try:
        h.run_all()
        # An IPv6 run has no sweep or latency figures: its table stays out of RESULTS.md's IPv4 block.
        write_outputs(h, h.logdir, update_repo=not h.quick and not any(is_ipv6(k) for k, _ in PEERS))
        log(f"done in {time.monotonic() - h.t_start:.0f} s; logs and results in {h.logdir}")
        return 0
    except (HarnessError, subprocess.TimeoutExpired, subprocess.CalledProcessError) as e:
        log(f"error: {e}")
        return 1
    except SystemExit as e:
        log(f"stopped by a signal: removing what this run created")
        raise
    finally:
        h.registry.cleanup()
        try:
            os.remove(h.registry.path)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
