/*
 * Stand-in for qemu-system-riscv64 in the boot figure of make bench; not a
 * test. The bench puts it first in PATH under QEMU's name: the moment its
 * main() runs is the moment `bootchain boot` handed the host to QEMU. It
 * writes that moment (CLOCK_REALTIME, microseconds, the clock bash's
 * EPOCHREALTIME reads) to $BENCH_STAMP_FILE and exits 0 at once. Linked
 * statically so that its own start adds as little as possible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
    return 1;
  }
  const char *path = getenv("BENCH_STAMP_FILE");
  if (path == NULL) {
    return 1;
  }
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return 1;
  }
  fprintf(f, "%lld\n", (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
  return fclose(f) == 0 ? 0 : 1;
}
