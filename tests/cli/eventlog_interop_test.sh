#!/usr/bin/env bash
# Event log interop with tpm2-tools 5.4 and a real (software) TPM.
#
# A log written by the bootchain writer (eventlog_gen, following
# docs/pcr-plan.md, over Debian's OpenSBI and U-Boot when installed) is
# extended event by event into a private swtpm with tpm2_pcrextend; then
#   - tpm2_eventlog parses the log with exit 0 and nothing on stderr,
#   - its replayed PCRs equal tpm2_pcrread in both banks,
#   - the bootchain's own replay equals tpm2_pcrread too,
#   - a log with one digest byte changed no longer matches.
# The swtpm and the temporary directory are removed in every case.
# Usage: tests/cli/eventlog_interop_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1

GEN=$BUILD/bin/eventlog_gen
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
SEL=sha256:0,1,4,5,7+sha384:0,1,4,5,7
START_TIMEOUT_TICKS=100 # x 0.05 s

# Short path: the socket name must fit in sun_path.
TMP=$(mktemp -d /tmp/bc-evlog.XXXXXX) || exit 1
SWTPM_PID=

cleanup() {
  if [ -n "$SWTPM_PID" ] && kill -0 "$SWTPM_PID" 2>/dev/null; then
    kill -TERM "$SWTPM_PID" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$SWTPM_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$SWTPM_PID" 2>/dev/null
  fi
  rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass() { echo "ok - $1"; }
fail() {
  echo "not ok - $1"
  [ $# -gt 1 ] && printf '%s\n' "$2" | head -30 | sed 's/^/  # /'
  return 0
}

# "alg pcr hex" lines for PCRs 0,1,4,5,7 from any of the three PCR
# listings (tpm2_pcrread, the pcrs: section of tpm2_eventlog, eventlog_gen
# print): an "  alg:" line, then "  N : [0x]HEX" lines.
norm_pcrs() {
  awk '
    /^[[:space:]]+sha[0-9]+:[[:space:]]*$/ { alg = $1; sub(":", "", alg); next }
    alg != "" && /^[[:space:]]+[0-9]+[[:space:]]*:[[:space:]]*(0x)?[0-9a-fA-F]+[[:space:]]*$/ {
      line = $0; gsub(":", " ", line); split(line, f, " ")
      v = tolower(f[2]); sub("^0x", "", v)
      if (f[1] == 0 || f[1] == 1 || f[1] == 4 || f[1] == 5 || f[1] == 7)
        print alg, f[1], v
    }' | sort
}

if [ ! -x "$GEN" ]; then
  fail "eventlog_gen is built" "missing $GEN (make $GEN)"
  exit 1
fi
for tool in swtpm swtpm_setup swtpm_ioctl tpm2_pcrextend tpm2_pcrread tpm2_eventlog; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    fail "$tool installed" "run scripts/deps.sh"
    exit 1
  fi
done

# ---- a private swtpm with the sha256 and sha384 banks ----
mkdir -p "$TMP/state"
if out=$(swtpm_setup --tpm2 --tpmstate "$TMP/state" --pcr-banks sha256,sha384 \
  --overwrite 2>&1); then
  pass "swtpm_setup with sha256+sha384 banks"
else
  fail "swtpm_setup with sha256+sha384 banks" "$out"
  exit 1
fi
SOCK=$TMP/tpm.sock
if ! out=$(swtpm socket --tpm2 --tpmstate dir="$TMP/state" \
  --server type=unixio,path="$SOCK" --ctrl type=unixio,path="$SOCK.ctrl" \
  --flags startup-clear --daemon --pid file="$TMP/swtpm.pid" \
  --log file="$TMP/swtpm.log" 2>&1); then
  fail "swtpm starts" "$out"
  exit 1
fi
SWTPM_PID=$(tr -dc '0-9' <"$TMP/swtpm.pid" 2>/dev/null)
up=0
for _ in $(seq 1 $START_TIMEOUT_TICKS); do
  if [ -S "$SOCK" ] && swtpm_ioctl --unix "$SOCK.ctrl" -c >/dev/null 2>&1; then
    up=1
    break
  fi
  sleep 0.05
done
if [ $up -eq 1 ] && [ -n "$SWTPM_PID" ]; then
  pass "swtpm starts on a private socket"
else
  fail "swtpm starts on a private socket" "$(cat "$TMP/swtpm.log" 2>/dev/null)"
  exit 1
fi
export TPM2TOOLS_TCTI="swtpm:path=$SOCK"

# ---- write the log; extend the same digests into the TPM ----
args=("$TMP/boot.log")
[ -r "$OPENSBI" ] && args+=(--opensbi "$OPENSBI")
[ -r "$UBOOT" ] && args+=(--payload "$UBOOT")
if out=$("$GEN" write "${args[@]}" 2>&1 >"$TMP/digests"); then
  pass "writer produces a log ($(wc -l <"$TMP/digests") events, $(wc -c <"$TMP/boot.log") bytes)"
else
  fail "writer produces a log" "$out"
  exit 1
fi

n=0
ext_ok=1
while IFS= read -r line; do
  if ! out=$(tpm2_pcrextend "$line" 2>&1); then
    ext_ok=0
    fail "tpm2_pcrextend $line" "$out"
    break
  fi
  n=$((n + 1))
done <"$TMP/digests"
if [ $ext_ok -eq 1 ] && [ $n -gt 0 ]; then
  pass "tpm2_pcrextend: $n events extended into both banks"
else
  [ $n -gt 0 ] || fail "tpm2_pcrextend: digests to extend"
  exit 1
fi

if ! tpm2_pcrread "$SEL" >"$TMP/pcrread" 2>"$TMP/pcrread.err"; then
  fail "tpm2_pcrread $SEL" "$(cat "$TMP/pcrread.err")"
  exit 1
fi
norm_pcrs <"$TMP/pcrread" >"$TMP/tpm.pcrs"
if [ "$(wc -l <"$TMP/tpm.pcrs")" -eq 10 ]; then
  pass "tpm2_pcrread shows PCRs 0,1,4,5,7 in both banks"
else
  fail "tpm2_pcrread shows PCRs 0,1,4,5,7 in both banks" "$(cat "$TMP/pcrread")"
fi

# ---- tpm2_eventlog: clean parse, same PCRs ----
tpm2_eventlog "$TMP/boot.log" >"$TMP/eventlog.yaml" 2>"$TMP/eventlog.err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$TMP/eventlog.err" ]; then
  pass "tpm2_eventlog parses the log: exit 0, empty stderr"
else
  fail "tpm2_eventlog parses the log: exit 0, empty stderr" \
    "exit $rc; stderr: $(cat "$TMP/eventlog.err")"
fi
events=$(grep -c '^- EventNum:' "$TMP/eventlog.yaml")
want=$(($(wc -l <"$TMP/digests") + 1))
if [ "$events" -eq "$want" ]; then
  pass "tpm2_eventlog lists every event ($events with the Spec ID header)"
else
  fail "tpm2_eventlog lists every event" "got $events, want $want"
fi
sed -n '/^pcrs:/,$p' "$TMP/eventlog.yaml" | norm_pcrs >"$TMP/eventlog.pcrs"
if [ -s "$TMP/eventlog.pcrs" ] && diff -u "$TMP/tpm.pcrs" "$TMP/eventlog.pcrs" >"$TMP/d1"; then
  pass "tpm2_eventlog replay equals tpm2_pcrread (sha256 and sha384)"
else
  fail "tpm2_eventlog replay equals tpm2_pcrread (sha256 and sha384)" "$(cat "$TMP/d1")"
fi

# ---- the bootchain's own parser and replayer agree ----
if "$GEN" print "$TMP/boot.log" >"$TMP/own.txt" 2>&1; then
  pass "bootchain parser accepts the log and every data-bound digest"
else
  fail "bootchain parser accepts the log and every data-bound digest" "$(tail -5 "$TMP/own.txt")"
fi
sed -n '/^replayed PCRs:/,$p' "$TMP/own.txt" | norm_pcrs >"$TMP/own.pcrs"
if [ -s "$TMP/own.pcrs" ] && diff -u "$TMP/tpm.pcrs" "$TMP/own.pcrs" >"$TMP/d2"; then
  pass "bootchain replay equals tpm2_pcrread (sha256 and sha384)"
else
  fail "bootchain replay equals tpm2_pcrread (sha256 and sha384)" "$(cat "$TMP/d2")"
fi

# ---- a changed digest is caught by both replays ----
# The first record's first digest byte: Spec ID record, then 12 bytes of
# record header and 2 of algorithm id.
hdr_len=$((32 + $(od -An -tu4 -j28 -N4 "$TMP/boot.log" | tr -d ' ')))
off=$((hdr_len + 14))
cp "$TMP/boot.log" "$TMP/bad.log"
orig=$(od -An -tu1 -j"$off" -N1 "$TMP/bad.log" | tr -d ' ')
printf "$(printf '\\%03o' $(((orig ^ 1) & 255)))" |
  dd of="$TMP/bad.log" bs=1 seek="$off" conv=notrunc status=none
tpm2_eventlog "$TMP/bad.log" 2>/dev/null | sed -n '/^pcrs:/,$p' | norm_pcrs >"$TMP/bad1.pcrs"
"$GEN" print "$TMP/bad.log" 2>/dev/null | sed -n '/^replayed PCRs:/,$p' | norm_pcrs >"$TMP/bad2.pcrs"
if [ -s "$TMP/bad1.pcrs" ] && ! cmp -s "$TMP/tpm.pcrs" "$TMP/bad1.pcrs" &&
  ! cmp -s "$TMP/tpm.pcrs" "$TMP/bad2.pcrs"; then
  pass "a log with one digest byte changed no longer matches the TPM"
else
  fail "a log with one digest byte changed no longer matches the TPM"
fi

# ---- firmware logs: bootchain log reads what tpm2_eventlog reads ----
# The inputs are the fuzz seeds (tests/fuzz/corpus/fuzz_eventlog).
BC=$BUILD/bin/bootchain
SEEDS=tests/fuzz/corpus/fuzz_eventlog
# "alg pcr hex" of every PCR in the replay section.
all_pcrs() {
  awk '
    /^[[:space:]]+sha[0-9]+:[[:space:]]*$/ { alg = $1; sub(":", "", alg); next }
    alg != "" && /^[[:space:]]+[0-9]+[[:space:]]*:[[:space:]]*(0x)?[0-9a-fA-F]+[[:space:]]*$/ {
      line = $0; gsub(":", " ", line); split(line, f, " ")
      v = tolower(f[2]); sub("^0x", "", v); print alg, f[1], v
    }' | sort
}
for seed in valid_fw_pfp_digest_rules valid_fw_fewer_digests; do
  tpm2_eventlog "$SEEDS/$seed.log" >"$TMP/$seed.yaml" 2>/dev/null
  rc1=$?
  "$BC" log "$SEEDS/$seed.log" >"$TMP/$seed.txt" 2>/dev/null
  rc2=$?
  sed -n '/^pcrs:/,$p' "$TMP/$seed.yaml" | all_pcrs | grep "^sha256 " >"$TMP/a"
  sed -n '/^replayed PCRs:/,$p' "$TMP/$seed.txt" | all_pcrs | grep "^sha256 " >"$TMP/b"
  want=0
  [ "$seed" = valid_fw_fewer_digests ] && want=3
  if [ $rc1 -eq 0 ] && [ $rc2 -eq $want ] && [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"; then
    pass "$seed: tpm2_eventlog and bootchain log accept it, same sha256 replay (exit $rc2)"
  else
    fail "$seed: tpm2_eventlog and bootchain log agree" "exit $rc1/$rc2; $(diff "$TMP/a" "$TMP/b")"
  fi
done
if grep -q "^warning: 1 events carry fewer digests" "$TMP/valid_fw_fewer_digests.txt" &&
  grep -q "sha384: not replayed" "$TMP/valid_fw_fewer_digests.txt"; then
  pass "a record with fewer digests than banks: read with a warning, that bank not replayed"
else
  fail "fewer digests: warning and bank not replayed" "$(tail -5 "$TMP/valid_fw_fewer_digests.txt")"
fi
tpm2_eventlog "$SEEDS/valid_fw_tcg12_sha1.log" >"$TMP/sha1.yaml" 2>/dev/null
rc1=$?
"$BC" log "$SEEDS/valid_fw_tcg12_sha1.log" >"$TMP/sha1.txt" 2>/dev/null
rc2=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 3 ] && grep -q "TCG 1.2" "$TMP/sha1.txt" &&
  grep -q "hash of data: not checked" "$TMP/sha1.txt" &&
  ! grep -q "hash of data: ok" "$TMP/sha1.txt"; then
  pass "TCG 1.2 SHA-1 log: parsed, its digests 'not checked', exit 3"
else
  fail "TCG 1.2 SHA-1 log" "exit $rc1/$rc2; $(tail -5 "$TMP/sha1.txt")"
fi
"$BC" log "$SEEDS/valid_fw_startup_locality.log" >"$TMP/loc.txt" 2>/dev/null
rc=$?
if [ $rc -eq 0 ] && grep -q "startup locality 3" "$TMP/loc.txt"; then
  pass "a log that begins with StartupLocality is read, PCR 0 starting at locality 3"
else
  fail "StartupLocality log" "exit $rc; $(tail -5 "$TMP/loc.txt")"
fi
for seed in hostile_short_variable_data hostile_short_firmware_blob; do
  tpm2_eventlog "$SEEDS/$seed.log" >/dev/null 2>&1
  rc1=$?
  "$BC" log "$SEEDS/$seed.log" >/dev/null 2>"$TMP/err"
  rc2=$?
  if [ $rc1 -ne 0 ] && [ $rc2 -eq 1 ] && grep -q ROT_ERROR_EVENTLOG_BAD_EVENT "$TMP/err"; then
    pass "$seed: refused by both tpm2_eventlog and bootchain log"
  else
    fail "$seed: refused by both" "exit $rc1/$rc2"
  fi
done
exit 0
