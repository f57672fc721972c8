#!/usr/bin/env bash
# `make bench`: side-by-side performance figures (not a test). Each figure
# is printed beside the raw primitive cost or a peer tool doing the same
# work, as a ratio. Sections, each its own script in this directory:
#   verify     signed image verify at 1/16/64 MiB vs raw mbedTLS and openssl
#   update     stage + verify + activate of 16 MiB through rotd vs cp
#   powerfail  cut points per second of the power-fail simulator
#   boot       the measured boot chain vs its primitives, and beside it vs
#              its primitives plus the work the design requires (the chip's
#              image reads and durable audit records, the sealed copies);
#              PCR extends per second vs raw ESAPI and tpm2_pcrextend
#   attest     evidence verifications per second vs the crypto bound and
#              tpm2_checkquote + tpm2_eventlog; quotes per second
#   agent      the host agent's attestations per second and latency at 1,
#              8 and 64 clients, single and batched, vs the ESAPI quote
#              rate and tpm2_quote; batched with a TPM slowed to 100 ms
# Every service a section starts (rotd, swtpm) lives in its own temp dir
# and is stopped when the section exits, whatever happens.
# Usage: tests/bench/bench.sh [BUILD_DIR]
#   BENCH_SECTIONS="verify update powerfail boot attest agent" to run a
#   subset; BENCH_QUICK=1 shortens the agent section (one round).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
SECTIONS=${BENCH_SECTIONS:-verify update powerfail boot attest agent}

mkdir -p "$BUILD/bench"
BENCH_ROWS=$PWD/$BUILD/bench/rows.tsv
export BENCH_ROWS
: >"$BENCH_ROWS"

start=${EPOCHREALTIME/[.,]/}
first=1
for s in $SECTIONS; do
  [ -f "tests/bench/$s.sh" ] || { echo "bench: no section $s" >&2; exit 2; }
  [ $first -eq 1 ] || printf '\n%s\n\n' "========================================================================"
  first=0
  bash "tests/bench/$s.sh" "$BUILD"
done
end=${EPOCHREALTIME/[.,]/}

# results.json from the rows the sections recorded (python's json module
# does the quoting).
python3 - "$BENCH_ROWS" "$BUILD/bench/results.json" <<'PY'
import json, sys
# The issue's goals, as ours/bound ratios (extend: a rate >= 0.8x raw
# ESAPI's is a time ratio <= 1.25).
# The agent's unbatched figures: a rate >= 0.6x the TPM's quote rate.
GOALS = {"verify_1m": 1.05, "verify_16m": 1.05, "verify_64m": 1.05,
         "update_16m": 1.3, "boot": 1.2, "extend": 1.25,
         "agent_single_1": 1 / 0.6, "agent_single_8": 1 / 0.6,
         "agent_single_64": 1 / 0.6}
rows = []
with open(sys.argv[1]) as f:
    for line in f:
        f = line.rstrip("\n").split("\t")
        name, ours, bound, runs, lo, hi, backend = f[:7]
        ours, bound = float(ours), float(bound)
        row = {"name": name, "ours_ms": ours, "bound_ms": bound,
               "ratio": round(ours / bound, 4), "runs": int(runs),
               "min_ms": float(lo), "max_ms": float(hi),
               "backend": backend, "goal_ratio": GOALS.get(name)}
        # Extra numeric members ("key=value ..."), e.g. the agent's rates.
        for kv in (f[7].split() if len(f) > 7 else []):
            k, v = kv.split("=", 1)
            row[k] = float(v)
        rows.append(row)
with open(sys.argv[2], "w") as f:
    json.dump(rows, f, indent=2)
    f.write("\n")
print()
print("%-22s | %10s | %10s | %8s | %8s | %-4s | %s" % ("figure", "ours ms", "bound ms", "ratio", "goal", "met", "backend"))
print("-----------------------+------------+------------+----------+----------+------+--------")
for r in rows:
    g = r["goal_ratio"]
    met = "-" if g is None else ("yes" if r["ratio"] <= g else "no")
    goal = "-" if g is None else "%5.2fx" % g
    if "goal_per_s" in r:
        # An absolute rate goal (the agent's batched figures).
        met = "yes" if r["per_s"] >= r["goal_per_s"] else "no"
        goal = ">=%d/s" % r["goal_per_s"]
    print("%-22s | %10.3f | %10.3f | %7.3fx | %8s | %-4s | %s" % (r["name"], r["ours_ms"], r["bound_ms"], r["ratio"], goal, met, r["backend"]))
print("written: " + sys.argv[2])
PY
awk -v us=$((end - start)) 'BEGIN { printf "\nbench: done in %.0f s\n", us / 1e6 }'
