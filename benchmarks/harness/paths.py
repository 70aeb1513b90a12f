#!/usr/bin/env python3
"""Seeds 003 and 002 live: lb's route services (and the kernel doing the same job) spreading a
prefix over parallel shaped paths. Run it through paths.sh (root check, cleanup on exit).

Topology, built afresh for every peer and scenario, namespaces "<prefix>-<role>" with a prefix
unique per run ("lbp" + 4 random hex digits + a counter), every namespace and PID recorded in the
state file before it exists and removed on exit (also on Ctrl-C, SIGTERM or an error):

    c (client 198.18.0.11) --veth-- box (cli0 | srv0) --veth-- sw: bridge brs (server LAN 198.18.1.0/24)
    brs: r1 198.18.1.12, r2 198.18.1.13, ... (next-hop routers, eth0)
    r_i eth1 198.18.(10+i).1 --veth-- agg p_i 198.18.(10+i).2      (path i)
        with skew: r2 eth1 --veth-- d2 (a0 | delay_forwarder | a1) --veth-- agg p2
    agg eth0 198.19.0.1 --veth-- srv eth0 198.19.0.5 (the destination, in route 198.19.0.0/16)

- box is lb (bin/lb -c FILE, route far 198.19.0.0/16 over r1..rN; lb's interfaces set up as
  docker/testbed.sh does: no addresses, tso/gso/tx off, clsact drop filter, ip_forward 0), or a
  kernel router (cli0 198.18.0.1, srv0 198.18.1.1, ip_forward 1) for the kernel peers:
  "kernel-mp": ip route 198.19.0.0/16 nexthop via r1 nexthop via r2, fib_multipath_hash_policy=1;
  "ipt-nth": seed 003's per-packet rules (mangle PREROUTING -m statistic --mode nth --every 2
  --packet 0 -d 198.19.0.0/16 -j MARK 3, mark 3 RETURN, ip rule fwmark 3 table 100, main table
  via r1, table 100 via r2); "ipt-connmark": seed 003's per-flow rules (NEW: CONNMARK 2, NEW with
  -m statistic --mode random --probability 0.5: CONNMARK 1, ESTABLISHED,RELATED: restore-mark,
  connmark 1: MARK 3, mark 3 RETURN; same routing). iptables-legacy, -i cli0 as the seed's $IF_BACK.
- Shaping as seed 003 on each r_i's egress toward agg (eth1): htb root, default class 1:3 rate
  50mbit quantum 1514, bfifo limit 1mbit (tc makes it 131,072 bytes, "128Kb") under it (the seed writes parent 1:2,
  which does not exist; the class hangs off 1: here). `tc -s qdisc` of r1 is printed once.
- Offloads: tso, gso, gro, tx and rx checksumming off on every veth end (wire-size frames
  for htb/bfifo, the AF_PACKET forwarders, iptables' nth and lb).
- Return traffic (ACKs, server to client) goes back over path 1 only (agg: 198.18.0.0/24 via r1;
  r_i: 198.18.0.0/24 via the box's gateway 198.18.1.1), unshaped in that direction; rp_filter 0
  everywhere. Path 1 is never the delayed one.
- Skew: path 2's link runs through docker/delay_forwarder.py (AF_PACKET, holds every frame r2 ->
  agg for --skew-ms, 5 ms by default; agg -> r2 unheld). Proved by ping r_i -> agg over each link.

E1 (seed 003): iperf3 client -> server (upload, so the shaped direction carries the data),
-t --e1-seconds, -P 1 and -P 8, for each peer on equal paths and with the skew. Per test:
receiver throughput (iperf3 -J end.sum_received), sender retransmits (end.sum_sent), nstat
(TcpExt*, Tcp*) deltas in the server's namespace (receiver: TCPOFOQueue...) and the client's
(sender: TCPSACKReorder, DSACKs, ...), bytes per path from each r_i eth1's tx_bytes (the same
source for every peer) and, for lb, lb's own per-next-hop bytes (show routes json).

E2 (seed 002): for 2 and 4 paths, each of flow-random, flow-hash, least-flows, least-flows +
rebalance on: a churn client (this script, --churn, in c) opens TCP connections to a sink (this
script, --sink, in srv) with Poisson arrivals (--e2-rate per s for --e2-seconds, same random seed
for every policy), durations from a bounded Pareto (alpha 1.1 on 1..20 s), each sending 64 bytes
every 250 ms, closed with FIN both ways; everything ends by a hard deadline. lb's `show routes
json` is sampled every 100 ms over one control-socket connection; the statistics (max - min and
max of active flows per next hop: mean, p50, p99, max) use the samples from 5 s after the start
to the end of the arrivals.
"""
import argparse
import collections
import datetime
import json
import math
import os
import random
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository from root's runs
import harness_common
from harness_common import (HarnessError, Registry, cleanup_file as _cleanup_file, in_ns, iperf3_result,
                            lb_control as control, make_log, run)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PYTHON = "/usr/bin/python3"
DELAY_PY = os.path.join(REPO, "docker", "delay_forwarder.py")
IPT = "iptables-legacy"
DEST = "198.19.0.5"
PREFIX_NET = "198.19.0.0/16"
CLIENT_IP = "198.18.0.11"
LB_CLIENT_IP = "198.18.0.1"
GATEWAY_IP = "198.18.1.1"
SERVER_NET = "198.18.1.0/24"
RESULTS_TITLE = "## Seed 003 and 002 path spreading, live (E1, E2)"
NSTAT_KEYS = ["TcpExtTCPOFOQueue", "TcpExtTCPOFOMerge", "TcpExtTCPOFODrop", "TcpExtTCPSACKReorder",
              "TcpExtTCPTSReorder", "TcpExtTCPRenoReorder", "TcpExtTCPDSACKRecv", "TcpExtTCPDSACKOfoRecv",
              "TcpExtTCPDSACKOldSent", "TcpExtTCPDSACKOfoSent", "TcpExtTCPFastRetrans", "TcpExtTCPLostRetransmit",
              "TcpExtTCPSackRecovery", "TcpExtTCPFullUndo", "TcpExtTCPPartialUndo", "TcpExtTCPDSACKUndo",
              "TcpExtTCPSpuriousRTOs", "TcpExtTCPTimeouts", "TcpRetransSegs", "TcpOutSegs", "TcpInSegs"]

LB_PEERS = {"lb-packet": "packet", "lb-flow-random": "flow-random", "lb-flow-hash": "flow-hash",
            "lb-least-flows": "least-flows", "lb-flowlet": "flowlet"}
KERNEL_PEERS = ["kernel-mp", "ipt-nth", "ipt-connmark"]
E1_PEERS = list(LB_PEERS) + KERNEL_PEERS
E2_POLICIES = [("flow-random", False), ("flow-hash", False), ("least-flows", False), ("least-flows", True)]


log = make_log("paths")


# ------------------------------------------------------------------------------ state / cleanup
# The state file (every namespace before it exists, every process right after it starts, with its
# start time, so a later process with the same PID is left alone): harness_common.Registry.

def cleanup_file(path):
    """Kills the recorded PIDs (by start time, their process groups) and deletes the recorded
    namespaces; idempotent."""
    _cleanup_file(path, grace_s=5.0, group=True)


class Proc(harness_common.Proc):
    def __init__(self, state, argv, logpath):
        super().__init__(state, argv, logpath, log)

    def kill_message(self, sig, grace_s):
        return f"pid {self.pid} ignored SIGTERM: SIGKILL"

    def stop(self, grace=8.0):
        return super().stop(signal.SIGTERM, grace, group=True)


# ------------------------------------------------------------------------------ topology

class Topology:
    def __init__(self, h, name, npaths, skew_ms, box):
        self.h, self.npaths, self.skew_ms, self.box = h, npaths, skew_ms, box
        self.prefix = f"{h.prefix}{name}"
        self.procs = []
        self.roles = ["c", "box", "sw", "agg", "srv"] + [f"r{i}" for i in range(1, npaths + 1)]
        if skew_ms:
            self.roles.append("d2")
        self.dir = os.path.join(h.logdir, self.prefix)
        os.makedirs(self.dir, exist_ok=True)

    def ns(self, role):
        return f"{self.prefix}-{role}"

    def x(self, role, *argv, timeout=30, check=True):
        return run(in_ns(self.ns(role), list(argv)), timeout=timeout, check=check)

    def veth(self, role_a, dev_a, role_b, dev_b):
        run(["ip", "-n", self.ns(role_a), "link", "add", dev_a, "type", "veth", "peer", "name", dev_b,
             "netns", self.ns(role_b)])
        for role, dev in ((role_a, dev_a), (role_b, dev_b)):
            self.x(role, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off")
            run(["ip", "-n", self.ns(role), "link", "set", dev, "up"])

    def addr(self, role, dev, cidr):
        run(["ip", "-n", self.ns(role), "addr", "add", cidr, "dev", dev])

    def route(self, role, *args):
        run(["ip", "-n", self.ns(role), "route", "add"] + list(args))

    def sysctl(self, role, *kv):
        self.x(role, "sysctl", "-q", "-w", *kv)

    def up(self):
        for role in self.roles:
            n = self.ns(role)
            self.h.state.add_ns(n)
            run(["ip", "netns", "add", n])
            run(["ip", "-n", n, "link", "set", "lo", "up"])
            self.sysctl(role, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
                        "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
        if os.path.isdir(f"/proc/sys/net/bridge"):
            self.x("sw", "sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=0", check=False)
        run(["ip", "-n", self.ns("sw"), "link", "add", "brs", "type", "bridge", "stp_state", "0",
             "mcast_snooping", "0"])
        run(["ip", "-n", self.ns("sw"), "link", "set", "brs", "up"])
        self.veth("c", "eth0", "box", "cli0")
        self.veth("box", "srv0", "sw", "pbox")
        run(["ip", "-n", self.ns("sw"), "link", "set", "pbox", "master", "brs"])
        for i in range(1, self.npaths + 1):
            r = f"r{i}"
            self.veth(r, "eth0", "sw", f"p{r}")
            run(["ip", "-n", self.ns("sw"), "link", "set", f"p{r}", "master", "brs"])
            if self.skew_ms and i == 2:
                self.veth(r, "eth1", "d2", "a0")
                self.veth("d2", "a1", "agg", f"p{i}")
            else:
                self.veth(r, "eth1", "agg", f"p{i}")
            self.addr(r, "eth0", f"198.18.1.{11 + i}/24")
            self.addr(r, "eth1", f"198.18.{10 + i}.1/24")
            self.addr("agg", f"p{i}", f"198.18.{10 + i}.2/24")
            self.sysctl(r, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0",
                        "net.ipv4.conf.eth0.send_redirects=0", "net.ipv4.conf.eth0.rp_filter=0",
                        "net.ipv4.conf.eth1.rp_filter=0")
            self.route(r, PREFIX_NET, "via", f"198.18.{10 + i}.2")
            self.route(r, "198.18.0.0/24", "via", GATEWAY_IP)
            # seed 003's bottleneck, on the path's egress toward agg
            self.x(r, "tc", "qdisc", "add", "dev", "eth1", "root", "handle", "1:", "htb", "default", "3")
            self.x(r, "tc", "class", "add", "dev", "eth1", "parent", "1:", "classid", "1:3", "htb",
                   "rate", "50mbit", "quantum", "1514")
            self.x(r, "tc", "qdisc", "add", "dev", "eth1", "parent", "1:3", "bfifo", "limit", "1mbit")
        self.veth("agg", "eth0", "srv", "eth0")
        self.addr("agg", "eth0", "198.19.0.1/24")
        self.addr("srv", "eth0", f"{DEST}/24")
        self.sysctl("agg", "net.ipv4.ip_forward=1", *[f"net.ipv4.conf.p{i}.rp_filter=0" for i in range(1, self.npaths + 1)])
        self.route("agg", "198.18.0.0/24", "via", "198.18.11.1")   # return traffic over path 1
        self.route("srv", "default", "via", "198.19.0.1")
        self.addr("c", "eth0", f"{CLIENT_IP}/24")
        self.route("c", PREFIX_NET, "via", LB_CLIENT_IP)
        if self.skew_ms:
            for dev in ("a0", "a1"):
                self.sysctl("d2", f"net.ipv4.conf.{dev}.rp_filter=0")
            self.procs.append(Proc(self.h.state, in_ns(self.ns("d2"), [
                PYTHON, DELAY_PY, "--delayed-in", "a0", "--delayed-out", "a1", "--delay-ms", str(self.skew_ms),
                "--max-seconds", "900", "--stats", os.path.join(self.dir, "delay.stats")]),
                os.path.join(self.dir, "delay.log")))
        if self.box.startswith("lb-") or self.box.startswith("lbe2-"):
            self.setup_lb_box()
        else:
            self.setup_kernel_box()

    def setup_lb_box(self):
        self.sysctl("box", "net.ipv4.ip_forward=0")
        for dev in ("cli0", "srv0"):
            self.x("box", "tc", "qdisc", "add", "dev", dev, "clsact")
            self.x("box", "tc", "filter", "add", "dev", dev, "ingress", "bpf", "da", "bytecode", "1,6 0 0 2,")

    def setup_kernel_box(self):
        self.addr("box", "cli0", f"{LB_CLIENT_IP}/24")
        self.addr("box", "srv0", f"{GATEWAY_IP}/24")
        self.sysctl("box", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0",
                    "net.ipv4.conf.srv0.send_redirects=0", "net.ipv4.conf.cli0.rp_filter=0",
                    "net.ipv4.conf.srv0.rp_filter=0")
        r1, r2 = "198.18.1.12", "198.18.1.13"
        if self.box == "kernel-mp":
            self.sysctl("box", "net.ipv4.fib_multipath_hash_policy=1")
            hops = []
            for i in range(1, self.npaths + 1):
                hops += ["nexthop", "via", f"198.18.1.{11 + i}", "dev", "srv0"]
            self.route("box", PREFIX_NET, *hops)
            return
        if self.npaths != 2:
            raise HarnessError("the iptables peers are seed 003's two-path rules")
        self.route("box", PREFIX_NET, "via", r1, "dev", "srv0")
        self.route("box", PREFIX_NET, "via", r2, "dev", "srv0", "table", "100")
        run(["ip", "-n", self.ns("box"), "rule", "add", "fwmark", "3", "table", "100"])
        ipt = lambda *a: self.x("box", IPT, "-t", "mangle", *a)
        ipt("-F")
        if self.box == "ipt-nth":
            ipt("-A", "PREROUTING", "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0",
                "--destination", PREFIX_NET, "--source", "198.18.0.0/24", "-j", "MARK", "--set-mark", "3")
            ipt("-A", "PREROUTING", "-m", "mark", "--mark", "3", "-j", "RETURN")
        elif self.box == "ipt-connmark":
            ipt("-A", "PREROUTING", "-i", "cli0", "-m", "conntrack", "--ctstate", "NEW", "-j", "CONNMARK", "--set-mark", "2")
            ipt("-A", "PREROUTING", "-i", "cli0", "-m", "conntrack", "--ctstate", "NEW", "-m", "statistic",
                "--mode", "random", "--probability", "0.5", "-j", "CONNMARK", "--set-mark", "1")
            ipt("-A", "PREROUTING", "-i", "cli0", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
                "-j", "CONNMARK", "--restore-mark")
            ipt("-A", "PREROUTING", "-m", "connmark", "--mark", "1", "-j", "MARK", "--set-mark", "3")
            ipt("-A", "PREROUTING", "-m", "mark", "--mark", "3", "-j", "RETURN")
        else:
            raise HarnessError(f"unknown box {self.box}")

    def start_lb(self, policy, rebalance=False):
        sock = os.path.join(self.dir, "lb.sock")
        conf = os.path.join(self.dir, "lb.conf")
        hops = "".join(f"  next-hop 198.18.1.{11 + i}\n" for i in range(1, self.npaths + 1))
        with open(conf, "w") as f:
            f.write(f"client-interface cli0\nserver-interface srv0\nclient-ip {LB_CLIENT_IP}\ngateway-ip {GATEWAY_IP}\n"
                    f"control-socket {sock}\nserver-network {SERVER_NET}\nprobe-interval 1s\nprobe-timeout 500ms\n\n"
                    f"route far {PREFIX_NET}\n  policy {policy}\n" + ("  rebalance on\n" if rebalance else "") + hops)
        self.lb = Proc(self.h.state, in_ns(self.ns("box"), [os.path.join(REPO, "bin", "lb"), "-c", conf]),
                       os.path.join(self.dir, "lb.log"))
        self.procs.append(self.lb)
        self.lb_sock = sock
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if not self.lb.alive():
                raise HarnessError(f"lb exited: {open(self.lb.logpath).read()[-1500:]}")
            try:
                routes = control(sock, "show routes json")
                if routes and all(r.get("health") == "up" for r in routes) and len(routes) == self.npaths:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        raise HarnessError("lb's next hops did not come up within 40 s")

    def start(self, role, argv, name):
        p = Proc(self.h.state, in_ns(self.ns(role), argv), os.path.join(self.dir, name + ".log"))
        self.procs.append(p)
        return p

    def down(self):
        outputs = {}
        for p in reversed(self.procs):
            try:
                outputs[os.path.basename(p.logpath)] = p.stop()
            except Exception as e:  # keep going: the namespaces must go
                log(f"stopping {p.pid}: {e}")
        self.procs = []
        for role in reversed(self.roles):
            n = self.ns(role)
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
            self.h.state.drop_ns(n)
        return outputs

    # -- measurements
    def tx_bytes(self):
        out = {}
        for i in range(1, self.npaths + 1):
            j = json.loads(self.x(f"r{i}", "ip", "-j", "-s", "link", "show", "eth1"))
            out[f"r{i}"] = j[0]["stats64"]["tx"]["bytes"]
        return out

    def nstat(self, role):
        out = {}
        for line in self.x(role, "nstat", "-asz").splitlines():
            p = line.split()
            if len(p) >= 2 and p[1].isdigit():
                out[p[0]] = int(p[1])
        return out

    def ping(self, i, count=20):
        o = self.x(f"r{i}", "ping", "-c", str(count), "-i", "0.05", "-q", f"198.18.{10 + i}.2", timeout=30)
        m = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", o)
        return dict(min=float(m.group(1)), avg=float(m.group(2)), max=float(m.group(3)), mdev=float(m.group(4)))


class ControlConn:
    """One control-socket connection kept open for the 100 ms sampler."""

    def __init__(self, sock):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(sock)
        self.buf = b""

    def ask(self, cmd):
        self.s.sendall(cmd.encode() + b"\n")
        while b"\n\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise OSError("control socket closed")
            self.buf += chunk
        answer, self.buf = self.buf.split(b"\n\n", 1)
        return json.loads(answer)

    def close(self):
        self.s.close()


def diff(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0)}


# ------------------------------------------------------------------------------ E1

def e1_test(t, parallel, seconds):
    srv_before, cli_before, tx_before = t.nstat("srv"), t.nstat("c"), t.tx_bytes()
    lb_before = control(t.lb_sock, "show routes json") if t.box.startswith("lb-") else None
    out = t.x("c", "iperf3", "-c", DEST, "-t", str(seconds), "-P", str(parallel), "-J", "--connect-timeout", "3000",
              timeout=seconds + 40, check=False)
    j = iperf3_result(out)
    time.sleep(0.5)
    srv_after, cli_after, tx_after = t.nstat("srv"), t.nstat("c"), t.tx_bytes()
    r = dict(parallel=parallel, seconds=seconds,
             mbit_received=j["end"]["sum_received"]["bits_per_second"] / 1e6,
             mbit_sent=j["end"]["sum_sent"]["bits_per_second"] / 1e6,
             retransmits=j["end"]["sum_sent"].get("retransmits"),
             receiver_nstat=diff(srv_before, srv_after), sender_nstat=diff(cli_before, cli_after),
             path_tx_bytes={k: tx_after[k] - tx_before[k] for k in tx_after})
    if lb_before is not None:
        lb_after = control(t.lb_sock, "show routes json")
        r["lb_hop_bytes"] = {a["next_hop"]: a["bytes"] - b["bytes"] for a, b in zip(lb_after, lb_before)}
        r["lb_hop_packets"] = {a["next_hop"]: a["packets"] - b["packets"] for a, b in zip(lb_after, lb_before)}
    return r


def e1_peer(h, peer, skew_ms, rep):
    name = f"{len(h.results['runs'])}"
    t = Topology(h, name, 2, skew_ms, peer)
    res = dict(experiment="E1", peer=peer, skew_ms=skew_ms, rep=rep, tests=[])
    try:
        t.up()
        if peer in LB_PEERS:
            t.start_lb(LB_PEERS[peer])
        else:
            t.x("c", "ping", "-c", "3", "-i", "0.2", "-W", "1", DEST, check=False)   # ARP warm
        res["ping"] = {f"r{i}": t.ping(i) for i in (1, 2)}
        if not h.printed_tc:
            h.tc_proof = t.x("r1", "tc", "-s", "qdisc", "show", "dev", "eth1")
        srv = t.start("srv", ["iperf3", "-s", "-B", DEST], "iperf3-server")
        time.sleep(0.5)
        for p in (1, 8):
            r = e1_test(t, p, h.e1_seconds)
            res["tests"].append(r)
            log(f"E1 {peer} skew={skew_ms} P{p}: {r['mbit_received']:.1f} Mbit/s retr={r['retransmits']} "
                f"ofo={r['receiver_nstat'].get('TcpExtTCPOFOQueue', 0)} "
                f"sackreorder={r['sender_nstat'].get('TcpExtTCPSACKReorder', 0)} paths={r['path_tx_bytes']}")
            time.sleep(1)
        if not h.printed_tc:
            h.tc_proof = t.x("r1", "tc", "-s", "qdisc", "show", "dev", "eth1")
            print(f"tc -s qdisc show dev eth1 in r1 after the tests:\n{h.tc_proof}", flush=True)
            h.printed_tc = True
    except HarnessError as e:
        res["error"] = str(e)
        log(f"E1 {peer} skew={skew_ms}: ERROR {e}")
    finally:
        outs = t.down()
        if peer in LB_PEERS:
            res["lb_exit"] = [l for l in outs.get("lb.log", "").splitlines()
                              if l.startswith(("route ", "next-hop ", "counter drop", "counter route"))][:40]
        if skew_ms and os.path.exists(os.path.join(t.dir, "delay.stats")):
            res["delay_stats"] = json.load(open(os.path.join(t.dir, "delay.stats")))
    h.results["runs"].append(res)
    h.save()


# ------------------------------------------------------------------------------ E2 churn

def bounded_pareto(rng, alpha, lo, hi):
    u = rng.random()
    return (-(u * hi ** alpha - u * lo ** alpha - hi ** alpha) / (hi ** alpha * lo ** alpha)) ** (-1 / alpha)


def read_or_close(sel, s, size):
    """Reads what a ready socket has: None when nothing after all (EAGAIN, EINTR), else the data;
    at EOF or on an error unregisters and closes it and returns b""."""
    try:
        d = s.recv(size)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        d = b""
    if not d:
        sel.unregister(s)
        s.close()
    return d


def churn_main(a):
    """The churn client (runs in c): Poisson arrivals, bounded-Pareto durations, a 64-byte trickle
    every 250 ms per connection, FIN at the end; all bounded by a hard deadline. Prints JSON."""
    rng = random.Random(a.seed)
    arrivals, t = [], 0.0
    while True:
        t += rng.expovariate(a.rate)
        if t >= a.seconds:
            break
        arrivals.append((t, bounded_pareto(rng, 1.1, 1.0, 20.0)))
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    hard = t0 + a.seconds + 25
    conns = {}   # sock -> dict(end, next_send, state)
    stats = dict(planned=len(arrivals), opened=0, failed=0, closed=0, max_open=0)
    i = 0
    payload = b"x" * 64
    while (i < len(arrivals) or conns) and time.monotonic() < hard:
        now = time.monotonic() - t0
        while i < len(arrivals) and arrivals[i][0] <= now:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect_ex((a.dest, a.port))
                conns[s] = dict(end=arrivals[i][0] + arrivals[i][1], next=now, state="open")
                sel.register(s, selectors.EVENT_READ)
                stats["opened"] += 1
            except OSError:
                stats["failed"] += 1
                s.close()
            i += 1
        stats["max_open"] = max(stats["max_open"], len(conns))
        for s, c in list(conns.items()):
            if c["state"] == "open" and now >= c["end"]:
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                c["state"] = "fin"
                c["fin_at"] = now
            elif c["state"] == "open" and now >= c["next"]:
                try:
                    s.send(payload)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    stats["failed"] += 1
                    sel.unregister(s)
                    s.close()
                    del conns[s]
                    continue
                c["next"] = now + 0.25
            elif c["state"] == "fin" and now - c["fin_at"] > 5:
                sel.unregister(s)
                s.close()
                del conns[s]
                stats["closed"] += 1
        for key, _ in sel.select(timeout=0.02):
            s = key.fileobj
            if read_or_close(sel, s, 4096) == b"":
                if conns.pop(s, {}).get("state") == "fin":
                    stats["closed"] += 1
                else:
                    stats["failed"] += 1
    stats["left_at_deadline"] = len(conns)
    for s in conns:
        s.close()
    stats["elapsed_s"] = time.monotonic() - t0
    print(json.dumps(stats), flush=True)


def sink_main(a):
    """The sink (runs in srv): accepts, discards what it reads, closes on EOF. Bounded."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.dest, a.port))
    ls.listen(1024)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            if s is ls:
                try:
                    c, _ = ls.accept()
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ)
                except BlockingIOError:
                    pass
                continue
            read_or_close(sel, s, 65536)


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    return xs[min(len(xs) - 1, max(0, math.ceil(q / 100 * len(xs)) - 1))]


def summarize(xs):
    return dict(mean=statistics.fmean(xs), p50=pct(xs, 50), p99=pct(xs, 99), max=max(xs)) if xs else {}


def e2_run(h, npaths, policy, rebalance, rep):
    name = f"{len(h.results['runs'])}"
    key = policy + ("+rebalance" if rebalance else "")
    t = Topology(h, name, npaths, 0, "lbe2-" + key)
    res = dict(experiment="E2", policy=key, npaths=npaths, rep=rep)
    try:
        t.up()
        t.start_lb(policy, rebalance)
        t.start("srv", [PYTHON, os.path.abspath(__file__), "--sink", "--dest", DEST, "--port", "9000",
                        "--seconds", str(h.e2_seconds + 60)], "sink")
        time.sleep(0.5)
        churn = t.start("c", [PYTHON, os.path.abspath(__file__), "--churn", "--dest", DEST, "--port", "9000",
                              "--seconds", str(h.e2_seconds), "--rate", str(h.e2_rate), "--seed", str(h.seed + rep)],
                        "churn")
        cc = ControlConn(t.lb_sock)
        samples, t0 = [], time.monotonic()
        hard = t0 + h.e2_seconds + 40
        nxt = t0
        while churn.alive() and time.monotonic() < hard:
            nxt += 0.1
            routes = cc.ask("show routes json")
            samples.append((time.monotonic() - t0, [r["active_flows"] for r in routes], routes[0]["moves"],
                            routes[0]["route_flows"]))
            time.sleep(max(0.0, nxt - time.monotonic()))
        final = cc.ask("show routes json")
        cc.close()
        churn_out = churn.stop()
        try:
            res["churn"] = json.loads(churn_out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res["churn"] = dict(raw=churn_out[-400:])
        steady = [s for s in samples if 5.0 <= s[0] <= h.e2_seconds]
        spread = [max(s[1]) - min(s[1]) for s in steady]
        mx = [max(s[1]) for s in steady]
        tot = [sum(s[1]) for s in steady]
        res.update(samples=len(samples), steady_samples=len(steady),
                   sample_interval_ms=(1000 * (samples[-1][0] - samples[0][0]) / (len(samples) - 1)) if len(samples) > 1 else None,
                   spread=summarize(spread), max_per_path=summarize(mx), total_active=summarize(tot),
                   spread_hist=dict(collections.Counter(spread)),
                   moves=final[0]["moves"], route_flows=final[0]["route_flows"],
                   final_active=[r["active_flows"] for r in final],
                   series=[[round(s[0], 2)] + s[1] for s in samples[::5]])
        log(f"E2 {npaths} paths {key}: spread {res['spread']} max {res['max_per_path']} moves {res['moves']} "
            f"flows {res['route_flows']} churn {res['churn']}")
    except (HarnessError, OSError, ValueError, KeyError) as e:
        res["error"] = f"{type(e).__name__}: {e}"
        log(f"E2 {npaths} {key}: ERROR {e}")
    finally:
        outs = t.down()
        res["lb_exit"] = [l for l in outs.get("lb.log", "").splitlines()
                          if l.startswith(("route ", "next-hop ", "counter drop", "counter route"))][:40]
    h.results["runs"].append(res)
    h.save()


# ------------------------------------------------------------------------------ report

def fmt(v, d=1):
    return "-" if v is None else (f"{v:.{d}f}" if isinstance(v, float) else str(v))


def report(h):
    R = h.results
    runs = [r for r in R["runs"] if "error" not in r]
    L = [RESULTS_TITLE, ""]
    L.append(f"Run {R['date']} on {R['machine']}; command `{R['command']}`; wall time {fmt(R.get('wall_s', 0) / 60, 1)} min; "
             f"E1 repetitions {R['args']['reps']}, E2 repetitions {min(R['args'].get('e2_reps', 1), R['args']['reps'])}, iperf3 -t {R['args']['e1_seconds']} s; E2 {R['args']['e2_seconds']} s of arrivals at "
             f"{R['args']['e2_rate']}/s. Raw numbers: `benchmarks/harness/paths.json`. Load average (1/5/15 min) at the start: {' '.join(R['load_start'])}, "
             f"at the end: {' '.join(R.get('load_end') or [])}.")
    L.append("")
    L.append("Setup (details in `benchmarks/harness/paths.py`'s header): client - box (lb, or the kernel for the kernel peers) - "
             "server LAN bridge - next-hop routers r1, r2 (r1..r4 for E2) - one link each to an aggregation router agg - server "
             f"{DEST} (route 198.19.0.0/16). Each r_i's egress toward agg: htb 50 Mbit (quantum 1514) + bfifo `limit 1mbit` (tc reads "
             "it as 131,072 bytes and shows 128Kb), as seed 003. Offloads (tso/gso/gro/tx/rx) off on every veth. Return traffic (ACKs) goes back over path 1 "
             "only, unshaped. Data direction client to server (iperf3 upload).")
    L.append("")
    if h.tc_proof:
        L.append("The shaping took (r1, `tc -s qdisc show dev eth1` after its peer's tests):")
        L.append("")
        L.append("```")
        L += h.tc_proof.rstrip().splitlines()
        L.append("```")
        L.append("")
    # delay proof
    pings = collections.defaultdict(list)
    for r in runs:
        if r["experiment"] == "E1" and "ping" in r:
            for k, v in r["ping"].items():
                pings[(r["skew_ms"], k)].append(v)
    L.append(f"Delay without netem: path 2's link runs through `docker/delay_forwarder.py` (an AF_PACKET L2 forwarder in its own "
             f"namespace, holding every r2 -> agg frame {R['args']['skew_ms']} ms, the other direction unheld). Ping r_i -> agg over "
             "each link (20 pings, 50 ms apart, in every E1 topology; min / avg / max of the per-topology figures, ms):")
    L.append("")
    L.append("| paths | link | ping min | ping avg | ping max |")
    L.append("|---|---|---:|---:|---:|")
    for (skew, k), vs in sorted(pings.items()):
        L.append(f"| {'skew' if skew else 'equal'} | {k} | {fmt(min(v['min'] for v in vs), 2)} | "
                 f"{fmt(statistics.fmean(v['avg'] for v in vs), 2)} | {fmt(max(v['max'] for v in vs), 2)} |")
    L.append("")
    # E1 table
    L.append("### E1 (seed 003): one and eight iperf3 flows over two 50 Mbit paths")
    L.append("")
    L.append("Median over repetitions, except Mbit/s: every repetition's figure. Mbit/s: receiver's goodput (iperf3 "
             "sum_received). retr: the sender's retransmits. OFO: receiver's TcpExtTCPOFOQueue (segments queued out of order: "
             "reordering, but also every hole a loss leaves); SACKreord: sender's TcpExtTCPSACKReorder (reordering the sender "
             "detected); DSACK: sender's TcpExtTCPDSACKRecv (retransmits the receiver already had: spurious). busier path: the "
             "larger of r1's and r2's eth1 tx bytes over their sum (the same counter for every peer; 1.00 = one path carried "
             "everything, 0.50 = even); r1 / r2 MB: each repetition's bytes per path.")
    L.append("")
    L.append("| peer | paths | flows | Mbit/s | retr | OFO | SACKreord | DSACK | busier path | r1 / r2 MB |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    groups = collections.defaultdict(list)
    for r in runs:
        if r["experiment"] == "E1":
            for t in r["tests"]:
                groups[(r["peer"], r["skew_ms"], t["parallel"])].append(t)
    for skew in (0, R["args"]["skew_ms"]):
        for p in (1, 8):
            for peer in E1_PEERS:
                ts = groups.get((peer, skew, p))
                if not ts:
                    continue
                med = lambda f: statistics.median(f(t) for t in ts)
                busier = med(lambda t: max(t["path_tx_bytes"].values()) / max(1, sum(t["path_tx_bytes"].values())))
                mb = "; ".join(f"{t['path_tx_bytes']['r1'] / 1e6:.1f} / {t['path_tx_bytes']['r2'] / 1e6:.1f}" for t in ts)
                L.append(f"| {peer} | {'equal' if not skew else f'+{skew:g} ms on 2'} | {p} | "
                         f"{', '.join(fmt(t['mbit_received']) for t in ts)} | "
                         f"{fmt(med(lambda t: t['retransmits'] or 0), 0)} | "
                         f"{fmt(med(lambda t: t['receiver_nstat'].get('TcpExtTCPOFOQueue', 0)), 0)} | "
                         f"{fmt(med(lambda t: t['sender_nstat'].get('TcpExtTCPSACKReorder', 0)), 0)} | "
                         f"{fmt(med(lambda t: t['sender_nstat'].get('TcpExtTCPDSACKRecv', 0)), 0)} | "
                         f"{fmt(busier, 2)} | {mb} |")
    L.append("")
    # E2 table
    e2 = [r for r in runs if r["experiment"] == "E2"]
    if e2:
        L.append("### E2 (seed 002): churn, active flows per path sampled every 100 ms")
        L.append("")
        L.append(f"Churn: Poisson arrivals {R['args']['e2_rate']}/s for {R['args']['e2_seconds']} s (the same seeded schedule for every "
                 "policy), durations bounded Pareto alpha 1.1 on 1..20 s, 64 bytes every 250 ms per connection, FIN both ways at the end. "
                 "Statistics over the samples from 5 s to the end of the arrivals. spread = max - min of active_flows over the next hops "
                 "(lb's `show routes json`), max = the fullest hop's active flows; moves: the route's moves counter at the end.")
        L.append("")
        L.append("| paths | policy | flows | samples (ms apart) | active (mean) | spread mean | p50 | p99 | max | max/path mean | p50 | p99 | max | moves |")
        L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sorted(e2, key=lambda r: (r["npaths"], [k + ('+rebalance' if rb else '') for k, rb in E2_POLICIES].index(r["policy"]), r["rep"])):
            s, m = r["spread"], r["max_per_path"]
            L.append(f"| {r['npaths']} | {r['policy']} | {r['route_flows']} | {r['steady_samples']} ({fmt(r['sample_interval_ms'], 0)}) | "
                     f"{fmt(r['total_active'].get('mean'))} | {fmt(s.get('mean'), 2)} | {s.get('p50')} | {s.get('p99')} | {s.get('max')} | "
                     f"{fmt(m.get('mean'), 2)} | {m.get('p50')} | {m.get('p99')} | {m.get('max')} | {r['moves']} |")
        L.append("")
    errs = [r for r in R["runs"] if "error" in r]
    if errs:
        L.append("Failed steps: " + "; ".join(f"{r['experiment']} {r.get('peer', r.get('policy'))}: {r['error'][:200]}" for r in errs))
        L.append("")
    return "\n".join(L) + "\n"


def write_results(md, reading):
    path = os.path.join(REPO, "benchmarks", "RESULTS.md")
    with open(path) as f:
        text = f.read()
    section = md + ("\n" + reading if reading else "")
    i = text.find(RESULTS_TITLE)
    if i >= 0:
        j = text.find("\n## ", i + len(RESULTS_TITLE))
        text = text[:i] + section + (text[j + 1:] if j >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)


# ------------------------------------------------------------------------------ main

class Harness:
    def __init__(self, a):
        self.a = a
        self.state = Registry(a.state)
        self.logdir = a.logdir
        self.prefix = "lbp" + os.urandom(2).hex()
        self.e1_seconds, self.e2_seconds, self.e2_rate, self.seed = a.e1_seconds, a.e2_seconds, a.e2_rate, a.seed
        self.printed_tc, self.tc_proof = False, None
        self.out = a.json
        self.results = dict(date=datetime.datetime.now().isoformat(timespec="seconds"),
                            machine=machine(), command=a.command, args=vars(a).copy(), runs=[],
                            load_start=open("/proc/loadavg").read().split()[:3])

    def save(self):
        with open(self.out + ".tmp", "w") as f:
            json.dump(self.results, f, indent=1)
        os.replace(self.out + ".tmp", self.out)


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        distro = [l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME")][0]
    except (OSError, IndexError):
        distro = "?"
    return f"{os.cpu_count()} CPUs ({cpu}), {distro}, kernel {os.uname().release}"


def main():
    ap = argparse.ArgumentParser(description="Seeds 003/002 live on shaped parallel paths (see the header).")
    ap.add_argument("--state")
    ap.add_argument("--logdir")
    ap.add_argument("--json", default=os.path.join(HERE, "paths.json"))
    ap.add_argument("--cleanup", metavar="STATE")
    ap.add_argument("--experiments", default="e1,e2")
    ap.add_argument("--peers", default=",".join(E1_PEERS))
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--skew-ms", type=float, default=5.0)
    ap.add_argument("--e1-seconds", type=int, default=10)
    ap.add_argument("--e2-seconds", type=int, default=60)
    ap.add_argument("--e2-rate", type=float, default=10.0)
    ap.add_argument("--e2-paths", default="2,4")
    ap.add_argument("--e2-reps", type=int, default=1, help="E2 only in the first N repetitions")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--write-results", action="store_true", help="replace the section in benchmarks/RESULTS.md")
    ap.add_argument("--reading", help="a markdown file appended to the section (the written reading of the figures)")
    ap.add_argument("--report-only", action="store_true", help="rebuild the section from --json, no measurements")
    ap.add_argument("--command", default="sudo benchmarks/harness/paths.sh")
    # the helpers run inside the namespaces
    ap.add_argument("--churn", action="store_true")
    ap.add_argument("--sink", action="store_true")
    ap.add_argument("--dest", default=DEST)
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=10)
    a = ap.parse_args()
    if a.churn:
        return churn_main(a)
    if a.sink:
        return sink_main(a)
    if a.cleanup:
        return cleanup_file(a.cleanup)
    if a.report_only:
        h = argparse.Namespace(results=json.load(open(a.json)), tc_proof=None)
        h.tc_proof = h.results.get("tc_proof")
        md = report(h)
        if a.write_results:
            write_results(md, open(a.reading).read() if a.reading else "")
        print(md)
        return
    if os.geteuid() != 0:
        sys.exit("paths.py: must run as root (use paths.sh)")
    if not (1 <= a.reps <= 5 and 1 <= a.e1_seconds <= 60 and 5 <= a.e2_seconds <= 300 and 0.1 <= a.e2_rate <= 50
            and 0 < a.skew_ms <= 50):
        sys.exit("paths.py: arguments out of bounds")
    a.state = a.state or f"/run/lb-paths/{os.getpid()}.state"
    os.makedirs(os.path.dirname(a.state), exist_ok=True)
    a.logdir = a.logdir or f"/tmp/lb-paths-{os.getpid()}"
    os.makedirs(a.logdir, exist_ok=True)
    h = Harness(a)
    stopping = []

    def on_signal(sig, _frame):
        stopping.append(sig)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    t_start = time.monotonic()
    exps = a.experiments.split(",")
    peers = [p for p in a.peers.split(",") if p]
    for p in peers:
        if p not in E1_PEERS:
            sys.exit(f"paths.py: unknown peer {p} (known: {','.join(E1_PEERS)})")
    try:
        for rep in range(a.reps):
            if "e1" in exps:
                for skew in (0, a.skew_ms):
                    for peer in peers:
                        e1_peer(h, peer, skew, rep)
            if "e2" in exps and rep < a.e2_reps:
                for n in [int(x) for x in a.e2_paths.split(",") if x]:
                    for policy, rb in E2_POLICIES:
                        e2_run(h, n, policy, rb, rep)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
    finally:
        h.results["wall_s"] = time.monotonic() - t_start
        h.results["load_end"] = open("/proc/loadavg").read().split()[:3]
        h.results["tc_proof"] = h.tc_proof
        h.save()
        cleanup_file(a.state)
    md = report(h)
    with open(os.path.join(a.logdir, "paths.md"), "w") as f:
        f.write(md)
    if a.write_results and not stopping:
        write_results(md, open(a.reading).read() if a.reading else "")
    print(md)


if __name__ == "__main__":
    main()
