#!/usr/bin/env bash
# Create a complete dev key hierarchy into a run directory.
#
#   keys/dev-hierarchy.sh DIR
#
# DIR/                      image signing (rotctl keygen): root key, signing
#                           keys, the root-signed key manifest
# DIR/manufacturer/         manufacturer CA for DICE: ca.key.pem, ca.pem
# DIR/operator/             operator CA for the agent's mTLS: ca.key.pem,
#                           ca.pem; agent.key.pem/agent.pem (TLS server,
#                           localhost); client.key.pem/client.pem (an
#                           operator's client certificate, CN=dev-operator)
#
# The TPM manufacturer CA is not made here: scripts/swtpm.sh creates it
# with the TPM (TPM_DIR/ca/swtpm-localca-rootca-cert.pem).
#
# Every key is ECDSA P-384 and mode 0600; nothing is made when DIR already
# holds a hierarchy (remove it first). Environment: ROTCTL (default:
# build/bin/rotctl of this tree), OPENSSL (default: openssl).
set -eu

prog=dev-hierarchy.sh
here=$(cd "$(dirname "$0")" && pwd)
ROTCTL=${ROTCTL:-$here/../build/bin/rotctl}
OPENSSL=${OPENSSL:-openssl}

if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: $prog DIR" >&2
  exit 2
fi
dir=$1
if [ -e "$dir/manufacturer" ] || [ -e "$dir/operator" ]; then
  echo "$prog: $dir already holds a hierarchy; refusing to replace it" >&2
  exit 1
fi
[ -x "$ROTCTL" ] || { echo "$prog: $ROTCTL is missing (run make)" >&2; exit 1; }

umask 077
"$ROTCTL" keygen --out "$dir" >/dev/null

key() { "$OPENSSL" ecparam -name secp384r1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }

# Self-signed CAs (the dev stand-ins for offline roots).
mkdir -p "$dir/manufacturer" "$dir/operator"
key "$dir/manufacturer/ca.key.pem"
"$OPENSSL" req -new -x509 -sha384 -days 3650 -config "$here/manufacturer-ca.cnf" \
  -key "$dir/manufacturer/ca.key.pem" -out "$dir/manufacturer/ca.pem"
key "$dir/operator/ca.key.pem"
"$OPENSSL" req -new -x509 -sha384 -days 3650 -config "$here/operator-ca.cnf" \
  -key "$dir/operator/ca.key.pem" -out "$dir/operator/ca.pem"

# Leaf certificates of the operator CA.
leaf() { # NAME CN EXTENSIONS
  key "$dir/operator/$1.key.pem"
  "$OPENSSL" req -new -sha384 -subj "/O=rot-stack/CN=$2" \
    -key "$dir/operator/$1.key.pem" -out "$dir/operator/$1.csr.pem"
  "$OPENSSL" x509 -req -sha384 -days 825 -in "$dir/operator/$1.csr.pem" \
    -CA "$dir/operator/ca.pem" -CAkey "$dir/operator/ca.key.pem" -set_serial "0x$("$OPENSSL" rand -hex 16)" \
    -extfile "$here/operator-ca.cnf" -extensions "$3" -out "$dir/operator/$1.pem" 2>/dev/null
  rm -f "$dir/operator/$1.csr.pem"
}
leaf agent localhost server
leaf client dev-operator client
chmod 600 "$dir"/manufacturer/*.key.pem "$dir"/operator/*.key.pem
chmod 644 "$dir"/manufacturer/ca.pem "$dir"/operator/*[!y].pem
echo "$prog: dev hierarchy in $dir (image signing, manufacturer CA, operator CA)"
