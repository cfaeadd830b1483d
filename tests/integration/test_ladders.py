"""Ladders found in a capture: `rsthop diagnose --pcap-out X.pcapng` on the lab,
then `rsthop analyze X.pcapng`, must give the same verdict (outcome, origin,
hop, hop_ip), through the same fusion, from the ladders the file holds.

Topology as in test_diagnose.py: client -> r1 .. r4 -> server (hop 5), a
middlebox on one router resets (or drops) connections whose ClientHello names
the blocked SNI.  A fresh lab per run (the routers' ICMP rate limits)."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import BIN, Lab, event_type, of_type, part, require_root, validate

BLOCKED = "blocked.lab"
ROUTERS = 4
KEYS = ("outcome", "origin", "hop", "hop_ip")


def lines(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


class LadderRoundTrip(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.tmp = tempfile.TemporaryDirectory(prefix="rsthop_ladders_")
        self.addCleanup(self.tmp.cleanup)

    def round_trip(self, name, place, family, *args):
        pcap = os.path.join(self.tmp.name, f"{name}{family}.pcapng")
        with Lab(routers=ROUTERS, server_name=BLOCKED) as lab:
            lab.start_server()
            place(lab)
            argv = [BIN, "diagnose", f"{BLOCKED}:443", f"-{family}", "--format", "json", "--pcap-out", pcap] + list(args)
            live = subprocess.run(["ip", "netns", "exec", lab.ns("client")] + argv, capture_output=True, text=True,
                                  timeout=120)
        live_events = lines(live.stdout)
        self.assertTrue(of_type(live_events, "verdict"), (live.returncode, live.stderr))
        lv = part(of_type(live_events, "verdict")[0], "verdict")
        off = subprocess.run([BIN, "analyze", pcap, "--format", "json"], capture_output=True, text=True, timeout=60)
        self.assertEqual(off.returncode, 0, off.stderr)
        events = lines(off.stdout)
        validate(events)
        verdicts = of_type(events, "verdict")
        self.assertEqual(len(verdicts), 1, off.stdout)
        ov = part(verdicts[0], "verdict")
        msg = f"\n live: {json.dumps(lv)}\n analyze: {json.dumps(ov)}\n hops: " + " ".join(
            f"{part(h, 'hop')['ladder']}{part(h, 'hop')['ttl']}={part(h, 'hop')['result']}" for h in of_type(events, "hop"))
        self.assertEqual({k: lv.get(k) for k in KEYS}, {k: ov.get(k) for k in KEYS}, msg)
        ladders = {part(h, "hop")["ladder"] for h in of_type(events, "hop")}
        self.assertTrue({"trigger", "control"} <= ladders, msg)
        # Hop and verdict lines come first, then the usual flow / reset lines.
        kinds = [event_type(e) for e in events]
        ours = [i for i, k in enumerate(kinds) if k in ("hop", "verdict")]
        self.assertEqual(ours, list(range(len(ours))), msg)
        return lv, ov

    def test_reset_on_sni(self):
        for family in (4, 6):
            with self.subTest(family=family):
                lv, _ = self.round_trip("reset", lambda lab: lab.reset_on_sni(2, BLOCKED), family)
                self.assertEqual((lv["outcome"], lv["origin"], lv.get("hop")), ("reset", "middlebox", 2))

    def test_silent_drop(self):
        lv, _ = self.round_trip("drop", lambda lab: lab.drop_on_sni(3, BLOCKED), 4, "--timeout", "1.5",
                                "--max-hops", "8")
        self.assertEqual(lv["outcome"], "drop")

    def test_unreadable_control_is_an_error(self):
        r = subprocess.run([BIN, "analyze", "/dev/null", "--control", os.path.join(self.tmp.name, "missing.pcap")],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "", "nothing analysed without the control")
        err = [line for line in r.stderr.splitlines() if line.strip()]
        self.assertEqual(len(err), 1, r.stderr)
        self.assertIn("--control", err[0])
        self.assertIn("missing.pcap", err[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
