# shellcheck shell=bash
# The one step every script that starts rotd on a fresh flash takes first:
# a chip without RoT firmware serves recovery commands only, in every
# lifecycle but decommissioned (docs/mailbox.md, "Recovery commands").
# Sourced by tests/lib/rotctl.sh, and on its own by scripts that define
# their own helpers (it defines nothing else).
#
#   install_rot_firmware KEYS [FW [DIR]]
#       signs FW (default: the freestanding chip build,
#       <build>/riscv/rot_core.o beside $ROTCTL's bin/) as RoT firmware
#       1.0.0 svn 1 with the key directory KEYS into DIR/rot-fw.img
#       (default $T), installs it, resets the chip (the ROM stage boots it
#       on trial) and confirms it. Needs $ROTCTL, and rotd at $ROT_SOCKET
#       (or rotctl's default socket). Returns 1, with rotctl's output on
#       stderr, if a step fails.

install_rot_firmware() {
  local keys=$1 fw=${2:-} dir=${3:-${T:-}}
  [ -n "$fw" ] || fw=$(dirname "$(dirname "$ROTCTL")")/riscv/rot_core.o
  if [ ! -f "$fw" ] || [ -z "$dir" ]; then
    echo "install_rot_firmware: no RoT firmware at $fw (make freestanding) or no DIR" >&2
    return 1
  fi
  local out
  if ! out=$("$ROTCTL" sign --keys "$keys" --type rot --svn 1 --version 1.0.0 \
    "$fw" "$dir/rot-fw.img" 2>&1 &&
    "$ROTCTL" update --activate "$dir/rot-fw.img" 2>&1 &&
    "$ROTCTL" reset 2>&1 && "$ROTCTL" confirm --type rot 2>&1); then
    echo "install_rot_firmware: $out" >&2
    return 1
  fi
}
