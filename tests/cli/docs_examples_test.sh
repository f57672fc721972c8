#!/usr/bin/env bash
# The examples in the docs show what the tools really print.
#
#   bash tests/cli/docs_examples_test.sh [BUILD_DIR]
#
# An example is a fenced block in README.md or docs/*.md whose first line
# is a command after "$ ": every "$ " line is a command (run with bash in
# the example directory below, the tools on PATH), and the lines up to the
# next command are what it prints on stdout and stderr. In the expected
# lines "..." matches any text within a line, and a line that is only
# "..." matches any number of lines. Each example becomes one test.
#
# The example directory holds what the README's session makes: keys/dev,
# otp.bin, opensbi.img (OpenSBI 1.1.0, svn 1) and payload.img (U-Boot
# 2023.1.0, svn 1), rotd serving run/rotd.sock with the RoT firmware
# (build/riscv/rot_core.o, 1.0.0 svn 1) confirmed and both images installed
# and on trial, a swtpm at run/tpm, and run/boot from `bootchain measure`.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/$BUILD/bin
SWTPM=$ROOT/scripts/swtpm.sh
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin

# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
ROTCTL=$BIN/rotctl
# shellcheck source=tests/lib/rot_firmware.sh
. tests/lib/rot_firmware.sh
tap_tmpdir /tmp/docs-examples.XXXXXX
E=$T/ex
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  [ -f "$E/run/rotd.pid" ] && kill "$(cat "$E/run/rotd.pid")" 2>/dev/null
  [ -d "$E/run/tpm" ] && bash "$SWTPM" stop "$E/run/tpm" >/dev/null 2>&1
}

for f in "$OPENSBI" "$UBOOT"; do
  [ -f "$f" ] || { not_ok "prerequisite $f installed"; tap_exit; }
done

# ---- the example directory ------------------------------------------------------
mkdir -p "$E/run" && cd "$E" || exit 1
export PATH=$BIN:$PATH
unset ROT_SOCKET ROT_DAEMON_UID
if rotctl keygen --out keys/dev >/dev/null &&
  rotctl otp provision --keys keys/dev --otp otp.bin >/dev/null &&
  rotctl sign --keys keys/dev --type opensbi --svn 1 --version 1.1.0 "$OPENSBI" opensbi.img >/dev/null &&
  rotctl sign --keys keys/dev --type hypervisor --svn 1 --version 2023.1.0 "$UBOOT" payload.img >/dev/null &&
  rotd --flash flash.bin --otp otp.bin --socket run/rotd.sock --daemon \
    --pid run/rotd.pid --log run/rotd.log 2>"$T/rotd.err" &&
  install_rot_firmware keys/dev "$ROOT/$BUILD/riscv/rot_core.o" "$E" 2>"$T/rotd.err" &&
  rotctl update --activate opensbi.img >/dev/null &&
  rotctl update --activate payload.img >/dev/null &&
  bash "$SWTPM" start run/tpm >/dev/null &&
  bootchain measure --out run/boot >/dev/null 2>"$T/measure.err"; then
  ok "example directory: keys, OTP, images on trial, rotd, swtpm, a measured boot"
else
  not_ok "example directory" "$(cat "$T/rotd.err" "$T/measure.err" 2>/dev/null | head -5)"
  tap_exit
fi

# ---- extract and check ---------------------------------------------------------------
# One file per example: line 1 "file:line", then the block's lines.
python3 - "$ROOT" "$T/examples" <<'EOF'
import glob, os, sys
root, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
n = 0
docs = sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "docs", "*.md")))
for path in ["README.md"] + docs:
    lines = open(os.path.join(root, path)).read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            body = lines[i + 1:j]
            if body and body[0].startswith("$ "):
                n += 1
                with open(os.path.join(out, "%03d" % n), "w") as f:
                    f.write("%s:%d\n" % (path, i + 1))
                    f.write("\n".join(body) + "\n")
            i = j + 1
        else:
            i += 1
EOF

# match EXPECTED ACTUAL: exit 0 when ACTUAL holds every expected line.
match() {
  python3 - "$1" "$2" <<'EOF'
import re, sys
want = open(sys.argv[1]).read().rstrip("\n").split("\n")
got = open(sys.argv[2], errors="replace").read().rstrip("\n").split("\n")
def line_re(w):
    return re.compile("^" + ".*".join(re.escape(p) for p in w.split("...")) + "$")
def fit(wi, gi):
    if wi == len(want):
        return gi == len(got)
    if want[wi] == "...":
        return any(fit(wi + 1, k) for k in range(gi, len(got) + 1))
    return gi < len(got) and line_re(want[wi]).match(got[gi]) is not None and fit(wi + 1, gi + 1)
sys.exit(0 if fit(0, 0) else 1)
EOF
}

count=0
for ex in "$T"/examples/*; do
  [ -f "$ex" ] || continue
  count=$((count + 1))
  where=$(head -1 "$ex")
  : >"$T/want"
  : >"$T/got"
  first=
  while IFS= read -r line; do
    if [ "${line#\$ }" != "$line" ]; then
      first=${first:-${line#\$ }}
      (cd "$E" && bash -c "${line#\$ }") >>"$T/got" 2>&1
    else
      printf '%s\n' "$line" >>"$T/want"
    fi
  done < <(tail -n +2 "$ex")
  if match "$T/want" "$T/got"; then
    ok "$where: \$ $first"
  else
    not_ok "$where: \$ $first: the tool prints something else" \
      "want: $(head -c 300 "$T/want" | tr '\n' '|')" "got:  $(head -c 300 "$T/got" | tr '\n' '|')"
  fi
done
[ "$count" -gt 0 ] && ok "$count examples found in README.md and docs/" ||
  not_ok "examples found in README.md and docs/"
cd "$ROOT" || exit 1
tap_exit
