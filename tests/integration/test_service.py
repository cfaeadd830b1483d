"""`rsthop trace` as a service, end to end in a lab: options from a --config
file and RSTHOP_* variables, the SIGHUP reread, and the sd_notify protocol
(READY=1, WATCHDOG=1, RELOADING=1, STOPPING=1) read from a notify socket the
test owns, as systemd would.  Traces on the client."""
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Lab, Trace, event_type, of_type, part, require_root, validate, wait_for_line

HTTP_SERVER = "import http.server,sys; http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, " \
              "ServerClass=http.server.ThreadingHTTPServer, port=80, bind=sys.argv[1])"


def packets_to(events, port):
    return [e for e in of_type(events, "packet") if e["destination"]["port"] == port or e["source"]["port"] == port]


class ServiceTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=0, prefix="rhsv")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)
        self.dir = tempfile.TemporaryDirectory(prefix="rsthop-service-")
        self.addCleanup(self.dir.cleanup)
        # trace runs as nobody once attached: it rereads the config and reaches the notify socket as
        # such, as it does under systemd (/etc/rsthop is 0755, /run/systemd/notify world-writable).
        os.chmod(self.dir.name, 0o755)
        self.config = os.path.join(self.dir.name, "rsthop.toml")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("RSTHOP_", "NOTIFY_", "WATCHDOG_"))}

    def write_config(self, text):
        tmp = self.config + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.config)  # as an editor or a ConfigMap update does

    def connect(self, port):
        self.lab.run("client", f"curl -4 -s -m 3 -o /dev/null http://{self.lab.addr('server')}:{port}/", check=False)

    def wait_stderr(self, t, needle, timeout=10.0):
        """Reads trace's stderr until a line holds `needle`; returns that line."""
        line, said = wait_for_line(t.proc.stderr, needle, timeout)
        t.stderr += said
        if line is None:
            raise AssertionError(f"no {needle!r} on stderr: {t.stderr!r}")
        return line

    def test_config_file_and_environment_set_trace_options(self):
        self.lab.popen("server", ["python3", "-c", HTTP_SERVER, self.lab.addr("server")])
        self.lab.wait_port("server", self.lab.addr("server"), 80)
        # The file names the interface and asks for packet lines; the environment filters port 81.
        self.write_config(f'[trace]\ninterface = ["{self.lab.client_if}"]\npackets = true\nstats-interval = 0\n')
        env = dict(self.env, RSTHOP_PORT="81")
        t = _EnvTrace(self.lab, "client", ["--config", self.config], env)
        self.connect(80)
        self.connect(81)
        time.sleep(0.3)
        events = t.stop(signal.SIGTERM)
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        self.assertTrue(packets_to(events, 81), "packets = true in the file: packet lines for port 81")
        self.assertFalse(packets_to(events, 80), "RSTHOP_PORT=81: port 80 filtered in the kernel")
        stats = of_type(events, "stats")
        self.assertEqual(len(stats), 1, "stats-interval = 0 in the file: only the final stats line")
        self.assertTrue(part(stats[0], "stats")["final"])

    def test_sighup_rereads_the_config_and_names_what_needs_a_restart(self):
        self.write_config(f'[trace]\ninterface = ["{self.lab.client_if}"]\nport = [81]\nstats-interval = 0\n')
        t = _EnvTrace(self.lab, "client", ["--config", self.config], self.env)
        self.connect(81)
        # The first connection read before the reread (its reset line is out, its SYN came before):
        # under load a sleep here let its SYN be read after the reread, a third packet line.
        t.wait_for(lambda e: event_type(e) == "reset")
        # packets changes live; port cannot (the filter is the programs' read-only data).
        self.write_config(f'[trace]\ninterface = ["{self.lab.client_if}"]\nport = [82]\npackets = true\n'
                          'stats-interval = 0\n')
        t.proc.send_signal(signal.SIGHUP)
        line = self.wait_stderr(t, "configuration reread")
        self.assertIn("--port need a restart", line)
        self.assertNotIn("--packets", line)
        self.connect(81)
        time.sleep(0.3)
        # A file that no longer parses: said once, the trace goes on with what it has.
        self.write_config('[trace]\nno-such-option = 1\n')
        t.proc.send_signal(signal.SIGHUP)
        line = self.wait_stderr(t, "could not be reread")
        self.assertIn("the running options stay", line)
        self.connect(81)
        time.sleep(0.3)
        events = t.stop(signal.SIGTERM)
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        resets = of_type(events, "reset")
        self.assertEqual(len(resets), 3, "port 81 still traced after both rereads")
        syns = [e for e in packets_to(events, 81) if part(e, "packet")["kind"] == "syn"]
        self.assertEqual(len(syns), 2, "packet lines from the first reread on, kept after the broken one")
        first_reset = min(r["@timestamp"] for r in resets)  # reset lines come out when their burst closes
        self.assertTrue(all(e["@timestamp"] > first_reset for e in syns), (syns, resets))
        self.assertTrue(part(of_type(events, "stats")[-1], "stats")["final"])

    def notify_socket(self):
        """A NOTIFY_SOCKET for trace (a datagram socket any user may write to): (path, socket)."""
        path = os.path.join(self.dir.name, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        os.chmod(path, 0o777)
        return path, sock

    def test_sd_notify_ready_watchdog_reloading_stopping(self):
        sock_path, sock = self.notify_socket()
        self.write_config(f'[trace]\ninterface = ["{self.lab.client_if}"]\n')
        env = dict(self.env, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="400000")
        t = _EnvTrace(self.lab, "client", ["--config", self.config], env)
        messages = []

        def read_for(seconds):
            deadline = time.time() + seconds
            while time.time() < deadline:
                r, _, _ = select.select([sock], [], [], 0.1)
                if r:
                    messages.append(sock.recv(4096).decode())

        read_for(1.5)
        self.assertTrue(any(m.startswith("READY=1") for m in messages), messages)
        ready_at = next(i for i, m in enumerate(messages) if m.startswith("READY=1"))
        pings = [m for m in messages[ready_at:] if m == "WATCHDOG=1"]
        # 1.5 s at one ping per WATCHDOG_USEC/2 = 0.2 s: far more than two, even on a loaded machine.
        self.assertGreaterEqual(len(pings), 3, messages)
        self.assertIn("STATUS=tracing", messages[ready_at])
        t.proc.send_signal(signal.SIGHUP)
        read_for(1.0)
        reloading = [i for i, m in enumerate(messages) if m.startswith("RELOADING=1")]
        self.assertEqual(len(reloading), 1, messages)
        self.assertIn("MONOTONIC_USEC=", messages[reloading[0]])
        self.assertIn("READY=1", messages[reloading[0] + 1:], messages)
        self.assertNotIn("STOPPING=1", messages)
        t.proc.send_signal(signal.SIGTERM)
        read_for(1.0)
        events = t.stop(signal.SIGTERM)
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertIn("STOPPING=1", messages)
        self.assertTrue(part(of_type(events, "stats")[-1], "stats")["final"], "SIGTERM flushes: the final stats line")

    def test_no_watchdog_without_watchdog_usec(self):
        sock_path, sock = self.notify_socket()
        env = dict(self.env, NOTIFY_SOCKET=sock_path)
        t = _EnvTrace(self.lab, "client", ["-i", self.lab.client_if], env)
        time.sleep(1.0)
        t.stop(signal.SIGTERM)
        self.assertEqual(t.rc, 0, t.stderr)
        messages = []
        while select.select([sock], [], [], 0)[0]:
            messages.append(sock.recv(4096).decode())
        self.assertTrue(any(m.startswith("READY=1") for m in messages), messages)
        self.assertNotIn("WATCHDOG=1", messages)
        self.assertIn("STOPPING=1", messages)

    def test_bad_config_is_one_sentence_and_exit_2(self):
        self.write_config('[trace]\ninterface = ["lo"]\nstats-intervall = 3\n')
        r = subprocess.run([BIN, "trace", "--config", self.config, "-d", "1"], capture_output=True, text=True,
                           env=self.env, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("stats-intervall", r.stderr)
        r = subprocess.run([BIN, "trace", "--config", self.config + ".absent", "-d", "1"], capture_output=True,
                           text=True, env=self.env, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(".absent", r.stderr)


def _EnvTrace(lab, node, args, env):
    """harness.Trace with an environment of our own."""
    return Trace(lab, node, args, env=env)

if __name__ == "__main__":
    unittest.main()
