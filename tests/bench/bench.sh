#!/usr/bin/env bash
# `make bench`: side-by-side performance figures (not a test). Each figure
# is printed beside the raw primitive cost or a peer tool doing the same
# work, as a ratio. Sections, each its own script in this directory:
#   verify     signed image verify at 1/16/64 MiB vs raw mbedTLS and openssl
#   update     stage + verify + activate of 16 MiB through rotd vs cp
#   powerfail  cut points per second of the power-fail simulator
#   boot       the measured boot chain vs its primitives; PCR extends per
#              second vs raw ESAPI and tpm2_pcrextend
#   attest     evidence verifications per second vs the crypto bound and
#              tpm2_checkquote + tpm2_eventlog; quotes per second
# Every service a section starts (rotd, swtpm) lives in its own temp dir
# and is stopped when the section exits, whatever happens.
# Usage: tests/bench/bench.sh [BUILD_DIR]
#   BENCH_SECTIONS="verify update powerfail boot attest" to run a subset.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
SECTIONS=${BENCH_SECTIONS:-verify update powerfail boot attest}

start=${EPOCHREALTIME/[.,]/}
first=1
for s in $SECTIONS; do
  [ -f "tests/bench/$s.sh" ] || { echo "bench: no section $s" >&2; exit 2; }
  [ $first -eq 1 ] || printf '\n%s\n\n' "========================================================================"
  first=0
  bash "tests/bench/$s.sh" "$BUILD"
done
end=${EPOCHREALTIME/[.,]/}
awk -v us=$((end - start)) 'BEGIN { printf "\nbench: done in %.0f s\n", us / 1e6 }'
