#!/usr/bin/env bash
# `rsthop analyze` throughput against tshark on the same synthetic capture,
# in the same run (scripts/bench.sh calls this; it also runs on its own).
#
#   tools/pcapgen/analyze_bench.sh [BUILD_DIR] [OUT_DIR]
#   ANALYZE_PACKETS=2000000 ANALYZE_RUNS=3 TSHARK_RUNS=3 tools/pcapgen/analyze_bench.sh
#
# Both tools are pinned to CPU 0 (taskset -c 0), the file is read once before
# timing (page cache warm for both), and each reports the median wall time of
# its runs.  Writes OUT_DIR/analyze.json: analyze_pps, analyze_cpu_pps (per
# second of analyze's CPU time, for a shared machine), tshark_pps,
# analyze_tshark_ratio (and the raw seconds).  Without tshark the tshark
# fields are null.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
out=${2:-build/bench}
packets=${ANALYZE_PACKETS:-2000000}
runs=${ANALYZE_RUNS:-3}
truns=${TSHARK_RUNS:-3}
cpu=${BENCH_CPU:-0}
mkdir -p "$out"
file="$out/analyze-$packets.pcap"

if [ ! -s "$file" ]; then
  "$build/tools/pcapgen/pcapgen" -n "$packets" -o "$file.tmp"
  mv "$file.tmp" "$file"
fi
cat "$file" >/dev/null  # warm the page cache

wall() {  # "WALL CPU": seconds of wall and of CPU time (user + system) of "$@", output discarded; fails if the command does
  python3 -c 'import resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(time.perf_counter() - t, r.ru_utime + r.ru_stime)' "$@"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

a=(); ac=()
for _ in $(seq "$runs"); do
  read -r w c < <(wall taskset -c "$cpu" "$build/rsthop" analyze "$file" --format json -o /dev/null)
  a+=("$w"); ac+=("$c")
done
am=$(median "${a[@]}")
acm=$(median "${ac[@]}")
tm=""
if command -v tshark >/dev/null; then
  t=()
  for _ in $(seq "$truns"); do
    read -r w _ < <(wall taskset -c "$cpu" tshark -r "$file" -Y 'tcp.flags.reset==1' -T fields -e frame.number)
    t+=("$w")
  done
  tm=$(median "${t[@]}")
fi
python3 - "$out/analyze.json" "$packets" "$am" "$tm" "${a[*]}" "${t[*]:-}" "$acm" <<'PY'
import json, sys
path, n, am, tm, aruns, truns, acm = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], float(sys.argv[7])
res = {"analyze_packets": n, "analyze_s": round(am, 3), "analyze_runs_s": [round(float(x), 3) for x in aruns.split()],
       "analyze_pps": int(n / am), "analyze_cpu_pps": int(n / acm)}
if tm:
    tm = float(tm)
    res.update({"tshark_s": round(tm, 2), "tshark_runs_s": [round(float(x), 2) for x in truns.split()],
                "tshark_pps": int(n / tm), "analyze_tshark_ratio": round(tm / am, 1)})
else:
    res.update({"tshark_s": None, "tshark_pps": None, "analyze_tshark_ratio": None})
json.dump(res, open(path, "w"), indent=2)
print(json.dumps(res))
PY
