/*
 * bc_boot_probe: boots the real chain in QEMU the way the boot flow does
 * (handoff DTB from a base tree, every file sealed in a memfd, a small
 * event log loaded at its reserved address) and drives the serial console
 * with a script of expect/send steps. Used by tests/cli/qemu_boot_test.sh.
 *
 *   bc_boot_probe --base-dtb F --bios F --kernel F [options] STEP...
 *     --log-addr HEX      event log address (default BC_HANDOFF_LOG_ADDR)
 *     --boot-slot S       /chosen rot,boot-slot (default hypervisor-a)
 *     --transcript FILE   copy of everything the console printed
 *     --timeout-ms N      per expect step (default 10000)
 *     --save-dtb FILE     write the handoff DTB that was booted
 *     --extra ARG         one more QEMU argument (repeatable)
 *     --print-argv        print the QEMU command line before starting
 *   STEP: expect:TEXT or send:TEXT, with \n \r \\ escapes in TEXT.
 *
 * Prints "step N ok: ..." per step. Exit 0: every step passed; 1: a setup
 * error or a failed step (one line on stderr naming it); 2: usage.
 * QEMU is stopped and reaped on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootchain/handoff.h"
#include "bootchain/qemu.h"
#include "bootchain/seal.h"
#include "rot/util.h"
#include "rot_client/names.h"

#define MAX_FILE (64u << 20)
#define MAX_STEPS 64
#define MAX_EXTRA 8

static const char *prog = "bc_boot_probe";

static void die(const char *what, rot_error_t err) {
  fprintf(stderr, "%s: %s: %s (%s)\n", prog, what, rot_error_name(err),
          rot_error_str(err));
}

static int usage(void) {
  fprintf(stderr,
          "usage: %s --base-dtb F --bios F --kernel F [--log-addr HEX] "
          "[--boot-slot S] [--transcript F] [--timeout-ms N] [--save-dtb F] "
          "[--extra ARG]... [--print-argv] STEP...\n",
          prog);
  return 2;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = malloc(MAX_FILE);
  size_t n = buf != NULL ? fread(buf, 1, MAX_FILE, f) : 0;
  int bad = buf == NULL || ferror(f) || n == 0 || n == MAX_FILE;
  (void)fclose(f);
  if (bad) {
    fprintf(stderr, "%s: %s: empty, unreadable or too large\n", prog, path);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* A crypto-agile log's first record: TCG_PCR_EVENT (SHA-1 format) carrying
 * TCG_EfiSpecIDEvent "Spec ID Event03" for SHA-256 and SHA-384. The
 * signature lands at offset 32, where a reader looks for it. */
static size_t fake_event_log(uint8_t *p, size_t cap) {
  static const uint8_t sig[16] = "Spec ID Event03";
  const uint32_t event_size = 16 + 4 + 4 + 4 + 2 * 4 + 1;
  size_t len = 32u + event_size;
  if (cap < len) {
    return 0;
  }
  memset(p, 0, len);
  rot_st32(p + 0, 0);          /* PCR index */
  rot_st32(p + 4, 3);          /* EV_NO_ACTION */
  rot_st32(p + 28, event_size);
  uint8_t *e = p + 32;
  memcpy(e, sig, sizeof(sig));
  rot_st32(e + 16, 0);         /* platform class: client */
  e[20] = 0;                   /* spec version minor */
  e[21] = 2;                   /* major */
  e[22] = 0;                   /* errata */
  e[23] = 2;                   /* uintn size: 64-bit */
  rot_st32(e + 24, 2);         /* algorithms */
  rot_st16(e + 28, 0x000b);    /* SHA-256 */
  rot_st16(e + 30, 32);
  rot_st16(e + 32, 0x000c);    /* SHA-384 */
  rot_st16(e + 34, 48);
  e[36] = 0;                   /* vendor info size */
  return len;
}

/* Decodes \n, \r, \\ in place. */
static size_t unescape(char *s) {
  size_t o = 0;
  for (size_t i = 0; s[i] != '\0'; i++) {
    if (s[i] == '\\' && s[i + 1] != '\0') {
      char c = s[++i];
      s[o++] = c == 'n' ? '\n' : c == 'r' ? '\r' : c;
    } else {
      s[o++] = s[i];
    }
  }
  s[o] = '\0';
  return o;
}

static int write_file(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    return -1;
  }
  size_t w = fwrite(p, 1, n, f);
  return (fclose(f) != 0 || w != n) ? -1 : 0;
}

typedef struct probe {
  const char *base_path, *bios_path, *kernel_path, *transcript, *save_dtb;
  const char *boot_slot;
  uint64_t log_addr;
  unsigned timeout_ms;
  int print_argv;
  const char *extra[MAX_EXTRA];
  size_t extra_count;
  char *steps[MAX_STEPS];
  size_t step_count;
} probe_t;

static int parse(int argc, char **argv, probe_t *p) {
  memset(p, 0, sizeof(*p));
  p->boot_slot = "hypervisor-a";
  p->log_addr = BC_HANDOFF_LOG_ADDR;
  p->timeout_ms = 10000;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--print-argv") == 0) {
      p->print_argv = 1;
      continue;
    }
    if (strncmp(a, "--", 2) != 0) {
      if (p->step_count == MAX_STEPS) {
        return -1;
      }
      p->steps[p->step_count++] = argv[i];
      continue;
    }
    if (v == NULL) {
      return -1;
    }
    i++;
    if (strcmp(a, "--base-dtb") == 0) {
      p->base_path = v;
    } else if (strcmp(a, "--bios") == 0) {
      p->bios_path = v;
    } else if (strcmp(a, "--kernel") == 0) {
      p->kernel_path = v;
    } else if (strcmp(a, "--transcript") == 0) {
      p->transcript = v;
    } else if (strcmp(a, "--save-dtb") == 0) {
      p->save_dtb = v;
    } else if (strcmp(a, "--boot-slot") == 0) {
      p->boot_slot = v;
    } else if (strcmp(a, "--log-addr") == 0) {
      p->log_addr = strtoull(v, NULL, 16);
    } else if (strcmp(a, "--timeout-ms") == 0) {
      p->timeout_ms = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(a, "--extra") == 0 && p->extra_count < MAX_EXTRA) {
      p->extra[p->extra_count++] = v;
    } else {
      return -1;
    }
  }
  return p->base_path && p->bios_path && p->kernel_path ? 0 : -1;
}

static int run_steps(const probe_t *p, bc_qemu_t *q) {
  for (size_t i = 0; i < p->step_count; i++) {
    char *step = p->steps[i];
    rot_error_t err;
    if (strncmp(step, "expect:", 7) == 0) {
      (void)unescape(step + 7);
      err = bc_qemu_expect(q, step + 7, p->timeout_ms);
    } else if (strncmp(step, "send:", 5) == 0) {
      size_t n = unescape(step + 5);
      err = bc_qemu_send(q, step + 5, n);
    } else {
      fprintf(stderr, "%s: step %zu: not expect: or send: (%s)\n", prog, i + 1,
              step);
      return 1;
    }
    if (err != ROT_OK) {
      fprintf(stderr, "%s: step %zu failed: %s: %s\n", prog, i + 1, step,
              rot_error_name(err));
      return 1;
    }
    printf("step %zu ok: %s\n", i + 1, step);
    (void)fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  probe_t p;
  if (parse(argc, argv, &p) != 0) {
    return usage();
  }
  static const char *const versions[] = {"opensbi 1.1", "u-boot 2023.01"};
  static const bc_handoff_str_t strs[] = {{"rot,lifecycle", "dev"}};
  static const bc_handoff_u64_t u64s[] = {{"rot,svn-floor", 0x1002}};
  static uint8_t log[4096];
  size_t log_len = fake_event_log(log, sizeof(log));

  int rc = 1;
  size_t base_len = 0, bios_len = 0, kernel_len = 0, dtb_len = 0;
  uint8_t *base = read_file(p.base_path, &base_len);
  uint8_t *bios = read_file(p.bios_path, &bios_len);
  uint8_t *kernel = read_file(p.kernel_path, &kernel_len);
  uint8_t *dtb = NULL;
  bc_sealed_t s_bios, s_kernel, s_dtb, s_log;
  memset(&s_bios, 0, sizeof(s_bios));
  s_kernel = s_dtb = s_log = s_bios;
  bc_qemu_t *q = calloc(1, sizeof(*q));
  int transcript = -1;
  if (base == NULL || bios == NULL || kernel == NULL || q == NULL) {
    goto out;
  }

  bc_handoff_info_t info;
  memset(&info, 0, sizeof(info));
  info.log_addr = p.log_addr;
  info.log_size = (uint32_t)log_len;
  info.boot_slot = p.boot_slot;
  info.image_versions = versions;
  info.image_version_count = 2;
  info.chosen_strs = strs;
  info.chosen_str_count = 1;
  info.chosen_u64s = u64s;
  info.chosen_u64_count = 1;
  size_t cap = bc_handoff_max_size(base_len, &info);
  dtb = cap != 0 ? malloc(cap) : NULL;
  if (dtb == NULL) {
    die("handoff", ROT_ERROR_INVALID_ARGUMENT);
    goto out;
  }
  rot_error_t err = bc_handoff_build(base, base_len, &info, dtb, cap, &dtb_len);
  if (err != ROT_OK) {
    die("handoff", err);
    goto out;
  }
  if (p.save_dtb != NULL && write_file(p.save_dtb, dtb, dtb_len) != 0) {
    fprintf(stderr, "%s: %s: cannot write\n", prog, p.save_dtb);
    goto out;
  }

  /* From here on only the sealed copies are used. */
  if ((err = bc_seal_create("opensbi", bios, bios_len, &s_bios)) != ROT_OK ||
      (err = bc_seal_create("payload", kernel, kernel_len, &s_kernel)) != ROT_OK ||
      (err = bc_seal_create("handoff-dtb", dtb, dtb_len, &s_dtb)) != ROT_OK ||
      (err = bc_seal_create("event-log", log, log_len, &s_log)) != ROT_OK) {
    die("seal", err);
    goto out;
  }

  bc_qemu_spec_t spec;
  memset(&spec, 0, sizeof(spec));
  spec.bios.fd = s_bios.fd;
  spec.kernel.fd = s_kernel.fd;
  spec.dtb.fd = s_dtb.fd;
  spec.event_log.fd = s_log.fd;
  spec.event_log_addr = p.log_addr;
  spec.serial = BC_QEMU_SERIAL_PIPE;
  spec.extra_args = p.extra;
  spec.extra_count = p.extra_count;
  if (p.print_argv) {
    bc_qemu_argv_t a;
    if ((err = bc_qemu_argv(&spec, &a)) != ROT_OK) {
      die("argv", err);
      goto out;
    }
    printf("argv:");
    for (size_t i = 0; i < a.argc; i++) {
      printf(" %s", a.argv[i]);
    }
    printf("\n");
    (void)fflush(stdout);
  }
  if (p.transcript != NULL) {
    transcript = open(p.transcript, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (transcript < 0) {
      fprintf(stderr, "%s: %s: %s\n", prog, p.transcript, strerror(errno));
      goto out;
    }
  }
  if ((err = bc_qemu_start(&spec, q)) != ROT_OK) {
    die("qemu", err);
    goto out;
  }
  q->echo_fd = transcript;
  printf("qemu pid %ld\n", (long)q->pid);
  (void)fflush(stdout);
  rc = run_steps(&p, q);

out:
  if (q != NULL) {
    bc_qemu_stop(q);
  }
  if (transcript >= 0) {
    (void)close(transcript);
  }
  bc_seal_close(&s_bios);
  bc_seal_close(&s_kernel);
  bc_seal_close(&s_dtb);
  bc_seal_close(&s_log);
  free(q);
  free(dtb);
  free(base);
  free(bios);
  free(kernel);
  return rc;
}
