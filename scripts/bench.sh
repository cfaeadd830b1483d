#!/usr/bin/env bash
# rsthop benchmarks (not tests): per-packet cost of the kernel programs against
# empty baselines, userspace events/s, and bulk TCP throughput between two
# namespaces with no tracer, with rsthop, and with tcpdump.  Every ratio is
# measured against a baseline taken in the same run.  Needs root.
#
#   scripts/bench.sh            # full run, ~1 minute
#   BULK_SECONDS=10 scripts/bench.sh
#   RSTHOP_BASELINE_BIN=/path/to/old/rsthop scripts/bench.sh   # time to verdict before/after, one run
#
# Prints a table and writes build/bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root (BPF and network namespaces)" >&2; exit 1; }

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null  # the build the tests use
cmake --build build -j "$(nproc)" --target rsthop bpfbench eventbench lab-tls-server pcapgen >/dev/null

out=build/bench
mkdir -p "$out"
secs=${BULK_SECONDS:-5}
runs=${BULK_RUNS:-3}

echo "== BPF_PROG_TEST_RUN (ns/packet, median of 5 runs of 1,000,000)"
./build/tools/bpfbench/bpfbench > "$out/bpf.json"
cat "$out/bpf.json"

echo "== userspace: ring buffer -> timeline -> NDJSON (/dev/null), one core"
best=0
for _ in 1 2 3; do
  v=$(./build/tools/eventbench/eventbench 20000 | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["userspace_events_per_s"]))')
  [ "$v" -gt "$best" ] && best=$v
done
echo "{\"userspace_events_per_s\": $best}" > "$out/events.json"
cat "$out/events.json"

echo "== time to verdict: rsthop diagnose on a 5-hop lab path, reset at hop 2${RSTHOP_BASELINE_BIN:+ (and $RSTHOP_BASELINE_BIN, interleaved)}"
python3 tools/lab/verdict_bench.py > "$out/verdict.json"
cat "$out/verdict.json"

echo "== rsthop analyze vs tshark on a synthetic 2M-packet capture (pcapgen), CPU 0, median of 3"
tools/pcapgen/analyze_bench.sh build "$out" >/dev/null
cat "$out/analyze.json"

echo "== bulk TCP over veth (iperf3, ${secs}s x ${runs} runs each, interleaved)"
tag="rhb$$"
cleanup() {
  [ -n "${tracer:-}" ] && kill "$tracer" 2>/dev/null || true
  # iperf3 -D would daemonize out of reach: it runs in the foreground, in the background, killed by PID.
  if [ -n "${iperf_server:-}" ]; then
    kill "$iperf_server" 2>/dev/null || true
    wait "$iperf_server" 2>/dev/null || true
  fi
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
  ip netns exec "${tag}c" iperf3 -c 198.18.200.2 -t "$secs" -J |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)'
}

stats_before=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
declare -a base=() withrh=() withtd=()
progcost=""
for _ in $(seq "$runs"); do
  base+=("$(bulk)")

  ip netns exec "${tag}c" ./build/rsthop trace -i eth0 --port 5201 --format json -o /dev/null 2>"$out/trace.err" &
  tracer=$!
  for _ in $(seq 50); do grep -q tracing "$out/trace.err" 2>/dev/null && break; sleep 0.1; done
  before=$(bpftool -j prog show | python3 -c 'import json,sys; print(json.dumps({p["name"]: [p.get("run_time_ns",0), p.get("run_cnt",0)] for p in json.load(sys.stdin) if p.get("name","").startswith("rh_")}))')
  withrh+=("$(bulk)")
  after=$(bpftool -j prog show | python3 -c 'import json,sys; print(json.dumps({p["name"]: [p.get("run_time_ns",0), p.get("run_cnt",0)] for p in json.load(sys.stdin) if p.get("name","").startswith("rh_")}))')
  progcost=$(python3 - "$before" "$after" <<'EOF'
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
out = {}
for name in a:
    if name in b and a[name][1] > b[name][1]:
        out[name] = round((a[name][0] - b[name][0]) / (a[name][1] - b[name][1]), 1)
print(json.dumps(out))
EOF
)
  kill -INT "$tracer"; wait "$tracer" || true; tracer=""

  ip netns exec "${tag}c" tcpdump -i eth0 -s 262144 -w /dev/null 'tcp port 5201' 2>/dev/null &
  tracer=$!
  sleep 1
  withtd+=("$(bulk)")
  kill -INT "$tracer"; wait "$tracer" || true; tracer=""
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
b=$(median "${base[@]}"); r=$(median "${withrh[@]}"); t=$(median "${withtd[@]}")

python3 - "$out" "$b" "$r" "$t" "$progcost" <<'EOF'
import json, sys
out, b, r, t, cost = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
res = json.load(open(f"{out}/bpf.json"))
res.update(json.load(open(f"{out}/events.json")))
verdict = json.load(open(f"{out}/verdict.json"))
for key in ("diagnose_verdict_s", "diagnose_after_attach_s",  # the baseline ones with RSTHOP_BASELINE_BIN
            "diagnose_verdict_baseline_s", "diagnose_after_attach_baseline_s"):
    if key in verdict:
        res[key] = verdict[key]
an = json.load(open(f"{out}/analyze.json"))
res.update({k: an[k] for k in ("analyze_pps", "tshark_pps", "analyze_tshark_ratio")})
res.update({"bulk_baseline_gbps": round(b, 2), "bulk_rsthop_gbps": round(r, 2), "bulk_tcpdump_gbps": round(t, 2)})
res["bulk_rsthop_ratio"] = round(r / b, 3)
res["bulk_tcpdump_ratio"] = round(t / b, 3)
res["bulk_prog_ns_per_packet"] = json.loads(cost or "{}")
json.dump(res, open(f"{out}/results.json", "w"), indent=2)
rows = [
    ("XDP filtered, added ns (target <= 5)", res["xdp_filtered_ns"] - res["xdp_empty_ns"]),
    ("XDP tracked data, added ns (<= 30)", res["xdp_data_ns"] - res["xdp_empty_ns"]),
    ("XDP control+event, added ns (<= 80)", res["xdp_control_ns"] - res["xdp_empty_ns"]),
    ("tc filtered, added ns (<= 5)", res["tc_filtered_ns"] - res["tc_empty_ns"]),
    ("tc tracked data, added ns (<= 30)", res["tc_data_ns"] - res["tc_empty_ns"]),
    ("tc control+event, added ns (<= 80)", res["tc_control_ns"] - res["tc_empty_ns"]),
    ("userspace events/s (>= 1,000,000)", res["userspace_events_per_s"]),
    ("diagnose time to verdict, s (<= 1)", res["diagnose_verdict_s"]),
    ("  the same, RSTHOP_BASELINE_BIN, s", res.get("diagnose_verdict_baseline_s", "n/a")),
    ("  from the capture attached to the verdict, s", res["diagnose_after_attach_s"]),
    ("  the same, RSTHOP_BASELINE_BIN, s", res.get("diagnose_after_attach_baseline_s", "n/a")),
    ("analyze packets/s, one core (>= 2,000,000)", res["analyze_pps"]),
    ("tshark -Y reset packets/s, one core", res["tshark_pps"] if res["tshark_pps"] is not None else "n/a"),
    ("analyze / tshark (>= 10)", res["analyze_tshark_ratio"] if res["analyze_tshark_ratio"] is not None else "n/a"),
    ("bulk baseline Gbit/s", res["bulk_baseline_gbps"]),
    ("bulk with rsthop Gbit/s", res["bulk_rsthop_gbps"]),
    ("bulk with tcpdump Gbit/s", res["bulk_tcpdump_gbps"]),
    ("rsthop / baseline (>= 0.97)", res["bulk_rsthop_ratio"]),
    ("tcpdump / baseline", res["bulk_tcpdump_ratio"]),
]
print()
for name, v in rows:
    print(f"{name:42s} {v:>12.2f}" if isinstance(v, float) else f"{name:42s} {v:>12}")
print(f"{'programs during bulk, ns/run (bpf_stats)':42s} {res['bulk_prog_ns_per_packet']}")
print(f"\nwritten to {out}/results.json")
EOF
