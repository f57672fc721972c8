#!/usr/bin/env bash
# rotd killed with SIGKILL in the middle of update / activate / confirm, on
# its real file-backed flash and OTP, again and again: after every kill
# rotd restarts and rotctl status / inventory / boot / audit --verify must
# show a consistent chip: the last confirmed image (or the one whose
# confirm was under way, if that became durable) is active and verifies,
# the boot decision picks it (or the image on trial), the hypervisor floor
# equals the SVN of the active image with no raise left pending, and the
# audit chain verifies. Then the interrupted cycle is finished and the next
# one starts with a higher SVN.
#
# The kill points come from bash's generator with a fixed seed: a delay
# after the cycle starts, spread over the measured length of one cycle
# (the wall clock decides which operation each delay lands in).
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/rotd_powerfail_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) B=$BUILD ;; *) B=$PWD/$BUILD ;; esac
ROTCTL=$B/bin/rotctl
ROTD=$B/bin/rotd
KILLS=${ROTD_POWERFAIL_KILLS:-30}
SEED=20261126
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/lib/rotctl.sh
. tests/lib/rotctl.sh
tap_tmpdir
PID=
CYCLE=

# Runs on exit (tests/lib/tap.sh), before $T is removed.
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  if [ -n "$CYCLE" ] && kill -0 "$CYCLE" 2>/dev/null; then
    kill -KILL "$CYCLE" 2>/dev/null
    wait "$CYCLE" 2>/dev/null
  fi
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
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

kill_rotd() {
  kill -KILL "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
  PID=
}

# sign N: image N is hypervisor version N.0.0 with SVN N.
sign() {
  "$ROTCTL" sign --keys "$T/keys" --type hypervisor --svn "$1" \
    --version "$1.0.0" "$T/payload.bin" "$T/hv$1.img" >/dev/null 2>"$T/err"
}

# One update cycle of image N; each step that returned success leaves a
# marker, so the test knows what is durable and what was under way.
# A cycle starts with a chip reset: the last boot decision (the previous
# cycle's trial boot, or a snapshot's) locked the boot regions.
cycle() {
  local n=$1
  "$ROTCTL" reset >/dev/null 2>&1 || return 1
  echo update >"$T/phase"
  "$ROTCTL" update "$T/hv$n.img" >/dev/null 2>&1 || return 1
  echo activate >"$T/phase"
  "$ROTCTL" activate --type hypervisor >/dev/null 2>&1 || return 1
  echo boot >"$T/phase"
  "$ROTCTL" boot --type hypervisor >/dev/null 2>&1 || return 1
  echo confirm >"$T/phase"
  "$ROTCTL" confirm --type hypervisor >/dev/null 2>&1 || return 1
  echo finished >"$T/phase"
}

# What the chip shows, as "key=value" lines: the hypervisor's entry of
# status --json (one key per line), its active slot in the inventory, and
# the boot decision.
snapshot() {
  "$ROTCTL" status --json >"$T/status.json" 2>"$T/err" || return 1
  "$ROTCTL" inventory >"$T/inventory" 2>"$T/err" || return 1
  "$ROTCTL" boot --type hypervisor >"$T/boot" 2>"$T/boot.err"
  echo "boot_rc=$?"
  awk -F': ' '/"type": "hypervisor"/ { hv = 1; next }
    hv && /}/ { exit }
    hv { gsub(/[",]/, "", $1); gsub(/[" ,]/, "", $2); gsub(/ /, "", $1)
         if ($2 == "null") $2 = "-"; print $1 "=" $2 }' "$T/status.json"
  awk '$2 == "hypervisor" && $3 ~ /active/ {
    print "active_version=" $4; print "active_svn=" $5
    print "active_verified=" ($NF == "verified" ? "yes" : "no") }' "$T/inventory"
  sed -n 's/^hypervisor: boot hypervisor-[ab] (\([a-z]*\)): hypervisor \([0-9.]*\) svn.*/boot_reason=\1\nboot_version=\2/p' "$T/boot"
}

# get KEY: a value from the last snapshot.
get() { sed -n "s/^$1=//p" "$T/snap"; }

# ---- keys, OTP, the first confirmed image -----------------------------------------
if ! "$ROTCTL" keygen --out "$T/keys" >/dev/null 2>"$T/err" ||
  ! "$ROTCTL" otp provision --keys "$T/keys" --otp "$OTP" >/dev/null 2>>"$T/err"; then
  not_ok "keygen and otp provision" "$(cat "$T/err")"
  exit 1
fi
head -c 1000000 /dev/urandom >"$T/payload.bin"
if ! start_rotd; then
  not_ok "rotd starts" "$(cat "$T/rotd.log")"
  exit 1
fi
install_rot_firmware "$T/keys" || { not_ok "RoT firmware installs"; exit 1; }
sign 1 || { not_ok "sign image 1" "$(cat "$T/err")"; exit 1; }
if cycle 1; then
  ok "a fault-free cycle installs and confirms image 1"
else
  not_ok "a fault-free cycle installs and confirms image 1" "phase $(cat "$T/phase")"
  exit 1
fi
# The kill window: the shorter of two more fault-free cycles (at least
# 30 ms), in microseconds.
span=
for n in 2 3; do
  sign "$n" || { not_ok "sign image $n" "$(cat "$T/err")"; exit 1; }
  t0=$(date +%s%N)
  if ! cycle "$n"; then
    not_ok "a fault-free cycle confirms image $n" "phase $(cat "$T/phase")"
    exit 1
  fi
  t=$((($(date +%s%N) - t0) / 1000))
  if [ -z "$span" ] || [ "$t" -lt "$span" ]; then span=$t; fi
done
[ "$span" -lt 30000 ] && span=30000
confirmed=3

# ---- the kills ----------------------------------------------------------------------
RANDOM=$SEED
for k in $(seq 1 "$KILLS"); do
  n=$((k + 3))
  rm -f "$T/hv$((n - 1)).img"
  sign "$n" || { not_ok "sign image $n" "$(cat "$T/err")"; break; }
  # Within a cycle's length: with the jitter of process start-up some
  # land after it finished (a kill between commands must be harmless too).
  delay_us=$(((RANDOM * 32768 + RANDOM) % (span + 1)))
  echo start >"$T/phase"
  cycle "$n" &
  CYCLE=$!
  sleep "$(printf '%d.%06d' $((delay_us / 1000000)) $((delay_us % 1000000)))"
  kill_rotd
  wait "$CYCLE" 2>/dev/null
  CYCLE=
  phase=$(cat "$T/phase")
  name="kill $k at $((delay_us / 1000)) ms (during $phase of image $n)"

  if ! start_rotd; then
    not_ok "$name: rotd restarts" "$(tail -5 "$T/rotd.log")"
    break
  fi
  if ! snapshot >"$T/snap"; then
    not_ok "$name: status and inventory answer" "$(cat "$T/err")"
    break
  fi
  # What the history allows: the confirmed image, or image n when its
  # confirm was under way (or done); a trial only of image n once its
  # activate was sent.
  why=()
  active_v=$(get active_version)
  case $phase in
    confirm | finished) may_active="$confirmed.0.0 $n.0.0" ;;
    *) may_active="$confirmed.0.0" ;;
  esac
  case " $may_active " in *" $active_v "*) ;; *) why+=("active image $active_v, allowed: $may_active") ;; esac
  [ "$(get active_verified)" = yes ] || why+=("the active image does not verify")
  [ "$(get svn_floor)" = "$(get active_svn)" ] ||
    why+=("floor $(get svn_floor) but the active image has SVN $(get active_svn)")
  [ "$(get floor_pending)" = 0 ] || why+=("a floor raise to $(get floor_pending) still pending")
  reason=$(get boot_reason)
  boot_v=$(get boot_version)
  case $reason in
    active) [ "$boot_v" = "$active_v" ] || why+=("boot picks $boot_v as active, status says $active_v") ;;
    trial)
      case $phase in activate | boot | confirm | finished) ;; *) why+=("a trial boot before any activate") ;; esac
      [ "$boot_v" = "$n.0.0" ] || why+=("trial boot of $boot_v, not image $n")
      ;;
    *) why+=("boot decision: $reason ($(head -c 200 "$T/boot.err"))") ;;
  esac
  if "$ROTCTL" audit --verify >"$T/audit" 2>&1 && grep -q '^audit: chain OK' "$T/audit"; then
    :
  else
    why+=("audit --verify: $(tail -2 "$T/audit")")
  fi
  if [ "${#why[@]}" -eq 0 ]; then
    ok "$name: consistent (active $active_v, floor $(get svn_floor), boot $reason)"
  else
    not_ok "$name: consistent" "${why[@]}"
  fi

  # Finish what the kill interrupted: a trial is confirmed; a confirm that
  # became durable counts; anything else is simply superseded by image n+1.
  if [ "$(get pending)" != - ]; then
    if "$ROTCTL" confirm --type hypervisor >/dev/null 2>"$T/err"; then
      confirmed=$n
    else
      not_ok "$name: the trial can be confirmed after the restart" "$(cat "$T/err")"
    fi
  elif [ "$active_v" = "$n.0.0" ]; then
    confirmed=$n
  fi
done

# ---- after the last kill ----------------------------------------------------------------
n=$((KILLS + 4))
# The cycle's own trial boot was this reset's decision: reset before
# asking again, so the confirmed image is decided afresh.
if sign "$n" && cycle "$n" && "$ROTCTL" reset >/dev/null 2>&1 &&
  "$ROTCTL" boot --type hypervisor >"$T/out" 2>&1 &&
  grep -q "boot hypervisor-[ab] (active).* $n\.0\.0 svn $n" "$T/out"; then
  ok "after $KILLS kills a fault-free cycle still installs, confirms and boots image $n"
else
  not_ok "after $KILLS kills a fault-free cycle still installs, confirms and boots image $n" \
    "phase $(cat "$T/phase")" "$(cat "$T/out" 2>/dev/null)"
fi
if "$ROTCTL" audit --verify >"$T/audit" 2>&1 && grep -q '^audit: chain OK' "$T/audit" &&
  [ "$(grep -c 'daemon-start' "$T/audit")" -ge $((KILLS + 1)) ]; then
  ok "the audit chain verifies and records every restart"
else
  not_ok "the audit chain verifies and records every restart" "$(tail -3 "$T/audit")"
fi
kill -TERM "$PID" 2>/dev/null
wait "$PID" 2>/dev/null
PID=
tap_exit
