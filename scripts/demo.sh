#!/usr/bin/env bash
# The motivating story in a lab of network namespaces: an F5-like load
# balancer, the client's default gateway, resets HTTPS connections a few
# seconds after the ClientHello while port 80 works; rsthop names it.
# Installs what is needed, builds, runs, tears the lab down.  Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: needs root (network namespaces and BPF)" >&2; exit 1; }
bash scripts/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" --target rsthop lab-tls-server lab-lbproxy lab-injector >/dev/null
exec python3 tools/lab/demo.py
