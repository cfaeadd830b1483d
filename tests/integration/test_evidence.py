"""`rsthop analyze --pcap-out`: tcpdump records a TLS connection that router 1
resets on its SNI; analyzing the capture with --pcap-out must write a pcapng
that tshark reads, holding the RST and rsthop's comments naming the reset
event and its verdict.

Topology: client -> r1 -> r2 -> server (as test_analyze)."""
import os
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Lab, Trace, of_type, part, require_root, start_tcpdump, validate

OK, BLOCKED = "ok.lab", "blocked.lab"


def tshark(test, path, *args):
    """`tshark -n -r PATH ARGS`'s output; a file tshark cannot read fails `test`."""
    r = subprocess.run(["tshark", "-n", "-r", path] + list(args), capture_output=True, text=True, timeout=60)
    test.assertEqual(r.returncode, 0, r.stderr)
    return r.stdout


class EvidenceTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=2, server_name=OK)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)
        self.tmp = tempfile.TemporaryDirectory(prefix="rsthop_evidence_")
        self.addCleanup(self.tmp.cleanup)

    def capture(self, path, action):
        argv = ["tcpdump", "-i", self.lab.client_if, "-U", "--immediate-mode", "-n", "-w", path, "tcp or icmp or icmp6"]
        p = start_tcpdump(self.lab, "client", argv)
        action()
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)

    def tshark(self, path, *args):
        return tshark(self, path, *args)

    def test_pcap_out_holds_the_reset(self):
        self.lab.start_server()
        self.lab.reset_on_sni(1, BLOCKED)
        cap = os.path.join(self.tmp.name, "cap.pcap")
        ev = os.path.join(self.tmp.name, "ev.pcapng")
        addr = self.lab.addr("server", 4)
        self.capture(cap, lambda: self.lab.run(
            "client", f"curl -4 -sk -m 3 -o /dev/null --resolve {BLOCKED}:443:{addr} https://{BLOCKED}/", check=False))

        r = subprocess.run([BIN, "analyze", "--format", "json", cap, "--pcap-out", ev], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        import json
        events = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        validate(events)
        resets = of_type(events, "reset")
        self.assertTrue(resets, r.stdout)
        self.assertEqual(part(resets[0], "reset")["origin"], "middlebox", part(resets[0], "reset")["summary"])
        self.assertEqual(part(resets[0], "reset")["hops"], 1)

        comments = [c for c in self.tshark(ev, "-T", "fields", "-e", "frame.comment").splitlines() if c.strip()]
        self.assertTrue(comments, "no packet comments in the --pcap-out file")
        self.assertTrue(all(c.startswith("rsthop reset #") for c in comments), comments)
        self.assertTrue(any(c.startswith("rsthop reset #1: middlebox at hop 1 (confidence ") for c in comments),
                        comments)
        rsts = [l for l in self.tshark(ev, "-Y", "tcp.flags.reset==1").splitlines() if l.strip()]
        self.assertTrue(rsts, "no RST in the --pcap-out file")
        syns = [l for l in self.tshark(ev, "-Y", "tcp.flags.syn==1").splitlines() if l.strip()]
        self.assertGreaterEqual(len(syns), 2, "the handshake is missing")
        # The IDB names the source file.
        descr = self.tshark(ev, "-T", "fields", "-e", "frame.interface_description", "-c", "1")
        self.assertIn(f"pcap {cap} (linktype 1)", descr)
        # Every packet of the evidence is a packet of the capture.
        self.assertLessEqual(len(comments), len(self.tshark(cap).splitlines()))


class LiveEvidenceTest(unittest.TestCase):
    """`rsthop trace --pcap-out`: the kernel hands over the first bytes of the
    packets behind events; the RST router 1 sends on the SNI lands in the file,
    commented, on an interface named after the hook."""

    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name=OK)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)
        self.tmp = tempfile.TemporaryDirectory(prefix="rsthop_live_evidence_")
        self.addCleanup(self.tmp.cleanup)

    def tshark(self, path, *args):
        return tshark(self, path, *args)

    def test_trace_pcap_out_holds_the_reset(self):
        self.lab.start_server()
        self.lab.reset_on_sni(1, BLOCKED)
        ev = os.path.join(self.tmp.name, "ev.pcapng")
        addr = self.lab.addr("server", 4)
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--pcap-out", ev])
        self.lab.run("client", f"curl -4 -sk -m 3 -o /dev/null --resolve {BLOCKED}:443:{addr} https://{BLOCKED}/",
                     check=False)
        time.sleep(1.5)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        self.assertTrue(of_type(events, "reset"), events)

        rsts = [l for l in self.tshark(ev, "-Y", "tcp.flags.reset==1").splitlines() if l.strip()]
        self.assertTrue(rsts, "no RST in the --pcap-out file")
        comments = [c for c in self.tshark(ev, "-T", "fields", "-e", "frame.comment").splitlines() if c.strip()]
        self.assertTrue(comments, "no packet comments in the --pcap-out file")
        self.assertTrue(all(c.startswith("rsthop reset #") for c in comments), comments)
        rst_comments = self.tshark(ev, "-Y", "tcp.flags.reset==1", "-T", "fields", "-e", "frame.comment")
        self.assertIn("rsthop reset #1: ", rst_comments)
        self.assertIn("[RST]", rst_comments)
        descr = self.tshark(ev, "-T", "fields", "-e", "frame.interface_description")
        self.assertTrue(any(f"{h} on {self.lab.client_if}" in descr for h in ("xdp", "tc ingress", "tc egress")),
                        descr)
        # Only the packets behind events, at most RH_FRAME_SNAP_MAX (256) bytes each.
        caplens = [int(x) for x in self.tshark(ev, "-T", "fields", "-e", "frame.cap_len").split()]
        self.assertTrue(caplens and max(caplens) <= 256, caplens)

    def test_diagnose_pcap_out_holds_the_reset(self):
        self.lab.start_server()
        self.lab.reset_on_sni(1, BLOCKED)
        ev = os.path.join(self.tmp.name, "diag.pcapng")
        addr = self.lab.addr("server", 4)
        r = subprocess.run(["ip", "netns", "exec", self.lab.ns("client"), BIN, "diagnose", f"{addr}:443", "--sni",
                            BLOCKED, "--format", "json", "-4", "--pcap-out", ev],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        rst_comments = self.tshark(ev, "-Y", "tcp.flags.reset==1", "-T", "fields", "-e", "frame.comment")
        self.assertIn("rsthop reset #1: middlebox at hop 1", rst_comments)
        descr = self.tshark(ev, "-T", "fields", "-e", "frame.interface_description")
        self.assertIn(f"tc ingress on {self.lab.client_if}", descr)  # diagnose captures with tc only
        # Each probe's connection is in the file too, commented with the probe and its outcome
        # (the TLS probe's frames went out with the reset it drew, each frame once).
        comments = self.tshark(ev, "-T", "fields", "-e", "frame.comment")
        self.assertIn("rsthop probe tcp_connect: ok [handshake]", comments)
        self.assertIn("rsthop probe http: ok HTTP/1.1 301", comments)
        # The resets written are the ones the verdict weighed: the router's RSTs (in the server's
        # name), never the client's own (a ladder aborts each step's socket with a RST).
        rows = [line.split("\t", 1) for line in
                self.tshark(ev, "-Y", "tcp.flags.reset==1", "-T", "fields", "-e", "ip.src", "-e", "frame.comment")
                .splitlines() if line.strip()]
        labelled = [src for src, comment in rows if comment.startswith("rsthop reset #")]
        self.assertTrue(labelled, rows)
        self.assertEqual(set(labelled), {addr}, rows)
        # The project's own reader takes the file, and finds the router's reset in it.
        a = subprocess.run([BIN, "analyze", "--format", "json", ev], capture_output=True, text=True, timeout=60)
        self.assertEqual(a.returncode, 0, a.stderr)
        import json
        resets = [part(e, "reset") for e in of_type([json.loads(l) for l in a.stdout.splitlines() if l.strip()],
                                                      "reset")]
        self.assertTrue(any(r["origin"] == "middlebox" and r.get("hops") == 1 for r in resets),
                        [r["summary"] for r in resets])

    def test_unwritable_pcap_out_fails_before_attaching(self):
        r = subprocess.run([BIN, "trace", "-i", "lo", "--duration", "1", "--pcap-out", "/nonexistent/dir/ev.pcapng"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("tracing", r.stderr)


if __name__ == "__main__":
    unittest.main()
