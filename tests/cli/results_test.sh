#!/usr/bin/env bash
# The counting tests/run.sh relies on (tests/lib/results.sh), on sample
# outputs: TAP lines as tests/lib/tap.sh writes them, and the output of a
# real cmocka binary built here against the installed cmocka, so a change
# in its format shows up as a failure here rather than as tests silently
# counted as passed. Also the CI skip policy.
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/results_test.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/lib/results.sh
. tests/lib/results.sh
tap_tmpdir

# expect_counts NAME PASS FAIL SKIP [NAME<TAB>REASON...]
expect_counts() {
  local name=$1 p=$2 f=$3 s=$4
  shift 4
  local want got
  want=$(printf '%s\n' "$p passed, $f failed, $s skipped" "$@")
  got=$(printf '%s\n' "$R_PASS passed, $R_FAIL failed, $R_SKIP skipped" \
    ${R_SKIPS[@]+"${R_SKIPS[@]}"})
  if [ "$got" = "$want" ]; then
    ok "$name"
  else
    not_ok "$name" "want: $(printf '%s' "$want" | tr '\n\t' '|>')" \
      "got:  $(printf '%s' "$got" | tr '\n\t' '|>')"
  fi
}

TAB=$'\t'

# ---- TAP ----------------------------------------------------------------------
# skip, ok and not_ok are the helpers the scripts use; run in a subshell so
# the failure they count is not this script's.
(
  ok "plain pass"
  skip "helper skip" "no /dev/kvm"
  not_ok "a failure" "with a detail line"
) >"$T/helpers.tap"
tap_count "$T/helpers.tap"
expect_counts "tap: the helpers' ok, skip and not_ok lines count apart" 1 1 1 \
  "helper skip${TAB}no /dev/kvm"

if (skip "no reason") >/dev/null 2>&1; then
  not_ok "tap: skip without a reason is refused"
else
  ok "tap: skip without a reason is refused"
fi

cat >"$T/forms.tap" <<'EOF'
1..9
ok 1 - numbered pass
ok 2 - numbered skip # SKIP not root: needs a second uid
ok - older form # skip: needs root, setpriv and /usr/bin/python3
ok - a name that mentions skip is a pass
ok - no reason # skip
ok
not ok - a failure that says # skip is still a failure
not ok 8
# ok - a comment is not a test
  ok - nor an indented line
ok - skipped lowercase reason # Skipped no hardware TPM (/dev/tpmrm0)
EOF
tap_count "$T/forms.tap"
expect_counts "tap: numbered, unnumbered, any-case and reasonless skips" 3 2 4 \
  "numbered skip${TAB}not root: needs a second uid" \
  "older form${TAB}needs root, setpriv and /usr/bin/python3" \
  "no reason${TAB}no reason given" \
  "skipped lowercase reason${TAB}no hardware TPM (/dev/tpmrm0)"

: >"$T/empty.tap"
tap_count "$T/empty.tap"
expect_counts "tap: no output counts nothing" 0 0 0

# ---- cmocka ---------------------------------------------------------------------
cat >"$T/suite.c" <<'EOF'
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void t_pass_one(void **state) { (void)state; }
static void t_pass_two(void **state) { (void)state; }
static void t_fail(void **state) {
  (void)state;
  assert_int_equal(1, 2);
}
static void t_skip_reason(void **state) {
  (void)state;
  print_message("# skip %s: no /dev/kvm\n", __func__);
  skip();
}
static void t_skip_silent(void **state) {
  (void)state;
  skip();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_pass_one),    cmocka_unit_test(t_skip_reason),
      cmocka_unit_test(t_fail),        cmocka_unit_test(t_skip_silent),
      cmocka_unit_test(t_pass_two),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
EOF
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
if ${CC:-cc} -o "$T/suite" "$T/suite.c" $(pkg-config --cflags --libs cmocka) \
  2>"$T/cc.err"; then
  "$T/suite" >"$T/out" 2>"$T/err"
  cmocka_count "$T/out" "$T/err"
  expect_counts "cmocka: passes, failures and named skips with their reasons" \
    2 1 2 "t_skip_reason${TAB}no /dev/kvm" "t_skip_silent${TAB}no reason given"
  # Both streams in one file: each skip is then named twice.
  "$T/suite" >"$T/mixed" 2>&1
  cmocka_count "$T/mixed" /dev/null
  expect_counts "cmocka: one mixed stream counts the same" \
    2 1 2 "t_skip_reason${TAB}no /dev/kvm" "t_skip_silent${TAB}no reason given"
  # A binary that died before its summary: the skip it got to still counts.
  grep -v 'test(s)' "$T/out" | sed '/t_fail/,$d' >"$T/cut"
  cmocka_count "$T/cut" /dev/null
  expect_counts "cmocka: a skip named before a crash still counts" \
    0 0 1 "t_skip_reason${TAB}no /dev/kvm"
else
  not_ok "cmocka: a sample suite builds" "$(head -c 400 "$T/cc.err")"
fi

# ---- CI policy --------------------------------------------------------------------
policy_ok=1
for r in "no /dev/kvm" "no /dev/kvm: nested virtualisation is off" \
  "no hardware TPM (/dev/tpmrm0)"; do
  skip_allowed_in_ci "$r" || { policy_ok=0; echo "# refused: $r"; }
done
for r in "not root: a second uid needs setpriv as root" "no reason given" \
  "no /dev/kvmfoo" "needs root" "" "no setpriv or /usr/bin/python3"; do
  skip_allowed_in_ci "$r" && { policy_ok=0; echo "# allowed: $r"; }
done
if [ $policy_ok -eq 1 ]; then
  ok "ci: only missing hardware excuses a skip (not root is no excuse)"
else
  not_ok "ci: only missing hardware excuses a skip (not root is no excuse)"
fi

if CI=true is_ci && CI=1 is_ci && ! CI='' is_ci && ! CI=false is_ci &&
  ! (unset CI && is_ci); then
  ok "ci: CI=true turns the policy on, unset or false leaves it off"
else
  not_ok "ci: CI=true turns the policy on, unset or false leaves it off"
fi

tap_exit
