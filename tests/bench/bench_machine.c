/*
 * What this machine charges for the operations a boot is made of, printed
 * under the boot figure of tests/bench/boot.sh so that figures taken on
 * different machines can be read side by side; not a test.
 *
 *   bench_machine
 *       syscall_us    one system call (getppid): into the kernel and back;
 *       fault_us      one page fault: the first write to a page of a new
 *                     anonymous mapping, per page (mapping and unmapping
 *                     included);
 *       populate_us   the same pages made present in one call
 *                     (MADV_POPULATE_WRITE, or MAP_POPULATE on kernels
 *                     without it) and then written, per page (likewise);
 *       cpus          CPUs online;
 *       shared_cache  whether the kernel sees a cache shared between two
 *                     CPUs (sysfs cache topology: yes, no, or unknown when
 *                     it lists none). At a wakeup the kernel looks for an
 *                     idle CPU only among those sharing a cache with the
 *                     one it picked first (the woken task's last, or its
 *                     waker's).
 *
 * One line of key=value pairs; times are medians of interleaved samples
 * (bench_interleave: BENCH_RUNS of them, default 11, after an untimed
 * warm-up).
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BENCH_NAME "bench_machine"
#include "bench_util.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PAGES 64u

static void run_syscall(void *arg) {
  (void)arg;
  (void)syscall(SYS_getppid);
}

/* PAGES pages of a new anonymous mapping, each written once, then
 * unmapped: *populate 0 lets each first write fault, 1 makes the pages
 * present in one call first. */
static void run_pages(void *arg) {
  int populate = *(const int *)arg;
  long ps = sysconf(_SC_PAGESIZE);
  size_t page = ps > 0 ? (size_t)ps : 4096u;
  size_t len = (size_t)PAGES * page;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) {
    die("mmap", errno);
  }
  if (populate && madvise(p, len, MADV_POPULATE_WRITE) != 0) {
    /* Before Linux 5.14: populate with the mapping instead. */
    (void)munmap(p, len);
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) {
      die("mmap", errno);
    }
  }
  for (size_t off = 0; off < len; off += page) {
    ((volatile uint8_t *)p)[off] = 1;
  }
  (void)munmap(p, len);
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
  int fault = 0, populate = 1;
  bench_side_t sides[3] = {{.fn = run_syscall},
                           {.fn = run_pages, .arg = &fault},
                           {.fn = run_pages, .arg = &populate}};
  bench_interleave(sides, 3, bench_runs());
  printf("syscall_us=%.3f fault_us=%.3f populate_us=%.3f cpus=%ld "
         "shared_cache=%s runs=%u\n",
         sides[0].median_ms * 1e3, sides[1].median_ms * 1e3 / PAGES,
         sides[2].median_ms * 1e3 / PAGES, sysconf(_SC_NPROCESSORS_ONLN),
         shared_cache(), sides[0].runs);
  return 0;
}
