#!/usr/bin/env bash
# rotctl as an operator uses it: keygen, sign, verify (keys and OTP),
# inspect, otp, and every way verification must refuse an image.
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/rotctl_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROTCTL=$PWD/$BUILD/bin/rotctl
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir

if [ ! -x "$ROTCTL" ]; then
  not_ok "rotctl is built" "missing $ROTCTL (run make)"
  exit 1
fi

# run ARGS...: sets rc, leaves stdout in $T/out and stderr in $T/err.
run() {
  "$ROTCTL" "$@" >"$T/out" 2>"$T/err"
  rc=$?
}
err_lines() { wc -l <"$T/err" | tr -d ' '; }
show() { echo "rc=$rc stdout: $(head -c 300 "$T/out") stderr: $(head -c 300 "$T/err")"; }

# expect_ok NAME ARGS...: exit 0, nothing on stderr.
expect_ok() {
  local name=$1
  shift
  run "$@"
  if [ "$rc" -eq 0 ] && [ ! -s "$T/err" ]; then ok "$name"; else not_ok "$name" "$(show)"; fi
}

# expect_reject NAME ERROR_NAME ARGS...: exit 1, exactly one stderr line
# naming the error, nothing on stdout.
expect_reject() {
  local name=$1 want=$2
  shift 2
  run "$@"
  if [ "$rc" -eq 1 ] && [ "$(err_lines)" -eq 1 ] && grep -q "$want" "$T/err" &&
    grep -q '^rotctl: ' "$T/err" && [ ! -s "$T/out" ]; then
    ok "$name"
  else
    not_ok "$name" "want exit 1 and one line with $want" "$(show)"
  fi
}

# expect_usage NAME ARGS...: exit 2, exactly one stderr line.
expect_usage() {
  local name=$1
  shift
  run "$@"
  if [ "$rc" -eq 2 ] && [ "$(err_lines)" -eq 1 ] && grep -q '^rotctl: ' "$T/err"; then
    ok "$name"
  else
    not_ok "$name" "want exit 2 and one line" "$(show)"
  fi
}

# mutate SRC DST OP [ARG]: xor OFFSET's byte with MASK, truncate, or append.
mutate() {
  python3 - "$@" <<'EOF'
import sys
src, dst, op = sys.argv[1], sys.argv[2], sys.argv[3]
b = bytearray(open(src, "rb").read())
if op == "xor":
    off, mask = int(sys.argv[4], 0), int(sys.argv[5], 0)
    b[off] ^= mask
elif op == "truncate":
    del b[int(sys.argv[4], 0):]
elif op == "append":
    b += b"\0"
open(dst, "wb").write(bytes(b))
EOF
}

json_valid() { python3 -m json.tool "$1" >/dev/null 2>&1; }

# ---- keygen ---------------------------------------------------------------
K=$T/keys
expect_ok "keygen creates a hierarchy" keygen --out "$K"
missing=""
for f in root.key.pem root.pub.pem sign-0.key.pem sign-0.pub.pem manifest.bin; do
  [ -s "$K/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "keygen writes every file"; else not_ok "keygen writes every file" "missing:$missing"; fi
modes="$(stat -c %a "$K/root.key.pem") $(stat -c %a "$K/sign-0.key.pem") $(stat -c %a "$K")"
if [ "$modes" = "600 600 700" ]; then ok "keygen: private keys 0600, directory 0700"; else not_ok "keygen: private keys 0600, directory 0700" "modes: $modes"; fi
if openssl pkey -pubin -in "$K/root.pub.pem" -noout 2>/dev/null &&
  openssl pkey -in "$K/sign-0.key.pem" -noout 2>/dev/null; then
  ok "keygen: PEM keys readable by openssl"
else
  not_ok "keygen: PEM keys readable by openssl"
fi
before=$(cat "$K"/* | sha256sum)
expect_reject "keygen refuses to overwrite" "already exists" keygen --out "$K"
if [ "$(cat "$K"/* | sha256sum)" = "$before" ]; then ok "keygen refusal leaves keys untouched"; else not_ok "keygen refusal leaves keys untouched"; fi
expect_ok "keygen creates missing parent directories" keygen --out "$T/nested/dev/keys"
if [ -s "$T/nested/dev/keys/manifest.bin" ]; then ok "keygen nested directory holds the manifest"; else not_ok "keygen nested directory holds the manifest"; fi
touch "$T/plainfile"
expect_reject "keygen into a path below a file" ROT_ERROR_IO_WRITE keygen --out "$T/plainfile/keys"
K2=$T/keys2
expect_ok "keygen second hierarchy" keygen --out "$K2"
cp -r "$K2" "$T/keys3"
expect_ok "keygen --force replaces" keygen --out "$T/keys3" --force
if ! cmp -s "$K2/root.pub.pem" "$T/keys3/root.pub.pem"; then ok "keygen --force makes a new root"; else not_ok "keygen --force makes a new root"; fi

# ---- sign and verify --------------------------------------------------------
head -c 64 /dev/urandom >"$T/payload.bin"
IMG=$T/x.img
expect_ok "sign opensbi image" sign --keys "$K" --type opensbi --svn 4 --version 1.2.3 "$T/payload.bin" "$IMG"
if [ "$(stat -c %a "$IMG")" = 644 ]; then ok "sign writes the image 0644"; else not_ok "sign writes the image 0644" "$(stat -c %a "$IMG")"; fi
# A signing key from another hierarchy: not the one the manifest certifies.
cp -r "$K" "$T/keys-mixed" && cp "$K2/sign-0.key.pem" "$T/keys-mixed/sign-0.key.pem"
expect_reject "sign with a key the manifest does not certify names the key and the mismatch" \
  'sign-0.key.pem: ROT_ERROR_HOST_KEY_MISMATCH' \
  sign --keys "$T/keys-mixed" --type opensbi --svn 4 --version 1.2.3 "$T/payload.bin" "$T/mixed.img"
expect_ok "verify --keys accepts" verify --keys "$K" "$IMG"
psha=$(sha384sum "$T/payload.bin" | cut -d' ' -f1)
if grep -qx "$IMG: OK type=opensbi version=1.2.3 svn=4 key=0 sha384=$psha" "$T/out"; then
  ok "verify prints a one-line summary"
else
  not_ok "verify prints a one-line summary" "$(cat "$T/out")"
fi
expect_ok "verify --type matching accepts" verify --keys "$K" --type opensbi "$IMG"
expect_ok "verify --min-svn at image svn accepts" verify --keys "$K" --min-svn 4 "$IMG"
run verify --json --keys "$K" "$IMG"
if [ "$rc" -eq 0 ] && json_valid "$T/out" && python3 - "$T/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["type"] == "opensbi" and d["svn"] == 4
assert d["version"] == "1.2.3" and d["key_index"] == 0
EOF
then ok "verify --json is valid JSON"; else not_ok "verify --json is valid JSON" "$(show)"; fi

O=$T/otp.bin
expect_ok "otp provision creates and programs" otp provision --keys "$K" --otp "$O"
expect_ok "verify --otp accepts" verify --otp "$O" "$IMG"
expect_reject "otp provision twice is refused" ROT_ERROR_OTP_ALREADY_SET otp provision --keys "$K" --otp "$O"

expect_ok "sign dtb with default addresses" sign --keys "$K" --type dtb --svn 0 --version 0.0.1 "$T/payload.bin" "$T/dtb.img"
expect_ok "sign hypervisor with hex addresses" sign --keys "$K" --type hypervisor --svn 1 --version 2.0.0 \
  --load-addr 0x80200000 --entry 0x80200010 --dev-only "$T/payload.bin" "$T/hv.img"
expect_ok "verify --otp dev-only image on a dev device" verify --otp "$O" "$T/hv.img"
run inspect --json "$T/dtb.img"
cp "$T/out" "$T/dtb.json"
run inspect --json "$T/hv.img"
if python3 - "$T/dtb.json" "$T/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))["header"]
h = json.load(open(sys.argv[2]))["header"]
assert d["load_addr"] == "0x88000000" and d["entry_point"] == "0x0", d
assert h["load_addr"] == "0x80200000" and h["entry_point"] == "0x80200010", h
assert h["dev_only"] is True and h["flags"] == "0x00000001", h
EOF
then ok "sign: default and explicit load/entry, --dev-only flag"; else not_ok "sign: default and explicit load/entry, --dev-only flag"; fi
expect_reject "sign: load address outside the region" ROT_ERROR_IMAGE_BAD_LOAD_ADDR \
  sign --keys "$K" --type opensbi --svn 1 --version 1.0.0 --load-addr 0x1000 "$T/payload.bin" "$T/bad.img"
expect_reject "sign: entry outside the payload" ROT_ERROR_IMAGE_BAD_ENTRY \
  sign --keys "$K" --type opensbi --svn 1 --version 1.0.0 --entry 0x80100000 "$T/payload.bin" "$T/bad.img"
# Signatures are canonical: the image's and the manifest's s is at most n/2
# (raw ECDSA gives a high s half the time, so 16 in a row are not luck).
for i in $(seq 1 16); do
  "$ROTCTL" sign --keys "$K" --type opensbi --svn "$i" --version 1.0.0 "$T/payload.bin" "$T/lows-$i.img" >/dev/null 2>&1 || break
done
if python3 - "$T" <<'EOF'
import struct, sys
n = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973
for i in range(1, 17):
    b = open("%s/lows-%d.img" % (sys.argv[1], i), "rb").read()
    mlen = struct.unpack_from("<I", b, 52)[0]
    for sig in (b[-96:], b[128 + mlen - 96:128 + mlen]):
        s = int.from_bytes(sig[48:], "big")
        assert 1 <= s <= n // 2, (i, hex(s))
EOF
then ok "sign: image and manifest signatures are low-S"; else not_ok "sign: image and manifest signatures are low-S"; fi
# A key directory whose manifest carries the high-S twin of its root
# signature (as about half of those made before the low-S rule do) is
# refused by name, not as tampering.
cp -r "$K" "$T/keys-highs"
python3 - "$T/keys-highs/manifest.bin" <<'EOF'
import sys
n = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
s = int.from_bytes(b[-48:], "big")
b[-48:] = (n - s).to_bytes(48, "big")
open(p, "wb").write(b)
EOF
expect_reject "sign: key directory with a high-S manifest signature" ROT_ERROR_CRYPTO_SIG_HIGH_S \
  sign --keys "$T/keys-highs" --type opensbi --svn 1 --version 1.0.0 "$T/payload.bin" "$T/bad.img"
expect_reject "sign: entry not 4-byte aligned" ROT_ERROR_IMAGE_ENTRY_MISALIGNED \
  sign --keys "$K" --type hypervisor --svn 1 --version 1.0.0 --entry 0x80200002 "$T/payload.bin" "$T/bad.img"
expect_reject "sign: load address not 4-byte aligned" ROT_ERROR_IMAGE_LOAD_MISALIGNED \
  sign --keys "$K" --type opensbi --svn 1 --version 1.0.0 --load-addr 0x80000002 "$T/payload.bin" "$T/bad.img"
expect_reject "sign: dtb load address not 8-byte aligned" ROT_ERROR_IMAGE_LOAD_MISALIGNED \
  sign --keys "$K" --type dtb --svn 1 --version 1.0.0 --load-addr 0x88000004 "$T/payload.bin" "$T/bad.img"
: >"$T/empty.bin"
expect_reject "sign: empty payload" ROT_ERROR_IMAGE_EMPTY_PAYLOAD \
  sign --keys "$K" --type opensbi --svn 1 --version 1.0.0 "$T/empty.bin" "$T/bad.img"
expect_reject "sign: unreadable payload" ROT_ERROR_IO_OPEN \
  sign --keys "$K" --type opensbi --svn 1 --version 1.0.0 "$T/nope.bin" "$T/bad.img"
expect_reject "sign: key index not in the manifest" ROT_ERROR_MANIFEST_KEY_NOT_FOUND \
  sign --keys "$K" --type opensbi --svn 1 --version 1.0.0 --key-index 3 "$T/payload.bin" "$T/bad.img"
expect_reject "sign: missing key directory" ROT_ERROR_IO_OPEN \
  sign --keys "$T/nokeys" --type opensbi --svn 1 --version 1.0.0 "$T/payload.bin" "$T/bad.img"
if [ ! -e "$T/bad.img" ]; then ok "sign writes nothing on failure"; else not_ok "sign writes nothing on failure"; fi

# ---- inspect ---------------------------------------------------------------
run inspect --json "$IMG"
cp "$T/out" "$T/x.json"
if [ "$rc" -eq 0 ] && json_valid "$T/x.json"; then ok "inspect --json is valid JSON"; else not_ok "inspect --json is valid JSON" "$(show)"; fi
if python3 - "$T/x.json" "$IMG" "$T/payload.bin" <<'EOF'
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
img = open(sys.argv[2], "rb").read()
payload = open(sys.argv[3], "rb").read()
h, m = d["header"], d["manifest"]
assert d["status"] == "structure OK, signature not checked"
assert d["total_len"] == len(img)
assert h["magic"] == "0x494f5452" and h["format_version"] == 1 and h["header_size"] == 128
assert h["image_type"] == 2 and h["image_type_name"] == "opensbi"
assert h["version"] == "1.2.3" and h["svn"] == 4 and h["key_index"] == 0
assert h["load_addr"] == "0x80000000" and h["entry_point"] == "0x80000000"
assert h["payload_len"] == 64
assert h["payload_digest"] == hashlib.sha384(payload).hexdigest()
root = bytes.fromhex(m["root_pubkey"])
assert len(root) == 96
assert m["root_key_hash"] == hashlib.sha384(root).hexdigest()
assert m["key_count"] == 1 and len(m["keys"]) == 1
k = m["keys"][0]
assert k["key_index"] == 0
assert k["allowed_types"] == ["rot", "opensbi", "hypervisor", "dtb", "recovery"]
assert k["pubkey_sha384"] == hashlib.sha384(bytes.fromhex(k["pubkey"])).hexdigest()
assert len(bytes.fromhex(m["root_signature"])) == 96
assert d["payload"]["sha384"] == h["payload_digest"] and d["payload"]["digest_matches_header"] is True
assert img[128 + h["manifest_len"]:][:64] == payload
assert bytes.fromhex(d["signature"]) == img[-96:]
EOF
then ok "inspect --json carries every header and manifest field"; else not_ok "inspect --json carries every header and manifest field"; fi
run inspect "$IMG"
if [ "$rc" -eq 0 ] && grep -q 'structure OK, signature not checked' "$T/out" &&
  grep -q 'root_key_hash' "$T/out" && grep -q 'allowed=rot,opensbi,hypervisor,dtb,recovery' "$T/out"; then
  ok "inspect text output"
else
  not_ok "inspect text output" "$(show)"
fi

MLEN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["header"]["manifest_len"])' "$T/x.json")
PAY_OFF=$((128 + MLEN))
SIZE=$(stat -c %s "$IMG")

# ---- verify: every rejection names its check --------------------------------
mutate "$IMG" "$T/t-payload.img" xor $((PAY_OFF + 10)) 0x01
expect_reject "verify: tampered payload byte" ROT_ERROR_IMAGE_DIGEST_MISMATCH verify --keys "$K" "$T/t-payload.img"
mutate "$IMG" "$T/t-header.img" xor 20 0x01
expect_reject "verify: tampered header byte (version)" ROT_ERROR_IMAGE_BAD_SIGNATURE verify --keys "$K" "$T/t-header.img"
mutate "$IMG" "$T/t-svn.img" xor 24 0x08
expect_reject "verify: tampered header byte (svn)" ROT_ERROR_IMAGE_BAD_SIGNATURE verify --otp "$O" "$T/t-svn.img"
mutate "$IMG" "$T/t-magic.img" xor 0 0x01
expect_reject "verify: tampered magic" ROT_ERROR_IMAGE_BAD_MAGIC verify --keys "$K" "$T/t-magic.img"
mutate "$IMG" "$T/t-sig.img" xor $((SIZE - 1)) 0x01
expect_reject "verify: tampered signature" ROT_ERROR_IMAGE_BAD_SIGNATURE verify --keys "$K" "$T/t-sig.img"
mutate "$IMG" "$T/t-msig.img" xor $((PAY_OFF - 1)) 0x01
expect_reject "verify: tampered manifest signature" ROT_ERROR_MANIFEST_BAD_SIGNATURE verify --keys "$K" "$T/t-msig.img"
mutate "$IMG" "$T/t-trail.img" append
expect_reject "verify: trailing byte" ROT_ERROR_IMAGE_TRAILING_DATA verify --keys "$K" "$T/t-trail.img"
mutate "$IMG" "$T/t-trunc.img" truncate $((SIZE - 1))
expect_reject "verify: truncated by one byte" ROT_ERROR_IMAGE_TRUNCATED verify --keys "$K" "$T/t-trunc.img"
mutate "$IMG" "$T/t-hdr.img" truncate 100
expect_reject "verify: truncated inside the header" ROT_ERROR_IMAGE_TRUNCATED verify --keys "$K" "$T/t-hdr.img"
expect_reject "inspect: malformed image names the check" ROT_ERROR_IMAGE_TRUNCATED inspect "$T/t-trunc.img"
expect_reject "verify: --min-svn above the image svn" ROT_ERROR_POLICY_SVN_BELOW_FLOOR verify --keys "$K" --min-svn 5 "$IMG"
expect_reject "verify: wrong --type" ROT_ERROR_POLICY_TYPE_MISMATCH verify --keys "$K" --type hypervisor "$IMG"
expect_reject "verify: image from another root (--keys)" ROT_ERROR_MANIFEST_WRONG_ROOT verify --keys "$K2" "$IMG"
O2=$T/otp2.bin
run otp provision --keys "$K2" --otp "$O2"
expect_reject "verify: OTP provisioned with another root" ROT_ERROR_MANIFEST_WRONG_ROOT verify --otp "$O2" "$IMG"
O3=$T/otp3.bin
run otp provision --keys "$K" --otp "$O3"
expect_ok "otp revoke" otp revoke --otp "$O3" --key-index 0
expect_reject "verify: revoked key" ROT_ERROR_POLICY_KEY_REVOKED verify --otp "$O3" "$IMG"
expect_ok "verify: the other OTP is unaffected" verify --otp "$O" "$IMG"
O4=$T/otp4.bin
run otp provision --keys "$K" --otp "$O4"
expect_ok "otp set-floor" otp set-floor --otp "$O4" --type opensbi --svn 5
expect_reject "verify: SVN below the OTP floor" ROT_ERROR_POLICY_SVN_BELOW_FLOOR verify --otp "$O4" "$IMG"
expect_ok "otp set-floor never lowers" otp set-floor --otp "$O4" --type opensbi --svn 1
expect_reject "verify: floor still in force after a lower set-floor" ROT_ERROR_POLICY_SVN_BELOW_FLOOR verify --otp "$O4" "$IMG"
expect_ok "verify: other types keep their floor" verify --otp "$O4" "$T/dtb.img"
expect_reject "verify: unreadable image (missing)" ROT_ERROR_IO_OPEN verify --keys "$K" "$T/missing.img"
expect_reject "verify: unreadable image (directory)" ROT_ERROR_IO_OPEN verify --keys "$K" "$T"
expect_reject "verify: missing OTP file" ROT_ERROR_IO_OPEN verify --otp "$T/none.otp" "$IMG"
if [ ! -e "$T/none.otp" ]; then ok "verify --otp does not create the OTP file"; else not_ok "verify --otp does not create the OTP file"; fi
head -c 512 /dev/zero >"$T/blank.otp" && chmod 600 "$T/blank.otp"
expect_reject "verify: blank OTP" ROT_ERROR_OTP_NOT_PROVISIONED verify --otp "$T/blank.otp" "$IMG"
head -c 100 /dev/zero >"$T/short.otp" && chmod 600 "$T/short.otp"
expect_reject "verify: OTP file of the wrong size" ROT_ERROR_OTP_BAD_LAYOUT verify --otp "$T/short.otp" "$IMG"
run verify --json --keys "$K" "$T/t-payload.img"
if [ "$rc" -eq 1 ] && json_valid "$T/out" && grep -q '"ok": false' "$T/out" &&
  grep -q ROT_ERROR_IMAGE_DIGEST_MISMATCH "$T/out" && [ "$(err_lines)" -eq 1 ]; then
  ok "verify --json rejection: JSON verdict and one stderr line"
else
  not_ok "verify --json rejection: JSON verdict and one stderr line" "$(show)"
fi

# ---- otp show ----------------------------------------------------------------
run otp show --json "$O3"
if [ "$rc" -eq 0 ] && json_valid "$T/out" && python3 - "$T/out" "$T/x.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
x = json.load(open(sys.argv[2]))
assert o["provisioned"] is True and o["lifecycle"] == "dev"
assert o["root_key_hash"] == x["manifest"]["root_key_hash"]
assert o["revoked_keys"] == [0]
assert o["svn_floors"] == {"rot": 0, "opensbi": 0, "hypervisor": 0, "dtb": 0, "recovery": 0}
assert o["uds"] == "written"  # provisioning fuses a random UDS
EOF
then ok "otp show --json"; else not_ok "otp show --json" "$(show)"; fi
run otp show --json "$T/blank.otp"
if [ "$rc" -eq 0 ] && json_valid "$T/out" && grep -q '"lifecycle": "blank"' "$T/out" &&
  grep -q '"root_key_hash": null' "$T/out"; then
  ok "otp show on a blank OTP"
else
  not_ok "otp show on a blank OTP" "$(show)"
fi
# A device secret burnt into the fuses must never be printed.
python3 - "$O4" "$T/uds.otp" <<'EOF'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
b[328:376] = bytes([0xa7]) * 48
b[376:380] = struct.pack("<I", 0xa5c3965a)
open(sys.argv[2], "wb").write(bytes(b))
EOF
chmod 600 "$T/uds.otp"
run otp show --json "$T/uds.otp"
cp "$T/out" "$T/uds.json"
run otp show "$T/uds.otp"
if [ "$rc" -eq 0 ] && grep -q '"uds": "written"' "$T/uds.json" &&
  ! grep -qi 'a7a7a7' "$T/uds.json" "$T/out" && grep -q 'opensbi=5' "$T/out"; then
  ok "otp show reports the UDS state, never the UDS"
else
  not_ok "otp show reports the UDS state, never the UDS" "$(cat "$T/uds.json" "$T/out")"
fi

# ---- command line ----------------------------------------------------------
helps=0
for c in keygen sign verify inspect otp "otp provision" "otp show" "otp revoke" "otp set-floor" \
  identity "identity csr" "identity store" "identity endorse"; do
  # shellcheck disable=SC2086
  run $c --help
  if [ "$rc" -ne 0 ] || ! grep -q "^usage: rotctl $c" "$T/out" || [ -s "$T/err" ]; then
    not_ok "rotctl $c --help" "$(show)"
    helps=1
  fi
done
[ $helps -eq 0 ] && ok "--help on every subcommand exits 0 with usage"
run --help
if [ "$rc" -eq 0 ] && grep -q keygen "$T/out" && grep -q verify "$T/out" && grep -q set-floor "$T/out"; then
  ok "rotctl --help lists the commands"
else
  not_ok "rotctl --help lists the commands" "$(show)"
fi
run --version
if [ "$rc" -eq 0 ] && grep -q '^rotctl [0-9]' "$T/out"; then ok "rotctl --version"; else not_ok "rotctl --version" "$(show)"; fi

S="sign --keys $K --type opensbi --version 1.0.0"
bad_args=(
  ""
  "--bogus"
  "frobnicate"
  "keygen"
  "keygen --out"
  "sign"
  "$S --svn 12abc $T/payload.bin $T/b.img"
  "$S --svn -1 $T/payload.bin $T/b.img"
  "$S --svn +1 $T/payload.bin $T/b.img"
  "$S --svn 257 $T/payload.bin $T/b.img"
  "$S --svn 99999999999999999999999 $T/payload.bin $T/b.img"
  "$S --svn 0x $T/payload.bin $T/b.img"
  "$S --svn 1 --load-addr 0x1g $T/payload.bin $T/b.img"
  "$S --svn 1 --load-addr 0x10000000000000000 $T/payload.bin $T/b.img"
  "$S --svn 1 --key-index 32 $T/payload.bin $T/b.img"
  "$S --svn 1 $T/payload.bin"
  "$S --svn 1 $T/payload.bin $T/b.img extra"
  "sign --keys $K --type opensbi --svn 1 --version 1.2 $T/payload.bin $T/b.img"
  "sign --keys $K --type opensbi --svn 1 --version 1.2.3.4 $T/payload.bin $T/b.img"
  "sign --keys $K --type opensbi --svn 1 --version 1.65536.0 $T/payload.bin $T/b.img"
  "sign --keys $K --type firmware --svn 1 --version 1.0.0 $T/payload.bin $T/b.img"
  "sign --type opensbi --svn 1 --version 1.0.0 $T/payload.bin $T/b.img"
  "verify $IMG"
  "verify --keys $K --otp $O $IMG"
  "verify --keys $K"
  "verify --keys $K $IMG $IMG"
  "verify --keys $K --min-svn x $IMG"
  "verify --keys $K --type nope $IMG"
  "verify --keys $K --json=yes $IMG"
  "verify -q --keys $K $IMG"
  "inspect"
  "inspect --nope $IMG"
  "otp"
  "otp burn"
  "otp show"
  "otp provision --keys $K"
  "otp revoke --otp $O"
  "otp revoke --otp $O --key-index 32"
  "otp set-floor --otp $O --type opensbi"
  "otp set-floor --otp $O --type opensbi --svn 300"
  "identity --bogus"
  "identity --pem extra"
  "identity frobnicate"
  "identity csr"
  "identity csr --pem --out $T/x.csr"
  "identity store"
  "identity store a b"
  "identity endorse --ak-public $T/payload.bin"
  "identity endorse --ek-cert-sha384 abc --ak-public $T/payload.bin"
  "identity endorse --ek-cert-sha384 $(printf 'g%.0s' $(seq 96)) --ak-public $T/payload.bin"
  "identity endorse --ek-cert-sha384 $(printf 'a%.0s' $(seq 96))"
)
usage_bad=0
for a in "${bad_args[@]}"; do
  # shellcheck disable=SC2086
  run $a
  if [ "$rc" -ne 2 ] || [ "$(err_lines)" -ne 1 ] || ! grep -q '^rotctl: ' "$T/err"; then
    not_ok "bad arguments: rotctl $a" "$(show)"
    usage_bad=1
  fi
done
[ $usage_bad -eq 0 ] && ok "bad arguments: exit 2 with one line (${#bad_args[@]} cases)"
if [ ! -e "$T/b.img" ]; then ok "bad arguments write nothing"; else not_ok "bad arguments write nothing"; fi

# With --json a wrong command line still owes its JSON document on stdout
# (the shape of every rotctl JSON failure), besides the stderr line.
json_usage_bad=0
for a in "verify --json --bogus $IMG" "verify --json --keys $K" "inspect --jso" \
  "verify --json $IMG" "otp show --json"; do
  # shellcheck disable=SC2086
  run $a
  if [ "$rc" -ne 2 ] || [ "$(err_lines)" -ne 1 ] || ! json_valid "$T/out" ||
    ! python3 - "$T/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d) == ["command", "error", "ok", "reason"], d
assert d["ok"] is False and d["error"] == "ROT_ERROR_INVALID_ARGUMENT", d
assert "--help" in d["reason"], d
EOF
  then
    not_ok "--json usage error: rotctl $a" "$(show)"
    json_usage_bad=1
  fi
done
[ $json_usage_bad -eq 0 ] && ok "--json usage errors: exit 2, one stderr line and the JSON error document"
run verify --bogus "$IMG"
if [ "$rc" -eq 2 ] && [ ! -s "$T/out" ]; then ok "without --json a usage error prints nothing on stdout"; else not_ok "without --json a usage error prints nothing on stdout" "$(show)"; fi

"$ROTCTL" inspect "$IMG" >/dev/full 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(err_lines)" -eq 1 ]; then ok "a failed stdout write is an error"; else not_ok "a failed stdout write is an error" "$(show)"; fi

# ---- an unknown crypto backend ----------------------------------------------------
# ROT_CRYPTO naming no backend stops every command before it does anything:
# exit 2, one line naming the error, no key directory, no fuse burnt.
crypto_bad=0
cp "$T/blank.otp" "$T/bogus.otp"
for a in "keygen --out $T/bogus-keys" "otp provision --keys $K --otp $T/bogus.otp" \
  "verify --keys $K $IMG" "identity csr --out $T/bogus.csr"; do
  # shellcheck disable=SC2086
  ROT_CRYPTO=bogus "$ROTCTL" $a >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -ne 2 ] || [ "$(err_lines)" -ne 1 ] ||
    ! grep -q "ROT_ERROR_CRYPTO_UNKNOWN_BACKEND" "$T/err" || [ -s "$T/out" ]; then
    not_ok "ROT_CRYPTO=bogus: rotctl $a" "$(show)"
    crypto_bad=1
  fi
done
if [ $crypto_bad -eq 0 ] && [ ! -e "$T/bogus-keys" ] && cmp -s "$T/blank.otp" "$T/bogus.otp"; then
  ok "ROT_CRYPTO=bogus: exit 2 naming the unknown backend, nothing written"
else
  not_ok "ROT_CRYPTO=bogus: exit 2 naming the unknown backend, nothing written"
fi
ROT_CRYPTO=bogus "$ROTCTL" verify --json --keys "$K" "$IMG" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && json_valid "$T/out" &&
  grep -q '"error": "ROT_ERROR_CRYPTO_UNKNOWN_BACKEND"' "$T/out"; then
  ok "ROT_CRYPTO=bogus with --json: the JSON error document too"
else
  not_ok "ROT_CRYPTO=bogus with --json: the JSON error document too" "$(show)"
fi
ROT_CRYPTO=bogus "$PWD/$BUILD/bin/rotd" --flash "$T/bogus.flash" --otp "$T/bogus.otp" \
  --socket "$T/bogus.sock" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "ROT_ERROR_CRYPTO_UNKNOWN_BACKEND" "$T/err" &&
  [ ! -e "$T/bogus.flash" ] && [ ! -e "$T/bogus.sock" ]; then
  ok "ROT_CRYPTO=bogus: rotd refuses to start, creates nothing"
else
  not_ok "ROT_CRYPTO=bogus: rotd refuses to start, creates nothing" "$(show)"
fi

# ---- bit flips ----------------------------------------------------------------
# One flipped bit in every byte of a signed image (the bit position rotates
# with the offset, so every byte and every bit position is covered): each
# variant must be rejected with exit 1 and one line naming a check.
if python3 - "$ROTCTL" "$O" "$IMG" "$T/flip.img" <<'EOF'; then ok "bit flip in every byte is rejected"; else not_ok "bit flip in every byte is rejected"; fi
import collections, subprocess, sys
rotctl, otp, img, tmp = sys.argv[1:]
data = open(img, "rb").read()
seen = collections.Counter()
bad = []
for i in range(len(data)):
    b = bytearray(data)
    b[i] ^= 1 << (i % 8)
    with open(tmp, "wb") as f:
        f.write(b)
    r = subprocess.run([rotctl, "verify", "--otp", otp, tmp], capture_output=True)
    lines = r.stderr.decode(errors="replace").splitlines()
    if r.returncode != 1 or len(lines) != 1 or "ROT_ERROR_" not in lines[0] or r.stdout:
        bad.append((i, r.returncode, lines))
        continue
    seen[lines[0].split("rejected: ")[-1].split(" ")[0]] += 1
print("# %d variants; %s" % (len(data), ", ".join("%s=%d" % kv for kv in sorted(seen.items()))))
for i, rc, lines in bad[:10]:
    print("#   offset %d: exit %d: %s" % (i, rc, lines))
sys.exit(1 if bad else 0)
EOF

tap_exit
