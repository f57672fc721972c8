#!/usr/bin/env bash
# The measured boot chain beside its bound, and PCR extend rates (not a
# test):
#   boot     `bootchain boot` of the standard chain (Debian's OpenSBI
#            fw_dynamic.bin + U-Boot S-mode, signed, installed and
#            confirmed in rotd; a provisioned swtpm restarted and the chip
#            reset before every run, both untimed), from the exec of
#            bootchain to the exec of QEMU. QEMU is a stand-in first in
#            PATH (bench_stamp) that writes the moment it starts and exits:
#            process start of bootchain included, QEMU's own boot not. The
#            stand-in reads the clock at its first instruction (no C
#            library start-up before it on x86-64 and AArch64), so the
#            figure ends at the exec itself. It starts where the timing
#            shell reads its clock, right before it forks bootchain.
#   bound    the primitives the chain must run once, each timed in-process
#            on the same bytes (bench_chain chain): reading each image, one
#            hash per bank (SHA-256, SHA-384) of each payload and of the
#            handoff DTB, one P-384 verify per image, one TPM2_PCR_Extend
#            per event through raw ESAPI to the same swtpm; plus the start
#            of an empty program linked with the same libraries
#            (bench_empty), interleaved with the boots and timed like them:
#            from the timing shell's clock right before the fork to the
#            first instruction of the program's main, which stamps the
#            clock (its exit and reaping are not counted, as bootchain's
#            are not in the figure).
#            This is the figure's definition: figure, bound and ratio stay it.
#   design   beside it, a second row: the bound plus the work the design
#            requires that the bound does not count, each primitive timed
#            the same way (bench_chain chain): the chip's (rotd's) own read
#            of each image it decides on from a flash-sized file on the
#            file system that holds its flash, its own SHA-384 of each
#            payload, one audit record (a 128-byte write + fdatasync) per
#            record the boot makes durable (counted on a boot: rotd's
#            audit sequence before and after), a sealed memfd copy of each
#            payload bootchain measures (memfd_create, write, seals), and
#            the RoT firmware image the chain measures into PCR 0 (read,
#            SHA-256 + SHA-384, sealed copy), and the start of QEMU, which
#            the figure ends with (vfork + exec of the stand-in, from before
#            the vfork to its first instruction). The chip's share runs in
#            another process and partly overlaps bootchain's, so this sum
#            is what the design costs done one step after another.
#   machine  what this machine charges for a system call and a page fault
#            (bench_machine), and whether its kernel sees a cache shared
#            between CPUs: the costs every step above the primitives pays,
#            so that figures from two machines can be read side by side.
#   extends  bc_tpm_extend vs Esys_PCR_Extend (in-process, interleaved) vs
#            one tpm2_pcrextend process per extend: same swtpm, same PCR,
#            same digests.
# Usage: tests/bench/boot.sh [BUILD_DIR]
#   BENCH_BOOT_RUNS (default 7), BENCH_PCREXTEND_RUNS (default 30)
# One section of `make bench` (tests/bench/bench.sh runs them all).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/$BUILD/bin
STUB_DIR=$ROOT/$BUILD/bench/bin
SWTPM=$ROOT/scripts/swtpm.sh
RUNS=${BENCH_BOOT_RUNS:-7}
PCREXTEND_RUNS=${BENCH_PCREXTEND_RUNS:-30}
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
# Extend-rate PCR: a debug PCR, away from the chain's PCRs 0-7.
PCR=16
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh

for b in rotd rotctl bootchain bench_chain bench_machine; do
  [ -x "$BIN/$b" ] || bench_die "$BIN/$b not built (run make bench)"
done
for b in qemu-system-riscv64 bench_empty; do
  [ -x "$STUB_DIR/$b" ] || bench_die "$STUB_DIR/$b not built (run make bench)"
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
# A chip without RoT firmware serves recovery commands only (untimed).
ROTCTL=$BIN/rotctl
# shellcheck source=tests/lib/rot_firmware.sh
. "$ROOT/tests/lib/rot_firmware.sh"
install_rot_firmware keys "" "$tmp" || bench_die "RoT firmware did not install"
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
backend=$(bench_backend)
export BENCH_STAMP_FILE=$tmp/stamp

# A fresh TPM and a reset chip (untimed): every run pays the full boot.
fresh() {
  bash "$SWTPM" stop "$tmp/tpm" >/dev/null
  TCTI=$(bash "$SWTPM" start "$tmp/tpm") || bench_die "swtpm did not restart"
  "$BIN/rotctl" reset >/dev/null || bench_die "rotctl reset failed"
}
# One boot: microseconds from bootchain's exec to the stand-in QEMU's.
one_boot() {
  local t0 t1
  rm -f "$BENCH_STAMP_FILE"
  now_us t0
  PATH=$STUB_DIR:$PATH "$BIN/bootchain" boot --tcti "$TCTI" --out "out" \
    >boot.log 2>&1 || bench_die "bootchain boot failed: $(tail -3 boot.log)"
  [ -s "$BENCH_STAMP_FILE" ] || bench_die "bootchain boot did not start QEMU"
  t1=$(cat "$BENCH_STAMP_FILE")
  echo $((t1 - t0))
}
# The empty program's start: microseconds from its exec to the first
# instruction of its main (it stamps the clock there), timed like a boot.
one_empty() {
  local t0 t1
  rm -f "$BENCH_STAMP_FILE"
  now_us t0
  "$STUB_DIR/bench_empty" || bench_die "bench_empty failed"
  [ -s "$BENCH_STAMP_FILE" ] || bench_die "bench_empty wrote no stamp"
  t1=$(cat "$BENCH_STAMP_FILE")
  echo $((t1 - t0))
}

echo "bench: measured boot of the standard chain, bootchain exec to QEMU exec, backend $backend"
echo "       (median of $RUNS runs after a warm-up, interleaved with the empty program's start;"
echo "        swtpm restarted and the chip reset before each, untimed; the QEMU stand-in"
echo "        reads the clock at its first instruction, before any C library start-up)"
# The chip's next audit sequence number: records made durable so far.
audit_seq() {
  local st
  st=$("$BIN/rotctl" status --json) || bench_die "rotctl status failed"
  json_num "$st" audit_next_seq
}
fresh
# The warm-up boot also counts the audit records one boot makes durable
# (each a write + fdatasync in rotd before it answers).
seq0=$(audit_seq)
one_boot >/dev/null
seq1=$(audit_seq)
for s in "$seq0" "$seq1"; do
  case "$s" in
    '' | *[!0-9]*) bench_die "rotctl status gave no audit sequence ('$seq0', '$seq1')" ;;
  esac
done
records=$((seq1 - seq0))
one_empty >/dev/null
boots=() empties=()
for ((i = 0; i < RUNS; i++)); do
  fresh
  boots+=("$(one_boot)")
  empties+=("$(one_empty)")
done
if ! cmp -s out/opensbi.bin "$OPENSBI" || ! cmp -s out/payload.bin "$UBOOT"; then
  bench_die "the chain did not measure Debian's OpenSBI and U-Boot"
fi
ms3() { awk '{ printf "%.3f\n", $1 / 1e3 }' | stats3; }
read -r boot_ms boot_lo boot_hi <<<"$(printf '%s\n' "${boots[@]}" | ms3)"
read -r empty_ms _ _ <<<"$(printf '%s\n' "${empties[@]}" | ms3)"

# Where the time goes inside the chain (its own timers; separate runs),
# and the CPU time each process of the boot spends meanwhile: bootchain's
# threads (its own count), the chip (rotd) and the TPM (swtpm), read from
# the kernel's schedstat (ns on a CPU) before and after, outside the runs.
sched_ns() {
  local t ns _ sum=0
  for t in /proc/"$1"/task/*/schedstat; do
    read -r ns _ <"$t" || return 1
    sum=$((sum + ns))
  done
  echo "$sum"
}
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
walls=() chain_cpus=() chip_cpus=() tpm_cpus=() open_walls=() open_cpus=()
# bootchain's own phases (--json "phases"), one "name wall cpu" line each.
: >"$tmp/phases"
for ((i = 0; i < RUNS; i++)); do
  fresh
  spid=$(tr -dc '0-9' <"$tmp/tpm/swtpm.pid")
  r0=$(sched_ns "$ROTD_PID") && s0=$(sched_ns "$spid") || bench_die "no schedstat for rotd or swtpm"
  out=$("$BIN/bootchain" measure --tcti "$TCTI" --out "m" --json) ||
    bench_die "bootchain measure failed"
  r1=$(sched_ns "$ROTD_PID") && s1=$(sched_ns "$spid") || bench_die "no schedstat for rotd or swtpm"
  walls+=("$(json_num "$out" total_ms)")
  chain_cpus+=("$(json_num "$out" cpu_ms)")
  chip_cpus+=("$(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')")
  tpm_cpus+=("$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')")
  open_walls+=("$(json_num "$out" tpm_open_ms)")
  open_cpus+=("$(json_num "$out" tpm_open_cpu_ms)")
  printf '%s\n' "$out" |
    grep -o '"phase": "[a-z-]*", "wall_ms": [0-9.eE+-]*, "thread_cpu_ms": [0-9.eE+-]*' |
    sed 's/^"phase": "\([a-z-]*\)", "wall_ms": \([^,]*\), "thread_cpu_ms": \(.*\)$/\1 \2 \3/' \
      >>"$tmp/phases"
done
[ -s "$tmp/phases" ] || bench_die "bootchain measure --json gave no phases"
med() { printf '%s\n' "$@" | median; }
events=$(json_num "$out" events)
extends=$(json_num "$out" extends)

# The primitives on the same bytes: the signed images rotd holds and the
# handoff DTB the boots measured.
# Also the RoT firmware image (measured into PCR 0) and a scratch flash
# file beside rotd's (same file system) for the design's primitives.
raw=$(BENCH_RUNS=$RUNS BENCH_QEMU_STUB="$STUB_DIR/qemu-system-riscv64" \
  "$BIN/bench_chain" chain "$TCTI" opensbi.img uboot.img \
  out/handoff.dtb rot-fw.img "$tmp")
f() { field "$raw" "$1"; }

bound=$(awk -v ext="$extends" -v e="$empty_ms" \
    -v fwr="$(f fw_read_ms)" -v fw256="$(f fw_sha256_ms)" -v fw384="$(f fw_sha384_ms)" -v fwsig="$(f fw_sig_ms)" \
    -v plr="$(f pl_read_ms)" -v pl256="$(f pl_sha256_ms)" -v pl384="$(f pl_sha384_ms)" -v plsig="$(f pl_sig_ms)" \
    -v d256="$(f dtb_sha256_ms)" -v d384="$(f dtb_sha384_ms)" -v xt="$(f esys_extend_ms)" 'BEGIN {
  printf "%.3f", fwr + fw256 + fw384 + fwsig + plr + pl256 + pl384 + plsig + d256 + d384 + ext * xt + e }')
# The work the design requires beyond the bound: the chip's share (another
# process) and bootchain's. The chip's SHA-384 of a payload is the same
# primitive on the same bytes and backend as bootchain's, timed once above.
chip=$(awk -v n="$records" -v fwr="$(f fw_chip_read_ms)" -v plr="$(f pl_chip_read_ms)" \
    -v fw384="$(f fw_sha384_ms)" -v pl384="$(f pl_sha384_ms)" -v au="$(f audit_sync_ms)" 'BEGIN {
  printf "%.3f", fwr + plr + fw384 + pl384 + n * au }')
ours_extra=$(awk -v fws="$(f fw_seal_ms)" -v pls="$(f pl_seal_ms)" -v rr="$(f rot_read_ms)" \
    -v r256="$(f rot_sha256_ms)" -v r384="$(f rot_sha384_ms)" -v rs="$(f rot_seal_ms)" \
    -v qs="$(f qemu_start_ms)" 'BEGIN {
  printf "%.3f", fws + pls + rr + r256 + r384 + rs + qs }')
design=$(awk -v b="$bound" -v c="$chip" -v o="$ours_extra" 'BEGIN { printf "%.3f", b + c + o }')
design_ratio=$(awk -v b="$boot_ms" -v d="$design" 'BEGIN { printf "%.4f", b / d }')
machine=$(BENCH_RUNS=$RUNS "$BIN/bench_machine")
m() { field "$machine" "$1"; }
record boot "$boot_ms" "$bound" "$RUNS" "$boot_lo" "$boot_hi" \
  "design_bound_ms=$design design_ratio=$design_ratio design_chip_ms=$chip design_chain_ms=$ours_extra audit_records=$records audit_sync_ms=$(f audit_sync_ms) syscall_us=$(m syscall_us) page_fault_us=$(m fault_us) page_populate_us=$(m populate_us)"

awk -v ext="$extends" -v ev="$events" -v e="$empty_ms" \
    -v fwb="$(f fw_bytes)" -v fwr="$(f fw_read_ms)" -v fw256="$(f fw_sha256_ms)" -v fw384="$(f fw_sha384_ms)" \
    -v fwsig="$(f fw_sig_ms)" -v fwman="$(f fw_manifest_ms)" \
    -v plb="$(f pl_bytes)" -v plr="$(f pl_read_ms)" -v pl256="$(f pl_sha256_ms)" -v pl384="$(f pl_sha384_ms)" \
    -v plsig="$(f pl_sig_ms)" -v plman="$(f pl_manifest_ms)" \
    -v dtbb="$(f dtb_bytes)" -v dtb256="$(f dtb_sha256_ms)" -v dtb384="$(f dtb_sha384_ms)" \
    -v xt="$(f esys_extend_ms)" -v b="$boot_ms" -v blo="$boot_lo" -v bhi="$boot_hi" -v bound="$bound" \
    -v fwib="$(f fw_image_bytes)" -v plib="$(f pl_image_bytes)" -v fwcr="$(f fw_chip_read_ms)" \
    -v plcr="$(f pl_chip_read_ms)" -v arb="$(f audit_record_bytes)" -v fs="$(fs_type "$tmp")" \
    -v rec="$records" -v au="$(f audit_sync_ms)" -v fws="$(f fw_seal_ms)" -v pls="$(f pl_seal_ms)" \
    -v rotb="$(f rot_bytes)" -v rr="$(f rot_read_ms)" -v r256="$(f rot_sha256_ms)" \
    -v r384="$(f rot_sha384_ms)" -v rs="$(f rot_seal_ms)" -v chip="$chip" -v oe="$ours_extra" \
    -v qs="$(f qemu_start_ms)" \
    -v design="$design" \
    -v total="$(json_num "$out" total_ms)" -v rd="$(json_num "$out" read_ms)" \
    -v ms="$(json_num "$out" measure_ms)" -v xms="$(json_num "$out" extend_ms)" \
    -v wall="$(med "${walls[@]}")" -v ccpu="$(med "${chain_cpus[@]}")" -v rcpu="$(med "${chip_cpus[@]}")" \
    -v tcpu="$(med "${tpm_cpus[@]}")" -v ncpu="$cpus" -v runs="$RUNS" 'BEGIN {
  printf "\nThe bound: primitives the chain must run once, in-process on the same bytes (median each):\n"
  printf "  %-58s | %5s | %8s | %8s\n", "primitive", "count", "ms each", "ms"
  printf "  %s\n", "-----------------------------------------------------------+-------+----------+---------"
  row("read the OpenSBI image (" fwb " B payload)", 1, fwr)
  row("SHA-256 + SHA-384 of the OpenSBI payload", 1, fw256 + fw384)
  row("P-384 verify, OpenSBI image signature", 1, fwsig)
  row("read the U-Boot image (" plb " B payload)", 1, plr)
  row("SHA-256 + SHA-384 of the U-Boot payload", 1, pl256 + pl384)
  row("P-384 verify, U-Boot image signature", 1, plsig)
  row("SHA-256 + SHA-384 of the handoff DTB (" dtbb " B)", 1, dtb256 + dtb384)
  row("TPM2_PCR_Extend, sha256+sha384, raw ESAPI", ext, xt)
  row("start of an empty program, same libraries (exec to main)", 1, e)
  printf "  %-58s | %5s | %8s | %8.2f\n", "= bound", "", "", bound
  printf "  (not in the bound: the manifest root signature, %.2f ms: both images carry one\n", fwman
  printf "   manifest, which the chip verifies once per reset and then takes from its cache)\n"
  printf "\nWork the design requires that the bound does not count, timed the same way:\n"
  printf "  %-58s | %5s | %8s | %8s\n", "primitive", "count", "ms each", "ms"
  printf "  %s\n", "-----------------------------------------------------------+-------+----------+---------"
  row("chip: read the OpenSBI image (" fwib " B) from flash (pread)", 1, fwcr)
  row("chip: read the U-Boot image (" plib " B) from flash (pread)", 1, plcr)
  row("chip: SHA-384 of the OpenSBI payload (its own pass)", 1, fw384)
  row("chip: SHA-384 of the U-Boot payload (its own pass)", 1, pl384)
  row("chip: audit record, " arb " B write + fdatasync (" fs ")", rec, au)
  row("sealed copy of the OpenSBI payload (memfd, write, seals)", 1, fws)
  row("sealed copy of the U-Boot payload (memfd, write, seals)", 1, pls)
  row("RoT firmware image (PCR 0, " rotb " B payload): read", 1, rr)
  row("SHA-256 + SHA-384 of the RoT firmware payload", 1, r256 + r384)
  row("sealed copy of the RoT firmware payload", 1, rs)
  row("start QEMU: vfork + exec of the stand-in (process)", 1, qs)
  printf "  %-58s | %5s | %8s | %8.2f\n", "= extra (chip " sprintf("%.2f", chip) ", bootchain " sprintf("%.2f", oe) ")", "", "", chip + oe
  printf "  %-58s | %5s | %8s | %8.2f\n", "= bound + work the design requires", "", "", design
  printf "  The chip rows run in another process (rotd) and partly overlap ours: the\n"
  printf "  chip verifies the payload while bootchain starts and opens the TPM, and\n"
  printf "  decides OpenSBI while bootchain hashes the last chunks of the payload and\n"
  printf "  seals it. They are summed here one after another. The chip checks each\n"
  printf "  signature itself: those are the P-384\n"
  printf "  rows of the bound. Audit records made durable per boot: %d (the audit\n", rec
  printf "  sequence of rotd before and after one boot).\n"
  printf "\n%-42s | %-24s | %8s | %s\n", "figure", "ms [min-max]", "bound ms", "ours/bound"
  printf "%s\n", "-------------------------------------------+--------------------------+----------+-----------"
  printf "%-42s | %7.2f [%6.2f-%6.2f] | %8.2f | %8.2fx\n", "bootchain boot: exec to QEMU exec", b, blo, bhi, bound, b / bound
  printf "%-42s | %7.2f [%6.2f-%6.2f] | %8.2f | %8.2fx\n", "  vs bound + work the design requires", b, blo, bhi, design, b / design
  printf "\nInside one bootchain measure run (its own timers): total %.1f ms = read %.1f (chip\n", total, rd
  printf "  verify, READ_REGION, check, seal) + measure %.1f (%d events, of which %d extends: %.1f ms)\n", ms, ev, ext, xms
  work = ccpu + rcpu + tcpu
  prim = bound - e
  floor = e + work / ncpu
  printf "\nCPU time while measuring (median of %d bootchain measure runs, %.2f ms wall each;\n", runs, wall
  printf "  kernel time included): bootchain %.2f ms (all threads), chip (rotd) %.2f ms, TPM\n", ccpu, rcpu
  printf "  (swtpm) %.2f ms = %.2f ms of work on %d CPUs, of which the primitives of the bound are\n", tcpu, work, ncpu
  printf "  %.2f ms. Spread perfectly over the CPUs that work takes %.2f ms, so with this much\n", prim, work / ncpu
  printf "  work no boot can take less than the start plus that: %.2f ms, %.2fx the bound.\n", floor, floor / bound
  printf "  The rest of the figure is waiting: one process for the answer of another.\n"
}
function row(name, n, each) {
  printf "  %-58s | %5d | %8.3f | %8.2f\n", name, n, each, n * each
}'
echo "  runs, boot ms: $(printf '%s\n' "${boots[@]}" | awk '{ printf "%.1f\n", $1 / 1e3 }' | join_runs)"

# Where bootchain's wall time goes, phase by phase (its own clocks, the same
# runs): a phase whose wall time is well above its CPU time waits, for the
# chip, the TPM, or a CPU the other processes hold.
echo
echo "Inside bootchain measure, phase by phase (median of $RUNS runs; the phases follow one"
echo "  another on its main thread, the TPM opens beside them on a thread of its own):"
printf '  %-16s | %8s | %13s\n' phase "wall ms" "thread CPU ms"
printf '  %s\n' "-----------------+----------+--------------"
sum_wall=0
while read -r name; do
  w=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/phases" | median)
  c=$(awk -v n="$name" '$1 == n { print $3 }' "$tmp/phases" | median)
  printf '  %-16s | %8.2f | %13.2f\n' "$name" "$w" "$c"
  sum_wall=$(awk -v a="$sum_wall" -v b="$w" 'BEGIN { printf "%.3f", a + b }')
done < <(awk '!seen[$1]++ { print $1 }' "$tmp/phases")
printf '  %-16s | %8.2f | %13.2f   (its own thread, from tpm-start to tpm-wait)\n' \
  "tpm-open" "$(med "${open_walls[@]}")" "$(med "${open_cpus[@]}")"
printf '  %-16s | %8.2f |                (total %.2f)\n' "sum of medians" "$sum_wall" "$(med "${walls[@]}")"

# What every step above the primitives pays on this machine.
echo
echo "This machine (bench_machine, median of $RUNS samples): a system call costs $(m syscall_us) us; a"
echo "  page fault $(m fault_us) us per page, against $(m populate_us) us per page made present in one call;"
case $(m shared_cache) in
  yes) echo "  $(m cpus) CPUs, which the kernel sees share a cache." ;;
  no) echo "  $(m cpus) CPUs, which the kernel sees share no cache." ;;
  *) echo "  $(m cpus) CPUs; the kernel lists no cache topology." ;;
esac
echo "  (At a wakeup the kernel looks for an idle CPU only among CPUs it sees share a cache.)"

# ---- PCR extends per second -------------------------------------------------
echo
echo "bench: PCR extends per second (PCR $PCR, sha256+sha384 in one TPM2_PCR_Extend, same swtpm, same digests)"
rate=$(BENCH_RUNS=$RUNS "$BIN/bench_chain" extend "$TCTI" "$PCR")
s256=$(field "$rate" sha256)
s384=$(field "$rate" sha384)
now_us t0
for ((i = 0; i < PCREXTEND_RUNS; i++)); do
  TPM2TOOLS_TCTI=$TCTI tpm2_pcrextend "$PCR:sha256=$s256,sha384=$s384" ||
    bench_die "tpm2_pcrextend failed"
done
now_us t1
tools_ms=$(awk -v us=$((t1 - t0)) -v n="$PCREXTEND_RUNS" 'BEGIN { printf "%.4f", us / 1e3 / n }')

printf '\n%-40s | %9s | %10s | %s\n' "path" "ms/extend" "extends/s" "time vs raw ESAPI"
echo "-----------------------------------------+-----------+------------+------------------"
record extend "$(field "$rate" bc_ms)" "$(field "$rate" esys_ms)" "$(field "$rate" runs)" \
  "$(field "$rate" bc_min)" "$(field "$rate" bc_max)"
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
  ms/extend      wall time per extend. In-process paths: median of $RUNS
                 interleaved samples (each a fresh context, 64 extends after
                 an untimed first one; the side that goes first alternates).
                 tpm2_pcrextend: $PCREXTEND_RUNS processes in a row, process
                 start and TCTI set-up included (what a script pays).
  time vs raw    ms/extend / raw ESAPI's (above 1 means slower).
EOF
