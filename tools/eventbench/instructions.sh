#!/bin/bash
# Instructions per event of eventbench's timed part under callgrind (the
# stable measure on a loaded machine): its timed_run(), the drain, advance
# (with the ticks it runs), flush and finish of the pipeline, not the
# untimed fill.  valgrind is not in scripts/deps.sh:
# only this helper uses it.
# Usage: tools/eventbench/instructions.sh [worst|trace|mix] [CONNECTIONS] [OUT.callgrind]
set -euo pipefail
mode=${1:-worst}
conns=${2:-2000}
out=${3:-$(mktemp /tmp/eventbench.XXXXXX.callgrind)}
bin=${EVENTBENCH:-build/tools/eventbench/eventbench}
line=$(valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
  --toggle-collect='*timed_run*' \
  "$bin" "$conns" --only "$mode" 2>/dev/null)
events=$(echo "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); print([v for k,v in d.items() if k.endswith("events")][0])')
ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !n {gsub(",","",$1); print $1; n=1}')
python3 -c "import sys; ir,ev=int('$ir'),int('$events'); print('{\"mode\": \"$mode\", \"instructions\": %d, \"events\": %d, \"instructions_per_event\": %.0f, \"profile\": \"$out\"}' % (ir, ev, ir/ev))"
