"""Where events come from (issue 13, part 3): two `rsthop trace` runs on one
host, one in the client's network namespace and one in the server's, see the
same connections; each one's flow, reset and packet lines carry its own
namespace (rsthop.netns.inode, the inode of /run/netns/NAME)."""
import os
import time
import unittest

from harness import Lab, Trace, event_type, of_type, require_root, validate


class WhereTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name="web.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def netns_inode(self, node):
        return os.stat(f"/run/netns/{self.lab.ns(node)}").st_ino

    def test_two_namespaces_tag_their_own_events(self):
        self.lab.start_server(abort_after_hello=True)  # a reset line too, from the server
        traces = {node: Trace(self.lab, node, ["-i", dev, "--packets"])
                  for node, dev in (("client", self.lab.client_if), ("server", self.lab.server_if))}
        for _ in range(3):
            self.lab.run("client", f"curl -sk -m 3 -o /dev/null --resolve web.lab:443:{self.lab.addr('server')} "
                                   "https://web.lab/", check=False)
        time.sleep(1.5)
        inodes = {node: self.netns_inode(node) for node in traces}
        self.assertNotEqual(inodes["client"], inodes["server"])
        for node, t in traces.items():
            events = t.stop()
            self.assertEqual(t.rc, 0, t.stderr)
            validate(events)
            tagged = [e for e in events if event_type(e) in ("flow", "reset", "packet")]
            for kind in ("flow", "reset", "packet"):
                self.assertTrue(of_type(events, kind), f"{node}: no {kind} line")
            for e in tagged:
                self.assertEqual(e["rsthop"]["netns"]["inode"], inodes[node], f"{node}: {e}")

    def test_any_traces_every_interface_that_is_up(self):
        self.lab.start_server()
        t = Trace(self.lab, "r1", ["-i", "any", "--packets"])
        for dev in ("left0", "right0"):
            self.assertIn(f" {dev}:", t.stderr)
        self.lab.run("client", f"curl -s -m 3 -o /dev/null http://{self.lab.addr('server')}/", check=False)
        time.sleep(1.5)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        # One flow (the interfaces share the flow table), its packets seen on both sides of the router.
        self.assertTrue(of_type(events, "flow"))
        seen = {side.get("interface", {}).get("name")
                for p in of_type(events, "packet") for side in p.get("observer", {}).values()}
        self.assertTrue({"left0", "right0"} <= seen, seen)


if __name__ == "__main__":
    unittest.main(verbosity=2)
