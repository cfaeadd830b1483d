#!/usr/bin/env bash
# Installs every Debian package rsthop needs to build, test and benchmark.
# Idempotent: when everything is present it only checks dpkg and returns.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libclang-rt-14-dev clang-format clang-tidy
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libssl-dev libpcap-dev libcap-ng-dev ieee-data libsystemd-dev
  iproute2 nftables iptables iperf3 tcpdump tshark strace curl openssl procps util-linux
  python3 python3-jsonschema
  systemd lintian dpkg-dev man-db groff-base python3-yaml
  rsyslog logrotate libivykis0 libnet1 libwrap0 libjson-c5
  prometheus xdp-tools
)

# syslog-ng for the sink tests (tests/integration/test_sinks.py).  Debian's
# syslog-ng-core conflicts with rsyslog, so its .deb is unpacked into a
# private directory instead of installed (its libraries are in the list above);
# the test runs it from there with --module-path.  Idempotent.
SYSLOG_NG_DIR=/opt/rsthop-test/syslog-ng
private_syslog_ng() {
  [ -x "$SYSLOG_NG_DIR/usr/sbin/syslog-ng" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: $SYSLOG_NG_DIR is missing and not root; run as root to unpack syslog-ng-core there." >&2
    return 1
  fi
  local tmp
  tmp=$(mktemp -d)
  chmod 755 "$tmp"  # apt-get download drops to the _apt user
  (cd "$tmp" && { apt-get download syslog-ng-core || { apt-get update && apt-get download syslog-ng-core; }; })
  mkdir -p "$SYSLOG_NG_DIR"
  dpkg-deb -x "$tmp"/syslog-ng-core_*.deb "$SYSLOG_NG_DIR"
  rm -rf "$tmp"
  echo "deps.sh: syslog-ng unpacked into $SYSLOG_NG_DIR"
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  private_syslog_ng
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
private_syslog_ng
