#!/usr/bin/env bash
# The README's "typical session", run as written, as a new user would: the
# tools installed with `make install PREFIX=...` and on PATH, the commands
# of the session's code block in order, from a directory that has the
# repository's scripts/ (the session's own precondition).
#
#   bash tests/cli/readme_session_test.sh [BUILD_DIR]
#
# The session's `bootchain boot` puts the console on the terminal; here a
# pseudo-terminal stands in for the operator's, who types Ctrl-A x at
# U-Boot's prompt. Everything the session starts (rotd, swtpm) is stopped
# on exit.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ROOT=$PWD
case $BUILD in /*) BUILD_ABS=$BUILD ;; *) BUILD_ABS=$ROOT/$BUILD ;; esac

# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir /tmp/readme-session.XXXXXX
S=$T/session
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  [ -f "$S/run/rotd.pid" ] && kill "$(cat "$S/run/rotd.pid")" 2>/dev/null
  [ -d "$S/run/tpm" ] && bash "$ROOT/scripts/swtpm.sh" stop "$S/run/tpm" >/dev/null 2>&1
}

for f in /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin \
  /usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin; do
  [ -f "$f" ] || { not_ok "prerequisite $f installed"; tap_exit; }
done

# ---- make install PREFIX=... ----------------------------------------------------
if make -s -C "$ROOT" install BUILD="$BUILD_ABS" PREFIX="$T/prefix" >"$T/install.out" 2>&1 &&
  [ -x "$T/prefix/bin/rotctl" ] && [ -x "$T/prefix/bin/rotd" ] &&
  [ -x "$T/prefix/bin/bootchain" ] && [ -x "$T/prefix/bin/rot-swtpm" ] &&
  "$T/prefix/bin/rotctl" --version >/dev/null; then
  ok "make install PREFIX=DIR puts rotctl, rotd, bootchain and rot-swtpm into DIR/bin"
else
  not_ok "make install PREFIX=DIR" "$(tail -3 "$T/install.out")"
  tap_exit
fi

# ---- the session, from the README ---------------------------------------------------
python3 - "$ROOT/README.md" >"$T/session.sh" <<'EOF'
import sys
text = open(sys.argv[1]).read()
block = text.split("A typical session", 1)[1].split("```\n", 2)[1]
print(block, end="")
EOF
if grep -Eq '^(rotctl keygen|keys/dev-hierarchy.sh)' "$T/session.sh" && grep -q '^bootchain boot' "$T/session.sh"; then
  ok "the README has a session ($(grep -c . "$T/session.sh") lines)"
else
  not_ok "the README has a session" "$(head -3 "$T/session.sh")"
  tap_exit
fi

# The operator's terminal: runs a command on a pseudo-terminal, types
# Ctrl-A x once TEXT has appeared, passes on the exit status.
cat >"$T/operator.py" <<'EOF'
import os, pty, select, sys, time
text, argv = sys.argv[1].encode(), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out, sent, status = b"", False, None
deadline = time.time() + 120
while time.time() < deadline and status is None:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            out += os.read(fd, 4096)
        except OSError:
            pass
    if not sent and text in out:
        os.write(fd, b"\x01x")
        sent = True
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = st
sys.stdout.buffer.write(out)
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.exit(124)
sys.exit(os.waitstatus_to_exitcode(status) if sent else 125)
EOF

# The repository's top directory as the session sees it: scripts/, the key
# scripts of keys/ (copied: the session writes its keys under keys/dev) and
# the chip build the session signs as RoT firmware.
mkdir -p "$S/keys" "$S/build/riscv" && ln -s "$ROOT/scripts" "$S/scripts" &&
  cp "$ROOT"/keys/*.sh "$ROOT"/keys/*.cnf "$S/keys/" &&
  ln -s "$BUILD_ABS/riscv/rot_core.o" "$S/build/riscv/rot_core.o" || exit 1
{
  echo 'set -eu'
  echo "export PATH=$T/prefix/bin:\$PATH"
  echo 'unset ROT_SOCKET ROT_DAEMON_UID TPM2TOOLS_TCTI'
  # The terminal of the one interactive command.
  echo "bootchain() { if [ \"\$1\" = boot ]; then python3 $T/operator.py '=> ' $T/prefix/bin/bootchain \"\$@\"; else command bootchain \"\$@\"; fi; }"
  # Each command is echoed first, so a failure names it.
  echo 'trap '"'"'echo "session stopped at: $BASH_COMMAND" >&2'"'"' ERR'
  cat "$T/session.sh"
} >"$T/run.sh"
(cd "$S" && bash "$T/run.sh") >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ]; then
  ok "the README session runs as written (exit 0)"
else
  not_ok "the README session runs as written (exit $rc)" "$(tail -3 "$T/err")" \
    "$(tail -c 400 "$T/out" | tr -d '\r')"
fi

# What it must have done.
grep -q 'U-Boot 20' "$T/out" && grep -q 'OpenSBI v' "$T/out" &&
  ok "the session's boot ran OpenSBI and U-Boot on the terminal" ||
  not_ok "the session's boot ran OpenSBI and U-Boot on the terminal"
grep -q 'hypervisor: slot a confirmed; SVN floor 1' "$T/out" &&
  grep -q 'opensbi: slot a confirmed; SVN floor 1' "$T/out" &&
  ok "both images confirmed after their trial boot" ||
  not_ok "both images confirmed after their trial boot" "$(grep confirm "$T/out" "$T/err")"
grep -q '^audit: chain OK' "$T/out" && ok "audit --verify: chain OK" ||
  not_ok "audit --verify: chain OK"
# The session's last lines stop what it started: no pid file, no socket.
if [ ! -e "$S/run/rotd.pid" ] && [ ! -e "$S/run/rotd.sock" ] && grep -q 'rotd: stopped' "$S/run/rotd.log" &&
  ! bash "$ROOT/scripts/swtpm.sh" status "$S/run/tpm" >/dev/null 2>&1; then
  ok "the session stops rotd (pid file and socket gone, 'stopped' logged) and the TPM"
else
  not_ok "the session stops rotd and the TPM" "$(ls "$S/run")" "$(tail -2 "$S/run/rotd.log")"
fi
# tpm2-tools found the TPM through the exported TPM2TOOLS_TCTI, and the
# log's replay (tpm2_eventlog) is what tpm2_pcrread read: PCR 0, SHA-256.
if python3 - "$T/out" <<'EOF'
import re, sys
out = open(sys.argv[1], errors="replace").read()
log = out.split("\npcrs:", 1)[1] if "\npcrs:" in out else ""
replay = re.search(r"sha256:\s*\n\s*0\s*:\s*0x([0-9a-fA-F]{64})", log)
read = re.findall(r"^\s*0 : 0x([0-9A-F]{64})\s*$", log, re.M)
sys.exit(0 if replay and read and replay.group(1).upper() == read[-1] else 1)
EOF
then
  ok "tpm2_eventlog and tpm2_pcrread reach the TPM through TPM2TOOLS_TCTI and agree"
else
  not_ok "tpm2 tools reach the TPM and agree" "$(grep -m3 -i tcti "$T/err")"
fi
# Never an untried confirm: the audit log has no confirm-untried record and
# each confirm follows a boot of its type.
# (the session's own audit --verify printed the log before rotd stopped)
cp "$T/out" "$T/audit"
if ! grep -q 'confirm-untried' "$T/audit" && grep -Eq ' confirm +ok .*type=opensbi' "$T/audit" &&
  awk '/ boot +ok .*type=opensbi/ { b = 1 } / confirm +ok .*type=opensbi/ { if (!b) bad = 1 } END { exit bad }' "$T/audit"; then
  ok "the session never confirms an untried image"
else
  not_ok "the session never confirms an untried image" "$(grep -E 'boot|confirm' "$T/audit" | head -5)"
fi
tap_exit
