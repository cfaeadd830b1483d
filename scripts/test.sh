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
# Ninja schedules objects by file, not by target: the BPF object and its skeleton
# build beside the C++ that does not include it.  An existing build directory
# keeps the generator it was made with.
generator=()
[ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}"
cmake --build "$build" -j "$(nproc)"
# Twice as many tests as cores: the namespace labs mostly wait (timeouts, ladders),
# and the CPU-bound entries say what they take (lint.clang_tidy: PROCESSORS, the
# cores it runs on).  Expensive entries start first (COST).
ctest --test-dir "$build" --output-on-failure -j "${CTEST_JOBS:-$(( $(nproc) * 2 ))}" "$@"
