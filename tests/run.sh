#!/usr/bin/env bash
# Runs every test and ends with one line: "N passed, N failed, N skipped".
#   unit:   each cmocka binary under build/test (ASan+UBSan)
#   cli:    tests/cli/*.sh, TAP-style "ok - name" / "not ok - name" lines
#           (the helpers they share live in tests/lib/, never run here)
#   fuzz:   each libFuzzer target replays its checked-in corpus
#   core:   the freestanding RISC-V build of the RoT core
#
# A skipped test is neither passed nor failed: it is counted apart and
# printed with its reason ("skip  SUITE NAME: REASON"). With CI=true a skip
# fails the run unless its reason is one CI cannot meet, as listed in
# CI_SKIP_ALLOWED (tests/lib/results.sh): CI is a fresh Debian 12 machine,
# as root, so only missing hardware qualifies. How output is counted lives
# in tests/lib/results.sh (tested by tests/cli/results_test.sh).
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tests/lib/results.sh
. tests/lib/results.sh
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ROT_BUILD=$PWD/$BUILD
passed=0
failed=0
skipped=0
failures=()
TMP=$(mktemp -d) || exit 1
trap 'rm -rf -- "$TMP"' EXIT

note_fail() { failed=$((failed + 1)); failures+=("$1"); }

# note_skips SUITE: count and print the skips in R_SKIPS; under CI, each
# one whose reason is not on the allowed list is also a failure.
note_skips() {
  local e name reason
  for e in ${R_SKIPS[@]+"${R_SKIPS[@]}"}; do
    name=${e%%$'\t'*}
    reason=${e#*$'\t'}
    skipped=$((skipped + 1))
    echo "skip  $1 $name: $reason"
    if is_ci && ! skip_allowed_in_ci "$reason"; then
      note_fail "$1 $name: skipped under CI ($reason)"
    fi
  done
}

# run_suite BIN [BACKEND]: one cmocka binary, on the default crypto
# backend or (with BACKEND) on that one; counts and prints its result.
run_suite() {
  local bin=$1 backend=${2:-} name label p f rc
  name=${bin#"$BUILD"/test/}
  label=$name${backend:+ ($backend)}
  # The streams apart: cmocka writes its summary to stderr while stdout is
  # block-buffered, so mixed they may split each other's lines.
  if [ -n "$backend" ]; then
    ROT_CRYPTO=$backend "$bin" >"$TMP/out" 2>"$TMP/err"
  else
    "$bin" >"$TMP/out" 2>"$TMP/err"
  fi
  rc=$?
  cmocka_count "$TMP/out" "$TMP/err"
  p=$R_PASS f=$R_FAIL
  passed=$((passed + p))
  if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then
    cat "$TMP/out" "$TMP/err" |
      grep -E '^\[  (FAILED|ERROR)|ERROR|Sanitizer|runtime error' | head -20
    [ "$f" -gt 0 ] || f=1
    failed=$((failed + f))
    failures+=("unit/$name${backend:+ on $backend} (exit $rc)")
  fi
  echo "unit  $label: $p passed, $f failed, $R_SKIP skipped"
  note_skips "unit/$name${backend:+($backend)}"
}

# ---- cmocka suites ----
while IFS= read -r bin; do
  [ -x "$bin" ] || continue
  run_suite "$bin"
done < <(find "$BUILD/test" -type f -perm -u+x 2>/dev/null | sort)

# ---- crypto-dependent suites on the other backend ----
# The host port has two crypto backends (rot_host/crypto_host.h); the pass
# above ran the default one. The suites whose verdicts rest on crypto run
# again on the other, so both stay green (test_crypto_backends cross-checks
# them on the same vectors in either pass).
default_backend=${ROT_CRYPTO:-${ROT_CRYPTO_DEFAULT:-openssl}}
for backend in mbedtls openssl; do
  [ "$backend" != "$default_backend" ] || continue
  while IFS= read -r bin; do
    [ -x "$bin" ] || continue
    run_suite "$bin" "$backend"
  done < <(find "$BUILD/test" -type f -perm -u+x \( -name 'test_crypto*' -o \
    -name 'test_image*' -o -name 'test_update*' -o -name 'test_audit' -o \
    -name 'test_server' -o -name 'test_eventlog' \) 2>/dev/null | sort)
done

# ---- CLI and integration scripts ----
for t in tests/cli/*.sh; do
  [ -f "$t" ] || continue
  bash "$t" "$BUILD" >"$TMP/out" 2>&1
  rc=$?
  tap_count "$TMP/out"
  p=$R_PASS f=$R_FAIL
  passed=$((passed + p))
  if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then
    grep -A3 '^not ok ' "$TMP/out" | head -40
    [ "$f" -gt 0 ] || { f=1; tail -20 "$TMP/out"; }
    failed=$((failed + f))
    failures+=("$t (exit $rc)")
  fi
  echo "cli   $(basename "$t"): $p passed, $f failed, $R_SKIP skipped"
  note_skips "cli/$(basename "$t" .sh)"
done

# ---- fuzz corpus replay ----
for f in "$BUILD"/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  t=$(basename "$f")
  dir=tests/fuzz/corpus/$t
  files=()
  [ -d "$dir" ] && while IFS= read -r x; do files+=("$x"); done < <(find "$dir" -type f | sort)
  if [ ${#files[@]} -eq 0 ]; then
    note_fail "fuzz/$t: empty corpus"
    echo "fuzz  $t: no corpus"
    continue
  fi
  if out=$("$f" -runs=0 "${files[@]}" 2>&1); then
    passed=$((passed + 1))
    echo "fuzz  $t: replayed ${#files[@]} inputs"
  else
    printf '%s\n' "$out" | tail -20
    note_fail "fuzz/$t replay"
  fi
done

# ---- freestanding core ----
if out=$(make -s --no-print-directory BUILD="$BUILD" freestanding 2>&1); then
  passed=$((passed + 1))
  printf '%s\n' "$out" | sed 's/^/core  /'
else
  printf '%s\n' "$out"
  note_fail "freestanding core build"
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "failures:"
  printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
