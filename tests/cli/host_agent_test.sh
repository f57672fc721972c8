#!/usr/bin/env bash
# The host agent over real sockets, against a real swtpm and rotd (brought
# up by scripts/stack.sh in a private directory): every endpoint, the
# operator gate (mTLS negatives), a firmware push through rotd's update
# session, hostile requests, rotd and the TPM going away and coming back,
# and a graceful stop.
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
  [ -n "${SLOW_PID:-}" ] && kill "$SLOW_PID" 2>/dev/null
  bash "$ROOT/scripts/stack.sh" stop "$S" >/dev/null 2>&1
}

if ! STACK_AGENT_ARGS="--conn-timeout 3 --max-image 8388608" \
  bash scripts/stack.sh start "$S" "$BUILD" >"$T/stack.out" 2>&1; then
  not_ok "stack starts" "$(cat "$T/stack.out")"
  tap_exit
fi
ok "stack starts (swtpm, rotd with images, measured log, agent)"
# shellcheck disable=SC1091
. "$S/ports"
H=http://127.0.0.1:$http
TS=https://127.0.0.1:$https
CA=(--cacert "$S/pki/tls-ca.crt")
OP=(--cert "$S/pki/operator.crt" --key "$S/pki/operator.key")
AGENT_PID=$(cat "$S/agent.pid")

# req METHOD URL [curl args]: $code, body in $T/body, headers in $T/hdr.
req() {
  local m=$1 u=$2
  shift 2
  code=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$m" "$@" "$u" 2>"$T/curl.err")
}
# py EXPR: evaluate a Python boolean over d (the JSON body).
py() { python3 -c "import json,sys; d=json.load(open('$T/body')); sys.exit(0 if ($1) else 1)" 2>/dev/null; }
show() { echo "code=$code body=$(head -c 400 "$T/body")"; }
expect() {
  local name=$1 want=$2 cond=$3
  if [ "$code" = "$want" ] && py "$cond"; then ok "$name"; else not_ok "$name" "want $want and $cond" "$(show)"; fi
}
mark() { echo "# at ${SECONDS}s: $*"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$AGENT_PID/status"; }

# ---- server core ----------------------------------------------------------------
"$BIN/host-agent" --help >"$T/help" 2>&1 && grep -q -- "--operator-ca" "$T/help" &&
  ok "--help describes the flags" || not_ok "--help describes the flags" "$(head -3 "$T/help")"
"$BIN/host-agent" --http 10.1.2.3:0 >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "loopback only" "$T/err" &&
  ok "the plain listener refuses a non-loopback address" || not_ok "plain listener non-loopback" "$(cat "$T/err")"
printf 'threads = 4\nbogus-key = 1\n' >"$T/bad.conf"
"$BIN/host-agent" --config "$T/bad.conf" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "bad.conf:2: unknown key 'bogus-key'" "$T/err" &&
  ok "a config file error names file, line and key" || not_ok "config file error" "$(cat "$T/err")"
ROT_CRYPTO=bogus timeout 20 "$BIN/host-agent" --http 127.0.0.1:0 >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "ROT_ERROR_CRYPTO_UNKNOWN_BACKEND" "$T/err" &&
  ok "ROT_CRYPTO naming no backend stops the agent before it listens" || not_ok "ROT_CRYPTO=bogus" "$(cat "$T/err")"
grep -q "^http=[0-9]*$" "$S/ports" && grep -q "^https=[0-9]*$" "$S/ports" && [ "$http" != 0 ] &&
  ok "ports chosen free and written to the ports file" || not_ok "ports file" "$(cat "$S/ports")"

req GET "$H/healthz"
expect "/healthz: 200 with rotd and the TPM up" 200 \
  'd["status"]=="ok" and d["rotd"]["up"] and d["tpm"]["up"] and "sha256" in d["tpm"]["banks"] and d["eventlog"]["present"]'
grep -q 'host-agent: 127.0.0.1 http "GET /healthz" 200 ' "$S/agent.log" &&
  ok "one log line per request" || not_ok "one log line per request" "$(tail -2 "$S/agent.log")"

mark "Redfish"
# ---- Redfish ----------------------------------------------------------------------
req GET "$H/redfish/v1/"
expect "service root" 200 \
  'd["@odata.type"].startswith("#ServiceRoot.") and d["Systems"]["@odata.id"]=="/redfish/v1/Systems" and d["UpdateService"]["@odata.id"]=="/redfish/v1/UpdateService" and d["TaskService"]["@odata.id"]=="/redfish/v1/TaskService"'
grep -qi '^OData-Version: 4.0' "$T/hdr" && ok "Redfish answers carry OData-Version" || not_ok "OData-Version header" "$(cat "$T/hdr")"
req GET "$H/redfish/v1/Systems"
expect "systems collection" 200 'd["Members"]==[{"@odata.id":"/redfish/v1/Systems/1"}]'
req GET "$H/redfish/v1/Systems/1"
expect "Systems/1: PowerState (unknown without a card controller) and the Reset action" 200 \
  '"PowerState" in d and d["PowerState"] is None and d["Actions"]["#ComputerSystem.Reset"]["target"].endswith("ComputerSystem.Reset")'
req GET "$H/redfish/v1/UpdateService"
expect "UpdateService names its push URI and inventory" 200 \
  'd["MultipartHttpPushUri"]=="/redfish/v1/UpdateService/upload" and d["FirmwareInventory"]["@odata.id"].endswith("FirmwareInventory")'
req GET "$H/redfish/v1/UpdateService/FirmwareInventory"
expect "FirmwareInventory: one member per image region" 200 \
  'd["Members@odata.count"]==10 and {"@odata.id":"/redfish/v1/UpdateService/FirmwareInventory/opensbi-a"} in d["Members"]'
req GET "$H/redfish/v1/UpdateService/FirmwareInventory/opensbi-a"
expect "inventory member: Version, Updateable, Status, SVN and signer in Oem" 200 \
  'd["Version"]=="1.1.0" and d["Updateable"] is True and d["Status"]=={"State":"Enabled","Health":"OK"} and d["Oem"]["RotStack"]["SVN"]==1 and d["Oem"]["RotStack"]["SignerKeyIndex"]==0 and d["Oem"]["RotStack"]["Verified"] is True'
req GET "$H/redfish/v1/UpdateService/FirmwareInventory/dtb-a"
expect "an empty region is Absent" 200 'd["Status"]["State"]=="Absent" and d["Version"] is None'
req GET "$H/redfish/v1/UpdateService/FirmwareInventory/nvcfg"
expect "chip-private regions are not inventory" 404 '"error" in d and "@Message.ExtendedInfo" in d["error"]'

# Reset: the gate first, then a clear refusal (no card controller yet).
req POST "$H/redfish/v1/Systems/1/Actions/ComputerSystem.Reset" -H 'Content-Type: application/json' -d '{"ResetType":"On"}'
expect "Reset on the plain listener: 403" 403 '"InsufficientPrivilege" in d["error"]["code"]'
req POST "$TS/redfish/v1/Systems/1/Actions/ComputerSystem.Reset" "${CA[@]}" -H 'Content-Type: application/json' -d '{"ResetType":"On"}'
expect "Reset over TLS without a client certificate: 403" 403 '"client certificate" in d["error"]["message"]'
req POST "$TS/redfish/v1/Systems/1/Actions/ComputerSystem.Reset" "${CA[@]}" "${OP[@]}" -H 'Content-Type: application/json' -d '{"ResetType":"Sideways"}'
expect "Reset with a bad ResetType: 400 naming it" 400 'd["error"]["@Message.ExtendedInfo"][0]["RelatedProperties"]==["#/ResetType"]'
req POST "$TS/redfish/v1/Systems/1/Actions/ComputerSystem.Reset" "${CA[@]}" "${OP[@]}" -H 'Content-Type: application/json' -d '{"ResetType":"ForceRestart"}'
expect "Reset by the operator: 501, power control not there yet" 501 '"ActionNotSupported" in d["error"]["code"] and "card controller" in d["error"]["message"]'

mark "mTLS negatives"
# ---- mTLS negatives ---------------------------------------------------------------
P=$T/pki
mkdir -p "$P"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
{
  openssl req -x509 "${ec[@]}" -days 30 -subj "/CN=rogue CA" -keyout "$P/rogue-ca.key" -out "$P/rogue-ca.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
  openssl req "${ec[@]}" -subj "/CN=dev operator" -keyout "$P/rogue.key" -out "$P/rogue.csr"
  openssl x509 -req -in "$P/rogue.csr" -CA "$P/rogue-ca.crt" -CAkey "$P/rogue-ca.key" -CAcreateserial \
    -days 30 -out "$P/rogue.crt" -extfile <(echo "extendedKeyUsage=clientAuth")
  # Issued by the real operator CA, but for servers only.
  openssl req "${ec[@]}" -subj "/CN=not a client" -keyout "$P/server-only.key" -out "$P/server-only.csr"
  openssl x509 -req -in "$P/server-only.csr" -CA "$S/pki/operator-ca.crt" -CAkey "$S/pki/operator-ca.key" \
    -CAcreateserial -days 30 -out "$P/server-only.crt" -extfile <(echo "extendedKeyUsage=serverAuth")
} >"$T/openssl.log" 2>&1 || not_ok "negative certificates made" "$(tail -3 "$T/openssl.log")"
IMG=$S/opensbi-1.2.0.img
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" --cert "$P/rogue.crt" --key "$P/rogue.key" -F "UpdateFile=@$IMG"
expect "push with a certificate from another CA (same subject): 403" 403 '"refused" in d["error"]["message"]'
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" --cert "$P/server-only.crt" --key "$P/server-only.key" -F "UpdateFile=@$IMG"
expect "push with an operator-CA certificate not for client use: 403" 403 '"refused" in d["error"]["message"]'
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" -F "UpdateFile=@$IMG"
expect "push without a client certificate: 403" 403 'True'
req POST "$H/redfish/v1/UpdateService/upload" -F "UpdateFile=@$IMG"
expect "push on the plain listener: 403" 403 'True'
req GET "$H/redfish/v1/UpdateService/FirmwareInventory/opensbi-b"
expect "none of the refused pushes reached the flash" 200 'd["Status"]["State"]=="Absent"'

mark "firmware push"
# ---- firmware push -----------------------------------------------------------------
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" \
  -F 'UpdateParameters={"@Redfish.OperationApplyTime":"Immediate"};type=application/json' -F "UpdateFile=@$IMG"
loc=$(sed -n 's/^Location: *\([^[:space:]]*\).*/\1/ip' "$T/hdr")
expect "operator push: 202 with a task" 202 'd["@odata.type"].startswith("#Task.") and d["TaskState"] in ("Running","Completed")'
state=
for _ in $(seq 100); do
  req GET "$TS$loc" "${CA[@]}"
  [ "$code" = 200 ] && break
  sleep 0.1
done
expect "the task monitor reports completion" 200 \
  'd["TaskState"]=="Completed" and d["TaskStatus"]=="OK" and d["Oem"]["RotStack"]["Version"]=="1.2.0" and d["Oem"]["RotStack"]["SVN"]==2'
req GET "$H/redfish/v1/UpdateService/FirmwareInventory/opensbi-b"
expect "the pushed image is staged in the inactive slot" 200 \
  'd["Version"]=="1.2.0" and d["Oem"]["RotStack"]["Staged"] is True and d["Oem"]["RotStack"]["Verified"] is True'
req GET "$H/redfish/v1/TaskService/Tasks"
expect "TaskService lists the task" 200 'd["Members@odata.count"]>=1'

mark "A second push while one runs"
# A push held half way: a raw TLS client sends the headers and the first
# 64 KiB of the image, then trickles a few bytes at a time (so the
# connection timeout never fires) until the file "cue" appears, and hangs up.
python3 - "$https" "$S" "$IMG" "$T/cue" >"$T/held.out" 2>&1 <<'EOF' &
import os, socket, ssl, sys, time
port, d, img, cue = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=d + "/pki/tls-ca.crt")
ctx.load_cert_chain(d + "/pki/operator.crt", d + "/pki/operator.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
data = open(img, "rb").read()
pre = (b"--XyZ\r\nContent-Disposition: form-data; name=\"UpdateFile\"; filename=\"a.img\"\r\n"
       b"Content-Type: application/octet-stream\r\n\r\n")
post = b"\r\n--XyZ--\r\n"
s.sendall(b"POST /redfish/v1/UpdateService/upload HTTP/1.1\r\nHost: localhost\r\n"
          b"Content-Type: multipart/form-data; boundary=XyZ\r\n"
          b"Content-Length: %d\r\n\r\n" % (len(pre) + len(data) + len(post)))
s.sendall(pre + data[:65536])
print("held", flush=True)
off = 65536
while not os.path.exists(cue) and off < len(data) - 64:
    time.sleep(0.3)
    s.sendall(data[off:off + 16])
    off += 16
s.close()
EOF
HELD=$!
for _ in $(seq 600); do
  grep -q held "$T/held.out" 2>/dev/null &&
    (cd "$S" && "$BIN/rotctl" --socket "$S/rotd.sock" status --json 2>/dev/null) |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["session"]["open"] else 1)' 2>/dev/null && break
  sleep 0.1
done
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" -F "UpdateFile=@$IMG"
if [ "$code" = 409 ] && py '"ResourceInUse" in d["error"]["code"]'; then
  ok "a second push while one runs: 409"
else
  not_ok "a second push while one runs: 409" "$(show)" "held client: $(head -c 300 "$T/held.out")"
fi
touch "$T/cue"
wait "$HELD"
for _ in $(seq 100); do
  (cd "$S" && "$BIN/rotctl" --socket "$S/rotd.sock" status --json 2>/dev/null) |
    python3 -c 'import json,sys; sys.exit(1 if json.load(sys.stdin)["session"]["open"] else 0)' 2>/dev/null && break
  sleep 0.1
done
(cd "$S" && "$BIN/rotctl" --socket "$S/rotd.sock" status --json) >"$T/body" 2>/dev/null
code=200
expect "a client hanging up mid-upload: the agent aborts rotd's session" 200 'd["session"]["open"] is False'

# An image with bytes after its declared end: refused while streaming.
python3 - "$IMG" "$T/big.img" <<'EOF'
import sys
src = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(src + b"\0" * 100000)
EOF
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" -F "UpdateFile=@$T/big.img"
expect "an image with trailing bytes: 400" 400 '"trailing" in d["error"]["message"]'

mark "Hostile uploads."
# Hostile uploads.
head -c 5000 /dev/urandom >"$T/junk.bin"
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" -F "UpdateFile=@$T/junk.bin"
expect "push of random bytes: 400, not a signed image" 400 '"not a signed image" in d["error"]["message"]'
head -c 60000 "$IMG" >"$T/trunc.img"
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" -F "UpdateFile=@$T/trunc.img"
expect "truncated image: 400 truncated" 400 '"truncated" in d["error"]["message"]'
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" -H 'Content-Type: application/octet-stream' --data-binary "@$IMG"
expect "a body that is not multipart: 415" 415 'True'
head -c 9000000 /dev/zero >"$T/huge.bin"
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" -F "UpdateFile=@$T/huge.bin"
expect "an oversized body (Content-Length over the limit): 413" 413 'True'
python3 - "$IMG" "$T/tampered.img" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x20
open(sys.argv[2], "wb").write(bytes(b))
EOF
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" -F "UpdateFile=@$T/tampered.img"
loc=$(sed -n 's/^Location: *\([^[:space:]]*\).*/\1/ip' "$T/hdr")
for _ in $(seq 100); do
  req GET "$TS$loc" "${CA[@]}"
  [ "$code" = 200 ] && break
  sleep 0.1
done
expect "a tampered image: the task ends in Exception with the chip's reason" 200 \
  'd["TaskState"]=="Exception" and "DIGEST_MISMATCH" in d["Messages"][0]["Message"]'
req GET "$H/redfish/v1/UpdateService/FirmwareInventory/opensbi-a"
expect "the active image is untouched" 200 'd["Version"]=="1.1.0" and d["Status"]["State"]=="Enabled"'

mark "push and boot"
# An update through the API, then a boot: OnReset activates the image for
# a trial boot, and the next measured boot runs it.
req POST "$TS/redfish/v1/UpdateService/upload" "${CA[@]}" "${OP[@]}" \
  -F 'UpdateParameters={"@Redfish.OperationApplyTime":"OnReset"};type=application/json' -F "UpdateFile=@$IMG"
loc=$(sed -n 's/^Location: *\([^[:space:]]*\).*/\1/ip' "$T/hdr")
for _ in $(seq 100); do
  req GET "$TS$loc" "${CA[@]}"
  [ "$code" = 200 ] && break
  sleep 0.1
done
expect "push with OnReset: staged and activated" 200 \
  'd["TaskState"]=="Completed" and d["Oem"]["RotStack"]["Activate"] is True and "activated" in d["Messages"][0]["Message"]'
req GET "$H/redfish/v1/UpdateService/FirmwareInventory/opensbi-b"
expect "the inventory shows it pending its trial boot" 200 'd["Oem"]["RotStack"]["Pending"] is True'
# A boot measures into a freshly reset TPM: the host's power cycle.
bash scripts/swtpm.sh stop "$S/tpm" >/dev/null 2>&1
bash scripts/swtpm.sh start "$S/tpm" >/dev/null 2>&1
(cd "$S" && "$BIN/bootchain" measure --socket "$S/rotd.sock" --tcti "swtpm:path=$S/tpm/tpm.sock" \
  --out "$T/boot2" --json) >"$T/body" 2>"$T/boot2.err"
code=$?
[ "$code" = 0 ] && code=200
expect "the next measured boot runs the pushed image" 200 \
  'd["opensbi"]["version"]=="1.2.0" and d["opensbi"]["region"]=="opensbi-b"'
"$BIN/rotctl" --socket "$S/rotd.sock" confirm --type opensbi >/dev/null 2>&1 &&
  "$BIN/rotctl" --socket "$S/rotd.sock" reset >/dev/null 2>&1 || not_ok "confirm and chip reset after the boot"
req GET "$H/redfish/v1/UpdateService/FirmwareInventory/opensbi-b"
expect "confirmed: the pushed image is the active one, its SVN the floor" 200 \
  'd["Status"]["State"]=="Enabled" and d["Oem"]["RotStack"]["SVNFloor"]==2'


mark "Keylime"
# ---- Keylime ---------------------------------------------------------------------
req GET "$H/version"
expect "Keylime /version" 200 'd["code"]==200 and d["status"]=="Success" and d["results"]["supported_version"]=="2.5" and "2.2" in d["results"]["supported_versions"]'
req GET "$H/v2.2/agent/info"
expect "Keylime agent/info" 200 'len(d["results"]["agent_uuid"])==36 and d["results"]["tpm_hash_alg"] in ("sha256","sha384")'
req GET "$H/v9.9/agent/info"
expect "an unsupported Keylime API version: 400" 400 'd["code"]==400'
for k in ukey vkey; do
  req POST "$H/v2.5/keys/$k" -H 'Content-Type: application/json' -d '{}'
  expect "keys/$k: 404 with a JSON error" 404 'd["code"]==404 and "not supported" in d["status"]'
done
long=$(printf 'a%.0s' $(seq 65))
req GET "$H/v2.5/quotes/identity?nonce=$long"
expect "nonce over 64 characters: 400 naming nonce" 400 'd["results"]["parameter"]=="nonce"'
req GET "$H/v2.5/quotes/identity?nonce=ab%2Dcd"
expect "non-alphanumeric nonce: 400 naming nonce" 400 'd["results"]["parameter"]=="nonce"'
req GET "$H/v2.5/quotes/integrity?nonce=abc&mask=0xZZ"
expect "non-hex mask: 400 naming mask" 400 'd["results"]["parameter"]=="mask"'
req GET "$H/v2.5/quotes/integrity?nonce=abc&mask=0x1000000"
expect "mask naming PCR 24: 400 naming mask" 400 'd["results"]["parameter"]=="mask"'
req GET "$H/v2.5/quotes/integrity?nonce=abc&nonce=def&mask=0x1"
expect "duplicate parameter: 400 naming it" 400 'd["results"]["parameter"]=="nonce"'
req GET "$H/v2.5/quotes/integrity?nonce=abc&mask=0x1&partial=2"
expect "partial not 0/1: 400 naming partial" 400 'd["results"]["parameter"]=="partial"'
req GET "$H/v2.5/quotes/integrity?nonce=abc&mask=0x1&partial=0"
expect "valid quote request: 200 with a quote (checked in host_agent_attest_test.sh)" 200 'd["results"]["quote"].startswith("r") and d["results"]["quote"].count(":")==2'
req GET "$H/v1/attestation?nonce=00ff&pcrs=0,1,99"
expect "native attestation: PCR 99 refused naming pcrs" 400 'd["error"]["parameter"]=="pcrs"'
req GET "$H/v1/attestation?nonce=xyz"
expect "native attestation: non-hex nonce refused" 400 'd["error"]["parameter"]=="nonce"'

mark "event log"
# ---- event log, metrics, errors ------------------------------------------------------
curl -s -o "$T/log.bin" "$H/v1/eventlog"
cmp -s "$T/log.bin" "$S/boot/eventlog.bin" && ok "/v1/eventlog: the binary log bootchain wrote" ||
  not_ok "/v1/eventlog binary" "$(wc -c <"$T/log.bin") bytes"
req GET "$H/v1/eventlog?format=json"
expect "/v1/eventlog?format=json: parsed and replayed" 200 \
  'd["result"]=="ok" and d["header"]["signature"]=="Spec ID Event03" and "0" in d["pcrs"]["sha256"]'
req GET "$H/v1/eventlog?format=xml"
expect "/v1/eventlog?format=xml: 400 naming format" 400 'd["error"]["parameter"]=="format"'
req GET "$H/no/such/thing"
expect "unknown path: 404 JSON" 404 'd["error"]["code"]==404'
req DELETE "$H/healthz"
expect "wrong method: 405 JSON" 405 'True'
grep -qi '^Allow: GET, HEAD' "$T/hdr" && ok "405 names the allowed methods" || not_ok "Allow header" "$(cat "$T/hdr")"
req GET "$H/redfish/v1/" --data-binary 'x=1'
expect "GET with a body: 413" 413 'True'
head -c 100000 /dev/urandom >"$T/100k.bin"
req POST "$TS/redfish/v1/Systems/1/Actions/ComputerSystem.Reset" "${CA[@]}" "${OP[@]}" -H 'Content-Type: application/json' --data-binary "@$T/100k.bin"
expect "an oversized JSON body: 413 before it is read" 413 '"at most 16384" in d["error"]["message"]'
req POST "$TS/redfish/v1/Systems/1/Actions/ComputerSystem.Reset" "${CA[@]}" "${OP[@]}" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$T/100k.bin"
expect "an oversized chunked JSON body: 413 once past the limit" 413 '"over 16384" in d["error"]["message"]'

curl -s "$H/metrics" >"$T/metrics"
grep -q '^hostagent_http_requests_total{route="/healthz",code="200"} [1-9]' "$T/metrics" &&
  grep -q '^hostagent_gate_denials_total [1-9]' "$T/metrics" &&
  grep -q '^hostagent_client_cert_refusals_total [2-9]' "$T/metrics" &&
  grep -q '^hostagent_firmware_updates_total{outcome="staged"} [1-9]' "$T/metrics" &&
  grep -q '^hostagent_firmware_updates_total{outcome="refused_busy"} [1-9]' "$T/metrics" &&
  grep -q '^hostagent_quote_duration_seconds_bucket{le="+Inf"} [1-9]' "$T/metrics" &&
  grep -q '^# TYPE hostagent_tpm_errors_total counter' "$T/metrics" &&
  ok "/metrics: requests, gate denials, certificate refusals, updates, quote series" ||
  not_ok "/metrics series" "$(grep -v '^#' "$T/metrics" | head -20)"

mark "hostile requests"
# ---- hostile requests: answers, and the agent stays up with flat memory -----------------
rss0=$(rss_kb)
python3 - "$http" >"$T/hostile.out" 2>&1 <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
def ask(raw, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(raw)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except socket.timeout:
        pass
    s.close()
    return data.split(b"\r\n", 1)[0].decode(errors="replace")
results = {}
results["big_header"] = ask(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\nConnection: close\r\n\r\n")
results["many_headers"] = ask(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(3000)) + b"Connection: close\r\n\r\n")
results["huge_headers"] = ask(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\nConnection: close\r\n\r\n")
results["garbage"] = ask(b"\x16\x03\x01\x00\xff garbage\r\n\r\n")
results["bad_version"] = ask(b"GET /healthz HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n")
results["long_uri"] = ask(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
# Slowloris: headers that never end; the agent drops them (conn timeout).
slow = []
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: b\r\n")
    slow.append(s)
results["served_during_slowloris"] = ask(b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
time.sleep(4.5)
closed = 0
for s in slow:
    try:
        s.settimeout(1)
        if s.recv(100) == b"":
            closed += 1
    except OSError:
        closed += 1
    s.close()
results["slowloris_closed"] = closed
# A truncated upload: Content-Length promises more than is sent.
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Res")
s.close()
for k, v in results.items():
    print("%s=%s" % (k, v))
EOF
grep -q '^big_header=HTTP/1.1 431' "$T/hostile.out" && ok "a header over 8 KiB: 431" || not_ok "big header" "$(cat "$T/hostile.out")"
grep -q '^many_headers=HTTP/1.1 4[0-9][0-9]' "$T/hostile.out" && ok "thousands of headers: 4xx" || not_ok "many headers" "$(cat "$T/hostile.out")"
grep -q '^huge_headers=HTTP/1.1 4[0-9][0-9]' "$T/hostile.out" && ok "headers over the connection's memory: 4xx" || not_ok "huge headers" "$(cat "$T/hostile.out")"
grep -q '^long_uri=HTTP/1.1 4[0-9][0-9]' "$T/hostile.out" && ok "an overlong URI: 4xx" || not_ok "long uri" "$(cat "$T/hostile.out")"
grep -q '^served_during_slowloris=HTTP/1.1 200' "$T/hostile.out" && ok "served while slowloris connections hang" || not_ok "slowloris service" "$(cat "$T/hostile.out")"
grep -q '^slowloris_closed=20' "$T/hostile.out" && ok "slowloris connections closed by the connection timeout" || not_ok "slowloris closed" "$(cat "$T/hostile.out")"
mark "600 hostile requests"
python3 - "$http" "$T/junk.bin" <<'EOF'
import http.client, sys
port, junk = int(sys.argv[1]), open(sys.argv[2], "rb").read()
long = "a" * 65
for i in range(300):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/v2.5/quotes/integrity?nonce=%s&mask=0xZZ&mask=1" % long)
    assert c.getresponse().status == 400
    c.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/redfish/v1/UpdateService/upload", body=junk,
              headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert c.getresponse().status == 403
    c.close()
EOF
[ $? -eq 0 ] && ok "600 hostile requests answered 400/403" || not_ok "600 hostile requests answered"
rss1=$(rss_kb)
kill -0 "$AGENT_PID" 2>/dev/null && ok "the agent is still up after the hostile requests" || not_ok "agent still up"
[ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss1 - rss0)) -lt 8192 ] &&
  ok "memory flat across the hostile requests (RSS ${rss0} -> ${rss1} KiB)" ||
  not_ok "memory flat" "RSS ${rss0:-?} -> ${rss1:-?} KiB"

mark "rotd and the TPM"
# ---- rotd and the TPM go away and come back --------------------------------------
# rotd removes its pid file as it exits: read it once.
ROTD_PID=$(cat "$S/rotd.pid")
kill -TERM "$ROTD_PID"
for _ in $(seq 100); do kill -0 "$ROTD_PID" 2>/dev/null || break; sleep 0.05; done
req GET "$H/redfish/v1/UpdateService/FirmwareInventory"
expect "rotd down: inventory 503" 503 '"rotd" in d["error"]["message"]'
req GET "$H/healthz"
expect "rotd down: /healthz 503 naming it" 503 'd["rotd"]["up"] is False'
# The chip's ComponentIntegrity member says the chip is offline; its
# certificates, which only the chip holds, are not there to serve.
req GET "$H/redfish/v1/ComponentIntegrity/RoT"
expect "rotd down: ComponentIntegrity/RoT says the chip is offline" 200 \
  'd["Status"]["State"]=="UnavailableOffline" and "Unavailable" in d["Oem"]["RotStack"]'
req GET "$H/redfish/v1/ComponentIntegrity/RoT/Certificates/Alias"
expect "rotd down: the chip's Alias certificate 503" 503 '"identity" in d["error"]["message"]'
"$BIN/rotd" --flash "$S/flash.bin" --otp "$S/otp.bin" --socket "$S/rotd.sock" \
  --daemon --pid "$S/rotd.pid" --log "$S/rotd.log" 2>>"$S/rotd.log" || not_ok "rotd restarts"
req GET "$H/redfish/v1/UpdateService/FirmwareInventory"
expect "rotd back: the agent reconnects by itself" 200 'd["Members@odata.count"]==10'
# The chip's certificates as served with everything up, to compare with
# what is served while the TPM is down.
for c in DeviceID Alias; do
  req GET "$H/redfish/v1/ComponentIntegrity/RoT/Certificates/$c"
  cp "$T/body" "$T/rot-$c.up.json"
done
bash scripts/swtpm.sh stop "$S/tpm" >/dev/null 2>&1
req GET "$H/healthz"
expect "TPM down: /healthz 503 naming it" 503 'd["tpm"]["up"] is False and d["rotd"]["up"] is True'
req GET "$H/v2.5/agent/info"
expect "TPM down: agent/info 503" 503 'd["code"]==503'
# The chip's member and certificates need the chip only.
req GET "$H/redfish/v1/ComponentIntegrity/RoT"
expect "TPM down: ComponentIntegrity/RoT still 200, the chip enabled" 200 \
  'd["Status"]["State"]=="Enabled" and "Unavailable" not in d["Oem"]["RotStack"]'
for c in DeviceID Alias; do
  req GET "$H/redfish/v1/ComponentIntegrity/RoT/Certificates/$c"
  if [ "$code" = 200 ] && python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if a["CertificateString"].startswith("-----BEGIN CERTIFICATE-----") and
         a["CertificateString"] == b["CertificateString"] and a["Fingerprint"] == b["Fingerprint"] else 1)
' "$T/body" "$T/rot-$c.up.json"; then
    ok "TPM down: the chip's $c certificate is served, the same as with the TPM up"
  else
    not_ok "TPM down: the chip's $c certificate is served" "$(show)"
  fi
done
req GET "$H/redfish/v1/ComponentIntegrity/TPM/Certificates/EK"
expect "TPM down: the TPM's EK certificate 503" 503 'd["error"]["code"]'
bash scripts/swtpm.sh start "$S/tpm" >/dev/null 2>&1
req GET "$H/healthz"
expect "TPM back: the agent reopens it by itself" 200 'd["tpm"]["up"] is True'

mark "graceful stop"
# ---- graceful stop: a push in flight finishes ----------------------------------------
curl -s -o "$T/last.body" -w '%{http_code}' --limit-rate 100k "${CA[@]}" "${OP[@]}" \
  -F "UpdateFile=@$IMG" "$TS/redfish/v1/UpdateService/upload" >"$T/last.code" 2>/dev/null &
LAST=$!
for _ in $(seq 100); do
  grep -q '"POST /redfish/v1/UpdateService/upload"' "$S/agent.log" 2>/dev/null
  (cd "$S" && "$BIN/rotctl" --socket "$S/rotd.sock" status --json 2>/dev/null) |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("session",{}).get("open") else 1)' 2>/dev/null && break
  sleep 0.05
done
kill -TERM "$AGENT_PID"
wait "$LAST"
for _ in $(seq 200); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.05; done
[ "$(cat "$T/last.code")" = 202 ] && ok "SIGTERM: the push in flight still completes (202)" ||
  not_ok "push in flight at SIGTERM" "code=$(cat "$T/last.code") $(head -c 300 "$T/last.body")"
! kill -0 "$AGENT_PID" 2>/dev/null && grep -q "host-agent: stopped" "$S/agent.log" &&
  ok "SIGTERM: the agent stops cleanly" || not_ok "agent stops on SIGTERM" "$(tail -3 "$S/agent.log")"
grep -q "rotd: .*client.*closed\|rotd: .*disconnect" "$S/rotd.log" >/dev/null 2>&1
tap_exit
