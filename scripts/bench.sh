#!/usr/bin/env bash
# rsthop benchmarks (not tests): per-packet cost of the kernel programs against
# empty baselines, userspace events/s, diagnose's time to verdict, analyze's
# packets/s, and bulk TCP throughput between two namespaces with no tracer,
# with rsthop and with tcpdump, in paired runs.  Every cost is a difference
# (or ratio) against a baseline taken in the same run; the keys of
# results.json are documented in docs/BENCHMARKS.md.  Needs root.
#
#   scripts/bench.sh            # full run, ~6 minutes (tshark takes most of it)
#   BULK_SECONDS=10 BULK_RUNS=9 scripts/bench.sh
#   RSTHOP_BASELINE_BIN=/path/to/old/rsthop scripts/bench.sh   # time to verdict before/after, one run
#
# Prints a table and writes build/bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root (BPF and network namespaces)" >&2; exit 1; }

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" >/dev/null  # the build the tests use
cmake --build build -j "$(nproc)" --target rsthop bpfbench eventbench lab-tls-server pcapgen >/dev/null

out=build/bench
mkdir -p "$out"
secs=${BULK_SECONDS:-5}
runs=${BULK_RUNS:-7}  # pairs
# BENCH_PARTS chooses what runs; a part left out keeps its JSON from the previous run in build/bench.
parts=" ${BENCH_PARTS:-bpf events verdict analyze bulk} "
want() { case "$parts" in *" $1 "*) return 0 ;; *) [ -s "$out/$2" ] || { echo "bench.sh: no $out/$2 from a previous run: add $1 to BENCH_PARTS" >&2; exit 1; }; echo "== $1: kept from the previous run ($out/$2)"; return 1 ;; esac; }

bpf_failed=0
if want bpf bpf.json; then
echo "== BPF_PROG_TEST_RUN (ns/packet, median of 5 runs of 1,000,000)"
# A number bpfbench refuses (an event lost to a full ring) leaves its rows out; the rest still runs
# and bench.sh exits non-zero at the end.
./build/tools/bpfbench/bpfbench > "$out/bpf.json" || { bpf_failed=1; echo '{}' > "$out/bpf.json"; }
cat "$out/bpf.json"
fi

if want events events.json; then
echo "== userspace: ring buffer -> the pipeline (timeline, engine, verdicts) -> NDJSON (/dev/null), one core, best of 3 per mode (worst, trace, mix)"
for i in 1 2 3; do ./build/tools/eventbench/eventbench 20000 > "$out/events.$i.json"; done
# Best of 3 for each rate; counts are the same in every run.
python3 -c 'import json, sys
runs = [json.load(open(f)) for f in sys.argv[1:]]
print(json.dumps({k: max(r[k] for r in runs) for k in runs[0]}))' "$out"/events.[123].json > "$out/events.json"
rm -f "$out"/events.[123].json
cat "$out/events.json"
fi

if want verdict verdict.json; then
echo "== time to verdict: rsthop diagnose on a 5-hop lab path, reset at hop 2${RSTHOP_BASELINE_BIN:+ (and $RSTHOP_BASELINE_BIN, interleaved)}"
python3 tools/lab/verdict_bench.py > "$out/verdict.json"
cat "$out/verdict.json"
fi

if want analyze analyze.json; then
echo "== rsthop analyze vs tshark on a synthetic 2M-packet capture (pcapgen), CPU 0, median of 3"
tools/pcapgen/analyze_bench.sh build "$out" >/dev/null
cat "$out/analyze.json"
fi

if want bulk bulk_sinks.json; then
echo "== bulk TCP over veth (iperf3, ${secs}s, ${runs} pairs each of baseline/trace and baseline/tcpdump, then the sinks)"
tag="rhb$$"
sock="/tmp/${tag}.sock"
cleanup() {
  [ -n "${tracer:-}" ] && kill "$tracer" 2>/dev/null || true
  # iperf3 -D would daemonize out of reach: it runs in the foreground, in the background, killed by PID.
  if [ -n "${iperf_server:-}" ]; then
    kill "$iperf_server" 2>/dev/null || true
    wait "$iperf_server" 2>/dev/null || true
  fi
  [ -n "${listener:-}" ] && kill "$listener" 2>/dev/null || true
  rm -f "$sock"
  ip netns del "${tag}c" 2>/dev/null || true
  ip netns del "${tag}s" 2>/dev/null || true
  sysctl -qw kernel.bpf_stats_enabled="${stats_before:-0}" || true
}
trap cleanup EXIT
ip netns add "${tag}c"
ip netns add "${tag}s"
ip link add "${tag}a" type veth peer name "${tag}b"
ip link set "${tag}a" netns "${tag}c" name eth0
ip link set "${tag}b" netns "${tag}s" name eth0
ip -n "${tag}c" addr add 198.18.200.1/24 dev eth0
ip -n "${tag}s" addr add 198.18.200.2/24 dev eth0
for n in c s; do ip -n "${tag}$n" link set eth0 up; ip -n "${tag}$n" link set lo up; done
ip netns exec "${tag}s" iperf3 -s -B 198.18.200.2 >/dev/null 2>&1 &  # ip netns exec execs iperf3: $! is its PID
iperf_server=$!
for _ in $(seq 50); do ip netns exec "${tag}s" ss -Hltn 'sport = :5201' | grep -q . && break; sleep 0.1; done

bulk() {  # prints Gbit/s of one run
  # -O 1: the first second (slow start, a cold tracer's first flow) is run but not counted.
  ip netns exec "${tag}c" iperf3 -c 198.18.200.2 -O 1 -t "$secs" -J |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)'
}
prog_stats() {  # {name: [run_time_ns, run_cnt]} of the BPF programs process $1 holds (other rsthops run here too)
  local ids
  ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
  bpftool -j prog show | python3 -c 'import json,sys; ids = set(map(int, sys.argv[1].split()))
print(json.dumps({p["name"]: [p.get("run_time_ns",0), p.get("run_cnt",0)] for p in json.load(sys.stdin) if p["id"] in ids}))' "$ids"
}
per_run() {  # {name: ns per run} between two prog_stats
  python3 -c 'import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({n: round((a[n][0] - b[n][0]) / (a[n][1] - b[n][1]), 1) for n in a if n in b and a[n][1] > b[n][1]}))' "$1" "$2"
}
# One bulk run with `rsthop trace -o $1` attached; sets tb_gbps and tb_cost ({program: ns per
# run}).  Not run in a subshell, so that a failure exits bench.sh and its trap kills the tracer.
traced_bulk() {
  : >"$out/trace.err"
  ip netns exec "${tag}c" ./build/rsthop trace -i eth0 --port 5201 --format json -o "$1" 2>"$out/trace.err" &
  tracer=$!
  # A hang guard, not a timing: the verifier takes seconds on a loaded machine.
  for _ in $(seq 600); do grep -q tracing "$out/trace.err" 2>/dev/null && break; sleep 0.1; done
  grep -q tracing "$out/trace.err" || { echo "bench.sh: rsthop trace -o $1 did not start: $(cat "$out/trace.err")" >&2; exit 1; }
  local before after
  before=$(prog_stats "$tracer")
  tb_gbps=$(bulk)
  after=$(prog_stats "$tracer")
  kill -INT "$tracer"; wait "$tracer" || true; tracer=""
  tb_cost=$(per_run "$before" "$after")
}
tcpdump_bulk() {  # sets td_gbps: one run with tcpdump capturing it
  ip netns exec "${tag}c" tcpdump -i eth0 -s 262144 -w /dev/null 'tcp port 5201' 2>/dev/null &
  tracer=$!
  sleep 1
  td_gbps=$(bulk)
  kill -INT "$tracer"; wait "$tracer" || true; tracer=""
}

# A unix stream listener for the sink check: it discards what it reads, and is killed by PID.
python3 -c 'import os, socket, sys, threading
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(8)
def drain(c):
    while c.recv(65536): pass
while True: threading.Thread(target=drain, args=(s.accept()[0],), daemon=True).start()' "$sock" &
listener=$!

stats_before=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
# Paired runs: each traced (or tcpdump'd) run comes right after a baseline run of its own, so the
# ratio of each pair cancels most of a shared machine's drift; the median of the pairs is reported.
: >"$out/bulk_pairs.ndjson"
# The order inside a pair alternates (baseline first, then measured first) so that a drift
# within a pair, or a cost the previous run leaves behind, does not always fall on the same side.
for i in $(seq "$runs"); do
  if [ $((i % 2)) -eq 1 ]; then
    b1=$(bulk); traced_bulk /dev/null
    b2=$(bulk); tcpdump_bulk
  else
    traced_bulk /dev/null; b1=$(bulk)
    tcpdump_bulk; b2=$(bulk)
  fi
  echo "{\"base\": $b1, \"rsthop\": $tb_gbps, \"cost\": $tb_cost, \"base2\": $b2, \"tcpdump\": $td_gbps}" >>"$out/bulk_pairs.ndjson"
done
# The sinks of issue 12 must not move the kernel's per-packet cost: the same trace into a file and a unix socket.
traced_bulk "file:$out/trace-sink.ndjson"; gfile=$tb_gbps; cfile=$tb_cost
traced_bulk "unix:$sock"; gunix=$tb_gbps; cunix=$tb_cost
rm -f "$out/trace-sink.ndjson"
echo "{\"file\": {\"gbps\": $gfile, \"cost\": $cfile}, \"unix\": {\"gbps\": $gunix, \"cost\": $cunix}}" >"$out/bulk_sinks.json"
fi

python3 - "$out" <<'EOF'
import json, statistics, sys
out = sys.argv[1]
res = json.load(open(f"{out}/bpf.json"))
# Each kernel cost as a difference against the empty program of its hook, measured in the same run.
for key in list(res):
    for hook in ("xdp", "tc"):
        base = res.get(f"{hook}_empty_ns")
        if (key.startswith(f"{hook}_") and key.endswith("_ns") and key != f"{hook}_empty_ns"
                and not key.endswith("_added_ns") and isinstance(res[key], (int, float)) and base is not None):
            res[key[:-3] + "_added_ns"] = round(res[key] - base, 1)
res.update(json.load(open(f"{out}/events.json")))
verdict = json.load(open(f"{out}/verdict.json"))
for key in ("diagnose_verdict_s", "diagnose_after_attach_s", "diagnose_before_attach_s",  # the baseline ones with RSTHOP_BASELINE_BIN
            "diagnose_verdict_baseline_s", "diagnose_after_attach_baseline_s", "diagnose_before_attach_baseline_s"):
    if key in verdict:
        res[key] = verdict[key]
an = json.load(open(f"{out}/analyze.json"))
res.update({k: an.get(k) for k in ("analyze_pps", "analyze_cpu_pps", "tshark_pps", "analyze_tshark_ratio")})
pairs = [json.loads(l) for l in open(f"{out}/bulk_pairs.ndjson")]
med = statistics.median
res["bulk_baseline_gbps"] = round(med([p["base"] for p in pairs] + [p["base2"] for p in pairs]), 2)
res["bulk_rsthop_gbps"] = round(med([p["rsthop"] for p in pairs]), 2)
res["bulk_tcpdump_gbps"] = round(med([p["tcpdump"] for p in pairs]), 2)
res["bulk_rsthop_pair_ratios"] = [round(p["rsthop"] / p["base"], 3) for p in pairs]
res["bulk_rsthop_ratio"] = round(med(res["bulk_rsthop_pair_ratios"]), 3)
res["bulk_tcpdump_ratio"] = round(med([p["tcpdump"] / p["base2"] for p in pairs]), 3)
def cost_median(costs):
    return {n: round(med([c[n] for c in costs if n in c]), 1) for n in sorted({n for c in costs for n in c})}
res["bulk_prog_ns_per_packet"] = cost_median([p["cost"] for p in pairs])
sinks = json.load(open(f"{out}/bulk_sinks.json"))
res["bulk_prog_ns_per_packet_file"] = sinks["file"]["cost"]
res["bulk_prog_ns_per_packet_unix"] = sinks["unix"]["cost"]
res["bulk_rsthop_file_gbps"] = round(sinks["file"]["gbps"], 2)
res["bulk_rsthop_unix_gbps"] = round(sinks["unix"]["gbps"], 2)
json.dump(res, open(f"{out}/results.json", "w"), indent=2)

targets = {"filtered": "<= 5", "data": "<= 30", "control": "<= 80"}
rows = []
for key in sorted(k for k in res if k.endswith("_added_ns")):
    kind = key.split("_", 1)[1][: -len("_added_ns")]  # "data_psh" is no "data" row: no target
    rows.append((f"{key} (target {targets[kind]})" if kind in targets else key, res[key]))
rows += [
    ("userspace_events_per_s (>= 1,000,000)", res["userspace_events_per_s"]),
    ("userspace_events_per_cpu_s", res["userspace_events_per_cpu_s"]),
    ("userspace_trace_events_per_s (trace's lines)", res.get("userspace_trace_events_per_s", "n/a")),
    ("userspace_trace_events_per_cpu_s", res.get("userspace_trace_events_per_cpu_s", "n/a")),
    ("userspace_mix_events_per_s (1 in 20 reset)", res.get("userspace_mix_events_per_s", "n/a")),
    ("userspace_mix_events_per_cpu_s", res.get("userspace_mix_events_per_cpu_s", "n/a")),
    ("diagnose_verdict_s (<= 1)", res["diagnose_verdict_s"]),
    ("diagnose_verdict_baseline_s", res.get("diagnose_verdict_baseline_s", "n/a")),
    ("diagnose_before_attach_s", res.get("diagnose_before_attach_s", "n/a")),
    ("diagnose_before_attach_baseline_s", res.get("diagnose_before_attach_baseline_s", "n/a")),
    ("diagnose_after_attach_s", res["diagnose_after_attach_s"]),
    ("diagnose_after_attach_baseline_s", res.get("diagnose_after_attach_baseline_s", "n/a")),
    ("analyze_pps (>= 4,000,000)", res["analyze_pps"]),
    ("analyze_cpu_pps", res["analyze_cpu_pps"] if res["analyze_cpu_pps"] is not None else "n/a"),
    ("tshark_pps", res["tshark_pps"] if res["tshark_pps"] is not None else "n/a"),
    ("analyze_tshark_ratio (>= 10)", res["analyze_tshark_ratio"] if res["analyze_tshark_ratio"] is not None else "n/a"),
    ("bulk_baseline_gbps", res["bulk_baseline_gbps"]),
    ("bulk_rsthop_gbps", res["bulk_rsthop_gbps"]),
    ("bulk_tcpdump_gbps", res["bulk_tcpdump_gbps"]),
    ("bulk_rsthop_ratio, median of pairs (>= 0.97)", res["bulk_rsthop_ratio"]),
    ("bulk_tcpdump_ratio, median of pairs", res["bulk_tcpdump_ratio"]),
]
print()
for name, v in rows:
    print(f"{name:46s} {v:>12.2f}" if isinstance(v, float) else f"{name:46s} {v:>12}")
for key in ("bulk_rsthop_pair_ratios", "bulk_prog_ns_per_packet", "bulk_prog_ns_per_packet_file", "bulk_prog_ns_per_packet_unix"):
    print(f"{key:46s} {res[key]}")
print(f"\nwritten to {out}/results.json")
EOF
[ "$bpf_failed" -eq 0 ] || { echo "bench.sh: bpfbench refused to report its numbers (see above): the kernel rows are missing" >&2; exit 1; }
