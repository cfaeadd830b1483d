"""Real injectors' published behaviours in the namespace lab, each at two hops,
IPv4 and IPv6: passively (`rsthop trace` on the client, like
test_attribution.py) and actively (`rsthop diagnose`, like test_diagnose.py),
the diagnose runs with --pcap-out so that `rsthop analyze` of the captured
ladders must give the live verdict.

  national firewall   3 RST+ACK per trigger, one random TTL per connection,
                      a window derived from it; the server answers later
  blockpage / 302     an injected FIN carrying an HTTP answer, then a RST
  two senders         two on-path devices answer the SYN: two TTLs, one burst
  copier              RSTs copying the client's TTL, IP ID + 1 and window
  server              the server's own RST+ACK after its answer; a server
                      whose SYN-ACK is retransmitted: the endpoint

Servers get a reply delay so the injectors win the race, as they do on real
paths.  All traffic stays in the lab (198.18.0.0/15, 2001:db8::/32)."""
import json
import os
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Lab, Trace, assert_round_trip, of_type, part, require_root, validate

BLOCKED, OK = "blocked.lab", "ok.lab"


def signals(r):
    return {e["signal"] for e in r["evidence"]}


def describe(r):
    return f"{r.get('summary')}\n  " + "\n  ".join(f"{e['signal']}: {e['observed']}" for e in r.get("evidence", []))


class Passive(unittest.TestCase):
    """client -> r1 -> r2 -> server: router k is hop k, the server hop 3."""
    SERVER_HOP = 3

    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=2, server_name=BLOCKED)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def request(self, family, port=443, timeout=3):
        addr = self.lab.addr("server", family)
        res = addr if family == 4 else f"[{addr}]"
        url = f"https://{BLOCKED}/" if port == 443 else f"http://{BLOCKED}/"
        return self.lab.run("client", f"curl -{family} -sk -m {timeout} -o /dev/null --resolve {BLOCKED}:{port}:{res} "
                                      f"{url}", check=False).returncode

    def trace(self, action, family):
        """The reset lines of RSTs from the server's address (not the client's own answers to late packets)."""
        t = Trace(self.lab, "client", ["-i", self.lab.client_if])
        action()
        time.sleep(1.0)  # the burst window and the flow linger
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        self.events = events
        server = self.lab.addr("server", family)
        return [part(e, "reset") for e in of_type(events, "reset") if e["source"]["ip"] == server]

    def test_national_firewall(self):
        self.lab.start_server(reply_delay_ms=300)
        for k, family in ((1, 4), (2, 6)):
            with self.subTest(hop=k, family=family):
                self.lab.national_firewall(k, BLOCKED)
                resets = self.trace(lambda: [self.request(family) for _ in range(4)], family)
                self.lab.run(f"r{k}", "pkill --ns $$ --nslist net -x lab-injector", check=False)
                self.assertGreaterEqual(len(resets), 4, [r["summary"] for r in resets])
                # The server's TTL on arrival (64, one less per router): a random TTL that draws it
                # (1 in 211) looks like the server's own and is no variation (injector_signals_test).
                server_ttl = 64 - (self.SERVER_HOP - 1)
                ttls = set()
                for r in resets:
                    self.assertEqual(r["fingerprint"]["flags"], ["RA"], r["fingerprint"])
                    ttl = r["fingerprint"]["ttls"][0]
                    if ttl == server_ttl:
                        # Then only the race and the seq change speak against the server: a middlebox
                        # or, honestly, unknown, never the endpoint and never a hop read from the TTL.
                        self.assertIn(r["origin"], ("middlebox", "unknown"), describe(r))
                        self.assertIsNone(r.get("hops"), describe(r))
                        continue
                    self.assertEqual(r["origin"], "middlebox", describe(r))
                    ttls.add(ttl)
                    if len(ttls) >= 3:  # the third foreign TTL on: the variation itself is the evidence
                        self.assertIn("ttl_varies", signals(r), describe(r))
                        self.assertIsNone(r.get("hops"), describe(r))
                        self.assertEqual(r["fingerprint"]["ttl_pattern"], "per_connection", r["fingerprint"])
                self.assertGreaterEqual(len(ttls), 3, "one TTL per connection")

    def test_blockpage_and_redirect(self):
        self.lab.start_server(reply_delay_ms=300)
        for k, family, redirect in ((1, 4, False), (2, 6, True)):
            with self.subTest(hop=k, family=family, redirect=redirect):
                self.lab.inject_blockpage(k, BLOCKED, redirect=redirect)
                resets = self.trace(lambda: self.request(family, port=80), family)
                self.lab.run(f"r{k}", "pkill --ns $$ --nslist net -x lab-injector", check=False)
                self.assertTrue(resets)
                r = resets[0]
                self.assertEqual(r["origin"], "middlebox", describe(r))
                self.assertEqual(r.get("hops"), k, describe(r))
                self.assertIn("injected_answer", signals(r), describe(r))
                self.assertIn("race", signals(r), describe(r))
                self.assertIn("injected FIN", r["summary"])

    def test_two_senders_in_one_burst(self):
        self.lab.start_server(reply_delay_ms=300)
        self.lab.server_drops_syn()  # a distant server: the answers to the SYN are the devices'
        for family in (4, 6):
            with self.subTest(family=family):
                for k in (1, 2):
                    self.lab.reset_syn(k)
                resets = self.trace(lambda: self.request(family), family)
                for k in (1, 2):
                    self.lab.run(f"r{k}", "pkill --ns $$ --nslist net -x lab-injector", check=False)
                self.assertTrue(resets)
                r = resets[0]
                self.assertEqual(r["origin"], "middlebox", describe(r))
                self.assertEqual(len(set(r["fingerprint"]["ttls"])), 2, r["fingerprint"])
                self.assertIn("2 senders", r["summary"])
                self.assertIn("hops 1 and 2", r["summary"])
                self.assertEqual(r.get("hops"), 1, describe(r))

    def test_copier(self):
        self.lab.start_server(reply_delay_ms=300)
        for k, family in ((1, 4), (2, 4), (2, 6)):
            with self.subTest(hop=k, family=family):
                self.lab.copying_injector(k, BLOCKED)
                resets = self.trace(lambda: self.request(family), family)
                self.lab.run(f"r{k}", "pkill --ns $$ --nslist net -x lab-injector", check=False)
                self.assertTrue(resets)
                r = resets[0]
                self.assertEqual(r["origin"], "middlebox", describe(r))
                if family == 4:
                    self.assertIn("copied_fields", signals(r), describe(r))

    def test_server_reset_after_its_answer_is_the_endpoint(self):
        # The server answers HTTP, then resets (RST+ACK).  The second, plain RST
        # a client segment crossing it would draw needs a path delay the lab
        # cannot make (no netem qdisc): the pair itself is a unit test
        # (attribution.Endpoint.ServerRstPairIsTheEndpoint).
        self.lab.start_server(http_reset=True)
        for family in (4, 6):
            with self.subTest(family=family):
                resets = self.trace(lambda: self.request(family, port=80), family)
                self.assertTrue(resets)
                self.assertIn("RA", {f for r in resets for f in r["fingerprint"]["flags"]})
                for r in resets:
                    self.assertEqual(r["origin"], "endpoint", describe(r))
                    self.assertEqual(r.get("hops"), self.SERVER_HOP, describe(r))

    def test_retransmitted_synack_is_the_endpoint(self):
        self.lab.start_server(abort_after_hello=True)
        # The client's packets after its SYN are dropped at the server for a
        # second: the SYN-ACK is retransmitted before the ClientHello gets in.
        for tool in ("iptables", "ip6tables"):
            self.lab.run("server", f"{tool} -A INPUT -p tcp --dport 443 --syn -m recent --name hs --set")
            self.lab.run("server", f"{tool} -A INPUT -p tcp --dport 443 ! --syn -m recent --name hs --rcheck "
                                   f"--seconds 1 -j DROP")
        for family in (4, 6):
            with self.subTest(family=family):
                resets = self.trace(lambda: self.request(family, timeout=6), family)
                self.assertTrue(resets)
                flows = [e for e in of_type(self.events, "flow") if e["destination"]["port"] == 443]
                self.assertTrue(flows)
                # Two SYN-ACKs and the RST at least: the SYN-ACK was retransmitted.
                self.assertGreaterEqual(flows[0]["destination"]["packets"], 3, flows[0])
                for r in resets:
                    self.assertEqual(r["origin"], "endpoint", describe(r))
                    self.assertEqual(r.get("hops"), self.SERVER_HOP, describe(r))


class Active(unittest.TestCase):
    """client -> r1 .. r4 -> server: router k is hop k, the server hop 5.  A
    fresh lab per run (the routers' ICMP rate limits, see test_diagnose.py)."""
    ROUTERS = 4
    SERVER_HOP = 5

    def setUp(self):
        require_root(self)
        self.tmp = tempfile.TemporaryDirectory(prefix="rsthop_injectors_")
        self.addCleanup(self.tmp.cleanup)

    def diagnose(self, name, place, family, target=f"{BLOCKED}:443", args=(), round_trip=True):
        pcap = os.path.join(self.tmp.name, f"{name}{family}.pcapng")
        with Lab(routers=self.ROUTERS, server_name=BLOCKED) as lab:
            lab.start_server(reply_delay_ms=300)
            place(lab)
            argv = [BIN, "diagnose", target, f"-{family}", "--format", "json", "--pcap-out", pcap] + list(args)
            p = subprocess.run(["ip", "netns", "exec", lab.ns("client")] + argv, capture_output=True, text=True,
                               timeout=150)
            hop_ip = {k: lab.hop_addr(k, family) for k in range(1, self.ROUTERS + 1)}
        events = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
        self.assertTrue(of_type(events, "verdict"), (p.returncode, p.stderr))
        validate(events)
        v = part(of_type(events, "verdict")[0], "verdict")
        hops = " ".join(f"{part(h, 'hop')['ladder']}{part(h, 'hop')['ttl']}={part(h, 'hop')['result']}"
                        for h in of_type(events, "hop"))
        msg = f"\n{describe(v)}\n  hops: {hops}\n  stderr: {p.stderr[-400:]}"
        if round_trip:
            assert_round_trip(self, pcap, v)
        return v, hop_ip, msg

    def check(self, v, msg, hop, hop_ip, origin="middlebox"):
        self.assertEqual(v["outcome"], "reset", msg)
        self.assertEqual(v["origin"], origin, msg)
        self.assertEqual(v.get("hop"), hop, msg)
        self.assertEqual(v.get("hop_ip"), hop_ip[hop], msg)

    def test_national_firewall(self):
        for k, family in ((2, 4), (3, 6)):
            with self.subTest(hop=k, family=family):
                # The two reset steps (TTL k and k+1) draw two TTLs that differ (the injector never
                # repeats a recent one): they vary, and never read as a copy, also when one apart.
                v, ips, msg = self.diagnose("gfw", lambda lab: lab.national_firewall(k, BLOCKED), family)
                self.check(v, msg, k, ips)
                self.assertIn("ttl_varies", signals(v), msg)
                self.assertNotIn("ttl_copy", signals(v), msg)

    def test_blockpage_and_redirect(self):
        for k, family, redirect in ((2, 4, False), (3, 6, True)):
            with self.subTest(hop=k, family=family, redirect=redirect):
                v, ips, msg = self.diagnose("blockpage", lambda lab: lab.inject_blockpage(k, BLOCKED, redirect=redirect),
                                            family, target=f"{BLOCKED}:80", args=("--ladder",))
                self.check(v, msg, k, ips)
                self.assertIn("injected_answer", signals(v), msg)
                self.assertIn("302" if redirect else "403", v["summary"], msg)

    def test_two_senders(self):
        for (a, b), family in (((1, 3), 4), ((2, 3), 6)):
            with self.subTest(hops=(a, b), family=family):
                # Refused at the SYN: no trigger ladder, so nothing for analyze to fuse (no round trip).
                v, ips, msg = self.diagnose("two", lambda lab: (lab.server_drops_syn(), lab.reset_syn(a), lab.reset_syn(b)),
                                            family, round_trip=False)
                self.check(v, msg, a, ips)
                self.assertIn("2 senders", v["summary"], msg)

    def test_copier(self):
        for k, family in ((1, 4), (2, 6)):
            with self.subTest(hop=k, family=family):
                v, ips, msg = self.diagnose("copier", lambda lab: lab.copying_injector(k, BLOCKED), family)
                self.check(v, msg, k, ips)
                self.assertIn("ttl_copy", signals(v), msg)


if __name__ == "__main__":
    unittest.main(verbosity=2)
