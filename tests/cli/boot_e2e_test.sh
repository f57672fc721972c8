#!/usr/bin/env bash
# End-to-end measured boot: real rotd, real swtpm (through tpm2-tss), real
# QEMU booting Debian's OpenSBI and U-Boot from the bytes that were measured.
#
#   bash tests/cli/boot_e2e_test.sh [BUILD_DIR]
#
# Prints "ok - name" / "not ok - name" lines. Everything it starts (rotd,
# swtpm, QEMU through bootchain) lives in a private temp dir and is stopped
# on exit, whatever happens.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/$BUILD/bin
SWTPM=$ROOT/scripts/swtpm.sh
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
LOG_ADDR=0x87f00000

# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir /tmp/boot-e2e.XXXXXX
ROTD_PID=""
# Runs on exit (tests/lib/tap.sh), before $T is removed.
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  [ -n "$ROTD_PID" ] && kill "$ROTD_PID" 2>/dev/null && wait "$ROTD_PID" 2>/dev/null
  for d in "$T"/tpm "$T"/tpm-sha1; do
    [ -d "$d" ] && bash "$SWTPM" stop "$d" >/dev/null 2>&1
  done
}

check() { # check NAME COMMAND...
  local name=$1
  shift
  if "$@" >"$T/.out" 2>&1; then ok "$name"; else not_ok "$name" "$(tail -5 "$T/.out")"; fi
}

for f in "$OPENSBI" "$UBOOT"; do
  [ -f "$f" ] || { not_ok "prerequisite $f installed"; exit 1; }
done

start_rotd() {
  "$BIN/rotd" --flash "$T/flash.bin" --otp "$T/otp.bin" --socket "$T/rotd.sock" \
    2>>"$T/rotd.log" &
  ROTD_PID=$!
  for _ in $(seq 100); do [ -S "$T/rotd.sock" ] && return 0; sleep 0.05; done
  return 1
}
stop_rotd() {
  kill "$ROTD_PID" 2>/dev/null
  wait "$ROTD_PID" 2>/dev/null
  ROTD_PID=""
}

# ---- a provisioned chip with OpenSBI and U-Boot installed and confirmed ----
cd "$T" || exit 1
export ROT_SOCKET=$T/rotd.sock
"$BIN/rotctl" keygen --out keys >/dev/null &&
  "$BIN/rotctl" otp provision --keys keys --otp otp.bin >/dev/null &&
  "$BIN/rotctl" sign --keys keys --type opensbi --svn 2 --version 1.1.0 "$OPENSBI" opensbi.img >/dev/null &&
  "$BIN/rotctl" sign --keys keys --type hypervisor --svn 5 --version 2023.1.0 "$UBOOT" uboot.img >/dev/null ||
  { not_ok "keys, OTP and signed images"; exit 1; }
start_rotd || { not_ok "rotd starts"; exit 1; }
ROTCTL=$BIN/rotctl
# shellcheck source=tests/lib/rot_firmware.sh
. "$ROOT/tests/lib/rot_firmware.sh"
install_rot_firmware keys || { not_ok "RoT firmware installs"; exit 1; }
for img in opensbi uboot; do
  "$BIN/rotctl" update --activate $img.img >/dev/null || not_ok "install $img"
done
# A trial boot decision for each, then confirm; the reset lifts the boot
# lock and forgets the trial verdicts.
"$BIN/rotctl" boot --type opensbi >/dev/null && "$BIN/rotctl" boot --type hypervisor >/dev/null &&
  "$BIN/rotctl" confirm --type opensbi >/dev/null && "$BIN/rotctl" confirm --type hypervisor >/dev/null &&
  "$BIN/rotctl" reset >/dev/null ||
  not_ok "trial-boot and confirm installed images"
TCTI=$(bash "$SWTPM" start "$T/tpm") || { not_ok "swtpm starts"; exit 1; }
export TPM2TOOLS_TCTI=$TCTI
ok "chip provisioned, images installed, swtpm serving"

# ---- refusals around the extends: the host stays off ------------------------
# A TPM reset (restart), so each case starts from fresh PCRs.
tpm_reset() {
  bash "$SWTPM" stop "$T/tpm" >/dev/null && TCTI=$(bash "$SWTPM" start "$T/tpm") ||
    not_ok "swtpm restarts (TPM reset)"
  export TPM2TOOLS_TCTI=$TCTI
}
# PCRs 0-7 of both banks all zero (the TPM as it came out of reset).
pcrs_zero() {
  tpm2_pcrread "sha256:0,1,2,3,4,5,6,7+sha384:0,1,2,3,4,5,6,7" 2>/dev/null |
    python3 -c '
import re, sys
v = re.findall(r"^\s*\d+\s*:\s*0x([0-9A-Fa-f]+)\s*$", sys.stdin.read(), re.M)
sys.exit(0 if len(v) == 16 and all(set(x) == {"0"} for x in v) else 1)'
}
# Every input is checked before the first extend: a base tree carrying a
# decoy TPM with its own log location, or one without QEMU's platform bus,
# is refused while PCRs 0-7 are still as reset left them.
dtc -I dtb -O dts -o base.dts "$ROOT/$BUILD/dtb/virt.dtb" 2>/dev/null &&
  { cat base.dts; echo '/ { firmware-tpm { compatible = "microsoft,ftpm"; linux,sml-base = <0x0 0x80100000>; linux,sml-size = <0x1000>; }; };'; } >decoy.dts &&
  { cat base.dts; echo '/ { /delete-node/ platform-bus@4000000; };'; } >nobus.dts &&
  dtc -q -I dts -O dtb -o decoy.dtb decoy.dts && dtc -q -I dts -O dtb -o nobus.dtb nobus.dts ||
  not_ok "hostile base trees built with dtc"
for c in decoy:ROT_ERROR_HANDOFF_FDT nobus:ROT_ERROR_HANDOFF_NO_PLATFORM_BUS; do
  base=${c%%:*} code=${c#*:}
  tpm_reset
  "$BIN/bootchain" measure --tcti "$TCTI" --base-dtb "$base.dtb" --out "out-$base" >/dev/null 2>"$T/err"
  rc=$?
  if [ $rc -eq 1 ] && grep -q "$code" "$T/err" && grep -q "before any measurement" "$T/err" &&
    pcrs_zero && [ ! -e "out-$base" ]; then
    ok "base DTB ($base) refused before the first extend: PCRs 0-7 still zero"
  else
    not_ok "base DTB ($base) refused before the first extend (exit $rc)" "$(cat "$T/err")"
  fi
done
# An extend by someone else during the boot (tests/tools/tpm_extend_twice.py
# sends the third PCR_Extend twice): the PCRs read back differ from the
# log's replay, so the host stays off.
tpm_reset
SOCK=${TCTI#swtpm:path=}
"$BIN/bootchain" measure --tcti "cmd:python3 $ROOT/tests/tools/tpm_extend_twice.py $SOCK 3" \
  --out out-tampered >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "pcr-check: ROT_ERROR_TPM_PCR_MISMATCH" "$T/err" &&
  grep -q "PCR 7 (sha256) differs" "$T/err" && [ ! -e out-tampered ]; then
  ok "a PCR extended by someone else mid-boot is caught on read-back: host off"
else
  not_ok "a PCR extended by someone else mid-boot is caught (exit $rc)" "$(cat "$T/err")"
fi
tpm_reset

# ---- the console on a terminal: Ctrl-A x quits QEMU -------------------------
# bootchain boot with no script puts the console on its own terminal; a
# pseudo-terminal stands in for the operator's, who types Ctrl-A x once
# OpenSBI has printed its banner.
tpm_reset
cat >"$T/ctrl_a.py" <<'EOF'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent, status = b"", False, None
deadline = time.time() + 60
while time.time() < deadline and status is None:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            out += os.read(fd, 4096)
        except OSError:
            pass
    if not sent and b"OpenSBI v" in out:
        os.write(fd, b"\x01x")
        sent = True
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = st
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print("sent" if sent else "not-sent", "exited" if status is not None else "hung",
      os.waitstatus_to_exitcode(status) if status is not None else "-")
EOF
python3 "$T/ctrl_a.py" "$BIN/bootchain" boot --tcti "$TCTI" --out out-tty >"$T/tty.out" 2>&1
if grep -q "^sent exited" "$T/tty.out" && ! pgrep -f "qemu-system-riscv64.*out-tty" >/dev/null; then
  ok "bootchain boot on a terminal: Ctrl-A x quits QEMU ($(cat "$T/tty.out"))"
else
  not_ok "bootchain boot on a terminal: Ctrl-A x quits QEMU" "$(cat "$T/tty.out")"
fi
tpm_reset
"$BIN/rotctl" reset >/dev/null || not_ok "chip reset after the terminal boot"

# ---- where the time went: --json phases, --verbose table -------------------
# The phases follow one another on bootchain's main thread and cover its
# total; the TPM opens beside them on a thread of its own.
"$BIN/bootchain" measure --tcti "$TCTI" --out out-json --json >"$T/m.json" 2>"$T/err" &&
  python3 - "$T/m.json" <<'EOF' >"$T/phases.out" 2>&1
import json, sys
m = json.load(open(sys.argv[1]))
want = ["chip-connect", "chip-ask", "tpm-start", "base-dtb", "crypto-start",
        "chip-decide", "payload", "opensbi-decide", "rot-firmware", "opensbi",
        "tpm-wait", "checks", "events", "finish"]
names = [p["phase"] for p in m["phases"]]
assert names == want, names
for p in m["phases"]:
    assert 0 <= p["wall_ms"] and 0 <= p["thread_cpu_ms"], p
total = sum(p["wall_ms"] for p in m["phases"])
assert abs(total - m["total_ms"]) <= 0.05 + 0.01 * m["total_ms"], (total, m["total_ms"])
assert 0 < m["tpm_open_ms"] < m["total_ms"] and 0 < m["tpm_open_cpu_ms"], m
assert 0 < m["cpu_ms"] and m["extends"] == m["events"] == 20, m
print("%d phases, %.2f of %.2f ms" % (len(names), total, m["total_ms"]))
EOF
[ $? -eq 0 ] && ok "bootchain measure --json: 14 phases in order, covering its total ($(cat "$T/phases.out"))" ||
  not_ok "bootchain measure --json phases" "$(cat "$T/phases.out" "$T/err")"
tpm_reset
"$BIN/bootchain" measure --tcti "$TCTI" --out out-verbose --verbose >"$T/v.out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^bootchain:   chip-decide  *[0-9.]* ms  CPU  *[0-9.]* ms$" "$T/v.out" &&
  grep -q "^bootchain:   tpm-open  *[0-9.]* ms  CPU .*its own thread" "$T/v.out"; then
  ok "bootchain measure --verbose prints the phases and the TPM thread"
else
  not_ok "bootchain measure --verbose prints the phases (exit $rc)" "$(cat "$T/v.out" "$T/err")"
fi
tpm_reset
"$BIN/rotctl" reset >/dev/null || not_ok "chip reset after the timing cases"

# ---- --out: written once the host runs ---------------------------------------
# QEMU boots the sealed memory, never the --out copies, so bootchain boot
# writes them after QEMU started. A copy that cannot be written still
# fails the boot: QEMU is stopped and the exit status is 1 (here
# payload.bin is taken by a directory, so its rename fails). An --out
# that cannot be a directory is refused before anything is measured.
mkdir -p out-taken/payload.bin/x
"$BIN/bootchain" boot --tcti "$TCTI" --out out-taken --timeout 30 --expect "OpenSBI v" \
  >"$T/taken.out" 2>"$T/taken.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "writing out-taken: .*; the host is stopped" "$T/taken.err" &&
  [ -s out-taken/eventlog.bin ] && [ -d out-taken/payload.bin/x ]; then
  ok "an --out copy that cannot be written stops the host: exit 1, reason named"
else
  not_ok "an --out copy that cannot be written stops the host (exit $rc)" "$(cat "$T/taken.err")"
fi
tpm_reset
: >out-file
"$BIN/bootchain" boot --tcti "$TCTI" --out out-file --expect "OpenSBI v" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q -- "--out out-file: " "$T/err" && pcrs_zero; then
  ok "an --out that is not a directory is refused before the first extend"
else
  not_ok "an --out that is not a directory is refused before the first extend (exit $rc)" "$(cat "$T/err")"
fi
tpm_reset
"$BIN/rotctl" reset >/dev/null || not_ok "chip reset after the --out cases"

# ---- boot: measure, then rewrite flash, then start the host ----------------
# bootchain pauses after measuring (--pause) until a line arrives on stdin:
# meanwhile the flash regions it read are overwritten behind the chip's back.
mkfifo "$T/go"
"$BIN/bootchain" boot --tcti "$TCTI" --out out --pause --timeout 20 \
  --expect "OpenSBI v" --expect "Hit any key" --send " " --expect "=> " \
  --send 'fdt addr $fdtcontroladdr; fdt print /reserved-memory\n' \
  --expect "tpm-event-log@87f00000" --expect "=> " \
  --send "md.b $(printf '%x' $((LOG_ADDR + 32))) 10\n" --expect "Spec ID Event03" --expect "=> " \
  --send 'fdt print /chosen\n' --expect 'rot,boot-slot = "hypervisor-a"' --expect "=> " \
  <"$T/go" >"$T/boot.out" 2>"$T/boot.err" &
BOOT_PID=$!
exec 3>"$T/go"
for _ in $(seq 200); do grep -q "press Enter" "$T/boot.err" && break; sleep 0.05; done
if grep -q "press Enter" "$T/boot.err"; then
  ok "bootchain measured and is waiting before starting the host"
else
  not_ok "bootchain measured" "$(cat "$T/boot.err")"
fi
# The chip locked the boot regions: not even an authenticated update may
# touch them now.
if "$BIN/rotctl" status --json | python3 -c 'import json,sys; l=json.load(sys.stdin)["locked"]; sys.exit(0 if "opensbi-a" in l and "hypervisor-a" in l else 1)'; then
  ok "boot regions are locked in the gate after measurement"
else
  not_ok "boot regions are locked in the gate after measurement"
fi
# Now an attacker with a flash programmer rewrites both boot images.
stop_rotd
python3 - "$T/flash.bin" <<'EOF'
import sys
# opensbi-a at 0x200000, hypervisor-a at 0xa00000 (docs/flash-layout.md)
with open(sys.argv[1], "r+b") as f:
    for off in (0x200000, 0xa00000):
        f.seek(off)
        f.write(b"\xa5" * 0x100000)
EOF
echo >&3
exec 3>&-
wait "$BOOT_PID"
rc=$?
if [ $rc -eq 0 ] && grep -q "OpenSBI v" "$T/boot.out" && grep -q "U-Boot 20" "$T/boot.out"; then
  ok "after flash was rewritten, QEMU still booted the measured OpenSBI and U-Boot"
else
  not_ok "boot of measured bytes after flash rewrite (exit $rc)" "$(tail -5 "$T/boot.err")"
fi
grep -q "tpm-event-log@87f00000" "$T/boot.out" && ok "U-Boot sees /reserved-memory/tpm-event-log" ||
  not_ok "U-Boot sees /reserved-memory/tpm-event-log"
grep -q "Spec ID Event03" "$T/boot.out" && ok "the event log is in guest memory at its reserved address" ||
  not_ok "the event log is in guest memory at its reserved address"
grep -q 'rot,boot-slot = "hypervisor-a"' "$T/boot.out" && ok "/chosen carries the boot slot" ||
  not_ok "/chosen carries the boot slot"
cmp -s out/opensbi.bin "$OPENSBI" && cmp -s out/payload.bin "$UBOOT" &&
  ok "measured bytes are exactly Debian's OpenSBI and U-Boot" ||
  not_ok "measured bytes are exactly Debian's OpenSBI and U-Boot"

# ---- the log against the TPM, with tpm2-tools as the peer ------------------
if tpm2_eventlog out/eventlog.bin >"$T/el.yaml" 2>"$T/el.err" && [ ! -s "$T/el.err" ]; then
  ok "tpm2_eventlog parses the log with nothing on stderr"
else
  not_ok "tpm2_eventlog parses the log" "$(head -3 "$T/el.err")"
fi
tpm2_pcrread "sha256:0,1,2,3,4,5,6,7+sha384:0,1,2,3,4,5,6,7" >"$T/pcrs.yaml" 2>&1 ||
  not_ok "tpm2_pcrread"
python3 - "$T/el.yaml" "$T/pcrs.yaml" >"$T/cmp.out" 2>&1 <<'EOF'
import re, sys
def parse(text, start):
    out, bank = {}, None
    body = text.split(start, 1)[1] if start else text
    for line in body.splitlines():
        m = re.match(r"\s*(sha\d+):\s*$", line)
        if m:
            bank = m.group(1); continue
        m = re.match(r"\s*(\d+)\s*:\s*0x([0-9a-fA-F]+)", line)
        if m and bank:
            out[(bank, int(m.group(1)))] = m.group(2).lower()
    return out
log = parse(open(sys.argv[1]).read(), "\npcrs:")
tpm = parse(open(sys.argv[2]).read(), None)
bad = 0
for bank in ("sha256", "sha384"):
    for p in range(8):
        if log.get((bank, p)) != tpm.get((bank, p)):
            print("mismatch", bank, p, log.get((bank, p)), tpm.get((bank, p))); bad += 1
sys.exit(1 if bad or not log or not tpm else 0)
EOF
[ $? -eq 0 ] && ok "tpm2_eventlog replay equals tpm2_pcrread, PCRs 0-7, sha256 and sha384" ||
  not_ok "tpm2_eventlog replay equals tpm2_pcrread" "$(head -3 "$T/cmp.out")"
"$BIN/bootchain" log out/eventlog.bin >/dev/null 2>&1 && ok "bootchain log prints the log" ||
  not_ok "bootchain log prints the log"
"$BIN/bootchain" log --json out/eventlog.bin | python3 -m json.tool >/dev/null 2>&1 &&
  ok "bootchain log --json is valid JSON" || not_ok "bootchain log --json is valid JSON"

# ---- refusals: the host stays off, with the reason -------------------------
start_rotd || not_ok "rotd restarts"
"$BIN/bootchain" measure --tcti "$TCTI" --out out2 >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q ROT_ERROR_TPM_NOT_FRESH "$T/err" &&
  ok "a second measurement without a TPM reset is refused" ||
  not_ok "a second measurement without a TPM reset is refused" "$(cat "$T/err")"

bash "$SWTPM" stop "$T/tpm" >/dev/null && TCTI=$(bash "$SWTPM" start "$T/tpm") ||
  not_ok "swtpm restarts (TPM reset)"
"$BIN/bootchain" boot --tcti "$TCTI" --expect "OpenSBI" >"$T/console.out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "ROT_ERROR_BOOT_NO_IMAGE" "$T/err" && grep -q "host stays off" "$T/err" &&
  ! grep -q "OpenSBI v" "$T/console.out"; then
  ok "rewritten flash fails verification: the host stays off, reason named"
else
  not_ok "rewritten flash leaves the host off (exit $rc)" "$(cat "$T/err")"
fi

# The flash is still rewritten: the chip refuses the payload, and the TPM
# that is gone is still the reason named.
bash "$SWTPM" stop "$T/tpm" >/dev/null
start=$(date +%s%N)
"$BIN/bootchain" measure --tcti "$TCTI" --out out3 >/dev/null 2>"$T/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 1 ] && grep -q "^bootchain: tpm: ROT_ERROR_TPM_TCTI" "$T/err" && [ $ms -lt 10000 ] &&
  ok "a TPM that is gone gives a clear error, not a hang, named before the chip's refusal" ||
  not_ok "a TPM that is gone gives a clear error (exit $rc, ${ms} ms)" "$(cat "$T/err")"

# A TPM that stops answering (frozen, not gone): tpm2-tss would wait for
# ever; the deadline keeps the host off with a reason instead.
TCTI=$(bash "$SWTPM" start "$T/tpm") || not_ok "swtpm restarts"
kill -STOP "$(cat "$T/tpm/swtpm.pid")"
start=$(date +%s%N)
"$BIN/bootchain" measure --tcti "$TCTI" --out out5 --deadline 2 >/dev/null 2>"$T/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$(cat "$T/tpm/swtpm.pid")"
[ $rc -eq 1 ] && grep -q "deadline" "$T/err" && [ $ms -lt 10000 ] &&
  ok "a TPM that stops answering hits the deadline: host off, reason named (${ms} ms)" ||
  not_ok "frozen TPM hits the deadline (exit $rc, ${ms} ms)" "$(cat "$T/err")"
bash "$SWTPM" stop "$T/tpm" >/dev/null

# A TPM with a SHA-1 bank active: the log could not agree with it.
mkdir -p "$T/tpm-sha1/state"
if swtpm_setup --tpm2 --tpmstate "$T/tpm-sha1/state" --pcr-banks sha1,sha256 --overwrite >/dev/null 2>&1 &&
  touch "$T/tpm-sha1/state/.provisioned" && T1=$(bash "$SWTPM" start "$T/tpm-sha1" 2>/dev/null); then
  "$BIN/bootchain" measure --tcti "$T1" --out out4 >/dev/null 2>"$T/err"
  rc=$?
  [ $rc -eq 1 ] && grep -q "ROT_ERROR_TPM_BANKS" "$T/err" &&
    ok "a TPM whose active banks the log cannot match is refused" ||
    not_ok "TPM bank mismatch refused (exit $rc)" "$(cat "$T/err")"
else
  not_ok "second swtpm with a sha1 bank"
fi

"$BIN/bootchain" measure >/dev/null 2>&1
[ $? -eq 2 ] && ok "measure without --out is a usage error" || not_ok "measure without --out is a usage error"
"$BIN/bootchain" boot --help >/dev/null && "$BIN/bootchain" measure --help >/dev/null &&
  "$BIN/bootchain" log --help >/dev/null && ok "--help on every command" || not_ok "--help on every command"

cd "$ROOT"
tap_exit
