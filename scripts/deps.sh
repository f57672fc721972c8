#!/usr/bin/env bash
# Install every Debian package the project needs. Idempotent: when all
# packages are already present it only checks and returns (well under a
# second). Must run as root (or through sudo) on Debian 12.
set -euo pipefail

PKGS=(
  build-essential pkg-config make
  libmbedtls-dev            # crypto backend of the host port (no .pc file)
  libssl-dev                # libcrypto: the faster host crypto backend
  libcmocka-dev             # unit tests
  clang libclang-rt-14-dev  # libFuzzer targets and sanitizers
  llvm                      # llvm-size / symbolizer for reports
  gcc-riscv64-unknown-elf   # freestanding build check of the RoT core
  openssl                   # interop peer for signatures and benchmarks
  python3                   # JSON checks and raw-frame clients in tests
  libtss2-dev libtss2-tcti-swtpm0 tpm2-tools   # TPM stack and peer tools
  swtpm swtpm-tools         # TPM simulator (the embedded default)
  libfdt-dev device-tree-compiler              # device-tree handoff
  qemu-system-misc opensbi u-boot-qemu         # host CPU, firmware, payload
  libmicrohttpd-dev libjson-c-dev libcurl4-openssl-dev curl
  libgnutls28-dev           # host agent: checks operator client certificates
  python3-sushy wrk         # host agent tests: Redfish client, load generator
  redfishtool               # host agent tests: DMTF's Redfish command-line client
  gdb                       # CI (.ci/run): the backtrace of any core a test run leaves
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${#missing[@]} package(s): ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install packages" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done" >&2
