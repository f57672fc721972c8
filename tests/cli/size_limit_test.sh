#!/usr/bin/env bash
# One size limit, from the partition table: `rotctl sign` refuses an image
# larger than its type's slot, naming both sizes, and writes nothing; an
# image that just fits is signed. (The chip's BEGIN applies the same limit:
# tests/unit/rot/test_update.c.)
# Prints "ok - <name>" / "not ok - <name>" lines; exits non-zero on failure.
#
#   bash tests/cli/size_limit_test.sh [BUILD_DIR]
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

"$ROTCTL" keygen --out "$T/keys" >/dev/null 2>&1 || { not_ok "keygen"; exit 1; }
SLOT=$((32 * 1024 * 1024)) # hypervisor-a/-b in docs/flash-layout.md

# An image of SLOT + 1 bytes: payload = SLOT + 1 - overhead. The overhead
# (header, manifest, signature) is measured on a small image.
head -c 1 /dev/zero >"$T/one.bin"
"$ROTCTL" sign --keys "$T/keys" --type hypervisor --svn 1 --version 1.0.0 \
  "$T/one.bin" "$T/one.img" >/dev/null 2>&1 || { not_ok "sign a 1-byte payload"; exit 1; }
over=$(($(stat -c %s "$T/one.img") - 1))

head -c $((SLOT + 1 - over)) /dev/zero >"$T/big.bin"
"$ROTCTL" sign --keys "$T/keys" --type hypervisor --svn 1 --version 1.0.0 \
  "$T/big.bin" "$T/big.img" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -ne 0 ] && [ ! -e "$T/big.img" ] &&
  grep -q "image of $((SLOT + 1)) bytes does not fit a hypervisor slot ($SLOT bytes" "$T/err"; then
  ok "sign refuses an image one byte larger than its slot, naming both sizes"
else
  not_ok "sign refuses an image one byte larger than its slot" "rc=$rc $(cat "$T/err")"
fi

head -c $((SLOT - over)) /dev/zero >"$T/fit.bin"
if "$ROTCTL" sign --keys "$T/keys" --type hypervisor --svn 1 --version 1.0.0 \
  "$T/fit.bin" "$T/fit.img" >/dev/null 2>"$T/err" && [ "$(stat -c %s "$T/fit.img")" -eq "$SLOT" ]; then
  ok "sign accepts an image exactly the size of its slot"
else
  not_ok "sign accepts an image exactly the size of its slot" "$(cat "$T/err")"
fi
tap_exit
