#!/usr/bin/env python3
"""rsthop's flow lines against Zeek's conn.log on Zeek's own traces (tests/fixtures/zeek/).

usage: parity.py RSTHOP FIXTURES_DIR [--min-matched F] [--min-state F] [--min-history F] [--min-bytes F]

Each trace in traces/ is run through `rsthop analyze`; each TCP row of expected/<trace>.tsv
is matched to a flow line with the same two endpoints (rows of one 4-tuple pair up in time
order).  Reports the share of Zeek's rows matched, and among the matched the share whose
conn_state agrees and whose history agrees letter for letter on the letters rsthop claims
(CLAIMED; Zeek's retransmission, window, checksum and gap letters are not tracked), and
whose source.bytes / destination.bytes equal orig_bytes / resp_bytes.  Prints every
disagreement; exits 1 when a share is below its threshold.
"""
import json, os, subprocess, sys
from collections import defaultdict

CLAIMED = set("ShHsAaDdFfRrIiQq^")


def arg(name, default):
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def zeek_rows(path):
    rows, cols = [], None
    for line in open(path):
        if line.startswith("#"):
            continue
        if cols is None:
            cols = line.rstrip("\n").split("\t")
            continue
        rows.append(dict(zip(cols, line.rstrip("\n").split("\t"))))
    return rows


def flow_lines(rsthop, trace):
    p = subprocess.run([rsthop, "analyze", trace], capture_output=True, text=True)
    out = []
    for line in p.stdout.splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        flow = (j.get("rsthop") or {}).get("flow")  # schema 2: rsthop.flow
        if isinstance(flow, dict) and "conn_state" in flow:
            out.append(j)
    return out, p.returncode, p.stderr.strip()


def norm_ip(ip):
    return ip[7:] if ip.startswith("::ffff:") else ip


def main():
    rsthop, fixtures = sys.argv[1], sys.argv[2]
    total = matched = state_ok = hist_ok = bytes_ok = 0
    problems = []
    exp_dir = os.path.join(fixtures, "expected")
    for name in sorted(os.listdir(exp_dir)):
        trace = os.path.join(fixtures, "traces", name[:-len(".tsv")])
        rows = zeek_rows(os.path.join(exp_dir, name))
        lines, rc, err = flow_lines(rsthop, trace)
        if rc != 0:
            problems.append("%s: rsthop analyze exited %d: %s" % (name, rc, err))
        ours = defaultdict(list)
        for j in lines:
            s, d = j["source"], j["destination"]
            key = frozenset([(norm_ip(s["ip"]), int(s["port"])), (norm_ip(d["ip"]), int(d["port"]))])
            ours[key].append(j)
        theirs = defaultdict(list)
        # Some baselines mask ts (XXXXXXXXXX.XXXXXX): then the log's own order stands.
        ts = lambda r: float(r["ts"]) if r["ts"].replace(".", "").isdigit() else 0.0
        for r in sorted(rows, key=ts):
            key = frozenset([(r["id.orig_h"], int(r["id.orig_p"])), (r["id.resp_h"], int(r["id.resp_p"]))])
            theirs[key].append(r)
        for key, zs in theirs.items():
            mine = ours.get(key, [])
            for i, z in enumerate(zs):
                total += 1
                tag = "%s %s:%s -> %s:%s" % (name[:-4], z["id.orig_h"], z["id.orig_p"], z["id.resp_h"], z["id.resp_p"])
                if i >= len(mine):
                    problems.append("%s: no flow line (zeek %s %s)" % (tag, z["conn_state"], z["history"]))
                    continue
                matched += 1
                f = mine[i]["rsthop"]["flow"]
                zh = "".join(c for c in z["history"] if c in CLAIMED)
                if f["conn_state"] == z["conn_state"]:
                    state_ok += 1
                if f["history"] == zh:
                    hist_ok += 1
                ob, rb = mine[i]["source"].get("bytes"), mine[i]["destination"].get("bytes")
                zb = (z.get("orig_bytes"), z.get("resp_bytes"))
                if (str(ob), str(rb)) == zb:
                    bytes_ok += 1
                else:
                    problems.append("%s: bytes %s %s / %s %s (rsthop/zeek)" % (tag, ob, rb, zb[0], zb[1]))
                if f["conn_state"] != z["conn_state"] or f["history"] != zh:
                    problems.append("%s: conn_state %s/%s history %s/%s (rsthop/zeek)" %
                                    (tag, f["conn_state"], z["conn_state"], f["history"], zh))
    for p in problems:
        print(p)
    share = lambda n, d: n / d if d else 0.0
    m, s, h = share(matched, total), share(state_ok, matched), share(hist_ok, matched)
    b = share(bytes_ok, matched)
    print("zeek rows %d, matched %d (%.1f%%), conn_state agrees %.1f%%, history agrees %.1f%%, bytes agree %.1f%%" %
          (total, matched, 100 * m, 100 * s, 100 * h, 100 * b))
    fail = m < arg("--min-matched", 0.95) or s < arg("--min-state", 1.0) or h < arg("--min-history", 0.95)
    fail = fail or b < arg("--min-bytes", 0.88)
    return 1 if fail or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
