#!/usr/bin/env bash
# Firmware update through the chip beside its bound (not a test):
#   ours   `rotctl update --activate` of a signed hypervisor image into
#          rotd: begin (erase), 64 KiB chunks, up to four in flight
#          (program, read back, compare, hash), finish (verify), activate
#          (trial state committed). Wall time of the rotctl process.
#   bound  one SHA-384 pass over the payload at the backend's raw speed
#          (in-process, bench_chain verify) + `cp` of the same image bytes
#          followed by `sync FILE` (fsync of the copy) on the same
#          filesystem: what storing the bytes durably and hashing them once
#          costs.
# Runs are interleaved (ours, cp+sync, ours, cp+sync, ...) after one
# warm-up of each; each is a real stage: between runs the trial is
# reverted (untimed), so the next update erases and programs the same
# inactive slot again. Sizes 1, 4, 16 and 31 MiB (a slot holds 32 MiB).
# Usage: tests/bench/update.sh [BUILD_DIR]
#   BENCH_UPDATE_RUNS (default 7), BENCH_UPDATE_SIZES (default "1 4 16 31")
# One section of `make bench` (tests/bench/bench.sh runs them all).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/$BUILD/bin
RUNS=${BENCH_UPDATE_RUNS:-7}
SIZES=${BENCH_UPDATE_SIZES:-1 4 16 31}
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh

for b in rotd rotctl bench_chain; do
  [ -x "$BIN/$b" ] || bench_die "$BIN/$b not built (run make bench)"
done

tmp=$(mktemp -d)
ROTD_PID=""
cleanup() {
  if [ -n "$ROTD_PID" ]; then
    kill "$ROTD_PID" 2>/dev/null || true
    wait "$ROTD_PID" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp"

"$BIN/rotctl" keygen --out keys >/dev/null
"$BIN/rotctl" otp provision --keys keys --otp otp.bin >/dev/null
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
backend=$(bench_backend)
fs=$(fs_type "$tmp")

# One timed update (microseconds on stdout), then the untimed revert.
# Dirty pages of one run must not be written back during the next: every
# timed run starts from a synced filesystem (the sync itself is untimed).
# rotd's CPU time so far in ns (the kernel's schedstat: run time on a CPU).
rotd_cpu_ns() { awk '{ print $1 }' "/proc/$ROTD_PID/schedstat" 2>/dev/null || echo 0; }
one_update() {
  local t0 t1 c0 c1
  sync
  c0=$(rotd_cpu_ns)
  now_us t0
  "$BIN/rotctl" update --activate image.bin >/dev/null || bench_die "update failed"
  now_us t1
  c1=$(rotd_cpu_ns)
  "$BIN/rotctl" revert --type hypervisor >/dev/null || bench_die "revert of the trial failed"
  echo $((c1 - c0)) >>rotd_cpu.txt
  echo $((t1 - t0))
}
one_cpsync() {
  local t0 t1
  rm -f copy.bin
  sync
  now_us t0
  cp image.bin copy.bin
  sync copy.bin
  now_us t1
  echo $((t1 - t0))
}
ms3() { awk '{ printf "%.3f\n", $1 / 1e3 }' | stats3; }

echo "bench: stage + verify + activate of a signed hypervisor image through rotd, backend $backend"
echo "       (median of $RUNS interleaved runs after a warm-up, [min-max]; $fs)"
printf '\n%-5s | %-26s | %-9s | %-24s | %-22s | %-8s | %s\n' "size" "ours ms [min-max]" \
  "SHA-384" "cp + sync FILE [min-max]" "bound = SHA + cp+sync" "ours/bnd" "MiB/s ours"
echo "------+----------------------------+-----------+--------------------------+------------------------+----------+-----------"
breakdown=()
for mib in $SIZES; do
  head -c $((mib * 1024 * 1024)) /dev/urandom >payload.bin
  "$BIN/rotctl" sign --keys keys --type hypervisor --svn 1 --version 1.0.0 \
    payload.bin image.bin >/dev/null
  bytes=$(stat -c %s image.bin)
  one_update >/dev/null
  one_cpsync >/dev/null
  rm -f rotd_cpu.txt
  ours=() cps=()
  for ((i = 0; i < RUNS; i++)); do
    ours+=("$(one_update)")
    cps+=("$(one_cpsync)")
  done
  cmp -s image.bin copy.bin || bench_die "cp did not copy the image"
  sha=$(field "$(BENCH_RUNS=$RUNS "$BIN/bench_chain" verify image.bin)" payload_sha384_ms)
  read -r om olo ohi <<<"$(printf '%s\n' "${ours[@]}" | ms3)"
  read -r cm clo chi <<<"$(printf '%s\n' "${cps[@]}" | ms3)"
  bound=$(awk -v a="$sha" -v b="$cm" 'BEGIN { printf "%.3f", a + b }')
  awk -v mib="$mib" -v bytes="$bytes" -v o="$om" -v olo="$olo" -v ohi="$ohi" \
      -v s="$sha" -v c="$cm" -v clo="$clo" -v chi="$chi" -v b="$bound" 'BEGIN {
    printf "%-5s | %8.1f [%6.1f-%6.1f] | %9.2f | %7.1f [%6.1f-%6.1f] | %22.1f | %7.2fx | %9.1f\n",
      mib "M", o, olo, ohi, s, c, clo, chi, b, o / b, bytes / 1048576 / (o / 1e3)
  }'
  cpu=$(awk '{ printf "%.3f\n", $1 / 1e6 }' rotd_cpu.txt | stats3 | cut -d' ' -f1)
  breakdown+=("$(printf '%-5s | rotd CPU %6.1f ms per update, of which its one SHA-384 pass (raw: %.1f ms)' \
    "${mib}M" "$cpu" "$sha")")
  [ "$mib" != 16 ] || record update_16m "$om" "$bound" "$RUNS" "$olo" "$ohi"
  rm -f copy.bin
done
echo
echo "Breakdown (medians): the chip's CPU in ours (rotd's schedstat run time); the rest"
echo "of ours is rotctl (start, reading the file, sending) and the disk at the barriers."
printf '%s\n' "${breakdown[@]}"
cat <<EOF

Columns:
  ours        one rotctl process: read the image file, update begin (erase
              the blocks it needs), 64 KiB chunks over the SOCK_SEQPACKET
              mailbox (up to four in flight), finish (verify), activate
              (trial state committed, audit records). rotd on a 128 MiB
              flash file in a temp dir.
  SHA-384     raw SHA-384 of the payload on $backend, in-process (median).
  cp + sync   coreutils cp of the same bytes to a new file in the same
              directory, then \`sync FILE\` (fsync; one more process start).
  bound       SHA-384 + cp + sync: one hash pass and one durable copy.
  ours/bnd    ours / bound (above 1 means ours is slower).
EOF
