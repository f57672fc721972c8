#!/usr/bin/env bash
# Cut points per second of the power-fail simulator (not a test):
#   full      build/powerfail/powerfail, every cut point of every scenario
#   memo      one scenario with and without the simulator's ECDSA memo, so
#             the memo's share of the rate is visible on the same work
# Usage: tests/bench/powerfail.sh [BUILD_DIR]
# One section of `make bench` (tests/bench/bench.sh runs them all).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
PF=$BUILD/powerfail/powerfail
# Small enough to run without the memo in a few seconds.
SCENARIO=activate

[ -x "$PF" ] || bench_die "$PF not built (run make bench)"

# run_pf ARGS...: prints "points seconds" (wall time of the process).
run_pf() {
  local t0 t1 out points
  now_us t0
  out=$("$PF" "$@") || bench_die "powerfail $* reported violations or failed: $(tail -3 <<<"$out")"
  now_us t1
  points=$(sed -n 's/^powerfail: \([0-9]*\) cut points explored, 0 violations$/\1/p' <<<"$out")
  [ -n "$points" ] || bench_die "powerfail $*: no summary line"
  echo "$points $(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.3f", us / 1e6 }')"
}

echo "bench: power-fail simulator, cut points per second (one process each; sanitizer build)"
full=$(run_pf)
memo=$(run_pf --only "$SCENARIO")
raw=$(run_pf --only "$SCENARIO" --no-memo)
read -r full_pts full_s <<<"$full"
read -r memo_pts memo_s <<<"$memo"
read -r raw_pts raw_s <<<"$raw"

printf '\n%-36s | %10s | %9s | %12s | %s\n' "run" "cut points" "wall s" "cut points/s" "vs --no-memo"
echo "-------------------------------------+------------+-----------+--------------+-------------"
awk -v fp="$full_pts" -v fs="$full_s" -v mp="$memo_pts" -v ms="$memo_s" \
    -v rp="$raw_pts" -v rs="$raw_s" -v sc="$SCENARIO" 'BEGIN {
  raw = rp / rs
  printf "%-36s | %10d | %9.2f | %12.0f | %s\n", "powerfail (full, memo on)", fp, fs, fp / fs, "-"
  printf "%-36s | %10d | %9.2f | %12.0f | %11.1fx\n", "powerfail --only " sc, mp, ms, mp / ms, (mp / ms) / raw
  printf "%-36s | %10d | %9.2f | %12.0f | %11.1fx\n", "powerfail --only " sc " --no-memo", rp, rs, raw, 1
}'
cat <<'EOF'

Columns:
  cut points    cut and torn points explored (each: replay the scenario up
                to the cut, reboot on the damaged flash and OTP, run the
                boot decision, check the invariants); 0 violations in all.
  wall s        wall time of the whole process, set-up included.
  vs --no-memo  rate / the rate without the memo on the same scenario.
Note: the simulator's crypto port memoises ECDSA P-384 verdicts by (key,
  digest, signature) (tests/powerfail/fixture.c), and its checker memoises
  its own verdict per known image and policy (tests/powerfail/model.c,
  not switched off by --no-memo); damaged bytes hash to digests never seen
  and are verified for real. Without the memo even the reduced set
  (--quick --no-memo) took about 4.5 minutes when measured, too long for
  make bench, so only one small scenario is run without it.
  The binary is the sanitizer build (ASan+UBSan, -O1) that make test uses.
EOF
