"""This host's own resets end to end, in IPv4 and IPv6: `rsthop trace` (and
`diagnose`) on the client call them `local`, hop 0, and blame nobody else.

* An application abort: the client closes with unread data (or SO_LINGER 0),
  its kernel sends the RST.  One reset, with the kernel's reason, on the
  connection's own 4-tuple; no second reset and no phantom flow with port 0.
* The client's own firewall rejects the SYN (nft, output hook, "reject with
  tcp reset"): the SYN never leaves and the RST loops back over lo.

Topology: client -> server (no routers); the client is this host."""
import time
import unittest

from harness import BIN, Lab, Trace, of_type, part, require_root, validate

PHRASE = "a firewall rule on this host refused the connection before the syn left"

# Runs in the client: one HTTP request to the server, then a close the kernel
# turns into a RST (unread response, or SO_LINGER 0 right after the handshake).
ABORT = """
import select, socket, struct, sys
fam = socket.AF_INET if {family} == 4 else socket.AF_INET6
s = socket.socket(fam, socket.SOCK_STREAM)
s.connect(({addr!r}, 80))
if {linger}:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
else:
    s.sendall(b"GET / HTTP/1.0\\r\\nHost: server.lab\\r\\n\\r\\n")
    # The response arrives and stays unread (readable, not read): a fixed sleep here let a slow
    # server's answer come after the close, a FIN instead of the abort's RST.
    assert select.select([s], [], [], 30)[0], "no response within 30 s"
print(s.getsockname()[1])
s.close()
"""

CONNECT = """
import socket
fam = socket.AF_INET if {family} == 4 else socket.AF_INET6
s = socket.socket(fam, socket.SOCK_STREAM)
try:
    s.connect(({addr!r}, 80))
    print("connected")
except ConnectionRefusedError:
    print("refused")
"""


class LocalTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=0)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)
        self.lab.start_server()

    def python(self, script):
        return self.lab.run("client", "python3 -", input=script).stdout.strip()

    def trace(self, action):
        t = Trace(self.lab, "client", ["-i", self.lab.client_if])
        out = action()
        time.sleep(1.0)  # the burst window and the flow linger
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        return out, events

    def own_firewall(self):
        for cmd in ("nft add table inet rsthop_local",
                    "nft 'add chain inet rsthop_local out { type filter hook output priority 0; }'",
                    "nft add rule inet rsthop_local out tcp dport 80 reject with tcp reset"):
            self.lab.run("client", cmd)

    def test_application_abort_is_one_local_reset_with_the_kernel_reason(self):
        for family in (4, 6):
            for linger in (False, True):
                with self.subTest(family=family, linger=linger):
                    addr = self.lab.addr("server", family)
                    script = ABORT.format(family=family, addr=addr, linger=linger)
                    port, events = self.trace(lambda: self.python(script))
                    port = int(port)
                    resets = of_type(events, "reset")
                    self.assertEqual(len(resets), 1, resets)
                    r = resets[0]
                    rr = part(r, "reset")
                    self.assertEqual(rr["origin"], "local", rr["summary"])
                    self.assertEqual(rr.get("hops"), 0, rr["summary"])
                    self.assertNotIn("firewall", rr["summary"])
                    reason = rr.get("local_reason", "")
                    if linger:
                        self.assertTrue(reason.startswith("TCP_"), rr)
                    else:
                        self.assertEqual(reason, "TCP_ABORT_ON_CLOSE", rr)
                    self.assertEqual(r["source"]["port"], port, r)
                    self.assertEqual(r["destination"]["port"], 80, r)
                    flows = of_type(events, "flow")
                    ports = sorted(f["source"]["port"] for f in flows)
                    self.assertEqual(ports, [port], flows)

    def test_own_firewall_refusing_the_syn_is_local_in_trace(self):
        self.own_firewall()
        for family in (4, 6):
            with self.subTest(family=family):
                addr = self.lab.addr("server", family)
                out, events = self.trace(lambda: self.python(CONNECT.format(family=family, addr=addr)))
                self.assertEqual(out, "refused")
                resets = of_type(events, "reset")
                self.assertEqual(len(resets), 1, resets)
                rr = part(resets[0], "reset")
                self.assertEqual(rr["origin"], "local", rr["summary"])
                self.assertEqual(rr.get("hops"), 0, rr["summary"])
                self.assertIsNone(rr.get("endpoint_hops"), rr)
                self.assertIn(PHRASE, rr["summary"].lower())
                self.assertEqual(of_type(events, "flow"), [], "a connection that never left has no flow")

    def test_own_firewall_refusing_the_syn_is_local_in_diagnose(self):
        import json
        import subprocess

        self.own_firewall()
        for family in (4, 6):
            with self.subTest(family=family):
                addr = self.lab.addr("server", family)
                target = f"{addr}:80" if family == 4 else f"[{addr}]:80"
                argv = ["ip", "netns", "exec", self.lab.ns("client"), BIN, "diagnose", target, "--format", "json"]
                p = subprocess.run(argv, capture_output=True, text=True, timeout=90)
                events = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
                validate(events)
                verdicts = of_type(events, "verdict")
                self.assertEqual(len(verdicts), 1, p.stderr)
                v = part(verdicts[0], "verdict")
                self.assertEqual(v["origin"], "local", v)
                self.assertEqual(v.get("hop"), 0, v)
                self.assertIsNone(v.get("endpoint_hop"), v)
                self.assertIn(PHRASE, v["summary"].lower())
                for e in v.get("evidence", []):
                    self.assertNotIn("closed on the server", e["observed"], v)


    def test_loopback_counts_every_packet_once(self):
        # A SYN to a closed port on lo and the RST back: one packet each way.
        t = Trace(self.lab, "client", ["-i", "lo"])
        for addr in ("127.0.0.1", "::1"):
            family = 4 if addr == "127.0.0.1" else 6
            out = self.python(CONNECT.format(family=family, addr=addr).replace(", 80)", ", 9)"))
            self.assertEqual(out, "refused")
        time.sleep(1.0)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        flows = [f for f in of_type(events, "flow") if f["destination"]["port"] == 9]
        self.assertEqual(len(flows), 2, flows)
        for f in flows:
            self.assertEqual((f["source"]["packets"], f["destination"]["packets"]), (1, 1), f)
        resets = of_type(events, "reset")
        self.assertEqual(len(resets), 2, resets)
        for r in resets:
            self.assertEqual(part(r, "reset")["count"], 1, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
