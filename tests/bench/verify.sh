#!/usr/bin/env bash
# Image verify beside the raw primitives of the same backend (not a test):
#   ours       rot_image_verify, in-process (bench_verify)
#   raw        SHA-384 over the same bytes + one P-384 verify, called
#              directly on the same backend, in-process: the bound
#   libcrypto  the same raw work on OpenSSL's libcrypto, in-process (peer
#              library)
#   openssl    `openssl dgst -sha384 -verify` on the same bytes, one process
#              per run (peer tool), with its own P-384 key and signature
# Sizes 1, 4, 16, 31 and 64 MiB show how the cost grows.
# Usage: tests/bench/verify.sh [BUILD_DIR]
#   BENCH_SIZES="1 4 16 31 64" (MiB), BENCH_RUNS (samples per figure, 11)
# One section of `make bench` (tests/bench/bench.sh runs them all).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
BIN=$BUILD/bin/bench_verify
SIZES=${BENCH_SIZES:-1 4 16 31 64}
RUNS=${BENCH_RUNS:-11}
export BENCH_RUNS=$RUNS

[ -x "$BIN" ] || bench_die "$BIN not built (run make bench)"
command -v openssl >/dev/null || bench_die "openssl not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl ecparam -genkey -name secp384r1 -noout -out "$tmp/key.pem" 2>/dev/null
openssl ec -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem" 2>/dev/null

# "median min max" in ms of RUNS openssl verify processes on FILE (one
# warm-up excluded). Fails unless every run prints "Verified OK".
openssl_verify_ms() {
  local file=$1 sig=$1.sig i t0 t1 out
  openssl dgst -sha384 -sign "$tmp/key.pem" -out "$sig" "$file"
  for ((i = 0; i <= RUNS; i++)); do
    now_us t0
    out=$(openssl dgst -sha384 -verify "$tmp/pub.pem" -signature "$sig" "$file")
    now_us t1
    [ "$out" = "Verified OK" ] || bench_die "openssl did not verify $file: $out"
    [ "$i" -eq 0 ] || echo $((t1 - t0))
  done | awk '{ print $1 / 1e3 }' | stats3
}

printf 'x' >"$tmp/tiny"
read -r floor_ms _ _ <<<"$(openssl_verify_ms "$tmp/tiny")"

backend=$(bench_backend)
echo "bench: signed image verify, ${SIZES// /, } MiB payloads, backend $backend"
echo "       (in-process figures: median of $RUNS interleaved samples after a warm-up, [min-max];"
echo "        openssl dgst: median of $RUNS processes after a warm-up)"
rows=()
for mib in $SIZES; do
  img=$tmp/image-$mib.bin
  line=$("$BIN" "$mib" "$img")
  read -r om olo ohi <<<"$(openssl_verify_ms "$img")"
  rm -f "$img" "$img.sig"
  rows+=("$line ossl_ms=$om ossl_min=$olo ossl_max=$ohi")
  case $mib in
    1 | 16 | 64)
      record "verify_${mib}m" "$(field "$line" ours_ms)" "$(field "$line" raw_ms)" \
        "$(field "$line" ours_runs)" "$(field "$line" ours_min)" "$(field "$line" ours_max)" ;;
  esac
done

printf '\n%-6s | %-27s | %-25s | %-8s | %-11s | %-23s | %s\n' \
  "size" "ours ms [min-max]" "raw (bound) ms [min-max]" "ours/raw" \
  "libcrypto ms" "openssl dgst ms (proc)" "MiB/s ours"
echo "-------+-----------------------------+---------------------------+----------+-------------+-------------------------+-----------"
for row in "${rows[@]}"; do
  awk -v mib="$(field "$row" size_mib)" -v bytes="$(field "$row" image_bytes)" \
      -v o="$(field "$row" ours_ms)" -v olo="$(field "$row" ours_min)" -v ohi="$(field "$row" ours_max)" \
      -v r="$(field "$row" raw_ms)" -v rlo="$(field "$row" raw_min)" -v rhi="$(field "$row" raw_max)" \
      -v l="$(field "$row" libcrypto_ms)" -v p="$(field "$row" ossl_ms)" 'BEGIN {
    printf "%-6s | %8.2f [%7.2f-%7.2f] | %8.2f [%6.2f-%6.2f] | %7.3fx | %11.2f | %23.2f | %9.1f\n",
      mib "M", o, olo, ohi, r, rlo, rhi, o / r, l, p, bytes / 1048576 / (o / 1000)
  }'
done
echo
echo "  one P-384 verify on $backend alone: $(field "${rows[0]}" p384_verify_ms) ms;" \
  "openssl process start + one verify of a 1-byte file: $floor_ms ms"
cat <<EOF

Columns:
  ours       rot_image_verify of the whole image, in-process: header and
             manifest parse, root key hash vs policy, the manifest's root
             signature (its verdict cached by the manifest's SHA-384 after
             the first run, as on the chip between resets), signing key
             rules, image signature over header+manifest, SHA-384 of the
             payload.
  raw        the bound: SHA-384 over the same image bytes plus one P-384
             verify, called directly on $backend, key preloaded.
  libcrypto  the same work on OpenSSL 3's libcrypto, in-process (peer
             library).
  openssl    \`openssl dgst -sha384 -verify\`, a process per run (peer tool:
             process start and reading the file from the page cache
             included).
  Payloads use image type dtb, the only load window that holds 64 MiB.
EOF
