# shellcheck shell=bash
# Helpers shared by the bench sections (sourced, not run).
#
# Wall clocks are bash's own (EPOCHREALTIME, microseconds), read in the
# shell that times the command: forking date(1) around a command would add
# a process start to its figure, and so would `t=$(now_us)` (a command
# substitution forks a subshell even for a function, and the clock would
# be read in that child, before its exit and reaping, or after the fork).

# now_us VAR: microseconds since the epoch into VAR, no fork.
now_us() { printf -v "$1" '%s' "${EPOCHREALTIME/[.,]/}"; }

# Median of the numbers on stdin, one per line (the lower one of the two
# middle values for an even count).
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# key=value lookup in one line of key=value pairs.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# Numeric member of a one-line flat JSON object.
json_num() {
  printf '%s\n' "$1" | tr ',{}' '\n' | sed -n "s/^ *\"$2\": *\([0-9.eE+-]*\) *$/\1/p" | head -1
}

# Space separated values, for "runs:" detail lines.
join_runs() { tr '\n' ' ' | sed 's/ $//'; }

# Filesystem type of a directory, for notes on sync semantics.
fs_type() { df --output=fstype "$1" 2>/dev/null | tail -1 || echo unknown; }

bench_die() {
  echo "bench: $*" >&2
  exit 1
}

# Median, min and max of the numbers on stdin: "median min max".
stats3() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (!NR) exit 1
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m, v[1], v[NR] }'
}

# The crypto backend the stack's host tools run with (ROT_CRYPTO, else the
# build's default, which bench.sh passes in BENCH_BACKEND_DEFAULT).
bench_backend() { echo "${ROT_CRYPTO:-${BENCH_BACKEND_DEFAULT:-openssl}}"; }

# record NAME OURS_MS BOUND_MS RUNS MIN_MS MAX_MS [EXTRA]: one figure for
# results.json (bench.sh collects them); a no-op when a section runs alone.
# EXTRA: more numeric members of the row, as "key=value key=value".
record() {
  [ -n "${BENCH_ROWS:-}" ] || return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$(bench_backend)" \
    "${7:-}" >>"$BENCH_ROWS"
}
