#!/usr/bin/python3
"""Soak (issue 12, "Hardening"): lb under mixed load for N minutes (default 10), its memory, threads and
fds sampled every 10 s; at the end: are they flat, does lb still serve, did it log an exception, did it
drop anything but the malformed frames it was sent. soak.sh is the command; this is what it runs.

What runs, all the time, each loop bounded in count and time (a loop is one bounded command repeated
until the soak's end; a command that outlives its bound is stopped):
  http-c1, http-c2  short HTTP/1.0 GETs of /whoami (docker/testbed_fetch.py --interval: 10/s from c1,
                    5/s from c2, each allowed 10 s): one new TCP flow each, closed by both FINs
  download-c2       a 32 MiB file (/file/big.bin, paced by the server at 8 MiB/s) every ~20 s, sha256
                    checked against the file
  udp-c2            UDP request/response to 198.18.0.100:53 (backends' echo on :5353), a new socket per
                    datagram (a new flow each), 10/s
  ping-c1           ping to the VIP, 2/s
  hold-c2           20 connections held 15 s (docker/tcp_hold.py), poked every 3 s, then half answer an
                    HTTP request and the other half are closed
  inject-c1         20 frames of each of docker/inject_frames.py's 7 malformed kinds every 30 s
  control           one control-socket command every 3 s, in turn: show stat, show flows 20, set weight
                    (1..3), set state drain and ready, add backend and del backend (a fourth server),
                    show info, show drops; every fifth one through bin/lbctl, the rest on the socket
With timeouts of 2 s (tcp-syn, tcp-closing, udp) and 10 s (tcp-established), flows are created and
expire continuously.

lb runs with LB_JAVA_OPTS (JAVA_OPTS below): a fixed 256 MiB heap touched at start (-Xms = -Xmx,
AlwaysPreTouch), so RSS holds the whole heap from the first sample and any RSS growth is native or
mapped memory, while a heap leak shows in the old generation (and would end in OutOfMemoryError within
the soak rather than hide in a default heap of a quarter of the machine's 24 GiB); NMT summary, so the
JVM's own native memory is split by kind; a GC log (heap after every collection).

Sampled every 10 s (no GC is ever forced): VmRSS and Threads (/proc/PID/status), Rss/Anonymous/
AnonHugePages (/proc/PID/smaps_rollup), open fds (/proc/PID/fd), one `jcmd PID -f` with
GC.heap_info, VM.native_memory summary and PerfCounter.print (heap used; old generation used, which
in G1 changes only at a collection or a humongous allocation; GC counts; NMT committed total and per
kind), lb's `show info json` and `show drops json`, and the load average.

Flat (see FLAT_*): over the samples from minute 2 on, the least-squares slope is under 1 MiB/min for
memory (under 0.5 per minute for fds and threads), and the last minute's maximum is within the larger
of 2% and 2 MiB (fds and threads: 2) of minute 2's maximum. Minute 1 is warm-up (JIT, class loading,
the first GCs, the rings and flow table being touched) and is shown but not judged.
"""

import argparse
import hashlib
import json
import os
import re
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from harness_common import (HarnessError, Proc, Registry, TESTBED, cleanup_file, in_ns, lb_control, lb_control_text,
                            make_log, run)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
LB = os.path.join(REPO, "bin", "lb")
LBCTL = os.path.join(REPO, "bin", "lbctl")
FETCH = os.path.join(REPO, "docker", "testbed_fetch.py")
HOLD = os.path.join(REPO, "docker", "tcp_hold.py")
INJECT = os.path.join(REPO, "docker", "inject_frames.py")
OUT_JSON = os.path.join(HERE, "soak.json")
STATE_DIR = "/run/lb-soak"

VIP = "198.18.0.100"
SERVERS = ["198.18.1.11", "198.18.1.12", "198.18.1.13"]
SPARE = "198.18.1.14"   # the fourth server: added to and removed from the service by the control loop
BIG_FILE = "big.bin"
BIG_BYTES = 32 << 20
BIG_RATE = 8 << 20
INJECTED_KINDS = ("truncated_ipv4", "bad_ihl", "bad_total_length", "ipv4_fragment", "unknown_ethertype",
                  "bad_ip_checksum", "vlan_tagged")
SAMPLE_S = 10
WARMUP_S = 60          # minute 1: shown, not judged
JAVA_OPTS = ("-Xms256m -Xmx256m -XX:+AlwaysPreTouch -XX:NativeMemoryTracking=summary "
             "-XX:G1PeriodicGCInterval=60000")

MIB = 1 << 20
# Flat: (slope bound per minute, relative and absolute growth allowed from minute 2's max to the last minute's).
FLAT_MEMORY = (1.0 * MIB, 0.02, 2 * MIB)
FLAT_COUNT = (0.5, 0.0, 2)
METRICS = [  # key, label, unit (MiB or count), flat bounds, judged
    ("rss", "RSS (VmRSS)", "MiB", FLAT_MEMORY, True),
    ("rss_rest", "RSS outside heap, rings and flow table", "MiB", FLAT_MEMORY, True),
    ("rss_rings", "RSS of the packet rings (mapped 320 MiB)", "MiB", FLAT_MEMORY, False),
    ("rss_flow_table", "RSS of the flow table (mapped 172 MiB)", "MiB", FLAT_MEMORY, False),
    ("heap_after_gc", "heap after each GC (GC log)", "MiB", FLAT_MEMORY, True),
    ("old_used", "old generation used (after the last GC)", "MiB", FLAT_MEMORY, True),
    ("heap_used", "heap used (sampled, not after GC)", "MiB", FLAT_MEMORY, False),
    ("nmt_committed", "NMT total committed", "MiB", FLAT_MEMORY, True),
    ("nmt_other", "NMT Other (direct buffers)", "MiB", FLAT_MEMORY, True),
    ("nmt_thread", "NMT Thread", "MiB", FLAT_MEMORY, False),
    ("nmt_class", "NMT Class (metaspace)", "MiB", FLAT_MEMORY, False),
    ("nmt_code", "NMT Code", "MiB", FLAT_MEMORY, False),
    ("nmt_gc", "NMT GC", "MiB", FLAT_MEMORY, False),
    ("nmt_compiler", "NMT Compiler", "MiB", FLAT_MEMORY, False),
    ("nmt_internal", "NMT Internal", "MiB", FLAT_MEMORY, False),
    ("nmt_symbol", "NMT Symbol", "MiB", FLAT_MEMORY, False),
    ("nmt_arena_chunk", "NMT Arena Chunk", "MiB", FLAT_MEMORY, False),
    ("untracked", "RSS not in NMT (rings, flow table, libc)", "MiB", FLAT_MEMORY, False),
    ("fds", "open fds", "count", FLAT_COUNT, True),
    ("threads", "threads", "count", FLAT_COUNT, True),
]

log = make_log("soak")


def read_perfdata(path):
    """The long counters of a HotSpot hsperfdata file (what jstat reads: sun.gc.*), by name. Read here
    rather than by jstat or jcmd PerfCounter.print, so a sample starts no JVM for them."""
    with open(path, "rb") as f:
        data = f.read()
    order = "<" if data[4] == 1 else ">"          # prologue: magic, byte order, version, ...
    entry_offset, entries = struct.unpack_from(order + "II", data, 24)
    out, pos = {}, entry_offset
    for _ in range(entries):
        length, name_at, vector_length, data_type, _, _, _, data_at = struct.unpack_from(order + "IIIBBBBI", data, pos)
        if data_type == ord("J") and vector_length == 0:
            name = data[pos + name_at:data.index(b"\0", pos + name_at)].decode()
            out[name] = struct.unpack_from(order + "q", data, pos + data_at)[0]
        pos += length
    return out


def smaps_parts(pid, heap_start):
    """Resident bytes of lb's mappings by what they are: the packet rings (mappings of its AF_PACKET
    sockets), the flow table (anonymous memory advised for huge pages, VmFlags hg: HugePageMemory),
    the Java heap (the mapping at heap_start) and the rest."""
    parts = {"rss_rings": 0, "rss_flow_table": 0, "rss_heap": 0, "rss_rest": 0}
    kind = "rss_rest"
    rss = 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
            if m:
                kind = ("rss_rings" if m.group(2).startswith("socket:") else
                        "rss_heap" if int(m.group(1), 16) == heap_start else "rss_rest")
            elif line.startswith("Rss:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmFlags:"):   # the last line of a mapping's block
                if kind == "rss_rest" and " hg" in line:
                    kind = "rss_flow_table"
                parts[kind] += rss
    return parts


class LockedRegistry(Registry):
    """The registry, written from several load threads at once."""
    lock = threading.RLock()

    def _write(self):
        with self.lock:
            super()._write()

    def add_pid(self, pid):
        with self.lock:
            return super().add_pid(pid)

    def drop_pid(self, pid):
        with self.lock:
            super().drop_pid(pid)


class Soak:
    def __init__(self, args):
        self.args = args
        self.duration_s = args.minutes * 60
        self.registry = LockedRegistry(args.state)
        self.logdir = args.logdir
        os.makedirs(self.logdir, exist_ok=True)
        self.prefix = "lbs" + os.path.basename(args.state).split(".")[0]
        self.stop = threading.Event()
        self.stats = {}
        self.stats_lock = threading.Lock()
        self.injected = {k: 0 for k in INJECTED_KINDS}
        self.samples = []
        self.events = []   # (t, loop, what): the changes and the bursts, to read the drops against
        self.lb = None

    def ns(self, role):
        return f"{self.prefix}-{role}"

    # -------------------------------------------------------------------------- set-up

    def up(self):
        self.registry.add_prefix(self.prefix)
        run(["bash", TESTBED, "up", "--prefix", self.prefix, "--servers", "4"], timeout=90)
        files = os.path.join(self.logdir, "files")
        os.makedirs(files, exist_ok=True)
        data = os.urandom(BIG_BYTES)
        with open(os.path.join(files, BIG_FILE), "wb") as f:
            f.write(data)
        self.big_sha = hashlib.sha256(data).hexdigest()
        run(["bash", TESTBED, "servers", "--prefix", self.prefix, "--files", files], timeout=60)
        out = run(["ip", "-n", self.ns("lb"), "-o", "link", "show", "cli0"])
        self.cli0_mac = re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)

    def start_lb(self):
        self.sock = os.path.join(self.logdir, "lb.sock")
        self.gc_log = os.path.join(self.logdir, "gc.log")
        conf = os.path.join(self.logdir, "lb.conf")
        with open(conf, "w") as f:
            f.write(f"""client-interface cli0
client-ip 198.18.0.1
server-interface srv0
gateway-ip 198.18.1.1
probe-interval 1s
probe-timeout 500ms
timeout tcp-syn 2s
timeout tcp-established 10s
timeout tcp-closing 2s
timeout udp 2s
control-socket {self.sock}
service web {VIP}:80/tcp
  scheduler wrr
""" + "".join(f"  backend {ip}\n" for ip in SERVERS) + f"""service echo {VIP}:53/udp
  scheduler rr
""" + "".join(f"  backend {ip}:5353\n" for ip in SERVERS))
        os.environ["LB_JAVA_OPTS"] = f"{JAVA_OPTS} -Xlog:gc,gc+heap=debug:file={self.gc_log}:uptime"
        self.lb_log = os.path.join(self.logdir, "lb.log")
        self.lb = Proc(self.registry, in_ns(self.ns("lb"), [LB, "--config", conf]), self.lb_log, log)
        self.lb_started = time.monotonic()   # the JVM's uptime (the GC log's clock) starts about here
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = open(self.lb_log).read()
            if not self.lb.alive():
                raise HarnessError(f"lb exited at start: {text[-800:]}")
            if "lb: running: " in text and len(re.findall(r"backend .* up at", text)) >= len(SERVERS):
                break
            time.sleep(0.2)
        else:
            raise HarnessError(f"lb did not come up within 60 s: {open(self.lb_log).read()[-800:]}")
        with open(f"/proc/{self.lb.pid}/comm") as f:
            comm = f.read().strip()
        if comm != "java":
            raise HarnessError(f"pid {self.lb.pid} is {comm}, not lb's JVM")
        log(f"lb pid {self.lb.pid} up; JVM options: {os.environ['LB_JAVA_OPTS']}")

    # -------------------------------------------------------------------------- load

    def count(self, loop, **kv):
        with self.stats_lock:
            s = self.stats.setdefault(loop, {"runs": 0})
            for k, v in kv.items():
                s[k] = s.get(k, 0) + v

    def note_failure(self, loop, what):
        with self.stats_lock:
            s = self.stats.setdefault(loop, {"runs": 0})
            s["failures"] = s.get("failures", 0) + 1
            s.setdefault("first_failures", [])
            if len(s["first_failures"]) < 5:
                s["first_failures"].append(f"{time.monotonic() - self.t0:.0f} s: {what}"[:300])

    def event(self, loop, what):
        with self.stats_lock:
            self.events.append((round(time.monotonic() - self.t0, 1), loop, what))

    def bounded(self, name, argv, timeout_s):
        """Runs argv (recorded in the registry) for at most timeout_s; returns (exit status, output)."""
        p = Proc(self.registry, argv, os.path.join(self.logdir, name + ".log"), log)
        try:
            p.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
        out = p.stop(grace_s=3.0, group=True)
        return p.popen.returncode, out

    def loop(self, name, body, pause_s):
        """Repeats body() until the soak's end; one failure is counted, never fatal."""
        while not self.stop.is_set():
            try:
                body()
                self.count(name, runs=1)
            except Exception as e:  # a load loop reports, the soak goes on
                self.note_failure(name, f"{type(e).__name__}: {e}")
            self.stop.wait(pause_s)

    def fetch(self, loop, role, count, interval, timeout, url, sha=None):
        bound_s = count * interval + timeout + 10   # testbed_fetch.py's own bound plus its 5 s of grace
        rc, out = self.bounded(loop, in_ns(self.ns(role), [PY, FETCH, "--count", str(count), "--interval",
                                                            str(interval), "--timeout", str(timeout), url]), bound_s)
        ok = 0
        for line in out.splitlines():
            f = line.split()
            if len(f) == 6 and f[1] == "ok" and (sha is None or f[2] == sha):
                ok += 1
                self.count(loop, bytes=int(f[3]))
            elif len(f) == 6:
                self.note_failure(loop, line)
        self.count(loop, requests=count, ok=ok)
        if ok < count and rc != 0 and not any(len(l.split()) == 6 for l in out.splitlines()):
            self.note_failure(loop, f"exit {rc}: {out[-200:]}")

    def http(self, role, rate):
        # 10 s batches: a batch started just before the end still ends within 10 s + its timeout.
        self.fetch(f"http-{role}", role, int(10 * rate), 1.0 / rate, 10, f"http://{VIP}/whoami")

    def download(self):
        self.event("download-c2", "start")
        self.fetch("download-c2", "c2", 1, 0, 60, f"http://{VIP}/file/{BIG_FILE}?rate={BIG_RATE}", self.big_sha)

    UDP_SCRIPT = r"""
import socket, sys, time
n, vip, deadline = int(sys.argv[1]), sys.argv[2], time.monotonic() + float(sys.argv[3])
ok = 0
for i in range(n):
    if time.monotonic() > deadline:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    msg = b"soak %d" % i
    try:
        s.sendto(msg, (vip, 53))
        data, peer = s.recvfrom(2048)
        ok += peer == (vip, 53) and data.endswith(b" " + msg)
    except OSError:
        pass
    s.close()
    time.sleep(0.1)
print("udp", n, ok, flush=True)
"""

    def udp(self):
        n = 100
        rc, out = self.bounded("udp-c2", in_ns(self.ns("c2"), [PY, "-c", self.UDP_SCRIPT, str(n), VIP, "30"]), 40)
        m = re.search(r"^udp (\d+) (\d+)$", out, re.M)
        if not m:
            raise HarnessError(f"udp client printed no result (exit {rc}): {out[-200:]}")
        self.count("udp-c2", requests=n, ok=int(m.group(2)))
        if int(m.group(2)) < n:
            self.note_failure("udp-c2", f"{n - int(m.group(2))} of {n} unanswered")

    def ping(self):
        n = 20
        rc, out = self.bounded("ping-c1", in_ns(self.ns("c1"), ["ping", "-q", "-c", str(n), "-i", "0.5", "-W", "2",
                                                               VIP]), 20)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        if not m:
            raise HarnessError(f"ping printed no summary (exit {rc}): {out[-200:]}")
        self.count("ping-c1", requests=int(m.group(1)), ok=int(m.group(2)))
        if int(m.group(2)) < int(m.group(1)):
            self.note_failure("ping-c1", out.strip().splitlines()[-2])

    def hold(self):
        """20 connections held 15 s and poked every 3 s; then half answer a request, half are closed."""
        n, hold_s = 20, 15
        logpath = os.path.join(self.logdir, "hold-c2.log")
        p = subprocess.Popen(in_ns(self.ns("c2"), [PY, HOLD, VIP, "80", str(n), str(hold_s + 15)]),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(logpath, "a"),
                             text=True, start_new_session=True)
        self.registry.add_pid(p.pid)
        self.event("hold-c2", "open")
        lines = []
        # A thread reads its lines: select() on a buffered pipe misses lines already in the buffer.
        answers = queue.Queue()
        threading.Thread(target=lambda: [answers.put(l.split()) for l in p.stdout] + [answers.put(None)],
                         daemon=True).start()

        def read_until(pred, timeout_s):
            deadline = time.monotonic() + timeout_s
            while not pred() and time.monotonic() < deadline:
                try:
                    line = answers.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if line is None:
                    break
                lines.append(line)

        def said(word):
            return [l for l in lines if l[:1] == [word]]

        try:
            read_until(lambda: len(said("open")) == n, 15)
            ports = [l[1] for l in said("open")]
            if len(ports) < n:
                raise HarnessError(f"opened {len(ports)} of {n}")
            for _ in range(hold_s // 3):
                if self.stop.wait(3):
                    break
                p.stdin.write("".join(f"poke {port}\n" for port in ports))
                p.stdin.flush()
            half = n // 2
            self.event("hold-c2", "get and close")
            p.stdin.write("".join(f"get {port}\n" for port in ports[:half]))
            p.stdin.write("".join(f"close {port}\n" for port in ports[half:]) + "quit\n")
            p.stdin.flush()
            read_until(lambda: len(said("got")) + len(said("failed")) >= half and len(said("closed")) >= n - half, 15)
            got = [l for l in said("got") if len(l) >= 3 and l[2] == "200"]
            self.count("hold-c2", requests=n, ok=len(got) + len(said("closed")))
            if len(got) < half or said("failed"):
                self.note_failure("hold-c2", f"{len(got)} of {half} answered: {said('failed')[:3]}")
        finally:
            p.stdin.close()
            try:
                p.wait(timeout=20)   # it quits on "quit", and by itself after hold_s + 15 s
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
            self.registry.drop_pid(p.pid)

    def inject(self):
        self.event("inject-c1", "malformed frames")
        rc, out = self.bounded("inject-c1", in_ns(self.ns("c1"), [PY, INJECT, "eth0", self.cli0_mac, "20"]), 20)
        sent = 0
        for line in out.splitlines():
            f = line.split()
            if len(f) == 2 and f[0] in self.injected:
                self.injected[f[0]] += int(f[1])
                sent += int(f[1])
        self.count("inject-c1", frames=sent)
        if sent != 20 * len(INJECTED_KINDS):
            self.note_failure("inject-c1", f"sent {sent} (exit {rc}): {out[-200:]}")

    CONTROL_CYCLE = ["show stat json", "show flows 20 json", "set weight web 198.18.1.12 {w}",
                     "set state web 198.18.1.13 drain", "show info json", "set state web 198.18.1.13 ready",
                     f"add backend web {SPARE}", "show drops json", "show flows 20 json", f"del backend web {SPARE}"]

    def control_loop(self):
        i = 0
        while not self.stop.is_set():
            cmd = self.CONTROL_CYCLE[i % len(self.CONTROL_CYCLE)].format(w=1 + (i // len(self.CONTROL_CYCLE)) % 3)
            try:
                if i % 5 == 4:  # through the command-line client, as an operator would
                    words = cmd.split()
                    argv = [LBCTL, "--socket", self.sock] + (["--json"] + words[:-1] if words[-1] == "json" else words)
                    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
                    answer, failed = r.stdout + r.stderr, r.returncode != 0
                else:
                    answer = lb_control_text(self.sock, cmd)
                    failed = answer.startswith("error")
                if not cmd.startswith("show"):
                    self.event("control", cmd)
                self.count("control", requests=1, ok=0 if failed else 1)
                if failed:
                    self.note_failure("control", f"{cmd}: {answer.strip()[:200]}")
            except Exception as e:
                self.count("control", requests=1)
                self.note_failure("control", f"{cmd}: {type(e).__name__}: {e}")
            i += 1
            self.stop.wait(3)

    def start_load(self):
        bodies = [("http-c1", lambda: self.http("c1", 10), 0), ("http-c2", lambda: self.http("c2", 5), 0),
                  ("download-c2", self.download, 16), ("udp-c2", self.udp, 0), ("ping-c1", self.ping, 0),
                  ("hold-c2", self.hold, 5), ("inject-c1", self.inject, 30)]
        self.threads = [threading.Thread(target=self.loop, args=b, name=b[0], daemon=True) for b in bodies]
        self.threads.append(threading.Thread(target=self.control_loop, name="control", daemon=True))
        for t in self.threads:
            t.start()

    def stop_load(self):
        self.stop.set()
        deadline = time.monotonic() + 90   # the longest bounded command: a 60 s download plus its grace
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            raise HarnessError(f"load loops still running 90 s after the end: {alive}")

    # -------------------------------------------------------------------------- samples

    JCMD_COMMANDS = "GC.heap_info\nVM.native_memory summary\n"

    def sample(self):
        pid = self.lb.pid
        s = {"t": round(time.monotonic() - self.t0, 1), "loadavg": [float(x) for x in open("/proc/loadavg").read().split()[:3]]}
        status = open(f"/proc/{pid}/status").read()
        s["rss"] = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
        s["threads"] = int(re.search(r"Threads:\s+(\d+)", status).group(1))
        rollup = open(f"/proc/{pid}/smaps_rollup").read()
        for key, field in (("anon", "Anonymous"), ("anon_huge", "AnonHugePages"), ("rss_file", "Rss")):
            m = re.search(rf"^{field}:\s+(\d+) kB", rollup, re.M)
            s[key] = int(m.group(1)) * 1024 if m else None
        s["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        r = subprocess.run(["jcmd", str(pid), "-f", self.jcmd_file], capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        out = r.stdout
        m = re.search(r"garbage-first heap\s+total (\d+)K, used (\d+)K", out)
        s["heap_used"] = int(m.group(2)) * 1024 if m else None
        m = re.search(r"^Total: reserved=(\d+)KB, committed=(\d+)KB", out, re.M)
        s["nmt_committed"] = int(m.group(2)) * 1024 if m else None
        for kind, committed in re.findall(r"^-\s+(\S.*?) \(reserved=\d+KB, committed=(\d+)KB\)", out, re.M):
            s["nmt_" + kind.lower().replace(" ", "_")] = int(committed) * 1024
        m = re.search(r"garbage-first heap .*\[0x([0-9a-f]+),", out)
        if m:
            s.update(smaps_parts(pid, int(m.group(1), 16)))
        # G1's old generation (old and humongous regions) changes only at a collection or a humongous allocation.
        perf = read_perfdata(f"/proc/{pid}/root/tmp/hsperfdata_root/{pid}")
        s["old_used"] = perf.get("sun.gc.generation.1.space.0.used")
        s["young_gcs"] = perf.get("sun.gc.collector.0.invocations")
        s["full_gcs"] = perf.get("sun.gc.collector.1.invocations")
        s["concurrent_cycles"] = perf.get("sun.gc.collector.2.invocations")
        if s["nmt_committed"] is not None:
            s["untracked"] = s["rss"] - s["nmt_committed"]
        if s["heap_used"] is None or s["nmt_committed"] is None:
            s["jcmd_error"] = (r.stdout + r.stderr)[-300:]
        try:
            info = lb_control(self.sock, "show info json")
            s["lb"] = {k: info.get(k) for k in ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "dropped", "flows")}
            s["drops"] = drop_counts(lb_control(self.sock, "show drops json"))
        except Exception as e:
            s["lb_error"] = f"{type(e).__name__}: {e}"
        return s

    def run_soak(self):
        self.jcmd_file = os.path.join(self.logdir, "jcmd.txt")
        with open(self.jcmd_file, "w") as f:
            f.write(self.JCMD_COMMANDS)
        self.t0 = time.monotonic()
        self.start_load()
        end = self.t0 + self.duration_s
        next_sample = self.t0
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_sample:
                if not self.lb.alive():
                    raise HarnessError(f"lb exited during the soak: {open(self.lb_log).read()[-800:]}")
                s = self.sample()
                self.samples.append(s)
                if len(self.samples) % 6 == 1:
                    log(f"t={s['t']:.0f} s rss={s['rss'] / MIB:.1f} MiB heap={(s['heap_used'] or 0) / MIB:.1f} "
                        f"old={(s['old_used'] or 0) / MIB:.1f} nmt={(s['nmt_committed'] or 0) / MIB:.1f} MiB "
                        f"fds={s['fds']} threads={s['threads']} flows={s.get('lb', {}).get('flows')} "
                        f"load={s['loadavg'][0]}")
                next_sample += SAMPLE_S
            time.sleep(min(1.0, max(0.0, min(next_sample, end) - time.monotonic())))
        # The last sample at the end, under load.
        self.samples.append(self.sample())
        log("load stopping")
        self.stop_load()

    # -------------------------------------------------------------------------- the end

    def final_checks(self):
        c = {}
        rc, out = self.bounded("final-http", in_ns(self.ns("c1"), [PY, FETCH, "--count", "30", "--interval", "0.05",
                                                                    "--timeout", "10", f"http://{VIP}/whoami"]), 30)
        c["http_ok"] = sum(1 for l in out.splitlines() if l.split()[1:2] == ["ok"])
        c["http_sent"] = 30
        rc, out = self.bounded("final-udp", in_ns(self.ns("c2"), [PY, "-c", self.UDP_SCRIPT, "10", VIP, "10"]), 20)
        m = re.search(r"^udp (\d+) (\d+)$", out, re.M)
        c["udp_ok"], c["udp_sent"] = (int(m.group(2)) if m else 0), 10
        drops_under_load = lb_control(self.sock, "show drops json")
        # With every timeout at most 10 s and one expiry pass about a second, the table empties.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            c["flows_after_idle"] = lb_control(self.sock, "show info json").get("flows")
            if c["flows_after_idle"] == 0:
                break
            time.sleep(1)
        c["flows_idle_wait_s"] = round(30 - (deadline - time.monotonic()), 1)
        text = self.lb.stop(grace_s=20)
        self.lb_exit = self.lb.popen.returncode
        counters = {m.group(1): int(m.group(2)) for m in re.finditer(r"^counter (\S+) (\d+)$", text, re.M)}
        c["lb_exit"] = self.lb_exit
        c["counters"] = counters
        c["exception_lines"] = [l for l in text.splitlines()
                                if re.search(r"Exception|Error\b|^\s+at \S+\(|OutOfMemory", l)][:20]
        drops = {k[len("drop_"):] if k.startswith("drop_") else k: v for k, v in counters.items()
                 if k.startswith("drop_") and v}
        c["drops"] = drops
        c["drops_via_socket"] = drops_under_load
        c["injected"] = dict(self.injected)
        c["unexpected_drops"] = {k: v for k, v in drops.items() if k not in INJECTED_KINDS}
        c["injected_mismatch"] = {k: (drops.get(k, 0), n) for k, n in self.injected.items() if drops.get(k, 0) != n}
        c["serves"] = c["http_ok"] == c["http_sent"] and c["udp_ok"] == c["udp_sent"]
        return c


def drop_counts(table):
    """show drops json (rows of reason, count, description) as reason -> count, the non-zero ones."""
    rows = table if isinstance(table, list) else next((v for v in table.values() if isinstance(v, list)), [])
    return {r["reason"]: r["count"] for r in rows if r.get("count")}


# ------------------------------------------------------------------------------ summary

def slope_per_min(points):
    """Least-squares slope of (t seconds, value) points, per minute."""
    n = len(points)
    if n < 3:
        return None
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    return 60.0 * sum((t - mt) * (v - mv) for t, v in points) / den if den else None


def summarize(samples, duration_s, series):
    """One row per metric: minute 1, minute 2's max, the last minute, the slope from minute 2 and the
    verdict. series: metrics not in the samples, as (t, value) points (the GC log's)."""
    rows = []
    last_start = duration_s - 60
    for key, label, unit, (slope_max, rel, absolute), judged in METRICS:
        pts = series.get(key) or [(s["t"], s[key]) for s in samples if s.get(key) is not None]
        if not pts:
            rows.append(dict(key=key, label=label, unit=unit, judged=judged, flat=None, why="no samples"))
            continue
        m1 = [v for t, v in pts if t < WARMUP_S]
        m2 = [v for t, v in pts if WARMUP_S <= t < 2 * WARMUP_S]
        last = [v for t, v in pts if t >= last_start]
        judged_pts = [(t, v) for t, v in pts if t >= WARMUP_S]
        slope = slope_per_min(judged_pts)
        row = dict(key=key, label=label, unit=unit, judged=judged,
                   first_min_mean=sum(m1) / len(m1) if m1 else None, first_min_max=max(m1) if m1 else None,
                   min2_max=max(m2) if m2 else None,
                   last_min_mean=sum(last) / len(last) if last else None, last_min_max=max(last) if last else None,
                   slope_per_min=slope, slope_from_s=WARMUP_S)
        allowed = max(rel * row["min2_max"], absolute) if row["min2_max"] is not None else None
        if slope is None or allowed is None or row["last_min_max"] is None:
            row["flat"], row["why"] = None, "too few samples"
        else:
            growth = row["last_min_max"] - row["min2_max"]
            row["growth"] = growth
            row["allowed_growth"] = allowed
            row["flat"] = slope < slope_max and growth <= allowed
            row["why"] = (f"slope {fmt(slope, unit)}/min {'<' if slope < slope_max else '>='} {fmt(slope_max, unit)}; "
                          f"last-minute max {'+' if growth >= 0 else ''}{fmt(growth, unit)} vs minute 2 "
                          f"({'within' if growth <= allowed else 'beyond'} {fmt(allowed, unit)})")
        rows.append(row)
    return rows


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "MiB":
        return f"{v / MIB:.2f}"
    return f"{v:.1f}" if isinstance(v, float) and v != int(v) else f"{int(v)}"


def markdown(result):
    rows = result["summary"]
    out = ["| figure | minute 1 (mean / max) | minute 2 max | last minute (mean / max) | slope from minute 2, per minute | flat |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        if "first_min_mean" not in r:
            continue
        u = "" if r["unit"] == "count" else " MiB"
        flat = "-" if not r["judged"] else ("yes" if r["flat"] else ("no" if r["flat"] is False else "?"))
        out.append(f"| {r['label']} | {fmt(r['first_min_mean'], r['unit'])} / {fmt(r['first_min_max'], r['unit'])}{u} | "
                   f"{fmt(r['min2_max'], r['unit'])}{u} | {fmt(r['last_min_mean'], r['unit'])} / "
                   f"{fmt(r['last_min_max'], r['unit'])}{u} | {fmt(r['slope_per_min'], r['unit'])}{u} | {flat} |")
    return "\n".join(out)


def machine_facts():
    def sh(cmd):
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20)
        return (r.stdout + r.stderr).strip()
    model = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    mem = re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read())
    return dict(nproc=sh("nproc --all"), cpu=model.group(1) if model else "?",
                mem_gib=round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None, kernel=sh("uname -r"),
                java=sh("java -version 2>&1 | head -n 1"),
                commit=sh(f"git -C {REPO} rev-parse --short HEAD") + (
                    " with uncommitted changes" if sh(f"git -C {REPO} status --porcelain --untracked-files=no") else ""))


def gc_after(gc_log):
    """(uptime s, heap after MiB) of every collection in the GC log."""
    out = []
    try:
        for line in open(gc_log):
            m = re.search(r"^\[([\d.]+)s\].*\bPause .* (\d+)M->(\d+)M\((\d+)M\)", line)
            if m:
                out.append((float(m.group(1)), int(m.group(3))))
    except OSError:
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=int, default=10, help="how long the load runs (3..120, default 10)")
    ap.add_argument("--logdir", help="logs and this run's soak.json (default /tmp/lb-soak-ID)")
    ap.add_argument("--state", help="state file of what this run creates (default /run/lb-soak/ID.state)")
    ap.add_argument("--command", default="", help="the command line to record")
    ap.add_argument("--cleanup", metavar="STATE", help="only clean up what the state file lists, then exit")
    args = ap.parse_args()
    if args.cleanup:
        cleanup_file(args.cleanup, group=True)
        return 0
    if not 3 <= args.minutes <= 120:
        ap.error("--minutes must be 3..120 (minute 1 is warm-up, minute 2 the reference, the last the one judged)")
    if os.geteuid() != 0:
        print("soak: must run as root (network namespaces)", file=sys.stderr)
        return 1
    if not args.state:
        os.makedirs(STATE_DIR, exist_ok=True)
        args.state = os.path.join(STATE_DIR, os.urandom(2).hex() + ".state")
    args.logdir = args.logdir or f"/tmp/lb-soak-{os.path.basename(args.state).split('.')[0]}"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    soak = Soak(args)
    try:
        facts = machine_facts()
        soak.up()
        soak.start_lb()
        log(f"testbed {soak.prefix} up, lb serving: {args.minutes} minutes of load, a sample every {SAMPLE_S} s")
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        soak.run_soak()
        checks = soak.final_checks()
        gcs = gc_after(soak.gc_log)
        offset = soak.lb_started - soak.t0   # GC log uptime to soak time
        gc_points = [(round(t + offset, 1), m * MIB) for t, m in gcs if 0 <= t + offset <= soak.duration_s]
        summary = summarize(soak.samples, soak.duration_s, {"heap_after_gc": gc_points})
        loads = [s["loadavg"][0] for s in soak.samples]
        result = dict(command=args.command or f"soak.py --minutes {args.minutes}", started=started,
                      minutes=args.minutes, machine=facts, java_opts=JAVA_OPTS, sample_s=SAMPLE_S,
                      loadavg_1m=dict(min=min(loads), max=max(loads), mean=round(sum(loads) / len(loads), 2)),
                      load=soak.stats, final=checks, summary=summary,
                      gc_heap_after=[dict(uptime_s=t, heap_after_mib=m) for t, m in gcs], events=soak.events,
                      samples=soak.samples)
        flat = all(r["flat"] for r in summary if r["judged"])
        clean = (checks["serves"] and not checks["exception_lines"] and not checks["unexpected_drops"]
                 and not checks["injected_mismatch"] and checks["lb_exit"] in (0, 143))
        result["verdict"] = dict(flat=flat, clean=clean)
        paths = [os.path.join(args.logdir, "soak.json")] + ([OUT_JSON] if args.minutes >= 10 else [])
        for path in paths:
            with open(path, "w") as f:
                json.dump(result, f, indent=1)
        table = markdown(result)
        with open(os.path.join(args.logdir, "soak.md"), "w") as f:
            f.write(table + "\n")
        print(table)
        print()
        for r in summary:
            if r["judged"]:
                print(f"{r['label']}: {'flat' if r['flat'] else 'NOT flat'} ({r.get('why')})")
        print(f"load average (1 min) {result['loadavg_1m']}; GCs: {len(gcs)}, heap after each: "
              f"{[m for _, m in gcs][:12]}{' ...' if len(gcs) > 12 else ''} MiB")
        for name, s in sorted(soak.stats.items()):
            print(f"load {name}: {json.dumps(s)}")
        print(f"final: serves={checks['serves']} (http {checks['http_ok']}/{checks['http_sent']}, udp "
              f"{checks['udp_ok']}/{checks['udp_sent']}), flows {checks['flows_after_idle']} after "
              f"{checks['flows_idle_wait_s']} s idle, exceptions in lb's log: {len(checks['exception_lines'])}, "
              f"drops {checks['drops']}, injected {checks['injected']}, unexpected drops "
              f"{checks['unexpected_drops']}, lb exit {checks['lb_exit']}")
        print(f"soak: {'FLAT' if flat else 'NOT FLAT'}, {'CLEAN' if clean else 'NOT CLEAN'}; samples in {paths[-1]}")
        return 0 if flat and clean else 1
    except (HarnessError, subprocess.TimeoutExpired, subprocess.CalledProcessError) as e:
        log(f"error: {e}")
        return 1
    except SystemExit:
        log("stopped by a signal: removing what this run created")
        raise
    finally:
        soak.stop.set()
        cleanup_file(soak.registry.path, group=True)   # whatever the state file still lists, then the file


if __name__ == "__main__":
    sys.exit(main())
