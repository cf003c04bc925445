#!/usr/bin/env bash
# Installs what Inception needs to build and test, from Debian's packages
# (bookworm). Idempotent: does nothing when everything is there. Run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git xz-utils ca-certificates
  dpdk libdpdk-dev libsystemd-dev libpcap-dev
  liburcu-dev libck-dev
  libgtest-dev googletest check
  clang libclang-rt-14-dev valgrind
  iproute2 iputils-ping iperf3 wrk curl wget netcat-openbsd tcpdump tshark
  python3 python3-scapy gnuplot-nox linux-perf binutils
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if ((EUID != 0)); then
  echo "install-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
