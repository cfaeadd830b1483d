"""Time to verdict: `rsthop diagnose` on a 5-hop lab path (four routers, the
server is hop 5) with an in-path reset on the SNI at hop 2.  Prints
{"diagnose_verdict_s": median, "runs": [...]}; exits non-zero when a run
names the wrong hop (a fast wrong answer is no result).

With RSTHOP_BASELINE_BIN set (another build, e.g. the previous commit's), its
runs are interleaved with this build's on the same lab, and the output adds
"diagnose_verdict_baseline_s" and "baseline_runs": a before/after pair from
one run.

Each run is also split where the capture is attached (the `tls` probe line,
the first probe that needs it): "diagnose_after_attach_s" (and
"diagnose_after_attach_baseline_s") is the median time from that line to the
verdict: the probes and ladders, without the BPF load, whose verifier time
swings by seconds on a busy machine; "diagnose_before_attach_s" (and
"diagnose_before_attach_baseline_s") is the rest: the start, the BPF load and
attach, with the first socket probes running meanwhile."""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RSTHOP = os.environ.get("RSTHOP_BIN", os.path.join(ROOT, "build", "rsthop"))
BASELINE = os.environ.get("RSTHOP_BASELINE_BIN", "")
RUNS = int(os.environ.get("VERDICT_RUNS", "5"))


def event_type(e):
    """rsthop.event_type (schema 2); a schema 1 baseline build's top-level event_type."""
    return (e.get("rsthop") or {}).get("event_type") or e.get("event_type")


def part(e, name):
    """rsthop.<name> (schema 2, as tests/integration/harness.py's part()); a schema 1
    baseline build writes it at the top level."""
    return (e.get("rsthop") or {}).get(name) or e.get(name) or {}


def one_run(lab, binary):
    """(seconds to the verdict, seconds from the tls probe line to it), or None when the verdict is wrong."""
    t0 = time.monotonic()
    p = lab.popen("client", [binary, "diagnose", "-4", "blocked.lab:443", "--format", "json"], text=True)
    v, tls_at = {}, None
    for line in p.stdout:  # every line is flushed as it is made
        e = json.loads(line)
        t = event_type(e)
        if t == "probe" and part(e, "probe").get("name") == "tls":
            tls_at = time.monotonic()
        elif t == "verdict":
            v = part(e, "verdict")
    p.wait(timeout=60)
    took = time.monotonic() - t0
    if v.get("origin") != "middlebox" or v.get("hop") != 2 or tls_at is None:
        print(f"verdict_bench: wrong verdict from {binary}: {v}", file=sys.stderr)
        return None
    return took, took - (tls_at - t0)


def main():
    times, base, after, after_base = [], [], [], []
    with Lab(routers=4, server_name="blocked.lab") as lab:
        lab.start_server()
        lab.reset_on_sni(2, "blocked.lab")
        for _ in range(RUNS):
            for binary, into, into_after in ((RSTHOP, times, after), (BASELINE, base, after_base)):
                if not binary:
                    continue
                r = one_run(lab, binary)
                if r is None:
                    return 1
                into.append(r[0])
                into_after.append(r[1])
    out = {"diagnose_verdict_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times],
           "diagnose_after_attach_s": round(statistics.median(after), 3),
           "diagnose_before_attach_s": round(statistics.median([t - a for t, a in zip(times, after)]), 3)}
    if base:
        out["diagnose_verdict_baseline_s"] = round(statistics.median(base), 3)
        out["baseline_runs"] = [round(t, 3) for t in base]
        out["diagnose_after_attach_baseline_s"] = round(statistics.median(after_base), 3)
        out["diagnose_before_attach_baseline_s"] = round(statistics.median([t - a for t, a in zip(base, after_base)]), 3)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
