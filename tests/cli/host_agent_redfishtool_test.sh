#!/usr/bin/env bash
# DMTF's redfishtool (Debian's package) against the host agent: the
# service root names ComponentIntegrity, Systems/1 lists the TPM, the
# ComponentIntegrity collection and the chip's certificates read over
# plain HTTP and TLS, the TPMGetSignedMeasurements action answers a quote
# that tpm2_checkquote accepts for redfishtool's nonce, and a power action
# over the plain listener is refused (403: operator operations need the
# client certificate).
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir

tap_need redfishtool
# shellcheck source=tests/lib/stack.sh
. tests/lib/stack.sh
stack_up
# redfishtool runs Debian's python3 (its #! line); -S Never: plain HTTP.
rt() { timeout 30 redfishtool -r "127.0.0.1:$http" -S Never "$@" >"$T/out" 2>"$T/err"; }
py() { python3 -c "import json,sys; d=json.load(open('$T/out')); sys.exit(0 if ($1) else 1)" 2>/dev/null; }
show() { echo "out=$(head -c 300 "$T/out") err=$(head -c 300 "$T/err")"; }

rt root && py 'd["ComponentIntegrity"]["@odata.id"]=="/redfish/v1/ComponentIntegrity"' &&
  ok "redfishtool root: the service root links ComponentIntegrity" || not_ok "redfishtool root" "$(show)"
rt Systems -1 get && py 'd["TrustedModules"][0]["InterfaceType"]=="TPM2_0"' &&
  ok "redfishtool Systems -1 get: TrustedModules lists the TPM" || not_ok "redfishtool Systems" "$(show)"
rt raw GET /redfish/v1/ComponentIntegrity && py 'd["Members@odata.count"]==2' &&
  ok "redfishtool raw GET ComponentIntegrity: two members" || not_ok "ComponentIntegrity" "$(show)"
rt raw GET /redfish/v1/ComponentIntegrity/TPM && py 'd["ComponentIntegrityType"]=="TPM"' &&
  ok "redfishtool raw GET ComponentIntegrity/TPM: type TPM" || not_ok "ComponentIntegrity/TPM" "$(show)"
if timeout 30 redfishtool -r "127.0.0.1:$https" -S Always raw GET /redfish/v1/ComponentIntegrity/RoT/Certificates/Alias \
  >"$T/out" 2>"$T/err" && python3 -c "import json; open('$T/alias.pem','w').write(json.load(open('$T/out'))['CertificateString'])" &&
  rt raw GET /redfish/v1/ComponentIntegrity/RoT/Certificates/DeviceID &&
  python3 -c "import json; open('$T/devid.pem','w').write(json.load(open('$T/out'))['CertificateString'])" &&
  openssl verify -CAfile "$S/keys/manufacturer/ca.pem" -untrusted "$T/devid.pem" "$T/alias.pem" >/dev/null 2>&1; then
  ok "redfishtool reads the chip's DeviceID (HTTP) and Alias (TLS) certificates; the chain verifies"
else
  not_ok "the chip's certificates through redfishtool" "$(show)"
fi
N=$(openssl rand -hex 32)
SEL=$(printf '\x00\x00\x00\x01\x00\x0b\x03\xb3\x00\x00' | base64)
SCH=$(printf '\x00\x18\x00\x0b' | base64)
rt raw POST /redfish/v1/ComponentIntegrity/TPM/Actions/ComponentIntegrity.TPMGetSignedMeasurements \
  -d '{"Certificate": {"@odata.id": "/redfish/v1/ComponentIntegrity/TPM/Certificates/AK"}, "PCRSelection": "'"$SEL"'", "Scheme": "'"$SCH"'", "Nonce": "'"$N"'"}'
TCTI=$(sed -n 's/^tcti = //p' "$S/agent.conf")
if python3 - "$T" <<'PY' &&
import base64, json, struct, sys
t = sys.argv[1]
b = base64.b64decode(json.load(open(f"{t}/out"))["SignedMeasurements"])
n = struct.unpack(">H", b[:2])[0]
open(f"{t}/attest", "wb").write(b[2:2 + n])
open(f"{t}/sig", "wb").write(b[2 + n:])
PY
  TPM2TOOLS_TCTI=$TCTI tpm2_readpublic -c 0x81000002 -f pem -o "$T/ak.pem" >/dev/null 2>&1 &&
  tpm2_checkquote -u "$T/ak.pem" -m "$T/attest" -s "$T/sig" -g sha256 -q "$N" >/dev/null 2>&1; then
  ok "redfishtool raw POST TPMGetSignedMeasurements: tpm2_checkquote accepts the quote for its nonce"
else
  not_ok "TPMGetSignedMeasurements through redfishtool" "$(show)"
fi
rt Systems -1 reset ForceRestart
[ $? -ne 0 ] && grep -q "403" "$T/err" && ok "redfishtool Systems reset over plain HTTP: refused with 403" ||
  not_ok "reset over plain HTTP refused" "$(show)"
tap_exit
