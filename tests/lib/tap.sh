# Sourced by the tests/cli/*.sh scripts (kept out of tests/cli so that
# tests/run.sh does not run it as a test): the "ok - NAME" / "not ok - NAME"
# lines run.sh counts, the failure count behind the exit status, and the
# private temporary directory each script works in.
#
#   . tests/lib/tap.sh
#   tap_tmpdir [TEMPLATE]   make $T (mktemp -d TEMPLATE); on exit, the
#                           script's own cleanup function runs, if it has
#                           one, then $T is removed
#   ok NAME
#   not_ok NAME [DETAIL...] each DETAIL follows as "#" comment lines
#   skip NAME REASON        "ok - NAME # skip REASON": not run, and why;
#                           run.sh counts it apart, and under CI fails
#                           it unless REASON is one CI cannot meet
#                           (CI_SKIP_ALLOWED in tests/lib/results.sh)
#   tap_exit                exit 0 when nothing failed, else 1
#   tap_need TOOL...        each TOOL on PATH, or "not ok - TOOL is
#                           installed" and the script ends (tap_exit)

failed=0

ok() { echo "ok - $1"; }

skip() { echo "ok - $1 # skip ${2:?skip needs a reason}"; }

not_ok() {
  echo "not ok - $1"
  shift
  local l
  # A detail of several lines (a program's stderr) stays one comment.
  for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
  failed=$((failed + 1))
}

# shellcheck disable=SC2119,SC2120 # the template is optional
tap_tmpdir() {
  T=$(mktemp -d "$@") || exit 1
  trap tap_cleanup EXIT
  # Killed from outside (a runner's timeout, ^C), the script still runs
  # its cleanup: bash runs an EXIT trap on exit, not on a fatal signal.
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# The script's cleanup goes first: what it stops may still write into $T.
tap_cleanup() {
  if declare -F cleanup >/dev/null; then
    cleanup
  fi
  rm -rf -- "$T"
}

tap_exit() { exit $((failed > 0)); }

tap_need() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      not_ok "$tool is installed" "run scripts/deps.sh"
      tap_exit
    fi
  done
}
