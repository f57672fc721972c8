#!/usr/bin/env bash
# The chip's DICE identity end to end, with a real rotd, openssl as the
# verifier and keys/ as the factory: the RoT firmware (the freestanding
# core build) installed and measured at reset, the DeviceID provisioned
# through a CSR the manufacturer CA signs, the chain exported by
# 'rotctl identity' and accepted by 'openssl verify' (and refused against
# another CA), DiceTcbInfo carrying the firmware's SHA-384, version and
# SVN, the same chain after a restart, a new Alias and the same DeviceID
# after a firmware update, PCR 0's S-CRTM events (bootchain, swtpm,
# tpm2-tools) carrying that firmware's version and digest, the ENDORSE signature checked by openssl, the
# CDI recomputed from the documented derivation, and neither the UDS nor
# the CDI in any file or output of the run.
#
#   bash tests/cli/identity_test.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
case $BUILD in /*) B=$BUILD ;; *) B=$PWD/$BUILD ;; esac
ROTCTL=$B/bin/rotctl
ROTD=$B/bin/rotd
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir
PID=

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  [ -n "${TPM_STARTED:-}" ] && bash scripts/swtpm.sh stop "$T/tpm" >/dev/null 2>&1
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null
  fi
}

FW=$B/riscv/rot_core.o
for f in "$ROTCTL" "$ROTD" "$FW"; do
  if [ ! -e "$f" ]; then
    not_ok "$(basename "$f") is built" "missing $f (run make and make freestanding)"
    exit 1
  fi
done

SOCK=$T/rotd.sock
FLASH=$T/flash.bin
OTP=$T/otp.bin
export ROT_SOCKET=$SOCK
# shellcheck source=tests/lib/rotctl.sh
. tests/lib/rotctl.sh


# ---- keys, fuses, firmware --------------------------------------------------------
if ROTCTL=$ROTCTL bash keys/dev-hierarchy.sh "$T/keys" >"$T/out" 2>"$T/err" &&
  [ -f "$T/keys/manufacturer/ca.pem" ] && [ -f "$T/keys/operator/client.pem" ] &&
  [ "$(stat -c %a "$T/keys/manufacturer/ca.key.pem")" = 600 ] &&
  openssl verify -CAfile "$T/keys/operator/ca.pem" "$T/keys/operator/client.pem" \
    "$T/keys/operator/agent.pem" >/dev/null 2>&1; then
  ok "keys/dev-hierarchy.sh makes signing keys, manufacturer and operator CAs"
else
  not_ok "keys/dev-hierarchy.sh makes signing keys, manufacturer and operator CAs" "$(show)"
  exit 1
fi
if ROTCTL=$ROTCTL bash keys/dev-hierarchy.sh "$T/keys" >"$T/out" 2>"$T/err"; then
  not_ok "dev-hierarchy.sh refuses to replace a hierarchy"
else
  ok "dev-hierarchy.sh refuses to replace a hierarchy"
fi
"$ROTCTL" otp provision --keys "$T/keys" --otp "$OTP" >/dev/null 2>&1 ||
  { not_ok "otp provision"; exit 1; }
cp "$FW" "$T/rot_core.o"
for v in "1 1.0.0" "2 1.1.0"; do
  set -- $v
  "$ROTCTL" sign --keys "$T/keys" --type rot --svn "$1" --version "$2" "$T/rot_core.o" \
    "$T/rot-$2.img" >/dev/null 2>"$T/err" || { not_ok "sign rot $2" "$(cat "$T/err")"; exit 1; }
done

start_rotd || { not_ok "rotd starts" "$(cat "$T/rotd.log")"; exit 1; }
expect_refused "no RoT firmware: recovery commands only, no identity" ROT_ERROR_BOOT_RECOVERY_ONLY \
  identity
expect_refused "... nor a DeviceID CSR" ROT_ERROR_BOOT_RECOVERY_ONLY identity csr --out "$T/early.csr"
expect_ok "the RoT firmware installs into a rot slot" "activated" update --activate "$T/rot-1.0.0.img"
expect_ok "the chip resets" "reset" reset
expect_ok "the ROM stage booted it on trial; confirm" "confirmed" confirm --type rot
expect_refused "IDENTITY before provisioning" ROT_ERROR_IDENTITY_NOT_PROVISIONED identity

# ---- provisioning ------------------------------------------------------------------
expect_ok "the chip signs a DeviceID CSR" "DeviceID CSR" identity csr --out "$T/devid.csr"
if bash keys/issue-deviceid.sh "$T/keys/manufacturer" "$T/devid.csr" "$T/devid.der" \
  >"$T/out" 2>"$T/err"; then
  ok "the manufacturer CA issues the DeviceID certificate"
else
  not_ok "the manufacturer CA issues the DeviceID certificate" "$(show)"
fi
head -c 200 "$T/devid.csr" >"$T/bad.csr"
if bash keys/issue-deviceid.sh "$T/keys/manufacturer" "$T/bad.csr" "$T/bad.der" >/dev/null 2>&1; then
  not_ok "issue-deviceid.sh refuses a damaged CSR"
else
  ok "issue-deviceid.sh refuses a damaged CSR"
fi
# A certificate for another key (the manufacturer CA's own) is refused.
openssl x509 -in "$T/keys/manufacturer/ca.pem" -outform DER -out "$T/ca.der"
expect_refused "the chip refuses a certificate for another key" ROT_ERROR_IDENTITY_CERT_MISMATCH \
  identity store "$T/ca.der"
expect_ok "the chip stores its DeviceID certificate" "stored" identity store "$T/devid.der"

# ---- the chain -------------------------------------------------------------------------
expect_ok "rotctl identity --pem --out exports the chain" "alias.pem" identity --pem --out "$T/id1"
if cmp -s "$T/id1/deviceid.der" "$T/devid.der"; then
  ok "the exported DeviceID certificate is the one issued"
else
  not_ok "the exported DeviceID certificate is the one issued"
fi
if openssl verify -CAfile "$T/keys/manufacturer/ca.pem" -untrusted "$T/id1/deviceid.pem" \
  "$T/id1/alias.pem" >"$T/out" 2>&1; then
  ok "openssl verify accepts the DeviceID/Alias chain"
else
  not_ok "openssl verify accepts the DeviceID/Alias chain" "$(cat "$T/out")"
fi
mkdir -p "$T/other"
openssl ecparam -name secp384r1 -genkey -noout -out "$T/other/ca.key.pem" 2>/dev/null
openssl req -new -x509 -sha384 -days 30 -config keys/manufacturer-ca.cnf \
  -key "$T/other/ca.key.pem" -subj "/O=rot-stack/CN=rot-stack manufacturer CA (dev)" \
  -out "$T/other/ca.pem" 2>/dev/null
if openssl verify -CAfile "$T/other/ca.pem" -untrusted "$T/id1/deviceid.pem" \
  "$T/id1/alias.pem" >/dev/null 2>&1; then
  not_ok "a chain checked against another manufacturer CA (same name) is refused"
else
  ok "a chain checked against another manufacturer CA (same name) is refused"
fi
openssl x509 -in "$T/id1/alias.pem" -noout -text >"$T/alias.txt" 2>&1
fwid=$(sha384sum "$T/rot_core.o" | cut -c1-96)
ext=$(openssl x509 -in "$T/id1/alias.pem" -outform DER | openssl asn1parse -inform DER |
  grep -A1 ':2.23.133.5.4.1' | tail -1 | sed 's/.*\[HEX DUMP\]://' | tr 'A-F' 'a-f')
# DiceTcbInfo: vendor "rot-stack", model "rot-chip", version [2] "1.0.0",
# svn [3] 1, fwid SHA-384 of the payload, flags [7] debug (dev lifecycle).
if grep -q "2.23.133.5.4.1" "$T/alias.txt" &&
  [[ $ext == *"$(printf 'rot-stack' | xxd -p)"* ]] &&
  [[ $ext == *"8205$(printf '1.0.0' | xxd -p)830101"* ]] &&
  [[ $ext == *"0430$fwid"* ]] && [[ $ext == *"87020410" ]]; then
  ok "openssl shows DiceTcbInfo: firmware SHA-384, version, SVN, debug mode"
else
  not_ok "openssl shows DiceTcbInfo: firmware SHA-384, version, SVN, debug mode" "ext=$ext"
fi

# ---- ENDORSE ------------------------------------------------------------------------------
python3 -c 'import sys; b=bytes(range(256))*2; sys.stdout.buffer.write(len(b).to_bytes(2,"big")+b)' \
  >"$T/ak.pub"
ekh=$(head -c 700 /dev/urandom | sha384sum | cut -c1-96)
expect_ok "ENDORSE signs an AK" "^[0-9a-f]+$" identity endorse --ek-cert-sha384 "$ekh" \
  --ak-public "$T/ak.pub"
expect_ok "ENDORSE writes its DER signature" "endorsement signature" identity endorse --ek-cert-sha384 "$ekh" \
  --ak-public "$T/ak.pub" --out "$T/endorse.sig"
python3 - "$ekh" "$T/ak.pub" "$T/statement.bin" <<'PY'
import hashlib, sys
ek, ak, out = bytes.fromhex(sys.argv[1]), open(sys.argv[2], "rb").read(), sys.argv[3]
open(out, "wb").write(b"rot-stack ak endorsement v1\0" + ek + hashlib.sha384(ak).digest())
PY
openssl x509 -in "$T/id1/alias.pem" -noout -pubkey >"$T/alias.pub.pem"
if openssl dgst -sha384 -verify "$T/alias.pub.pem" -signature "$T/endorse.sig" \
  "$T/statement.bin" >/dev/null 2>&1; then
  ok "openssl verifies the endorsement with the Alias certificate's key"
else
  not_ok "openssl verifies the endorsement with the Alias certificate's key"
fi
printf '\x00\x05abc' >"$T/short.pub"
expect_refused "ENDORSE refuses a TPM2B whose size disagrees" ROT_ERROR_MAILBOX_BAD_ARGS \
  identity endorse --ek-cert-sha384 "$ekh" --ak-public "$T/short.pub"

# ---- the CDI, recomputed from docs/mailbox.md; keys follow it ------------------------------
# tests/tools/dice_cdi.py prints the UDS and CDI in hex on stdout only
# (never into a file), and writes the Alias private key it predicts.
derive() { # IMAGE: the secrets; the predicted Alias key in $T/pred.der
  python3 tests/tools/dice_cdi.py "$OTP" "$1" 1 "$T/pred.der"
}
read -r UDS CDI < <(derive "$T/rot-1.0.0.img")
openssl ec -inform DER -in "$T/pred.der" -pubout -out "$T/pred.pub.pem" 2>/dev/null
rm -f "$T/pred.der"
if [ -n "${CDI:-}" ] && cmp -s "$T/pred.pub.pem" "$T/alias.pub.pem"; then
  ok "the Alias key is the one the documented CDI derivation gives"
else
  not_ok "the Alias key is the one the documented CDI derivation gives"
fi
rm -f "$T/pred.pub.pem"

# ---- determinism and a firmware update ----------------------------------------------------
stop_rotd
start_rotd || { not_ok "rotd restarts" "$(cat "$T/rotd.log")"; exit 1; }
expect_ok "after a restart the chain exports again" "alias.der" identity --out "$T/id1b"
if cmp -s "$T/id1/alias.der" "$T/id1b/alias.der" && cmp -s "$T/id1/deviceid.der" "$T/id1b/deviceid.der"; then
  ok "same UDS and firmware: the same DeviceID and Alias after a reset"
else
  not_ok "same UDS and firmware: the same DeviceID and Alias after a reset"
fi
expect_ok "RoT firmware 1.1.0 (svn 2) installs" "activated" update --activate "$T/rot-1.1.0.img"
expect_ok "reset into it" "reset" reset
expect_ok "confirm it" "confirmed" confirm --type rot
expect_ok "the new chain exports" "alias.pem" identity --pem --out "$T/id2"
if cmp -s "$T/id1/deviceid.der" "$T/id2/deviceid.der" && ! cmp -s "$T/id1/alias.der" "$T/id2/alias.der" &&
  openssl verify -CAfile "$T/keys/manufacturer/ca.pem" -untrusted "$T/id2/deviceid.pem" \
    "$T/id2/alias.pem" >/dev/null 2>&1; then
  ok "a new RoT firmware: a new Alias certificate, the same DeviceID"
else
  not_ok "a new RoT firmware: a new Alias certificate, the same DeviceID"
fi
read -r _ CDI2 < <(derive "$T/rot-1.1.0.img")
rm -f "$T/pred.der"
# ---- PCR 0 opens with the RoT firmware ----------------------------------------------------
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
if [ -f "$OPENSBI" ] && [ -f "$UBOOT" ]; then
  "$ROTCTL" sign --keys "$T/keys" --type opensbi --svn 1 --version 1.1.0 "$OPENSBI" "$T/sbi.img" >/dev/null &&
    "$ROTCTL" sign --keys "$T/keys" --type hypervisor --svn 1 --version 2023.1.0 "$UBOOT" "$T/hv.img" >/dev/null &&
    "$ROTCTL" update --activate "$T/sbi.img" >/dev/null &&
    "$ROTCTL" update --activate "$T/hv.img" >/dev/null ||
    not_ok "host images install"
  if TCTI=$(bash scripts/swtpm.sh start "$T/tpm" 2>"$T/err"); then
    TPM_STARTED=1
    if "$B/bin/bootchain" measure --tcti "$TCTI" --out "$T/boot" >"$T/out" 2>"$T/err" &&
      "$B/bin/bootchain" log "$T/boot/eventlog.bin" >"$T/log.txt" 2>&1; then
      ok "bootchain measures with the RoT firmware in place"
    else
      not_ok "bootchain measures with the RoT firmware in place" "$(show)"
    fi
    # Event 0: the version; event 1: the firmware's bytes (SHA-384 = fwid).
    ev1=$(sed -n '/^event 1:/,/^event 2:/p' "$T/log.txt")
    if sed -n '/^event 0:/,/^event 1:/p' "$T/log.txt" | grep -q 'PCR 0 EV_S_CRTM_VERSION' &&
      grep -q 'S-CRTM version "rot-stack rot 1.1.0 svn 2"' "$T/log.txt" &&
      grep -q 'PCR 0 EV_S_CRTM_CONTENTS' <<<"$ev1" && grep -q "sha384  $fwid" <<<"$ev1" &&
      grep -q "base 0x0, length $(stat -c %s "$T/rot_core.o")" <<<"$ev1"; then
      ok "PCR 0's S-CRTM events carry the RoT firmware's version and SHA-384"
    else
      not_ok "PCR 0's S-CRTM events carry the RoT firmware's version and SHA-384" "$(head -20 "$T/log.txt")"
    fi
    if TPM2TOOLS_TCTI=$TCTI tpm2_eventlog "$T/boot/eventlog.bin" >"$T/replay.yaml" 2>/dev/null &&
      TPM2TOOLS_TCTI=$TCTI tpm2_pcrread sha384:0 >"$T/pcr.yaml" 2>/dev/null &&
      pcr0=$(grep -A2 'sha384:' "$T/pcr.yaml" | grep -Eo '0x[0-9A-Fa-f]+' | head -1) &&
      grep -A3 'sha384:' <(sed -n '/^pcrs:/,$p' "$T/replay.yaml") | grep -qi "${pcr0#0x}"; then
      ok "tpm2_eventlog's replay of PCR 0 equals the TPM's (sha384)"
    else
      not_ok "tpm2_eventlog's replay of PCR 0 equals the TPM's (sha384)" "pcr0=${pcr0:-?}"
    fi
  else
    not_ok "swtpm starts" "$(cat "$T/err")"
  fi
else
  skip "PCR 0's S-CRTM events carry the RoT firmware" "OpenSBI or U-Boot package missing"
fi

# ---- production: the stored DeviceID certificate is the chip's for good -------------------
expect_ok "a dev chip may store its DeviceID certificate again" "stored" identity store "$T/devid.der"
expect_ok "lifecycle --to production" 'dev -> production' lifecycle --to production --confirm
expect_refused "production: IDENTITY_STORE over a stored certificate is refused" \
  ROT_ERROR_IDENTITY_ALREADY_PROVISIONED identity store "$T/devid.der"
expect_ok "the refusal is in the audit log" 'command-refused +ROT_ERROR_IDENTITY_ALREADY_PROVISIONED' audit
expect_ok "the chain still exports, DeviceID unchanged" "alias.der" identity --out "$T/id3"
if cmp -s "$T/id1/deviceid.der" "$T/id3/deviceid.der"; then
  ok "production: the DeviceID certificate is the one stored in dev"
else
  not_ok "production: the DeviceID certificate is the one stored in dev"
fi
expect_ok "the audit log still verifies" "chain OK" audit --verify
stop_rotd
if [ -n "${TPM_STARTED:-}" ]; then
  bash scripts/swtpm.sh stop "$T/tpm" >/dev/null 2>&1
  TPM_STARTED=
fi

# ---- the secret never leaves the chip ---------------------------------------------------------
# Every file of the run but the OTP itself (flash, logs, certificates,
# outputs), searched for each secret in raw bytes and in hex, either case;
# the same search must find the UDS in the OTP file, or it proves nothing.
if [ ${#UDS} -eq 96 ] && [ ${#CDI} -eq 96 ] && [ ${#CDI2} -eq 96 ]; then
  leaks=$(python3 - "$T" "$OTP" "$UDS" "$CDI" "$CDI2" <<'PY'
import os, sys
root, otp, secrets = sys.argv[1], sys.argv[2], sys.argv[3:]
needles = []
for h in secrets:
    needles += [bytes.fromhex(h), h.encode(), h.upper().encode()]
if needles[0] not in open(otp, "rb").read():
    print("(the search does not find the UDS in the OTP file)")
for d, _, files in os.walk(root):
    for name in files:
        path = os.path.join(d, name)
        if path == otp or not os.path.isfile(path) or os.path.islink(path):
            continue
        data = open(path, "rb").read()
        if any(n in data for n in needles):
            print(path)
PY
  ) || leaks="$leaks (the search failed)"
else
  leaks="(no secrets computed)"
fi
if [ -z "$leaks" ]; then
  ok "neither the UDS nor a CDI is in any file or output of the run"
else
  not_ok "neither the UDS nor a CDI is in any file or output of the run" "found in: $leaks"
fi

tap_exit
