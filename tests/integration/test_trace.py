"""`rsthop trace` end to end: real connections in fresh namespaces, real
kernel programs, the real binary.  Traces on the client."""
import json
import os
import shlex
import signal
import subprocess
import time
import unittest

from harness import (BIN, Lab, Trace, attached_programs, ecs_mac, event_type, of_type, part, require_root, validate,
                     wait_programs_freed)

HTTP_SERVER = "import http.server,sys; http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, " \
              "ServerClass=http.server.ThreadingHTTPServer, port=80, bind=sys.argv[1])"


class TraceTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name="web.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def connect(self, host, port, family=4):
        """One TCP connect from the client, like telnet; returns the shell's exit code."""
        flag = "-4" if family == 4 else "-6"
        host = host if family == 4 else f"[{host}]"
        return self.lab.run("client", f"curl {flag} -s -m 3 -o /dev/null http://{host}:{port}/", check=False)

    def test_closed_port_reset_v4(self):
        # --xdp native: the lab's interfaces are veths, where the default (auto) takes tc ingress.
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--packets", "--xdp", "native"])
        self.connect(self.lab.addr("server"), 81)
        time.sleep(0.3)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        syns = [e for e in of_type(events, "packet") if part(e, "packet")["kind"] == "syn"]
        self.assertTrue(syns, events)
        self.assertEqual(syns[0]["rsthop"]["hook"], "tc-egress")
        self.assertEqual(syns[0]["destination"]["port"], 81)
        resets = of_type(events, "reset")
        self.assertEqual(len(resets), 1, resets)
        r = resets[0]
        self.assertEqual(r["source"]["ip"], self.lab.addr("server"))
        self.assertEqual(r["source"]["port"], 81)
        # One router in between: the server's TTL 64 arrives as 63, from the router's MAC.
        self.assertEqual(part(r, "reset")["ttl"], 63)
        router_mac = self.lab.run("r1", "cat /sys/class/net/left0/address").stdout.strip()
        self.assertEqual(r["source"]["mac"], ecs_mac(router_mac))
        self.assertEqual(r["rsthop"]["hook"], "xdp")
        self.assertFalse(part(r, "reset")["local"])
        self.assertTrue(part(r, "reset")["received_by_socket"])
        flows = of_type(events, "flow")
        self.assertEqual(len(flows), 1)
        self.assertEqual(part(flows[0], "flow")["conn_state"], "REJ")
        self.assertEqual(part(flows[0], "flow")["closed_by"], "destination")
        self.assertEqual(flows[0]["source"]["ip"], self.lab.addr("client"))
        # The connection's packet, reset and flow lines share one Community ID (the flow's
        # memo, filled by its packet lines, is what the later lines read).
        tcp = [e for e in of_type(events, "packet") if e["network"]["transport"] == "tcp"]
        ids = {e["network"]["community_id"] for e in tcp + resets + flows}
        self.assertEqual(len(ids), 1, ids)
        stats = of_type(events, "stats")
        self.assertTrue(stats and part(stats[-1], "stats")["final"])
        self.assertEqual(event_type(events[-1]), "stats")

    def test_parallel_load_and_one_after_the_other(self):
        # trace verifies rh_tc_egress beside the XDP program (two instances, one set of maps) or
        # after it: either way the SYN is seen at egress, the RST at XDP, and the one flow is the
        # one both programs updated (no flow first seen midstream, nothing lost between them).
        for value in ("1", "0"):
            with self.subTest(RSTHOP_PARALLEL_LOAD=value):
                t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--packets", "--xdp", "native"],
                          env={**os.environ, "RSTHOP_PARALLEL_LOAD": value})
                self.connect(self.lab.addr("server"), 81)
                time.sleep(0.3)
                events = t.stop()
                self.assertEqual(t.rc, 0, t.stderr)
                validate(events)
                hooks = {part(e, "packet")["kind"]: e["rsthop"]["hook"] for e in of_type(events, "packet")}
                self.assertEqual(hooks.get("syn"), "tc-egress", hooks)
                self.assertEqual(of_type(events, "reset")[0]["rsthop"]["hook"], "xdp")
                flows = of_type(events, "flow")
                self.assertEqual([part(f, "flow")["conn_state"] for f in flows], ["REJ"], flows)
                stats = [part(s, "stats") for s in of_type(events, "stats")]
                self.assertEqual({a["hook"] for a in stats[0]["attachments"]}, {"xdp", "tc-egress"}, stats[0])
                self.assertEqual(stats[-1]["kernel"]["flow_midstream"], 0, stats[-1])
                self.assertEqual(stats[-1]["kernel"]["events"], stats[-1]["userspace"]["events_received"], stats[-1])
        r = subprocess.run([BIN, "trace", "-i", self.lab.client_if, "-d", "1"], capture_output=True, text=True,
                           timeout=30, env={**os.environ, "RSTHOP_PARALLEL_LOAD": "yes"})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("RSTHOP_PARALLEL_LOAD", r.stderr)

    def test_auto_takes_tc_ingress_on_veth(self):
        # The default ingress hook (--xdp auto) on a veth is tc ingress, from the start and without
        # a notice: XDP there would copy each packet.  The XDP program is not loaded for it.
        t = Trace(self.lab, "client", ["-i", self.lab.client_if])
        self.assertIn(f"{self.lab.client_if}:tc-ingress(tcx) {self.lab.client_if}:tc-egress(tcx)", t.stderr)
        self.assertNotIn("capturing ingress with tc instead", t.stderr)
        self.assertNotIn("xdp", self.lab.run("client", f"ip -d link show {self.lab.client_if}").stdout)
        self.connect(self.lab.addr("server"), 81)
        time.sleep(0.3)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        resets = of_type(events, "reset")
        self.assertEqual([r["rsthop"]["hook"] for r in resets], ["tc-ingress"], resets)
        self.assertEqual(part(resets[0], "reset")["ttl"], 63)
        att = part(of_type(events, "stats")[0], "stats")["attachments"]
        self.assertIn({"interface": self.lab.client_if, "hook": "tc-ingress", "mode": "tcx",
                       "fallback": "veth: tc ingress sees its packets without XDP's copy of each"}, att)
        self.assertEqual(len(of_type(events, "flow")), 1)

    def test_auto_keeps_xdp_off_veth(self):
        # Any other driver keeps XDP under auto: a bridge, which has no native XDP, gets generic.
        self.lab.run("client", "ip link add rhbr0 type bridge && ip link set rhbr0 up")
        r = self.lab.run("client", f"{BIN} trace -i rhbr0 -d 0.2 --format json", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rhbr0:xdp(generic) rhbr0:tc-egress(tcx)", r.stderr)
        att = [json.loads(line) for line in r.stdout.splitlines() if '"attachments"' in line][0]
        self.assertIn({"interface": "rhbr0", "hook": "xdp", "mode": "generic"}, part(att, "stats")["attachments"])

    def test_http_exchange_v6_and_tc_ingress(self):
        srv = self.lab.popen("server", ["python3", "-c", HTTP_SERVER, self.lab.addr("server", 6)],
                             cwd="/tmp")
        self.lab.wait_port("server", self.lab.addr("server", 6), 80)
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--xdp", "off", "--port", "80"])
        r = self.lab.run("client", "curl -6 -s -m 5 -o /dev/null -w '%{http_code}' http://web.lab/")
        self.assertEqual(r.stdout, "200")
        # A flow on another port must be filtered out in the kernel.
        self.connect(self.lab.addr("server", 6), 81, family=6)
        time.sleep(1.5)  # the flow summary waits for the close to settle
        events = t.stop()
        srv.kill()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        flows = of_type(events, "flow")
        self.assertEqual(len(flows), 1, flows)
        f = flows[0]
        self.assertEqual(f["network"]["type"], "ipv6")
        self.assertEqual(f["destination"]["ip"], self.lab.addr("server", 6))
        self.assertEqual(part(f, "flow")["conn_state"], "SF")
        self.assertTrue(part(f, "flow")["history"].startswith("Sh"), part(f, "flow")["history"])
        self.assertGreater(f["source"]["bytes"], 50)
        self.assertGreater(f["destination"]["bytes"], f["source"]["bytes"])
        self.assertGreater(part(f, "flow")["rtt_ms"], 0)
        self.assertEqual(f["url"]["domain"], "web.lab")
        self.assertFalse(of_type(events, "reset"))
        self.assertTrue(f["network"]["community_id"].startswith("1:"))
        kernel = part(of_type(events, "stats")[-1], "stats")["kernel"]
        self.assertGreater(kernel["filtered"], 0)

    def test_nothing_left_attached_after_sigint_and_sigkill(self):
        for sig in (signal.SIGINT, signal.SIGKILL):
            t = Trace(self.lab, "client", ["-i", self.lab.client_if])
            ids = t.programs()
            self.assertTrue(ids, "programs should be loaded while tracing")
            t.stop(sig=sig)
            self.assertEqual(wait_programs_freed(ids), [], f"programs left after {sig.name}")
            link = self.lab.run("client", f"ip -d link show {self.lab.client_if}").stdout
            self.assertNotIn("xdp", link)
            self.assertEqual(attached_programs(self.lab, "client"), [])
        r = self.lab.run("client", f"{BIN} cleanup", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)


class ClsactTest(unittest.TestCase):
    """Kernels without tcx get clsact filters, which outlive a killed process:
    `rsthop cleanup` must remove exactly those, tagged by rsthop."""

    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=0)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def filters(self, direction):
        return self.lab.run("client", f"tc filter show dev {self.lab.client_if} {direction}").stdout

    def test_sigkill_leftovers_removed_by_cleanup_and_nothing_else(self):
        dev = self.lab.client_if
        # Someone else's filter on the same hook must survive the cleanup.
        self.lab.run("client", f"tc qdisc add dev {dev} clsact && "
                               f"tc filter add dev {dev} egress prio 100 bpf bytecode '1,6 0 0 0,'")
        t = Trace(self.lab, "client", ["-i", dev, "--xdp", "off", "--tc", "clsact"])
        self.assertIn("rh_tc_egress", self.filters("egress"))
        self.assertIn("rh_tc_ingress", self.filters("ingress"))
        ids = t.programs()
        t.stop(sig=signal.SIGKILL)
        self.assertIn("rh_tc_egress", self.filters("egress"), "clsact filters outlive a killed process")
        r = self.lab.run("client", f"{BIN} cleanup")
        self.assertIn("removed 2 leftover", r.stderr)
        self.assertNotIn("rh_tc_", self.filters("egress") + self.filters("ingress"))
        self.assertIn("pref 100 bpf", self.filters("egress"))
        self.assertEqual(wait_programs_freed(ids), [])

    def test_sigint_detaches_clsact_filters(self):
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--xdp", "off", "--tc", "clsact"])
        t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertNotIn("rh_tc_", self.filters("egress") + self.filters("ingress"))
        # The qdisc rsthop created is gone too.
        self.assertNotIn("clsact", self.lab.run("client", f"tc qdisc show dev {self.lab.client_if}").stdout)


class ErrorTest(unittest.TestCase):
    """Bad input: one clear sentence, non-zero exit, nothing attached."""

    def run_bin(self, *args, **kw):
        return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=30, **kw)

    def run_in_lab(self, *args):
        """Runs rsthop in a fresh namespace: afterwards nothing of rsthop's may stay attached there
        (its program descriptors died with it, so an attachment is all a failed run can leave)."""
        require_root(self)
        with Lab(routers=0) as lab:
            r = lab.run("client", shlex.join([BIN] + list(args)), check=False, timeout=30)
            self.assertEqual(attached_programs(lab, "client"), [], r.stderr)
        return r

    def test_missing_interface(self):
        r = self.run_in_lab("trace", "-i", "nosuchif0", "--duration", "1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no network interface named 'nosuchif0'", r.stderr)

    def test_unwritable_output(self):
        r = self.run_in_lab("trace", "-i", "lo", "--duration", "1", "-o", "/nonexistent/dir/out.json")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent/dir/out.json", r.stderr)

    def test_bad_options(self):
        for args in (["trace"], ["trace", "-i", "lo", "--xdp", "maybe"], ["trace", "-i", "lo", "--port", "70000"],
                     ["trace", "-i", "lo", "--host", "not-a-cidr"], ["frobnicate"]):
            r = self.run_bin(*args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertTrue(r.stderr.strip(), args)

    def test_missing_privileges(self):
        require_root(self)
        r = self.run_bin("trace", "-i", "lo", "--duration", "1",
                         preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("needs root", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
