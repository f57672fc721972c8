# shellcheck shell=bash
# The dev stack (scripts/stack.sh) under $T/stack, for a test that drives
# the host agent. Sourced after tests/lib/tap.sh and tap_tmpdir.
#
#   stack_up
#       sets S=$T/stack and a cleanup function that stops the stack, starts
#       it from the build $BUILD (the chip image included), and reads the
#       agent's ports ($http, $https) from $S/ports. Needs ROOT, BUILD and
#       T. Ends the test (tap_exit) when the chip image is missing or the
#       stack does not start.

stack_up() {
  if [ ! -f "$ROOT/$BUILD/riscv/rot_core.o" ]; then
    not_ok "the RoT firmware is built" "missing $BUILD/riscv/rot_core.o (run make freestanding)"
    tap_exit
  fi
  S=$T/stack
  cleanup() { bash "$ROOT/scripts/stack.sh" stop "$S" >/dev/null 2>&1; }
  if ! bash "$ROOT/scripts/stack.sh" start "$S" "$BUILD" >"$T/stack.out" 2>&1; then
    not_ok "stack starts" "$(cat "$T/stack.out")"
    tap_exit
  fi
  # shellcheck disable=SC1091
  . "$S/ports"
}
