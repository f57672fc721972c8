/*
 * The stamp the boot bench's end marks write (bench_empty, and the QEMU
 * stand-in where it has a C library): a CLOCK_REALTIME reading taken
 * first thing, in microseconds and a newline, into $BENCH_STAMP_FILE.
 * Not a test.
 */
#ifndef BENCH_STAMP_H
#define BENCH_STAMP_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Write ts to $BENCH_STAMP_FILE: 0 when written, 1 when it could not be;
 * if_unset when the variable is not set. */
static inline int bench_stamp_write(const struct timespec *ts, int if_unset) {
  const char *path = getenv("BENCH_STAMP_FILE");
  if (path == NULL) {
    return if_unset;
  }
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return 1;
  }
  int ok = fprintf(f, "%lld\n", (long long)ts->tv_sec * 1000000LL + ts->tv_nsec / 1000) > 0;
  return (fclose(f) == 0 && ok) ? 0 : 1;
}

#endif
