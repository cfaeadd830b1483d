"""Passive attribution end to end: `rsthop trace` on the client names the origin
and hop of every reset the lab's middleboxes (and endpoints) produce.

Topology: client -> r1 -> r2 -> server, so the server is hop 3, router k is
hop k.  The rule above all: an endpoint's reset is never blamed on a middlebox."""
import time
import unittest

from harness import Lab, Trace, of_type, part, require_root, validate

OK, BLOCKED = "ok.lab", "blocked.lab"
SERVER_HOP = 3


class AttributionTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=2, server_name=OK)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def tls(self, sni, family=4, timeout=3):
        """One HTTPS request with `sni` from the client; returns curl's exit code."""
        addr = self.lab.addr("server", family)
        res = addr if family == 4 else f"[{addr}]"
        r = self.lab.run("client", f"curl -{family} -sk -m {timeout} -o /dev/null --resolve {sni}:443:{res} "
                                   f"https://{sni}/", check=False)
        return r.returncode

    def trace_resets(self, action, *args):
        """Runs `action` under `rsthop trace` on the client; returns the reset events."""
        t = Trace(self.lab, "client", ["-i", self.lab.client_if] + list(args))
        action()
        time.sleep(1.0)  # the burst window and the flow linger
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        return of_type(events, "reset")

    def verdict(self, r):
        return part(r, "reset")["origin"], part(r, "reset").get("hops"), part(r, "reset")

    def assert_middlebox(self, resets, hop):
        self.assertTrue(resets, "no reset seen")
        origin, hops, rr = self.verdict(resets[0])
        self.assertEqual(origin, "middlebox", rr["summary"])
        self.assertEqual(hops, hop, rr["summary"])
        self.assertEqual(rr["endpoint_hops"], SERVER_HOP, rr["summary"])
        self.assertGreaterEqual(rr["confidence"], 0.5)
        self.assertTrue(any(e["signal"] == "hop_distance" and e["weight"] > 0 for e in rr["evidence"]), rr)

    # Endpoints ---------------------------------------------------------------
    def test_server_abort_after_hello_is_the_endpoint(self):
        self.lab.start_server(abort_after_hello=True)
        for family in (4, 6):
            resets = self.trace_resets(lambda: self.tls(OK, family))
            self.assertTrue(resets)
            for r in resets:
                origin, hops, rr = self.verdict(r)
                self.assertNotEqual(origin, "middlebox", rr["summary"])
                self.assertEqual(origin, "endpoint", rr["summary"])
                self.assertEqual(hops, SERVER_HOP)
                self.assertEqual(rr["stage"], "post_psh")
                self.assertEqual(r["tls"]["client"]["server_name"], OK)

    def test_closed_port_is_never_a_middlebox(self):
        resets = self.trace_resets(lambda: self.tls(OK))  # no server running: port 443 is closed
        self.assertTrue(resets)
        origin, hops, rr = self.verdict(resets[0])
        self.assertNotEqual(origin, "middlebox", rr["summary"])
        self.assertEqual(hops, SERVER_HOP)
        self.assertEqual(rr["stage"], "post_syn")

    # In-path resets on an SNI --------------------------------------------------
    def test_reset_on_sni_after_ttl_check_at_each_router(self):
        self.lab.start_server()
        for k in (1, 2):
            self.lab.reset_on_sni(k, BLOCKED)
            resets = self.trace_resets(lambda: (self.tls(BLOCKED), self.tls(OK)))
            self.lab.run(f"r{k}", "iptables -F FORWARD; ip6tables -F FORWARD")
            self.assertEqual(len(resets), 1, [part(r, "reset")["summary"] for r in resets])
            self.assert_middlebox(resets, k)
            self.assertEqual(resets[0]["tls"]["client"]["server_name"], BLOCKED)

    def test_reset_on_sni_v6_and_before_ttl_check(self):
        self.lab.start_server()
        self.lab.reset_on_sni(2, BLOCKED, before_ttl_check=True)
        resets = self.trace_resets(lambda: self.tls(BLOCKED, family=6))
        self.assertEqual(resets[0]["network"]["type"], "ipv6")
        self.assert_middlebox(resets, 2)

    # On-path injection ---------------------------------------------------------
    def test_injector_races_the_server(self):
        self.lab.start_server(reply_delay_ms=100)
        self.lab.inject_on_sni(2, BLOCKED, count=3)
        resets = self.trace_resets(lambda: self.tls(BLOCKED))
        self.assertTrue(resets)
        origin, hops, rr = self.verdict(resets[0])
        self.assert_middlebox(resets, 2)
        self.assertGreaterEqual(rr["count"], 1)
        self.assertTrue(rr["fingerprint"]["id"].startswith("n"), rr["fingerprint"])

    def test_ttl_forging_injector_is_not_called_the_endpoint(self):
        self.lab.start_server(reply_delay_ms=100)
        self.lab.inject_on_sni(1, BLOCKED, count=3, ttl="server")
        resets = self.trace_resets(lambda: self.tls(BLOCKED))
        self.assertTrue(resets)
        origin, hops, rr = self.verdict(resets[0])
        # The forged TTL matches the server's; the server's reply after the RSTs
        # (the race) must keep the engine from calling it an endpoint reset.
        self.assertNotEqual(origin, "endpoint", rr)
        self.assertTrue(any(e["signal"] == "race" for e in rr["evidence"]) or origin == "unknown", rr)

    # Silent drop -----------------------------------------------------------------
    def test_silent_drop_shows_no_reset(self):
        self.lab.start_server()
        self.lab.drop_on_sni(1, BLOCKED)
        resets = self.trace_resets(lambda: self.tls(BLOCKED, timeout=2))
        self.assertEqual(resets, [])

    # A load balancer as the default gateway -------------------------------------
    def test_f5_load_balancer_is_named_with_its_vendor(self):
        self.lab.start_server()
        self.lab.lb_proxy(k=1, reset_after_ms=300)

        def act():
            # Port 80 reaches the real server (hop 3); port 443 ends at the proxy (hop 1).
            self.lab.run("client", f"curl -s -m 3 -o /dev/null http://{self.lab.addr('server')}/", check=False)
            self.lab.run("client", "python3 -c 'import socket,time; s=socket.create_connection((\"%s\",443));"
                                   "s.sendall(bytes([22,3,1,2,0])+bytes(95)); time.sleep(1.5)'" %
                         self.lab.addr("server"), check=False)
        resets = self.trace_resets(act)
        self.assertTrue(resets)
        origin, hops, rr = self.verdict(resets[0])
        self.assertEqual(origin, "middlebox", rr["summary"])
        self.assertEqual(hops, 1)
        self.assertEqual(rr["l2_src"]["vendor"], "F5 Networks, Inc.")
        self.assertTrue(any(e["signal"] == "port_distance" for e in rr["evidence"]), rr)

    # Other vantage points --------------------------------------------------------
    def test_on_a_router_distances_count_from_the_router(self):
        self.lab.start_server(abort_after_hello=True)
        # r2 forwards the flow; the server is one hop beyond its right0.
        t = Trace(self.lab, "r2", ["-i", "right0"])
        self.tls(OK)
        time.sleep(1.0)
        events = t.stop()
        validate(events)
        resets = [r for r in of_type(events, "reset") if r["source"]["ip"] == self.lab.addr("server")]
        self.assertTrue(resets, events)
        origin, hops, rr = self.verdict(resets[0])
        self.assertEqual(origin, "endpoint", rr["summary"])
        self.assertEqual((hops, rr["endpoint_hops"]), (1, 1))

    def test_on_the_router_that_rejects_the_reset_is_local(self):
        self.lab.start_server()
        self.lab.reset_on_sni(1, BLOCKED)
        t = Trace(self.lab, "r1", ["-i", "left0"])
        self.tls(BLOCKED)
        time.sleep(1.0)
        events = t.stop()
        validate(events)
        resets = of_type(events, "reset")
        self.assertTrue(resets, events)
        origin, hops, rr = self.verdict(resets[0])
        self.assertEqual(origin, "local", rr["summary"])
        self.assertEqual(hops, 0)
        self.assertIn("firewall", rr["summary"])

    # This host ---------------------------------------------------------------------
    def test_client_firewall_reset_is_local(self):
        self.lab.start_server()
        self.lab.client_firewall_reset(port=443, sni=BLOCKED)
        resets = self.trace_resets(lambda: self.tls(BLOCKED))
        self.assertTrue(resets)
        origin, hops, rr = self.verdict(resets[0])
        self.assertEqual(origin, "local", rr["summary"])
        self.assertEqual(hops, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
