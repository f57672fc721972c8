/*
 * QEMU launcher: the host CPU (qemu-system-riscv64 -M virt).
 *
 * The launch is described by a spec, turned into an argv that can be
 * printed and tested (bc_qemu_argv), then run as a child process
 * (bc_qemu_start / bc_qemu_run). Images are handed over as inherited file
 * descriptors (sealed memfds) that QEMU opens as /dev/fd/N, so it loads
 * exactly the bytes that were measured. The child never outlives the
 * launcher: it is killed when its parent dies, and every exit path of the
 * API kills and reaps it.
 */
#ifndef BOOTCHAIN_QEMU_H
#define BOOTCHAIN_QEMU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rot/error.h"

/*
 * The machine. bootchain/objects.mk reads these three lines to dump the
 * base DTB ($(BUILD)/dtb/virt.dtb) with the same options, so the tree's
 * /memory and /cpus always match the machine that boots it.
 */
#define BC_QEMU_MACHINE "virt"
#define BC_QEMU_MEMORY "256M"
#define BC_QEMU_SMP "1"
#define BC_QEMU_BINARY "qemu-system-riscv64"

#define BC_QEMU_MAX_EXTRA 16u
#define BC_QEMU_MAX_ARGS 48u
#define BC_QEMU_ARG_STORE 2048u

/*
 * A file QEMU loads. fd > 2: an open descriptor the child inherits (QEMU
 * opens /dev/fd/<fd>); otherwise path; neither (a zeroed struct) means
 * "not given". Descriptors 0-2 are the console and are never images.
 */
typedef struct bc_qemu_file {
  int fd;
  const char *path;
} bc_qemu_file_t;

typedef enum bc_qemu_serial {
  /* The console is the launcher's own stdin/stdout (interactive use),
   * multiplexed so QEMU's Ctrl-A escapes work (Ctrl-A x quits). */
  BC_QEMU_SERIAL_STDIO = 0,
  /* A socket pair: the caller reads and types with bc_qemu_expect/send. */
  BC_QEMU_SERIAL_PIPE = 1,
  /* Console output appended to serial_path; no input. */
  BC_QEMU_SERIAL_FILE = 2,
} bc_qemu_serial_t;

typedef struct bc_qemu_spec {
  /* NULL: BC_QEMU_BINARY. A name without '/' is looked up in the absolute
   * entries of PATH only: empty and relative entries (which a shell would
   * resolve against the current directory) are skipped. */
  const char *qemu;
  bc_qemu_file_t bios;        /* OpenSBI fw_dynamic (required) */
  bc_qemu_file_t kernel;      /* the payload (required) */
  bc_qemu_file_t dtb;         /* the handoff DTB (required) */
  bc_qemu_file_t event_log;   /* optional; needs event_log_addr */
  uint64_t event_log_addr;    /* loaded raw here (-device loader) */
  const char *memory;         /* NULL: BC_QEMU_MEMORY */
  const char *smp;            /* NULL: BC_QEMU_SMP */
  bc_qemu_serial_t serial;
  const char *serial_path;    /* BC_QEMU_SERIAL_FILE only */
  const char *const *extra_args; /* appended verbatim */
  size_t extra_count;
  unsigned timeout_ms;        /* bc_qemu_run: kill after this; 0 = none */
} bc_qemu_spec_t;

/* argv with its own storage: no allocation, printable, testable. */
typedef struct bc_qemu_argv {
  char *argv[BC_QEMU_MAX_ARGS + 1u]; /* NULL-terminated */
  size_t argc;
  char store[BC_QEMU_ARG_STORE];
  size_t used;
} bc_qemu_argv_t;

/**
 * Build the QEMU command line for spec:
 *   qemu -M virt -m 256M -smp 1 -nographic -monitor none [-chardev ...] -serial ...
 *        -no-reboot -bios F -kernel F -dtb F
 *        [-device loader,file=F,addr=A,force-raw=on] [extra...]
 * Errors: ROT_ERROR_INVALID_ARGUMENT (a required file missing, log without
 * address, fd 0-2, a comma in serial_path, too many extra args),
 * ROT_ERROR_BUFFER_TOO_SMALL (arguments longer than the store).
 */
rot_error_t bc_qemu_argv(const bc_qemu_spec_t *spec,
                         bc_qemu_argv_t *out) ROT_WARN_UNUSED;

/* A running QEMU. */
typedef struct bc_qemu {
  pid_t pid;        /* 0 when not running */
  int pidfd;        /* readable when the child exits */
  int console;      /* BC_QEMU_SERIAL_PIPE: our end of the socket pair */
  int echo_fd;      /* -1, or: every console byte read is copied here */
  int exited;
  int exit_code;    /* exit status, or 128 + signal */
  int console_eof;  /* the console closed (QEMU is gone or going) */
  size_t len;       /* unmatched console output kept for bc_qemu_expect */
  char buf[65536];
} bc_qemu_t;

/**
 * Fork and exec QEMU for spec. The child keeps only stdio and the spec's
 * descriptors open, and gets SIGKILL if the launcher dies. An exec
 * failure is reported here, not later.
 * Errors: those of bc_qemu_argv, ROT_ERROR_HANDOFF_QEMU.
 */
rot_error_t bc_qemu_start(const bc_qemu_spec_t *spec,
                          bc_qemu_t *q) ROT_WARN_UNUSED;

/**
 * Wait (at most timeout_ms) until the console prints text, which is then
 * consumed with everything before it. Only with BC_QEMU_SERIAL_PIPE.
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_HOST_TIMEOUT,
 * ROT_ERROR_HANDOFF_QEMU (QEMU exited or the console closed first).
 */
rot_error_t bc_qemu_expect(bc_qemu_t *q, const char *text,
                           unsigned timeout_ms) ROT_WARN_UNUSED;

/**
 * Type len bytes on the console (BC_QEMU_SERIAL_PIPE).
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_HANDOFF_QEMU.
 */
rot_error_t bc_qemu_send(bc_qemu_t *q, const void *data,
                         size_t len) ROT_WARN_UNUSED;

/**
 * Wait at most timeout_ms (0: forever) for QEMU to exit, draining the
 * console meanwhile; *exit_code gets its status. On ROT_ERROR_HOST_TIMEOUT
 * QEMU is still running: call bc_qemu_stop.
 */
rot_error_t bc_qemu_wait(bc_qemu_t *q, unsigned timeout_ms,
                         int *exit_code) ROT_WARN_UNUSED;

/**
 * Stop QEMU if it still runs (SIGTERM so it can restore the terminal,
 * SIGKILL if it has not exited within a second), reap it and close the
 * console. Idempotent; safe on a zeroed struct.
 */
void bc_qemu_stop(bc_qemu_t *q);

/**
 * Start, wait for exit (up to spec->timeout_ms), stop. For STDIO and FILE
 * consoles. *exit_code: QEMU's exit status. Errors: those of
 * bc_qemu_start, ROT_ERROR_HOST_TIMEOUT (QEMU was killed).
 */
rot_error_t bc_qemu_run(const bc_qemu_spec_t *spec,
                        int *exit_code) ROT_WARN_UNUSED;

#endif /* BOOTCHAIN_QEMU_H */
