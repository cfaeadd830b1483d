"""A phase timeline of `rsthop diagnose` on the verdict_bench lab (5-hop path, an SNI reset at
hop 2): the run under `strace --seccomp-bpf` (only the bpf, connect and clock_nanosleep calls
stop it), merged with the arrival time of every JSON line.  Prints one line per phase, seconds
from the start: each BPF program load and how long it took, the map creations over 1 ms, the
link creations (the attach), the probes' connect() calls (a burst shown once) and every output
line.  A measuring aid, not a benchmark: strace slows the syscalls it stops.

usage: diagnose_timeline.py [RSTHOP_BIN] [RUNS]"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def line_label(e):
    r = e.get("rsthop") or {}
    t = r.get("event_type")
    if t == "probe":
        p = r.get("probe") or {}
        return f"line probe {p.get('name')} {p.get('outcome')}"
    if t == "hop":
        h = r.get("hop") or {}
        return f"line hop {h.get('ladder')} ttl {h.get('ttl')} {h.get('result')} ({h.get('duration_ms')} ms)"
    if t == "verdict":
        v = r.get("verdict") or {}
        return f"line verdict {v.get('outcome')} {v.get('origin')} hop {v.get('hop')}"
    return f"line {t}"


def syscall_label(rest):
    took = re.search(r"<([\d.]+)>$", rest)
    took = f" took {float(took.group(1)):.3f} s" if took else ""
    if "BPF_PROG_LOAD" in rest:
        name = re.search(r'prog_name="([^"]*)"', rest)
        return f"bpf prog load {name.group(1) if name else '?'}{took}" if name and name.group(1) else None
    if "BPF_MAP_CREATE" in rest:
        name = re.search(r'map_name="([^"]*)"', rest)
        return f"bpf map create {name.group(1) if name else '?'}{took}"
    if "BPF_LINK_CREATE" in rest:
        return "bpf link create (attach)"
    if rest.startswith("connect(") and "AF_INET" in rest:
        port = re.search(r"sin6?_port=htons\((\d+)\)", rest)
        return f"connect port {port.group(1) if port else '?'}"
    if rest.startswith("clock_nanosleep") and took and float(took.split()[1]) > 0.05:
        return "sleep" + took
    return None


def one_run(lab, binary, trace_path):
    t0 = time.time()
    p = lab.popen("client", ["strace", "-f", "--seccomp-bpf", "-ttt", "-T", "-e",
                             "trace=bpf,connect,clock_nanosleep", "-o", trace_path, binary, "diagnose", "-4",
                             "blocked.lab:443", "--format", "json"], text=True)
    marks = [(time.time() - t0, line_label(json.loads(line))) for line in p.stdout]
    p.wait(timeout=60)
    with open(trace_path) as f:
        for raw in f:
            m = re.match(r"\d+\s+([\d.]+) (.*)", raw)
            label = m and syscall_label(m.group(2))
            if label:
                marks.append((float(m.group(1)) - t0, label))
    last = None
    for t, label in sorted(marks):
        if label.startswith("connect") and last and last[1] == label and t - last[0] < 0.02:
            continue  # a ladder's burst
        print(f"{t:7.3f} {label}")
        last = (t, label)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "rsthop")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    with Lab(routers=4, server_name="blocked.lab") as lab, tempfile.TemporaryDirectory() as tmp:
        lab.start_server()
        lab.reset_on_sni(2, "blocked.lab")
        for i in range(runs):
            one_run(lab, binary, os.path.join(tmp, f"strace.{i}"))
            print("----")
            time.sleep(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
