/*
 * Stand-in for qemu-system-riscv64 in the boot figure of make bench; not a
 * test. The bench puts it first in PATH under QEMU's name: the moment it
 * starts running is the moment `bootchain boot` handed the host to QEMU.
 * It writes that moment (CLOCK_REALTIME, microseconds, the clock bash's
 * EPOCHREALTIME reads) to $BENCH_STAMP_FILE and exits 0 at once.
 *
 * The clock is read by the first instructions after exec, before any C
 * library start-up: a static glibc's own start (CPU feature probing with
 * cpuid, IRELATIVE relocations, TLS set-up, each page it touches a fault)
 * takes about 2 ms on a virtual machine where a fault or a cpuid is a trip
 * to the hypervisor, and that is neither bootchain's work nor QEMU's exec.
 * So on x86-64 and AArch64 the program has no C library at all: its own
 * _start, raw system calls. Elsewhere it falls back to a static libc
 * program that reads the clock first thing in main().
 */
#if defined(__x86_64__) || defined(__aarch64__)

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define NR_OPENAT 257
#define NR_WRITE 1
#define NR_CLOSE 3
#define NR_CLOCK_GETTIME 228
#define NR_EXIT_GROUP 231

static long sys4(long n, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}
#else
#define NR_OPENAT 56
#define NR_WRITE 64
#define NR_CLOSE 57
#define NR_CLOCK_GETTIME 113
#define NR_EXIT_GROUP 94

static long sys4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3)
                   : "memory");
  return x0;
}
#endif

#define AT_FDCWD_ (-100)
#define O_WRONLY_ 01
#define O_CREAT_ 0100
#define O_TRUNC_ 01000
#define CLOCK_REALTIME_ 0

struct kts {
  long sec;
  long nsec;
};

static __attribute__((noreturn)) void die(long code) {
  for (;;) {
    sys4(NR_EXIT_GROUP, code, 0, 0, 0);
  }
}

static const char *env_get(char **envp, const char *name) {
  for (; *envp != NULL; envp++) {
    const char *e = *envp;
    const char *n = name;
    while (*n != '\0' && *e == *n) {
      e++;
      n++;
    }
    if (*n == '\0' && *e == '=') {
      return e + 1;
    }
  }
  return NULL;
}

/* Called from _start with the initial stack: argc, argv..., NULL, envp. */
__attribute__((noreturn, used)) void stamp_main(long *sp);
__attribute__((noreturn, used)) void stamp_main(long *sp) {
  struct kts ts;
  if (sys4(NR_CLOCK_GETTIME, CLOCK_REALTIME_, (long)&ts, 0, 0) != 0) {
    die(1);
  }
  long argc = sp[0];
  char **envp = (char **)(sp + 1 + argc + 1);
  const char *path = env_get(envp, "BENCH_STAMP_FILE");
  if (path == NULL) {
    die(1);
  }
  /* Decimal microseconds and a newline. */
  uint64_t us = (uint64_t)ts.sec * 1000000u + (uint64_t)ts.nsec / 1000u;
  char buf[24];
  size_t i = sizeof(buf);
  buf[--i] = '\n';
  do {
    buf[--i] = (char)('0' + us % 10u);
    us /= 10u;
  } while (us != 0 && i > 0);
  long fd = sys4(NR_OPENAT, AT_FDCWD_, (long)path, O_WRONLY_ | O_CREAT_ | O_TRUNC_,
                 0666);
  if (fd < 0) {
    die(1);
  }
  long want = (long)(sizeof(buf) - i);
  long w = sys4(NR_WRITE, fd, (long)(buf + i), want, 0);
  long c = sys4(NR_CLOSE, fd, 0, 0, 0);
  die(w == want && c == 0 ? 0 : 1);
}

#if defined(__x86_64__)
__asm__(".globl _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call stamp_main\n"
        "  hlt\n");
#else
__asm__(".globl _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x0, sp\n"
        "  bl stamp_main\n"
        "  brk #0\n");
#endif

#else /* any other architecture: a static libc program */

#include "bench_stamp.h"

int main(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
    return 1;
  }
  return bench_stamp_write(&ts, 1);
}

#endif
