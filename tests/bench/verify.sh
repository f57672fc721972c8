#!/usr/bin/env bash
# Image verify throughput beside two references (not a test):
#   raw      mbedTLS SHA-384 over the same bytes + one P-384 verify,
#            in-process (bench_verify)
#   openssl  `openssl dgst -sha384 -verify` on the same bytes, a whole
#            process per run, with its own P-384 key and signature
# Usage: tests/bench/verify.sh [BUILD_DIR]   (BENCH_SIZES="1 16 64" in MiB)
# One section of `make bench` (tests/bench/bench.sh runs them all).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
BIN=$BUILD/bin/bench_verify
SIZES=${BENCH_SIZES:-1 16 64}
OPENSSL_RUNS=5

[ -x "$BIN" ] || { echo "bench: $BIN not built (run make bench)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench: openssl not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl ecparam -genkey -name secp384r1 -noout -out "$tmp/key.pem" 2>/dev/null
openssl ec -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem" 2>/dev/null

# Median wall time in ms of OPENSSL_RUNS runs of an openssl verify of FILE,
# process start included. Fails unless every run prints "Verified OK".
# The clock is bash's own (EPOCHREALTIME, microseconds): forking date(1)
# around each run would add its process start to openssl's figure.
openssl_verify_ms() {
  local file=$1 sig=$1.sig i t0 t1 out times=()
  openssl dgst -sha384 -sign "$tmp/key.pem" -out "$sig" "$file"
  for ((i = 0; i < OPENSSL_RUNS; i++)); do
    t0=${EPOCHREALTIME/[.,]/}
    out=$(openssl dgst -sha384 -verify "$tmp/pub.pem" -signature "$sig" "$file")
    t1=${EPOCHREALTIME/[.,]/}
    [ "$out" = "Verified OK" ] || { echo "bench: openssl did not verify $file: $out" >&2; exit 1; }
    times+=($((t1 - t0)))
  done
  printf '%s\n' "${times[@]}" | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] / 1e3 }'
}

# key=value lookup in one bench_verify line.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# What a process start plus one verify costs openssl on a one-byte file.
printf 'x' > "$tmp/tiny"
openssl_floor=$(openssl_verify_ms "$tmp/tiny")

echo "bench: signed image verify, ${SIZES// /, } MiB payloads (each figure >= 1 s or >= 3 runs; openssl: median of $OPENSSL_RUNS processes)"
rows=()
for mib in $SIZES; do
  img=$tmp/image-$mib.bin
  line=$("$BIN" "$mib" "$img")
  ossl=$(openssl_verify_ms "$img")
  rm -f "$img" "$img.sig"
  rows+=("$line openssl_ms=$ossl")
done

printf '\n%-8s | %-28s | %-26s | %-8s | %-24s | %-12s\n' \
  "size" "rot_image_verify ms (MiB/s)" "raw SHA-384 + 1 verify ms" "ours/raw" \
  "openssl dgst -verify ms" "ours/openssl"
printf '%s\n' "---------+------------------------------+----------------------------+----------+--------------------------+-------------"
for row in "${rows[@]}"; do
  awk -v mib="$(field "$row" size_mib)" -v bytes="$(field "$row" image_bytes)" \
      -v ours="$(field "$row" ours_ms)" -v raw="$(field "$row" raw_ms)" \
      -v ossl="$(field "$row" openssl_ms)" 'BEGIN {
    cell = sprintf("%9.2f (%6.1f MiB/s)", ours, bytes / 1048576 / (ours / 1000))
    printf "%-8s | %-28s | %26.2f | %7.3fx | %24.2f | %11.3fx\n",
      mib " MiB", cell, raw, ours / raw, ossl, ours / ossl
  }'
done

echo
echo "Where ours and raw differ (rot_image_verify also checks the key manifest's root signature):"
for row in "${rows[@]}"; do
  awk -v mib="$(field "$row" size_mib)" -v ours="$(field "$row" ours_ms)" \
      -v raw="$(field "$row" raw_ms)" -v v="$(field "$row" p384_verify_ms)" 'BEGIN {
    printf "  %2s MiB: ours - raw = %.2f ms; one mbedTLS P-384 verify alone = %.2f ms\n",
      mib, ours - raw, v
  }'
done
echo "  openssl process start + one P-384 verify of a 1-byte file: $openssl_floor ms"
cat <<'EOF'

Columns:
  rot_image_verify  the whole in-process check of the image file (header and
                    manifest parse, root key hash vs policy, manifest root
                    signature, signing key rules, image signature over
                    header+manifest, SHA-384 of the payload); mean per run.
  raw               mbedTLS SHA-384 over the same image bytes plus one
                    mbedtls_ecdsa_verify, curve and key preloaded, in-process:
                    the floor for "hash once, check one signature".
  openssl           `openssl dgst -sha384 -verify pub.pem -signature sig.der`
                    on the same bytes with openssl's own P-384 key: one hash,
                    one verify, plus process start and reading the file (from
                    page cache). Wall time, median of the runs.
  ratios            time of rot_image_verify / time of the reference
                    (above 1 means ours is slower).
  All payloads use image type dtb: its load window is the only one that
  holds a 64 MiB payload; the verify work is the same for every type.
EOF
