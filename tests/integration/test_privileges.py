"""What `trace` and `diagnose` keep once attached (issue 11), read from /proc/PID/status of the running
process, and that detaching still works after the drop; `rsthop cleanup` and the clsact qdisc.

Labs come from tools/lab (namespaces, 198.18.0.0/15 and 2001:db8::/32 only)."""
import json
import signal
import subprocess
import time
import unittest

from harness import BIN, Lab, Trace, of_type, part, programs_held, require_root, wait_programs_freed

NOBODY = 65534
CAP_NET_ADMIN = 1 << 12
SERVER = "privileges.lab"


def status(pid):
    """/proc/PID/status as a dict of its fields."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def caps(st, field):
    return int(st[field], 16)


class Privileges(unittest.TestCase):
    def assert_dropped(self, st, kept=0):
        self.assertEqual(st["Uid"].split(), [str(NOBODY)] * 4, st["Uid"])
        self.assertEqual(st["Gid"].split(), [str(NOBODY)] * 4, st["Gid"])
        self.assertEqual(st["Groups"], "", "supplementary groups cleared")
        self.assertEqual(caps(st, "CapEff"), 0, "nothing effective")
        self.assertEqual(caps(st, "CapPrm"), kept, "only what detaching needs is permitted")
        self.assertEqual(caps(st, "CapBnd"), kept, "the bounding set holds no more")
        self.assertEqual(caps(st, "CapAmb"), 0)
        self.assertEqual(st["NoNewPrivs"], "1")


class TraceTest(Privileges):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=0, server_name=SERVER)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def filters(self):
        dev = self.lab.client_if
        return "".join(self.lab.run("client", f"tc filter show dev {dev} {d}").stdout for d in ("ingress", "egress"))

    def test_tcx_trace_keeps_nothing_and_still_detaches(self):
        self.lab.start_server()
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--port", "443"])
        ids = t.programs()
        self.assert_dropped(status(t.proc.pid))
        # The ring, the flow map and the counters are still read without privileges.
        self.lab.run("client", f"curl -sk --max-time 5 https://{SERVER}/ -o /dev/null", check=False)
        time.sleep(1.5)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertTrue(of_type(events, "flow"), t.stderr)
        stats = part(of_type(events, "stats")[-1], "stats")["kernel"]
        self.assertGreater(stats["packets"], 0)
        self.assertEqual(wait_programs_freed(ids), [], "programs left after the drop")

    def test_clsact_trace_keeps_net_admin_permitted_only_and_detaches(self):
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--xdp", "off", "--tc", "clsact"])
        self.assert_dropped(status(t.proc.pid), kept=CAP_NET_ADMIN)
        self.assertIn("rh_tc_", self.filters())
        ids = t.programs()
        t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertNotIn("rh_tc_", self.filters(), "CAP_NET_ADMIN was raised to remove the filters")
        self.assertNotIn("clsact", self.lab.run("client", f"tc qdisc show dev {self.lab.client_if}").stdout)
        self.assertEqual(wait_programs_freed(ids), [])


class DiagnoseTest(Privileges):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name=SERVER)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def test_diagnose_probes_and_parses_as_nobody(self):
        self.lab.start_server()
        proc = self.lab.popen("client", [BIN, "diagnose", f"{SERVER}:443", "-4", "--format", "json", "--hold", "2"],
                              text=True)
        first = proc.stdout.readline()  # the first probe line: attached and dropped before it
        self.assertIn('"probe"', first, proc.stderr.read() if proc.poll() is not None else "")
        st = status(proc.pid)
        ids = programs_held(proc.pid)
        out, err = proc.communicate(timeout=60)
        self.assert_dropped(st)
        self.assertEqual(proc.returncode, 0, err)
        events = [json.loads(line) for line in (first + out).splitlines() if line.strip()]
        tls = [part(e, "probe") for e in of_type(events, "probe") if part(e, "probe")["name"] == "tls"]
        self.assertEqual(tls[0]["outcome"], "ok", "OpenSSL still works without privileges")
        self.assertEqual(len(of_type(events, "verdict")), 1, out)
        self.assertNotIn("no kernel capture", err, "the capture was attached before the drop")
        self.assertTrue(ids, "diagnose holds its capture's programs")
        self.assertEqual(wait_programs_freed(ids), [], "programs left after the drop")


class CleanupTest(unittest.TestCase):
    """After a SIGKILL on the clsact path, `rsthop cleanup` removes the qdisc rsthop created, and only that."""

    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=0)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)
        self.dev = self.lab.client_if

    def qdiscs(self):
        return self.lab.run("client", f"tc qdisc show dev {self.dev}").stdout

    def killed_trace(self):
        t = Trace(self.lab, "client", ["-i", self.dev, "--xdp", "off", "--tc", "clsact"])
        self.ids = t.programs()
        t.stop(sig=signal.SIGKILL)
        self.assertIn("clsact", self.qdiscs(), "a killed rsthop leaves its clsact qdisc")
        return self.lab.run("client", f"{BIN} cleanup")

    def test_cleanup_removes_the_qdisc_rsthop_created(self):
        self.assertNotIn("clsact", self.qdiscs())
        r = self.killed_trace()
        self.assertIn("removed 2 leftover tc filter(s) tagged by rsthop and 1 clsact qdisc(s)", r.stderr)
        self.assertNotIn("clsact", self.qdiscs())
        self.assertEqual(wait_programs_freed(self.ids), [])

    def test_cleanup_keeps_a_qdisc_that_was_there_before(self):
        self.lab.run("client", f"tc qdisc add dev {self.dev} clsact")
        r = self.killed_trace()
        self.assertIn("removed 2 leftover tc filter(s) tagged by rsthop and 0 clsact qdisc(s)", r.stderr)
        self.assertIn("clsact", self.qdiscs())
        self.assertEqual(wait_programs_freed(self.ids), [])

    def test_a_second_rsthop_on_a_killed_ones_qdisc_works_and_cleanup_takes_both(self):
        t = Trace(self.lab, "client", ["-i", self.dev, "--xdp", "off", "--tc", "clsact"])
        ids = t.programs()
        t.stop(sig=signal.SIGKILL)
        # Its own handle beside the leftovers: it runs, and leaves the killed one's qdisc alone.
        r = self.lab.run("client", f"{BIN} trace -i {self.dev} --xdp off --tc clsact -d 1", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("clsact", self.qdiscs())
        r = self.lab.run("client", f"{BIN} cleanup")
        self.assertIn("removed 2 leftover tc filter(s) tagged by rsthop and 1 clsact qdisc(s)", r.stderr)
        self.assertNotIn("clsact", self.qdiscs())
        self.assertEqual(wait_programs_freed(ids), [])

if __name__ == "__main__":
    unittest.main(verbosity=2)
