"""trace's and diagnose's lines, from real runs, against the ECS subset and the
JSON Schema (issue 12 part 5; analyze's lines: tests/ecs/check_analyze_ecs.py).

Each line goes through tests/ecs/check_ecs.py's rules (every field outside
rsthop.* is ECS 8.11's with ECS's type, pattern and allowed values; event.type
fits event.category) and docs/schema/events.schema.json.  Lab namespaces on
198.18.0.0/15 and 2001:db8::/32 (tools/lab), cleaned up by the lab."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from harness import BIN, ROOT, Lab, Trace, event_type, of_type, part, require_root

sys.path.insert(0, os.path.join(ROOT, "tests", "ecs"))
from check_analyze_ecs import conformance  # noqa: E402

BLOCKED = "blocked.lab"
REFUSED, UNREACHABLE, OPEN = 9, 7, 443  # RST, ICMP port unreachable, lab-tls-server


class EcsLines(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.tmp = tempfile.TemporaryDirectory(prefix="rsthop_ecs_")
        self.addCleanup(self.tmp.cleanup)
        self.errors = conformance()

    def assert_conform(self, events, what):
        for i, e in enumerate(events):
            bad = self.errors(e)
            self.assertEqual(bad, [], f"{what}: line {i} ({event_type(e)}): {json.dumps(e)[:400]}")

    def lab(self, **kw):
        lab = Lab(**kw)
        lab.__enter__()
        self.addCleanup(lab.__exit__, None, None, None)
        return lab

    def test_trace_lines(self):
        lab = self.lab(routers=1, server_name="ecs.lab")
        lab.start_server()
        lab.wait_port("server", lab.addr("server"), OPEN)
        lab.run("server", f"iptables -A INPUT -p tcp --dport {UNREACHABLE} -j REJECT "
                          "--reject-with icmp-port-unreachable")
        out = os.path.join(self.tmp.name, "trace.ndjson")
        t = Trace(lab, "client", ["-i", lab.client_if, "--packets", "--stats-interval", "1", "-o", out]
                  + [a for p in (REFUSED, UNREACHABLE, OPEN) for a in ("-p", str(p))])
        server = lab.addr("server")
        code = ("import socket\n"
                f"for port in ({REFUSED}, {UNREACHABLE}, {OPEN}):\n"
                "    s = socket.socket()\n    s.settimeout(3)\n"
                f"    try: s.connect(('{server}', port))\n    except OSError: pass\n    s.close()\n")
        subprocess.run(["ip", "netns", "exec", lab.ns("client"), "python3", "-c", code], check=True, timeout=60)
        t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        with open(out) as f:
            events = [json.loads(l) for l in f if l.strip()]
        self.assert_conform(events, "trace")
        self.assertLessEqual({"flow", "reset", "packet", "stats"}, {event_type(e) for e in events})
        icmp = [e for e in of_type(events, "packet") if "icmp" in e["rsthop"]]
        self.assertTrue(icmp, "no ICMP error packet line")
        self.assertEqual(icmp[0]["network"]["transport"], "icmp")
        stats = [part(e, "stats") for e in of_type(events, "stats")]
        self.assertTrue(stats[0].get("attachments"), "the first stats line names the attachments")
        self.assertEqual(stats[-1]["sinks"][0]["name"], out)
        resets = of_type(events, "reset")
        self.assertTrue(any("ingress" in e.get("observer", {}) for e in resets), "no reset names its interface")
        self.assertTrue(all("inode" in e["rsthop"]["netns"] for e in resets))
        flows = of_type(events, "flow")
        self.assertTrue(all(e["event"]["duration"] >= 0 and "start" in e["event"] for e in flows))

    def test_diagnose_lines_live_and_from_its_capture(self):
        lab = self.lab(routers=2, server_name=BLOCKED)
        lab.start_server()
        lab.reset_on_sni(1, BLOCKED)
        pcap = os.path.join(self.tmp.name, "diagnose.pcapng")
        r = subprocess.run(["ip", "netns", "exec", lab.ns("client"), BIN, "diagnose", f"{BLOCKED}:443", "-4",
                            "--format", "json", "--pcap-out", pcap], capture_output=True, text=True, timeout=120)
        events = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        self.assertTrue(events, r.stderr)
        self.assert_conform(events, "diagnose")
        self.assertLessEqual({"probe", "hop", "verdict"}, {event_type(e) for e in events})
        tls = [e for e in of_type(events, "probe") if part(e, "probe")["name"] == "tls"]
        self.assertTrue(tls and "tls" in tls[0])
        self.assertTrue(all(e["event"]["duration"] >= 0 for e in of_type(events, "hop")))
        a = subprocess.run([BIN, "analyze", "--format", "json", pcap], capture_output=True, text=True, timeout=120)
        offline = [json.loads(l) for l in a.stdout.splitlines() if l.strip()]
        self.assert_conform(offline, "analyze of diagnose's capture")
        self.assertLessEqual({"hop", "verdict", "stats"}, {event_type(e) for e in offline})


if __name__ == "__main__":
    unittest.main(verbosity=2)
