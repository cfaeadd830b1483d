"""Volume control on the live road (issue 13, part 1): a client opens hundreds of
connections a second to a server whose path holds an in-path reset device (r2
rejects the ClientHello's SNI with a RST); `rsthop trace --events ... --incidents`
writes a bounded number of `incident` lines, whose counts add up to the resets
the client's stack received (an nftables counter), naming the middlebox at hop 2.

Topology: client -> r1 -> r2 -> server."""
import collections
import os
import re
import time
import unittest

from harness import BIN, ROOT, Lab, Trace, event_type, of_type, part, require_root, validate

BLOCKED = "blocked.lab"
CONNECTS = 600
INTERVAL_S = 1
# tools/lab/flood_client.py opens the connections and prints how many were reset.
CLIENT = os.path.join(ROOT, "tools", "lab", "flood_client.py")


class IncidentsTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=2, server_name="ok.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def nft_rsts(self):
        out = self.lab.run("client", "nft list chain inet rh_incidents input").stdout
        return int(re.search(r"counter packets (\d+)", out).group(1))

    def flood(self, n):
        start = time.time()
        r = self.lab.run("client", f"python3 {CLIENT} {self.lab.addr('server')} {n} {BLOCKED}", timeout=240)
        return int(r.stdout.strip()), time.time() - start

    def test_a_flood_of_resets_is_a_few_incident_lines(self):
        self.lab.start_server()
        self.lab.reset_on_sni(2, BLOCKED)
        self.lab.run("client", "nft add table inet rh_incidents && "
                     "nft add chain inet rh_incidents input '{ type filter hook input priority -300; }' && "
                     "nft add rule inet rh_incidents input tcp sport 443 'tcp flags & rst == rst' counter")
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--events", "incident,lost,stats",
                                       "--incidents", str(INTERVAL_S), "--origin", "middlebox"])
        reset, seconds = self.flood(CONNECTS)
        time.sleep(2.5)  # the last flows' close linger, then one more interval
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        self.assertGreaterEqual(reset, CONNECTS * 0.9, "the reset device did not reset the connections")
        print(f"\n{CONNECTS} connections in {seconds:.1f} s ({CONNECTS / seconds:.0f}/s), {reset} reset")

        self.assertEqual(set(event_type(e) for e in events) - {"lost"}, {"incident", "stats"})
        incidents = of_type(events, "incident")
        lost = sum(part(e, "lost")["count"] for e in of_type(events, "lost"))
        counted = sum(part(i, "incident")["count"] for i in incidents)
        rsts = sum(part(i, "incident")["rsts"] for i in incidents)
        kernel_rsts = self.nft_rsts()
        self.assertGreaterEqual(kernel_rsts, reset, "one RST per reset connection at least")
        if not lost:
            self.assertEqual(counted, reset)
            self.assertEqual(rsts, kernel_rsts)
        self.assertLessEqual(counted, reset)
        self.assertGreaterEqual(counted + lost, reset, f"{reset - counted - lost} resets neither counted nor lost")

        # Bounded: one destination, so at most 4 lines (kinds of reset) per interval, and one
        # interval every INTERVAL_S (plus the last one, at exit).
        per_interval = collections.Counter(i["@timestamp"] for i in incidents)
        self.assertLessEqual(max(per_interval.values()), 4, per_interval)
        self.assertLessEqual(len(per_interval), (seconds + 2.5) / INTERVAL_S + 6)
        server = self.lab.addr("server")
        for i in incidents:
            inc = part(i, "incident")
            self.assertEqual((i["destination"]["ip"], i["destination"]["port"]), (server, 443))
            self.assertEqual(inc["origin"], "middlebox", inc["summary"])
            self.assertEqual(inc["hop"], 2, inc["summary"])
            self.assertGreaterEqual(inc["confidence"], 0.5)
            self.assertTrue(inc["fingerprint"].startswith("n1/R"), inc["fingerprint"])
            self.assertEqual(inc["server_names"], [BLOCKED])
            self.assertEqual(inc["summary"],
                             f"{inc['count']} connection{'s' if inc['count'] > 1 else ''} to {server}:443 reset by "
                             f"a middlebox at hop 2, fingerprint {inc['fingerprint']}")
        self.assertTrue(any(part(i, "incident")["count"] >= 50 for i in incidents), [part(i, "incident") for i in incidents])
        stats = of_type(events, "stats")
        self.assertTrue(stats and part(stats[-1], "stats")["final"])

    def test_origin_filter_keeps_only_the_named_origins(self):
        self.lab.start_server(abort_after_hello=True)  # the endpoint resets: no middlebox anywhere
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--origin", "middlebox,local"])
        reset, _ = self.flood(20)
        time.sleep(1.5)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertGreaterEqual(reset, 18)
        self.assertEqual(of_type(events, "reset"), [])
        self.assertGreaterEqual(len(of_type(events, "flow")), 18)


class BadVolumeOptionsTest(unittest.TestCase):
    """Refused before anything is attached, so no root needed."""

    def run_trace(self, *args):
        import subprocess
        return subprocess.run([BIN, "trace", "-i", "lo"] + list(args), capture_output=True, text=True, timeout=30)

    def test_bad_words_are_one_sentence(self):
        for args, want in ((["--events", "flow,bogus"], "unknown event type 'bogus'"),
                           (["--origin", "router"], "unknown origin 'router'"),
                           (["--events", "reset", "--incidents", "5"], "add incident to --events")):
            r = self.run_trace(*args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(want, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertEqual(r.stdout, "")
        r = self.run_trace("--min-confidence", "2")
        self.assertEqual(r.returncode, 2, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
