#!/usr/bin/env bash
# The handoff reaches the host: boots Debian's OpenSBI (fw_dynamic) and
# U-Boot S-mode in QEMU from sealed memfds, with the handoff DTB built
# from the dumped virt tree and a small event log at its reserved address,
# then reads the tree and the log back at U-Boot's prompt. Also: a hung
# boot times out, a hostile base tree never starts QEMU, and QEMU never
# outlives its launcher. Waits are bounded reads, never sleeps.
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/qemu_boot_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
PROBE=$PWD/$BUILD/bin/bc_boot_probe
BASE=$PWD/$BUILD/dtb/virt.dtb
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
LOG_ADDR=87f00000
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir
MARK=bcprobe-$$-$RANDOM
bg_pid=
qpids=()
# Runs on exit (tests/lib/tap.sh), before $T is removed.
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  [ -n "$bg_pid" ] && kill -9 "$bg_pid" 2>/dev/null
  # Backstop only: every path below already stops its QEMU. Each pid is
  # one this run started, checked against its unique -name first.
  local p
  for p in "${qpids[@]}"; do
    grep -qF -- "$MARK" "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p"
  done
}

# check NAME FILE PATTERN...: every fixed-string pattern occurs in FILE.
check() {
  local name=$1 file=$2 p
  shift 2
  for p in "$@"; do
    if ! grep -qF -- "$p" "$file"; then
      not_ok "$name" "missing: $p" "$(tail -c 600 "$file" | tr -d '\r')"
      return
    fi
  done
  ok "$name"
}
no_qemu_left() {
  if pgrep -f -- "-name $MARK" >/dev/null; then
    not_ok "$1" "a QEMU named $MARK is still running"
  else
    ok "$1"
  fi
}

for f in "$PROBE" "$BASE" "$OPENSBI" "$UBOOT"; do
  if [ ! -e "$f" ]; then
    not_ok "inputs present" "missing $f (run make)"
    exit 1
  fi
done
command -v qemu-system-riscv64 >/dev/null || { not_ok "qemu present"; exit 1; }

# probe ARGS... >OUT: runs the probe; remembers the QEMU pid it reports.
probe() {
  "$PROBE" --base-dtb "$BASE" --bios "$OPENSBI" --kernel "$UBOOT" \
    --extra -name --extra "$MARK" "$@"
}
remember_qemu() {
  local p
  p=$(sed -n 's/^qemu pid //p' "$1" | head -1)
  [ -n "$p" ] && qpids+=("$p")
}

start=$(date +%s%N)

# ---- the full dialogue --------------------------------------------------
probe --transcript "$T/console.txt" --save-dtb "$T/handoff.dtb" --print-argv \
  'expect:OpenSBI v' \
  'expect:Hit any key to stop autoboot' 'send:\n' 'expect:=> ' \
  'send:fdt addr $fdtcontroladdr; fdt print /reserved-memory\n' \
  'expect:tpm-event-log@'"$LOG_ADDR" 'expect:=> ' \
  'send:fdt print /chosen\n' 'expect:rot,boot-slot' 'expect:=> ' \
  'send:fdt print /platform-bus@4000000/tpm@0\n' 'expect:linux,sml-base' 'expect:=> ' \
  "send:md.b $(printf '%x' $((0x$LOG_ADDR + 32))) 10\\n" 'expect:Spec ID Event03' 'expect:=> ' \
  >"$T/out" 2>"$T/err"
rc=$?
remember_qemu "$T/out"
# QEMU's own stderr is the probe's: only its note on SIGTERM may be there.
if [ $rc -eq 0 ] && ! grep -qv 'terminating on signal' "$T/err"; then
  ok "boot dialogue: every expect step passed"
else
  not_ok "boot dialogue: every expect step passed" "rc=$rc $(cat "$T/err")" \
    "$(tail -c 800 "$T/console.txt" 2>/dev/null | tr -d '\r')"
fi
no_qemu_left "QEMU stopped and reaped after the dialogue"

check "QEMU loads every image from an inherited sealed fd" "$T/out" \
  "-bios /dev/fd/" "-kernel /dev/fd/" "-dtb /dev/fd/" \
  "-device loader,file=/dev/fd/" ",addr=0x$LOG_ADDR,force-raw=on" "-no-reboot" "-monitor none"
check "OpenSBI banner on the serial console" "$T/console.txt" \
  "OpenSBI v1" "Platform Name             : riscv-virtio,qemu" "Domain0 Next Address      : 0x0000000080200000"
check "U-Boot (the payload) reaches its prompt" "$T/console.txt" "U-Boot 20" "=> "
check "fdt print /reserved-memory shows the event log node" "$T/console.txt" \
  "tpm-event-log@$LOG_ADDR {" "no-map;" "reg = <0x00000000 0x$LOG_ADDR 0x00000000 0x00001000>;" \
  "mmode_resv0@80000000"
check "fdt print /chosen shows the boot slot and image versions" "$T/console.txt" \
  'rot,boot-slot = "hypervisor-a";' 'rot,image-versions = "opensbi 1.1", "u-boot 2023.01";'
check "fdt print shows the TPM node with the log location" "$T/console.txt" \
  'compatible = "tcg,tpm-tis-mmio";' "linux,sml-base = <0x00000000 0x$LOG_ADDR>;" \
  'linux,sml-size = <0x00000045>;' 'status = "disabled";'
check "md.b at log+32 shows the Spec ID signature" "$T/console.txt" \
  "87f00020: 53 70 65 63 20 49 44 20 45 76 65 6e 74 30 33 00  Spec ID Event03."

# The booted tree, read by the reference tools.
slot=$(fdtget -t s "$T/handoff.dtb" /chosen rot,boot-slot 2>&1)
base=$(fdtget -t x "$T/handoff.dtb" /platform-bus@4000000/tpm@0 linux,sml-base 2>&1)
seed=$(fdtget "$T/handoff.dtb" /chosen rng-seed 2>&1)
if [ "$slot" = hypervisor-a ] && [ "$base" = "0 $LOG_ADDR" ] &&
  printf '%s' "$seed" | grep -q 'FDT_ERR_NOTFOUND'; then
  ok "fdtget reads the handoff DTB (no build-time rng-seed)"
else
  not_ok "fdtget reads the handoff DTB (no build-time rng-seed)" "slot=$slot base=$base seed=$seed"
fi

# ---- a boot that never shows what we wait for -----------------------------
probe --timeout-ms 1500 'expect:OpenSBI v' 'expect:no such text will appear' \
  >"$T/out" 2>"$T/err"
rc=$?
remember_qemu "$T/out"
if [ $rc -eq 1 ] && grep -q 'step 2 failed: .*ROT_ERROR_HOST_TIMEOUT' "$T/err" &&
  grep -q '^step 1 ok' "$T/out"; then
  ok "expect times out with ROT_ERROR_HOST_TIMEOUT"
else
  not_ok "expect times out with ROT_ERROR_HOST_TIMEOUT" "rc=$rc $(cat "$T/err")"
fi
no_qemu_left "QEMU stopped and reaped after a timeout"

# ---- a hostile base tree ---------------------------------------------------
head -c 200 "$BASE" >"$T/short.dtb"
"$PROBE" --base-dtb "$T/short.dtb" --bios "$OPENSBI" --kernel "$UBOOT" \
  'expect:OpenSBI' >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'ROT_ERROR_HANDOFF_BAD_DTB' "$T/err" &&
  ! grep -q 'qemu pid' "$T/out"; then
  ok "truncated base DTB: ROT_ERROR_HANDOFF_BAD_DTB, QEMU never started"
else
  not_ok "truncated base DTB: ROT_ERROR_HANDOFF_BAD_DTB, QEMU never started" "rc=$rc $(cat "$T/err")"
fi

# ---- the launcher is killed outright ---------------------------------------
mkfifo "$T/fifo"
# exec: $! must be the probe itself, not a subshell around it.
(exec "$PROBE" --base-dtb "$BASE" --bios "$OPENSBI" --kernel "$UBOOT" \
  --extra -name --extra "$MARK" --timeout-ms 20000 \
  'expect:OpenSBI v' 'expect:no such text will appear' >"$T/fifo" 2>/dev/null) &
bg_pid=$!
qpid=
exec 3<"$T/fifo"
while IFS= read -r -t 10 line <&3; do
  case $line in "qemu pid "*) qpid=${line#qemu pid }; qpids+=("$qpid"); break ;; esac
done
# Wait for the banner so QEMU is surely running the guest when we strike.
while [ -n "$qpid" ] && IFS= read -r -t 10 line <&3; do
  case $line in "step 1 ok"*) break ;; esac
done
{ kill -9 "$bg_pid" && wait "$bg_pid"; } 2>/dev/null
bg_pid=
exec 3<&-
# tail --pid returns when the process is gone (checking every 50 ms, as it
# is not our child to wait for); timeout bounds the wait.
if [ -n "$qpid" ] && timeout 5 tail --pid="$qpid" -s 0.05 -f /dev/null; then
  ok "QEMU dies with a launcher killed by SIGKILL"
else
  not_ok "QEMU dies with a launcher killed by SIGKILL" "qemu pid '${qpid}'"
fi
no_qemu_left "no QEMU left after the launcher was killed"

ms=$((($(date +%s%N) - start) / 1000000))
if [ "$ms" -lt 60000 ]; then
  ok "whole QEMU suite under 60 s (${ms} ms)"
else
  not_ok "whole QEMU suite under 60 s" "${ms} ms"
fi

tap_exit
