#!/usr/bin/python3
"""`rsthop analyze --community-id-seed`: the seed reaches network.community_id.

Usage: check_seed.py RSTHOP CAPTURE.  Analyzes CAPTURE with seed 0, 1 and 0
again: every line's ID must be the same for both seed-0 runs, differ with
seed 1, and an out-of-range seed must be refused with a one-line error.
"""
import json
import subprocess
import sys


def ids(rsthop, capture, seed):
    out = subprocess.run([rsthop, "analyze", "-f", "json", "--community-id-seed", str(seed), capture],
                         check=True, capture_output=True, text=True).stdout
    docs = [json.loads(line) for line in out.splitlines()]
    return [d["network"]["community_id"] for d in docs if "network" in d]


def main():
    rsthop, capture = sys.argv[1], sys.argv[2]
    zero, one, again = ids(rsthop, capture, 0), ids(rsthop, capture, 1), ids(rsthop, capture, 0)
    if not zero or zero != again:
        print(f"check_seed: seed 0 is not stable ({len(zero)} IDs)", file=sys.stderr)
        return 1
    if len(one) != len(zero) or any(a == b for a, b in zip(zero, one)):
        print("check_seed: seed 1 left some community IDs as seed 0's", file=sys.stderr)
        return 1
    bad = subprocess.run([rsthop, "analyze", "--community-id-seed", "65536", capture], capture_output=True, text=True)
    if bad.returncode == 0 or "--community-id-seed" not in bad.stderr:
        print(f"check_seed: seed 65536 accepted or unexplained: {bad.stderr!r}", file=sys.stderr)
        return 1
    print(f"check_seed: {len(zero)} lines, every ID follows the seed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
