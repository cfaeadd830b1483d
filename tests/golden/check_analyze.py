#!/usr/bin/env python3
"""Golden comparison for `rsthop analyze`: the output on deterministic test
captures must stay the same document for document (parsed JSON, host.name
removed since it names the machine).  The captures are written by pcapgen
(same arguments, same bytes); the expected lines live in analyze/*.ndjson.gz.

  check_analyze.py RSTHOP PCAPGEN            compare (exit 1 on the first difference)
  check_analyze.py RSTHOP PCAPGEN --update   rewrite the golden files (a deliberate output change)
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = {
    "mixed_v4": ["-n", "8000", "-f", "200", "-s", "1", "--reset-percent", "30"],
    "v6_short_snap": ["-n", "8000", "-f", "150", "-s", "2", "--v6-percent", "50", "--reset-percent", "20",
                      "--snaplen", "96", "--concurrency", "50"],
    "full_frames": ["-n", "4000", "-f", "60", "-s", "3", "--reset-percent", "50", "--snaplen", "0"],
}


def normalise(doc):
    doc.get("host", {}).pop("name", None)
    return doc


def analyze(rsthop, pcapgen, name, args, tmp):
    subprocess.run([pcapgen] + args + ["-o", f"{name}.pcap"], cwd=tmp, check=True, capture_output=True)
    r = subprocess.run([rsthop, "analyze", "--format", "json", f"{name}.pcap"], cwd=tmp, capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        sys.exit(f"{name}: rsthop analyze exited {r.returncode}: {r.stderr.strip()}")
    return [normalise(json.loads(l)) for l in r.stdout.splitlines() if l.strip()]


def main():
    rsthop, pcapgen = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    update = "--update" in sys.argv[3:]
    failed = False
    with tempfile.TemporaryDirectory(prefix="rsthop_golden_") as tmp:
        for name, args in CASES.items():
            got = analyze(rsthop, pcapgen, name, args, tmp)
            path = os.path.join(HERE, "analyze", f"{name}.ndjson.gz")
            if update:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with gzip.GzipFile(path, "wb", mtime=0) as f:
                    f.write("".join(json.dumps(d, sort_keys=True) + "\n" for d in got).encode())
                print(f"{name}: wrote {len(got)} lines")
                continue
            with gzip.open(path, "rt") as f:
                want = [json.loads(l) for l in f if l.strip()]
            if len(got) != len(want):
                print(f"{name}: {len(got)} lines, golden has {len(want)}")
                failed = True
            for i, (g, w) in enumerate(zip(got, want)):
                if g != w:
                    print(f"{name}: line {i + 1} differs\n  got:  {json.dumps(g, sort_keys=True)}\n"
                          f"  want: {json.dumps(w, sort_keys=True)}")
                    failed = True
                    break
            if not failed:
                print(f"{name}: {len(got)} lines identical")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
