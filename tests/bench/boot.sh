#!/usr/bin/env bash
# The measured boot chain beside its primitives, and PCR extend rates (not a
# test):
#   chain    `bootchain measure` of the standard chain (Debian's OpenSBI
#            fw_dynamic.bin + U-Boot S-mode, signed, installed and
#            confirmed in rotd; a provisioned swtpm restarted before every
#            run, since the chain refuses a TPM whose PCRs are not fresh):
#            its own total_ms, boot request to the host ready to start,
#            and the read / measure / extend split it reports.
#   raw      each primitive the chain is built from, timed in-process on the
#            same bytes (bench_chain chain): SHA-256 and SHA-384 of both
#            payloads and the handoff DTB, P-384 verifies, one
#            TPM2_PCR_Extend per event through raw ESAPI to the same swtpm.
#   extends  bc_tpm_extend vs Esys_PCR_Extend vs one tpm2_pcrextend process
#            per extend: same swtpm, same PCR, same digests.
# Usage: tests/bench/boot.sh [BUILD_DIR]
#   BENCH_BOOT_RUNS (default 5), BENCH_PCREXTEND_RUNS (default 50)
# One section of `make bench` (tests/bench/bench.sh runs them all).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/$BUILD/bin
SWTPM=$ROOT/scripts/swtpm.sh
RUNS=${BENCH_BOOT_RUNS:-5}
PCREXTEND_RUNS=${BENCH_PCREXTEND_RUNS:-50}
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
# Extend-rate PCR: a debug PCR, away from the chain's PCRs 0-7.
PCR=16
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh

for b in rotd rotctl bootchain bench_chain; do
  [ -x "$BIN/$b" ] || bench_die "$BIN/$b not built (run make bench)"
done
for f in "$OPENSBI" "$UBOOT"; do
  [ -f "$f" ] || bench_die "$f not installed (run scripts/deps.sh)"
done
command -v tpm2_pcrextend >/dev/null || bench_die "tpm2_pcrextend not found (tpm2-tools)"

tmp=$(mktemp -d)
ROTD_PID=""
cleanup() {
  if [ -n "$ROTD_PID" ]; then
    kill "$ROTD_PID" 2>/dev/null || true
    wait "$ROTD_PID" 2>/dev/null || true
  fi
  bash "$SWTPM" stop "$tmp/tpm" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp"

# ---- the standard chain, installed and confirmed ---------------------------
"$BIN/rotctl" keygen --out keys >/dev/null
"$BIN/rotctl" otp provision --keys keys --otp otp.bin >/dev/null
"$BIN/rotctl" sign --keys keys --type opensbi --svn 2 --version 1.1.0 "$OPENSBI" opensbi.img >/dev/null
"$BIN/rotctl" sign --keys keys --type hypervisor --svn 5 --version 2023.1.0 "$UBOOT" uboot.img >/dev/null
"$BIN/rotd" --flash flash.bin --otp otp.bin --socket rotd.sock 2>rotd.log &
ROTD_PID=$!
for _ in $(seq 200); do [ -S rotd.sock ] && break; sleep 0.05; done
[ -S rotd.sock ] || bench_die "rotd did not start: $(tail -3 rotd.log)"
export ROT_SOCKET=$tmp/rotd.sock
for img in opensbi.img uboot.img; do
  "$BIN/rotctl" update --activate "$img" >/dev/null
done
"$BIN/rotctl" boot --type opensbi >/dev/null
"$BIN/rotctl" boot --type hypervisor >/dev/null
"$BIN/rotctl" confirm --type opensbi >/dev/null
"$BIN/rotctl" confirm --type hypervisor >/dev/null
"$BIN/rotctl" reset >/dev/null

# Provisioning (EK certificates) happens once, here, untimed.
TCTI=$(bash "$SWTPM" start "$tmp/tpm") || bench_die "swtpm did not start"

echo "bench: measured boot of the standard chain, boot request to host ready (median of $RUNS runs; swtpm restarted before each)"
totals=() reads=() measures=() extends_ms=() walls=() extends=""
for ((i = 0; i < RUNS; i++)); do
  bash "$SWTPM" stop "$tmp/tpm" >/dev/null
  TCTI=$(bash "$SWTPM" start "$tmp/tpm") || bench_die "swtpm did not restart"
  # A boot of its own: the chip decides once per reset, so each run resets
  # it (untimed) and pays the full verification again.
  "$BIN/rotctl" reset >/dev/null || bench_die "rotctl reset failed"
  t0=$(now_us)
  out=$("$BIN/bootchain" measure --tcti "$TCTI" --out "out$i" --json) ||
    bench_die "bootchain measure failed"
  t1=$(now_us)
  walls+=($((t1 - t0)))
  totals+=("$(json_num "$out" total_ms)")
  reads+=("$(json_num "$out" read_ms)")
  measures+=("$(json_num "$out" measure_ms)")
  extends_ms+=("$(json_num "$out" extend_ms)")
  extends=$(json_num "$out" extends)
done
events=$(json_num "$out" events)
total=$(printf '%s\n' "${totals[@]}" | median)
read_ms=$(printf '%s\n' "${reads[@]}" | median)
measure_ms=$(printf '%s\n' "${measures[@]}" | median)
extend_ms=$(printf '%s\n' "${extends_ms[@]}" | median)
wall=$(printf '%s\n' "${walls[@]}" | median | awk '{ printf "%.1f", $1 / 1e3 }')
if ! cmp -s out0/opensbi.bin "$OPENSBI" || ! cmp -s out0/payload.bin "$UBOOT"; then
  bench_die "the chain did not measure Debian's OpenSBI and U-Boot"
fi

# The primitives on the same bytes: the signed images rotd holds and the
# handoff DTB the first run measured.
raw=$("$BIN/bench_chain" chain "$TCTI" opensbi.img uboot.img out0/handoff.dtb)
f() { field "$raw" "$1"; }

awk -v ext="$extends" -v ev="$events" \
    -v fwb="$(f fw_bytes)" -v fw256="$(f fw_sha256_ms)" -v fw384="$(f fw_sha384_ms)" \
    -v fwsig="$(f fw_sig_ms)" -v fwman="$(f fw_manifest_ms)" \
    -v plb="$(f pl_bytes)" -v pl256="$(f pl_sha256_ms)" -v pl384="$(f pl_sha384_ms)" \
    -v plsig="$(f pl_sig_ms)" -v plman="$(f pl_manifest_ms)" \
    -v dtbb="$(f dtb_bytes)" -v dtb256="$(f dtb_sha256_ms)" -v dtb384="$(f dtb_sha384_ms)" \
    -v xt="$(f esys_extend_ms)" \
    -v total="$total" -v rd="$read_ms" -v ms="$measure_ms" -v xms="$extend_ms" -v wall="$wall" 'BEGIN {
  printf "\nPrimitives, in-process on the same bytes (mean per operation):\n"
  printf "  %-58s | %5s | %8s | %8s\n", "primitive", "count", "ms each", "ms"
  printf "  %s\n", "-----------------------------------------------------------+-------+----------+---------"
  hashes = 0
  hashes += row("SHA-256 OpenSBI payload (" fwb " B)", 1, fw256)
  hashes += row("SHA-384 OpenSBI payload", 1, fw384)
  hashes += row("SHA-256 U-Boot payload (" plb " B)", 1, pl256)
  hashes += row("SHA-384 U-Boot payload", 1, pl384)
  hashes += row("SHA-256 handoff DTB (" dtbb " B)", 1, dtb256)
  hashes += row("SHA-384 handoff DTB", 1, dtb384)
  sigs = row("P-384 verify, image signature (OpenSBI)", 1, fwsig)
  sigs += row("P-384 verify, image signature (U-Boot)", 1, plsig)
  extends = row("TPM2_PCR_Extend, sha256+sha384, raw ESAPI", ext, xt)
  floor = hashes + sigs + extends
  printf "  %-58s | %5s | %8s | %8.2f\n", "= sum: hashes + 1 verify per image + 1 extend per event", "", "", floor
  mans = row("P-384 verify, manifest root signature (OpenSBI)", 1, fwman)
  mans += row("P-384 verify, manifest root signature (U-Boot)", 1, plman)
  sum = floor + mans
  printf "  %-58s | %5s | %8s | %8.2f\n", "= sum with the manifest verifies the chip also does", "", "", sum
  again = row("SHA-384 of each payload twice more (see below)", 2, fw384 + pl384)
  all = sum + again
  printf "  %-58s | %5s | %8s | %8.2f\n", "= every primitive the chain runs", "", "", all

  printf "\n%-44s | %8s | %-39s | %8s | %8s\n", "bootchain measure (median)", "ms", "its primitives", "ms", "ours/raw"
  printf "%s\n", "---------------------------------------------+----------+-----------------------------------------+----------+---------"
  rdp = sigs + mans + 2 * (fw384 + pl384)
  cmp_row("read: chip verify, read, check, seal", rd, "per image: 2 verifies + 2x SHA-384", rdp)
  msp = hashes + extends
  cmp_row("measure: " ev " events, log, DTB, extends", ms, "SHA-256 + SHA-384 x3, " ext " extends", msp)
  cmp_row("  of which TPM2_PCR_Extend", xms, ext " x raw Esys_PCR_Extend", extends)
  cmp_row("total (boot request -> QEMU could start)", total, "hashes + image verifies + extends", floor)
  cmp_row("total", total, "+ manifest verifies (chip)", sum)
  cmp_row("total", total, "every primitive the chain runs", all)
  printf "  process wall time of bootchain measure (start, TPM/rotd connect, --out files): %.1f ms\n", wall
}
function row(name, n, each) {
  printf "  %-58s | %5d | %8.3f | %8.2f\n", name, n, each, n * each
  return n * each
}
function cmp_row(name, ours, what, prim) {
  printf "%-44s | %8.2f | %-39s | %8.2f | %7.2fx\n", name, ours, what, prim, ours / prim
}'
echo "  runs, total_ms: $(printf '%s\n' "${totals[@]}" | join_runs)"
cat <<EOF

Columns:
  bootchain ms  from bootchain measure --json (median of $RUNS runs): total_ms
                is bc_measure from its first step to the sealed event log,
                i.e. boot request to the moment QEMU would be started (the
                QEMU process itself is not included). read_ms: rotd BOOT
                decision per image (the chip runs rot_image_verify: manifest
                root signature, image signature, SHA-384 of the payload),
                READ_REGION of both images, bootchain's own SHA-384 check of
                what it read against what the chip verified, sealing, gate
                lock. measure_ms: the $events-event stage loop (SHA-256 and
                SHA-384 of every measured item, event log, handoff DTB built
                with libfdt, $extends TPM2_PCR_Extend each carrying both
                banks).
  primitives    raw mbedTLS 2.28 hashes and mbedtls_ecdsa_verify (curve and
                key preloaded), and Esys_PCR_Extend with one long-lived
                ESAPI context to the same swtpm, each timed alone in-process.
                "SHA-384 twice more": the chain hashes each payload with
                SHA-384 three times by design (the chip's verify, bootchain's
                check of the bytes read back, the measurement).
  ours/raw      bootchain time / sum of its primitives (above 1 means the
                chain spends that much more than the bare primitives).
EOF

# ---- PCR extends per second -------------------------------------------------
echo
echo "bench: PCR extends per second (PCR $PCR, sha256+sha384 in one TPM2_PCR_Extend, same swtpm, same digests)"
rate=$("$BIN/bench_chain" extend "$TCTI" "$PCR")
s256=$(field "$rate" sha256)
s384=$(field "$rate" sha384)
t0=$(now_us)
for ((i = 0; i < PCREXTEND_RUNS; i++)); do
  TPM2TOOLS_TCTI=$TCTI tpm2_pcrextend "$PCR:sha256=$s256,sha384=$s384" ||
    bench_die "tpm2_pcrextend failed"
done
t1=$(now_us)
tools_ms=$(awk -v us=$((t1 - t0)) -v n="$PCREXTEND_RUNS" 'BEGIN { printf "%.4f", us / 1e3 / n }')

printf '\n%-40s | %9s | %10s | %s\n' "path" "ms/extend" "extends/s" "time vs raw ESAPI"
echo "-----------------------------------------+-----------+------------+------------------"
awk -v bc="$(field "$rate" bc_ms)" -v raw="$(field "$rate" esys_ms)" -v tools="$tools_ms" 'BEGIN {
  row("bootchain bc_tpm_extend (ours)", bc)
  row("raw Esys_PCR_Extend", raw)
  row("tpm2_pcrextend, one process per extend", tools)
}
function row(name, ms) {
  printf "%-40s | %9.4f | %10.0f | %16.2fx\n", name, ms, 1000 / ms, ms / raw
}'
cat <<EOF

Columns:
  ms/extend      mean wall time per extend. In-process paths: at least 1 s
                 of extends each, measured twice in alternating order
                 (bc, raw, raw, bc) on one long-lived context per run.
                 tpm2_pcrextend: $PCREXTEND_RUNS processes in a row, process
                 start and TCTI set-up included (what a script pays).
  time vs raw    ms/extend / raw ESAPI's (above 1 means slower).
EOF
