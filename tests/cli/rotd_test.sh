#!/usr/bin/env bash
# rotd, the security chip daemon, driven as an operator and as an attacker:
# rotctl status / inventory / update / activate / confirm / revert / boot /
# lock / audit / read-region on a private rotd, every update refusal
# (downgrade, tampered byte, wrong type, too large, busy, interrupted, idle),
# hostile raw frames over SOCK_SEQPACKET, the file locks, and signals.
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/rotd_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
case $BUILD in /*) B=$BUILD ;; *) B=$PWD/$BUILD ;; esac
ROTCTL=$B/bin/rotctl
ROTD=$B/bin/rotd
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir
PID=

# Runs on exit (tests/lib/tap.sh), before $T is removed.
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null
  fi
  [ -f "$T/rotd.pid" ] && kill -TERM "$(cat "$T/rotd.pid")" 2>/dev/null
}

for bin in "$ROTCTL" "$ROTD"; do
  if [ ! -x "$bin" ]; then
    not_ok "$(basename "$bin") is built" "missing $bin (run make)"
    exit 1
  fi
done

SOCK=$T/rotd.sock
FLASH=$T/flash.bin
OTP=$T/otp.bin
export ROT_SOCKET=$SOCK

# shellcheck source=tests/lib/rotctl.sh
. tests/lib/rotctl.sh

# ---- a key hierarchy, a provisioned OTP, the images --------------------------
"$ROTCTL" keygen --out "$T/keys" >/dev/null 2>&1 &&
  "$ROTCTL" otp provision --keys "$T/keys" --otp "$OTP" >/dev/null 2>&1 ||
  { not_ok "keygen and otp provision" "$(cat "$T/err" 2>/dev/null)"; exit 1; }
head -c 4096 /dev/urandom >"$T/payload.bin"
sign() { # OUT TYPE SVN VERSION [PAYLOAD]
  "$ROTCTL" sign --keys "$T/keys" --type "$2" --svn "$3" --version "$4" \
    "${5:-$T/payload.bin}" "$T/$1" >/dev/null 2>"$T/err" ||
    { not_ok "sign $1" "$(cat "$T/err")"; exit 1; }
}
sign hv1.img hypervisor 1 1.0.0
sign hv2.img hypervisor 2 2.0.0
sign hv1b.img hypervisor 1 1.5.0
sign hv3.img hypervisor 3 3.0.0
# Larger than a dtb slot (1 MiB): rotctl sign refuses to make such an
# image, so a signed small one is padded; BEGIN refuses it on its length.
sign dtb-big.img dtb 1 1.0.0
head -c 1258291 /dev/urandom >>"$T/dtb-big.img"
# A payload byte (just before the signature) and a header byte (version).
python3 - "$T" <<'EOF'
import sys
t = sys.argv[1]
b = bytearray(open(t + "/hv2.img", "rb").read())
p = bytearray(b); p[len(p) - 97] ^= 0x01
open(t + "/tampered-payload.img", "wb").write(p)
h = bytearray(b); h[18] ^= 0x01
open(t + "/tampered-header.img", "wb").write(h)
EOF

# ---- start ---------------------------------------------------------------------
if start_rotd --idle-timeout 2; then ok "rotd starts on a fresh flash and a provisioned OTP"; else
  not_ok "rotd starts on a fresh flash and a provisioned OTP" "$(cat "$T/rotd.log")"
  exit 1
fi
if grep -q "^rotd: serving $SOCK (flash $FLASH, otp $OTP)$" "$T/rotd.log"; then
  ok "rotd prints one startup line"
else
  not_ok "rotd prints one startup line" "$(cat "$T/rotd.log")"
fi
if [ "$(stat -c %a "$SOCK")" = 600 ] && [ "$(stat -c %a "$FLASH")" = 600 ]; then
  ok "socket and flash file are mode 0600"
else
  not_ok "socket and flash file are mode 0600" "$(stat -c '%a %n' "$SOCK" "$FLASH")"
fi
# ---- no RoT firmware yet: recovery commands only, in every lifecycle --------------
expect_ok "a fresh chip runs no RoT firmware: status says recovery only" \
  '^rot firmware: +none \(ROT_ERROR_BOOT_RECOVERY_ONLY\): recovery commands only' status
expect_ok "status --json: rot_firmware.recovery_only" '"recovery_only": true' status --json
expect_refused "a dev chip without RoT firmware refuses a host update" \
  ROT_ERROR_BOOT_RECOVERY_ONLY update "$T/hv1.img"
expect_refused "... and a boot decision" ROT_ERROR_BOOT_RECOVERY_ONLY boot --type hypervisor
expect_ok "... but serves the inventory" 'rot-a ' inventory
expect_ok "... and the audit log, which records the refusals" 'command-refused' audit
if install_rot_firmware "$T/keys" 2>"$T/err"; then
  ok "the RoT firmware installs, boots at reset and is confirmed (recovery commands only)"
else
  not_ok "the RoT firmware installs, boots at reset and is confirmed (recovery commands only)" "$(cat "$T/err")"
  exit 1
fi
expect_ok "status names the RoT firmware the ROM stage booted" \
  '^rot firmware: +rot-a 1\.0\.0 svn 1 \(booted at this reset: trial\)' status
expect_ok "status --json: rot_firmware.region" '"region": "rot-a"' status --json
expect_ok "status answers" '^lifecycle: +dev' status
expect_ok "status --json" '"lifecycle": "dev"' status --json
if ROT_SOCKET=/nonexistent "$ROTCTL" --socket "$SOCK" status >"$T/out" 2>"$T/err" &&
  grep -qE '^lifecycle: +dev' "$T/out"; then
  ok "rotctl --socket PATH COMMAND (global form) reaches rotd"
else
  not_ok "rotctl --socket PATH COMMAND (global form) reaches rotd" "$(cat "$T/err")"
fi
expect_ok "inventory of a fresh flash: every slot empty" 'hypervisor-a .*empty' inventory
expect_refused "activate without a staged image names the problem" \
  "no image type has a staged image" activate
expect_refused "boot on an empty flash: nothing boots, and why" \
  "hypervisor: nothing boots: ROT_ERROR_BOOT_EMPTY_SLOT" boot --type hypervisor
# The boot decision locks the boot regions before any byte is handed out,
# until the chip resets.
expect_refused "after a boot decision an update is refused until the chip resets" \
  ROT_ERROR_GATE_LOCKED update "$T/hv1.img"
expect_ok "rotctl reset: the chip resets, the locks are gone" '^chip reset' reset
expect_ok "status after the reset: nothing locked" '^locked: +none' status

# ---- the update story -----------------------------------------------------------
expect_ok "update of a signed v1 image is staged and verified" \
  'staged .* into hypervisor-a .*verified: hypervisor 1\.0\.0 svn 1' update "$T/hv1.img"
expect_ok "inventory shows it staged" '^hypervisor-a +hypervisor +staged +1\.0\.0 +1 +0 +verified' inventory
expect_ok "activate picks the only staged type" 'hypervisor: slot a activated for a trial boot \(3 attempts\)' activate
expect_ok "boot decision boots the trial slot" 'hypervisor: boot hypervisor-a \(trial\)' boot --type hypervisor
expect_ok "the boot counted one trial attempt" '^hypervisor +- +a +- +2 ' status
for _ in 1 2 3 4; do run boot --type hypervisor; done
expect_ok "repeated boots in one reset: the same verdict, no attempt spent" \
  'hypervisor: boot hypervisor-a \(trial\)' boot --type hypervisor
expect_ok "still two attempts left after five boot requests" '^hypervisor +- +a +- +2 ' status
expect_ok "confirm picks the only trial and raises the floor" 'hypervisor: slot a confirmed; SVN floor 1' confirm
expect_ok "inventory shows it active (and locked by the boot)" '^hypervisor-a +hypervisor +active,locked +1\.0\.0 .*verified' inventory
run reset
expect_ok "update --activate of v2 (svn 2)" 'into hypervisor-b .*svn 2 .*activated' update --activate "$T/hv2.img"
# Confirm raises the floor for good: never before the image has booted.
expect_refused "confirm before any trial boot is refused, naming the missing step" \
  'ROT_ERROR_UPDATE_NOT_TRIED.*not booted yet (boot it, then confirm)' confirm --type hypervisor
expect_ok "the refused confirm left the trial and the floor as they were" \
  '^hypervisor +a +b +- +3 +1$' status
expect_ok "the refusal is in the audit log" 'confirm +ROT_ERROR_UPDATE_NOT_TRIED' audit
expect_ok "trial boot of v2" 'hypervisor: boot hypervisor-b \(trial\)' boot --type hypervisor
expect_ok "confirm v2 after its trial boot: floor 2" 'slot b confirmed; SVN floor 2' confirm --type hypervisor
run reset
expect_ok "status shows slot b active, floor 2" '^hypervisor +b +- +- +- +2$' status
run read-region --region hypervisor-b --length "$(stat -c %s "$T/hv2.img")" --out "$T/readback.img"
if [ "$rc" -eq 0 ] && cmp -s "$T/readback.img" "$T/hv2.img"; then
  ok "read-region returns the active image byte for byte"
else
  not_ok "read-region returns the active image byte for byte" "$(show)"
fi
expect_refused "read-region of the chip-private state region is denied" \
  ROT_ERROR_GATE_DENIED read-region --region state --length 16 --out "$T/x"

# ---- refusals ------------------------------------------------------------------------
expect_refused "update signed with a lower SVN is refused at finish" \
  ROT_ERROR_POLICY_SVN_BELOW_FLOOR update "$T/hv1b.img"
expect_ok "the refused image's audit record names the SVN it was signed with" \
  'update-finish +ROT_ERROR_POLICY_SVN_BELOW_FLOOR +type=hypervisor svn=1 closed=hypervisor-[ab]$' audit
expect_refused "revert to the other slot is refused below the floor" \
  ROT_ERROR_UPDATE_REVERT_BELOW_FLOOR revert --type hypervisor
expect_refused "an image with a tampered payload byte is refused" \
  ROT_ERROR_IMAGE_DIGEST_MISMATCH update "$T/tampered-payload.img"
expect_refused "an image with a tampered header byte is refused" \
  ROT_ERROR_IMAGE_BAD_SIGNATURE update "$T/tampered-header.img"
expect_refused "an image staged as the wrong type is refused" \
  ROT_ERROR_POLICY_TYPE_MISMATCH update --type dtb "$T/hv2.img"
expect_refused "an image larger than its slot is refused" \
  ROT_ERROR_UPDATE_TOO_LARGE update "$T/dtb-big.img"
expect_ok "after every refusal the confirmed v2 is still active and verified" \
  '^hypervisor-b +hypervisor +active +2\.0\.0 +2 .*verified' inventory
expect_ok "boot still picks the confirmed v2" 'boot hypervisor-b \(active\).* 2\.0\.0 svn 2' boot --type hypervisor
run reset

# ---- raw frames: sessions, hostile input ------------------------------------------------
# The helper speaks the wire format itself (docs/mailbox.md) and prints
# TAP lines; error codes come from error.h so they are never copied here.
cat >"$T/mbox.py" <<'EOF'
import os, re, socket, struct, sys, time

path, scenario = sys.argv[1], sys.argv[2]
# error.h is copied next to this script (a test may run it as another uid).
hdr = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "error.h")).read()
mods = dict(re.findall(r"#define ROT_MOD_(\w+) (0x[0-9a-f]+)", hdr))
E = {}
for name, mod, num in re.findall(r"X\(ROT_ERROR_(\w+), ROT_MOD_(\w+), (\d+),", hdr):
    m, n = int(mods[mod], 16), int(num)
    E[name] = (m << 24) | (n << 16) | (~((m << 8) | n) & 0xffff)
OK = 0x739
NAMES = {v: k for k, v in E.items()}
NAMES[OK] = "OK"
C = dict(STATUS=1, INVENTORY=2, READ_REGION=3, BEGIN=0x10, CHUNK=0x11, FINISH=0x12,
         ABORT=0x13, ACTIVATE=0x14, BOOT=0x20, AUDIT_READ=0x30, LOCK=0x40)
failed = 0

def frame(cmd, payload=b"", seq=7, flags=0, status=0, magic=0x4d52, ver=1, rsv=0, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("<HBBHHIII", magic, ver, flags, cmd, rsv, seq, status, plen) + payload

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    return s

def xfer(s, data):
    s.send(data)
    r = s.recv(1 << 20)
    if len(r) < 20:
        return None, r
    magic, ver, flags, cmd, rsv, seq, status, plen = struct.unpack("<HBBHHIII", r[:20])
    if magic != 0x4d52 or ver != 1 or not flags & 1 or plen != len(r) - 20:
        return None, r
    return status, r[20:]

def check(name, got, want, extra=""):
    global failed
    if got == want:
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - " + name)
        print("#   want %s got %s %s" % (NAMES.get(want, want), NAMES.get(got, got), extra))

def expect(name, s, data, want):
    try:
        status, _ = xfer(s, data)
    except OSError as e:
        status = "no reply (%s)" % e
    check(name, status, want)

img = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else b""
begin = lambda t, n: frame(C["BEGIN"], struct.pack("<II", t, n))
chunk = lambda off, data: frame(C["CHUNK"], struct.pack("<II", off, len(data)) + data)
HV = 3

if scenario == "hostile":
    s = conn()
    expect("hostile: 5-byte frame gets BAD_FRAME", s, b"\x52\x4d\x01\x00\x01", E["MAILBOX_BAD_FRAME"])
    expect("hostile: empty message gets BAD_FRAME", s, b"", E["MAILBOX_BAD_FRAME"])
    expect("hostile: 70000-byte frame gets TOO_LARGE", s, frame(C["CHUNK"], bytes(70000 - 20)), E["MAILBOX_TOO_LARGE"])
    expect("hostile: payload_len 0xffffffff gets TOO_LARGE", s, frame(C["STATUS"], plen=0xffffffff), E["MAILBOX_TOO_LARGE"])
    expect("hostile: bad magic gets BAD_FRAME", s, frame(C["STATUS"], magic=0x1234), E["MAILBOX_BAD_FRAME"])
    expect("hostile: version 2 gets BAD_VERSION", s, frame(C["STATUS"], ver=2), E["MAILBOX_BAD_VERSION"])
    expect("hostile: payload_len longer than the frame gets BAD_LENGTH", s, frame(C["BOOT"], struct.pack("<I", HV), plen=8), E["MAILBOX_BAD_LENGTH"])
    expect("hostile: payload_len shorter than the frame gets BAD_LENGTH", s, frame(C["BOOT"], struct.pack("<I", HV), plen=2), E["MAILBOX_BAD_LENGTH"])
    expect("hostile: reserved field set gets BAD_FRAME", s, frame(C["STATUS"], rsv=1), E["MAILBOX_BAD_FRAME"])
    expect("hostile: unknown flag bit gets BAD_FRAME", s, frame(C["STATUS"], flags=0x80), E["MAILBOX_BAD_FRAME"])
    expect("hostile: a response sent as a request gets BAD_FRAME", s, frame(C["STATUS"], flags=1), E["MAILBOX_BAD_FRAME"])
    expect("hostile: a request with a status gets BAD_FRAME", s, frame(C["STATUS"], status=OK), E["MAILBOX_BAD_FRAME"])
    expect("hostile: unknown command gets UNKNOWN_COMMAND", s, frame(0x7777), E["MAILBOX_UNKNOWN_COMMAND"])
    expect("hostile: status with a payload gets TOO_LARGE", s, frame(C["STATUS"], b"x"), E["MAILBOX_TOO_LARGE"])
    expect("hostile: boot with a short payload gets BAD_ARGS", s, frame(C["BOOT"], b"\x03\x00"), E["MAILBOX_BAD_ARGS"])
    expect("hostile: chunk length disagreeing with its data gets BAD_ARGS", s, frame(C["CHUNK"], struct.pack("<II", 0, 10) + bytes(4)), E["MAILBOX_BAD_ARGS"])
    expect("hostile: chunk before begin gets NO_SESSION", s, chunk(0, bytes(16)), E["UPDATE_NO_SESSION"])
    expect("hostile: finish before begin gets NO_SESSION", s, frame(C["FINISH"]), E["UPDATE_NO_SESSION"])
    expect("hostile: read of 128 KiB gets TOO_LARGE", s, frame(C["READ_REGION"], struct.pack("<III", 4, 0, 0x20000)), E["MAILBOX_TOO_LARGE"])
    expect("hostile: read past the region end gets GATE_BOUNDS", s, frame(C["READ_REGION"], struct.pack("<III", 6, 0xfffff000, 0x2000)), E["GATE_BOUNDS"])
    expect("hostile: read of region 99 gets GATE_BAD_REGION", s, frame(C["READ_REGION"], struct.pack("<III", 99, 0, 16)), E["GATE_BAD_REGION"])
    expect("hostile: begin of type 0 gets BAD_TYPE", s, begin(0, 4096), E["UPDATE_BAD_TYPE"])
    expect("hostile: begin of 40 MiB hypervisor gets TOO_LARGE", s, begin(HV, 40 << 20), E["UPDATE_TOO_LARGE"])
    expect("hostile: lock of region 99 gets GATE_BAD_REGION", s, frame(C["LOCK"], struct.pack("<I", 99)), E["GATE_BAD_REGION"])
    expect("hostile: audit read of 0 records gets BAD_ARGS", s, frame(C["AUDIT_READ"], struct.pack("<II", 1, 0)), E["MAILBOX_BAD_ARGS"])
    status, _ = xfer(s, frame(C["STATUS"]))
    check("hostile: the same connection still gets status", status, OK)

elif scenario == "busy":
    a, b = conn(), conn()
    expect("busy: first connection begins a session", a, begin(HV, len(img)), OK)
    expect("busy: a second connection's begin gets UPDATE_BUSY", b, begin(HV, len(img)), E["UPDATE_BUSY"])
    expect("busy: a second connection's chunk gets UPDATE_BUSY", b, chunk(0, img[:4096]), E["UPDATE_BUSY"])
    expect("busy: a second connection's finish gets UPDATE_BUSY", b, frame(C["FINISH"]), E["UPDATE_BUSY"])
    expect("busy: a second connection's abort gets UPDATE_BUSY", b, frame(C["ABORT"]), E["UPDATE_BUSY"])
    expect("busy: the owner's out-of-order chunk gets OUT_OF_ORDER", a, chunk(4096, img[4096:8192]), E["UPDATE_OUT_OF_ORDER"])
    expect("busy: the owner can abort", a, frame(C["ABORT"]), OK)
    expect("busy: after the abort the other connection can begin", b, begin(HV, len(img)), OK)
    expect("busy: and abort", b, frame(C["ABORT"]), OK)

elif scenario == "interrupted":
    a = conn()
    expect("interrupted: begin", a, begin(HV, len(img)), OK)
    expect("interrupted: first chunk", a, chunk(0, img[:1024]), OK)
    a.close()  # the owner vanishes mid-update
    time.sleep(0.2)
    b = conn()
    expect("interrupted: a new begin works once the owner is gone", b, begin(HV, len(img)), OK)
    expect("interrupted: and its abort", b, frame(C["ABORT"]), OK)

elif scenario == "idle":
    a = conn()
    expect("idle: begin", a, begin(HV, len(img)), OK)
    time.sleep(3.5)  # rotd runs with --idle-timeout 2
    try:
        closed = a.recv(100) == b""
    except OSError:
        closed = True
    check("idle: the idle connection is closed", closed, True)
    expect("idle: its session was aborted: a chunk gets NO_SESSION", conn(), chunk(0, img[:1024]), E["UPDATE_NO_SESSION"])

elif scenario == "unauthorized":
    s = conn()
    expect("unauthorized: a peer of another uid gets UNAUTHORIZED", s, frame(C["STATUS"]), E["MAILBOX_UNAUTHORIZED"])
    try:
        closed = s.recv(100) == b""
    except OSError:
        closed = True
    check("unauthorized: and is disconnected", closed, True)

sys.exit(1 if failed else 0)
EOF

cp rot/include/rot/error.h "$T/error.h"
mbox() { python3 "$T/mbox.py" "$SOCK" "$@"; }
slot_b_sum() { dd if="$FLASH" bs=64k skip=672 count=1 2>/dev/null | sha256sum; }
hvb_before=$(slot_b_sum)
otp_sum=$(sha256sum <"$OTP")

mbox hostile || failed=$((failed + 1))
expect_ok "after hostile frames rotd still serves status" '^lifecycle: +dev' status
[ "$(sha256sum <"$OTP")" = "$otp_sum" ] && ok "OTP file unchanged by hostile frames" ||
  not_ok "OTP file unchanged by hostile frames"
mbox busy "$T/hv3.img" || failed=$((failed + 1))
mbox interrupted "$T/hv3.img" || failed=$((failed + 1))
mbox idle "$T/hv3.img" || failed=$((failed + 1))
[ "$(slot_b_sum)" = "$hvb_before" ] && ok "the active slot's bytes are unchanged by all of it" ||
  not_ok "the active slot's bytes are unchanged by all of it"
[ "$(sha256sum <"$OTP")" = "$otp_sum" ] && ok "OTP file unchanged by sessions that never confirmed" ||
  not_ok "OTP file unchanged by sessions that never confirmed"

# A rotctl update while another connection holds the session.
python3 - "$SOCK" "$T/hv3.img" <<'EOF' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(struct.pack("<HBBHHIII", 0x4d52, 1, 0, 0x10, 0, 1, 0, 8) + struct.pack("<II", 3, 8192))
s.recv(100)
open(sys.argv[1] + ".held", "w").close()
time.sleep(1.5)
EOF
holder=$!
for _ in $(seq 40); do [ -e "$SOCK.held" ] && break; sleep 0.05; done
expect_refused "rotctl update while another connection holds the session: busy" \
  ROT_ERROR_UPDATE_BUSY update "$T/hv3.img"
wait "$holder"

expect_ok "after the interrupted sessions a new update works" 'into hypervisor-a .*svn 3' update "$T/hv3.img"
expect_ok "activate v3 for a trial" 'slot a activated' activate
expect_ok "revert picks the only trial and cancels it" 'hypervisor: active slot b, no trial pending' revert
expect_ok "v2 is still the active image" '^hypervisor +b +- +- +- +2$' status

# ---- locks held by rotd ---------------------------------------------------------------------
if flock -n "$FLASH" true 2>/dev/null; then
  not_ok "flash file is locked against other processes"
else
  ok "flash file is locked against other processes"
fi
if flock -n "$OTP" true 2>/dev/null; then
  not_ok "OTP file is locked against other processes"
else
  ok "OTP file is locked against other processes"
fi
expect_ok "rotctl otp show reads the OTP beside rotd (a shared lock)" 'lifecycle +dev' otp show "$OTP"
expect_refused "rotctl otp revoke is refused while rotd holds the OTP" ROT_ERROR_IO_LOCKED \
  otp revoke --otp "$OTP" --key-index 7
"$ROTD" --flash "$T/other-flash.bin" --otp "$OTP" --socket "$T/other.sock" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "ROT_ERROR_IO_LOCKED" "$T/err" && [ ! -e "$T/other.sock" ]; then
  ok "a second rotd on the same OTP (another flash) is refused: locked"
else
  not_ok "a second rotd on the same OTP is refused" "$(show)"
fi
"$ROTD" --flash "$FLASH" --otp "$OTP" --socket "$T/other.sock" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "ROT_ERROR_IO_LOCKED" "$T/err" &&
  [ ! -e "$T/other.sock" ]; then
  ok "a second rotd on the same files is refused: locked"
else
  not_ok "a second rotd on the same files is refused: locked" "$(show)"
fi

# ---- peer credentials (root only: needs a second uid) -------------------------------------------
# The system python: a per-user interpreter may not be reachable by uid 65534.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ -x /usr/bin/python3 ]; then
  # The socket mode is the first fence; opened up here to reach the second.
  chmod 711 "$T" && chmod 666 "$SOCK"
  (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups \
    /usr/bin/python3 "$T/mbox.py" "$SOCK" unauthorized) || failed=$((failed + 1))
  chmod 600 "$SOCK" && chmod 700 "$T"
  grep -q "rotd: refused peer uid 65534" "$T/rotd.log" && ok "rotd logs the refused peer" ||
    not_ok "rotd logs the refused peer" "$(cat "$T/rotd.log")"
elif [ "$(id -u)" != 0 ]; then
  skip "a peer of another uid is refused, disconnected and logged" "not root: a second uid needs setpriv as root"
else
  skip "a peer of another uid is refused, disconnected and logged" "no setpriv or /usr/bin/python3"
fi

# ---- lock, audit ----------------------------------------------------------------------------------
for r in audit state nvcfg; do
  expect_refused "lock --region $r is refused: the chip's own region" \
    ROT_ERROR_GATE_NOT_LOCKABLE lock --region "$r"
done
expect_ok "the audit log still records after the refused locks" \
  'gate-deny +ROT_ERROR_GATE_NOT_LOCKABLE .*op=lock region=audit' audit
expect_ok "lock --boot locks every host boot region" \
  'locked until reset: opensbi-a opensbi-b hypervisor-a hypervisor-b dtb-a dtb-b recovery-a recovery-b$' lock --boot
expect_refused "an update into a locked slot is refused" ROT_ERROR_GATE_LOCKED update "$T/hv3.img"
expect_ok "inventory marks locked regions" '^hypervisor-b +hypervisor +active,locked' inventory

run audit --verify
audit_ok=1
for step in daemon-start 'update-begin .*type=hypervisor' 'update-finish +ok .*svn=1' \
  'activate +ok' 'boot +ok' 'confirm +ok .*svn=1' 'floor-raised +ok .*floor=1' \
  'floor-raised +ok .*floor=2' 'update-finish +ROT_ERROR_POLICY_SVN_BELOW_FLOOR' \
  'update-finish +ROT_ERROR_IMAGE_DIGEST_MISMATCH' 'update-finish +ROT_ERROR_IMAGE_BAD_SIGNATURE' \
  'update-abort +ROT_ERROR_POLICY_TYPE_MISMATCH' 'update-abort +ROT_ERROR_MAILBOX_CLOSED' \
  'update-abort +ROT_ERROR_UPDATE_TIMEOUT' 'update-abort +ok' 'revert +ok' \
  'gate-deny +ROT_ERROR_GATE_DENIED .*op=read region=state' 'gate-lock +ok .*region=recovery' \
  'update-begin +ok .*opened=hypervisor-a' 'update-finish +ok .*closed=hypervisor-' \
  'audit: chain OK'; do
  grep -qE "$step" "$T/out" || { audit_ok=0; not_ok "audit --verify shows: $step" "$(show)"; }
done
if [ "$rc" -eq 0 ] && [ "$audit_ok" = 1 ]; then
  ok "audit --verify shows every step and reports the chain OK"
else
  not_ok "audit --verify shows every step and reports the chain OK" "$(show)"
fi
expect_ok "audit --verify --json" '"verdict": "ROT_OK"' audit --verify --json

# ---- signals, stale socket, restart ------------------------------------------------------------------
kill -KILL "$PID" && wait "$PID" 2>/dev/null
PID=
if [ -S "$SOCK" ] && start_rotd --idle-timeout 2; then
  ok "a stale socket left by a killed rotd is replaced at start"
else
  not_ok "a stale socket left by a killed rotd is replaced at start" "$(tail -3 "$T/rotd.log")"
fi
expect_ok "state survives the restart: v2 active, floor 2" '^hypervisor +b +- +- +- +2$' status
expect_ok "locks are cleared by the restart (a reset)" '^locked: +none' status
"$ROTD" --flash "$T/f2.bin" --otp "$OTP.missing" --socket "$SOCK" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "rotctl otp provision" "$T/err" &&
  [ ! -e "$T/f2.bin" ]; then
  ok "rotd without a provisioned OTP: one line, non-zero, nothing created"
else
  not_ok "rotd without a provisioned OTP: one line, non-zero, nothing created" "$(show)"
fi
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
if [ "$rc" -eq 0 ] && [ ! -e "$SOCK" ]; then
  ok "SIGTERM: rotd exits 0 and removes its socket"
else
  not_ok "SIGTERM: rotd exits 0 and removes its socket" "rc=$rc"
fi
expect_refused "rotctl without a daemon: cannot connect" ROT_ERROR_MAILBOX_CONNECT status

# --daemon returns only once the socket serves: no start-up race.
if "$ROTD" --flash "$T/f3.bin" --otp "$OTP" --socket "$SOCK" --daemon \
  --pid "$T/rotd.pid" --log "$T/rotd-daemon.log" 2>"$T/err" &&
  "$ROTCTL" status --socket "$SOCK" >/dev/null 2>&1 && kill -0 "$(cat "$T/rotd.pid")"; then
  ok "rotd --daemon: serving when it returns, pid file written"
else
  not_ok "rotd --daemon: serving when it returns, pid file written" "$(cat "$T/err")"
fi
DPID=$(cat "$T/rotd.pid" 2>/dev/null)
[ -n "$DPID" ] && kill -TERM "$DPID"
for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
if [ -n "$DPID" ] && ! kill -0 "$DPID" 2>/dev/null && [ ! -e "$SOCK" ]; then
  ok "rotd --daemon stops on SIGTERM and removes its socket"
else
  not_ok "rotd --daemon stops on SIGTERM and removes its socket"
fi

tap_exit
