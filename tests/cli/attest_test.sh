#!/usr/bin/env bash
# Attestation end to end: real rotd, real swtpm, a measured boot
# (bootchain measure), attestctl quote / refvals / verify, tpm2-tools as the
# interop peer (checkquote, eventlog, makecredential, activatecredential,
# and real TPM outputs a hostile host would splice in: TPM2_Sign, Certify,
# quotes over other selections, unrestricted keys). Every hostile case must
# end UNTRUSTED with its own reason.
#
#   bash tests/cli/attest_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/$BUILD/bin
SWTPM=$ROOT/scripts/swtpm.sh
MUT="python3 $ROOT/tests/tools/attest_mutate.py"
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin

# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir /tmp/attest-test.XXXXXX
ROTD_PID=""
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  [ -n "$ROTD_PID" ] && kill "$ROTD_PID" 2>/dev/null && wait "$ROTD_PID" 2>/dev/null
  for d in "$T"/tpm "$T"/tpm2 "$T"/tpm-sha1; do
    [ -d "$d" ] && bash "$SWTPM" stop "$d" >/dev/null 2>&1
  done
}

for f in "$OPENSBI" "$UBOOT"; do
  [ -f "$f" ] || { not_ok "prerequisite $f installed"; exit 1; }
done

cd "$T" || exit 1
export ROT_SOCKET=$T/rotd.sock
A=$BIN/attestctl
nonce() { head -c "${1:-32}" /dev/urandom | od -An -tx1 -v | tr -d ' \n'; }

# A ROT_CRYPTO naming no backend: an error (exit 2) naming it, before any
# file is read or written.
ROT_CRYPTO=bogus "$A" refvals --keys keys >bogus.out 2>bogus.err
[ $? -eq 2 ] && grep -q "ROT_ERROR_CRYPTO_UNKNOWN_BACKEND" bogus.err && [ ! -s bogus.out ] &&
  ok "ROT_CRYPTO=bogus: attestctl stops with exit 2 naming the unknown backend" ||
  not_ok "ROT_CRYPTO=bogus: attestctl stops" "$(cat bogus.err)"

# ---- a provisioned chip, installed images, a TPM, a measured boot ----------
"$BIN/rotctl" keygen --out keys >/dev/null &&
  "$BIN/rotctl" otp provision --keys keys --otp otp.bin >/dev/null &&
  "$BIN/rotctl" sign --keys keys --type opensbi --svn 2 --version 1.1.0 "$OPENSBI" opensbi.img >/dev/null &&
  "$BIN/rotctl" sign --keys keys --type hypervisor --svn 5 --version 2023.1.0 "$UBOOT" uboot.img >/dev/null ||
  { not_ok "keys, OTP and signed images"; exit 1; }
"$BIN/rotd" --flash flash.bin --otp otp.bin --socket rotd.sock 2>>rotd.log &
ROTD_PID=$!
for _ in $(seq 100); do [ -S rotd.sock ] && break; sleep 0.05; done
ROTCTL=$BIN/rotctl
# shellcheck source=tests/lib/rot_firmware.sh
. "$ROOT/tests/lib/rot_firmware.sh"
install_rot_firmware keys || { not_ok "RoT firmware installs"; exit 1; }
for img in opensbi uboot; do "$BIN/rotctl" update --activate $img.img >/dev/null || not_ok "install $img"; done
TCTI=$(bash "$SWTPM" start "$T/tpm") || { not_ok "swtpm starts"; exit 1; }
export TPM2TOOLS_TCTI=$TCTI
"$BIN/bootchain" measure --out boot --tcti "$TCTI" >boot.out 2>&1 ||
  { not_ok "measured boot" "$(tail -3 boot.out)"; exit 1; }
# The measured boot was the images' trial boot: now they may be confirmed.
"$BIN/rotctl" confirm --type opensbi >/dev/null && "$BIN/rotctl" confirm --type hypervisor >/dev/null ||
  not_ok "confirm installed images"
ok "chip provisioned, images installed, boot measured into swtpm"

mkdir -p trust
cp "$T/tpm/ca/swtpm-localca-rootca-cert.pem" trust/tpm-ca.pem
cp "$T/tpm/ca/issuercert.pem" trust/tpm-intermediate.pem

# ---- AK and EK -------------------------------------------------------------
if $A ak create >ak.out 2>&1 && $A ak show --pem ak.pem --public ak.pub >ak.out 2>&1; then
  NAME=$(sed -n 's/^name: //p' ak.out)
  attrs=$(tpm2_readpublic -c 0x81000002 2>/dev/null | sed -n '/^attributes:/,/raw/p' | tr -d '\n')
  case $attrs in
    *fixedtpm*fixedparent*sensitivedataorigin*userwithauth*restricted*sign*) ok "ak create: restricted signing key persisted at 0x81000002" ;;
    *) not_ok "ak attributes" "$attrs" ;;
  esac
else
  not_ok "ak create" "$(cat ak.out)"
fi
$A ak create >ak2.out 2>&1 && not_ok "ak create refuses to replace an AK without --force" ||
  ok "ak create refuses to replace an AK without --force"
tpm2_readpublic -c 0x81000002 -f pem -o ak-tools.pem >/dev/null 2>&1
cmp -s ak.pem ak-tools.pem && ok "ak show --pem equals tpm2_readpublic's PEM" ||
  not_ok "ak show --pem equals tpm2_readpublic's PEM"
for alg in rsa ecc; do
  $A ek show --alg $alg --cert ek-$alg.der --public ek-$alg.pub >/dev/null 2>&1 &&
    openssl verify -CAfile trust/tpm-ca.pem -untrusted trust/tpm-intermediate.pem \
      <(openssl x509 -inform der -in ek-$alg.der) >/dev/null 2>&1 &&
    ok "EK ($alg) certificate from NV chains to the swtpm-localca CA (openssl verify)" ||
    not_ok "EK ($alg) certificate chains to the swtpm-localca CA"
done

# ---- credential activation, against tpm2-tools -------------------------------
printf '\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff' >secret.bin
SECRET=00112233445566778899aabbccddeeff
python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('d6032ce61f2fb3c240eb3cf6a33237ef2b6a16f4293c22b455e261cffd217ad5b4947c2d73e63005eed2dc2b3593d165'))" >policy-c.bin
tools_activate() { # ALG BLOB -> prints the recovered secret in hex
  local alg=$1 blob=$2 ekh=0x81010001
  rm -f s.ctx out.bin
  if [ "$alg" = rsa ]; then
    tpm2_startauthsession --policy-session -S s.ctx >/dev/null &&
      tpm2_policysecret -S s.ctx -c e >/dev/null
  else
    ekh=0x81010016
    tpm2_startauthsession --policy-session -g sha384 -S s.ctx >/dev/null &&
      tpm2_policysecret -S s.ctx -c e -L a.pol >/dev/null &&
      tpm2_policyor -S s.ctx -l "sha384:a.pol,policy-c.bin" >/dev/null
  fi &&
    tpm2_activatecredential -c 0x81000002 -C $ekh -i "$blob" -o out.bin -P session:s.ctx >/dev/null 2>&1
  local rc=$?
  tpm2_flushcontext s.ctx >/dev/null 2>&1
  tpm2_flushcontext -t >/dev/null 2>&1
  [ $rc -eq 0 ] && od -An -tx1 -v out.bin | tr -d ' \n'
}
for alg in rsa ecc; do
  $A credential make --ek-public ek-$alg.pub --name "$NAME" --secret $SECRET --out mine-$alg.bin &&
    got=$($A credential activate --alg $alg --in mine-$alg.bin 2>&1)
  [ "${got:-}" = $SECRET ] && ok "credential ($alg EK): our MakeCredential activates through our ActivateCredential" ||
    not_ok "credential ($alg EK): ours -> ours" "$got"
  got=$(tools_activate $alg mine-$alg.bin)
  [ "$got" = $SECRET ] && ok "credential ($alg EK): our blob activates with tpm2_activatecredential" ||
    not_ok "credential ($alg EK): ours -> tpm2_activatecredential" "$got"
  tpm2_makecredential --tcti none -u ek-$alg.pub -s secret.bin -n "$NAME" -o tools-$alg.bin >/dev/null 2>&1
  got=$($A credential activate --alg $alg --in tools-$alg.bin 2>&1)
  [ "$got" = $SECRET ] && ok "credential ($alg EK): tpm2_makecredential's blob activates through ours" ||
    not_ok "credential ($alg EK): tpm2_makecredential -> ours" "$got"
  [ "$(stat -c %s mine-$alg.bin)" = "$(stat -c %s tools-$alg.bin)" ] &&
    ok "credential ($alg EK): same blob layout and size as tpm2_makecredential" ||
    not_ok "credential ($alg EK): blob sizes differ"
  other=000b$(nonce 32)
  $A credential make --ek-public ek-$alg.pub --name "$other" --secret $SECRET --out wrong-$alg.bin &&
    $A credential activate --alg $alg --in wrong-$alg.bin >wrong.out 2>&1 &&
    not_ok "credential ($alg EK) for another key name is refused" ||
    ok "credential ($alg EK) for another key name is refused by the TPM"
done

# ---- the single form: quote, refvals, verify ---------------------------------
N=$(nonce 32)
$A quote --nonce "$N" --pcrs 0,1,4,5,7 --eventlog boot/eventlog.bin --out ev.json 2>q.err ||
  { not_ok "attestctl quote" "$(cat q.err)"; tap_exit; }
$A refvals --keys keys rot-fw.img opensbi.img uboot.img >refvals.json 2>r.err ||
  not_ok "attestctl refvals" "$(cat r.err)"
# The same reference values without the RoT firmware's TCB entries: a
# policy that names no RoT firmware, which dice-tcb-info refuses.
python3 -c 'import json; p = json.load(open("refvals.json")); p["dice_tcb"] = []; json.dump(p, open("refvals-notcb.json", "w"))' ||
  not_ok "reference values without DiceTcbInfo entries"
python3 -c 'import json,sys; e=json.load(open("ev.json")); assert e["inventory"]["regions"]' 2>/dev/null &&
  ok "evidence carries rotd's firmware inventory" || not_ok "evidence carries rotd's inventory"
mkdir -p parts && QN=$($A parts --out parts ev.json) &&
  tpm2_checkquote -u parts/ak.pem -m parts/attest -s parts/sig -f parts/pcrs -q "$QN" >/dev/null 2>&1 &&
  ok "tpm2_checkquote accepts the evidence parts as they are" || not_ok "tpm2_checkquote accepts the parts"
tpm2_eventlog parts/eventlog.bin >/dev/null 2>el.err && [ ! -s el.err ] &&
  ok "tpm2_eventlog reads the evidence's event log" || not_ok "tpm2_eventlog reads the log" "$(cat el.err)"

# verify_expect NAME WANT_RC CHECK PATTERN EVIDENCE [verify args]
# the named check must fail (or pass, for "pass") with PATTERN in its reason
verify_expect() {
  local name=$1 want=$2 check=$3 pat=$4 ev=$5
  shift 5
  $A verify --policy "${POLICY:-refvals.json}" --trust trust --json "$@" "$ev" >v.json 2>v.err
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    not_ok "$name" "exit $rc, wanted $want" "$(cat v.err)" "$(grep -B1 -A1 '"fail"' v.json | head -12)"
    return
  fi
  if python3 - "$check" "$pat" <<'PY'
import json, re, sys
r = json.load(open("v.json"))
c = {x["name"]: x for x in r["checks"]}[sys.argv[1]]
want = "pass" if sys.argv[2] == "pass" else "fail"
sys.exit(0 if c["result"] == want and (want == "pass" or re.search(sys.argv[2], c["reason"])) else 1)
PY
  then ok "$name"; else not_ok "$name" "$(cat v.json | head -60)"; fi
}

# This chip runs RoT firmware but has no DeviceID certificate, so no identity: the two DICE
# checks fail closed (the demo shows them passing with a provisioned chip).
verify_expect "genuine evidence: every TPM and log check passes" 1 log-events pass ev.json --nonce "$N"
for c in nonce magic attest-type pcr-selection ak-key signature ek-certificate pcr-digest log-replay svn-floors; do
  python3 -c "import json,sys; r=json.load(open('v.json')); sys.exit(0 if {x['name']:x for x in r['checks']}['$c']['result']=='pass' else 1)" ||
    not_ok "genuine evidence: $c passes"
done
verify_expect "DICE chain without the chip's identity: failing closed, 'not available'" 1 dice-chain "not available" ev.json
verify_expect "AK endorsement without the chip's identity: failing closed, 'not available'" 1 ak-endorsed-by-alias "not available" ev.json

# ---- hostile evidence: each UNTRUSTED with its own reason ---------------------
verify_expect "replayed quote (old nonce) is refused" 1 nonce "not the one requested" ev.json --nonce "$(nonce 32)"
$A quote --nonce "$(nonce 8)" --eventlog boot/eventlog.bin --out short.json >/dev/null 2>&1 &&
  not_ok "a nonce under 16 bytes is refused at quote time" || ok "a nonce under 16 bytes is refused at quote time"

qsplice() { # NAME PCRSPEC: a real quote over another selection, spliced in
  tpm2_quote -c 0x81000002 -l "$2" -q "$N" -m o.attest -s o.sig -o o.pcrs >/dev/null 2>&1 &&
    $MUT evidence ev.json "$1" splice o.attest o.sig o.pcrs
}
qsplice sub.json "sha256:0,1,4,5+sha384:0,1,4,5" &&
  verify_expect "quote over a PCR subset is refused" 1 pcr-selection "not the policy" sub.json --nonce "$N"
qsplice extra.json "sha256:0,1,4,5,7,8+sha384:0,1,4,5,7,8" &&
  verify_expect "quote over an extra PCR is refused" 1 pcr-selection "not the policy" extra.json --nonce "$N"
qsplice onebank.json "sha256:0,1,4,5,7" &&
  verify_expect "quote missing a bank is refused" 1 pcr-selection "not the policy" onebank.json --nonce "$N"

# tpm2-tools' own PCR file (tpm2_quote -o) over the policy's selection:
# its padding bytes are zero, so it passes; any of them set is refused by
# name (a value hidden there would pass every other check).
qsplice tools.json "sha256:0,1,4,5,7+sha384:0,1,4,5,7" &&
  verify_expect "a tpm2_quote PCR file passes the selection check" 1 pcr-selection pass tools.json --nonce "$N" &&
  verify_expect "a tpm2_quote PCR file passes the digest check" 1 pcr-digest pass tools.json --nonce "$N"
for at in 10 11 -1; do # a used selection entry's fourth select byte, its pad byte, the last unused digest byte
  $MUT evidence tools.json pad$at.json pcrs-byte "$at" 1 &&
    verify_expect "a PCR file with padding byte $at set is refused" 1 pcr-selection "non-zero padding" pad$at.json --nonce "$N"
done

# TPM2_Sign over a forged TPMS_ATTEST (magic zeroed): a restricted key signs
# it only with a TPM2_Hash ticket, which the TPM grants for non-TPM data.
python3 -c "import sys; b=bytearray(open('parts/attest','rb').read()); b[0:4]=b'\0\0\0\0'; open('forged.attest','wb').write(b)"
tpm2_hash -C e -g sha256 -t forged.ticket -o forged.digest forged.attest >/dev/null 2>&1 &&
  tpm2_sign -c 0x81000002 -g sha256 -d -t forged.ticket -o forged.sig forged.digest >/dev/null 2>&1 &&
  $MUT evidence ev.json forged.json splice forged.attest forged.sig - &&
  verify_expect "TPMS_ATTEST forged with TPM2_Sign (wrong magic) is refused" 1 magic "not TPM_GENERATED_VALUE" forged.json --nonce "$N" ||
  not_ok "TPM2_Sign forgery prepared"
tpm2_flushcontext -t >/dev/null 2>&1
tpm2_certify -c 0x81000002 -C 0x81000002 -g sha256 -o cert.attest -s cert.sig -f tss >/dev/null 2>&1 &&
  $MUT evidence ev.json certify.json splice cert.attest cert.sig - &&
  verify_expect "a Certify output presented as a quote is refused" 1 attest-type "not TPM_ST_ATTEST_QUOTE" certify.json --nonce "$N" ||
  not_ok "Certify output prepared"
tpm2_flushcontext -t >/dev/null 2>&1

head -c 32 /dev/zero >nv.bin
tpm2_nvdefine 0x1500016 -C o -s 32 -a "ownerread|ownerwrite|authread|authwrite" >/dev/null 2>&1 &&
  tpm2_nvwrite 0x1500016 -C o -i nv.bin >/dev/null 2>&1 &&
  tpm2_nvcertify -C 0x81000002 -g sha256 -f tss -o nvc.sig --attestation nvc.attest -c o \
    --size 32 --offset 0 0x1500016 >/dev/null 2>&1 &&
  $MUT evidence ev.json nvcertify.json splice nvc.attest nvc.sig - &&
  verify_expect "an NV_Certify output presented as a quote is refused" 1 attest-type "not TPM_ST_ATTEST_QUOTE" nvcertify.json --nonce "$N" ||
  not_ok "NV_Certify output prepared"
tpm2_nvundefine 0x1500016 -C o >/dev/null 2>&1
tpm2_flushcontext -t >/dev/null 2>&1

# A SHA-1 bank: a TPM that has one (provisioned here without EK
# certificates), its own AK, a quote that adds the SHA-1 bank.
mkdir -p "$T/tpm-sha1/state"
if swtpm_setup --tpm2 --tpmstate "$T/tpm-sha1/state" --pcr-banks sha1,sha256,sha384 --overwrite >/dev/null 2>&1 &&
  touch "$T/tpm-sha1/state/.provisioned" && T1=$(bash "$SWTPM" start "$T/tpm-sha1" 2>/dev/null); then
  $A ak create --tcti "$T1" >/dev/null 2>&1 &&
    $A ak show --tcti "$T1" --public s1.pub --pem s1.pem >/dev/null 2>&1 &&
    TPM2TOOLS_TCTI=$T1 tpm2_quote -c 0x81000002 -l "sha1:0,1,4,5,7+sha256:0,1,4,5,7+sha384:0,1,4,5,7" \
      -q "$N" -m s1.attest -s s1.sig -o s1.pcrs >/dev/null 2>&1 &&
    $MUT evidence ev.json sha1.json splice s1.attest s1.sig s1.pcrs s1.pub s1.pem &&
    verify_expect "a quote that adds a SHA-1 bank is refused" 1 pcr-selection "sha1:0x0000b3" sha1.json --nonce "$N" ||
    not_ok "SHA-1 bank quote prepared"
  bash "$SWTPM" stop "$T/tpm-sha1" >/dev/null 2>&1
else
  not_ok "swtpm with a SHA-1 bank starts"
fi

for how in drop-last swap-pcr7 extra; do
  $MUT evidence ev.json log-$how.json log $how &&
    verify_expect "event log with a $how event is refused" 1 log-replay "does not give the quoted|malformed" log-$how.json --nonce "$N"
  python3 -c "import json,sys; r=json.load(open('v.json')); sys.exit(0 if {x['name']:x for x in r['checks']}['log-events']['result']=='fail' else 1)" ||
    not_ok "event log with a $how event also fails log-events"
done
for pcr in 32 0xFFFFFFFF; do
  $MUT evidence ev.json pcr-$pcr.json log pcr=$pcr &&
    verify_expect "event log record with PCR index $pcr is refused" 1 log-replay "PCR index out of range" pcr-$pcr.json --nonce "$N"
done
$MUT evidence ev.json trunc.json log truncate &&
  verify_expect "event log record running past the end is refused" 1 log-replay "past the end" trunc.json --nonce "$N"

# The RoT firmware's logged version (S-CRTM version) must be the version of
# the firmware whose contents were measured (S-CRTM contents), under a
# policy that accepts two RoT firmware images (a fleet mid-rollout), so
# each half alone is acceptable. Only log-events is judged: the mutated
# log no longer replays to the quote, which log-replay reports apart.
"$BIN/rotctl" sign --keys keys --type rot --svn 2 --version 1.1.0 "$OPENSBI" rot-other.img >/dev/null &&
  $A refvals --keys keys rot-fw.img rot-other.img opensbi.img uboot.img >rv-tworot.json 2>r.err ||
  not_ok "refvals with two RoT firmware images" "$(cat r.err)"
POLICY=rv-tworot.json verify_expect "two accepted RoT firmware versions: the booted one's log passes log-events" 1 log-events pass ev.json --nonce "$N"
$MUT evidence ev.json rotver.json log "rot-version=rot-stack rot 1.1.0 svn 2" &&
  POLICY=rv-tworot.json verify_expect "a logged RoT version of other accepted firmware than the measured contents is refused" \
    1 log-events 'S-CRTM version "rot-stack rot 1.1.0 svn 2" is not this RoT firmware' rotver.json --nonce "$N"
OTHER=$(python3 -c 'import json; i=[i for i in json.load(open("rv-tworot.json"))["images"] if i["type"]=="rot" and i["version"]=="1.1.0"][0]; print(i["sha256"] + "," + i["sha384"])')
$MUT evidence ev.json rotfw.json log "rot-contents=$OTHER" &&
  POLICY=rv-tworot.json verify_expect "measured contents of other accepted RoT firmware than the logged version are refused" \
    1 log-events 'S-CRTM version "rot-stack rot 1.0.0 svn 1" is not this RoT firmware' rotfw.json --nonce "$N"
$MUT evidence ev.json rotunk.json log "rot-version=rot-stack rot 9.9.9 svn 9" &&
  POLICY=rv-tworot.json verify_expect "a logged RoT version the policy does not accept is refused" \
    1 log-events "RoT firmware version is none of the 2 the policy accepts" rotunk.json --nonce "$N"

tpm2_createprimary -C e -G ecc256:ecdsa-sha256 -c unr.ctx \
  -a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign" >/dev/null 2>&1 &&
  tpm2_flushcontext -t >/dev/null 2>&1 &&
  tpm2_quote -c unr.ctx -l "sha256:0,1,4,5,7+sha384:0,1,4,5,7" -q "$N" -m u.attest -s u.sig -o u.pcrs >/dev/null 2>&1 &&
  tpm2_flushcontext -t >/dev/null 2>&1 &&
  tpm2_readpublic -c unr.ctx -o u.pub >/dev/null 2>&1 && tpm2_flushcontext -t >/dev/null 2>&1 &&
  tpm2_readpublic -c unr.ctx -f pem -o u.pem >/dev/null 2>&1 &&
  $MUT evidence ev.json unrestricted.json splice u.attest u.sig u.pcrs u.pub u.pem &&
  verify_expect "a quote by an AK that is not restricted is refused" 1 ak-key "must be restricted" unrestricted.json --nonce "$N" ||
  not_ok "unrestricted key quote prepared"
tpm2_flushcontext -t >/dev/null 2>&1
$MUT evidence ev.json notfixed.json ak-attr-clear 0x2 &&
  verify_expect "an AK that is not fixedTPM is refused" 1 ak-key "fixedTPM" notfixed.json --nonce "$N"

$MUT policy refvals.json unexpected-key.json signers hypervisor 1 &&
  POLICY=unexpected-key.json verify_expect "an image signed by a valid but unexpected key is refused, naming the event" 1 log-events "signed by key 0, which the policy does not allow" ev.json --nonce "$N"
$MUT policy refvals.json floor.json floor hypervisor 6 &&
  POLICY=floor.json verify_expect "an SVN below the policy floor is refused" 1 svn-floors "below the policy floor" ev.json --nonce "$N"

# DICE: the verifier's side of the composite, on test-made certificates.
dice_certs() { # DIR CA_NAME
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$d/ca.key" \
    -out "$d/ca.pem" -subj "/CN=$2" -days 30 -addext basicConstraints=critical,CA:TRUE >/dev/null 2>&1 &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$d/devid.key" \
    -out "$d/devid.csr" -subj "/CN=DeviceID" >/dev/null 2>&1 &&
  openssl x509 -req -in "$d/devid.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
    -extfile <(echo "basicConstraints=critical,CA:TRUE") -outform der -out "$d/devid.der" >/dev/null 2>&1 &&
  openssl x509 -inform der -in "$d/devid.der" -out "$d/devid.pem" &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$d/alias.key" \
    -out "$d/alias.csr" -subj "/CN=Alias" >/dev/null 2>&1 &&
  openssl x509 -req -in "$d/alias.csr" -CA "$d/devid.pem" -CAkey "$d/devid.key" -CAcreateserial -days 30 \
    -outform der -out "$d/alias.der" >/dev/null 2>&1
}
endorse() { # DIR AKPUB EKCERT OUT
  python3 - "$2" "$3" >"$1/stmt.bin" <<'PY'
import hashlib, sys
ak, ek = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
sys.stdout.buffer.write(b"rot-stack ak endorsement v1\0" + hashlib.sha384(ek).digest() + hashlib.sha384(ak).digest())
PY
  openssl dgst -sha384 -sign "$1/alias.key" -out "$4" "$1/stmt.bin"
}
if dice_certs dice "Test Manufacturer CA" && dice_certs other "Another Root"; then
  mkdir -p trust-dice && cp trust/* trust-dice/ && cp dice/ca.pem trust-dice/dice-ca.pem
  endorse dice parts/ak.pub parts/ek.der good.sig &&
    $MUT evidence ev.json dice-good.json dice dice/devid.der dice/alias.der good.sig ||
    not_ok "composite evidence with a test DICE chain prepared"
  # A policy naming no RoT firmware has nothing to appraise the chip's
  # firmware against: dice-tcb-info fails closed, the verdict UNTRUSTED.
  POLICY=refvals-notcb.json verify_expect "a policy without dice_tcb entries fails dice-tcb-info closed ('not appraised')" 1 dice-tcb-info "not appraised" dice-good.json --trust trust-dice --nonce "$N"
  endorse other parts/ak.pub parts/ek.der other.sig &&
    $MUT evidence ev.json dice-other.json dice other/devid.der other/alias.der other.sig &&
    verify_expect "a DICE chain from another root is refused" 1 dice-chain "another root" dice-other.json --trust trust-dice
  endorse dice u.pub parts/ek.der wrongak.sig &&
    $MUT evidence ev.json dice-wrongak.json dice dice/devid.der dice/alias.der wrongak.sig &&
    verify_expect "an endorsement over a different AK is refused" 1 ak-endorsed-by-alias "does not verify" dice-wrongak.json --trust trust-dice

  # DiceTcbInfo: the Alias certificate must name RoT firmware the policy
  # derived from a signed RoT image (here, test payloads signed as type rot).
  "$BIN/rotctl" sign --keys keys --type rot --svn 2 --version 1.1.0 "$OPENSBI" rot-a.img >/dev/null &&
    "$BIN/rotctl" sign --keys keys --type rot --svn 3 --version 1.2.0 "$UBOOT" rot-b.img >/dev/null &&
    $A refvals --keys keys rot-a.img opensbi.img uboot.img >rv-rot.json 2>r.err &&
    $A refvals --keys keys rot-b.img opensbi.img uboot.img >rv-rotb.json 2>r.err ||
    not_ok "refvals with RoT firmware images" "$(cat r.err)"
  python3 - "$OPENSBI" <<'PY' && ok "refvals derives the DiceTcbInfo of the RoT firmware (fwid = SHA-384 of the payload) and accepts debug mode with dev" || not_ok "refvals DiceTcbInfo entries" "$(cat rv-rot.json)"
import hashlib, json, sys
p = json.load(open("rv-rot.json"))
d = p["dice_tcb"]
assert len(d) == 1 and p["dice_debug_ok"] is True and "dev" in p["lifecycles"]
assert d[0] == {"vendor": "rot-stack", "model": "rot-chip", "version": "1.1.0", "svn": 2,
                "fwid_sha384": hashlib.sha384(open(sys.argv[1], "rb").read()).hexdigest()}
assert json.load(open("rv-rotb.json"))["dice_tcb"][0]["version"] == "1.2.0"
PY
  # tcb_alias OUT VERSION SVN FWID_HEX MODE(normal|debug) [truncate]: an Alias
  # certificate whose DiceTcbInfo is DER built here, not by the chip's encoder.
  tcb_alias() {
    python3 - "$2" "$3" "$4" "$5" "${6:-}" >"$1.ext" <<'PY' &&
import sys
ver, svn, fwid, mode, trunc = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4], sys.argv[5]
def tlv(t, b):
    n = len(b)
    h = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255])
    return bytes([t]) + h + b
def uint(v):
    b = v.to_bytes(5, "big").lstrip(b"\0") or b"\0"
    return b"\0" + b if b[0] & 0x80 else b
sha384 = bytes.fromhex("0609608648016503040202")
flags = b"\x04\x10" if mode == "debug" else b"\x00"
body = (tlv(0x80, b"rot-stack") + tlv(0x81, b"rot-chip") + tlv(0x82, ver.encode()) + tlv(0x83, uint(svn)) +
        tlv(0x84, b"\0") + tlv(0xa6, tlv(0x30, sha384 + tlv(0x04, fwid))) + tlv(0x87, flags))
der = tlv(0x30, body)
if trunc:
    der = der[:-3]
print("2.23.133.5.4.1=DER:" + der.hex())
PY
    openssl x509 -req -in dice/alias.csr -CA dice/devid.pem -CAkey dice/devid.key -CAcreateserial -days 30 \
      -extfile "$1.ext" -outform der -out "$1.der" >/dev/null 2>&1 &&
    $MUT evidence ev.json "$1.json" dice dice/devid.der "$1.der" good.sig
  }
  FWA=$(python3 -c 'import json; print(json.load(open("rv-rot.json"))["dice_tcb"][0]["fwid_sha384"])')
  FWX=$(python3 -c "import sys; h='$FWA'; print(h[:-2] + ('00' if h[-2:] != '00' else '01'))")
  if tcb_alias tcb-good 1.1.0 2 "$FWA" debug && tcb_alias tcb-fwid 1.1.0 2 "$FWX" debug &&
    tcb_alias tcb-normal 1.1.0 2 "$FWA" normal && tcb_alias tcb-trunc 1.1.0 2 "$FWA" debug trunc; then
    openssl x509 -inform der -in tcb-good.der -noout -text 2>/dev/null | grep -q "2.23.133.5.4.1" &&
      ok "openssl reads the test Alias certificate's DiceTcbInfo extension" || not_ok "openssl reads the DiceTcbInfo"
    # The rest of the evidence booted other RoT firmware, so the verdict is
    # UNTRUSTED anyway (log-events); dice-tcb-info is judged on its own.
    POLICY=rv-rot.json verify_expect "an Alias certificate naming the accepted RoT firmware passes dice-tcb-info" 1 dice-tcb-info pass tcb-good.json --trust trust-dice
    POLICY=rv-rot.json verify_expect "normal mode passes dice-tcb-info too" 1 dice-tcb-info pass tcb-normal.json --trust trust-dice
    POLICY=rv-rotb.json verify_expect "a policy from another RoT firmware version refuses it (dice-tcb-info)" 1 dice-tcb-info "is not one the policy accepts" tcb-good.json --trust trust-dice
    # Both RoT firmware versions given (a fleet mid-rollout): both accepted.
    $A refvals --keys keys rot-a.img rot-b.img opensbi.img uboot.img >rv-rotab.json 2>r.err &&
      python3 -c 'import json,sys; p=json.load(open("rv-rotab.json")); sys.exit(0 if p["rot_firmware"] == ["rot-stack rot 1.1.0 svn 2", "rot-stack rot 1.2.0 svn 3"] and [d["version"] for d in p["dice_tcb"]] == ["1.1.0", "1.2.0"] else 1)' &&
      ok "refvals with two RoT firmware images lists both versions (rot_firmware, dice_tcb)" ||
      not_ok "refvals lists every RoT firmware version" "$(cat r.err rv-rotab.json)"
    POLICY=rv-rotab.json verify_expect "a policy listing two RoT firmware versions accepts the older one (dice-tcb-info)" 1 dice-tcb-info pass tcb-good.json --trust trust-dice
    POLICY=rv-rot.json verify_expect "a tampered fwid is refused (dice-tcb-info)" 1 dice-tcb-info "is not one the policy accepts" tcb-fwid.json --trust trust-dice
    POLICY=rv-rot.json verify_expect "an Alias certificate without DiceTcbInfo fails closed" 1 dice-tcb-info "lacks a DiceTcbInfo" dice-good.json --trust trust-dice
    POLICY=rv-rot.json verify_expect "a truncated DiceTcbInfo is refused as malformed" 1 dice-tcb-info "malformed" tcb-trunc.json --trust trust-dice
    python3 -c 'import json; p=json.load(open("rv-rot.json")); p["dice_debug_ok"]=False; json.dump(p, open("rv-nodebug.json","w"))'
    POLICY=rv-nodebug.json verify_expect "debug mode is refused when the policy does not accept it" 1 dice-tcb-info "debug mode" tcb-good.json --trust trust-dice
    POLICY=rv-nodebug.json verify_expect "normal mode passes a policy without dice_debug_ok" 1 dice-tcb-info pass tcb-normal.json --trust trust-dice
    python3 -c 'import json; p=json.load(open("rv-rot.json")); p["svn_floors"]["rot"]=3; json.dump(p, open("rv-rotfloor.json","w"))'
    POLICY=rv-rotfloor.json verify_expect "RoT firmware below the rot SVN floor is refused (dice-tcb-info)" 1 dice-tcb-info "below the floor" tcb-good.json --trust trust-dice
    # The composite, whole: this boot's log (the RoT firmware the chip
    # booted, in refvals.json) with a test Alias certificate naming other
    # accepted RoT firmware (rv-rot.json's DiceTcbInfo). A verifier-only
    # mix: a real chip's Alias names the firmware it booted.
    python3 -c 'import json; p=json.load(open("refvals.json")); r=json.load(open("rv-rot.json")); p["dice_tcb"]=r["dice_tcb"]; json.dump(p, open("rv-composite.json","w"))'
    $A verify --policy rv-composite.json --trust trust-dice --nonce "$N" tcb-good.json >v.out 2>&1 &&
      ok "with a DICE chain, an endorsement and a DiceTcbInfo that check out, the evidence is TRUSTED" ||
      not_ok "composite evidence with a valid DICE chain is TRUSTED" "$(cat v.out)"
  else
    not_ok "test Alias certificates with a DiceTcbInfo made with openssl"
  fi
else
  not_ok "test DICE certificates made with openssl"
fi

# ---- an AK from another TPM ---------------------------------------------------
if TCTI2=$(bash "$SWTPM" start "$T/tpm2"); then
  $A ak create --tcti "$TCTI2" >ak-other.out 2>&1 && $A ak show --tcti "$TCTI2" --public ak-other.pub >ak-other.out 2>&1
  NAME2=$(sed -n 's/^name: //p' ak-other.out)
  # A credential for (this TPM's EK, the other TPM's AK): the other TPM
  # cannot activate it with its own EK, and this TPM has no such AK.
  $A credential make --ek-public ek-rsa.pub --name "$NAME2" --secret $SECRET --out cross.bin &&
    { $A credential activate --tcti "$TCTI2" --alg rsa --in cross.bin >cross.out 2>&1 ||
      $A credential activate --alg rsa --in cross.bin >>cross.out 2>&1; } &&
    not_ok "credential activation with an AK from another TPM is refused" ||
    ok "credential activation with an AK from another TPM is refused by both TPMs"
  # Evidence quoted by the other TPM's AK, presented with this TPM's EK
  # certificate and this chip's endorsement of this TPM's AK.
  $A quote --tcti "$TCTI2" --nonce "$N" --eventlog boot/eventlog.bin --no-chip --out other.json >/dev/null 2>&1 &&
    python3 - <<'PY' &&
import json
o, e = json.load(open("other.json")), json.load(open("ev.json"))
e["quote"], e["ak"] = o["quote"], o["ak"]
json.dump(e, open("other-ak.json", "w"))
PY
    $MUT evidence other-ak.json other-ak-d.json dice dice/devid.der dice/alias.der good.sig &&
    verify_expect "evidence by an AK from another TPM is refused (endorsement)" 1 ak-endorsed-by-alias "does not verify" other-ak-d.json --trust trust-dice --nonce "$N" ||
    not_ok "evidence from another TPM prepared"
  bash "$SWTPM" stop "$T/tpm2" >/dev/null 2>&1
else
  not_ok "second swtpm starts"
fi

# ---- batched form ----------------------------------------------------------
B1=$(nonce 32) B2=$(nonce 32) B3=$(nonce 16)
$A quote-batch --nonce "$B1" --nonce "$B2" --nonce "$B3" --eventlog boot/eventlog.bin --out-dir batch >/dev/null 2>&1 &&
  $A quote-batch --nonce "$(nonce 32)" --nonce "$(nonce 32)" --eventlog boot/eventlog.bin --out-dir batch2 >/dev/null 2>&1 ||
  not_ok "attestctl quote-batch"
verify_expect "batched evidence: leaf 2 of 3 reaches the quoted root" 1 nonce pass batch/evidence-2.json --nonce "$B3"
verify_expect "batched evidence: every TPM and log check passes" 1 log-replay pass batch/evidence-0.json --nonce "$B1"
$MUT evidence batch/evidence-1.json sib.json batch-sibling &&
  verify_expect "batched proof with a wrong sibling is refused" 1 nonce "does not reach the quoted root" sib.json --nonce "$B2"
$MUT evidence batch/evidence-0.json cross.json batch-quote-from batch2/evidence-0.json &&
  verify_expect "batched proof of a leaf from another batch is refused" 1 nonce "does not reach the quoted root" cross.json --nonce "$B1"

# ---- state: clock forward, TPM reset between attestations -------------------
mkdir -p state
cp trust-dice/* trust/ 2>/dev/null
run_state() { # EVIDENCE NONCE -> exit status
  $A verify --policy rv-composite.json --trust trust-dice --state state --json --nonce "$2" "$1" >v.json 2>v.err
}
N1=$(nonce 32)
$MUT evidence ev.json s0.json splice parts/attest parts/sig - >/dev/null
$A quote --nonce "$N1" --eventlog boot/eventlog.bin --out s1.json >/dev/null 2>&1 &&
  endorse dice parts/ak.pub parts/ek.der good.sig &&
  $MUT evidence s1.json s1d.json dice dice/devid.der tcb-good.der good.sig && run_state s1d.json "$N1" &&
  ok "--state: first attestation of a host is recorded" || not_ok "--state first attestation" "$(cat v.err v.json | head -40)"
N2=$(nonce 32)
$A quote --nonce "$N2" --eventlog boot/eventlog.bin --out s2.json >/dev/null 2>&1 &&
  $MUT evidence s2.json s2d.json dice dice/devid.der tcb-good.der good.sig && run_state s2d.json "$N2" &&
  ok "--state: a later attestation with the clock moving forward is TRUSTED" || not_ok "--state later attestation" "$(cat v.json | head -40)"
run_state s1d.json "$N1"
[ $? -eq 1 ] && grep -q "did not move forward" v.json && ok "--state: an older quote replayed after a newer one is refused" ||
  not_ok "--state: replay of an older quote" "$(head -40 v.json)"
bash "$SWTPM" stop "$T/tpm" >/dev/null && TCTI=$(bash "$SWTPM" start "$T/tpm") && export TPM2TOOLS_TCTI=$TCTI &&
  "$BIN/bootchain" measure --out boot2 --tcti "$TCTI" >boot2.out 2>&1 || not_ok "TPM reset and measured again" "$(tail -3 boot2.out)"
N3=$(nonce 32)
$A quote --nonce "$N3" --eventlog boot2/eventlog.bin --out s3.json >/dev/null 2>&1 &&
  $MUT evidence s3.json s3d.json dice dice/devid.der tcb-good.der good.sig
run_state s3d.json "$N3"
[ $? -eq 1 ] && grep -q "TPM reset since the last attestation" v.json && ok "--state: a TPM reset between two attestations is refused" ||
  not_ok "--state: TPM reset between attestations" "$(grep -B2 '"fail"' v.json)"

# ---- bad input: errors, not verdicts -----------------------------------------
printf '{"format":"rot-stack-evidence","version":2}' >bad.json
$A verify --policy refvals.json --trust trust bad.json >/dev/null 2>bad.err
[ $? -eq 2 ] && grep -q "version" bad.err && ok "malformed evidence is an error (exit 2) naming the field" ||
  not_ok "malformed evidence is an error" "$(cat bad.err)"
$A verify --policy ev.json --trust trust ev.json >/dev/null 2>bad.err
[ $? -eq 2 ] && ok "evidence given as the policy is an error (exit 2)" || not_ok "policy checked"

tap_exit
