#!/usr/bin/env bash
# Runs every test and ends with one line: "N passed, N failed".
#   unit:   each cmocka binary under build/test (ASan+UBSan)
#   cli:    tests/cli/*.sh, TAP-style "ok - name" / "not ok - name" lines
#           (the helpers they share live in tests/lib/, never run here)
#   fuzz:   each libFuzzer target replays its checked-in corpus
#   core:   the freestanding RISC-V build of the RoT core
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ROT_BUILD=$PWD/$BUILD
passed=0
failed=0
failures=()

note_fail() { failed=$((failed + 1)); failures+=("$1"); }

# ---- cmocka suites ----
while IFS= read -r bin; do
  [ -x "$bin" ] || continue
  name=${bin#"$BUILD"/test/}
  out=$("$bin" 2>&1)
  rc=$?
  # cmocka writes its summary to stderr while stdout is block-buffered, so
  # the summary may land mid-line: match it anywhere on a line.
  p=$(printf '%s\n' "$out" | grep -o '\[  PASSED  \] [0-9]* test' | tail -1 | grep -o '[0-9][0-9]*')
  f=$(printf '%s\n' "$out" | grep -o '\[  FAILED  \] [0-9]* test' | tail -1 | grep -o '[0-9][0-9]*')
  p=${p:-0}; f=${f:-0}
  passed=$((passed + p))
  if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then
    printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR)|ERROR|Sanitizer|runtime error' | head -20
    [ "$f" -gt 0 ] || f=1
    failed=$((failed + f))
    failures+=("unit/$name (exit $rc)")
  fi
  echo "unit  $name: $p passed, $f failed"
done < <(find "$BUILD/test" -type f -perm -u+x 2>/dev/null | sort)

# ---- CLI and integration scripts ----
for t in tests/cli/*.sh; do
  [ -f "$t" ] || continue
  out=$(bash "$t" "$BUILD" 2>&1)
  rc=$?
  p=$(printf '%s\n' "$out" | grep -c '^ok ')
  f=$(printf '%s\n' "$out" | grep -c '^not ok ')
  passed=$((passed + p))
  if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then
    printf '%s\n' "$out" | grep -A3 '^not ok ' | head -40
    [ "$f" -gt 0 ] || { f=1; printf '%s\n' "$out" | tail -20; }
    failed=$((failed + f))
    failures+=("$t (exit $rc)")
  fi
  echo "cli   $(basename "$t"): $p passed, $f failed"
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
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
