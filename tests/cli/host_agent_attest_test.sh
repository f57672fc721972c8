#!/usr/bin/env bash
# Attestation through the host agent, against a real swtpm and rotd
# (scripts/stack.sh in a private directory, with its AK, trust/ and
# refvals.json): evidence from /v1/attestation verifies TRUSTED with
# attestctl verify; batched requests in parallel each verify and share one
# quote; Keylime's quotes pass an independent implementation of Keylime's
# quote check; hostile parameters get 400 naming the parameter; the quote
# metrics move.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BIN=$ROOT/$BUILD/bin
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir

S=$T/stack
cleanup() {
  bash "$ROOT/scripts/stack.sh" stop "$S" >/dev/null 2>&1
}

if [ ! -f "$BUILD/riscv/rot_core.o" ]; then
  not_ok "the RoT firmware is built" "missing $BUILD/riscv/rot_core.o (run make freestanding)"
  tap_exit
fi
# A long batching window closed by the batch size: four requests sent
# together share one quote whatever the machine's speed.
BATCH=4
if ! STACK_AGENT_ARGS="--threads 8 --batch-window 2000 --batch-max $BATCH" \
  bash scripts/stack.sh start "$S" "$BUILD" >"$T/stack.out" 2>&1; then
  not_ok "stack starts" "$(cat "$T/stack.out")"
  tap_exit
fi
ok "stack starts (swtpm with an AK, rotd with RoT firmware and identity, agent)"
# shellcheck disable=SC1091
. "$S/ports"
H=http://127.0.0.1:$http

nonce() { openssl rand -hex "${1:-32}"; }
# req URL: $code, body in $T/body.
req() { code=$(curl -s -o "$T/body" -w '%{http_code}' "$@" 2>"$T/curl.err"); }
py() { python3 -c "import json,sys; d=json.load(open('$T/body')); sys.exit(0 if ($1) else 1)" 2>/dev/null; }
show() { echo "code=$code body=$(head -c 400 "$T/body")"; }
# verify NONCE FILE: attestctl verify as a remote verifier would run it.
verify() {
  (cd "$S" && "$BIN/attestctl" verify --policy refvals.json --trust trust --nonce "$1" "$2") >"$T/v.out" 2>&1
}

# ---- the single form -------------------------------------------------------------
N=$(nonce 32)
req "$H/v1/attestation?nonce=$N&pcrs=0,1,4,5,7"
if [ "$code" = 200 ] && py 'd["format"]=="rot-stack-evidence" and d["nonce"]=="'"$N"'" and "batch" not in d'; then
  cp "$T/body" "$T/single.json"
  ok "/v1/attestation: 200 with the evidence document for the nonce"
else
  not_ok "/v1/attestation: 200 with the evidence" "$(show)"
fi
if verify "$N" "$T/single.json" && tail -1 "$T/v.out" | grep -qx TRUSTED; then
  ok "the agent's evidence verifies TRUSTED (attestctl verify: TPM, log, DICE chain, AK endorsement)"
else
  not_ok "the agent's evidence verifies TRUSTED" "$(cat "$T/v.out")"
fi
if ! verify "$(nonce 32)" "$T/single.json" && grep -q "FAIL *nonce" "$T/v.out"; then
  ok "the same evidence for another nonce is refused (replay)"
else
  not_ok "replayed evidence is refused" "$(cat "$T/v.out")"
fi
req "$H/v1/attestation?nonce=$N"
[ "$code" = 200 ] && py 'd["nonce"]=="'"$N"'"' && ok "pcrs defaults to the plan's 0,1,4,5,7" ||
  not_ok "pcrs default" "$(show)"

# ---- the batched form --------------------------------------------------------------
pids=()
for i in $(seq $BATCH); do
  nonce 32 >"$T/n$i"
  curl -s -o "$T/b$i.json" -w '%{http_code}' "$H/v1/attestation?nonce=$(cat "$T/n$i")&batch=1" >"$T/c$i" 2>/dev/null &
  pids+=($!)
done
wait "${pids[@]}"
all=1
for i in $(seq $BATCH); do
  if [ "$(cat "$T/c$i")" != 200 ] || ! verify "$(cat "$T/n$i")" "$T/b$i.json" ||
    ! tail -1 "$T/v.out" | grep -qx TRUSTED || ! grep -q "leaf .* of a $BATCH-nonce batch" "$T/v.out"; then
    all=0
    not_ok "batched request $i verifies TRUSTED" "code $(cat "$T/c$i")" "$(cat "$T/v.out")"
  fi
done
[ $all = 1 ] && ok "$BATCH batched requests in parallel: each verifies TRUSTED as a leaf of a $BATCH-nonce batch"
if python3 - "$T" "$BATCH" <<'PY'
import json, sys
t, n = sys.argv[1], int(sys.argv[2])
evs = [json.load(open(f"{t}/b{i}.json")) for i in range(1, n + 1)]
quotes = {(e["quote"]["attest"], e["quote"]["signature"]) for e in evs}
idx = sorted(e["batch"]["index"] for e in evs)
sys.exit(0 if len(quotes) == 1 and idx == list(range(n)) and all(e["batch"]["size"] == n for e in evs) else 1)
PY
then ok "the batch shares one quote (same TPMS_ATTEST and signature), one leaf each"
else not_ok "the batch shares one quote" "$(head -c 300 "$T/b1.json")"; fi

# ---- metrics -------------------------------------------------------------------------
req "$H/metrics"
if [ "$code" = 200 ] && grep -q '^hostagent_quote_duration_seconds_count [1-9]' "$T/body" &&
  grep -q "^hostagent_quote_batch_size_bucket{le=\"$BATCH\"} [1-9]" "$T/body" &&
  grep -q '^hostagent_quote_batch_size_sum [0-9]' "$T/body" && grep -q '^hostagent_tpm_errors_total 0$' "$T/body"; then
  ok "metrics: quote latency histogram, batch sizes, no TPM errors"
else
  not_ok "metrics: quote series" "$(grep -E 'quote|tpm_errors' "$T/body")"
fi

# ---- Keylime quotes ------------------------------------------------------------------------
# The AK as the TPM holds it (not as the agent says), for the independent
# check of tests/tools/keylime_quote_check.py.
TCTI=$(sed -n 's/^tcti = //p' "$S/agent.conf")
"$BIN/attestctl" ak show --tcti "$TCTI" --pem "$T/ak.pem" >/dev/null 2>&1 ||
  not_ok "the AK's PEM from the TPM"
CHECK="python3 tests/tools/keylime_quote_check.py"
req "$H/v2.5/agent/info"
if [ "$code" = 200 ] && py 'd["results"]["tpm_sign_alg"]=="ecdsa" and d["results"]["tpm_enc_alg"]=="rsa2048" and d["results"]["ak_handle"]==str(0x81000002) and d["results"]["tpm_hash_alg"] in ("sha256","sha384")'; then
  HASH=$(python3 -c "import json; print(json.load(open('$T/body'))['results']['tpm_hash_alg'])")
  ok "agent/info: the AK's handle and algorithms (hash $HASH, ecdsa, rsa2048)"
else
  not_ok "agent/info AK fields" "$(show)"
  HASH=sha256
fi
KN=$(openssl rand -hex 20)
req "$H/v2.5/quotes/identity?nonce=$KN"
if [ "$code" = 200 ] && py 'd["code"]==200 and d["results"]["hash_alg"]=="'"$HASH"'" and d["results"]["sign_alg"]=="ecdsa" and "ak_pubkey" in d["results"] and isinstance(d["results"]["boottime"], int)' &&
  $CHECK "$T/body" "$T/ak.pem" "$KN" 0x1 >"$T/k.out" 2>&1; then
  ok "quotes/identity: an independent check accepts it (AK signature, nonce in extraData, PCR digest over the PCR blob)"
else
  not_ok "quotes/identity" "$(show)" "$(cat "$T/k.out")"
fi
cp "$T/body" "$T/identity.json"
$CHECK "$T/identity.json" "$T/ak.pem" "$(openssl rand -hex 20)" 0x1 >"$T/k.out" 2>&1
[ $? -ne 0 ] && grep -q "extraData" "$T/k.out" && ok "the independent check refuses the quote for another nonce" ||
  not_ok "the check refuses another nonce" "$(cat "$T/k.out")"
req "$H/v2.5/quotes/integrity?nonce=$KN&mask=0x4b3&partial=1"
if [ "$code" = 200 ] && py '"ak_pubkey" not in d["results"] and "mb_measurement_list" in d["results"]' &&
  $CHECK "$T/body" "$T/ak.pem" "$KN" 0x4b3 >"$T/k.out" 2>&1; then
  ok "quotes/integrity (mask 0x4b3, partial=1): the independent check accepts it"
else
  not_ok "quotes/integrity" "$(show)" "$(cat "$T/k.out")"
fi
python3 -c "import base64,json,sys; d=json.load(open('$T/body')); sys.exit(0 if base64.b64decode(d['results']['mb_measurement_list'])==open('$S/boot/eventlog.bin','rb').read() else 1)" &&
  ok "quotes/integrity with PCR 0: mb_measurement_list is the boot event log" || not_ok "mb_measurement_list"
req "$H/v2.5/quotes/integrity?nonce=$KN&mask=0x80&partial=0"
[ "$code" = 200 ] && py '"ak_pubkey" in d["results"] and "mb_measurement_list" not in d["results"]' &&
  $CHECK "$T/body" "$T/ak.pem" "$KN" 0x80 >"$T/k.out" 2>&1 &&
  ok "quotes/integrity without PCR 0: no event log; partial=0 gives the AK's PEM" || not_ok "quotes/integrity 0x80" "$(show)" "$(cat "$T/k.out")"
kbad() {
  local name=$1 param=$2 url=$3
  req "$H$url"
  if [ "$code" = 400 ] && py 'd["code"]==400 and d["results"]["parameter"]=="'"$param"'"'; then ok "Keylime $name: 400 naming $param"; else not_ok "Keylime $name" "$(show)"; fi
}
kbad "nonce of 65 characters" nonce "/v2.5/quotes/identity?nonce=$(printf 'a%.0s' $(seq 65))"
kbad "nonce with a dash" nonce "/v2.5/quotes/identity?nonce=ab-cd"
kbad "non-hex mask" mask "/v2.5/quotes/integrity?nonce=$KN&mask=0xZZ"
kbad "mask beyond PCR 23" mask "/v2.5/quotes/integrity?nonce=$KN&mask=0x1000000"
kbad "partial=2" partial "/v2.5/quotes/integrity?nonce=$KN&mask=0x1&partial=2"

# ---- hostile parameters ------------------------------------------------------------------
bad() {
  local name=$1 param=$2 url=$3
  req "$H$url"
  if [ "$code" = 400 ] && py 'd["error"]["parameter"]=="'"$param"'"'; then ok "$name: 400 naming $param"; else not_ok "$name" "$(show)"; fi
}
bad "missing nonce" nonce "/v1/attestation?pcrs=0"
bad "nonce of 8 bytes (fewer than 16)" nonce "/v1/attestation?nonce=$(nonce 8)"
bad "nonce of 65 bytes" nonce "/v1/attestation?nonce=$(nonce 65)"
bad "non-hex nonce" nonce "/v1/attestation?nonce=zz$(nonce 31)"
bad "odd-length nonce" nonce "/v1/attestation?nonce=$(nonce 32)a"
bad "PCR index 99" pcrs "/v1/attestation?nonce=$N&pcrs=0,99"
bad "duplicate PCR" pcrs "/v1/attestation?nonce=$N&pcrs=0,0"
bad "non-numeric PCR" pcrs "/v1/attestation?nonce=$N&pcrs=0,x"
bad "batch=2" batch "/v1/attestation?nonce=$N&batch=2"
req "$H/v1/attestation?nonce=$N&nonce=$N"
[ "$code" = 400 ] && ok "duplicate nonce parameter: 400" || not_ok "duplicate nonce parameter" "$(show)"
req "$H/healthz"
[ "$code" = 200 ] && ok "the agent is still up" || not_ok "the agent is still up" "$(show)"

tap_exit
