"""A trace that investigates (issue 13, part 2): a client opens hundreds of connections to a
server whose path holds an in-path reset device (r2 rejects the ClientHello's SNI with a RST);
`rsthop trace --auto-diagnose` writes one verdict line naming hop 2, joined to the reset lines
that caused it by Community ID, within its budget.  Every probe packet is counted: the probes'
sockets belong to `nobody` (trace drops to it after attaching) while the flood's belong to root,
so nft counters on the client's output chain matching `meta skuid nobody` count exactly what
the probes sent.  A repeated trigger inside the cool-down and a second destination beyond the
global budget send nothing; with the option off, nothing at all.

Topology: client -> r1 -> r2 -> server."""
import glob
import os
import re
import subprocess
import time
import unittest

from harness import BIN, ROOT, Lab, Trace, event_type, of_type, part, require_root, validate

BLOCKED = "blocked.lab"
NOBODY = 65534
BUDGET = 32  # the documented default of --auto-diagnose-budget
# tools/lab/flood_client.py opens the connections and prints how many were reset.
CLIENT = os.path.join(ROOT, "tools", "lab", "flood_client.py")
# What the probes (sockets of uid nobody) send, in the client's output path.
COUNTERS = {
    "syn_target": "tcp dport 443 ip daddr {server} 'tcp flags & (syn|ack) == syn'",
    "all": "",
    "elsewhere": "ip daddr != {server}",
    "other_port": "tcp dport != 443",
    "v6": "meta nfproto ipv6",
}


class AutoDiagnoseTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=2, server_name="ok.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)
        self.lab.start_server()
        self.lab.reset_on_sni(2, BLOCKED)
        self.lab.reset_on_sni(2, BLOCKED, port=80)
        self.server = self.lab.addr("server")
        rules = ["nft add table inet rh_auto",
                 "nft add chain inet rh_auto output '{ type filter hook output priority -300; }'"]
        for name, match in COUNTERS.items():
            rules.append(f"nft add rule inet rh_auto output meta skuid {NOBODY} "
                         f"{match.format(server=self.server)} counter comment '\"{name}\"'")
        self.lab.run("client", " && ".join(rules))
        self.client = CLIENT

    def probe_packets(self):
        out = self.lab.run("client", "nft list chain inet rh_auto output").stdout
        return {m.group(2): int(m.group(1)) for m in re.finditer(r"counter packets (\d+) bytes \d+ comment \"?(\w+)", out)}

    def flood(self, n, port=443):
        r = self.lab.run("client", f"python3 {self.client} {self.server} {n} {BLOCKED} {port}", timeout=240)
        return int(r.stdout.strip())

    def wait_for_verdict(self, t, timeout=90):
        """The first verdict line, while checking every thread of trace has no privilege."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for st in glob.glob(f"/proc/{t.proc.pid}/task/*/status"):
                try:
                    with open(st) as f:
                        fields = dict(line.split(":", 1) for line in f if ":" in line)
                except OSError:
                    continue  # a thread that just ended
                self.assertEqual(fields["Uid"].split(), [str(NOBODY)] * 4, st)
                self.assertEqual(int(fields["CapEff"], 16), 0, st)
                self.assertEqual(int(fields["CapPrm"], 16), 0, st)
            if any('"verdict"' in line for line in list(t._out)):
                return
            time.sleep(0.2)
        t.stop()
        self.fail(f"no verdict line within {timeout} s: {t.stderr}")

    def test_a_reset_flood_gets_one_bounded_verdict_joined_to_its_resets(self):
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--events", "reset,verdict,lost,stats",
                                       "--auto-diagnose", "--auto-diagnose-global-budget", str(BUDGET)])
        reset = self.flood(300)
        self.assertGreaterEqual(reset, 270, "the reset device did not reset the connections")
        self.wait_for_verdict(t)
        after_verdict = self.probe_packets()
        # Inside the cool-down: the same destination resets again and again, nothing is probed.
        self.assertGreaterEqual(self.flood(50), 45)
        # A second destination (port 80, reset the same way): the global budget is spent.
        self.assertGreaterEqual(self.flood(30, port=80), 27)
        time.sleep(2)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        counted = self.probe_packets()

        verdicts = of_type(events, "verdict")
        self.assertEqual(len(verdicts), 1, [part(v, "verdict")["summary"] for v in verdicts])
        v = verdicts[0]
        vd, auto = part(v, "verdict"), part(v, "auto_diagnose")
        self.assertEqual((v["destination"]["ip"], v["destination"]["port"]), (self.server, 443))
        self.assertEqual(v["tls"]["client"]["server_name"], BLOCKED)
        self.assertEqual(vd["origin"], "middlebox", vd["summary"])
        self.assertEqual(vd["hop"], 2, vd["summary"])
        self.assertEqual(vd["outcome"], "reset", vd["summary"])
        self.assertIn(auto["trigger"], ("middlebox", "reset_stream"))
        self.assertEqual(auto["budget"], BUDGET)
        self.assertLessEqual(auto["probes"], BUDGET)
        self.assertGreater(auto["probes"], 0)

        # Joined: the verdict's community_id and its triggers are reset lines' of this run.
        reset_ids = {e["network"]["community_id"] for e in of_type(events, "reset")}
        self.assertTrue(auto["trigger_community_ids"])
        self.assertEqual(v["network"]["community_id"], auto["trigger_community_ids"][0])
        self.assertLessEqual(set(auto["trigger_community_ids"]), reset_ids)
        for rid in auto["trigger_community_ids"]:
            r = next(e for e in of_type(events, "reset") if e["network"]["community_id"] == rid)
            self.assertEqual({r["source"]["ip"], r["destination"]["ip"]} & {self.server}, {self.server})

        # Every probe packet: only to that destination and port, never more connections than the budget,
        # and none after the verdict (cool-down, global budget).
        print(f"\nprobe packets {counted}; {auto['probes']} connections; verdict: {vd['summary']}")
        self.assertGreater(counted["syn_target"], 0)
        self.assertLessEqual(counted["syn_target"], BUDGET)
        self.assertGreaterEqual(counted["syn_target"], auto["probes"])
        self.assertEqual(counted["elsewhere"], 0)
        self.assertEqual(counted["other_port"], 0)
        self.assertEqual(counted["v6"], 0)
        self.assertEqual(counted, after_verdict, "probes after the verdict")
        notice = re.search(r"auto-diagnose: (\d+) diagnose\(s\) started; triggers held back: (\d+) by the cool-down, "
                           r"(\d+) while another ran, (\d+) by the global budget", t.stderr)
        self.assertTrue(notice, t.stderr)
        started, cooldown, _, global_budget = map(int, notice.groups())
        self.assertEqual(started, 1)
        self.assertGreater(cooldown, 0)
        self.assertGreater(global_budget, 0)

    def test_unanswered_connections_are_a_silent_drop_to_diagnose(self):
        self.lab.server_drops_syn()
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--events", "flow,verdict,stats", "--auto-diagnose"])
        self.lab.run("client", "python3 -c 'import socket,sys\n"
                     "for i in range(3):\n"
                     "    try: socket.create_connection((sys.argv[1], 443), timeout=1)\n"
                     "    except OSError: pass' " + self.server)
        self.wait_for_verdict(t)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        verdicts = of_type(events, "verdict")
        self.assertEqual(len(verdicts), 1)
        auto = part(verdicts[0], "auto_diagnose")
        self.assertEqual(auto["trigger"], "silent_drop")
        self.assertEqual(len(auto["trigger_community_ids"]), 3)
        flow_ids = {e["network"]["community_id"] for e in of_type(events, "flow")
                    if part(e, "flow")["conn_state"] == "S0"}
        self.assertLessEqual(set(auto["trigger_community_ids"]), flow_ids)
        self.assertEqual(part(verdicts[0], "verdict")["outcome"], "drop", part(verdicts[0], "verdict")["summary"])
        counted = self.probe_packets()
        self.assertLessEqual(counted["syn_target"], BUDGET)
        self.assertGreaterEqual(counted["syn_target"], auto["probes"])
        self.assertEqual((counted["elsewhere"], counted["other_port"], counted["v6"]), (0, 0, 0))

    def test_off_by_default_sends_nothing(self):
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--events", "reset,verdict,stats"])
        self.assertGreaterEqual(self.flood(100), 90)
        time.sleep(1.5)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertTrue(of_type(events, "reset"))
        self.assertEqual(of_type(events, "verdict"), [])
        self.assertEqual(self.probe_packets()["all"], 0)
        self.assertNotIn("auto-diagnose", t.stderr)


class BadAutoDiagnoseOptionsTest(unittest.TestCase):
    """Refused before anything is attached, so no root needed."""

    def run_trace(self, *args):
        return subprocess.run([BIN, "trace", "-i", "lo"] + list(args), capture_output=True, text=True, timeout=30)

    def test_bad_settings_are_one_sentence(self):
        for args, want in ((["--auto-diagnose", "--auto-diagnose-budget", "64", "--auto-diagnose-global-budget", "32"],
                            "is more than --auto-diagnose-global-budget"),
                           (["--auto-diagnose", "--events", "reset"], "add verdict to --events")):
            r = self.run_trace(*args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(want, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertEqual(r.stdout, "")
        for bad in (["--auto-diagnose-budget", "0"], ["--auto-diagnose-cooldown", "-1"], ["--auto-diagnose-rate", "nan"]):
            r = self.run_trace("--auto-diagnose", *bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))


if __name__ == "__main__":
    unittest.main(verbosity=2)
