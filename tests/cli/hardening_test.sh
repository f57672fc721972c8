#!/usr/bin/env bash
# The chip against the attacks its hardening closed, tried as an operator
# and an attacker would: locking the chip's own regions, a refused or
# tampered recovery update, an update-state record rewritten in the flash
# file (as with an SPI programmer), and a start on an OTP without a device
# secret. Prints "ok - <name>" / "not ok - <name>" lines.
#
#   bash tests/cli/hardening_test.sh [BUILD_DIR]
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
cleanup() { stop_rotd; }

SOCK=$T/rotd.sock
FLASH=$T/flash.bin
OTP=$T/otp.bin
export ROT_SOCKET=$SOCK

# shellcheck source=tests/lib/rotctl.sh
. tests/lib/rotctl.sh


"$ROTCTL" keygen --out "$T/keys" >/dev/null 2>&1 &&
  "$ROTCTL" otp provision --keys "$T/keys" --otp "$OTP" >/dev/null 2>&1 ||
  { not_ok "keygen and otp provision"; tap_exit; }
head -c 4096 /dev/urandom >"$T/payload.bin"
sign() { # OUT TYPE SVN VERSION
  "$ROTCTL" sign --keys "$T/keys" --type "$2" --svn "$3" --version "$4" \
    "$T/payload.bin" "$T/$1" >/dev/null 2>"$T/err" ||
    { not_ok "sign $1" "$(cat "$T/err")"; tap_exit; }
}
sign hv1.img hypervisor 1 1.0.0
sign rec1.img recovery 1 1.0.0
sign rec2.img recovery 2 2.0.0
python3 - "$T" <<'EOF'
import sys
t = sys.argv[1]
b = bytearray(open(t + "/rec2.img", "rb").read())
b[len(b) - 97] ^= 0x01  # one payload byte, just before the signature
open(t + "/rec2-tampered.img", "wb").write(b)
EOF

start_rotd || { not_ok "rotd starts" "$(cat "$T/rotd.log")"; tap_exit; }
install_rot_firmware "$T/keys" || { not_ok "RoT firmware installs"; tap_exit; }
# Each image through its trial boot before the confirm; the reset after
# the boot lifts the boot lock for the next update.
run update --activate "$T/hv1.img" && run boot --type hypervisor &&
  run confirm --type hypervisor && run reset &&
  run update --activate "$T/rec1.img" && run boot --type recovery &&
  run confirm --type recovery && run reset
if [ "$rc" -eq 0 ]; then ok "hypervisor and recovery installed, activated, confirmed"; else
  not_ok "hypervisor and recovery installed, activated, confirmed" "$(show)"
fi

# ---- the chip's own regions cannot be locked -----------------------------------
for r in audit state nvcfg; do
  expect_refused "lock --region $r is refused" ROT_ERROR_GATE_NOT_LOCKABLE lock --region "$r"
done
expect_ok "the refused lock is in the audit log" \
  'gate-deny +ROT_ERROR_GATE_NOT_LOCKABLE .*op=lock region=audit' audit
run update --activate "$T/hv1.img"
expect_ok "state commits still work after the refused locks" '^hypervisor +a +b ' status
run revert --type hypervisor

# ---- the golden recovery image survives a refused update --------------------------
expect_refused "a recovery update with a flipped payload byte is refused" \
  ROT_ERROR_IMAGE_DIGEST_MISMATCH update "$T/rec2-tampered.img"
expect_ok "the confirmed recovery image is still verified and active" \
  '^recovery-a +recovery +active +1.0.0 .*verified' inventory
# Both host payload slots destroyed (as a flash programmer would): the chip
# boots the recovery image.
stop_rotd
python3 - "$FLASH" <<'EOF'
import sys
f = open(sys.argv[1], "r+b")
for off in (0x0a00000, 0x2a00000):  # hypervisor-a, hypervisor-b
    f.seek(off + 100); f.write(b"\x00" * 64)
EOF
start_rotd || { not_ok "rotd restarts" "$(cat "$T/rotd.log")"; tap_exit; }
expect_ok "with both payload slots destroyed, recovery-a boots" 'recovery-a' boot --type hypervisor

# ---- a forged update-state record ------------------------------------------------------
expect_ok "floor of hypervisor is 1" '^hypervisor +[ab-] .* 1$' status
stop_rotd
python3 - "$FLASH" <<'EOF'
import hashlib, struct, sys
STATE, BLOCK = 0x6c10000, 0x10000
f = open(sys.argv[1], "r+b")
copies = []
for i in range(2):
    f.seek(STATE + i * BLOCK); copies.append(bytearray(f.read(104)))
seqs = [struct.unpack_from("<I", c, 4)[0] if c[:4] == b"RTUS" else 0 for c in copies]
new = max(range(2), key=lambda i: seqs[i])
rec = bytearray(copies[new])
struct.pack_into("<I", rec, 4, seqs[new] + 1)
struct.pack_into("<I", rec, 8 + 3 * 8 + 4, 255)  # hypervisor floor_pending
rec[72:104] = hashlib.sha256(bytes(rec[:72])).digest()
f.seek(STATE + (1 - new) * BLOCK); f.write(b"\xff" * BLOCK)
f.seek(STATE + (1 - new) * BLOCK); f.write(rec)
EOF
if start_rotd && grep -q "update state copy [01] refused (ROT_ERROR_UPDATE_STATE_FORGED)" "$T/rotd.log"; then
  ok "rotd refuses the forged state record and says so"
else
  not_ok "rotd refuses the forged state record and says so" "$(cat "$T/rotd.log")"
fi
expect_ok "no fuse moved: the hypervisor floor is still 1" '^hypervisor +[ab-] .* 1$' status
expect_ok "the refusal is in the audit log" 'state-rejected +ROT_ERROR_UPDATE_STATE_FORGED' audit
stop_rotd

# ---- the state key needs a device secret -------------------------------------------------
head -c 1024 /dev/zero >"$T/otp-nouds.bin"
python3 - "$T/otp-nouds.bin" "$OTP" <<'EOF'
import sys
src = open(sys.argv[2], "rb").read()
b = bytearray(src)
b[328:380] = b"\x00" * 52  # device secret and its marker, as if never fused
open(sys.argv[1], "wb").write(b)
EOF
chmod 600 "$T/otp-nouds.bin"
"$ROTD" --flash "$T/f2.bin" --otp "$T/otp-nouds.bin" --socket "$T/s2.sock" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "ROT_ERROR_OTP_NO_DEVICE_SECRET" "$T/err" &&
  grep -q "rotctl otp provision" "$T/err"; then
  ok "rotd on an OTP without a device secret: a clear error"
else
  not_ok "rotd on an OTP without a device secret: a clear error" "$(show)"
fi

tap_exit
