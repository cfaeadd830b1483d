"""Shared pieces of the integration suites: the privilege guard, a running
`rsthop trace` inside a lab namespace, NDJSON parsing and schema validation."""
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "lab"))

from lab import Lab, LabError  # noqa: E402,F401

BIN = os.environ.get("RSTHOP_BIN", os.path.join(ROOT, "build", "rsthop"))
SCHEMA = os.path.join(ROOT, "docs", "schema", "events.schema.json")


def require_root(test):
    """Privileged tests skip without root, but fail when CI requires them."""
    if os.geteuid() == 0:
        return
    if os.environ.get("RSTHOP_REQUIRE_PRIVILEGED") == "1":
        test.fail("this test needs root (RSTHOP_REQUIRE_PRIVILEGED=1 forbids skipping)")
    raise unittest.SkipTest("needs root")


def validate(events):
    """Validates every event against the JSON Schema; raises AssertionError."""
    import jsonschema

    with open(SCHEMA) as f:
        schema = json.load(f)
    v = jsonschema.Draft202012Validator(schema)
    for i, e in enumerate(events):
        errors = sorted(v.iter_errors(e), key=lambda x: x.path)
        if errors:
            raise AssertionError(f"event {i} ({event_type(e)}) violates the schema: {errors[0].message}\n{e}")


def wait_for_line(stream, needle, timeout):
    """Reads the pipe `stream` until a line holding `needle` has come, for `timeout` seconds at most;
    returns (that line or None, all the text read).  It reads the descriptor itself, past the file
    object's buffer (so nothing may have been read through that object before): unlike readline(),
    a process that prints nothing cannot hold the caller past the timeout."""
    fd, got = stream.fileno(), b""
    deadline = time.monotonic() + timeout
    while True:
        text = got.decode(errors="replace")
        for line in text.splitlines(keepends=True):
            if needle in line and line.endswith("\n"):
                return line, text
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None, text
        chunk = os.read(fd, 4096)
        if not chunk:  # the process closed it: exited
            return None, text
        got += chunk


def start_tcpdump(lab, node, argv, timeout=10.0, **kw):
    """`argv` (a tcpdump command line) in lab node `node`, returned once it captures: tcpdump says
    "listening on" (stderr) when its socket is bound.  A tcpdump that does not say it within
    `timeout` seconds is killed and fails the test, with what it printed."""
    p = lab.popen(node, argv, **kw)
    line, said = wait_for_line(p.stderr, "listening on", timeout)
    if line is None:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=10)
        raise AssertionError(f"tcpdump did not start within {timeout} s (rc={p.returncode}): {said.strip()!r}")
    return p


# The end marker of a capture on the client's link: a datagram to router 1's port 9.
MARKER_PORT = 9


def with_end_marker(lab, expr):
    """A tcpdump filter for the client's link: `expr`, and the end marker (stop_at_end_marker)."""
    return f"({expr}) or (udp and dst host {lab.hop_addr(1)} and dst port {MARKER_PORT})"


def is_end_marker(lab, line):
    """Whether a line of tcpdump's output is the end marker's."""
    return f" > {lab.hop_addr(1)}.{MARKER_PORT}: UDP" in line


def stop_at_end_marker(lab, p, timeout=30.0):
    """Stops tcpdump `p` (text output, on the client's link, started with with_end_marker's filter)
    once it has printed everything captured so far; returns its whole output.  Not a sleep before
    SIGINT: tcpdump hands packets over in blocks (up to 100 ms old with -l) and must then be
    scheduled, so a loaded machine lost the last packets.  The marker goes through the link after
    them, and packets on one interface reach the capture in order: once tcpdump printed the
    marker, it printed every packet before it."""
    to = lab.hop_addr(1)
    lab.run("client", "python3 -c 'import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                      f".sendto(b\"rsthop-capture-end\", (sys.argv[1], {MARKER_PORT}))' {to}")
    line, said = wait_for_line(p.stdout, f" > {to}.{MARKER_PORT}: UDP", timeout)
    p.send_signal(signal.SIGINT)
    rest, _ = p.communicate(timeout=10)
    if line is None:
        raise AssertionError(f"tcpdump did not print the end marker within {timeout} s: {said[-400:]!r}")
    return said + (rest or "")


class Trace:
    """`rsthop trace` running in a lab node; stop() returns the parsed events."""

    def __init__(self, lab, node, args, ready_timeout=60.0, env=None, host_mounts=False):
        self.lab = lab
        extra = {"env": env} if env is not None else {}
        if host_mounts:  # only the network namespace: /sys/fs/cgroup stays visible
            extra["host_mounts"] = True
        self.proc = lab.popen(node, [BIN, "trace", "--format", "json"] + list(args), text=True, **extra)
        self.stdout = ""
        self.stderr = ""
        self.rc = None
        # Wait for the "tracing ..." line: programs are attached from then on.
        line, said = wait_for_line(self.proc.stderr, "tracing", ready_timeout)
        self.stderr += said
        if line is not None:
            self._start_readers()
            return
        self.stop()
        raise AssertionError(f"rsthop trace did not start: rc={self.rc} stderr={self.stderr!r}")

    def _start_readers(self):
        """Read standard output as it fills, as a real consumer does: trace drops (and counts)
        lines an output cannot take, so a reader that waited for the end would lose them."""
        self._out = []
        self._reader = threading.Thread(target=lambda: self._out.extend(iter(self.proc.stdout.readline, "")),
                                        daemon=True)
        self._reader.start()

    def stop(self, sig=signal.SIGINT, timeout=15.0):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        reader = getattr(self, "_reader", None)
        if reader is None:
            try:
                out, err = self.proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, err = self.proc.communicate()
                raise AssertionError("rsthop trace did not exit after SIGINT")
        else:
            box = []
            err_reader = threading.Thread(target=lambda: box.append(self.proc.stderr.read()), daemon=True)
            err_reader.start()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("rsthop trace did not exit after SIGINT")
            reader.join(timeout=10)
            err_reader.join(timeout=10)
            out, err = "".join(self._out), "".join(box)
            self._out, self._reader = [], None
        self.stdout += out or ""
        self.stderr += err or ""
        self.rc = self.proc.returncode
        return self.events()

    def wait_for(self, pred, timeout=30.0):
        """While trace runs: waits until a line it wrote satisfies `pred` (on the parsed event), returns
        that event.  A signal that the product has read what came before, instead of a sleep."""
        deadline = time.monotonic() + timeout
        while True:
            for line in list(self._out):
                if line.strip() and pred(json.loads(line)):
                    return json.loads(line)
            if time.monotonic() >= deadline or self.proc.poll() is not None:
                raise AssertionError(f"no such line from rsthop trace within {timeout} s: {''.join(self._out)[-600:]!r}")
            time.sleep(0.05)

    def programs(self):
        """Ids of the BPF programs this trace holds (call while it runs)."""
        return programs_held(self.proc.pid)

    def events(self):
        out = []
        for line in self.stdout.splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out


# Where rsthop's output keeps what (schema 2, ECS 8.11): every JSON path the
# suites read goes through these, so a layout change is made here only.
def event_type(e):
    """rsthop.event_type: flow, reset, packet, stats, lost, incident, probe, hop or verdict."""
    return (e.get("rsthop") or {}).get("event_type")


def part(e, name):
    """rsthop's own object of a line: part(e, "reset") is rsthop.reset, and so on for
    flow, packet, icmp, stats, lost, incident, probe, hop and verdict."""
    return e["rsthop"][name]


def verdict(e):
    """The attribution of a reset line (rsthop.reset) or a diagnose verdict (rsthop.verdict)."""
    rs = e["rsthop"]
    return rs["verdict"] if "verdict" in rs else rs["reset"]


def ecs_mac(mac):
    """02:68:78:01:00:01 (sysfs, ip link) as rsthop writes MACs, in ECS notation: 02-68-78-01-00-01."""
    return mac.replace(":", "-").upper()


def of_type(events, t):
    return [e for e in events if event_type(e) == t]


def programs_held(pid):
    """Ids of the BPF programs process pid holds (its program and link descriptors, from
    /proc/PID/fdinfo): the suite's own programs, whatever other rsthops run beside it."""
    ids = set()
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass  # closed meanwhile
    return ids


def loaded_programs(ids):
    """Names of those of ids still loaded."""
    r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True)
    return [p.get("name", "") for p in json.loads(r.stdout or "[]") if p.get("id") in ids]


def wait_programs_freed(ids, timeout=20.0):
    """Programs are freed asynchronously after the last reference goes; returns the names left."""
    deadline = time.time() + timeout
    left = loaded_programs(ids)
    while left and time.time() < deadline:
        time.sleep(0.1)
        left = loaded_programs(ids)
    return left


def attached_programs(lab, node):
    """rsthop's (rh_*) programs attached in node's namespace (XDP, tc, tcx): what a process that
    exited can have left behind, since its own descriptors die with it."""
    r = lab.run(node, "bpftool -j net show")
    names = []

    def walk(x):
        if isinstance(x, dict):
            n = x.get("name") or x.get("prog_name") or ""
            if n.startswith("rh_"):
                names.append(n)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(json.loads(r.stdout or "[]"))
    return names


ROUND_TRIP_KEYS = ("outcome", "origin", "hop", "hop_ip", "candidates")


def analyze_verdict(pcap, *args):
    """`rsthop analyze PCAP --format json`: (returncode, events, stderr)."""
    r = subprocess.run([BIN, "analyze", pcap, "--format", "json"] + list(args), capture_output=True, text=True,
                       timeout=120)
    events = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return r.returncode, events, r.stderr


def assert_round_trip(test, pcap, live):
    """`rsthop analyze` of a diagnose run's --pcap-out file gives the live verdict
    (outcome, origin, hop, hop_ip, candidates); returns analyze's verdict."""
    rc, events, err = analyze_verdict(pcap)
    test.assertEqual(rc, 0, err)
    validate(events)
    verdicts = of_type(events, "verdict")
    test.assertEqual(len(verdicts), 1, f"analyze of {pcap}: {len(verdicts)} verdict lines\n{err}")
    off = part(verdicts[0], "verdict")
    hops = " ".join(f"{part(h, 'hop')['ladder']}{part(h, 'hop')['ttl']}={part(h, 'hop')['result']}"
                    for h in of_type(events, "hop"))
    test.assertEqual({k: live.get(k) for k in ROUND_TRIP_KEYS}, {k: off.get(k) for k in ROUND_TRIP_KEYS},
                     f"\n live: {json.dumps(live)}\n analyze: {json.dumps(off)}\n hops: {hops}")
    return off


def _socket_inodes(pid):
    """The socket inodes the process `pid` and its children hold (in this network namespace's view)."""
    pids = {pid}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.add(int(d))
            except (OSError, IndexError, ValueError):
                pass
    inodes = set()
    for p in pids:
        try:
            for fd in os.listdir(f"/proc/{p}/fd"):
                try:
                    link = os.readlink(f"/proc/{p}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:["):
                    inodes.add(int(link[8:-1]))
        except OSError:
            pass
    return inodes


def port_holders(pid, proto, port):
    """For a local `proto` ("tcp" or "udp") `port`: (whether `pid` or a child holds a socket bound to it,
    whether any other process does), from /proc/net/{proto,proto6}.  A test that picked a free port and
    then lets a daemon bind it learns whether the daemon got it or something else took it meanwhile."""
    ours = _socket_inodes(pid)
    mine = other = False
    for name in (proto, proto + "6"):
        try:
            with open(f"/proc/net/{name}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) < 10 or int(cols[1].rsplit(":", 1)[1], 16) != port:
                continue
            if proto == "tcp" and cols[3] != "0A":  # listening sockets only, not connections from the port
                continue
            if int(cols[9]) in ours:
                mine = True
            else:
                other = True
    return mine, other


def holds_file(pid, path):
    """Whether process `pid` has the file now at `path` open (the same inode): a daemon told to reopen
    its output after a rotation has done so once this holds, with no fixed sleep."""
    try:
        want = os.stat(path)
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            return True
    return False
