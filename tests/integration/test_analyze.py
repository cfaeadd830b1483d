"""`rsthop analyze` end to end: tcpdump records a lab scenario on the client
while `rsthop trace` watches it live; analyzing the capture afterwards must
name the same origin at the same hop distance as the live trace did.

Topology (as test_attribution): client -> r1 -> r2 -> server, so the server is
hop 3 and router k is hop k."""
import os
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Lab, Trace, of_type, part, require_root, start_tcpdump, validate

OK, BLOCKED = "ok.lab", "blocked.lab"
SERVER_HOP = 3


def parse(text):
    import json
    return [json.loads(l) for l in text.splitlines() if l.strip()]


class AnalyzeTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=2, server_name=OK)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)
        self.tmp = tempfile.TemporaryDirectory(prefix="rsthop_analyze_")
        self.addCleanup(self.tmp.cleanup)

    def tls(self, sni, family=4, timeout=3):
        addr = self.lab.addr("server", family)
        res = addr if family == 4 else f"[{addr}]"
        self.lab.run("client", f"curl -{family} -sk -m {timeout} -o /dev/null --resolve {sni}:443:{res} "
                               f"https://{sni}/", check=False)

    def tcpdump(self, out, **kw):
        """tcpdump on the client's interface writing pcap to `out` ('-': stdout); returns once it listens."""
        argv = ["tcpdump", "-i", self.lab.client_if, "-U", "--immediate-mode", "-n", "-w", out, "tcp or icmp or icmp6"]
        return start_tcpdump(self.lab, "client", argv, **kw)

    def stop_tcpdump(self, p):
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)

    def live_and_captured(self, action):
        """Runs `action` under both `rsthop trace` and tcpdump; returns (live resets, capture path)."""
        path = os.path.join(self.tmp.name, "capture.pcap")
        dump = self.tcpdump(path)
        t = Trace(self.lab, "client", ["-i", self.lab.client_if])
        action()
        time.sleep(1.0)
        events = t.stop()
        self.stop_tcpdump(dump)
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        return of_type(events, "reset"), path

    def analyze(self, *args, stdin=None):
        r = subprocess.run([BIN, "analyze", "--format", "json"] + list(args), stdin=stdin, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = parse(r.stdout)
        validate(events)
        return events

    def assert_same_verdicts(self, live, offline, path):
        self.assertTrue(live, "the live trace saw no reset")
        self.assertEqual(len(offline), len(live), [part(r, "reset")["summary"] for r in offline])
        # Live, resets whose bursts close on the same tick may come in either order.
        def order(rs):
            return sorted(rs, key=lambda r: (r["source"]["ip"], r["destination"]["port"]))
        for lv, off in zip(order(live), order(offline)):
            self.assertEqual(part(off, "reset")["origin"], part(lv, "reset")["origin"], part(off, "reset")["summary"])
            self.assertEqual(part(off, "reset").get("hops"), part(lv, "reset").get("hops"), part(off, "reset")["summary"])
            self.assertEqual(part(off, "reset").get("endpoint_hops"), part(lv, "reset").get("endpoint_hops"))
            self.assertEqual(off["source"]["ip"], lv["source"]["ip"])
            self.assertEqual(off["rsthop"]["hook"], "pcap")
            self.assertEqual(off["rsthop"]["file"], path)
            self.assertTrue(off["rsthop"]["frames"] and all(f >= 1 for f in off["rsthop"]["frames"]))

    def test_reset_on_sni_at_router_2(self):
        self.lab.start_server()
        self.lab.reset_on_sni(2, BLOCKED)
        live, path = self.live_and_captured(lambda: (self.tls(BLOCKED), self.tls(OK)))
        events = self.analyze(path)
        offline = of_type(events, "reset")
        self.assert_same_verdicts(live, offline, path)
        self.assertEqual(part(offline[0], "reset")["origin"], "middlebox")
        self.assertEqual(part(offline[0], "reset")["hops"], 2)
        self.assertEqual(offline[0]["tls"]["client"]["server_name"], BLOCKED)
        flows = of_type(events, "flow")
        self.assertEqual(len(flows), 2, flows)
        for f in flows:
            self.assertEqual(f["rsthop"]["file"], path)
            self.assertLessEqual(f["rsthop"]["first_frame"], f["rsthop"]["last_frame"])
        self.assertTrue(part(of_type(events, "stats")[-1], "stats")["final"])

    def test_server_abort_after_hello(self):
        self.lab.start_server(abort_after_hello=True)
        live, path = self.live_and_captured(lambda: (self.tls(OK, 4), self.tls(OK, 6)))
        offline = of_type(self.analyze(path), "reset")
        self.assert_same_verdicts(live, offline, path)
        for r in offline:
            self.assertEqual(part(r, "reset")["origin"], "endpoint", part(r, "reset")["summary"])
            self.assertEqual(part(r, "reset")["hops"], SERVER_HOP)

    def test_standard_input_from_tcpdump(self):
        self.lab.start_server()
        self.lab.reset_on_sni(2, BLOCKED)
        dump = self.tcpdump("-")
        ana = subprocess.Popen([BIN, "analyze", "--format", "json", "-"], stdin=dump.stdout, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        dump.stdout.close()  # analyze holds the pipe now
        self.tls(BLOCKED)
        time.sleep(0.5)
        self.stop_tcpdump(dump)
        out, err = ana.communicate(timeout=30)
        self.assertEqual(ana.returncode, 0, err)
        events = parse(out)
        validate(events)
        resets = of_type(events, "reset")
        self.assertEqual(len(resets), 1, (err, out))
        self.assertEqual(part(resets[0], "reset")["origin"], "middlebox")
        self.assertEqual(part(resets[0], "reset")["hops"], 2)
        self.assertEqual(resets[0]["rsthop"]["file"], "-")


if __name__ == "__main__":
    unittest.main(verbosity=2)
