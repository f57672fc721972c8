#!/usr/bin/env bash
# What an operator meets: errors that say what happened and what to do
# next, one JSON document per --json command, rotd's log and pid file,
# the confirm-after-trial rule and its audited override, and the one-way
# lifecycle transitions. Prints "ok - <name>" / "not ok - <name>" lines.
#
#   bash tests/cli/operator_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) B=$BUILD ;; *) B=$PWD/$BUILD ;; esac
ROTCTL=$B/bin/rotctl
ROTD=$B/bin/rotd
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir
PID=

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  stop_rotd
  [ -f "$T/d/rotd.pid" ] && kill "$(cat "$T/d/rotd.pid")" 2>/dev/null
}

SOCK=$T/rotd.sock
FLASH=$T/flash.bin
OTP=$T/otp.bin
export ROT_SOCKET=$SOCK

# shellcheck source=tests/lib/rotctl.sh
. tests/lib/rotctl.sh


# one_json: stdout ($T/out) is exactly one JSON document.
one_json() {
  python3 -c '
import json, sys
text = open(sys.argv[1]).read()
doc, end = json.JSONDecoder().raw_decode(text.lstrip())
sys.exit(0 if text.lstrip()[end:].strip() == "" else 1)' "$T/out" 2>/dev/null
}

"$ROTCTL" keygen --out "$T/keys" >/dev/null 2>&1 &&
  "$ROTCTL" otp provision --keys "$T/keys" --otp "$OTP" >/dev/null 2>&1 ||
  { not_ok "keygen and otp provision"; tap_exit; }
head -c 4096 /dev/urandom >"$T/payload.bin"
sign() { # OUT TYPE SVN VERSION [EXTRA...]
  local out=$1 type=$2 svn=$3 ver=$4
  shift 4
  "$ROTCTL" sign --keys "$T/keys" --type "$type" --svn "$svn" --version "$ver" "$@" \
    "$T/payload.bin" "$T/$out" >/dev/null 2>"$T/err" ||
    { not_ok "sign $out" "$(cat "$T/err")"; tap_exit; }
}
sign hv0.img hypervisor 0 0.1.0
sign hv1.img hypervisor 1 1.0.0
sign hv2.img hypervisor 2 2.0.0
sign hv3.img hypervisor 3 3.0.0
sign hvdev.img hypervisor 4 4.0.0 --dev-only
sign rec1.img recovery 1 1.0.0

# ---- no rotd: the error names the socket and what to do -------------------------
mkdir -p "$T/cwd" && cd "$T/cwd" || exit 1
ROT_SOCKET=run/none.sock "$ROTCTL" status >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "$T/cwd/run/none.sock" "$T/err" && grep -q 'start rotd' "$T/err" &&
  grep -q -- '--socket' "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then
  ok "no rotd: one line naming the absolute socket path, how to start rotd or pass --socket"
else
  not_ok "no rotd: the error names the absolute socket and what to do" "rc=$rc $(cat "$T/err")"
fi
ROT_SOCKET=run/none.sock "$ROTCTL" status --json >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && one_json && grep -q '"error"' "$T/out"; then
  ok "no rotd: status --json prints one JSON document with the error"
else
  not_ok "no rotd: status --json prints one JSON document" "rc=$rc $(head -c 300 "$T/out")"
fi
cd "$T" || exit 1

# ---- file errors carry the OS reason; a missing image comes before any lock ----
run verify --keys "$T/keys" "$T/missing.img"
if [ "$rc" -eq 1 ] && grep -q 'missing.img' "$T/err" && grep -q 'No such file or directory' "$T/err"; then
  ok "a missing image file is named with the OS reason"
else
  not_ok "a missing image file is named with the OS reason" "$(show)"
fi
run verify --keys "$T/keys" "$T"
if [ "$rc" -eq 1 ] && grep -qi 'is a directory' "$T/err"; then
  ok "a directory given as the image: the OS reason"
else
  not_ok "a directory given as the image: the OS reason" "$(show)"
fi

start_rotd || { not_ok "rotd starts" "$(cat "$T/rotd.log")"; tap_exit; }
install_rot_firmware "$T/keys" || { not_ok "RoT firmware installs"; tap_exit; }

run verify --otp "$OTP" "$T/missing.img"
if [ "$rc" -eq 1 ] && grep -q 'No such file or directory' "$T/err" && ! grep -q IO_LOCKED "$T/err"; then
  ok "verify --otp with a missing image: the missing file is reported, not a lock"
else
  not_ok "verify --otp with a missing image: the missing file first" "$(show)"
fi
expect_ok "otp show reads the OTP while rotd runs" 'lifecycle +dev' otp show "$OTP"
expect_ok "verify --otp reads the OTP while rotd runs" ': OK type=hypervisor' verify --otp "$OTP" "$T/hv1.img"
run otp revoke --otp "$OTP" --key-index 5
if [ "$rc" -eq 1 ] && grep -q ROT_ERROR_IO_LOCKED "$T/err" && grep -q 'rotd' "$T/err"; then
  ok "otp revoke while rotd runs: refused, and says another process (rotd) holds it"
else
  not_ok "otp revoke while rotd runs is refused with a reason" "$(show)"
fi

# ---- confirm after the trial boot, or an audited override ---------------------------
run update --activate "$T/hv1.img"
expect_refused "confirm before a trial boot names the missing step" \
  'ROT_ERROR_UPDATE_NOT_TRIED' confirm --type hypervisor
grep -q 'bootchain boot' "$T/err" && grep -q -- '--without-trial' "$T/err" &&
  ok "the refusal says what to do: boot it, or --without-trial" ||
  not_ok "the refusal says what to do" "$(cat "$T/err")"
expect_ok "confirm --without-trial: the operator's override" \
  'hypervisor: slot a confirmed without a trial boot; SVN floor 1' confirm --type hypervisor --without-trial
expect_ok "the override is in the audit log" 'confirm-untried +ok +type=hypervisor svn=1' audit

# ---- GATE_LOCKED names the region and how the lock ends ---------------------------------
run boot --type hypervisor
expect_refused "update after a boot decision: GATE_LOCKED" ROT_ERROR_GATE_LOCKED update "$T/hv2.img"
grep -q 'hypervisor-b' "$T/err" && grep -q 'rotctl reset' "$T/err" &&
  ok "the lock refusal names the locked region and the way out (rotctl reset)" ||
  not_ok "the lock refusal names the region and the way out" "$(cat "$T/err")"
expect_ok "rotctl reset" '^chip reset' reset

# ---- --json: exactly one document, success or failure ------------------------------------
for args in "status" "inventory" "update $T/hv2.img" "update $T/hv1.img" \
  "update $T/missing.img" "activate --type hypervisor" "confirm --type hypervisor" \
  "revert --type dtb" "boot --type hypervisor" "audit" "audit --verify" "reset" \
  "lifecycle --to production"; do
  # shellcheck disable=SC2086 # word splitting wanted
  run $args --json
  if one_json; then
    ok "$args --json: one JSON document (exit $rc)"
  else
    not_ok "$args --json: one JSON document" "$(show)"
  fi
done
run revert --type hypervisor
run update "$T/hv0.img" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("ok") is False and d.get("error")=="ROT_ERROR_POLICY_SVN_BELOW_FLOOR" else 1)' "$T/out" &&
  [ "$rc" -eq 1 ] && ok "update --json refusal: the error's name in the document, exit 1" ||
  not_ok "update --json refusal names the error" "$(show)"
run reset

# ---- lifecycle: one way, confirmed, audited ---------------------------------------------
expect_refused "lifecycle without --confirm is refused, naming the flag" \
  'ROT_ERROR_POLICY_NOT_CONFIRMED' lifecycle --to production
grep -q -- '--confirm' "$T/err" && ok "the refusal names --confirm" ||
  not_ok "the refusal names --confirm" "$(cat "$T/err")"
expect_ok "still dev after the refusal" '^lifecycle: +dev' status
run lifecycle --to dev --confirm
[ "$rc" -eq 2 ] && ok "lifecycle --to dev: a usage error (only production, decommissioned)" ||
  not_ok "lifecycle --to dev is a usage error" "$(show)"
expect_refused "no skipping: dev -> decommissioned is refused" \
  ROT_ERROR_POLICY_LIFECYCLE_STEP lifecycle --to decommissioned --confirm
expect_ok "lifecycle --to production --confirm" 'lifecycle: dev -> production' \
  lifecycle --to production --confirm
expect_ok "status shows production" '^lifecycle: +production' status
expect_ok "the transition is in the audit log, before and after the burn" \
  'lifecycle +ok +dev -> production' audit
grep -Eq 'lifecycle-request +ok +dev -> production' "$T/out" &&
  ok "the request is recorded before the fuse burns" ||
  not_ok "the request is recorded before the fuse burns" "$(grep lifecycle "$T/out")"
expect_refused "production refuses a dev-only image" ROT_ERROR_POLICY_LIFECYCLE update "$T/hvdev.img"
expect_ok "otp show (rotd running) reads production" 'lifecycle +production' otp show "$OTP"
run update --activate "$T/rec1.img" && run boot --type recovery && run confirm --type recovery && run reset
[ "$rc" -eq 0 ] && ok "recovery image installed and confirmed" || not_ok "recovery image installed" "$(show)"
expect_ok "lifecycle --to decommissioned --confirm" 'lifecycle: production -> decommissioned' \
  lifecycle --to decommissioned --confirm
expect_ok "decommissioned: only the recovery image boots" \
  'hypervisor: boot recovery-[ab] \(recovery\)' boot --type hypervisor
run reset
expect_refused "decommissioned: updates are refused" ROT_ERROR_UPDATE_SEALED update "$T/hv3.img"
expect_refused "no way back" ROT_ERROR_POLICY_LIFECYCLE_STEP lifecycle --to production --confirm
expect_ok "audit chain still verifies" '^audit: chain OK' audit --verify
stop_rotd

# ---- rotd: --log, pid file, a clean stop -------------------------------------------------
mkdir -p "$T/d"
"$ROTD" --flash "$FLASH" --otp "$OTP" --socket "$T/d/rotd.sock" --daemon \
  --pid "$T/d/rotd.pid" --log "$T/d/rotd.log" 2>"$T/d/start.err"
if [ -s "$T/d/rotd.pid" ] && grep -q "serving $T/d/rotd.sock" "$T/d/rotd.log"; then
  ok "rotd --daemon --log FILE: its messages are in FILE"
else
  not_ok "rotd --log FILE writes there" "log: $(cat "$T/d/rotd.log" 2>/dev/null)" "$(cat "$T/d/start.err")"
fi
dpid=$(cat "$T/d/rotd.pid" 2>/dev/null)
ROT_SOCKET=$T/d/rotd.sock "$ROTCTL" status >/dev/null 2>&1 && ok "the daemon serves" ||
  not_ok "the daemon serves"
[ -n "$dpid" ] && kill -TERM "$dpid" 2>/dev/null
for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.05; done
if ! kill -0 "$dpid" 2>/dev/null && [ ! -e "$T/d/rotd.pid" ] && [ ! -e "$T/d/rotd.sock" ] &&
  grep -q 'stopped' "$T/d/rotd.log"; then
  ok "SIGTERM: rotd stops, removes its pid file and socket, and says so in its log"
else
  not_ok "SIGTERM: a clean stop" "pid file: $(ls "$T/d")" "$(tail -2 "$T/d/rotd.log")"
fi
"$ROTD" --flash "$FLASH" --otp "$OTP" --socket "$T/d/rotd.sock" --log "$T/d/fg.log" 2>"$T/d/fg.err" &
PID=$!
for _ in $(seq 100); do grep -q serving "$T/d/fg.log" 2>/dev/null && break; sleep 0.05; done
grep -q "serving $T/d/rotd.sock" "$T/d/fg.log" &&
  ok "rotd --log FILE without --daemon: messages go to FILE" ||
  not_ok "rotd --log FILE without --daemon" "$(cat "$T/d/fg.log" 2>/dev/null)"
stop_rotd
tap_exit
