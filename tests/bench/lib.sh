# shellcheck shell=bash
# Helpers shared by the bench sections (sourced, not run).
#
# Wall clocks are bash's own (EPOCHREALTIME, microseconds): forking date(1)
# around a command would add a process start to its figure.

# Microseconds since the epoch.
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

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
