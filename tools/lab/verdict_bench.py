"""Time to verdict: `rsthop diagnose` on a 5-hop lab path (four routers, the
server is hop 5) with an in-path reset on the SNI at hop 2.  Prints
{"diagnose_verdict_s": median, "runs": [...]}; exits non-zero when a run
names the wrong hop (a fast wrong answer is no result).

With RSTHOP_BASELINE_BIN set (another build, e.g. the previous commit's), its
runs are interleaved with this build's on the same lab, and the output adds
"diagnose_verdict_baseline_s" and "baseline_runs": a before/after pair from
one run."""
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


def one_run(lab, binary):
    """Seconds to the verdict, or None when the verdict is wrong."""
    t0 = time.monotonic()
    r = lab.run("client", f"{binary} diagnose -4 blocked.lab:443 --format json", check=False, timeout=60)
    took = time.monotonic() - t0
    verdict = [json.loads(line) for line in r.stdout.splitlines() if '"event_type":"verdict"' in line]
    v = verdict[0]["verdict"] if verdict else {}
    if v.get("origin") != "middlebox" or v.get("hop") != 2:
        print(f"verdict_bench: wrong verdict from {binary}: {v}", file=sys.stderr)
        return None
    return took


def main():
    times, base = [], []
    with Lab(routers=4, server_name="blocked.lab") as lab:
        lab.start_server()
        lab.reset_on_sni(2, "blocked.lab")
        for _ in range(RUNS):
            for binary, into in ((RSTHOP, times), (BASELINE, base)):
                if not binary:
                    continue
                took = one_run(lab, binary)
                if took is None:
                    return 1
                into.append(took)
    out = {"diagnose_verdict_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times]}
    if base:
        out["diagnose_verdict_baseline_s"] = round(statistics.median(base), 3)
        out["baseline_runs"] = [round(t, 3) for t in base]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
