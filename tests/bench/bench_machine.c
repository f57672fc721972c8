/*
 * What this machine charges for the operations a boot is made of, printed
 * under the boot figure of tests/bench/boot.sh so that figures taken on
 * different machines can be read side by side; not a test.
 *
 *   bench_machine
 *       syscall_us    one system call (getppid): into the kernel and back;
 *       fault_us      one page fault: the first write to a page of a new
 *                     anonymous mapping, per page;
 *       populate_us   the same pages made present in one call
 *                     (MADV_POPULATE_WRITE, or MAP_POPULATE on kernels
 *                     without it) and then written, per page;
 *       cpus          CPUs online;
 *       shared_cache  whether the kernel sees a cache shared between two
 *                     CPUs (sysfs cache topology: yes, no, or unknown when
 *                     it lists none). At a wakeup the kernel looks for an
 *                     idle CPU only among those sharing a cache with the
 *                     one it picked first (the woken task's last, or its
 *                     waker's).
 *
 * One line of key=value pairs; times are medians of BENCH_RUNS samples
 * (default 11) after an untimed warm-up, the three kinds interleaved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PAGES 64u
#define SYSCALLS 2000u
#define RUNS_MAX 101u

static void die(const char *what) {
  fprintf(stderr, "bench_machine: %s failed: %s\n", what, strerror(errno));
  exit(1);
}

static double now_us(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    die("clock_gettime");
  }
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static unsigned runs_wanted(void) {
  const char *s = getenv("BENCH_RUNS");
  long n = s != NULL ? strtol(s, NULL, 10) : 11;
  return n >= 1 && n <= (long)RUNS_MAX ? (unsigned)n : 11u;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, unsigned n) {
  qsort(v, n, sizeof(*v), cmp_double);
  return v[n / 2];
}

static double sample_syscall(void) {
  double t0 = now_us();
  for (unsigned i = 0; i < SYSCALLS; i++) {
    (void)syscall(SYS_getppid);
  }
  return (now_us() - t0) / SYSCALLS;
}

/* Per page, mapping included: populate 0 lets each first write fault,
 * 1 makes the pages present in one call first. */
static double sample_pages(int populate) {
  long ps = sysconf(_SC_PAGESIZE);
  size_t page = ps > 0 ? (size_t)ps : 4096u;
  size_t len = (size_t)PAGES * page;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  double t0 = now_us();
  uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) {
    die("mmap");
  }
  if (populate && madvise(p, len, MADV_POPULATE_WRITE) != 0) {
    /* Before Linux 5.14: populate with the mapping instead. */
    (void)munmap(p, len);
    t0 = now_us();
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) {
      die("mmap");
    }
  }
  for (size_t off = 0; off < len; off += page) {
    ((volatile uint8_t *)p)[off] = 1;
  }
  double dt = now_us() - t0;
  (void)munmap(p, len);
  return dt / PAGES;
}

/* "yes" when some cache of CPU 0 is shared with another CPU, "no" when
 * sysfs lists CPU 0's caches and none is, "unknown" when it lists none. */
static const char *shared_cache(void) {
  int listed = 0;
  for (int i = 0; i < 8; i++) {
    char path[96], buf[256];
    (void)snprintf(path, sizeof(path),
                   "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
      continue;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    (void)fclose(f);
    buf[n] = '\0';
    listed = 1;
    /* A single CPU reads "0"; more read "0-1", "0,2", ... */
    if (strpbrk(buf, ",-") != NULL) {
      return "yes";
    }
  }
  return listed ? "no" : "unknown";
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "usage: bench_machine (see tests/bench/bench_machine.c)\n");
    return 2;
  }
  unsigned runs = runs_wanted();
  double sc[RUNS_MAX], fa[RUNS_MAX], po[RUNS_MAX];
  (void)sample_syscall();
  (void)sample_pages(0);
  (void)sample_pages(1);
  for (unsigned r = 0; r < runs; r++) {
    sc[r] = sample_syscall();
    fa[r] = sample_pages(0);
    po[r] = sample_pages(1);
  }
  printf("syscall_us=%.3f fault_us=%.3f populate_us=%.3f cpus=%ld "
         "shared_cache=%s runs=%u\n",
         median(sc, runs), median(fa, runs), median(po, runs),
         sysconf(_SC_NPROCESSORS_ONLN), shared_cache(), runs);
  return 0;
}
