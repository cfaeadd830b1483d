#!/usr/bin/env python3
"""Takes Zeek's btest traces and their conn.log baselines into tests/fixtures/zeek/ (run once, by hand).

usage: import.py ZEEK_GIT_DIR [--max-bytes N]

For every btest script that reads exactly one trace (-r $TRACES/...) and whose baseline
holds a conn.log with conn_state and history, over plain Ethernet/VLAN (no tunnels), the
trace is copied to traces/ and the TCP rows (uid-free: ts, id.orig_h/p, id.resp_h/p, proto,
conn_state, history, orig_bytes, resp_bytes) to expected/<trace>.tsv.  CI has no network:
the suite reads only what this wrote.
"""
import os, re, subprocess, sys

COLS = ["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "conn_state", "history",
        "orig_bytes", "resp_bytes"]
SKIP = re.compile(r"tunnel|gtp|geneve|vxlan|erspan|teredo|ayiya|gre|pppoe|mpls|vntag|pbb|wlan|radiotap|fabric|ppp/|q-in-q")


# btests whose scripts change what Zeek logs for the trace (packets dropped by
# NetControl, analysis stopped early by the GridFTP script, a capture filter).
EXCLUDE = {"scripts.base.frameworks.netcontrol.packetfilter", "scripts.base.protocols.ftp.gridftp",
           "core.pcap.dynamic-filter", "core.pcap.read-trace-with-filter"}


def git(d, *a):
    return subprocess.run(["git", "--git-dir", d, *a], capture_output=True, check=False).stdout


def main():
    d = sys.argv[1]
    max_bytes = int(sys.argv[sys.argv.index("--max-bytes") + 1]) if "--max-bytes" in sys.argv else 150000
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "zeek")
    os.makedirs(os.path.join(out, "traces"), exist_ok=True)
    os.makedirs(os.path.join(out, "expected"), exist_ok=True)
    base = set(git(d, "ls-tree", "-r", "--name-only", "HEAD", "testing/btest/Baseline").decode().split())
    sizes = {}
    for line in git(d, "ls-tree", "-r", "-l", "HEAD", "testing/btest/Traces").decode().splitlines():
        meta, path = line.split("\t", 1)
        sizes[path[len("testing/btest/Traces/"):]] = int(meta.split()[3]) if meta.split()[3].isdigit() else 0
    taken = {}
    scripts = git(d, "ls-tree", "-r", "--name-only", "HEAD", "testing/btest").decode().split()
    for s in sorted(scripts):
        if "/Baseline" in s or "/Traces/" in s or not re.search(r"\.(zeek|test)$", s):
            continue
        traces = set(re.findall(r"-r\s+\$TRACES/(\S+)", git(d, "show", "HEAD:" + s).decode(errors="replace")))
        if len(traces) != 1:
            continue
        trace = traces.pop()
        name = re.sub(r"\.(zeek|test)$", "", s[len("testing/btest/"):]).replace("/", ".")
        b = "testing/btest/Baseline/%s/conn.log" % name
        if b not in base or name in EXCLUDE or SKIP.search(trace) or trace in taken or not 0 < sizes.get(trace, 0) <= max_bytes:
            continue
        fields, rows = None, []
        for line in git(d, "show", "HEAD:" + b).decode(errors="replace").splitlines():
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
            elif fields and not line.startswith("#"):
                r = dict(zip(fields, line.split("\t")))
                if r.get("proto") == "tcp":
                    rows.append(r)
        if not fields or not rows or not all(c in fields for c in COLS):
            continue
        flat = trace.replace("/", "_")
        with open(os.path.join(out, "traces", flat), "wb") as f:
            f.write(git(d, "show", "HEAD:testing/btest/Traces/" + trace))
        with open(os.path.join(out, "expected", flat + ".tsv"), "w") as f:
            f.write("# from zeek/zeek %s, %s\n" % (b, git(d, "rev-parse", "HEAD").decode().strip()))
            f.write("\t".join(COLS) + "\n")
            for r in rows:
                f.write("\t".join(r[c] for c in COLS) + "\n")
        taken[trace] = b
    with open(os.path.join(out, "COPYING"), "wb") as f:
        f.write(git(d, "show", "HEAD:COPYING"))
    print("%d traces" % len(taken))


if __name__ == "__main__":
    main()
