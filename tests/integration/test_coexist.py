"""Coexistence: rsthop next to another XDP user, and two rsthops at once.

* An XDP program already on the interface (a trivial XDP_PASS program, as a
  firewall or load balancer would hold it): `trace` falls back to tc ingress,
  says so on stderr and in the first stats line, still sees the resets, and
  leaves the other program attached.
* `trace` and `diagnose` on the same interface: diagnose's XDP attach finds
  trace's program there and falls back to tc, so its capture keeps working
  and its verdict names the right hop; the trace sees the same resets.
* Two traces with clsact filters on one interface: each takes its own
  handle, the first one's exit leaves the second's filters and qdisc, and
  `rsthop cleanup` leaves a running trace's filters alone.  (The qdisc the
  first one created then stays, empty: the second did not create it.)"""
import json
import os
import shlex
import signal
import subprocess
import time
import unittest

from harness import BIN, Lab, Trace, of_type, part, require_root, validate

BPF_DIR = os.environ.get("RSTHOP_BPF_DIR", os.path.join(os.path.dirname(BIN), "bpf"))
PASS_OBJ = os.path.join(BPF_DIR, "bench_empty.bpf.o")  # bench_xdp_empty: returns XDP_PASS
BLOCKED = "blocked.lab"
FALLBACK = "another XDP program is attached there"


def closed_port_connects(lab, n=2, port=81):
    for _ in range(n):
        lab.run("client", f"curl -4 -s -m 3 -o /dev/null http://{lab.addr('server')}:{port}/", check=False)


class ForeignXdpTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.assertTrue(os.path.exists(PASS_OBJ), f"{PASS_OBJ} is missing: build the tree first")
        self.lab = Lab(routers=1, server_name="web.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def link(self):
        return self.lab.run("client", f"ip -d link show {self.lab.client_if}").stdout

    def check_fallback(self, loader):
        # --xdp native: on a veth the default (auto) would not try XDP at all.
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--xdp", "native"])
        self.assertIn(f"cannot attach XDP to {self.lab.client_if}: {FALLBACK}: capturing ingress with tc instead",
                      t.stderr)
        self.assertIn(f"{self.lab.client_if}:tc-ingress(tcx)", t.stderr)
        closed_port_connects(self.lab)
        time.sleep(0.5)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        resets = of_type(events, "reset")
        self.assertEqual(len(resets), 2, resets)
        self.assertEqual({r["rsthop"]["hook"] for r in resets}, {"tc-ingress"})
        stats = of_type(events, "stats")
        first = part(stats[0], "stats")
        self.assertIn({"interface": self.lab.client_if, "hook": "tc-ingress", "mode": "tcx", "fallback": FALLBACK},
                      first["attachments"])
        self.assertTrue(all("attachments" not in part(s, "stats") for s in stats[1:]), "only the first stats line")
        self.assertIn("xdp", self.link(), f"{loader}'s program must stay attached")

    def test_ip_link_xdp_program(self):
        self.lab.run("client", f"ip link set dev {self.lab.client_if} xdpgeneric obj {PASS_OBJ} sec xdp")
        self.check_fallback("ip link")

    def test_xdp_loader_dispatcher(self):
        self.lab.run("client", f"xdp-loader load -m skb {self.lab.client_if} {PASS_OBJ} -p bench_xdp_empty")
        self.addCleanup(self.lab.run, "client", f"xdp-loader unload --all {self.lab.client_if}", check=False)
        self.check_fallback("xdp-loader")

    def test_xdp_off_is_not_a_fallback(self):
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--xdp", "off"])
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertNotIn("capturing ingress with tc instead", t.stderr)
        att = part(of_type(events, "stats")[0], "stats")["attachments"]
        self.assertTrue(att and all("fallback" not in a for a in att), att)


class TraceAndDiagnoseTest(unittest.TestCase):
    def setUp(self):
        require_root(self)

    def test_diagnose_beside_a_running_trace(self):
        hop = 2
        with Lab(routers=4, server_name=BLOCKED) as lab:
            lab.start_server()
            lab.reset_on_sni(hop, BLOCKED)
            t = Trace(lab, "client", ["-i", lab.client_if, "--xdp", "native"])
            self.assertIn(f"{lab.client_if}:xdp(", t.stderr)
            argv = [BIN, "diagnose", f"{BLOCKED}:443", "--format", "json", "-4"]
            d = lab.run("client", shlex.join(argv), check=False, timeout=120)
            events = t.stop()
            self.assertEqual(t.rc, 0, t.stderr)
            diag = [json.loads(line) for line in d.stdout.splitlines() if line.strip()]
            validate(diag)
            self.assertEqual(d.returncode, 0, d.stderr)
            # diagnose captures with tc only (it loads no XDP program): the trace's XDP is no obstacle.
            self.assertNotIn(FALLBACK, d.stderr)
            self.assertNotIn("no kernel capture", d.stderr)
            v = part(diag[-1], "verdict")
            self.assertEqual((v["origin"], v.get("hop"), v.get("hop_ip")), ("middlebox", hop, lab.hop_addr(hop, 4)),
                             d.stdout[-3000:])
            st = part(of_type(diag, "stats")[0], "stats")
            self.assertEqual({a["hook"] for a in st["attachments"]}, {"tc-ingress", "tc-egress"}, st)
            self.assertGreater(st["kernel"]["events"], 0, "diagnose's own capture saw its probes")
            # The trace kept its XDP program and saw the middlebox's resets too.
            validate(events)
            self.assertTrue(any(part(r, "reset")["origin"] == "middlebox" for r in of_type(events, "reset")),
                            of_type(events, "reset"))
    

class TwoClsactTracesTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name="web.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def filters(self):
        dev = self.lab.client_if
        return self.lab.run("client", f"tc filter show dev {dev} ingress; tc filter show dev {dev} egress").stdout

    def ours(self):
        """rsthop's filters: one line each, with its handle."""
        return [line for line in self.filters().splitlines() if "rh_tc_" in line and "handle 0x72" in line]

    def test_second_instance_keeps_its_filters(self):
        args = ["-i", self.lab.client_if, "--xdp", "off", "--tc", "clsact"]
        first = Trace(self.lab, "client", args)
        second = Trace(self.lab, "client", args)
        self.assertEqual(len(self.ours()), 4, self.filters())
        # Each its own (priority, handle): the first created the qdisc (priority 0x7274), the second did not.
        slots = {(line.split("pref ")[1].split()[0], line.split("handle ")[1].split()[0]) for line in self.ours()}
        self.assertEqual(len(slots), 2, self.filters())
        closed_port_connects(self.lab, n=1)
        time.sleep(0.5)
        # cleanup must not take a running trace's filters.
        r = self.lab.run("client", f"{BIN} cleanup")
        self.assertIn("removed 0 leftover", r.stderr)
        events1 = first.stop()
        self.assertEqual(first.rc, 0, first.stderr)
        self.assertEqual(len(self.ours()), 2, "the first trace's exit left the second's filters")
        self.assertIn("clsact", self.lab.run("client", f"tc qdisc show dev {self.lab.client_if}").stdout)
        closed_port_connects(self.lab, n=1)
        time.sleep(0.5)
        events2 = second.stop()
        self.assertEqual(second.rc, 0, second.stderr)
        self.assertEqual(len(of_type(events1, "reset")), 1)
        self.assertEqual(len(of_type(events2, "reset")), 2, "the second trace saw both resets")
        self.assertNotIn("rh_tc_", self.filters())


if __name__ == "__main__":
    unittest.main(verbosity=2)
