/*
 * An empty program that needs exactly the shared libraries bootchain needs
 * (tests/objects.mk links it against bootchain's DT_NEEDED list: tpm2-tss,
 * libfdt, both crypto backends, json-c), all loaded at start: the
 * process-start share of the boot figure's bound in make bench. Not a test.
 *
 * Its start ends where main begins: the first thing main does is read the
 * clock (CLOCK_REALTIME, the clock bash's EPOCHREALTIME reads), and only
 * then write it, in microseconds, to $BENCH_STAMP_FILE. The boot figure
 * ends the same way, at the first instruction of the QEMU stand-in
 * (bench_stamp.c), so neither figure counts a process's exit and reaping.
 * Without BENCH_STAMP_FILE it writes nothing. Exit status 0, or 1 when the
 * stamp cannot be written.
 */
#include "bench_stamp.h"

int main(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
    return 1;
  }
  return bench_stamp_write(&ts, 0);
}
