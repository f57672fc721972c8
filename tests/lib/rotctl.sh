# shellcheck shell=bash
# Sourced by the CLI tests that drive rotd through rotctl as an operator
# (after tests/lib/tap.sh; $ROTCTL and $T set): run a command, and the two
# verdicts every such test asks for.
#
#   run ARGS...                     rotctl; rc, stdout in $T/out, stderr in $T/err
#   show                            one line: rc and the head of both outputs
#   expect_ok NAME PATTERN ARGS...  exit 0, stdout matches PATTERN, stderr empty
#   expect_refused NAME ERROR ARGS...
#                                   exit 1, exactly one stderr line
#                                   "rotctl: ..." naming ERROR
#   start_rotd [ROTD ARGS...]       rotd on $FLASH, $OTP, $SOCK in the
#                                   background ($ROTD; pid in $PID, stderr
#                                   appended to $T/rotd.log); returns once
#                                   it answers, 1 if it dies or never does
#   stop_rotd                       TERM to $PID, waits for it, clears $PID
#   install_rot_firmware KEYS [FW [DIR]]
#                                   tests/lib/rot_firmware.sh (sourced here)

# shellcheck source=tests/lib/rot_firmware.sh
. "$(dirname "${BASH_SOURCE[0]}")/rot_firmware.sh"

run() {
  "$ROTCTL" "$@" >"$T/out" 2>"$T/err"
  rc=$?
}

show() { echo "rc=$rc stdout: $(head -c 400 "$T/out") stderr: $(head -c 300 "$T/err")"; }

expect_ok() {
  local name=$1 pat=$2
  shift 2
  run "$@"
  if [ "$rc" -eq 0 ] && [ ! -s "$T/err" ] && grep -qE "$pat" "$T/out"; then
    ok "$name"
  else
    not_ok "$name" "want exit 0 and /$pat/" "$(show)"
  fi
}

expect_refused() {
  local name=$1 want=$2
  shift 2
  run "$@"
  if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
    grep -q '^rotctl: ' "$T/err" && grep -q "$want" "$T/err"; then
    ok "$name"
  else
    not_ok "$name" "want exit 1 and one line with $want" "$(show)"
  fi
}

start_rotd() {
  "$ROTD" --flash "$FLASH" --otp "$OTP" --socket "$SOCK" "$@" 2>>"$T/rotd.log" &
  PID=$!
  for _ in $(seq 200); do
    [ -S "$SOCK" ] && "$ROTCTL" status >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || return 1
    sleep 0.025
  done
  return 1
}

# Stops the rotd start_rotd started (TERM, then waits for it); a no-op when
# none runs.
stop_rotd() {
  if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null
  fi
  PID=
}

