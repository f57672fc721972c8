#!/usr/bin/env bash
# The files and the socket around the chip: every file that holds a secret
# or the device is made 0600 by the normal flow (keygen, otp provision,
# rotd's flash) whatever the umask; a flash or OTP file open to group or
# others is refused by rotd and rotctl with the fix, and left as it was;
# clients pin rotd's socket to an absolute path and refuse a socket served
# by another user (a rotd run as nobody) unless ROT_DAEMON_UID names it.
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/files_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
case $BUILD in /*) B=$BUILD ;; *) B=$PWD/$BUILD ;; esac
ROTCTL=$B/bin/rotctl
ROTD=$B/bin/rotd
BOOTCHAIN=$B/bin/bootchain
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir
PIDS=()
unset ROT_SOCKET ROT_DAEMON_UID

# Runs on exit (tests/lib/tap.sh), before $T is removed: stop every rotd
# this script started, by its pid.
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
}

for bin in "$ROTCTL" "$ROTD" "$BOOTCHAIN"; do
  if [ ! -x "$bin" ]; then
    not_ok "$(basename "$bin") is built" "missing $bin (run make)"
    exit 1
  fi
done

mode() { stat -c %a "$1"; }
show() { echo "rc=$rc stdout: $(head -c 300 "$T/out") stderr: $(head -c 400 "$T/err")"; }
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }

# stop_rotd PID: SIGTERM and wait (rotd removes its socket on the way out).
stop_rotd() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  wait "$1" 2>/dev/null
}

# wait_socket PID SOCK: until SOCK exists, or PID has exited.
wait_socket() {
  for _ in $(seq 200); do
    [ -S "$2" ] && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---- the normal flow makes private files, whatever the umask --------------------
K=$T/keys
OTP=$T/otp.bin
FLASH=$T/flash.bin
run bash -c "umask 000 && exec \"\$0\" keygen --out \"\$1\"" "$ROTCTL" "$K"
if [ "$rc" -eq 0 ] && [ "$(mode "$K/root.key.pem")" = 600 ] &&
  [ "$(mode "$K/sign-0.key.pem")" = 600 ] && [ "$(mode "$K/root.pub.pem")" = 644 ] &&
  [ "$(find "$K" -mindepth 1 | wc -l)" -eq 5 ]; then
  ok "keygen under umask 000: private keys 0600, no temporary files left"
else
  not_ok "keygen under umask 000: private keys 0600, no temporary files left" \
    "$(show)" "$(ls -la "$K" 2>&1)"
fi

run bash -c "umask 000 && exec \"\$0\" otp provision --keys \"\$1\" --otp \"\$2\"" \
  "$ROTCTL" "$K" "$OTP"
if [ "$rc" -eq 0 ] && [ "$(mode "$OTP")" = 600 ]; then
  ok "otp provision under umask 000 creates the OTP 0600"
else
  not_ok "otp provision under umask 000 creates the OTP 0600" "$(show)"
fi

# rotd creates the flash 0600 and starts on private files.
SOCK=$T/rotd.sock
bash -c "umask 000 && exec \"\$0\" --flash \"\$1\" --otp \"\$2\" --socket \"\$3\"" \
  "$ROTD" "$FLASH" "$OTP" "$SOCK" 2>"$T/rotd.err" &
pid=$!
PIDS+=("$pid")
if wait_socket "$pid" "$SOCK" && [ "$(mode "$FLASH")" = 600 ] &&
  "$ROTCTL" --socket "$SOCK" status >/dev/null 2>&1; then
  ok "rotd under umask 000 creates the flash 0600 and serves"
else
  not_ok "rotd under umask 000 creates the flash 0600 and serves" \
    "$(cat "$T/rotd.err")" "flash mode $(mode "$FLASH" 2>&1)"
fi
stop_rotd "$pid"
# Erased flash is holes: a fresh device of 128 MiB, booted once (state and
# audit blocks written), holds a few blocks of disk, not its size.
size=$(stat -c %s "$FLASH" 2>/dev/null || echo 0)
used=$(($(stat -c '%b * %B' "$FLASH" 2>/dev/null || echo 0)))
if [ "$size" -eq $((128 << 20)) ] && [ "$used" -lt $((size / 32)) ]; then
  ok "a fresh flash is sparse ($used of $size bytes on disk)"
else
  not_ok "a fresh flash is sparse" "size $size, on disk $used" \
    "$(du -h --apparent-size "$FLASH" 2>&1) $(du -h "$FLASH" 2>&1)"
fi

# ---- files open to others are refused, named, and left alone ---------------------
# expect_rotd_refuses NAME FILE MODE: rotd exits 1 without serving, one
# stderr line naming FILE, its mode and the fix; FILE keeps MODE.
expect_rotd_refuses() {
  local name=$1 file=$2 m=$3
  # A rotd that wrongly starts is stopped after a while, not waited for.
  run timeout 10 "$ROTD" --flash "$FLASH" --otp "$OTP" --socket "$SOCK"
  if [ "$rc" -eq 1 ] && [ ! -e "$SOCK" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
    grep -q "^rotd: .*$file: mode 0$m " "$T/err" &&
    grep -qF "chmod 600 $file" "$T/err" &&
    grep -q ROT_ERROR_IO_PERMISSIONS "$T/err" && [ "$(mode "$file")" = "$m" ]; then
    ok "$name"
  else
    not_ok "$name" "$(show)" "mode now $(mode "$file")"
  fi
}
chmod 644 "$OTP"
expect_rotd_refuses "rotd refuses a world-readable OTP and leaves it 0644" "$OTP" 644
chmod 640 "$OTP"
expect_rotd_refuses "rotd refuses a group-readable OTP" "$OTP" 640
chmod 600 "$OTP"
chmod 606 "$FLASH"
expect_rotd_refuses "rotd refuses a flash file open to others" "$FLASH" 606
chmod 600 "$FLASH"

# Every rotctl command that opens the OTP refuses it the same way and
# neither fixes nor widens the mode, nor changes a byte.
signed=$T/dtb.img
head -c 256 /dev/urandom >"$T/dtb.bin"
"$ROTCTL" sign --keys "$K" --type dtb --svn 1 --version 1.0.0 "$T/dtb.bin" "$signed" \
  >/dev/null 2>&1 || not_ok "sign a test image"
chmod 644 "$OTP"
sum=$(sha256sum <"$OTP")
# expect_otp_refused NAME ARGS...: exit 1, one line naming the mode and the
# fix; the OTP keeps its mode and its bytes.
expect_otp_refused() {
  local name=$1
  shift
  run "$ROTCTL" "$@"
  if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "mode 0644" "$T/err" &&
    grep -qF "chmod 600 $OTP" "$T/err" && grep -q ROT_ERROR_IO_PERMISSIONS "$T/err" &&
    [ "$(mode "$OTP")" = 644 ] && [ "$(sha256sum <"$OTP")" = "$sum" ]; then
    ok "$name"
  else
    not_ok "$name" "$(show)" "mode now $(mode "$OTP")"
  fi
}
expect_otp_refused "rotctl otp show: refuses a 0644 OTP, leaves it as it was" \
  otp show "$OTP"
expect_otp_refused "rotctl verify --otp: refuses a 0644 OTP, leaves it as it was" \
  verify --otp "$OTP" "$signed"
expect_otp_refused "rotctl otp set-floor: refuses a 0644 OTP, programs nothing" \
  otp set-floor --otp "$OTP" --type dtb --svn 3
expect_otp_refused "rotctl otp revoke: refuses a 0644 OTP, programs nothing" \
  otp revoke --otp "$OTP" --key-index 0
expect_otp_refused "rotctl otp provision: refuses an existing 0644 OTP" \
  otp provision --keys "$K" --otp "$OTP"
chmod 600 "$OTP"
run "$ROTCTL" verify --otp "$OTP" "$signed"
if [ "$rc" -eq 0 ] && [ "$(mode "$OTP")" = 600 ]; then
  ok "rotctl verify --otp on a private OTP: accepted, mode kept"
else
  not_ok "rotctl verify --otp on a private OTP: accepted, mode kept" "$(show)"
fi

# ---- the default socket is absolute --------------------------------------------------
mkdir -p "$T/w/run"
bash -c "exec \"\$0\" --flash \"\$1\" --otp \"\$2\" --socket \"\$3\"" \
  "$ROTD" "$FLASH" "$OTP" "$T/w/run/rotd.sock" 2>"$T/rotd.err" &
pid=$!
PIDS+=("$pid")
if wait_socket "$pid" "$T/w/run/rotd.sock"; then
  (cd "$T/w" && exec "$ROTCTL" status) >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -qE "^rotd: +$T/w/run/rotd.sock$" "$T/out"; then
    ok "rotctl resolves the default socket run/rotd.sock to an absolute path"
  else
    not_ok "rotctl resolves the default socket run/rotd.sock to an absolute path" "$(show)"
  fi
  (cd "$T/w" && exec "$ROTCTL" status --socket run/rotd.sock) >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -qE "^rotd: +$T/w/run/rotd.sock$" "$T/out"; then
    ok "rotctl --socket RELATIVE is made absolute too"
  else
    not_ok "rotctl --socket RELATIVE is made absolute too" "$(show)"
  fi
else
  not_ok "rotd serving run/rotd.sock" "$(cat "$T/rotd.err")"
fi
stop_rotd "$pid"

# ---- a socket served by another user ----------------------------------------------------
# A rotd running as nobody stands in for anyone who bound the path first.
if [ "$(id -u)" -ne 0 ]; then
  not_ok "another-user socket tests need root (to run a rotd as nobody)"
  tap_exit
fi
NOBODY=$(id -u nobody)
N=$T/nobody
mkdir "$N"
cp "$OTP" "$N/otp.bin"
chown -R nobody "$N"
chmod 711 "$T"
setpriv --reuid="$NOBODY" --regid="$(id -g nobody)" --clear-groups \
  "$ROTD" --flash "$N/flash.bin" --otp "$N/otp.bin" --socket "$N/rotd.sock" \
  2>"$T/rotd-nobody.err" &
pid=$!
PIDS+=("$pid")
if ! wait_socket "$pid" "$N/rotd.sock"; then
  not_ok "rotd as nobody serves" "$(cat "$T/rotd-nobody.err")"
  tap_exit
fi
run "$ROTCTL" --socket "$N/rotd.sock" status
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
  grep -q "runs as uid $NOBODY, not as root or as you (uid 0)" "$T/err" &&
  grep -q "ROT_DAEMON_UID=$NOBODY" "$T/err" && grep -q ROT_ERROR_HOST_PEER_UID "$T/err" &&
  [ ! -s "$T/out" ]; then
  ok "rotctl refuses a socket served by uid $NOBODY and names it"
else
  not_ok "rotctl refuses a socket served by uid $NOBODY and names it" "$(show)"
fi
run env ROT_SOCKET="$N/rotd.sock" "$ROTCTL" inventory
if [ "$rc" -eq 1 ] && grep -q ROT_ERROR_HOST_PEER_UID "$T/err"; then
  ok "rotctl refuses it through ROT_SOCKET as well"
else
  not_ok "rotctl refuses it through ROT_SOCKET as well" "$(show)"
fi
run env ROT_DAEMON_UID="$NOBODY" "$ROTCTL" --socket "$N/rotd.sock" status
if [ "$rc" -eq 0 ] && grep -q "^rotd: " "$T/out"; then
  ok "ROT_DAEMON_UID=$NOBODY: rotctl accepts that daemon"
else
  not_ok "ROT_DAEMON_UID=$NOBODY: rotctl accepts that daemon" "$(show)"
fi
run env ROT_DAEMON_UID=12345 "$ROTCTL" --socket "$N/rotd.sock" status
if [ "$rc" -eq 1 ] && grep -q ROT_ERROR_HOST_PEER_UID "$T/err"; then
  ok "ROT_DAEMON_UID naming someone else: still refused"
else
  not_ok "ROT_DAEMON_UID naming someone else: still refused" "$(show)"
fi
run env ROT_DAEMON_UID=nobody "$ROTCTL" --socket "$N/rotd.sock" status
if [ "$rc" -eq 1 ] && grep -q "ROT_DAEMON_UID=nobody: not a user id" "$T/err"; then
  ok "ROT_DAEMON_UID that is not a number: a clear refusal"
else
  not_ok "ROT_DAEMON_UID that is not a number: a clear refusal" "$(show)"
fi
run "$BOOTCHAIN" measure --socket "$N/rotd.sock" --out "$T/m" --tcti "swtpm:path=$T/none"
if [ "$rc" -eq 1 ] && grep -q ROT_ERROR_HOST_PEER_UID "$T/err" &&
  grep -q ROT_DAEMON_UID "$T/err" && [ ! -e "$T/m" ]; then
  ok "bootchain refuses a socket served by uid $NOBODY"
else
  not_ok "bootchain refuses a socket served by uid $NOBODY" "$(show)"
fi
stop_rotd "$pid"
chmod 700 "$T"

tap_exit
