"""The `journal` output against a real systemd-journald (issue 12 part 1).

Each test starts a private journald in a mount namespace of its own
(journald_ns.py: tmpfs over /run/systemd, /run/log and /var/log/journal, a
private machine-id), runs rsthop with `-o journal` in that namespace, reads
the entries back with journalctl there and stops journald by PID.  Every line
must arrive once, whole in MESSAGE, with PRIORITY, SYSLOG_IDENTIFIER and every
scalar of the JSON as a journal field under the README's names.  Traffic: a
pcapgen capture for `analyze`; for `trace`, connections a lab server refuses
(tools/lab namespaces, 198.18.0.0/15)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, Lab, Trace, event_type, of_type, part, require_root, validate
from journald_ns import start_or_fail

PCAPGEN = os.path.join(os.path.dirname(BIN), "tools", "pcapgen", "pcapgen")
FIXED = {"PRIORITY": "6", "SYSLOG_IDENTIFIER": "rsthop", "_TRANSPORT": "journal"}


def field_name(path):
    """The README's mapping of a dotted JSON path to a journal field name."""
    name = re.sub(r"[^A-Z0-9]", "_", path.upper()).lstrip("_")
    if name[:1].isdigit():
        name = "X_" + name
    return name[:64]


def expected_fields(doc, path="", out=None):
    """{journal field: JSON value} for every scalar (an array is one field) of doc."""
    out = {} if out is None else out
    for key, value in doc.items():
        sub = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            expected_fields(value, sub, out)
        elif value is not None:
            name = field_name(sub)
            if name in out or name in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"):
                name = ("RSTHOP_" + name)[:64]
            out.setdefault(name, value)
    return out


def canon(events):
    return sorted(json.dumps(e, sort_keys=True) for e in events)


class JournalTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.tmp = tempfile.mkdtemp(prefix="rsthop-journal-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start_journald(self):
        jd = start_or_fail(self, self.tmp)
        self.addCleanup(jd.stop)
        return jd

    def assert_entries_are(self, entries, lines):
        """entries hold exactly lines (parsed JSON), each with the fields its line maps to."""
        self.assertEqual(len(entries), len(lines), "entries lost or repeated")
        self.assertEqual(canon(json.loads(e["MESSAGE"]) for e in entries), canon(lines))
        for e in entries:
            doc = json.loads(e["MESSAGE"])
            for name, want in FIXED.items():
                self.assertEqual(e.get(name), want, name)
            want_fields = expected_fields(doc)
            own = {k for k in e if not k.startswith("_")}  # journald's trusted fields start with _
            self.assertEqual(own - set(FIXED) - {"MESSAGE"}, set(want_fields), f"{event_type(doc)} line: fields")
            for name, want in want_fields.items():
                self.assertIn(name, e, f"{event_type(doc)} line: no {name}")
                got = e[name] if isinstance(want, str) else json.loads(e[name])
                self.assertEqual(got, want, f"{event_type(doc)} line: {name}")
        types = {event_type(json.loads(e["MESSAGE"])) for e in entries}
        self.assertTrue(all(e["RSTHOP_EVENT_TYPE"] == event_type(json.loads(e["MESSAGE"])) for e in entries))
        return types

    def test_analyze_every_line_arrives_with_its_fields(self):
        pcap = os.path.join(self.tmp, "in.pcap")
        subprocess.run([PCAPGEN, "-n", "300", "-f", "30", "-s", "7", "--reset-percent", "50", "-o", pcap],
                       check=True, capture_output=True)
        ref = subprocess.run([BIN, "analyze", "--format", "json", pcap], capture_output=True, text=True,
                             timeout=60, check=True)
        expected = [json.loads(l) for l in ref.stdout.splitlines() if l.strip()]
        self.assertGreater(len(expected), 50)
        validate(expected)
        jd = self.start_journald()
        r = jd.run([BIN, "analyze", "--format", "json", pcap, "-o", "journal"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")  # -o journal replaces standard output
        entries = jd.entries("SYSLOG_IDENTIFIER=rsthop")
        types = self.assert_entries_are(entries, expected)
        self.assertLessEqual({"flow", "reset", "stats"}, types)
        # The README's example query finds exactly the reset lines of that origin.
        for origin in {part(e, "reset")["origin"] for e in of_type(expected, "reset")}:
            want = [e for e in of_type(expected, "reset") if part(e, "reset")["origin"] == origin]
            got = jd.entries("SYSLOG_IDENTIFIER=rsthop", f"RSTHOP_RESET_ORIGIN={origin}")
            self.assertEqual(canon(json.loads(e["MESSAGE"]) for e in got), canon(want), origin)
        self.assertEqual(jd.stop(), 0)

    def test_trace_to_journal_and_file(self):
        lab = Lab(server_name="journal.lab")
        lab.__enter__()  # before journald's namespace: the lab's /run/netns entries are copied into it
        self.addCleanup(lab.__exit__, None, None, None)
        jd = self.start_journald()
        out = os.path.join(self.tmp, "trace.ndjson")
        n, port = 6, 9  # nothing listens on port 9 of the server: every SYN gets a RST

        class InJournalNs:
            """Lab.popen, but in journald's mount namespace (nsenter, then ip netns exec: rsthop's PID)."""

            def popen(self, node, argv, **kw):
                kw.setdefault("stdout", subprocess.PIPE)
                kw.setdefault("stderr", subprocess.PIPE)
                p = subprocess.Popen(jd.prefix() + ["ip", "netns", "exec", lab.ns(node)] + list(argv),
                                     start_new_session=True, **kw)
                lab.procs.append(p)
                return p

        t = Trace(InJournalNs(), "client", ["-i", lab.client_if, "-p", str(port), "--stats-interval", "0",
                                            "-o", "journal", "-o", out])
        server = lab.addr("server")
        code = (f"import socket\nfor _ in range({n}):\n    s = socket.socket()\n"
                f"    try: s.connect(('{server}', {port}))\n    except OSError: pass\n    s.close()\n")
        subprocess.run(["ip", "netns", "exec", lab.ns("client"), "python3", "-c", code], check=True, timeout=60)
        t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        with open(out) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        validate(lines)
        self.assertEqual(len(of_type(lines, "reset")), n)
        final = [part(e, "stats") for e in of_type(lines, "stats") if part(e, "stats")["final"]]
        self.assertEqual(len(final), 1)
        self.assertEqual([s["name"] for s in final[0]["sinks"]], ["journal", out])
        self.assertTrue(all(s["dropped_full"] == 0 and s["dropped_oversize"] == 0 for s in final[0]["sinks"]))
        entries = jd.entries("SYSLOG_IDENTIFIER=rsthop")
        types = self.assert_entries_are(entries, lines)
        self.assertLessEqual({"flow", "reset", "stats"}, types)
        self.assertEqual(jd.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
