"""A network lab of namespaces: client -> router 1 -> ... -> router N -> server.

Every link carries IPv4 (198.18.<link>.0/24) and IPv6 (2001:db8:<link>::/64);
these ranges exist only inside the lab.  Routers forward both families; the
server's name resolves in the client namespace through /etc/netns/<ns>/hosts.
Namespace and interface names are unique per Lab, so suites can run in
parallel, and everything is removed on exit, even when a test fails.

    with Lab(routers=2, server_name="customerweb") as lab:
        lab.run("client", "curl -s http://customerweb/")

Middleboxes that reset or drop (an SNI firewall, an on-path injector, a
resetting load balancer, ...) and the lab's TLS server are methods from
behaviours.py; their C++ helpers are built into build/tools/lab/.
"""
import atexit
import os
import shutil
import signal
import subprocess
import time
import uuid

from behaviours import Behaviours

V4 = "198.18.{link}.{host}"
V6 = "2001:db8:{link}::{host}"


class LabError(RuntimeError):
    pass


def sh(cmd, check=True, **kw):
    """Runs a host command; raises LabError with its stderr on failure."""
    r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise LabError(f"{cmd!r} failed ({r.returncode}): {r.stderr.strip()}")
    return r


class Lab(Behaviours):
    """The namespace chain; middlebox behaviours come from Behaviours (behaviours.py)."""

    def __init__(self, routers=0, server_name="server.lab", prefix="rh", mtu=None):
        self.tag = f"{prefix}{uuid.uuid4().hex[:6]}"
        self.routers = routers
        self.server_name = server_name
        self.mtu = mtu
        self.nodes = ["client"] + [f"r{i}" for i in range(1, routers + 1)] + ["server"]
        self.procs = []
        self._up = False

    # Names -----------------------------------------------------------------
    def ns(self, node):
        return f"{self.tag}-{node}"

    def link_addr(self, link, side, family=4):
        """Address of `side` (1: left node, 2: right node) on link k (0-based)."""
        fmt = V4 if family == 4 else V6
        return fmt.format(link=link + 1 + self._base, host=side)

    @property
    def client_if(self):
        return "right0"

    @property
    def server_if(self):
        return "left0"

    def addr(self, node, family=4):
        """The node's address on its link towards the server (client) or the client."""
        i = self.nodes.index(node)
        if node == "server":
            return self.link_addr(i - 1, 2, family)
        return self.link_addr(i, 1, family)

    def hop_addr(self, hop, family=4):
        """Address with which hop k (1 = first router) answers the client."""
        return self.link_addr(hop - 1, 2, family)

    # Lifecycle -------------------------------------------------------------
    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    def up(self):
        # Links use 198.18.<base+k>.0/24 with a base drawn per lab: parallel labs
        # live in separate namespaces anyway, distinct subnets keep captures clear.
        self._base = int(self.tag[-2:], 16) % 64 * 2
        atexit.register(self.down)
        self._up = True
        # One shell runs the whole setup: `ip -n NS -batch` per node instead of an
        # `ip netns exec` (a mount namespace and a shell) per command, which made
        # a 4-router lab cost ~130 processes and ~3 s.
        sh(["sh", "-ec", "\n".join(self._setup_script())])
        self.set_hosts("client", {self.server_name: (self.addr("server", 4), self.addr("server", 6))})
        return self

    def _setup_script(self):
        """The lab's setup as shell lines: namespaces, sysctls, veth pairs, then each
        node's addresses and links, then its routes (ip batches), then a wait until
        every link is up."""
        lines = []
        for n in self.nodes:
            fwd = 1 if n.startswith("r") else 0
            lines.append(f"ip netns add {self.ns(n)}")
            lines.append(f"nsenter --net=/run/netns/{self.ns(n)} sysctl -qw net.ipv4.ip_forward={fwd} "
                         f"net.ipv6.conf.all.forwarding={fwd} net.ipv6.conf.all.accept_dad=0 "
                         "net.ipv6.conf.default.accept_dad=0")
        links = {n: ["link set lo up"] for n in self.nodes}
        for k in range(len(self.nodes) - 1):
            left, right = self.nodes[k], self.nodes[k + 1]
            # Made in the host and moved (not made in place): the two ends then have
            # different ifindexes, which makes their carrier change urgent to the kernel's
            # link watch (~0.1 s to usable links instead of up to 1 s).
            a, b = f"{self.tag}a{k}", f"{self.tag}b{k}"
            lines.append(f"ip link add {a} type veth peer name {b}")
            lines.append(f"ip link set {a} netns {self.ns(left)} name right0")
            lines.append(f"ip link set {b} netns {self.ns(right)} name left0")
            for node, dev, side in ((left, "right0", 1), (right, "left0", 2)):
                links[node].append(f"addr add {self.link_addr(k, side, 4)}/24 dev {dev}")
                links[node].append(f"addr add {self.link_addr(k, side, 6)}/64 dev {dev} nodad")
                if self.mtu:
                    links[node].append(f"link set {dev} mtu {self.mtu}")
                links[node].append(f"link set {dev} up")
        routes = {n: [] for n in self.nodes}
        # Routes: everything left of a node goes left, everything right goes right.
        last = len(self.nodes) - 1
        for i, n in enumerate(self.nodes):
            for fam in (4, 6):
                plen = "/24" if fam == 4 else "/64"
                if i < last:
                    gw = self.link_addr(i, 2, fam)
                    routes[n] += [f"route add {self.link_addr(k, 0, fam)}{plen} via {gw}" for k in range(i + 1, last)]
                if i > 0:
                    gw = self.link_addr(i - 1, 1, fam)
                    routes[n] += [f"route add {self.link_addr(k, 0, fam)}{plen} via {gw}" for k in range(0, i - 1)]
        for batch in (links, routes):
            for n in self.nodes:
                if batch[n]:
                    lines.append(f"ip -n {self.ns(n)} -batch - <<'EOF'\n" + "\n".join(batch[n]) + "\nEOF")
        # A veth whose carrier just came on drops what it is given (noop qdisc) until
        # the kernel's link watch marks it up, up to a second later: wait for that.
        for n in self.nodes:
            lines.append(f"n=0; while ip -n {self.ns(n)} -br link | grep -q DOWN; do n=$((n+1)); "
                         f"[ $n -lt 500 ] || {{ echo '{n}: links stay down' >&2; exit 1; }}; sleep 0.01; done")
        return lines

    def set_hosts(self, node, names):
        d = f"/etc/netns/{self.ns(node)}"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/hosts", "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")
            for name, addrs in names.items():
                for a in addrs:
                    f.write(f"{a} {name}\n")

    def down(self):
        if not self._up:
            return
        self._up = False
        for p in self.procs:
            self._kill(p)
        self.close_logs()
        self.procs = []
        for n in self.nodes:
            pids = sh(["ip", "netns", "pids", self.ns(n)], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh(["ip", "netns", "del", self.ns(n)], check=False)
            shutil.rmtree(f"/etc/netns/{self.ns(n)}", ignore_errors=True)

    # Running things --------------------------------------------------------
    def run(self, node, cmd, check=True, timeout=60, **kw):
        """Runs a shell command in node's namespace and waits for it."""
        r = subprocess.run(["ip", "netns", "exec", self.ns(node), "sh", "-c", cmd], capture_output=True,
                           text=True, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise LabError(f"[{node}] {cmd!r} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def popen(self, node, argv, host_mounts=False, **kw):
        """Starts a process in node's namespace; it is killed when the lab goes down.
        host_mounts enters only the network namespace (nsenter --net), keeping
        the host's mounts: `ip netns exec` remounts /sys, which hides /sys/fs/cgroup."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        enter = (["nsenter", f"--net=/run/netns/{self.ns(node)}", "--"] if host_mounts
                 else ["ip", "netns", "exec", self.ns(node)])
        p = subprocess.Popen(enter + list(argv), start_new_session=True, **kw)
        self.procs.append(p)
        return p

    @staticmethod
    def _kill(p, sig=signal.SIGKILL):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
        try:
            p.communicate(timeout=5)
        except (subprocess.TimeoutExpired, ValueError):
            pass

    def wait_port(self, node, addr, port, timeout=20.0):
        """Waits until a TCP listener answers on addr:port inside node."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.run(node, f"ss -Hltn 'sport = :{port}'", check=False)
            if r.stdout.strip():
                return
            time.sleep(0.05)
        raise LabError(f"nothing listens on {addr}:{port} in {node} after {timeout}s")
