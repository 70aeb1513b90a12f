"""What bench.py (run.sh) and paths.py (paths.sh) share: running commands, telling a recorded
process from a later one with its PID, stopping exactly the processes a run started, and the
state file that records what a run creates (namespaces, testbed prefixes, PIDs) before it exists,
so that cleanup removes exactly those, also from the wrapper's EXIT trap after the script died.

State file: one entry a line, "ns NAME" (a network namespace: deleted with ip netns del),
"prefix PREFIX" (a docker/testbed.sh testbed: removed with testbed.sh down --prefix) and
"pid PID START" (a process and its start time, field 22 of /proc/PID/stat).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTBED = os.path.join(REPO, "docker", "testbed.sh")


class HarnessError(Exception):
    pass


def make_log(tag, t0=None):
    """A logger to stderr: "TAG: msg", or with t0 "TAG: [  12 s] msg" (seconds since t0)."""
    if t0 is None:
        def log(msg):
            print(f"{tag}: {msg}", file=sys.stderr, flush=True)
    else:
        def log(msg):
            print(f"{tag}: [{time.monotonic() - t0:5.0f} s] {msg}", file=sys.stderr, flush=True)
    return log


def run(argv, timeout=30, check=True, capture=True):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=capture, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise HarnessError(f"{' '.join(argv)} failed ({r.returncode}): {(r.stderr or '').strip()[-400:]}")
    return r.stdout if capture else ""


def in_ns(ns, argv, cpu=None):
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    return ["ip", "netns", "exec", ns] + pin + argv


def lb_control_text(sock, cmd):
    """One command on lb's control socket, its answer as text (an answer ends with an empty line)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sock)
        s.sendall(cmd.encode() + b"\nquit\n")
        data = b""
        while b"\n\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\n\n", 1)[0].decode()


def lb_control(sock, cmd):
    """One command on lb's control socket, its JSON answer."""
    return json.loads(lb_control_text(sock, cmd))


# ------------------------------------------------------------------------------ processes

def iperf3_result(out):
    """iperf3 -J's report, or HarnessError saying what went wrong (no JSON, or iperf3's own error)."""
    try:
        j = json.loads(out)
    except ValueError:
        raise HarnessError(f"iperf3 printed no JSON: {out[-400:]}")
    if "error" in j:
        raise HarnessError(f"iperf3: {j['error']}")
    return j


def proc_start_time(pid):
    """Field 22 of /proc/PID/stat: tells a recorded process from a later one with its PID.
    None when the process is gone or a zombie (it has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]


def stop_pid(pid, start, sig=signal.SIGTERM, grace_s=3.0, group=False):
    """Signal one process (with group, the process group it leads) if it is still the one
    recorded; SIGKILL the group it leads (started with a new session, so only processes started
    here) after grace_s."""
    if start is None or proc_start_time(pid) != start:
        return
    try:
        if group:
            try:
                os.killpg(pid, sig)
            except (ProcessLookupError, PermissionError):  # not a group leader: the process alone
                os.kill(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if proc_start_time(pid) != start:
            return
        time.sleep(0.05)
    if proc_start_time(pid) == start:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Registry:
    """What a run created: namespaces, testbed prefixes and PIDs, in a state file (see the
    module's header), so that cleanup can remove exactly those."""

    def __init__(self, path):
        self.path = path
        self.ns = []
        self.prefixes = []
        self.pids = {}
        self._write()

    @classmethod
    def load(cls, path):
        r = cls.__new__(cls)
        r.path, r.ns, r.prefixes, r.pids = path, [], [], {}
        with open(path) as f:
            for line in f:
                parts = line.split()
                if parts[:1] == ["ns"] and len(parts) == 2:
                    r.ns.append(parts[1])
                elif parts[:1] == ["prefix"] and len(parts) == 2:
                    r.prefixes.append(parts[1])
                elif parts[:1] == ["pid"] and len(parts) == 3:
                    r.pids[int(parts[1])] = parts[2]
        return r

    def _write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            for n in self.ns:
                f.write(f"ns {n}\n")
            for p in self.prefixes:
                f.write(f"prefix {p}\n")
            for pid, start in self.pids.items():
                f.write(f"pid {pid} {start}\n")
        os.replace(tmp, self.path)

    def _add(self, entries, entry):
        entries.append(entry)
        self._write()

    def _drop(self, entries, entry):
        if entry in entries:
            entries.remove(entry)
            self._write()

    def add_ns(self, name):
        self._add(self.ns, name)

    def drop_ns(self, name):
        self._drop(self.ns, name)

    def add_prefix(self, prefix):
        self._add(self.prefixes, prefix)

    def drop_prefix(self, prefix):
        self._drop(self.prefixes, prefix)

    def add_pid(self, pid):
        start = proc_start_time(pid)
        if start is not None:
            self.pids[pid] = start
            self._write()
        return start

    def drop_pid(self, pid):
        self.pids.pop(pid, None)
        self._write()

    def cleanup(self, grace_s=3.0, group=False):
        """Stops the recorded PIDs (by start time), then deletes the recorded namespaces that
        still exist and takes down the recorded testbeds; idempotent."""
        for pid, start in list(self.pids.items()):
            stop_pid(pid, start, signal.SIGTERM, grace_s, group)
            self.drop_pid(pid)
        existing = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
        for n in list(self.ns):
            if n in existing:
                subprocess.run(["ip", "netns", "del", n], capture_output=True)
            self.drop_ns(n)
        for prefix in list(self.prefixes):
            subprocess.run(["bash", TESTBED, "down", "--prefix", prefix],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            self.drop_prefix(prefix)


def cleanup_file(path, grace_s=3.0, group=False):
    """Cleans up what the state file at path lists (Registry.cleanup), then removes the file;
    nothing when there is no such file."""
    if not os.path.exists(path):
        return
    Registry.load(path).cleanup(grace_s, group)
    os.remove(path)


class Proc:
    """A background process started in a new session and recorded in the registry."""

    def __init__(self, registry, argv, logpath, log=None):
        self.registry = registry
        self.logpath = logpath
        self.log = log or make_log("harness")
        self.logfile = open(logpath, "w")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logfile,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.popen.pid
        self.start = registry.add_pid(self.pid)

    def alive(self):
        return self.popen.poll() is None

    def kill_message(self, sig, grace_s):
        return f"pid {self.pid} ({os.path.basename(self.logpath)}) ignored signal {sig} for {grace_s} s: SIGKILL"

    def stop(self, sig=signal.SIGTERM, grace_s=5.0, group=False):
        """Signal it (or, with group, the process group it leads: its own session, so only its
        own children), wait up to grace_s, then SIGKILL the group. Returns its log."""
        if self.popen.poll() is None:
            try:
                if group:
                    os.killpg(self.pid, sig)
                else:
                    os.kill(self.pid, sig)
                self.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.log(self.kill_message(sig, grace_s))
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.registry.drop_pid(self.pid)
        self.logfile.close()
        with open(self.logpath) as f:
            return f.read()
