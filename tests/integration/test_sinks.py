"""The -o sinks against real receivers (issue 12 part 1): rsyslog and
syslog-ng, each started here with a private config on loopback ports and a
private socket and stopped by PID; logrotate's rename + SIGHUP, rename without
a signal, and copytruncate on a running `trace`.  Traffic: `analyze` of a
pcapgen capture, and connections a lab server refuses (tools/lab namespaces,
198.18.0.0/15).  Every received line must parse, equal (as
parsed JSON) what rsthop writes to stdout, and none may be missing."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Lab, Trace, event_type, holds_file, part, port_holders, require_root, validate

PCAPGEN = os.path.join(os.path.dirname(BIN), "tools", "pcapgen", "pcapgen")
RSYSLOGD = "/usr/sbin/rsyslogd"
SYSLOG_NG_DIR = "/opt/rsthop-test/syslog-ng"  # scripts/deps.sh unpacks it there
SYSLOG_NG = os.path.join(SYSLOG_NG_DIR, "usr", "sbin", "syslog-ng")
LOGROTATE = "/usr/sbin/logrotate"


def free_port(kind=socket.SOCK_STREAM):
    """A port free now: another test may take it before the daemon binds it (see start_receiver)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=30.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    assert b"\0" not in data, f"{path} has a NUL byte"
    return [l.decode() for l in data.split(b"\n") if l.strip()]


def canon(events):
    return sorted(json.dumps(e, sort_keys=True) for e in events)


def tcp_listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class Daemon:
    """A receiver started with a private config, stopped by its PID."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)

    def owns(self, ports):
        """True once the daemon holds every (kind, port) alone, False as soon as another process holds
        one (it took the port between free_port() and the daemon's bind), None while neither."""
        held = [port_holders(self.proc.pid, "tcp" if kind == socket.SOCK_STREAM else "udp", port)
                for kind, port in ports]
        if any(other for _, other in held):
            return False
        return True if all(mine for mine, _ in held) else None

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.stdout.read().decode(errors="replace")


def start_receiver(kinds, start, ready=lambda ports: True, attempts=5, timeout=20.0):
    """Starts a receiver (start(ports) -> Daemon) on free ports of `kinds`, ready when it holds all of
    them alone and ready(ports); on ports another process took meanwhile it is stopped and started on
    fresh ones.  Returns (daemon, ports)."""
    why = ""
    for _ in range(attempts):
        ports = [free_port(k) for k in kinds]
        daemon = start(ports)
        deadline = time.time() + timeout
        owned = None
        while time.time() < deadline and daemon.proc.poll() is None:
            owned = daemon.owns(list(zip(kinds, ports)))
            if owned is False or (owned and ready(ports)):
                break
            time.sleep(0.1)
        if owned and daemon.proc.poll() is None:
            return daemon, ports
        why = f"ports {ports}: " + ("another process took one" if owned is False else "not listening") + \
            f"; {daemon.stop()[-500:]}"
    raise AssertionError(f"{start.__name__}: the receiver did not start in {attempts} tries ({why})")


class Receivers(unittest.TestCase):
    """analyze of one capture, sent to each receiver; the receiver's JSON parser must get every line whole."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rsthop-sinks-")
        os.chmod(cls.tmp, 0o755)
        cls.pcap = os.path.join(cls.tmp, "in.pcap")
        subprocess.run([PCAPGEN, "-n", "300", "-f", "30", "-s", "7", "--reset-percent", "50", "-o", cls.pcap],
                       check=True, capture_output=True)
        r = subprocess.run([BIN, "analyze", "--format", "json", cls.pcap], capture_output=True, text=True,
                           timeout=60, check=True)
        cls.expected = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        assert len(cls.expected) > 50, r.stdout[:500]
        validate(cls.expected)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def analyze_to(self, *outputs):
        args = [BIN, "analyze", "--format", "json", self.pcap]
        for o in outputs:
            args += ["-o", o]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def received(self, path):
        try:
            wait_for(lambda: len(read_lines(path)) >= len(self.expected), 30)
        except AssertionError:
            raise AssertionError(f"{len(read_lines(path))} of {len(self.expected)} lines in {path}") from None
        time.sleep(0.5)  # nothing more may come
        return read_lines(path)

    def assert_all_whole(self, lines):
        events = [json.loads(l) for l in lines]  # every line parses
        self.assertEqual(canon(events), canon(self.expected))

    def test_rsyslog_udp_tcp_and_local_socket(self):
        require_root(self)  # the suite runs with the others, as root
        d = tempfile.mkdtemp(dir=self.tmp)
        sock = os.path.join(d, "log.sock")
        conf = os.path.join(d, "rsyslog.conf")

        def rsyslogd(ports):
            udp, tcp, tcp_cee = ports
            if os.path.exists(sock):  # a try before this one made it
                os.unlink(sock)
            with open(conf, "w") as f:
                f.write(f"""
global(workDirectory="{d}" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
module(load="imuxsock" SysSock.Use="off")
module(load="mmjsonparse")
template(name="json" type="string" string="%$!all-json%\\n")
template(name="raw" type="string" string="%rawmsg%\\n")
template(name="byinput" type="string" string="{d}/%inputname%.log")
ruleset(name="plain") {{
  action(type="mmjsonparse" cookie="")
  if $parsesuccess == "OK" then {{ action(type="omfile" dynaFile="byinput" template="json") }}
  else {{ action(type="omfile" file="{d}/bad.log" template="raw") }}
}}
ruleset(name="cee") {{
  action(type="mmjsonparse")
  if $parsesuccess == "OK" then {{ action(type="omfile" file="{d}/cee.log" template="json") }}
  else {{ action(type="omfile" file="{d}/bad.log" template="raw") }}
}}
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="plain" rcvbufSize="8m")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="plain")
input(type="imtcp" address="127.0.0.1" port="{tcp_cee}" ruleset="cee" name="imtcp_cee")
input(type="imuxsock" socket="{sock}" useSpecialParser="off" ruleset="plain")
""")
            return Daemon([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(d, "rsyslog.pid")])

        # rsyslog names its outputs by input module: imudp.log, imtcp.log, imuxsock.log.  UDP is lossy:
        # a burst of lines overflows a default receive buffer, hence rcvbufSize (so-rcvbuf for syslog-ng).
        daemon, (udp, tcp, tcp_cee) = start_receiver(
            (socket.SOCK_DGRAM, socket.SOCK_STREAM, socket.SOCK_STREAM), rsyslogd,
            lambda ports: tcp_listening(ports[1]) and tcp_listening(ports[2]) and os.path.exists(sock))
        try:
            self.analyze_to(f"syslog+udp:127.0.0.1:{udp}", f"syslog+tcp:127.0.0.1:{tcp}",
                            f"syslog+cee+tcp:127.0.0.1:{tcp_cee}", f"syslog:{sock}")
            for name in ("imudp", "imtcp", "cee", "imuxsock"):
                with self.subTest(input=name):
                    self.assert_all_whole(self.received(os.path.join(d, f"{name}.log")))
            self.assertEqual(read_lines(os.path.join(d, "bad.log")), [])
        finally:
            daemon.stop()

    def test_syslog_ng_tcp_and_udp(self):
        require_root(self)
        if not os.access(SYSLOG_NG, os.X_OK):
            self.fail(f"{SYSLOG_NG} is missing: run scripts/deps.sh (it unpacks syslog-ng-core there)")
        d = tempfile.mkdtemp(dir=self.tmp)
        conf = os.path.join(d, "syslog-ng.conf")
        lib = os.path.join(SYSLOG_NG_DIR, "usr", "lib", "syslog-ng")
        env = dict(os.environ, LD_LIBRARY_PATH=lib)

        def syslog_ng(ports):
            tcp, udp = ports
            with open(conf, "w") as f:
                f.write(f"""@version: 3.38
options {{ log-msg-size(65536); }};
source s_tcp {{ syslog(ip("127.0.0.1") port({tcp}) transport("tcp")); }};
source s_udp {{ syslog(ip("127.0.0.1") port({udp}) transport("udp") so-rcvbuf(8388608)); }};
parser p_json {{ json-parser(prefix(".j.")); }};
destination d_tcp {{ file("{d}/tcp.log" template("${{.j.rsthop.event_type}} ${{MSGID}} ${{MSG}}\\n")); }};
destination d_udp {{ file("{d}/udp.log" template("${{.j.rsthop.event_type}} ${{MSGID}} ${{MSG}}\\n")); }};
log {{ source(s_tcp); parser(p_json); destination(d_tcp); }};
log {{ source(s_udp); parser(p_json); destination(d_udp); }};
""")
            return Daemon([SYSLOG_NG, "-F", "--no-caps", "-f", conf, f"--module-path={lib}/3.38",
                           "-p", os.path.join(d, "sng.pid"), "-c", os.path.join(d, "sng.ctl"),
                           "-R", os.path.join(d, "sng.persist")], env=env)

        daemon, (tcp, udp) = start_receiver((socket.SOCK_STREAM, socket.SOCK_DGRAM), syslog_ng,
                                            lambda ports: tcp_listening(ports[0]))
        try:
            self.analyze_to(f"syslog+tcp:127.0.0.1:{tcp}", f"syslog+udp:127.0.0.1:{udp}")
            for name in ("tcp", "udp"):
                with self.subTest(transport=name):
                    lines = self.received(os.path.join(d, f"{name}.log"))
                    events = []
                    for l in lines:
                        kind, msgid, msg = l.split(" ", 2)
                        e = json.loads(msg)
                        self.assertEqual(kind, event_type(e), "syslog-ng's json-parser did not get the line whole")
                        self.assertEqual(msgid, event_type(e), "the MSGID is rsthop.event_type")
                        events.append(e)
                    self.assertEqual(canon(events), canon(self.expected))
        finally:
            daemon.stop()

    def test_unix_and_tcp_streams_and_unixgram(self):
        require_root(self)
        d = tempfile.mkdtemp(dir=self.tmp)
        stream_path, dgram_path = os.path.join(d, "s.sock"), os.path.join(d, "g.sock")
        st = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        st.bind(stream_path)
        st.listen(1)
        dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        dg.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        dg.bind(dgram_path)
        tl = socket.socket()
        tl.bind(("127.0.0.1", 0))
        tl.listen(1)
        port = tl.getsockname()[1]
        import threading
        got = {}

        def drain(name, listener):
            c, _ = listener.accept()
            buf = b""
            while chunk := c.recv(65536):
                buf += chunk
            got[name] = buf

        datagrams = []

        def drain_datagrams():
            dg.settimeout(3)  # the receive queue holds net.unix.max_dgram_qlen datagrams: read while rsthop sends
            try:
                while True:
                    datagrams.append(dg.recv(70000).decode())
            except socket.timeout:
                pass

        threads = [threading.Thread(target=drain, args=a) for a in (("unix", st), ("tcp", tl))]
        threads.append(threading.Thread(target=drain_datagrams))
        for t in threads:
            t.start()
        self.analyze_to(f"unix:{stream_path}", f"tcp:127.0.0.1:{port}", f"unixgram:{dgram_path}")
        for t in threads:
            t.join(timeout=30)
        for name in ("unix", "tcp"):
            with self.subTest(sink=name):
                self.assertTrue(got[name].endswith(b"\n"))
                self.assert_all_whole(got[name].decode().splitlines())
        self.assertTrue(all("\n" not in g for g in datagrams))
        self.assert_all_whole(datagrams)  # one line per datagram, each whole

    def test_journal(self):
        sock = "/run/systemd/journal/socket"
        if not os.path.exists(sock):
            # No journald here (PID 1 is not systemd): the lines must be counted as not delivered,
            # not discarded silently as sd_journal_sendv() would.  Against a real (private) journald:
            # test_journal.py; the field mapping alone: unit tests (Journal.*).
            r = subprocess.run([BIN, "analyze", self.pcap, "-o", "journal"], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(f"-o journal: {len(self.expected)} lines were not delivered", r.stderr)
            return
        since = time.time()
        self.analyze_to("journal")
        time.sleep(1)
        r = subprocess.run(["journalctl", "-o", "json", f"--since=@{int(since) - 1}", "SYSLOG_IDENTIFIER=rsthop"],
                           capture_output=True, text=True, timeout=60, check=True)
        entries = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        self.assertGreaterEqual(len(entries), len(self.expected))
        self.assertTrue(all(event_type(json.loads(e["MESSAGE"])) == e["RSTHOP_EVENT_TYPE"] for e in entries))

    def test_an_output_that_is_down_fails_analyze(self):
        r = subprocess.run([BIN, "analyze", self.pcap, "-o", "/dev/null", "-o", "tcp:127.0.0.1:1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"-o tcp:127.0.0.1:1: {len(self.expected)} lines were not delivered", r.stderr)

    def test_bad_outputs_fail_in_one_sentence(self):
        for form, want in (("tcp:nohost", "needs HOST:PORT"), ("syslog+tcp:127.0.0.1:0", "port must be"),
                           ("/nonexistent-dir/x.ndjson", "/nonexistent-dir/x.ndjson")):
            r = subprocess.run([BIN, "analyze", self.pcap, "-o", "-", "-o", form], capture_output=True, text=True,
                               timeout=30)
            self.assertNotEqual(r.returncode, 0, form)
            self.assertEqual(r.stdout, "")
            lines = [l for l in r.stderr.splitlines() if l.strip() and "Run with --help" not in l]
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(want, lines[0])


class Rotation(unittest.TestCase):
    """A running `trace` writing to a file while logrotate rotates it three ways."""

    def setUp(self):
        require_root(self)
        self.tmp = tempfile.mkdtemp(prefix="rsthop-rotate-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.lab = Lab(server_name="rotate.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)
        self.port = 9  # nothing listens there on the server: every SYN gets a RST
        self.out = os.path.join(self.tmp, "rsthop.ndjson")

    def refused(self, n):
        """n connections the server refuses: n reset lines."""
        server = self.lab.addr("server")
        code = (f"import socket\nfor _ in range({n}):\n    s = socket.socket()\n"
                f"    try: s.connect(('{server}', {self.port}))\n    except OSError: pass\n    s.close()\n")
        subprocess.run(["ip", "netns", "exec", self.lab.ns("client"), "python3", "-c", code], check=True)

    def all_files(self):
        names = sorted(os.listdir(self.tmp))
        return [os.path.join(self.tmp, n) for n in names if n.startswith("rsthop.ndjson")]

    def resets_in(self, paths):
        return sum(1 for p in paths for l in read_lines(p) if event_type(json.loads(l)) == "reset")

    def logrotate(self, body):
        conf = os.path.join(self.tmp, "lr.conf")
        with open(conf, "w") as f:
            f.write(f"{self.out} {{\n  rotate 10\n  nocompress\n  missingok\n{body}}}\n")
        r = subprocess.run([LOGROTATE, "-f", "-s", os.path.join(self.tmp, "lr.state"), conf], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_rename_hup_rename_alone_and_copytruncate(self):
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "-p", str(self.port), "--stats-interval", "0",
                                       "-o", self.out])
        trace = t.proc  # `ip netns exec` execs rsthop: this is its PID
        n, total = 5, 0

        def burst(where):
            nonlocal total
            self.refused(n)
            total += n
            wait_for(lambda: self.resets_in(self.all_files()) >= total, 20, f"{total} resets")
            return self.resets_in([where])

        burst(self.out)
        # 1. rename + SIGHUP (postrotate kill -HUP by PID): the next lines are in the new file.
        self.logrotate(f"  create 0644\n  postrotate\n    kill -HUP {trace.pid}\n  endscript\n")
        wait_for(lambda: holds_file(trace.pid, self.out), 20, "trace to reopen its output after SIGHUP")
        self.assertEqual(burst(self.out), n, "after SIGHUP the lines must go to the new file")
        self.assertIsNone(trace.poll(), "SIGHUP ended trace")
        # 2. rename without a signal (nocreate): rsthop notices the path moved and reopens it.
        # The file sink compares the path with its open file before a write, at most once a second
        # (FileSink::follow_renames): an idle trace notices nothing until it writes.  So wait out that
        # second (no write may be due earlier than it), then the burst's first write must reopen.
        # Waiting for the reopen before the burst raced: it needed a late flow line of the last burst.
        self.logrotate("  nocreate\n")
        time.sleep(1.2)
        self.assertEqual(burst(self.out), n, "after a rename without signal the lines must go to a new file")
        self.assertTrue(holds_file(trace.pid, self.out), "trace did not reopen its output after the rename")
        # 3. copytruncate: O_APPEND leaves no hole of NUL bytes.
        self.logrotate("  copytruncate\n")
        self.assertEqual(burst(self.out), n)
        t.stop(signal.SIGTERM)
        self.assertEqual(t.rc, 0, t.stderr)
        lines = [json.loads(l) for p in self.all_files() for l in read_lines(p)]  # no NUL, every line parses
        validate(lines)
        resets = [e for e in lines if event_type(e) == "reset"]
        self.assertEqual(len(resets), total)
        final = [part(e, "stats") for e in lines if event_type(e) == "stats" and part(e, "stats")["final"]]
        self.assertEqual(len(final), 1)
        self.assertEqual(final[0]["userspace"]["resets_emitted"], total)
        self.assertEqual(final[0]["sinks"][0]["name"], self.out)
        self.assertEqual(final[0]["sinks"][0]["dropped_full"], 0)
        self.assertEqual(len(self.all_files()), 4)  # the three rotations and the current file


if __name__ == "__main__":
    unittest.main(verbosity=2)
