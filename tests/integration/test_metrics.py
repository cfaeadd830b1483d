"""`rsthop trace --metrics` end to end: a trace in a lab namespace serves
Prometheus metrics on that namespace's loopback, the numbers match the
resets the NDJSON stream reports, `promtool check metrics` accepts the
exposition, and a real Prometheus server (started here with a private
config and storage, stopped by PID) scrapes it.  Every port lives inside the
lab's own namespace, so nothing collides with the host."""
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Lab, Trace, of_type, part, require_root, validate

METRICS_PORT = 9464
PROM_PORT = 9090
CLOSED_PORT = 81
CONNECTS = 3
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value} from an exposition document."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def total(samples, name, **labels):
    want = set(labels.items())
    return sum(v for (n, l), v in samples.items() if n == name and want <= set(l))


class MetricsTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name="web.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def scrape(self, path="/metrics", port=METRICS_PORT):
        r = self.lab.run("client", f"curl -s -m 5 -w '\\n%{{http_code}}' http://127.0.0.1:{port}{path}", check=False)
        body, _, code = r.stdout.rpartition("\n")
        return int(code or 0), body

    def wait_resets(self, want, timeout=20.0):
        """Scrapes until rsthop_resets_total reaches `want` (verdicts come after a burst settles)."""
        deadline = time.time() + timeout
        while True:
            code, body = self.scrape()
            self.assertEqual(code, 200, body)
            samples = parse(body)
            if total(samples, "rsthop_resets_total") >= want or time.time() > deadline:
                return body, samples
            time.sleep(0.3)

    def test_metrics_match_the_stream_promtool_and_prometheus(self):
        # --port: the scrapes and Prometheus' own loopback traffic are not what is counted here.
        t = Trace(self.lab, "client", ["-i", self.lab.client_if, "--port", str(CLOSED_PORT),
                                       "--metrics", f"127.0.0.1:{METRICS_PORT}"])
        self.assertIn(f"metrics on http://127.0.0.1:{METRICS_PORT}/metrics", t.stderr)
        try:
            for _ in range(CONNECTS):
                self.lab.run("client", f"curl -4 -s -m 3 -o /dev/null http://{self.lab.addr('server')}:{CLOSED_PORT}/",
                             check=False)
            body, samples = self.wait_resets(CONNECTS)
            self.check_numbers(samples)
            self.check_http()
            self.promtool(body)
            self.prometheus()
        finally:
            events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        # Every reset line is counted under its own origin, stage and hop bucket.
        resets = of_type(events, "reset")
        self.assertEqual(len(resets), CONNECTS, resets)
        for r in resets:
            v = part(r, "reset")
            hop = v.get("hops")
            bucket = "none" if hop is None else str(hop) if hop <= 3 else "4-7" if hop <= 7 else "8-15" if hop <= 15 \
                else "16+"
            self.assertGreaterEqual(total(samples, "rsthop_resets_total", origin=v["origin"], stage=v["stage"],
                                          hop=bucket), 1, (v, body))

    def check_numbers(self, s):
        self.assertEqual(total(s, "rsthop_resets_total"), CONNECTS)
        # A closed port's RST answers the SYN; its origin is checked against the reset lines after stop.
        self.assertEqual(total(s, "rsthop_resets_total", stage="post_syn"), CONNECTS)
        self.assertGreaterEqual(total(s, "rsthop_kernel_packets_total"), 2 * CONNECTS)
        self.assertGreaterEqual(total(s, "rsthop_events_received_total"), 2 * CONNECTS)  # SYN and RST at least
        self.assertEqual(total(s, "rsthop_events_lost_total"), 0)
        for cause in ("ringbuf_full", "flow_table_full", "malformed_record", "sink_full"):
            self.assertIn(("rsthop_events_lost_total", frozenset({("cause", cause)})), s)
        self.assertIn(("rsthop_flows_tracked", frozenset()), s)
        hooks = {dict(l)["hook"] for (n, l) in s if n == "rsthop_attachment_info"}
        self.assertEqual(hooks, {"tc-ingress", "tc-egress"})  # --xdp auto on the lab's veth

    def check_http(self):
        self.assertEqual(self.scrape("/")[0], 404)
        self.assertEqual(self.scrape("/metrics/x")[0], 404)
        r = self.lab.run("client", f"curl -s -m 5 -o /dev/null -w '%{{http_code}}' -X POST "
                                   f"http://127.0.0.1:{METRICS_PORT}/metrics", check=False)
        self.assertEqual(r.stdout, "405")

    def promtool(self, body):
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, f"promtool: {r.stdout}{r.stderr}")

    def prometheus(self):
        tmp = tempfile.mkdtemp(prefix="rsthop-prom-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: rsthop\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{METRICS_PORT}']\n")
        log = open(os.path.join(tmp, "prometheus.log"), "w")
        prom = self.lab.popen("client", ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data",
                                         f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
                              stdout=log, stderr=subprocess.STDOUT)
        try:
            up = self.query("up", tmp)
            self.assertEqual(up[0]["metric"]["job"], "rsthop")
            self.assertEqual(up[0]["value"][1], "1")
            resets = self.query('sum(rsthop_resets_total{stage="post_syn"})', tmp)
            self.assertEqual(float(resets[0]["value"][1]), CONNECTS)
        finally:
            prom.terminate()  # by its PID: this Popen's
            try:
                prom.wait(timeout=30)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            log.close()

    def query(self, expr, tmp, timeout=90.0):
        """Polls Prometheus' /api/v1/query until `expr` has a result (it starts, then scrapes every second)."""
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            r = self.lab.run("client", shlex.join(["curl", "-s", "-m", "5", "--get", "--data-urlencode", f"query={expr}",
                                                   f"http://127.0.0.1:{PROM_PORT}/api/v1/query"]), check=False)
            last = r.stdout
            try:
                doc = json.loads(last)
            except ValueError:
                doc = {}
            if doc.get("status") == "success" and doc["data"]["result"]:
                return doc["data"]["result"]
            time.sleep(1)
        with open(os.path.join(tmp, "prometheus.log")) as f:
            raise AssertionError(f"Prometheus never answered {expr!r}: {last!r}\n{f.read()[-2000:]}")


class MetricsErrorTest(unittest.TestCase):
    """Bad --metrics: one sentence, non-zero exit, nothing attached."""

    def run_bin(self, *args):
        return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=60)

    def test_bad_address(self):
        for bad in ("9464", "localhost", "127.0.0.1:99999", "[::1]9464", "127.0.0.1:http"):
            r = self.run_bin("trace", "-i", "lo", "--duration", "1", "--metrics", bad)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertEqual(r.stderr.strip().splitlines(),
                             [f"rsthop: --metrics wants ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464, not '{bad}'"])

    def test_port_in_use(self):
        require_root(self)
        with Lab(routers=0) as lab:
            holder = lab.popen("client", ["python3", "-c", "import socket,time; s=socket.socket(); "
                                          f"s.bind(('127.0.0.1', {METRICS_PORT})); s.listen(); time.sleep(60)"])
            lab.wait_port("client", "127.0.0.1", METRICS_PORT)
            r = lab.run("client", shlex.join([BIN, "trace", "-i", lab.client_if, "--duration", "1", "--metrics",
                                              f"127.0.0.1:{METRICS_PORT}"]), check=False)
            holder.kill()
            self.assertNotEqual(r.returncode, 0)
            self.assertEqual(r.stderr.strip(),
                             f"rsthop: cannot listen on 127.0.0.1:{METRICS_PORT} for --metrics: the port is in use")
            self.assertNotIn("xdp", lab.run("client", f"ip -d link show {lab.client_if}").stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
