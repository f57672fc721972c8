#!/usr/bin/env bash
# The power-fail simulator's reduced set (make powerfail runs all of it):
# every scenario is covered, every invariant holds at every cut point it
# explores, and two runs print the same counts (it is deterministic).
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/powerfail_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
SIM=$PWD/$BUILD/powerfail/powerfail
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir

if [ ! -x "$SIM" ]; then
  not_ok "powerfail simulator is built" "missing $SIM (run make test)"
  exit 1
fi

"$SIM" --quick >"$T/run1" 2>"$T/err1"
rc=$?
if [ $rc -eq 0 ]; then
  ok "powerfail --quick exits 0"
else
  not_ok "powerfail --quick exits 0" "rc=$rc" "$(grep -m5 VIOLATION "$T/run1")" \
    "$(head -c 300 "$T/err1")"
fi

# One line per scenario: "<name> N cut points (...), M violations, Ts".
for s in stage activate trial-boot confirm revert recovery audit install \
  double-fault types recovery-ab multi-fault end-to-end provision uds revoke \
  floor-burn lifecycle; do
  line=$(grep -E "^$s +[0-9]+ cut points" "$T/run1")
  n=$(printf '%s\n' "$line" | sed -n 's/^[a-z-]* *\([0-9]*\) cut points.*/\1/p')
  v=$(printf '%s\n' "$line" | sed -n 's/.*, \([0-9]*\) violations.*/\1/p')
  if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$v" = 0 ]; then
    ok "powerfail scenario $s: $n cut points, 0 violations"
  else
    not_ok "powerfail scenario $s: cut points explored, 0 violations" \
      "line: ${line:-missing}"
  fi
done

total=$(grep -E '^powerfail: [0-9]+ cut points explored, [0-9]+ violations$' "$T/run1")
n=$(printf '%s\n' "$total" | sed -n 's/^powerfail: \([0-9]*\) cut.*/\1/p')
if [ -n "$n" ] && [ "$n" -ge 1000 ] && printf '%s\n' "$total" | grep -q ', 0 violations$'; then
  ok "powerfail total line: $total"
else
  not_ok "powerfail total line reports >= 1000 cut points, 0 violations" \
    "got: ${total:-missing}"
fi

if [ -z "$(grep VIOLATION "$T/run1")" ]; then
  ok "powerfail prints no violation"
else
  not_ok "powerfail prints no violation" "$(grep -m5 VIOLATION "$T/run1")"
fi

# Deterministic: the same cut points and verdicts on a second run (only
# the timings differ).
"$SIM" --quick >"$T/run2" 2>&1
strip() { sed -E 's/, [0-9.]+s$//; /cut points\/s/d' "$1"; }
if diff <(strip "$T/run1") <(strip "$T/run2") >"$T/diff"; then
  ok "powerfail is deterministic (two runs agree)"
else
  not_ok "powerfail is deterministic (two runs agree)" "$(head -5 "$T/diff")"
fi

# A bad option is refused with a usage message, not ignored.
"$SIM" --seed 1 >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q usage "$T/err"; then
  ok "powerfail refuses an unknown option"
else
  not_ok "powerfail refuses an unknown option" "rc=$rc"
fi

tap_exit
