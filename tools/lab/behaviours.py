"""Middlebox behaviours for the namespace lab: who resets or drops a connection.

A mixin of Lab (lab.py).  Each method places one behaviour on router k (1 =
next to the client) or on an end host, for IPv4 and IPv6 alike:

    reset_on_sni     in-path reset on a TLS SNI match (iptables string match +
                     REJECT tcp-reset in FORWARD, i.e. after the TTL check; or,
                     before_ttl_check=True, marked in raw PREROUTING and
                     rejected by an nft prerouting chain, before the TTL check)
    inject_on_sni    on-path injector (lab-injector): forged RSTs, original passes
    national_firewall   3 RST+ACK per trigger, one random TTL per connection
                     and a window derived from it (the server answers later)
    inject_blockpage an injected FIN carrying an HTTP blockpage (or a 302
                     redirect) for a Host, then a RST
    copying_injector forged RSTs that copy the client's TTL, IP ID + 1, window
    reset_syn        an on-path device answering every SYN with a RST+ACK
                     (two of them at different hops: two senders, one burst)
    server_drops_syn the server's own SYN-ACKs never come (a distant server)
    drop_on_sni      silent drop (string match + DROP)
    lb_proxy         a resetting TCP proxy (lab-lbproxy) behind an nft redirect,
                     with a vendor MAC on the router's client-facing interface
    client_firewall_reset   the client's own OUTPUT REJECT tcp-reset
    start_server     lab-tls-server in the server namespace

Rules live in the lab's namespaces and processes in Lab.procs, so Lab.down()
removes everything.  Binaries come from $RSTHOP_LAB_BIN_DIR, by default
<repo>/build/tools/lab (where tools/lab/CMakeLists.txt puts them).
"""
import os
import select
import shlex
import shutil
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REJECT_MARK = 0x7273  # "rs": raw PREROUTING marks, the nft prerouting chain rejects
F5_MAC = "00:01:d7:00:00:01"  # 00:01:d7 is F5 Networks' OUI


def bin_path(name):
    d = os.environ.get("RSTHOP_LAB_BIN_DIR") or os.path.join(ROOT, "build", "tools", "lab")
    return os.path.join(d, name)


class Behaviours:
    # Helpers ---------------------------------------------------------------
    def router(self, k):
        if not 1 <= k <= self.routers:
            raise self._error(f"router {k} does not exist (this lab has routers 1..{self.routers})")
        return f"r{k}"

    def _error(self, msg):
        from lab import LabError  # lab imports this module: resolve late

        return LabError(msg)

    def _both(self, node, rule):
        """The same iptables rule for IPv4 and IPv6."""
        for tool in ("iptables", "ip6tables"):
            self.run(node, f"{tool} {rule}")

    @staticmethod
    def _string(sni):
        return f"-m string --string {shlex.quote(sni)} --algo bm"

    def daemon(self, node, argv, timeout=30.0, **popen_kw):
        """Starts a lab binary that prints "ready"; waits for it.  stderr goes to a
        log file (a pipe nobody reads could fill up and block the daemon).
        popen_kw go to popen (preexec_fn, to start it in a cgroup).  The wait ends on
        "ready" (milliseconds); the timeout only bounds a daemon that never says it, so it
        is generous (it was 5 s, a fixed deadline a start under ctest -j4 on two cores
        need not meet)."""
        exe = bin_path(argv[0])
        if not os.access(exe, os.X_OK):
            raise self._error(f"{exe} is missing: build it (cmake --build build) or set RSTHOP_LAB_BIN_DIR")
        if not getattr(self, "_logdir", None):
            self._logdir = tempfile.mkdtemp(prefix=f"{self.tag}-")
        log = open(os.path.join(self._logdir, f"{node}-{argv[0]}-{len(self.procs)}.log"), "w+")
        p = self.popen(node, [exe] + list(argv[1:]), stderr=log, **popen_kw)
        p.log = log
        deadline = time.time() + timeout
        out = b""
        while b"ready" not in out and time.time() < deadline:
            if select.select([p.stdout], [], [], 0.05)[0]:
                chunk = os.read(p.stdout.fileno(), 256)
                if not chunk:
                    break
                out += chunk
        if b"ready" not in out:
            log.seek(0)
            raise self._error(f"{argv[0]} in {node} did not become ready: {log.read().strip() or out!r}")
        return p

    def daemon_log(self, p):
        p.log.flush()
        p.log.seek(0)
        return p.log.read()

    def close_logs(self):
        for p in self.procs:
            if getattr(p, "log", None):
                p.log.close()
        if getattr(self, "_logdir", None):
            shutil.rmtree(self._logdir, ignore_errors=True)
            self._logdir = None

    def set_mac(self, node, dev, mac):
        """Sets dev's MAC and flushes the neighbour's cache so the new one is learnt."""
        self.run(node, f"ip link set dev {dev} address {mac}")
        i = self.nodes.index(node)
        peer = self.nodes[i - 1] if dev == "left0" else self.nodes[i + 1]
        self.run(peer, f"ip neigh flush dev {'right0' if dev == 'left0' else 'left0'}")

    # End hosts -------------------------------------------------------------
    def start_server(self, abort_after_hello=False, https_port=443, http_port=80, name=None, reply_delay_ms=0,
                     http_reset=False, **popen_kw):
        """lab-tls-server on the server's v4 and v6 addresses; returns the process.
        reply_delay_ms models a distant server: without it, the server's first
        flight can overtake an injector's RSTs (the race real injectors run)."""
        argv = ["lab-tls-server", "--name", name or self.server_name, "--reply-delay-ms", str(reply_delay_ms),
                "--bind", self.addr("server", 4), "--bind", self.addr("server", 6),
                "--https-port", str(https_port), "--http-port", str(http_port)]
        if abort_after_hello:
            argv.append("--abort-after-hello")
        if http_reset:
            argv.append("--http-reset")
        return self.daemon("server", argv, **popen_kw)

    def client_firewall_reset(self, port=443, sni=None):
        """The client's own firewall rejects with a RST (on the SYN, or on an SNI)."""
        match = f" {self._string(sni)}" if sni else ""
        self._both("client", f"-A OUTPUT -p tcp --dport {port}{match} -j REJECT --reject-with tcp-reset")

    # Routers ---------------------------------------------------------------
    def reset_on_sni(self, k, sni, before_ttl_check=False, port=443):
        node = self.router(k)
        match = f"-p tcp --dport {port} {self._string(sni)}"
        if not before_ttl_check:
            self._both(node, f"-A FORWARD {match} -j REJECT --reject-with tcp-reset")
            return
        # iptables' REJECT is only valid in filter INPUT/FORWARD/OUTPUT; nft can
        # reject in prerouting, but has no string match: mark, then reject.
        self._both(node, f"-t raw -A PREROUTING {match} -j MARK --set-mark {REJECT_MARK:#x}")
        self.run(node, "nft add table inet rsthop_lab")
        self.run(node, "nft 'add chain inet rsthop_lab pre_reject { type filter hook prerouting priority -290; }'")
        self.run(node, f"nft add rule inet rsthop_lab pre_reject meta mark {REJECT_MARK:#x} reject with tcp reset")

    def drop_on_sni(self, k, sni, port=443):
        self._both(self.router(k), f"-A FORWARD -p tcp --dport {port} {self._string(sni)} -j DROP")

    def inject_on_sni(self, k, sni, count=3, seq_offsets=(0, 1460, 4380), ttl=None, ip_id="inc",
                      window=0, flags="R", payload=None, delay_ms=0, port=443, then_rst=False):
        """lab-injector on router k's client-facing interface.  ttl=None sends 64;
        ttl="server" forges the TTL the server's own packets arrive with; other
        strings (random:LO-HI, copy) go to lab-injector as they are."""
        if ttl == "server":
            ttl = 64 - self.routers + (k - 1)  # k-1 routers decrement it on the way back
        argv = ["lab-injector", "-i", "left0", "--match", sni, "--port", str(port), "--count", str(count),
                "--seq-offsets", ",".join(str(o) for o in seq_offsets), "--ttl", str(ttl or 64),
                "--ip-id", ip_id, "--window", str(window), "--flags", flags, "--delay-ms", str(delay_ms)]
        if payload:
            argv += ["--payload", payload]
        if then_rst:
            argv.append("--then-rst")
        return self.daemon(self.router(k), argv)

    def national_firewall(self, k, match, port=443, ttl_range=(40, 250)):
        """3 RST+ACK per trigger (seq = the client's ack, +1460, +4380), all with one
        TTL drawn per connection from ttl_range (none of the last 16 connections') and a window derived from it."""
        return self.inject_on_sni(k, match, count=3, ttl=f"random:{ttl_range[0]}-{ttl_range[1]}", ip_id="random",
                                  window="from-ttl", flags="RA", port=port)

    def inject_blockpage(self, k, host, redirect=False, port=80):
        """On a request naming `host` (HTTP Host), a FIN+PSH+ACK carrying a
        blockpage (or a 302 redirect), then a RST+ACK: the censor answers first."""
        if redirect:
            body = ""
            head = "HTTP/1.1 302 Found\r\nLocation: http://blocked.invalid/\r\nConnection: close\r\n"
        else:
            body = "<html><body>This site is blocked.</body></html>"
            head = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nConnection: close\r\n"
        page = f"{head}Content-Length: {len(body)}\r\n\r\n{body}"
        return self.inject_on_sni(k, f"Host: {host}", count=1, seq_offsets=(0,), flags="FA", payload=page,
                                  port=port, then_rst=True)

    def copying_injector(self, k, match, port=443):
        """Forged RSTs that copy the client's segment: its TTL as it arrived, its
        IP ID + 1 and its window."""
        return self.inject_on_sni(k, match, count=1, seq_offsets=(0,), ttl="copy", ip_id="copy+1", window="copy",
                                  port=port)

    def reset_syn(self, k, port=443, ttl=64):
        """An on-path device answering every SYN to `port` with a RST+ACK (the
        SYN goes on to the server)."""
        argv = ["lab-injector", "-i", "left0", "--on-syn", "--port", str(port), "--count", "1", "--flags", "RA",
                "--ttl", str(ttl)]
        return self.daemon(self.router(k), argv)

    def server_drops_syn(self, port=443):
        """The server's SYN-ACKs never arrive in time (a distant server): its
        firewall drops the SYNs to `port`, so on-path answers to the SYN win."""
        self._both("server", f"-A INPUT -p tcp --dport {port} --syn -j DROP")

    def lb_proxy(self, k=1, mac=F5_MAC, reset_after_ms=3000, port=443, proxy_port=10443):
        """Connections from the client side to the server's `port` are redirected
        into lab-lbproxy on router k (one process per family, v4 upstream for v4
        clients, v6 for v6); other ports are routed as usual.  Returns the two
        processes."""
        node = self.router(k)
        self.set_mac(node, "left0", mac)
        self.run(node, "nft add table inet rsthop_lab_lb")
        self.run(node, "nft 'add chain inet rsthop_lab_lb pre { type nat hook prerouting priority dstnat; }'")
        procs = []
        for fam, lport, listen, upstream in (
                (4, proxy_port, f"0.0.0.0:{proxy_port}", f"{self.addr('server', 4)}:{port}"),
                (6, proxy_port + 1, f"[::]:{proxy_port + 1}", f"[{self.addr('server', 6)}]:{port}")):
            nfproto = "ipv4" if fam == 4 else "ipv6"
            self.run(node, f"nft add rule inet rsthop_lab_lb pre iifname left0 meta nfproto {nfproto} "
                           f"tcp dport {port} redirect to :{lport}")
            procs.append(self.daemon(node, ["lab-lbproxy", "--listen", listen, "--upstream", upstream,
                                            "--reset-after-ms", str(reset_after_ms), "--verbose"]))
        return procs

