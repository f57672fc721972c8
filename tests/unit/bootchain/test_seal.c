/*
 * Sealed image memory: once sealed, no way this process has to change the
 * bytes works (write, pwrite, ftruncate, fallocate, a writable shared
 * mapping, a second open of the path, dropping the seals), and the path
 * reads back exactly the data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bootchain/seal.h"

static const uint8_t data[] = "OpenSBI fw_dynamic stand-in: the measured bytes";

typedef struct fixture {
  bc_sealed_t s;
} fixture_t;

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  if (f == NULL || bc_seal_create("test-image", data, sizeof(data), &f->s) != ROT_OK) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  bc_seal_close(&f->s);
  free(f);
  return 0;
}

static bc_sealed_t *sealed(void **state) {
  return &((fixture_t *)*state)->s;
}

/* Reads the whole file at path into buf; returns the byte count. */
static size_t read_path(const char *path, uint8_t *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - n);
    assert_true(r >= 0);
    if (r == 0 || n + (size_t)r == cap) {
      n += (size_t)r;
      break;
    }
    n += (size_t)r;
  }
  assert_int_equal(close(fd), 0);
  return n;
}

/* ---- bc_seal_create ----------------------------------------------------- */

static void seal_test_create_ok(void **state) {
  bc_sealed_t *s = sealed(state);
  assert_true(s->fd >= 0);
  assert_int_equal(s->len, sizeof(data));
  assert_memory_equal(s->data, data, sizeof(data));
  int seals = fcntl(s->fd, F_GET_SEALS);
  assert_int_equal(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
                   F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  assert_int_equal(fcntl(s->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  assert_int_equal(bc_seal_verify(s), ROT_OK);
}

static void seal_test_create_copies_not_aliases(void **state) {
  (void)state;
  uint8_t buf[64];
  bc_sealed_t s;
  memset(buf, 0x11, sizeof(buf));
  assert_int_equal(bc_seal_create("copy", buf, sizeof(buf), &s), ROT_OK);
  memset(buf, 0x22, sizeof(buf)); /* the caller's buffer changes later */
  assert_true(s.data != buf);
  for (size_t i = 0; i < sizeof(buf); i++) {
    assert_int_equal(s.data[i], 0x11);
  }
  bc_seal_close(&s);
}

static void seal_test_create_large(void **state) {
  (void)state;
  size_t len = (8u << 20) + 13u; /* not a page multiple */
  uint8_t *buf = malloc(len);
  assert_non_null(buf);
  for (size_t i = 0; i < len; i++) {
    buf[i] = (uint8_t)(i * 2654435761u >> 13);
  }
  bc_sealed_t s;
  assert_int_equal(bc_seal_create("large", buf, len, &s), ROT_OK);
  assert_memory_equal(s.data, buf, len);
  uint8_t *back = malloc(len + 1);
  assert_non_null(back);
  assert_int_equal(read_path(bc_seal_path(&s), back, len + 1), len);
  assert_memory_equal(back, buf, len);
  free(back);
  free(buf);
  bc_seal_close(&s);
}

static void seal_test_create_bad_args(void **state) {
  (void)state;
  bc_sealed_t s;
  char name[BC_SEAL_NAME_MAX + 2u];
  memset(name, 'n', sizeof(name) - 1);
  name[sizeof(name) - 1] = '\0';
  assert_int_equal(bc_seal_create(NULL, data, 1, &s), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(s.fd, -1);
  assert_null(s.data);
  assert_int_equal(bc_seal_create("x", NULL, 1, &s), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_create("x", data, 0, &s), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_create("x", data, 1, NULL), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_create(name, data, 1, &s), ROT_ERROR_INVALID_ARGUMENT);
  name[BC_SEAL_NAME_MAX] = '\0';
  assert_int_equal(bc_seal_create(name, data, 1, &s), ROT_OK);
  bc_seal_close(&s);
}

/* ---- nothing can change the sealed bytes --------------------------------- */

static void seal_test_write_refused(void **state) {
  bc_sealed_t *s = sealed(state);
  errno = 0;
  assert_int_equal(write(s->fd, "X", 1), -1);
  /* The fd is read/write as far as open flags go: the seal refuses it. */
  assert_int_equal(errno, EPERM);
  errno = 0;
  assert_int_equal(pwrite(s->fd, "X", 1, 0), -1);
  assert_int_equal(errno, EPERM);
  assert_memory_equal(s->data, data, sizeof(data));
}

static void seal_test_write_through_path_refused(void **state) {
  bc_sealed_t *s = sealed(state);
  int fd = open(bc_seal_path(s), O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    errno = 0;
    assert_int_equal(pwrite(fd, "X", 1, 3), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(close(fd), 0);
  } else {
    assert_int_equal(errno, EPERM);
  }
  assert_memory_equal(s->data, data, sizeof(data));
}

static void seal_test_resize_refused(void **state) {
  bc_sealed_t *s = sealed(state);
  struct stat st;
  errno = 0;
  assert_int_equal(ftruncate(s->fd, (off_t)sizeof(data) + 4096), -1);
  assert_int_equal(errno, EPERM);
  errno = 0;
  assert_int_equal(ftruncate(s->fd, 1), -1);
  assert_int_equal(errno, EPERM);
  errno = 0;
  assert_int_equal(ftruncate(s->fd, 0), -1);
  assert_int_equal(errno, EPERM);
  errno = 0;
  assert_int_equal(fallocate(s->fd, 0, 0, 1 << 20), -1);
  assert_int_equal(errno, EPERM);
  assert_int_equal(fstat(s->fd, &st), 0);
  assert_int_equal(st.st_size, sizeof(data));
}

static void seal_test_writable_shared_map_refused(void **state) {
  bc_sealed_t *s = sealed(state);
  errno = 0;
  void *m = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
  assert_true(m == MAP_FAILED);
  assert_int_equal(errno, EPERM);
  /* The measurement mapping cannot be made writable either. */
  errno = 0;
  assert_int_equal(mprotect((void *)(uintptr_t)s->data, s->len,
                            PROT_READ | PROT_WRITE),
                   -1);
  assert_int_equal(errno, EACCES);
}

static void seal_test_private_map_does_not_reach_file(void **state) {
  bc_sealed_t *s = sealed(state);
  uint8_t *m = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, s->fd, 0);
  assert_true(m != MAP_FAILED);
  m[0] ^= 0xff; /* copy-on-write: a private page, not the file */
  assert_int_equal(munmap(m, s->len), 0);
  uint8_t back[sizeof(data) + 1];
  assert_int_equal(read_path(bc_seal_path(s), back, sizeof(back)), sizeof(data));
  assert_memory_equal(back, data, sizeof(data));
  assert_memory_equal(s->data, data, sizeof(data));
}

static void seal_test_seals_cannot_change(void **state) {
  bc_sealed_t *s = sealed(state);
  errno = 0;
  assert_int_equal(fcntl(s->fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
  assert_int_equal(errno, EPERM);
  int seals = fcntl(s->fd, F_GET_SEALS);
  assert_int_equal(seals & F_SEAL_SEAL, F_SEAL_SEAL);
}

/* ---- bc_seal_path --------------------------------------------------------- */

static void seal_test_path_reads_back_data(void **state) {
  bc_sealed_t *s = sealed(state);
  char want[32];
  (void)snprintf(want, sizeof(want), "/proc/self/fd/%d", s->fd);
  assert_string_equal(bc_seal_path(s), want);
  uint8_t back[sizeof(data) + 16];
  assert_int_equal(read_path(bc_seal_path(s), back, sizeof(back)), sizeof(data));
  assert_memory_equal(back, data, sizeof(data));
}

static void seal_test_path_bad_args(void **state) {
  (void)state;
  bc_sealed_t zero;
  memset(&zero, 0, sizeof(zero));
  assert_null(bc_seal_path(NULL));
  assert_null(bc_seal_path(&zero));
}

/* ---- bc_seal_verify ---------------------------------------------------------- */

static void seal_test_verify_bad_args(void **state) {
  (void)state;
  bc_sealed_t zero;
  memset(&zero, 0, sizeof(zero));
  assert_int_equal(bc_seal_verify(NULL), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_verify(&zero), ROT_ERROR_INVALID_ARGUMENT);
}

static void seal_test_verify_unsealed_file(void **state) {
  (void)state;
  /* A plain memfd passed off as sealed (what a bug elsewhere could do). */
  bc_sealed_t s;
  assert_int_equal(bc_seal_create("v", data, sizeof(data), &s), ROT_OK);
  int plain = memfd_create("plain", MFD_CLOEXEC);
  assert_true(plain >= 0);
  assert_int_equal(write(plain, data, sizeof(data)), (ssize_t)sizeof(data));
  int real = s.fd;
  s.fd = plain;
  assert_int_equal(bc_seal_verify(&s), ROT_ERROR_HANDOFF_SEAL);
  s.fd = real;
  assert_int_equal(close(plain), 0);
  bc_seal_close(&s);
}

/* ---- bc_seal_close -------------------------------------------------------------- */

static void seal_test_close_idempotent(void **state) {
  (void)state;
  bc_sealed_t s;
  assert_int_equal(bc_seal_create("c", data, sizeof(data), &s), ROT_OK);
  int fd = s.fd;
  bc_seal_close(&s);
  assert_int_equal(s.fd, -1);
  assert_null(s.data);
  assert_int_equal(fcntl(fd, F_GETFD), -1); /* really closed */
  bc_seal_close(&s);
  bc_seal_close(NULL);
  assert_int_equal(bc_seal_verify(&s), ROT_ERROR_INVALID_ARGUMENT);
}

static void seal_test_close_zeroed_leaves_stdin(void **state) {
  (void)state;
  bc_sealed_t zero;
  memset(&zero, 0, sizeof(zero)); /* fd 0, never created */
  bc_seal_close(&zero);
  assert_true(fcntl(0, F_GETFD) >= 0);
}

/* ---- bc_seal_open / bc_seal_write / bc_seal_read / bc_seal_commit ----------- */

/* Filled piece by piece and read back, then sealed: the read-only mapping
 * and the path hold exactly the bytes written, and every seal is on. */
static void seal_test_writer_commit(void **state) {
  (void)state;
  bc_seal_writer_t w;
  bc_sealed_t s;
  assert_int_equal(bc_seal_open("w", sizeof(data), &w), ROT_OK);
  assert_true(w.fd >= 0);
  assert_int_equal(w.len, sizeof(data));
  /* Before the seals the file can still change (only this process has it). */
  assert_int_equal(fcntl(w.fd, F_GET_SEALS), 0);
  size_t half = sizeof(data) / 2;
  /* Out of order is the caller's business: the file takes both. */
  assert_int_equal(bc_seal_write(&w, half, data + half, sizeof(data) - half), ROT_OK);
  assert_int_equal(bc_seal_write(&w, 0, data, half), ROT_OK);
  uint8_t back[sizeof(data)];
  memset(back, 0, sizeof(back));
  assert_int_equal(bc_seal_read(&w, 0, back, sizeof(back)), ROT_OK);
  assert_memory_equal(back, data, sizeof(data));
  int fd = w.fd;
  assert_int_equal(bc_seal_commit(&w, &s), ROT_OK);
  assert_int_equal(w.fd, -1);
  assert_int_equal(w.len, 0);
  assert_int_equal(s.fd, fd);
  assert_int_equal(s.len, sizeof(data));
  assert_memory_equal(s.data, data, sizeof(data));
  assert_int_equal(bc_seal_verify(&s), ROT_OK);
  uint8_t whole[sizeof(data) + 16];
  assert_int_equal(read_path(bc_seal_path(&s), whole, sizeof(whole)), sizeof(data));
  assert_memory_equal(whole, data, sizeof(data));
  errno = 0;
  assert_int_equal(write(s.fd, data, 1), -1);
  assert_int_equal(errno, EPERM);
  assert_ptr_equal(mmap(NULL, s.len, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0),
                   MAP_FAILED);
  bc_seal_close(&s);
}

/* Bytes never written read back as zeros and are sealed as zeros: the file
 * has its final size from the start. */
static void seal_test_writer_unwritten_is_zero(void **state) {
  (void)state;
  bc_seal_writer_t w;
  bc_sealed_t s;
  assert_int_equal(bc_seal_open("w", 3 * 4096 + 5, &w), ROT_OK);
  assert_int_equal(bc_seal_write(&w, 4096, data, sizeof(data)), ROT_OK);
  uint8_t back[16];
  memset(back, 0xff, sizeof(back));
  assert_int_equal(bc_seal_read(&w, 3 * 4096 + 5 - sizeof(back), back, sizeof(back)), ROT_OK);
  for (size_t i = 0; i < sizeof(back); i++) {
    assert_int_equal(back[i], 0);
  }
  assert_int_equal(bc_seal_commit(&w, &s), ROT_OK);
  assert_int_equal(s.len, 3 * 4096 + 5);
  assert_int_equal(s.data[0], 0);
  assert_memory_equal(s.data + 4096, data, sizeof(data));
  bc_seal_close(&s);
}

/* A child forked while the writer is open (the TPM thread starting a cmd:
 * TCTI does) and still alive at the commit holds no writable mapping of
 * the file (the writer never makes one), so the seals still go on. */
static void seal_test_writer_commit_with_forked_child(void **state) {
  (void)state;
  bc_seal_writer_t w;
  bc_sealed_t s;
  assert_int_equal(bc_seal_open("w", sizeof(data), &w), ROT_OK);
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    char c;
    (void)close(go[1]);
    (void)read(go[0], &c, 1); /* alive until the parent committed */
    _exit(0);
  }
  (void)close(go[0]);
  assert_int_equal(bc_seal_write(&w, 0, data, sizeof(data)), ROT_OK);
  rot_error_t err = bc_seal_commit(&w, &s);
  (void)close(go[1]);
  int status = 0;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_int_equal(err, ROT_OK);
  assert_memory_equal(s.data, data, sizeof(data));
  assert_int_equal(bc_seal_verify(&s), ROT_OK);
  bc_seal_close(&s);
}

static void seal_test_writer_bad_args(void **state) {
  (void)state;
  bc_seal_writer_t w;
  bc_sealed_t s;
  uint8_t buf[8];
  char long_name[BC_SEAL_NAME_MAX + 2];
  memset(long_name, 'n', sizeof(long_name) - 1u);
  long_name[sizeof(long_name) - 1u] = '\0';
  assert_int_equal(bc_seal_open(NULL, 1, &w), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(w.fd, -1);
  assert_int_equal(w.len, 0);
  assert_int_equal(bc_seal_open("w", 0, &w), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_open(long_name, 1, &w), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_open("w", 1, NULL), ROT_ERROR_INVALID_ARGUMENT);
  /* A closed writer takes nothing, gives nothing, commits nothing and
   * leaves *out closed. */
  assert_int_equal(bc_seal_write(&w, 0, buf, 1), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_read(&w, 0, buf, 1), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_write(NULL, 0, buf, 1), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_commit(&w, &s), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(s.fd, -1);
  assert_null(s.data);
  assert_int_equal(bc_seal_commit(NULL, &s), ROT_ERROR_INVALID_ARGUMENT);
  /* Nothing outside the file's size, and no NULL buffer: refused before
   * any byte moves, the file unchanged. */
  assert_int_equal(bc_seal_open("w", sizeof(buf), &w), ROT_OK);
  memset(buf, 0x5a, sizeof(buf));
  assert_int_equal(bc_seal_write(&w, 0, buf, sizeof(buf)), ROT_OK);
  assert_int_equal(bc_seal_write(&w, 1, buf, sizeof(buf)), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_write(&w, sizeof(buf) + 1, buf, 0), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_write(&w, SIZE_MAX, buf, 2), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_write(&w, 0, NULL, 1), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_read(&w, 4, buf, sizeof(buf)), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_seal_read(&w, 0, NULL, 1), ROT_ERROR_INVALID_ARGUMENT);
  uint8_t back[sizeof(buf)];
  assert_int_equal(bc_seal_read(&w, 0, back, sizeof(back)), ROT_OK);
  assert_memory_equal(back, buf, sizeof(buf));
  int fd = w.fd;
  assert_int_equal(bc_seal_commit(&w, NULL), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(w.fd, -1); /* dropped, not leaked */
  assert_int_equal(fcntl(fd, F_GETFD), -1);
}

static void seal_test_writer_abort(void **state) {
  (void)state;
  bc_seal_writer_t w;
  assert_int_equal(bc_seal_open("w", 3 * 4096 + 5, &w), ROT_OK);
  int fd = w.fd;
  assert_int_equal(bc_seal_write(&w, 0, data, sizeof(data)), ROT_OK);
  bc_seal_abort(&w);
  assert_int_equal(w.fd, -1);
  assert_int_equal(w.len, 0);
  assert_int_equal(fcntl(fd, F_GETFD), -1); /* really closed */
  bc_seal_abort(&w);
  bc_seal_abort(NULL);
  bc_seal_writer_t zero;
  memset(&zero, 0, sizeof(zero)); /* fd 0, never opened */
  bc_seal_abort(&zero);
  assert_true(fcntl(0, F_GETFD) >= 0);
}

/* Populating for writing leaves the bytes as they are, on a buffer that
 * starts and ends inside pages it shares, and does nothing on NULL or 0. */
static void seal_test_populate_write(void **state) {
  (void)state;
  size_t len = 3 * 4096 + 100;
  uint8_t *buf = malloc(len + 64);
  assert_non_null(buf);
  uint8_t *p = buf + 13; /* not page-aligned */
  for (size_t i = 0; i < len; i++) {
    p[i] = (uint8_t)(i * 7u + 1u);
  }
  buf[0] = 0x5a;
  bc_populate_write(p, len);
  for (size_t i = 0; i < len; i++) {
    assert_int_equal(p[i], (uint8_t)(i * 7u + 1u));
  }
  assert_int_equal(buf[0], 0x5a);
  bc_populate_write(NULL, len);
  bc_populate_write(p, 0);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(seal_test_create_ok, setup, teardown),
      cmocka_unit_test(seal_test_create_copies_not_aliases),
      cmocka_unit_test(seal_test_create_large),
      cmocka_unit_test(seal_test_create_bad_args),
      cmocka_unit_test_setup_teardown(seal_test_write_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(seal_test_write_through_path_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(seal_test_resize_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(seal_test_writable_shared_map_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(seal_test_private_map_does_not_reach_file, setup, teardown),
      cmocka_unit_test_setup_teardown(seal_test_seals_cannot_change, setup, teardown),
      cmocka_unit_test_setup_teardown(seal_test_path_reads_back_data, setup, teardown),
      cmocka_unit_test(seal_test_path_bad_args),
      cmocka_unit_test(seal_test_verify_bad_args),
      cmocka_unit_test(seal_test_verify_unsealed_file),
      cmocka_unit_test(seal_test_close_idempotent),
      cmocka_unit_test(seal_test_close_zeroed_leaves_stdin),
      cmocka_unit_test(seal_test_writer_commit),
      cmocka_unit_test(seal_test_writer_unwritten_is_zero),
      cmocka_unit_test(seal_test_writer_commit_with_forked_child),
      cmocka_unit_test(seal_test_writer_bad_args),
      cmocka_unit_test(seal_test_writer_abort),
      cmocka_unit_test(seal_test_populate_write),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
