#!/usr/bin/env bash
# The factory step of a chip's identity: issue its DeviceID certificate.
#
#   keys/issue-deviceid.sh CA_DIR CSR_DER CERT_DER
#
# CSR_DER is the PKCS#10 request the chip signed with its DeviceID key
# (rotctl identity provision fetches it with IDENTITY_CSR); its signature
# and subject form are checked before the manufacturer CA in CA_DIR
# (ca.pem, ca.key.pem, from dev-hierarchy.sh) signs it with the [deviceid]
# profile of manufacturer-ca.cnf. The chip stores the result only if it
# certifies its own key (IDENTITY_STORE).
set -eu

prog=issue-deviceid.sh
here=$(cd "$(dirname "$0")" && pwd)
OPENSSL=${OPENSSL:-openssl}

if [ $# -ne 3 ]; then
  echo "usage: $prog CA_DIR CSR_DER CERT_DER" >&2
  exit 2
fi
ca=$1 csr=$2 out=$3
for f in "$ca/ca.pem" "$ca/ca.key.pem" "$csr"; do
  [ -r "$f" ] || { echo "$prog: cannot read $f" >&2; exit 1; }
done
if ! "$OPENSSL" req -inform DER -in "$csr" -verify -noout 2>/dev/null; then
  echo "$prog: $csr: not a CSR, or its signature does not verify" >&2
  exit 1
fi
subject=$("$OPENSSL" req -inform DER -in "$csr" -noout -subject -nameopt RFC2253)
if ! [[ $subject =~ ^subject=O=rot-stack,CN=rot-stack\ DeviceID\ [0-9a-f]{40}$ ]]; then
  echo "$prog: $csr: unexpected subject: $subject" >&2
  exit 1
fi
"$OPENSSL" x509 -req -sha384 -inform DER -in "$csr" -days 36500 \
  -CA "$ca/ca.pem" -CAkey "$ca/ca.key.pem" -set_serial "0x$("$OPENSSL" rand -hex 16)" \
  -extfile "$here/manufacturer-ca.cnf" -extensions deviceid \
  -outform DER -out "$out" 2>/dev/null
echo "$prog: issued $out (${subject#subject=})"
