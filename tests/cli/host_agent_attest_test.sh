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
EVIL_PID=
cleanup() {
  [ -n "$EVIL_PID" ] && kill "$EVIL_PID" 2>/dev/null && wait "$EVIL_PID" 2>/dev/null
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

# ---- attestctl verify --url: the verifier asks the agent itself ------------------------
vurl() { (cd "$S" && "$BIN/attestctl" verify --policy refvals.json --trust trust "$@") >"$T/v.out" 2>&1; }
if vurl --url "$H" && tail -1 "$T/v.out" | grep -qx TRUSTED && grep -q "^attestctl: evidence from $H for nonce [0-9a-f]\{64\}$" "$T/v.out"; then
  ok "attestctl verify --url http://...: fresh nonce, evidence fetched, TRUSTED"
else
  not_ok "attestctl verify --url (http)" "$(cat "$T/v.out")"
fi
HS=https://127.0.0.1:$https
vurl --url "$HS" --cacert pki/tls-ca.crt && tail -1 "$T/v.out" | grep -qx TRUSTED &&
  vurl --url "$HS/v1/attestation" --cacert pki/tls-ca.crt --client-cert pki/operator.crt --client-key pki/operator.key &&
  tail -1 "$T/v.out" | grep -qx TRUSTED &&
  ok "attestctl verify --url https://... with --cacert, and with a client certificate: TRUSTED" ||
  not_ok "attestctl verify --url (https)" "$(cat "$T/v.out")"
vurl --url "$HS"
[ $? = 2 ] && grep -q "cannot fetch evidence from $HS: .*certificate" "$T/v.out" &&
  ok "https without the agent's CA: exit 2, the TLS failure named" || not_ok "https without --cacert" "$(cat "$T/v.out")"
FREE=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1]); s.close()")
vurl --url "http://127.0.0.1:$FREE"
[ $? = 2 ] && grep -q "cannot fetch evidence from http://127.0.0.1:$FREE: Couldn't connect" "$T/v.out" &&
  ok "an unreachable agent: exit 2, \"cannot fetch evidence ...: Couldn't connect\"" || not_ok "unreachable URL" "$(cat "$T/v.out")"
vurl --url "ftp://127.0.0.1:$FREE"
[ $? = 2 ] && grep -q "an http:// or https:// URL" "$T/v.out" && ok "a URL that is not http(s): exit 2" || not_ok "ftp URL" "$(cat "$T/v.out")"
# A man in the middle on loopback: "replay" answers every request with the
# evidence captured earlier; "tamper" forwards to the agent and changes
# one byte of the quoted PCR digest in the answer.
cat >"$T/mitm.py" <<'PY'
import base64, http.server, json, sys, urllib.request
mode, agent, saved, portfile = sys.argv[1:5]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if mode == "replay":
            body = open(saved, "rb").read()
        else:
            d = json.load(urllib.request.urlopen(agent + self.path))
            p = bytearray(base64.b64decode(d["quote"]["attest"]))
            p[-5] ^= 1  # inside the quoted PCR digest
            d["quote"]["attest"] = base64.b64encode(bytes(p)).decode()
            body = json.dumps(d).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
mitm() { # MODE CHECK-NAME: run the verifier through the middle man
  rm -f "$T/mitm.port"
  python3 "$T/mitm.py" "$1" "$H" "$T/single.json" "$T/mitm.port" &
  EVIL_PID=$!
  for _ in $(seq 100); do [ -s "$T/mitm.port" ] && break; sleep 0.05; done
  vurl --url "http://127.0.0.1:$(cat "$T/mitm.port" 2>/dev/null)"
  local rc=$?
  kill "$EVIL_PID" 2>/dev/null; wait "$EVIL_PID" 2>/dev/null; EVIL_PID=
  [ $rc = 1 ] && tail -1 "$T/v.out" | grep -qx UNTRUSTED && grep -q "FAIL *$2" "$T/v.out"
}
mitm replay nonce && ok "a replayed answer (earlier evidence for another nonce): UNTRUSTED, nonce check fails" ||
  not_ok "replayed evidence refused" "$(cat "$T/v.out")"
mitm tamper signature && ok "an answer whose quoted PCR digest was changed on the way: UNTRUSTED, the AK signature check fails" ||
  not_ok "tampered evidence refused" "$(cat "$T/v.out")"

# ---- enrolment: /v1/identity -------------------------------------------------------------
# What a Keylime registrar receives, checked against what tpm2-tools reads
# from the TPM itself; the DICE chain and the AK endorsement with openssl.
TCTI=$(sed -n 's/^tcti = //p' "$S/agent.conf")
rp() { TPM2TOOLS_TCTI=$TCTI tpm2_readpublic "$@" >/dev/null 2>"$T/rp.err"; }
req "$H/v1/identity"
cp "$T/body" "$T/id.json"
if [ "$code" = 200 ] && python3 - "$T" <<'PY'
import base64, json, sys
t = sys.argv[1]
d = json.load(open(f"{t}/id.json"))
for k in ("ekcert", "ek_tpm", "aik_tpm"):
    open(f"{t}/{k}.bin", "wb").write(base64.b64decode(d[k], validate=True))
dice = d["dice"]
open(f"{t}/deviceid.pem", "w").write(dice["deviceid"])
open(f"{t}/alias.pem", "w").write(dice["alias"])
open(f"{t}/ak_agent.pem", "w").write(d["ak_pem"])
e = dice["ak_endorsement"]
open(f"{t}/endorse.sig", "wb").write(base64.b64decode(e["signature"], validate=True))
open(f"{t}/endorse.statement", "wb").write(base64.b64decode(e["statement"], validate=True))
sys.exit(0 if d["ak_handle"] == str(0x81000002) and e["algorithm"] == "ecdsa-p384-sha384" else 1)
PY
then
  ok "/v1/identity: 200; ekcert, ek_tpm, aik_tpm, ak_pem, the DICE chain and the endorsement decode"
else
  not_ok "/v1/identity decodes" "$(show)"
fi
openssl x509 -inform DER -in "$T/ekcert.bin" -noout 2>/dev/null &&
  TPM2TOOLS_TCTI=$TCTI tpm2_nvread 0x01c00002 -o "$T/ek_nv.der" >/dev/null 2>&1 &&
  cmp -s "$T/ekcert.bin" "$T/ek_nv.der" &&
  ok "ekcert is the DER EK certificate the TPM holds in NV 0x01c00002" || not_ok "ekcert" "$(cat "$T/rp.err")"
rp -c 0x81010001 -o "$T/ek.tss" && cmp -s "$T/ek_tpm.bin" "$T/ek.tss" &&
  ok "ek_tpm is the EK's TPM2B_PUBLIC as tpm2_readpublic reads it (0x81010001)" || not_ok "ek_tpm" "$(cat "$T/rp.err")"
rp -c 0x81000002 -o "$T/ak.tss" && cmp -s "$T/aik_tpm.bin" "$T/ak.tss" &&
  ok "aik_tpm is the AK's TPM2B_PUBLIC as tpm2_readpublic reads it (0x81000002)" || not_ok "aik_tpm" "$(cat "$T/rp.err")"
rp -c 0x81000002 -f pem -o "$T/ak_tools.pem" && cmp -s "$T/ak_agent.pem" "$T/ak_tools.pem" &&
  ok "ak_pem is the AK's PEM as tpm2_readpublic writes it" || not_ok "ak_pem" "$(cat "$T/rp.err")"
openssl verify -CAfile "$S/keys/manufacturer/ca.pem" -untrusted "$T/deviceid.pem" "$T/alias.pem" >"$T/ov.out" 2>&1 &&
  ok "the DICE chain (DeviceID, Alias) passes openssl verify against the dev manufacturer CA" ||
  not_ok "DICE chain verifies" "$(cat "$T/ov.out")"
# The statement rebuilt independently (docs/mailbox.md) from ekcert and aik_tpm.
python3 -c "
import hashlib, sys
t = sys.argv[1]
st = b'rot-stack ak endorsement v1\0' + hashlib.sha384(open(t + '/ekcert.bin', 'rb').read()).digest() \
    + hashlib.sha384(open(t + '/aik_tpm.bin', 'rb').read()).digest()
sys.exit(0 if st == open(t + '/endorse.statement', 'rb').read() else 1)" "$T" &&
  openssl x509 -in "$T/alias.pem" -pubkey -noout >"$T/alias.pub" &&
  openssl dgst -sha384 -verify "$T/alias.pub" -signature "$T/endorse.sig" "$T/endorse.statement" >"$T/od.out" 2>&1 &&
  ok "the AK endorsement verifies with openssl against the Alias certificate, over the statement rebuilt from ekcert and aik_tpm" ||
  not_ok "the AK endorsement verifies" "$(cat "$T/od.out" 2>/dev/null)"
head -c 60 "$T/endorse.statement" >"$T/bad.statement"
printf 'x' >>"$T/bad.statement"
tail -c +62 "$T/endorse.statement" >>"$T/bad.statement"
! openssl dgst -sha384 -verify "$T/alias.pub" -signature "$T/endorse.sig" "$T/bad.statement" >/dev/null 2>&1 &&
  ok "the endorsement does not verify over a statement with another EK hash" || not_ok "tampered statement refused"

# ---- Redfish ComponentIntegrity ----------------------------------------------------------
CI=/redfish/v1/ComponentIntegrity
req "$H/redfish/v1/"
py 'd["ComponentIntegrity"]["@odata.id"]=="'$CI'"' && ok "the service root links ComponentIntegrity" ||
  not_ok "service root ComponentIntegrity link" "$(show)"
req "$H$CI"
[ "$code" = 200 ] && py 'sorted(m["@odata.id"] for m in d["Members"])==["'$CI/RoT'","'$CI/TPM'"] and d["Members@odata.count"]==2' &&
  ok "ComponentIntegrity: two members, TPM and RoT" || not_ok "ComponentIntegrity collection" "$(show)"
req "$H$CI/TPM"
[ "$code" = 200 ] && py 'd["ComponentIntegrityType"]=="TPM" and d["TargetComponentURI"]=="/redfish/v1/Systems/1#/TrustedModules/0" and d["Actions"]["#ComponentIntegrity.TPMGetSignedMeasurements"]["target"]=="'$CI'/TPM/Actions/ComponentIntegrity.TPMGetSignedMeasurements" and d["TPM"]["NonceSizeBytesMaximum"]==64' &&
  ok "ComponentIntegrity/TPM: type TPM, the TPMGetSignedMeasurements action, the TPM in Systems/1" ||
  not_ok "ComponentIntegrity/TPM" "$(show)"
req "$H/redfish/v1/Systems/1"
py 'd["TrustedModules"][0]["InterfaceType"]=="TPM2_0"' && ok "Systems/1 lists the TPM in TrustedModules" || not_ok "TrustedModules" "$(show)"
req "$H$CI/RoT"
[ "$code" = 200 ] && py 'd["ComponentIntegrityType"]=="OEM" and "SPDM" not in d and d["TargetComponentURI"].startswith("/redfish/v1/UpdateService/FirmwareInventory/rot-")' &&
  ok "ComponentIntegrity/RoT: type OEM (no SPDM), target the active RoT firmware" || not_ok "ComponentIntegrity/RoT" "$(show)"
certpem() { # MEMBER CERT FILE: the CertificateString of a Certificate resource
  req "$H$CI/$1/Certificates/$2"
  [ "$code" = 200 ] && py 'd["CertificateType"]=="PEM" and d["@odata.type"].startswith("#Certificate.")' &&
    python3 -c "import json; open('$3','w').write(json.load(open('$T/body'))['CertificateString'])"
}
req "$H$CI/RoT/Certificates"
if [ "$code" = 200 ] && py 'sorted(m["@odata.id"].rsplit("/",1)[1] for m in d["Members"])==["Alias","DeviceID"]' &&
  certpem RoT DeviceID "$T/ci_devid.pem" && certpem RoT Alias "$T/ci_alias.pem" &&
  openssl verify -CAfile "$S/keys/manufacturer/ca.pem" -untrusted "$T/ci_devid.pem" "$T/ci_alias.pem" >"$T/ov.out" 2>&1 &&
  cmp -s "$T/ci_alias.pem" "$T/alias.pem"; then
  ok "ComponentIntegrity/RoT/Certificates: DeviceID and Alias as PEM Certificate resources; the chain passes openssl verify"
else
  not_ok "RoT certificates" "$(show)" "$(cat "$T/ov.out" 2>/dev/null)"
fi
certpem TPM EK "$T/ci_ek.pem" && openssl x509 -in "$T/ci_ek.pem" -outform DER | cmp -s - "$T/ekcert.bin" &&
  ok "ComponentIntegrity/TPM/Certificates/EK is the TPM's EK certificate" || not_ok "TPM EK certificate" "$(show)"
req "$H$CI/TPM/Certificates/AK"
[ "$code" = 200 ] && py 'd["Oem"]["RotStack"]["PublicKeyPEM"]==open("'"$T/ak_tools.pem"'").read() and "CertificateString" not in d and d["Oem"]["RotStack"]["Endorsement"]["signature"]' &&
  ok "ComponentIntegrity/TPM/Certificates/AK names the AK (as tpm2_readpublic reads it) and the chip's endorsement, no made-up certificate" ||
  not_ok "TPM AK resource" "$(show)"
# TPMGetSignedMeasurements: PCRs 0,1,4,5,7 of the SHA-256 bank, ECDSA-SHA256.
ACT="$CI/TPM/Actions/ComponentIntegrity.TPMGetSignedMeasurements"
SEL=$(printf '\x00\x00\x00\x01\x00\x0b\x03\xb3\x00\x00' | base64)
SCH=$(printf '\x00\x18\x00\x0b' | base64)
AKREF='"Certificate": {"@odata.id": "'$CI'/TPM/Certificates/AK"}'
post() { req -H 'Content-Type: application/json' -d "$2" "$1$ACT"; }
# sm_check NONCE: an independent check of $T/body: SignedMeasurements is
# TPM2B_ATTEST || TPMT_SIGNATURE; tpm2_checkquote checks the AK's signature
# and the nonce; the quote's PCR digest is recomputed from what
# tpm2_pcrread reads from the TPM.
sm_check() {
  python3 - "$T" <<'PY' || return 1
import base64, json, struct, sys
t = sys.argv[1]
b = base64.b64decode(json.load(open(f"{t}/body"))["SignedMeasurements"], validate=True)
n = struct.unpack(">H", b[:2])[0]
open(f"{t}/sm.attest", "wb").write(b[2:2 + n])
open(f"{t}/sm.sig", "wb").write(b[2 + n:])
PY
  tpm2_checkquote -u "$T/ak_tools.pem" -m "$T/sm.attest" -s "$T/sm.sig" -g sha256 -q "$1" >"$T/cq.out" 2>&1 || return 1
  TPM2TOOLS_TCTI=$TCTI tpm2_pcrread sha256:0,1,4,5,7 -o "$T/pcrread.bin" >/dev/null 2>&1 || return 1
  python3 - "$T" "$1" <<'PY'
import hashlib, struct, sys
t, nonce = sys.argv[1], bytes.fromhex(sys.argv[2])
a = open(f"{t}/sm.attest", "rb").read()
o = 6
def tpm2b():
    global o
    n = struct.unpack(">H", a[o:o + 2])[0]
    v = a[o + 2:o + 2 + n]
    o += 2 + n
    return v
tpm2b()                       # qualifiedSigner
extra = tpm2b()               # extraData
o += 17 + 8                   # clockInfo, firmwareVersion
count = struct.unpack(">I", a[o:o + 4])[0]
o += 4
sel = []
for _ in range(count):
    alg, size = struct.unpack(">HB", a[o:o + 3])
    sel.append((alg, a[o + 3:o + 3 + size]))
    o += 3 + size
digest = tpm2b()
want = hashlib.sha256(open(f"{t}/pcrread.bin", "rb").read()).digest()
ok = extra == nonce and sel == [(0x000B, bytes([0xb3, 0, 0]))] and digest == want
sys.exit(0 if ok else 1)
PY
}
CN=$(nonce 32)
post "$H" '{'"$AKREF"', "PCRSelection": "'"$SEL"'", "Scheme": "'"$SCH"'", "Nonce": "'"$CN"'"}'
if [ "$code" = 200 ] && py 'd["Oem"]["RotStack"]["Nonce"]=="'"$CN"'"' && sm_check "$CN"; then
  ok "TPMGetSignedMeasurements (plain listener): tpm2_checkquote accepts the AK's signature and the nonce; the PCR digest matches tpm2_pcrread"
else
  not_ok "TPMGetSignedMeasurements" "$(show)" "$(cat "$T/cq.out" 2>/dev/null)"
fi
cp "$T/body" "$T/sm.json"
cp "$T/sm.json" "$T/body"
! tpm2_checkquote -u "$T/ak_tools.pem" -m "$T/sm.attest" -s "$T/sm.sig" -g sha256 -q "$(nonce 32)" >/dev/null 2>&1 &&
  ok "tpm2_checkquote refuses those signed measurements for another nonce" || not_ok "another nonce refused"
req --cacert "$S/pki/tls-ca.crt" -H 'Content-Type: application/json' \
  -d '{'"$AKREF"', "PCRSelection": "'"$SEL"'", "Scheme": "ABA="}' "https://127.0.0.1:$https$ACT"
if [ "$code" = 200 ] && py 'len(d["Oem"]["RotStack"]["Nonce"])==64' &&
  sm_check "$(python3 -c "import json; print(json.load(open('$T/body'))['Oem']['RotStack']['Nonce'])")"; then
  ok "TPMGetSignedMeasurements over TLS without a client certificate, Scheme TPM_ALG_NULL, no Nonce: the agent draws 32 bytes and the quote checks"
else
  not_ok "TPMGetSignedMeasurements over TLS, service nonce" "$(show)" "$(cat "$T/cq.out" 2>/dev/null)"
fi
rfbad() { # NAME PARAM MSGID BODY
  post "$H" "$4"
  if [ "$code" = 400 ] && py 'd["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith(".'"$3"'") and ("'"$2"'"=="" or d["error"]["@Message.ExtendedInfo"][0]["RelatedProperties"]==["#/'"$2"'"])'; then
    ok "TPMGetSignedMeasurements $1: 400 $3"
  else
    not_ok "TPMGetSignedMeasurements $1" "$(show)"
  fi
}
rfbad "without PCRSelection" PCRSelection ActionParameterMissing '{'"$AKREF"', "Scheme": "'"$SCH"'"}'
rfbad "without Certificate" Certificate ActionParameterMissing '{"PCRSelection": "'"$SEL"'", "Scheme": "'"$SCH"'"}'
rfbad "with the EK as Certificate" Certificate ActionParameterValueNotInList '{"Certificate": {"@odata.id": "'$CI'/TPM/Certificates/EK"}, "PCRSelection": "'"$SEL"'", "Scheme": "'"$SCH"'"}'
rfbad "with PCRSelection not base64" PCRSelection ActionParameterValueFormatError '{'"$AKREF"', "PCRSelection": "AAA*", "Scheme": "'"$SCH"'"}'
rfbad "selecting PCR 31" PCRSelection ActionParameterValueFormatError '{'"$AKREF"', "PCRSelection": "'"$(printf '\x00\x00\x00\x01\x00\x0b\x04\x00\x00\x00\x80' | base64)"'", "Scheme": "'"$SCH"'"}'
rfbad "with a trailing byte in PCRSelection" PCRSelection ActionParameterValueFormatError '{'"$AKREF"', "PCRSelection": "'"$(printf '\x00\x00\x00\x01\x00\x0b\x03\xb3\x00\x00\x00' | base64)"'", "Scheme": "'"$SCH"'"}'
rfbad "with the SHA-1 bank (not active)" PCRSelection ActionParameterValueNotInList '{'"$AKREF"', "PCRSelection": "'"$(printf '\x00\x00\x00\x01\x00\x04\x03\xb3\x00\x00' | base64)"'", "Scheme": "'"$SCH"'"}'
rfbad "with Scheme RSASSA" Scheme ActionParameterValueNotInList '{'"$AKREF"', "PCRSelection": "'"$SEL"'", "Scheme": "'"$(printf '\x00\x14\x00\x0b' | base64)"'"}'
rfbad "with a nonce of 65 bytes" Nonce ActionParameterValueFormatError '{'"$AKREF"', "PCRSelection": "'"$SEL"'", "Scheme": "'"$SCH"'", "Nonce": "'"$(nonce 65)"'"}'
rfbad "with an unknown parameter" Extra ActionParameterUnknown '{'"$AKREF"', "PCRSelection": "'"$SEL"'", "Scheme": "'"$SCH"'", "Extra": 1}'
rfbad "with a body that is not JSON" "" MalformedJSON '{"PCRSelection": '

# ---- Keylime quotes ------------------------------------------------------------------------
# The AK as the TPM holds it (not as the agent says), for the independent
# check of tests/tools/keylime_quote_check.py.
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
# ---- the chip's endorsement cache ------------------------------------------------------
# The endorsement is asked of the chip once per AK and chip identity; a RoT
# firmware update (new firmware, so a new Alias key) and a chip reset by
# another client (rotctl reset: the agent's connection stays up) must not
# leave the agent serving the old Alias.
endorse_count() {
  curl -s "$H/metrics" | sed -n 's/^hostagent_chip_endorse_requests_total //p'
}
E0=$(endorse_count)
for _ in 1 2 3; do curl -s -o /dev/null "$H/v1/attestation?nonce=$(nonce 32)"; done
E1=$(endorse_count)
if [ -n "$E0" ] && [ "$E0" -ge 1 ] && [ "$E1" = "$E0" ]; then
  ok "three more evidence requests: no new ENDORSE (cached; $E0 so far)"
else
  not_ok "the endorsement is cached" "before $E0, after $E1"
fi
ALIAS0=$(python3 -c "import json; print(json.load(open('$T/id.json'))['dice']['alias'])")
rc() { (cd "$S" && "$BIN/rotctl" --socket "$S/rotd.sock" "$@") >>"$T/rotctl.out" 2>&1; }
if rc sign --keys keys --type rot --svn 1 --version 1.1.0 "$ROOT/$BUILD/riscv/rot_core.o" "$T/rot-1.1.0.img" &&
  rc update --activate "$T/rot-1.1.0.img" && rc reset && rc confirm --type rot &&
  (cd "$S" && "$BIN/attestctl" refvals --keys keys "$T/rot-1.1.0.img" opensbi-1.1.0.img payload.img) >"$T/refvals2.json" 2>>"$T/rotctl.out"; then
  ok "RoT firmware 1.1.0 installed (update, reset by rotctl, confirm) and its reference values derived"
else
  not_ok "RoT firmware update" "$(tail -5 "$T/rotctl.out")"
fi
# The host reboots under the new chip firmware: the TPM resets (swtpm
# restarts, its PCRs start over) and bootchain measures afresh (its log
# names the RoT firmware that ran); the chip resets again afterwards, as
# the stack's own measurement does. The agent reconnects by itself.
if bash scripts/swtpm.sh stop "$S/tpm" >/dev/null 2>&1 && bash scripts/swtpm.sh start "$S/tpm" >/dev/null 2>>"$T/rotctl.out" &&
  rm -rf "$S/boot" &&
  (cd "$S" && "$BIN/bootchain" measure --socket "$S/rotd.sock" --tcti "$TCTI" --out boot) >>"$T/rotctl.out" 2>&1 &&
  rc reset; then
  ok "the host reboots: TPM reset, boot measured again, chip reset"
else
  not_ok "host reboot after the RoT update" "$(tail -5 "$T/rotctl.out")"
fi
N2=$(nonce 32)
req "$H/v1/attestation?nonce=$N2"
cp "$T/body" "$T/after.json"
E2=$(endorse_count)
(cd "$S" && "$BIN/attestctl" verify --policy "$T/refvals2.json" --trust trust --nonce "$N2" "$T/after.json") >"$T/v.out" 2>&1
if [ "$code" = 200 ] && tail -1 "$T/v.out" | grep -qx TRUSTED; then
  ok "after the RoT update the evidence verifies TRUSTED (new Alias, its endorsement of the AK)"
else
  not_ok "evidence after the RoT update" "$(show)" "$(cat "$T/v.out")"
fi
[ "$E2" = "$((E1 + 1))" ] && ok "the new chip identity asked the chip for one new endorsement" ||
  not_ok "one new ENDORSE after the identity changed" "before $E1, after $E2"
req "$H/v1/identity"
if [ "$code" = 200 ] && python3 -c "import json,sys; sys.exit(0 if json.load(open('$T/body'))['dice']['alias'] != sys.argv[1] else 1)" "$ALIAS0"; then
  ok "/v1/identity serves the new Alias certificate"
else
  not_ok "/v1/identity after the RoT update" "$(show)"
fi
(cd "$S" && "$BIN/attestctl" verify --policy refvals.json --trust trust --nonce "$N2" "$T/after.json") >"$T/v.out" 2>&1
! tail -1 "$T/v.out" | grep -qx TRUSTED && ok "the same evidence is not trusted under the old reference values (it reports the new firmware)" ||
  not_ok "old reference values refuse the new firmware" "$(cat "$T/v.out")"

req "$H/healthz"
[ "$code" = 200 ] && ok "the agent is still up" || not_ok "the agent is still up" "$(show)"

# ---- the stack stopped and started again: a new boot, measured again ------------------
# swtpm restarts with cleared PCRs; the event log served must be the new
# boot's, so the evidence still verifies.
if bash scripts/stack.sh stop "$S" >"$T/restart.out" 2>&1 &&
  bash scripts/stack.sh start "$S" "$BUILD" >>"$T/restart.out" 2>&1; then
  # shellcheck disable=SC1091
  . "$S/ports"
  H=http://127.0.0.1:$http
  (cd "$S" && "$BIN/attestctl" verify --policy "$T/refvals2.json" --trust trust --url "$H") >"$T/v.out" 2>&1 &&
    tail -1 "$T/v.out" | grep -qx TRUSTED &&
    ok "stack stop and start: the new boot's event log matches the reset PCRs, TRUSTED" ||
    not_ok "evidence after a stack restart" "$(cat "$T/v.out")"
else
  not_ok "stack stop and start" "$(cat "$T/restart.out")"
fi

tap_exit
