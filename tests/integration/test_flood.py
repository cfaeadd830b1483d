"""A flood of refused connections against the real `rsthop trace` (issue 9, item 3):
thousands of connects to a closed port, some from one reused local port, and every RST
the client's stack received is in a `reset` line or counted in a `lost` line, checked
against an nftables counter in the lab."""
import os
import re
import tempfile
import time
import unittest

from harness import Lab, Trace, of_type, part, require_root, validate

CONNECTS = 3000   # from ephemeral ports
REUSED = 400      # from local port 40001, one after the other
FLOOD = r'''
import errno, socket, sys
host, n, reused = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def attempt(port=None):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if port:
        s.bind(("0.0.0.0", port))
    try:
        s.connect((host, 81))
    except ConnectionRefusedError:
        pass
    s.close()
for i in range(n):
    attempt()
    if i % (n // reused) == 0 and reused:
        attempt(40001)
'''


class FloodTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name="web.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def nft_rsts(self):
        out = self.lab.run("client", "nft list chain inet rh_flood input").stdout
        return int(re.search(r"counter packets (\d+)", out).group(1))

    def test_every_rst_is_reported_or_counted_lost(self):
        self.lab.run("client", "nft add table inet rh_flood && "
                     "nft add chain inet rh_flood input '{ type filter hook input priority -300; }' && "
                     "nft add rule inet rh_flood input tcp sport 81 'tcp flags & rst == rst' counter")
        t = Trace(self.lab, "client", ["-i", self.lab.client_if])
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(FLOOD)
        self.addCleanup(os.unlink, f.name)
        self.lab.run("client", f"python3 {f.name} {self.lab.addr('server')} {CONNECTS} {REUSED}", timeout=240)
        time.sleep(2.5)  # the last flows' close linger
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        kernel_rsts = self.nft_rsts()
        self.assertGreaterEqual(kernel_rsts, CONNECTS)
        resets = of_type(events, "reset")
        reported = sum(part(r, "reset").get("count", 1) for r in resets)
        lost = sum(part(e, "lost")["count"] for e in of_type(events, "lost"))
        self.assertLessEqual(reported, kernel_rsts, "more RSTs reported than the stack received")
        self.assertGreaterEqual(reported + lost, kernel_rsts,
                                f"{kernel_rsts - reported - lost} RSTs neither reported nor counted lost")
        # The reused port: one REJ flow and one RST per attempt, unless events were lost.
        reused_flows = [f for f in of_type(events, "flow") if f["source"]["port"] == 40001]
        reused_rsts = sum(part(r, "reset").get("count", 1) for r in resets if r["destination"]["port"] == 40001)
        attempts = len(range(0, CONNECTS, CONNECTS // REUSED))
        if not lost:
            self.assertEqual(reported, kernel_rsts)
            self.assertEqual(reused_rsts, attempts)
            self.assertEqual(len(reused_flows), attempts)
            self.assertTrue(all(part(f, "flow")["conn_state"] == "REJ" for f in reused_flows))


if __name__ == "__main__":
    unittest.main()
