# shellcheck shell=bash
# Sourced by tests/run.sh (and its self-test, tests/cli/results_test.sh):
# how a test's output becomes passed / failed / skipped counts, and which
# skips CI tolerates. Kept apart from run.sh so the counting can be tested
# on sample outputs without running the whole suite.
#
#   tap_count FILE              TAP lines of a tests/cli script
#   cmocka_count OUT ERR        a cmocka binary's stdout and stderr
#   skip_allowed_in_ci REASON   0 when REASON is on CI_SKIP_ALLOWED
#   is_ci                       0 when CI is set to true (or 1, yes)
#
# The count functions set R_PASS, R_FAIL, R_SKIP and R_SKIPS, one
# "NAME<TAB>REASON" entry per skipped test (REASON "no reason given" when
# the test names none).
#
# A TAP skip is "ok [N] - NAME # skip REASON" (TAP's directive: any case,
# an optional colon before the reason); tests/lib/tap.sh writes it with
# skip NAME REASON. A "not ok" line is a failure whatever it says.
#
# cmocka has no skip reason of its own: a test that calls skip() first
# prints "# skip <test function>: REASON" (print_message), which is matched
# to the "[  SKIPPED ] <test function>" line by name.

# Skips CI accepts. CI runs as root on a fresh Debian 12 machine with every
# package of scripts/deps.sh, so anything software can provide is not an
# excuse there (in particular "not root"). What remains is hardware a CI
# machine may lack; a reason qualifies when it starts with one of these.
CI_SKIP_ALLOWED=(
  "no /dev/kvm"        # hardware virtualisation (nested KVM) unavailable
  "no hardware TPM"    # a physical TPM (/dev/tpmrm0), not swtpm
)

R_PASS=0
R_FAIL=0
R_SKIP=0
R_SKIPS=()

_results_reset() {
  R_PASS=0
  R_FAIL=0
  R_SKIP=0
  R_SKIPS=()
}

_trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  printf '%s' "$s"
}

# tap_count FILE
tap_count() {
  _results_reset
  local line name reason
  local ok_re='^ok([[:space:]]|$)'
  local skip_re='^ok([[:space:]]+[0-9]+)?([[:space:]]+-)?[[:space:]]*(.*)#[[:space:]]*[Ss][Kk][Ii][Pp][[:alpha:]]*[[:space:]:]*(.*)$'
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ $skip_re ]]; then
      name=$(_trim "${BASH_REMATCH[3]}")
      reason=$(_trim "${BASH_REMATCH[4]}")
      R_SKIP=$((R_SKIP + 1))
      R_SKIPS+=("${name:-unnamed}"$'\t'"${reason:-no reason given}")
    elif [[ $line =~ $ok_re ]]; then
      R_PASS=$((R_PASS + 1))
    elif [[ $line =~ ^not[[:space:]]ok([[:space:]]|$) ]]; then
      R_FAIL=$((R_FAIL + 1))
    fi
  done <"$1"
}

# _cmocka_total WORD FILE...: the N of cmocka's "[  WORD  ] N test(s)"
# summary line, or 0. The summary goes to stderr; it is matched anywhere on
# a line in case the two streams were mixed.
_cmocka_total() {
  local word=$1 n
  shift
  n=$(cat "$@" 2>/dev/null | grep -o "\[  $word *\] [0-9]* test" | tail -1 |
    grep -o '[0-9][0-9]*')
  printf '%s' "${n:-0}"
}

# cmocka_count STDOUT_FILE STDERR_FILE
cmocka_count() {
  _results_reset
  local name reason line
  R_PASS=$(_cmocka_total PASSED "$1" "$2")
  R_FAIL=$(_cmocka_total FAILED "$1" "$2")
  R_SKIP=$(_cmocka_total SKIPPED "$1" "$2")
  # Each skipped test is named on stdout as it runs and again in the
  # summary on stderr; a binary that dies early may have lost either.
  local names
  names=$(cat "$1" "$2" | grep -o '\[  SKIPPED \] [A-Za-z_][A-Za-z0-9_]*$' |
    sed 's/^\[  SKIPPED \] //' | sort -u)
  local -A why=()
  while IFS= read -r line; do
    if [[ $line =~ ^#[[:space:]]*skip[[:space:]]+([A-Za-z_][A-Za-z0-9_]*):[[:space:]]*(.*)$ ]]; then
      why[${BASH_REMATCH[1]}]=$(_trim "${BASH_REMATCH[2]}")
    fi
  done < <(cat "$1" "$2")
  local n=0
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    reason=${why[$name]:-}
    R_SKIPS+=("$name"$'\t'"${reason:-no reason given}")
    n=$((n + 1))
  done <<<"$names"
  [ "$n" -le "$R_SKIP" ] || R_SKIP=$n
  # Skipped without a name line (output lost): still counted, still shown.
  while [ "${#R_SKIPS[@]}" -lt "$R_SKIP" ]; do
    R_SKIPS+=("unnamed"$'\t'"no reason given")
  done
}

is_ci() {
  case ${CI:-} in
    true | TRUE | True | 1 | yes) return 0 ;;
    *) return 1 ;;
  esac
}

# skip_allowed_in_ci REASON: the reason is an allowed one, or starts with
# one followed by a separator (": detail", " (detail)", ...).
skip_allowed_in_ci() {
  local reason=$1 e
  for e in "${CI_SKIP_ALLOWED[@]}"; do
    case $reason in
      "$e" | "$e"[[:space:]:,\;\(]*) return 0 ;;
    esac
  done
  return 1
}
