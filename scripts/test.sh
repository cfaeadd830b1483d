#!/usr/bin/env bash
# The one test command: install dependencies, configure, build, run every test.
# Privileged tests (BPF, network namespaces) need root; with
# RSTHOP_REQUIRE_PRIVILEGED=1 (as .ci/run sets) they fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash scripts/deps.sh
else
  sudo -n bash scripts/deps.sh 2>/dev/null || bash scripts/deps.sh
fi

# House rules first: an unformatted tree fails before anything is built.
bash scripts/lint.sh format

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$build" -j "$(nproc)"
# Privileged suites create namespaces and load BPF: keep them serial (RUN_SERIAL),
# the rest in parallel.
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
