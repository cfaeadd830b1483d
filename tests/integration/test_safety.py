"""Safe as root, hard to misuse (issue 11): files rsthop writes as root, numbers it
accepts, the probe budget and rate counted on the wire, signals and exit codes.

Labs come from tools/lab (namespaces, 198.18.0.0/15 and 2001:db8::/32 only)."""
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

from harness import (BIN, Lab, ROOT, event_type, is_end_marker, of_type, part, require_root, start_tcpdump,
                     stop_at_end_marker, with_end_marker)

NOBODY = 65534
PCAPGEN = os.path.join(os.path.dirname(BIN), "tools", "pcapgen", "pcapgen")
SERVER = "safety.lab"


def as_nobody(argv, **kw):
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] + argv,
                          check=True, capture_output=True, **kw)


def one_sentence(test, r):
    """Exactly one non-empty stderr line (CLI11 adds its "Run with --help" hint on a parse error)."""
    lines = [line for line in r.stderr.splitlines() if line.strip() and "Run with --help" not in line]
    test.assertEqual(len(lines), 1, r.stderr)
    test.assertLess(len(lines[0]), 200, r.stderr)
    return lines[0]


class Files(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.tmp = tempfile.mkdtemp(prefix="rsthop-safety-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        self.pcap = os.path.join(self.tmp, "in.pcap")
        subprocess.run([PCAPGEN, "-n", "200", "-f", "20", "-s", "1", "--reset-percent", "50", "-o", self.pcap],
                       check=True, capture_output=True)

    def analyze(self, *args, **kw):
        return subprocess.run([BIN, "analyze", "--format", "json", self.pcap] + list(args), capture_output=True,
                              text=True, timeout=60, **kw)

    def test_symlink_planted_by_another_user_is_not_followed(self):
        shared = os.path.join(self.tmp, "shared")  # a /tmp-like directory: sticky, world-writable
        os.mkdir(shared)
        os.chmod(shared, 0o1777)
        victim = os.path.join(self.tmp, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        for option, name in (("-o", "out.ndjson"), ("--pcap-out", "ev.pcapng")):
            with self.subTest(option=option):
                link = os.path.join(shared, name)
                as_nobody(["ln", "-s", victim, link])
                self.assertEqual(os.lstat(link).st_uid, NOBODY)
                r = self.analyze(option, link)
                self.assertNotEqual(r.returncode, 0, r)
                self.assertIn("symbolic link owned by uid 65534", one_sentence(self, r))
                with open(victim) as f:
                    self.assertEqual(f.read(), "precious\n", f"{option} truncated the link's target")
        # Root's own links (/dev/stdout and the like) are still followed.
        own = os.path.join(self.tmp, "mine.ndjson")
        os.symlink(os.path.join(self.tmp, "real.ndjson"), own)
        r = self.analyze("-o", own)
        self.assertEqual(r.returncode, 0, r)
        self.assertGreater(os.path.getsize(os.path.join(self.tmp, "real.ndjson")), 0)

    def test_devices_are_written_not_truncated(self):
        r = self.analyze("-o", "/dev/null", "--pcap-out", "/dev/null")
        self.assertEqual(r.returncode, 0, r)
        r = self.analyze("-o", "/dev/full")
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIn("/dev/full", one_sentence(self, r))

    def test_files_are_0644_under_umask_000(self):
        out, ev = os.path.join(self.tmp, "out.ndjson"), os.path.join(self.tmp, "ev.pcapng")
        r = self.analyze("-o", out, "--pcap-out", ev, preexec_fn=lambda: os.umask(0))
        self.assertEqual(r.returncode, 0, r)
        for path in (out, ev):
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644, path)

    def test_an_output_that_is_an_input_is_refused(self):
        with open(self.pcap, "rb") as f:
            before = f.read()
        alias = os.path.join(self.tmp, "alias.pcap")
        os.link(self.pcap, alias)
        for args in (["-o", self.pcap], ["--pcap-out", self.pcap], ["-o", alias]):
            with self.subTest(args=args):
                r = self.analyze(*args)
                self.assertNotEqual(r.returncode, 0, r)
                self.assertIn("is the input", one_sentence(self, r))
                self.assertEqual(r.stdout, "")
                with open(self.pcap, "rb") as f:
                    self.assertEqual(f.read(), before, "the capture was truncated")


class Numbers(unittest.TestCase):
    def test_non_finite_and_absurd_values_are_refused(self):
        cases = [["trace", "-i", "lo", "-d", "nan"], ["trace", "-i", "lo", "-d", "1e300"],
                 ["trace", "-i", "lo", "-d", "inf"], ["trace", "-i", "lo", "--stats-interval", "-nan"],
                 ["diagnose", "198.18.0.1:443", "--timeout", "nan"],
                 ["diagnose", "198.18.0.1:443", "--timeout", "1e308"],
                 ["diagnose", "198.18.0.1:443", "--step-timeout", "NaN"],
                 ["diagnose", "198.18.0.1:443", "--hold", "1e400"],
                 ["diagnose", "198.18.0.1:443", "--rate", "nan"]]
        for argv in cases:
            with self.subTest(argv=argv):
                r = subprocess.run([BIN] + argv, capture_output=True, text=True, timeout=10)
                self.assertNotEqual(r.returncode, 0, r)
                self.assertEqual(r.stdout, "")
                line = one_sentence(self, r)
                self.assertIn("is not a number from", line)
                self.assertNotRegex(line, r"\d{20}", "no 309-digit numbers")


class SmallLies(unittest.TestCase):
    """analyze's messages and stamps say what happened (issue 11, item 6)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rsthop-lies-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pcap = os.path.join(self.tmp, "in.pcap")
        subprocess.run([PCAPGEN, "-n", "20", "-f", "5", "-s", "1", "-o", self.pcap], check=True, capture_output=True)

    def analyze(self, *args, **kw):
        return subprocess.run([BIN, "analyze", "--format", "json"] + list(args), capture_output=True, text=True,
                              timeout=60, **kw)

    def stats(self, r):
        return [json.loads(line) for line in r.stdout.splitlines() if '"stats"' in line]

    def test_a_missing_file_prints_no_1970_stats(self):
        r = self.analyze(os.path.join(self.tmp, "absent.pcap"))
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(self.stats(r), [], "nothing was analyzed: no stats line")
        self.assertIn("absent.pcap", one_sentence(self, r))
        r = self.analyze(os.path.join(self.tmp, "absent.pcap"), self.pcap)
        self.assertEqual(r.returncode, 1, r)
        self.assertFalse(self.stats(r)[0]["@timestamp"].startswith("1970"), self.stats(r))

    def test_an_empty_capture_is_stamped_now(self):
        empty = os.path.join(self.tmp, "empty.pcap")
        with open(self.pcap, "rb") as f, open(empty, "wb") as g:
            g.write(f.read(24))  # the file header alone
        r = self.analyze(empty)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.stats(r)[0]["@timestamp"][:4], time.strftime("%Y", time.gmtime()))

    def test_a_bad_filter_is_said_once_and_is_bad_usage(self):
        r = self.analyze(self.pcap, self.pcap, "--filter", "tcp port")
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("bad --filter expression", one_sentence(self, r))
        self.assertEqual(r.stdout, "", "no stats line")

    def test_a_cut_gzip_says_so(self):
        gz = os.path.join(self.tmp, "in.pcap.gz")
        subprocess.run(f"gzip -c {self.pcap} > {gz}", shell=True, check=True)
        with open(gz, "rb") as f:
            data = f.read()
        with open(gz, "wb") as f:
            f.write(data[:len(data) // 2])
        r = self.analyze(gz)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("gzip-compressed data is damaged or cut short", r.stderr)
        self.assertNotIn("ioctl", r.stderr)

    def test_a_truncated_capture_exits_1(self):
        cut = os.path.join(self.tmp, "cut.pcap")
        with open(self.pcap, "rb") as f, open(cut, "wb") as g:
            g.write(f.read()[:-7])
        r = self.analyze(cut)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("stopping this file", r.stderr)
        self.assertTrue(self.stats(r), "what was read is still reported")

    def test_a_fifo_without_writer_says_it_waits(self):
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        p = subprocess.Popen([BIN, "analyze", "--format", "json", fifo], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            ready, _, _ = select.select([p.stderr], [], [], 10)  # said within a moment, while no writer exists
            self.assertTrue(ready, "nothing said about the FIFO")
            line = p.stderr.readline()
            self.assertIn("is a FIFO with no writer yet; waiting", line)
            with open(fifo, "wb") as w, open(self.pcap, "rb") as f:
                w.write(f.read())
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, 0, err)
        self.assertIn('"flow"', out)


class Lab1(unittest.TestCase):
    """A client -> router -> server lab per test."""

    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name=SERVER)
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def syns(self):
        """tcpdump on the client's link: every SYN the client sends, with its time."""
        expr = with_end_marker(self.lab, "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn")
        return start_tcpdump(self.lab, "client", ["tcpdump", "-i", self.lab.client_if, "-nn", "-tt", "-l", "-U", expr],
                             text=True)

    def stop_syns(self, p):
        # Every SYN sent before: a SYN lost to a stop that came too early could hide one too many.
        out = stop_at_end_marker(self.lab, p)
        # One line per SYN; a retransmission repeats the source port: count attempts by port.
        lines = [line for line in out.splitlines() if " > " in line and not is_end_marker(self.lab, line)]
        ports = {}
        for line in lines:
            src = line.split()[2]
            ports.setdefault(src.rsplit(".", 1)[1], float(line.split()[0]))
        return sorted(ports.values())

    def diagnose(self, *args, timeout=120):
        argv = ["ip", "netns", "exec", self.lab.ns("client"), BIN, "diagnose", f"{SERVER}:443", "-4",
                "--format", "json"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def test_budget_counts_every_syn_on_the_wire(self):
        self.lab.start_server()
        for budget in (3, 5, 8, 20):
            with self.subTest(budget=budget):
                p = self.syns()
                r = self.diagnose("--ladder", "--budget", str(budget), "--step-timeout", "0.3")
                sent = self.stop_syns(p)
                self.assertIn('"verdict"', r.stdout, r.stderr)
                self.assertLessEqual(len(sent), budget, f"{len(sent)} connections with --budget {budget}")
                self.assertGreaterEqual(len(sent), 3)
                verdict = part(json.loads(r.stdout.splitlines()[-1]), "verdict")
                if budget < 10:  # connect, HTTP, TLS, then a 2-hop path's ladders need more than that
                    self.assertIn("budget of", verdict["summary"], "the verdict says the budget stopped it")

    def test_black_hole_gets_the_budget(self):
        self.lab.run("server", "nft add table inet bh; nft add chain inet bh in '{ type filter hook input priority 0; }'; "
                     "nft add rule inet bh in tcp dport '{80, 443}' drop")
        p = self.syns()
        r = self.diagnose("--budget", "3", "--timeout", "0.5", "--step-timeout", "0.2")
        sent = self.stop_syns(p)
        self.assertLessEqual(len(sent), 3, r.stderr)
        self.assertIn('"verdict"', r.stdout, r.stderr)
        probes = [part(json.loads(line), "probe") for line in r.stdout.splitlines() if '"probe"' in line]
        timeouts = [p for p in probes if p["outcome"] == "timeout"]
        self.assertTrue(timeouts, probes)
        for p in timeouts:  # a probe that waited 0.5 s says so (the HTTP probe said 0 ms)
            self.assertGreaterEqual(p["ms"], 450, p)

    def test_rate_is_a_hard_limit(self):
        self.lab.start_server()
        p = self.syns()
        r = self.diagnose("--ladder", "--rate", "2", "--budget", "6", "--hold", "0", "--step-timeout", "0.2")
        sent = self.stop_syns(p)
        self.assertIn('"verdict"', r.stdout, r.stderr)
        self.assertGreaterEqual(len(sent), 3)
        first_second = [t for t in sent if t - sent[0] < 0.95]
        self.assertLessEqual(len(first_second), 2, f"SYN times: {[round(t - sent[0], 3) for t in sent]}")

    def test_ladders_at_once_keep_the_budget_and_the_rate(self):
        # With --max-hops 2, the 8 connections left after the connect, HTTP and TLS probes hold all
        # four ladders' full height, so they run at once, on four threads: the budget and the rate
        # still bound every SYN on the wire.
        self.lab.start_server()
        p = self.syns()
        r = self.diagnose("--ladder", "--max-hops", "2", "--budget", "11", "--rate", "5", "--hold", "0",
                          "--step-timeout", "0.2")
        sent = self.stop_syns(p)
        self.assertIn('"verdict"', r.stdout, r.stderr)
        hops = [part(e, "hop") for e in map(json.loads, r.stdout.splitlines()) if event_type(e) == "hop"]
        self.assertEqual({h["ladder"] for h in hops}, {"syn", "syn80", "trigger", "control"}, hops)
        self.assertLessEqual(len(sent), 11, f"{len(sent)} connections with --budget 11")
        first_second = [t for t in sent if t - sent[0] < 0.95]
        self.assertLessEqual(len(first_second), 5, f"SYN times: {[round(t - sent[0], 3) for t in sent]}")

    def test_sigint_prints_a_partial_verdict_and_exits_130(self):
        self.lab.start_server()
        ev = os.path.join(tempfile.mkdtemp(prefix="rsthop-safety-"), "ev.pcapng")
        self.addCleanup(shutil.rmtree, os.path.dirname(ev), True)
        proc = self.lab.popen("client", [BIN, "diagnose", f"{SERVER}:443", "-4", "--format", "json", "--ladder",
                                         "--rate", "2", "--pcap-out", ev], text=True)
        time.sleep(3)
        self.assertIsNone(proc.poll(), "diagnose ended before the signal")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, err)
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        verdicts = of_type(events, "verdict")
        self.assertEqual(len(verdicts), 1, out)
        self.assertIn("partial", part(verdicts[0], "verdict")["summary"])
        self.assertGreater(os.path.getsize(ev), 0, "--pcap-out was written")

    def test_missing_interface_is_an_error(self):
        self.lab.start_server()
        r = self.diagnose("-i", "nosuch0")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("nosuch0", one_sentence(self, r))
        self.assertEqual(r.stdout, "")

    def test_trace_into_a_closed_pipe_ends_quietly(self):
        # The reader goes away at once; the first stats line meets a closed pipe.
        rd, wr = os.pipe()
        os.close(rd)
        p = self.lab.popen("client", [BIN, "trace", "-i", self.lab.client_if, "--format", "json",
                                      "--stats-interval", "0.2"], stdout=wr, text=True)
        os.close(wr)
        try:
            _, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            self.fail("trace kept running with its stdout closed")
        self.assertEqual(p.returncode, 0, err)
        self.assertNotIn("Broken pipe", err)
        self.assertNotIn("cannot write", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
