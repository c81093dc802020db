#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian machine: system packages when missing,
# npm ci, then build every project (BPF objects, the native addon, TypeScript).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the build, the tests and the benchmarks need.
PACKAGES=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool clang-format
  iproute2 ethtool iperf3 tcpdump netcat-openbsd procps iputils-ping nftables
  make g++ python3 pkg-config valgrind prometheus tmux qemu-system-x86 slapd ldap-utils
  chromium fonts-wqy-microhei poppler-utils
  rpm rpm2cpio cpio haproxy
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

npm ci --no-audit --no-fund
NX_DAEMON=false NX_NO_CLOUD=true npm run build
