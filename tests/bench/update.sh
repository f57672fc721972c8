#!/usr/bin/env bash
# Firmware update through the chip beside a plain file copy (not a test):
#   ours   `rotctl update --activate` of a signed 16 MiB hypervisor image
#          into rotd on a fresh flash: begin (erase), 64 KiB chunks
#          (program), finish (verify in place), activate (verify again,
#          trial state committed). Wall time of the rotctl process.
#   cp     `cp` of the same image bytes on the same filesystem, and cp
#          followed by `sync FILE` (fsync of the copy).
#   verify rot_image_verify of the same image in-process (bench_chain), so
#          the share of the two verifications in ours is visible.
# Each run is a real stage: between runs the trial is reverted (untimed),
# so the next update erases and programs the same inactive slot again.
# Usage: tests/bench/update.sh [BUILD_DIR]   (BENCH_UPDATE_RUNS, default 5)
# One section of `make bench` (tests/bench/bench.sh runs them all).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/$BUILD/bin
RUNS=${BENCH_UPDATE_RUNS:-5}
MIB=16
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
head -c $((MIB * 1024 * 1024)) /dev/urandom >payload.bin
"$BIN/rotctl" sign --keys keys --type hypervisor --svn 1 --version 1.0.0 \
  payload.bin image.bin >/dev/null
image_bytes=$(stat -c %s image.bin)

"$BIN/rotd" --flash flash.bin --otp otp.bin --socket rotd.sock 2>rotd.log &
ROTD_PID=$!
for _ in $(seq 200); do [ -S rotd.sock ] && break; sleep 0.05; done
[ -S rotd.sock ] || bench_die "rotd did not start: $(tail -3 rotd.log)"
export ROT_SOCKET=$tmp/rotd.sock

echo "bench: stage + verify + activate of a signed $MIB MiB hypervisor image through rotd (median of $RUNS runs each)"

# Dirty pages of one run must not be written back during the next: every
# timed run starts from a synced filesystem (the sync itself is untimed).
ours=() staged=()
for ((i = 0; i < RUNS; i++)); do
  sync
  t0=$(now_us)
  out=$("$BIN/rotctl" update --activate --json image.bin)
  t1=$(now_us)
  ours+=($((t1 - t0)))
  staged+=("$(json_num "$out" milliseconds)")
  "$BIN/rotctl" revert --type hypervisor >/dev/null ||
    bench_die "revert of the trial failed"
done

cps=() cpsyncs=()
for ((i = 0; i < RUNS; i++)); do
  rm -f copy.bin
  sync
  t0=$(now_us)
  cp image.bin copy.bin
  t1=$(now_us)
  cps+=($((t1 - t0)))
  rm -f copy.bin
  sync
  t0=$(now_us)
  cp image.bin copy.bin
  sync copy.bin
  t1=$(now_us)
  cpsyncs+=($((t1 - t0)))
done
cmp -s image.bin copy.bin || bench_die "cp did not copy the image"

verify=$("$BIN/bench_chain" verify image.bin)

ours_ms=$(printf '%s\n' "${ours[@]}" | median | awk '{ printf "%.1f", $1 / 1e3 }')
staged_ms=$(printf '%s\n' "${staged[@]}" | median)
cp_ms=$(printf '%s\n' "${cps[@]}" | median | awk '{ printf "%.1f", $1 / 1e3 }')
cpsync_ms=$(printf '%s\n' "${cpsyncs[@]}" | median | awk '{ printf "%.1f", $1 / 1e3 }')
verify_ms=$(field "$verify" verify_ms)
sha_ms=$(field "$verify" payload_sha384_ms)
fs=$(fs_type "$tmp")

awk -v bytes="$image_bytes" -v ours="$ours_ms" -v cp="$cp_ms" -v cps="$cpsync_ms" 'BEGIN {
  mib = bytes / 1048576
  printf "\n%-33s | %9s | %9s | %-9s | %s\n", "same image bytes, same filesystem", "ms", "MiB/s", "ours/this", "fsync"
  printf "%s\n", "----------------------------------+-----------+-----------+-----------+------"
  row("rotctl update --activate (ours)", ours, "yes")
  row("cp", cp, "no")
  row("cp + sync FILE", cps, "yes")
}
function row(name, ms, sync) {
  printf "%-33s | %9.1f | %9.1f | %8.2fx | %s\n", name, ms, mib / (ms / 1e3), ours / ms, sync
}'

echo
echo "Where ours goes (medians; rotd verifies the image twice: at finish and again at activate):"
awk -v ours="$ours_ms" -v staged="$staged_ms" -v v="$verify_ms" -v sha="$sha_ms" 'BEGIN {
  printf "  %-52s %7.1f ms\n", "update begin + chunks + finish (rotctl'"'"'s own timer)", staged
  printf "  %-52s %7.1f ms\n", "activate + process start + reading the image file", ours - staged
  printf "  %-52s %7.1f ms  (x2 = %.1f ms, %.0f%% of ours)\n", "rot_image_verify in-process, same image", v, 2 * v, 200 * v / ours
  printf "  %-52s %7.1f ms\n", "  of which raw mbedTLS SHA-384 of the payload", sha
  printf "  %-52s %7.1f ms\n", "rest: erase, NOR program, mailbox, process, file read", ours - 2 * v
}'
echo "  runs, ours ms:   $(printf '%s\n' "${ours[@]}" | awk '{ printf "%.1f\n", $1 / 1e3 }' | join_runs)"
echo "  runs, cp ms:     $(printf '%s\n' "${cps[@]}" | awk '{ printf "%.1f\n", $1 / 1e3 }' | join_runs)"
cat <<EOF

Columns:
  ms           wall time, median of $RUNS runs; each starts after an untimed
               sync, with the image file in the page cache.
  ours         one rotctl process: read the $image_bytes-byte image, update
               begin (erase the 256 blocks it needs), 64 KiB chunks over the
               SOCK_SEQPACKET mailbox (each programmed as NOR: read, AND,
               write), finish (rot_image_verify of the slot), activate
               (rot_image_verify again, trial state committed, audit
               records). rotd on a fresh 128 MiB flash file in a temp dir;
               between runs the trial is reverted (untimed), so every run
               erases and programs the slot again.
  cp           coreutils cp of the same bytes to a new file in the same
               directory ($fs).
  fsync        rotd makes the flash durable in order (fdatasync before and
               after every update-state commit, and around each audit
               record's commit word), so the staged image is on disk
               before the state names it; plain cp does not fsync;
               "cp + sync FILE" adds fsync of the copy (and one more
               process start).
  ours/this    ours / that time (above 1 means ours is slower).
EOF
