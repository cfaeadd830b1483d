#!/usr/bin/python3
"""Real `rsthop analyze` runs, every line against the ECS subset and the JSON Schema.

  check_analyze_ecs.py RSTHOP PCAPGEN

Runs analyze on the committed Zeek traces (tests/fixtures/zeek/traces: TLS
SNI, HTTP Host, IPv6, cooked and Ethernet link types), on pcapgen captures
with a short snaplen (lost lines), with --incidents (incident lines) and
with a file output beside standard output; each line must pass
check_ecs.line_errors (ECS types, patterns, allowed values, categories) and
docs/schema/events.schema.json, and every line type analyze writes (flow,
reset, stats, lost, incident) must have been seen.  Exit 0 all conform, 1 a
line does not (named on stderr).  The lines of trace and diagnose (packet,
probe, hop, verdict, stats.sinks[] and attachments[]) are checked the same
way by tests/integration/test_ecs.py.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import check_ecs  # noqa: E402

SCHEMA = os.path.join(ROOT, "docs", "schema", "events.schema.json")
TRACES = sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "zeek", "traces", "*.pcap*")))
ANALYZE_TYPES = {"flow", "reset", "stats", "lost", "incident"}


def conformance(schema_path=SCHEMA):
    """A function line -> list of errors (ECS subset, then the JSON Schema)."""
    import jsonschema

    with open(schema_path, encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f), format_checker=jsonschema.FormatChecker())
    version, subset = check_ecs.load_subset(check_ecs.DEFAULT_SUBSET)

    def errors(doc):
        out = check_ecs.line_errors(doc, version, subset)
        for e in sorted(validator.iter_errors(doc), key=lambda x: list(x.absolute_path)):
            path = "/".join(str(p) for p in e.absolute_path) or "(document)"
            out.append(f"schema: {path}: {e.message[:200]}")
        return out

    return errors


def check_lines(lines, what, errors):
    """Returns the set of rsthop.event_type seen; exits 1 on the first bad line."""
    seen = set()
    for i, line in enumerate(lines, 1):
        doc = json.loads(line)
        bad = errors(doc)
        t = (doc.get("rsthop") or {}).get("event_type")
        if bad:
            for e in bad[:5]:
                print(f"{what}: line {i} ({t}): {e}", file=sys.stderr)
            print(f"{what}: line {i}: {line[:300]}", file=sys.stderr)
            sys.exit(1)
        seen.add(t)
    return seen


def analyze(rsthop, files, *args):
    r = subprocess.run([rsthop, "analyze", "--format", "json"] + list(files) + list(args), capture_output=True,
                       text=True, timeout=300)
    if r.returncode not in (0, 1):  # 1: a file libpcap could not read to its end (reported, counted as lost)
        sys.exit(f"rsthop analyze {' '.join(args)} exited {r.returncode}: {r.stderr.strip()[:500]}")
    return [l for l in r.stdout.splitlines() if l.strip()]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])
    rsthop, pcapgen = sys.argv[1], sys.argv[2]
    errors = conformance()
    if not TRACES:
        sys.exit("no committed traces under tests/fixtures/zeek/traces")
    seen = set()
    with tempfile.TemporaryDirectory(prefix="rsthop_ecs_") as tmp:
        for trace in TRACES:
            seen |= check_lines(analyze(rsthop, [trace]), os.path.basename(trace), errors)
        pcap = os.path.join(tmp, "gen.pcap")
        subprocess.run([pcapgen, "-n", "3000", "-f", "100", "-s", "4", "--v6-percent", "30", "--reset-percent", "40",
                        "--snaplen", "96", "-o", pcap], check=True, capture_output=True)
        seen |= check_lines(analyze(rsthop, [pcap]), "pcapgen snaplen 96", errors)
        seen |= check_lines(analyze(rsthop, [pcap], "--incidents", "1"), "pcapgen --incidents 1", errors)
        out = os.path.join(tmp, "out.ndjson")
        stdout = analyze(rsthop, [pcap], "-o", "-", "-o", out)
        with open(out, encoding="utf-8") as f:
            filed = [l for l in f.read().splitlines() if l.strip()]
        if filed != stdout:
            sys.exit(f"-o - and -o FILE differ: {len(stdout)} and {len(filed)} lines")
        seen |= check_lines(filed, "pcapgen -o FILE", errors)
    missing = ANALYZE_TYPES - seen
    if missing:
        sys.exit(f"analyze wrote no {', '.join(sorted(missing))} line on these inputs: the check covered less "
                 "than it claims")
    print(f"check_analyze_ecs: {', '.join(sorted(seen))} lines of real analyze runs conform to ECS and the schema")
    return 0


if __name__ == "__main__":
    sys.exit(main())
