"""Active diagnosis end to end: `rsthop diagnose` on the client probes the lab's
server, runs its TTL ladders while the capture records what they provoke, and
its single verdict line names who resets (or drops) the connection.

Topology: client -> r1 -> r2 -> r3 -> r4 -> server, so router k is hop k and
the server is hop 5.  Every middlebox behaviour is placed on hops 1 and 3 (the
first hop, and one with routers before and after it: hop 2 only repeated
them), for IPv4 and IPv6 (one test each, so ctest runs them side by side),
each in a fresh lab (see run_matrix for why).  Every case
whose ladders a capture holds runs with --pcap-out, and `rsthop analyze` of
that file must give the live verdict (round_trip); the closed port (no trigger
ladder), the healthy path (no ladders) and this host's own firewall (its RSTs
never reach the wire) have nothing for analyze to judge.  All traffic
stays inside the lab's namespaces (198.18.0.0/15, 2001:db8::/32)."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

from harness import BIN, Lab, assert_round_trip, of_type, part, require_root, validate

BLOCKED = "blocked.lab"  # the server's name in the lab, and the SNI the middleboxes match
ROUTERS = 4
SERVER_HOP = ROUTERS + 1
HOPS = (1, 3)
FAMILIES = (4, 6)
NOBODY = 65534

# (behaviour, hop, family) -> "pass" | "FAIL", printed at the end.
MATRIX = {}


class Diagnosis:
    """One `rsthop diagnose` run: exit code, stderr, the parsed NDJSON events."""

    def __init__(self, argv, proc, took):
        self.argv = argv
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.took = took
        self.events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    @property
    def verdict(self):
        return part(self.events[-1], "verdict")

    def describe(self):
        v = self.verdict
        ev = "\n".join(f"    {e['signal']}: {e['observed']}" + (f" (expected: {e['expected']})" if e.get("expected") else "")
                       for e in v.get("evidence", []))
        hops = " ".join(f"{part(h, 'hop')['ladder']}{part(h, 'hop')['ttl']}={part(h, 'hop')['result']}" for h in of_type(self.events, "hop"))
        return (f"\n  argv: {' '.join(self.argv)}\n  verdict: outcome={v['outcome']} origin={v['origin']} "
                f"hop={v.get('hop')} hop_ip={v.get('hop_ip')} endpoint_hop={v.get('endpoint_hop')} "
                f"trigger={v['trigger']} confidence={v['confidence']}\n  summary: {v['summary']}\n"
                f"  evidence:\n{ev}\n  hops: {hops}\n  stderr: {self.stderr.strip()[-600:]}")


class DiagnoseCase(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.tmp = tempfile.TemporaryDirectory(prefix="rsthop_diagnose_")
        self.addCleanup(self.tmp.cleanup)
        self.runs = 0

    def round_trip(self, lab, family, *args):
        """diagnose with --pcap-out, then `rsthop analyze` of that file must give
        the live verdict (outcome, origin, hop, hop_ip, candidates)."""
        self.runs += 1
        pcap = os.path.join(self.tmp.name, f"run{self.runs}.pcapng")
        d = self.diagnose(lab, family, *args, "--pcap-out", pcap)
        assert_round_trip(self, pcap, d.verdict)
        return d

    def make_lab(self):
        lab = Lab(routers=ROUTERS, server_name=BLOCKED)
        lab.__enter__()
        self.addCleanup(lab.__exit__, None, None, None)
        return lab

    def diagnose(self, lab, family, *args, target=None, user=None, timeout=90, env=None):
        """Runs `rsthop diagnose` in the client namespace (as `user` when given);
        validates every line against the schema and checks the verdict comes last."""
        argv = [BIN, "diagnose", target or f"{BLOCKED}:443", "--format", "json"]
        if family:
            argv.append(f"-{family}")
        argv += list(args)
        prefix = ["ip", "netns", "exec", lab.ns("client")]
        if user is not None:
            prefix += ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
        t0 = time.time()
        proc = subprocess.run(prefix + argv, capture_output=True, text=True, timeout=timeout,
                              env=None if env is None else {**os.environ, **env})
        d = Diagnosis(argv[1:], proc, time.time() - t0)
        self.assertTrue(d.events, f"no output from {argv}: rc={d.rc} stderr={d.stderr!r}")
        validate(d.events)
        verdicts = of_type(d.events, "verdict")
        self.assertEqual(len(verdicts), 1, d.stdout)
        self.assertIs(d.events[-1], verdicts[0], "the verdict is the last line")
        self.assertTrue(of_type(d.events, "probe"), "probe lines come before the verdict")
        return d

    def assert_verdict(self, d, outcome, origin, hop=None, hop_ip=None, trigger=None, endpoint_hop=SERVER_HOP):
        v, msg = d.verdict, d.describe()
        self.assertEqual(d.rc, 0, msg)
        self.assertEqual(v["outcome"], outcome, msg)
        self.assertEqual(v["origin"], origin, msg)
        if hop is not None:
            self.assertEqual(v.get("hop"), hop, msg)
        if hop_ip is not None:
            self.assertEqual(v.get("hop_ip"), hop_ip, msg)
        if trigger is not None:
            self.assertEqual(v["trigger"], trigger, msg)
        # Whoever is blamed, the ladder measured how far the target's port is.
        if origin in ("middlebox", "endpoint") and outcome != "ok":
            self.assertEqual(v.get("endpoint_hop"), endpoint_hop, msg)

    # The matrix: middleboxes at hops 1 and 3, each family its own test ----------------------------
    def run_matrix(self, family, name, place, outcome, server_delay_ms=0, args=()):
        """For the family and each hop k: `place(lab, k)` the behaviour, diagnose, check
        the verdict names hop k and its address.  A fresh lab for every run: a router
        answers one diagnosis with 4-8 ICMP errors, and Linux lets it send a host
        only 6 at once, then 1 per second (net.ipv4.icmp_ratelimit), so a lab
        reused for the next hop would starve the ladders of the ICMP they read."""
        for k in HOPS:
            with self.subTest(behaviour=name, hop=k, family=family), \
                    Lab(routers=ROUTERS, server_name=BLOCKED) as lab:
                MATRIX[(name, k, family)] = "FAIL"
                lab.start_server(reply_delay_ms=server_delay_ms)
                place(lab, k)
                d = self.round_trip(lab, family, *args)
                self.assert_verdict(d, outcome, "middlebox", hop=k, hop_ip=lab.hop_addr(k, family),
                                    trigger="sni")
                v = d.verdict
                self.assertGreaterEqual(v["confidence"], 0.8, d.describe())
                self.assertTrue(any(e["signal"] == "control" for e in v["evidence"]), d.describe())
                self.check_extra(name, d)
                MATRIX[(name, k, family)] = "pass"

    def check_extra(self, name, d):
        signals = {e["signal"] for e in d.verdict["evidence"]}
        if name == "reset_on_sni":
            self.assertIn("ttl_check", signals, d.describe())
            self.assertIn("after its TTL check", self.evidence(d, "ttl_check"), d.describe())
        elif name == "reset_on_sni_before_ttl":
            self.assertIn("before its TTL check", self.evidence(d, "ttl_check"), d.describe())
        elif name == "inject_on_sni":
            self.assertIn("race", signals, d.describe())
            self.assertIn("on-path injector", d.verdict["summary"], d.describe())
        elif name == "drop_on_sni":
            self.assertIn("silence", signals, d.describe())

    @staticmethod
    def evidence(d, signal):
        return " ".join(e["observed"] for e in d.verdict["evidence"] if e["signal"] == signal)

    def reset_on_sni(self, family):
        self.run_matrix(family, "reset_on_sni", lambda lab, k: lab.reset_on_sni(k, BLOCKED), "reset")

    def test_reset_on_sni_after_ttl_check_v4(self):
        self.reset_on_sni(4)

    def test_reset_on_sni_after_ttl_check_v6(self):
        self.reset_on_sni(6)

    def reset_on_sni_before_ttl(self, family):
        self.run_matrix(family, "reset_on_sni_before_ttl",
                        lambda lab, k: lab.reset_on_sni(k, BLOCKED, before_ttl_check=True), "reset")

    def test_reset_on_sni_before_ttl_check_v4(self):
        self.reset_on_sni_before_ttl(4)

    def test_reset_on_sni_before_ttl_check_v6(self):
        self.reset_on_sni_before_ttl(6)

    def on_path_injector(self, family):
        # The server's delayed reply lets the injector's RSTs win the race.
        self.run_matrix(family, "inject_on_sni", lambda lab, k: lab.inject_on_sni(k, BLOCKED), "reset",
                        server_delay_ms=100)

    def test_on_path_injector_v4(self):
        self.on_path_injector(4)

    def test_on_path_injector_v6(self):
        self.on_path_injector(6)

    def silent_drop(self, family):
        # A drop costs the probe's timeout and a full trigger ladder: keep both short.
        self.run_matrix(family, "drop_on_sni", lambda lab, k: lab.drop_on_sni(k, BLOCKED), "drop",
                        args=("--timeout", "1.5", "--max-hops", "8"))

    def test_silent_drop_v4(self):
        self.silent_drop(4)

    def test_silent_drop_v6(self):
        self.silent_drop(6)

    def test_parallel_load_and_one_after_the_other(self):
        # The tc programs verified at once (two instances sharing the maps) or in turn: the same
        # verdict, built from what both hooks captured (the RST's TTL at ingress: ttl_check).
        for value in ("1", "0"):
            with self.subTest(RSTHOP_PARALLEL_LOAD=value), Lab(routers=ROUTERS, server_name=BLOCKED) as lab:
                lab.start_server()
                lab.reset_on_sni(2, BLOCKED)
                tmp = tempfile.TemporaryDirectory()
                self.addCleanup(tmp.cleanup)
                ev = os.path.join(tmp.name, "diag.pcapng")
                d = self.diagnose(lab, 4, "--pcap-out", ev, env={"RSTHOP_PARALLEL_LOAD": value})
                self.assert_verdict(d, "reset", "middlebox", hop=2, hop_ip=lab.hop_addr(2, 4), trigger="sni")
                self.assertIn("ttl_check", {e["signal"] for e in d.verdict["evidence"]}, d.describe())
                hooks = {a["hook"] for s in of_type(d.events, "stats") for a in part(s, "stats").get("attachments", [])}
                self.assertEqual(hooks, {"tc-ingress", "tc-egress"}, d.describe())
                # One set of maps for both programs: the flows our SYNs opened at egress are the
                # ones ingress finds (none first seen midstream), and the ring read is the one
                # the counters count.
                st = part(of_type(d.events, "stats")[-1], "stats")
                self.assertGreater(st["kernel"]["flow_new"], 0, st)
                self.assertEqual(st["kernel"]["flow_midstream"], 0, st)
                self.assertEqual(st["kernel"]["events"], st["userspace"]["events_received"], st)
                # Frames of both programs reached the one ring read (--pcap-out keeps each hook's).
                descr = subprocess.run(["tshark", "-r", ev, "-T", "fields", "-e", "frame.interface_description"],
                                       capture_output=True, text=True, timeout=60).stdout
                for hook in ("tc ingress", "tc egress"):
                    self.assertIn(f"{hook} on {lab.client_if}", descr)
        # A bad value is refused before anything is resolved or sent.
        proc = subprocess.run([BIN, "diagnose", "198.18.0.1:443"], capture_output=True, text=True, timeout=30,
                              env={**os.environ, "RSTHOP_PARALLEL_LOAD": "yes"})
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("RSTHOP_PARALLEL_LOAD must be 1", proc.stderr)

    def test_ladder_steps_end_on_the_captured_icmp(self):
        # A step timeout far longer than the test: the steps that drew ICMP time-exceeded must
        # end on the capture's ICMP, and every step says how long it really took.
        for family in FAMILIES:
            with self.subTest(family=family), Lab(routers=ROUTERS, server_name=BLOCKED) as lab:
                lab.start_server()
                lab.reset_on_sni(2, BLOCKED)
                d = self.diagnose(lab, family, "--step-timeout", "10")
                self.assert_verdict(d, "reset", "middlebox", hop=2, hop_ip=lab.hop_addr(2, family))
                hops = [part(h, "hop") for h in of_type(d.events, "hop")]
                for h in hops:
                    self.assertIn("duration_ms", h, d.describe())
                    self.assertGreaterEqual(h["duration_ms"], h["ms"], d.describe())
                exceeded = [h for h in hops if h["ladder"] in ("trigger", "control") and h["result"] == "time_exceeded"]
                self.assertTrue(exceeded, d.describe())
                for h in exceeded:
                    self.assertLess(h["duration_ms"], 10000, d.describe())
                # The port-80 SYN ladder is shown like the others, up to the server.
                syn80 = [h for h in hops if h["ladder"] == "syn80"]
                self.assertEqual([h["ttl"] for h in syn80], list(range(1, SERVER_HOP + 1)), d.describe())
                self.assertEqual(syn80[-1]["result"], "reached", d.describe())
                self.assertEqual(syn80[-1]["ip"], lab.addr("server", family), d.describe())
                self.assertEqual(syn80[0]["ip"], lab.hop_addr(1, family), d.describe())

    # Endpoints -----------------------------------------------------------------------
    def test_server_abort_after_hello_is_the_endpoint(self):
        lab = self.make_lab()
        lab.start_server(abort_after_hello=True)
        for family in FAMILIES:
            with self.subTest(family=family):
                MATRIX[("server_abort", SERVER_HOP, family)] = "FAIL"
                d = self.round_trip(lab, family)
                self.assert_verdict(d, "reset", "endpoint", hop=SERVER_HOP, hop_ip=lab.addr("server", family))
                MATRIX[("server_abort", SERVER_HOP, family)] = "pass"

    def test_closed_port_is_the_endpoint(self):
        lab = self.make_lab()  # no server: port 443 is closed
        for family in FAMILIES:
            with self.subTest(family=family):
                MATRIX[("closed_port", SERVER_HOP, family)] = "FAIL"
                d = self.diagnose(lab, family)
                self.assert_verdict(d, "reset", "endpoint", hop=SERVER_HOP, hop_ip=lab.addr("server", family))
                probes = {part(p, "probe")["name"]: part(p, "probe") for p in of_type(d.events, "probe")}
                self.assertEqual(probes["tcp_connect"]["outcome"], "refused", d.describe())
                MATRIX[("closed_port", SERVER_HOP, family)] = "pass"

    def test_healthy_path_is_ok(self):
        lab = self.make_lab()
        lab.start_server()
        for family in FAMILIES:
            with self.subTest(family=family):
                MATRIX[("healthy", "-", family)] = "FAIL"
                d = self.diagnose(lab, family, "--hold", "0.2")
                self.assert_verdict(d, "ok", "endpoint")
                probes = {part(p, "probe")["name"]: part(p, "probe")["outcome"] for p in of_type(d.events, "probe")}
                self.assertEqual(probes.get("tls"), "ok", d.describe())
                self.assertEqual(of_type(d.events, "hop"), [], "no ladders when the probes pass")
                # The capture's losses are reported as trace reports them: a final stats line
                # (before the verdict) counting what the capture delivered.
                stats = of_type(d.events, "stats")
                self.assertEqual(len(stats), 1, d.stdout)
                self.assertIs(part(stats[0], "stats")["final"], True, stats)
                self.assertGreater(part(stats[0], "stats")["userspace"]["events_received"], 0, stats)
                self.assertEqual(of_type(d.events, "lost"), [], "nothing lost on an idle lab")
                MATRIX[("healthy", "-", family)] = "pass"

    def test_write_error_is_an_error(self):
        lab = self.make_lab()
        lab.start_server()
        argv = ["ip", "netns", "exec", lab.ns("client"), BIN, "diagnose", f"{BLOCKED}:443", "--format", "json",
                "--hold", "0.2", "--output", "/dev/full"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=90)
        self.assertNotEqual(r.returncode, 0, r)
        lines = [line for line in r.stderr.splitlines() if line.strip() and "notice" not in line]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("/dev/full", lines[0])

    # This host -------------------------------------------------------------------------
    def test_client_firewall_reset_is_local(self):
        lab = self.make_lab()
        lab.start_server()
        lab.client_firewall_reset(port=443, sni=BLOCKED)
        for family in FAMILIES:
            with self.subTest(family=family):
                MATRIX[("client_firewall", 0, family)] = "FAIL"
                d = self.diagnose(lab, family)
                self.assert_verdict(d, "reset", "local", hop=0)
                self.assertNotIn("hop_ip", d.verdict, d.describe())
                # Its RSTs loop back over lo, out of the capture's sight: this host's TCP accepting
                # each one (tcp_receive_reset) is the step's record, so no step waits out the
                # session's bound for a wire RST (the notice would say so).
                self.assertNotIn("the capture showed no RST", d.stderr, d.describe())
                MATRIX[("client_firewall", 0, family)] = "pass"

    # A load balancer as the default gateway ---------------------------------------------
    def test_f5_load_balancer(self):
        lab = self.make_lab()
        lab.start_server()
        lab.lb_proxy(k=1, reset_after_ms=500)
        for family in FAMILIES:
            with self.subTest(family=family):
                MATRIX[("lb_proxy", 1, family)] = "FAIL"
                d = self.round_trip(lab, family, "--hold", "1.5")
                # Port 443 ends at the proxy (hop 1), port 80 at the server (hop 5).
                self.assert_verdict(d, "reset", "middlebox", hop=1, hop_ip=lab.hop_addr(1, family), endpoint_hop=1)
                v = d.verdict
                self.assertEqual(v.get("l2_neighbor", {}).get("vendor"), "F5 Networks, Inc.", d.describe())
                self.assertEqual(v["l2_neighbor"]["mac"], "00-01-D7-00-00-01", d.describe())
                self.assertTrue(any(e["signal"] == "port_distance" for e in v["evidence"]), d.describe())
                # The balancer's 500 ms timer, said as such (not rounded to "1 s").
                self.assertRegex(v["summary"], r"\b(49\d|5\d\d) ms after the ClientHello", d.describe())
                MATRIX[("lb_proxy", 1, family)] = "pass"

    # Without privileges -------------------------------------------------------------------
    def test_unprivileged_runs_without_the_capture(self):
        r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "test", "-x", BIN])
        self.assertEqual(r.returncode, 0, f"{BIN} is not executable by nobody: put the build somewhere it can reach")
        lab = self.make_lab()
        lab.start_server()
        lab.reset_on_sni(2, BLOCKED, before_ttl_check=True)  # the reset starts at TTL 2 itself
        MATRIX[("unprivileged before_ttl", 2, 4)] = "FAIL"
        d = self.diagnose(lab, 4, user=NOBODY)
        self.assertIn("no kernel capture", d.stderr)
        # The SYN ladder's ICMP (read from the socket's error queue) still names the hop's address.
        self.assert_verdict(d, "reset", "middlebox", hop=2, hop_ip=lab.hop_addr(2, 4), trigger="sni")
        v = d.verdict
        self.assertLess(v["confidence"], 0.8, d.describe())
        self.assertTrue(any(e["signal"] == "no_capture" for e in v["evidence"]), d.describe())
        self.assertNotIn("l2_neighbor", v, "no MAC without the capture")
        self.assertEqual(of_type(d.events, "stats"), [], "no capture, no capture counters")
        MATRIX[("unprivileged before_ttl", 2, 4)] = "pass"

    # Errors ---------------------------------------------------------------------------------
    def test_unresolvable_name_and_bad_options(self):
        # Inside a lab namespace: no route out, so the resolver's queries cannot leave it.
        lab = self.make_lab()

        def run(*args):
            return subprocess.run(["ip", "netns", "exec", lab.ns("client"), BIN, "diagnose"] + list(args),
                                  capture_output=True, text=True, timeout=30)

        r = run("nosuch.invalid:443", "--format", "json")
        self.assertNotEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "", "no probe or verdict lines when nothing resolves")
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("cannot resolve", lines[0])
        self.assertIn("nosuch.invalid", lines[0])

        server = lab.addr("server", 4)
        for args in ([],                                          # no target
                     [f"{server}:443", "--max-hops", "0"],
                     [f"{server}:443", "--max-hops", "65"],
                     [f"{server}:443", "--format", "xml"],
                     [f"{server}:443", "--timeout", "-1"],
                     [f"{server}:443", "--hold", "abc"],
                     [f"{server}:443", "--no-such-option"],
                     [f"{server}:443", "--max-hops", "nine"],
                     [f"{server}:443", "--budget", "2"],
                     [f"{server}:443", "--rate", "0"],
                     [f"{server}:443", "-4", "-6"],
                     [f"{server}:99999"],
                     ["[2001:db8::1]:x"]):
            with self.subTest(args=args):
                r = run(*args)
                self.assertNotEqual(r.returncode, 0, (args, r.stdout, r.stderr))
                self.assertNotIn('"verdict"', r.stdout, (args, r.stdout))
                self.assertTrue(r.stderr.strip(), (args, "says why"))


def tearDownModule():
    if not MATRIX:
        return
    out = ["", "diagnose matrix (behaviour, hop, family):"]
    for (name, hop, family), res in sorted(MATRIX.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2])):
        out.append(f"  {name:26} hop {hop!s:2} IPv{family}  {res}")
    print("\n".join(out), file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
