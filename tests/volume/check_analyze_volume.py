#!/usr/bin/env python3
"""Volume control end to end on `rsthop analyze` (no privileges): a
deterministic pcapgen capture analysed plainly, then with --events, --origin,
--min-confidence and --incidents, each run's lines checked against the plain
run's reset lines.

  check_analyze_volume.py RSTHOP PCAPGEN
"""
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from harness import event_type, part, validate  # noqa: E402  (the schema check and readers the labs use)

PCAPGEN_ARGS = ["-n", "4000", "-f", "120", "-s", "7", "--reset-percent", "40"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def analyze(rsthop, pcap, *args, rc=0):
    r = subprocess.run([rsthop, "analyze", "--format", "json", pcap] + list(args), capture_output=True, text=True,
                       timeout=120)
    if r.returncode != rc:
        sys.exit(f"rsthop analyze {' '.join(args)} exited {r.returncode}, wanted {rc}: {r.stderr.strip()}")
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()], r.stderr


def types(events):
    return Counter(event_type(e) for e in events)


def main():
    rsthop, pcapgen = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])

    with tempfile.TemporaryDirectory(prefix="rsthop_volume_") as tmp:
        pcap = os.path.join(tmp, "resets.pcap")
        subprocess.run([pcapgen] + PCAPGEN_ARGS + ["-o", pcap], check=True, capture_output=True)
        plain, _ = analyze(rsthop, pcap)
        resets = [e for e in plain if event_type(e) == "reset"]
        check(len(resets) > 50, f"the capture has only {len(resets)} resets")
        check("incident" not in types(plain), "incident lines without --incidents")

        # --events: only the listed types, the final stats line whatever the list says.
        only, _ = analyze(rsthop, pcap, "--events", "reset")
        check(set(types(only)) == {"reset", "stats"}, f"--events reset wrote {dict(types(only))}")
        check(len(only) - 1 == len(resets), "--events reset lost reset lines")
        flows, _ = analyze(rsthop, pcap, "--events", "flow,lost")
        want = {t: n for t, n in types(plain).items() if t in ("flow", "lost")}
        check(dict(types(flows)) == dict(want, stats=1), f"--events flow,lost wrote {dict(types(flows))}, want {want}")

        # --origin and --min-confidence keep exactly the matching reset lines.
        by_origin = Counter(part(r, "reset")["origin"] for r in resets)
        for origin, n in by_origin.items():
            kept, _ = analyze(rsthop, pcap, "--origin", origin, "--events", "reset")
            kept = [e for e in kept if event_type(e) == "reset"]
            check(len(kept) == n and all(part(r, "reset")["origin"] == origin for r in kept),
                  f"--origin {origin}: {len(kept)} lines, wanted {n}")
        confident = sum(1 for r in resets if part(r, "reset")["confidence"] >= 0.8)
        kept, _ = analyze(rsthop, pcap, "--min-confidence", "0.8", "--events", "reset")
        check(sum(1 for e in kept if event_type(e) == "reset") == confident, "--min-confidence 0.8")

        # --incidents: every reset counted once, in incidents of its own kind, no reset lines.
        incs, _ = analyze(rsthop, pcap, "--incidents", "5")
        validate(incs)
        # The incident lines hold to ECS too (event.* categorisation, only ECS fields outside rsthop.*).
        ecs_in = os.path.join(tmp, "incidents.ndjson")
        with open(ecs_in, "w") as f:
            f.writelines(json.dumps(e) + "\n" for e in incs)
        r = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "ecs", "check_ecs.py"),
                            "--expect-types", "incident", ecs_in], capture_output=True, text=True)
        check(r.returncode == 0, f"check_ecs on the --incidents lines: {r.stdout}{r.stderr}")
        t = types(incs)
        check(t["reset"] == 0 and t["incident"] > 0, f"--incidents wrote {dict(t)}")
        check(t["flow"] == types(plain)["flow"], "--incidents changed the flow lines")
        incidents = [e for e in incs if event_type(e) == "incident"]
        check(sum(part(i, "incident")["count"] for i in incidents) == len(resets),
              f"incidents count {sum(part(i, 'incident')['count'] for i in incidents)} resets of {len(resets)}")
        check(sum(part(i, "incident")["rsts"] for i in incidents) == sum(part(r, "reset")["count"] for r in resets),
              "incident.rsts is not the RSTs of the reset lines")
        per_origin = Counter()
        for i in incidents:
            per_origin[part(i, "incident")["origin"]] += part(i, "incident")["count"]
            check(part(i, "incident")["summary"].startswith(f"{part(i, 'incident')['count']} connection"), part(i, "incident")["summary"])
        check(per_origin == by_origin, f"incident origins {dict(per_origin)} vs resets {dict(by_origin)}")
        per_interval = Counter((i["@timestamp"], i["destination"]["ip"], i["destination"]["port"]) for i in incidents)
        check(max(per_interval.values()) <= 4, "more than 4 incident lines for one destination in one interval")

        # A full table: what does not fit is a lost line, never silently gone.
        small, _ = analyze(rsthop, pcap, "--incidents", "5", "--incident-destinations", "1")
        counted = sum(part(e, "incident")["count"] for e in small if event_type(e) == "incident")
        over = [e for e in small if event_type(e) == "lost" and part(e, "lost")["cause"] == "incident_overflow"]
        check(over and counted + sum(part(e, "lost")["count"] for e in over) == len(resets),
              f"{counted} counted + overflow {[part(e, 'lost') for e in over]} != {len(resets)}")

        # Bad words: one sentence, non-zero exit, nothing written.
        for args, want in ((["--events", "flow,bogus"], "unknown event type 'bogus'"),
                           (["--origin", "router"], "unknown origin 'router'"),
                           (["--events", "flow", "--incidents", "5"], "add incident to --events")):
            out, err = analyze(rsthop, pcap, *args, rc=1)
            check(not out and want in err and err.count("\n") == 1, f"{args}: {err!r}")
    print("ok" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
