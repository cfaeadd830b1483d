#!/usr/bin/env bash
# Installs every Debian package rsthop needs to build, test and benchmark.
# Idempotent: when everything is present it only checks dpkg and returns.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libclang-rt-14-dev clang-format clang-tidy
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libssl-dev libpcap-dev ieee-data
  iproute2 nftables iptables iperf3 tcpdump tshark curl openssl procps util-linux
  python3 python3-jsonschema
  prometheus xdp-tools
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages (${missing[*]}) and not root; run as root or install them." >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Update the package lists only when an install fails for want of them.
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
