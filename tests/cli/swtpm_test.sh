#!/usr/bin/env bash
# scripts/swtpm.sh as the stack and its tests use it: provisioning (banks,
# EK certificate from the project CA), the TCTI it prints working with
# tpm2-tools, idempotent start, clean stop, status, recovery from a crashed
# or foreign pid, and no process left behind on failure.
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/swtpm_test.sh [BUILD_DIR]
# shellcheck disable=SC2317 # functions called through check and trap
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
SWTPM_SH=$ROOT/scripts/swtpm.sh
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir /tmp/bc-swtpm-cli-XXXXXX
D=$T/run
SLEEP_PID=

# Runs on exit (tests/lib/tap.sh), before $T is removed.
cleanup() {
  local d
  for d in "$D" "$T/fail" "$T/rel"; do
    [ -d "$d" ] && bash "$SWTPM_SH" stop "$d" >/dev/null 2>&1
  done
  [ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
}
trap 'exit 130' INT TERM

check() { # check NAME DETAIL CMD...: ok when CMD succeeds
  local name=$1 detail=$2
  shift 2
  if "$@"; then ok "$name"; else not_ok "$name" "$detail"; fi
}

# sh ARGS...: run the script; stdout in $T/out, stderr in $T/err, rc set.
sh_run() {
  bash "$SWTPM_SH" "$@" >"$T/out" 2>"$T/err"
  rc=$?
}
show() { echo "rc=$rc stdout: $(head -c 300 "$T/out") stderr: $(head -c 400 "$T/err")"; }

# alive PID: exists and is not a zombie waiting for PID 1 to reap it.
alive() {
  local st
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
  [ -n "$st" ] && [ "$st" != Z ]
}
not_alive() { ! alive "$1"; }
# live swtpm processes serving directory $1
swtpm_procs() {
  local p n=0
  for p in $(pgrep -x swtpm); do
    alive "$p" && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1/" && n=$((n + 1))
  done
  echo "$n"
}

tap_need swtpm swtpm_setup tpm2_pcrread tpm2_getcap tpm2_nvreadpublic tpm2_nvread openssl

# ---- usage -----------------------------------------------------------------
sh_run --help
check "help exits 0 and shows usage" "$(show)" \
  grep -q 'usage: swtpm.sh start|stop|status|tcti DIR' "$T/out"
sh_run
check "no arguments is a usage error" "$(show)" test "$rc" -eq 2
sh_run frobnicate "$D"
check "unknown command is a usage error" "$(show)" \
  bash -c "[ $rc -eq 2 ] && grep -q 'unknown command' '$T/err'"
sh_run start
check "start without DIR is a usage error" "$(show)" test "$rc" -eq 2
sh_run status "$D"
check "status of a missing dir is 1" "$(show)" test "$rc" -eq 1

# ---- first start: provisions -------------------------------------------------
sh_run start "$D"
TCTI=$(cat "$T/out")
if [ "$rc" -eq 0 ] && [ "$TCTI" = "swtpm:path=$D/tpm.sock" ] && [ "$(wc -l <"$T/out")" -eq 1 ]; then
  ok "start prints the TCTI (and nothing else)"
else
  not_ok "start prints the TCTI (and nothing else)" "$(show)"
  exit 1
fi
check "start is quiet on stderr" "$(show)" test ! -s "$T/err"
check "provisioned: CA, state, configs" "$(ls -R "$D")" \
  test -s "$D/ca/swtpm-localca-rootca-cert.pem" -a -s "$D/ca/issuercert.pem" \
  -a -s "$D/state/tpm2-00.permall" -a -s "$D/swtpm_setup.conf" \
  -a -s "$D/swtpm-localca.conf" -a -s "$D/swtpm-localca.options"
check "sockets: data and .ctrl" "$(ls "$D")" test -S "$D/tpm.sock" -a -S "$D/tpm.sock.ctrl"
sh_run tcti "$D"
check "tcti prints the same string" "$(show)" test "$(cat "$T/out")" = "$TCTI"
sh_run status "$D"
check "status is 0 while running" "$(show)" test "$rc" -eq 0
PID=$(cat "$D/swtpm.pid")

export TPM2TOOLS_TCTI=$TCTI
export TSS2_LOG=all+NONE
if out=$(tpm2_pcrread sha256:0,16+sha384:0 2>&1) &&
  grep -q '^  sha256:' <<<"$out" && grep -q '^  sha384:' <<<"$out"; then
  ok "tpm2_pcrread works through the TCTI"
else
  not_ok "tpm2_pcrread works through the TCTI" "$out"
fi

caps=$(tpm2_getcap pcrs 2>&1)
bank() { sed -n "s/^  - $1: \[\(.*\)\]\$/\1/p" <<<"$caps" | tr -d ' '; }
all_pcrs=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23
if [ "$(bank sha256)" = "$all_pcrs" ] && [ "$(bank sha384)" = "$all_pcrs" ] &&
  [ -z "$(bank sha1)" ] && [ -z "$(bank sha512)" ]; then
  ok "banks: sha256 and sha384 active, sha1 and sha512 off"
else
  not_ok "banks: sha256 and sha384 active, sha1 and sha512 off" "$caps"
fi

nv=$(tpm2_nvreadpublic 2>&1)
has_nv() { grep -q "^$1:" <<<"$nv"; }
check "EK certificates in NV (0x1c00002 RSA, 0x1c00016 ECC)" "$nv" \
  eval 'has_nv 0x1c00002 && has_nv 0x1c00016'
check "platform certificate in NV (0x1c08000)" "$nv" has_nv 0x1c08000

if tpm2_nvread 0x1c00002 -o "$T/ek.der" 2>/dev/null &&
  openssl x509 -inform DER -in "$T/ek.der" -out "$T/ek.pem" 2>/dev/null &&
  out=$(openssl verify -CAfile "$D/ca/swtpm-localca-rootca-cert.pem" \
    -untrusted "$D/ca/issuercert.pem" "$T/ek.pem" 2>&1); then
  ok "EK certificate chains to the project CA"
else
  not_ok "EK certificate chains to the project CA" "${out:-cannot read or convert it}"
fi

# ---- idempotent start ----------------------------------------------------------
zero64=$(printf '%064d' 0)
tpm2_pcrextend "16:sha256=$zero64" >/dev/null 2>&1
before=$(tpm2_pcrread sha256:16 2>&1)
t0=$(date +%s%N)
sh_run start "$D"
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = "$TCTI" ] && [ "$(cat "$D/swtpm.pid")" = "$PID" ] &&
  [ "$(swtpm_procs "$D")" -eq 1 ]; then
  ok "start again: same TCTI, same process (${ms} ms)"
else
  not_ok "start again: same TCTI, same process" "$(show) pid $(cat "$D/swtpm.pid") was $PID"
fi
check "start again keeps the PCRs (no restart)" "$before" \
  test "$(tpm2_pcrread sha256:16 2>&1)" = "$before"

# ---- stop ----------------------------------------------------------------------
sh_run stop "$D"
check "stop exits 0" "$(show)" test "$rc" -eq 0
check "stop leaves no swtpm process" "pid $PID still alive" not_alive "$PID"
check "stop leaves no swtpm for the dir" "$(pgrep -a swtpm)" test "$(swtpm_procs "$D")" -eq 0
check "stop removes the sockets and pid file" "$(ls "$D")" \
  test ! -e "$D/tpm.sock" -a ! -e "$D/tpm.sock.ctrl" -a ! -e "$D/swtpm.pid"
sh_run status "$D"
check "status is 1 after stop" "$(show)" test "$rc" -eq 1
sh_run stop "$D"
check "stop again is a no-op" "$(show)" test "$rc" -eq 0
if tpm2_pcrread sha256:0 >/dev/null 2>&1; then
  not_ok "TCTI fails once stopped" "tpm2_pcrread still works"
else
  ok "TCTI fails once stopped"
fi

# ---- restart: no second provisioning -------------------------------------------
setup_mtime=$(stat -c %Y.%N "$D/setup.log" 2>/dev/null)
ek_before=$(sha256sum "$T/ek.der" | cut -d' ' -f1)
t0=$(date +%s%N)
sh_run start "$D"
ms=$((($(date +%s%N) - t0) / 1000000))
check "restart after stop works (${ms} ms)" "$(show)" \
  bash -c "[ $rc -eq 0 ] && [ '$(cat "$T/out")' = '$TCTI' ]"
check "restart does not provision again" "setup.log changed" \
  test "$(stat -c %Y.%N "$D/setup.log" 2>/dev/null)" = "$setup_mtime"
tpm2_nvread 0x1c00002 -o "$T/ek2.der" >/dev/null 2>&1
check "restart keeps the same EK certificate" "EK changed" \
  test "$(sha256sum "$T/ek2.der" 2>/dev/null | cut -d' ' -f1)" = "$ek_before"

# ---- crash recovery ------------------------------------------------------------
PID=$(cat "$D/swtpm.pid")
kill -9 "$PID"
for _ in $(seq 100); do alive "$PID" || break; sleep 0.02; done
sh_run status "$D"
check "status is 1 after the swtpm crashed" "$(show)" test "$rc" -eq 1
sh_run start "$D"
check "start recovers after a crash (stale sockets)" "$(show)" \
  bash -c "[ $rc -eq 0 ] && tpm2_pcrread sha256:0 >/dev/null 2>&1"
bash "$SWTPM_SH" stop "$D" >/dev/null 2>&1

# A stale pid file whose number now belongs to another process.
sleep 60 &
SLEEP_PID=$!
echo "$SLEEP_PID" >"$D/swtpm.pid"
sh_run status "$D"
check "status ignores a pid file naming another process" "$(show)" test "$rc" -eq 1
sh_run stop "$D"
check "stop never kills a process that is not its swtpm" "sleep $SLEEP_PID died" \
  bash -c "[ $rc -eq 0 ] && kill -0 $SLEEP_PID"
sh_run start "$D"
check "start replaces a foreign pid file" "$(show)" \
  bash -c "[ $rc -eq 0 ] && [ \"\$(cat '$D/swtpm.pid')\" != $SLEEP_PID ]"
kill "$SLEEP_PID" 2>/dev/null
SLEEP_PID=
bash "$SWTPM_SH" stop "$D" >/dev/null 2>&1

# A lost pid file: stop still finds the swtpm by its socket path.
bash "$SWTPM_SH" start "$D" >/dev/null 2>&1
PID=$(cat "$D/swtpm.pid")
rm -f "$D/swtpm.pid"
sh_run stop "$D"
stopped_cleanly() { [ "$rc" -eq 0 ] && not_alive "$PID" && [ "$(swtpm_procs "$D")" -eq 0 ]; }
check "stop finds a swtpm whose pid file was lost" "$(show)" stopped_cleanly

# Two starts at once: both print the TCTI, one swtpm runs.
bash "$SWTPM_SH" start "$D" >"$T/c1" 2>&1 &
c1=$!
bash "$SWTPM_SH" start "$D" >"$T/c2" 2>&1 &
c2=$!
wait "$c1"
r1=$?
wait "$c2"
r2=$?
if [ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] && [ "$(cat "$T/c1")" = "$TCTI" ] &&
  [ "$(cat "$T/c2")" = "$TCTI" ] && [ "$(swtpm_procs "$D")" -eq 1 ]; then
  ok "concurrent starts: one swtpm, both print the TCTI"
else
  not_ok "concurrent starts: one swtpm, both print the TCTI" \
    "rc $r1/$r2: $(cat "$T/c1") / $(cat "$T/c2"); $(swtpm_procs "$D") processes"
fi
bash "$SWTPM_SH" stop "$D" >/dev/null 2>&1

# ---- relative DIR ----------------------------------------------------------------
mkdir -p "$T/rel"
(cd "$T" && bash "$SWTPM_SH" start rel >"$T/out" 2>"$T/err")
rc=$?
check "a relative DIR gives an absolute TCTI path" "$(show)" \
  test "$(cat "$T/out")" = "swtpm:path=$(cd "$T/rel" && pwd -P)/tpm.sock"
bash "$SWTPM_SH" stop "$T/rel" >/dev/null 2>&1

# ---- failures leave nothing behind ---------------------------------------------
F=$T/fail
mkdir -p "$F"
cp -r "$D/ca" "$D/state" "$D"/swtpm_setup.conf "$D"/swtpm-localca.* "$F/"
head -c 4096 /dev/urandom >"$F/state/tpm2-00.permall"
sh_run start "$F"
if [ "$rc" -eq 1 ] && [ ! -s "$T/out" ] && grep -q 'swtpm failed to start' "$T/err" &&
  [ "$(swtpm_procs "$F")" -eq 0 ] && [ ! -e "$F/tpm.sock" ] && [ ! -e "$F/swtpm.pid" ]; then
  ok "corrupt TPM state: clear error, no process, no sockets"
else
  not_ok "corrupt TPM state: clear error, no process, no sockets" "$(show)"
fi

long=$T/$(printf 'x%.0s' $(seq 100))
sh_run start "$long"
check "socket path too long: clear error" "$(show)" \
  bash -c "[ $rc -eq 1 ] && grep -q 'too long' '$T/err' && [ ! -s '$T/out' ]"
rm -rf "$long"

tap_exit
