/*
 * Host file helpers: the atomic write that private keys go through, and
 * the device files (flash, OTP) that must stay private to their owner.
 *
 * fsync is interposed (defined here, so the library's calls land here
 * first) to see which descriptors get synced: a rename is only durable
 * once its directory is synced, and nothing else can show that.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "rot/otp.h"
#include "rot_host/file.h"
#include "rot_host/flash_file.h"

/* ---- fsync spy ------------------------------------------------------------- */

static struct {
  dev_t dev;
  ino_t ino;
  unsigned dir_syncs; /* fsyncs of the watched directory */
} g_spy;

int fsync(int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == g_spy.dev &&
      st.st_ino == g_spy.ino) {
    g_spy.dir_syncs++;
  }
  return (int)syscall(SYS_fsync, fd);
}

/* ---- a private temporary directory per test --------------------------------- */

typedef struct tmp {
  char dir[64];
  char path[128];   /* dir/key.pem: the file under test */
  char victim[128]; /* dir/victim: what a planted symlink points to */
} tmp_t;

static void tmp_make(tmp_t *t) {
  const char *base = getenv("TMPDIR");
  snprintf(t->dir, sizeof(t->dir), "%s/rot-file-XXXXXX",
           base != NULL && strlen(base) < 40 ? base : "/tmp");
  assert_non_null(mkdtemp(t->dir));
  snprintf(t->path, sizeof(t->path), "%s/key.pem", t->dir);
  snprintf(t->victim, sizeof(t->victim), "%s/victim", t->dir);
  struct stat st;
  assert_int_equal(stat(t->dir, &st), 0);
  g_spy.dev = st.st_dev;
  g_spy.ino = st.st_ino;
  g_spy.dir_syncs = 0;
}

/* Names in the directory, "." and ".." aside. */
static unsigned tmp_entries(const tmp_t *t) {
  DIR *d = opendir(t->dir);
  assert_non_null(d);
  unsigned n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      n++;
    }
  }
  closedir(d);
  return n;
}

static void tmp_remove(tmp_t *t) {
  DIR *d = opendir(t->dir);
  assert_non_null(d);
  struct dirent *e;
  char p[64 + 1 + 256];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
      continue;
    }
    snprintf(p, sizeof(p), "%s/%s", t->dir, e->d_name);
    if (unlink(p) != 0) {
      assert_int_equal(rmdir(p), 0);
    }
  }
  closedir(d);
  assert_int_equal(rmdir(t->dir), 0);
}

static void write_raw(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  size_t n = strlen(text);
  assert_int_equal(write(fd, text, n), (ssize_t)n);
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(close(fd), 0);
}

static void assert_file_is(const char *path, const char *text) {
  char buf[256];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  assert_true(n >= 0);
  buf[n] = '\0';
  assert_string_equal(buf, text);
}

static unsigned mode_of(const char *path) {
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  return (unsigned)st.st_mode & 07777u;
}

static const char kSecret[] = "-----BEGIN EC PRIVATE KEY-----\nsecret\n";

/* ---- rot_file_write ----------------------------------------------------------- */

static void file_test_write_planted_temp_symlink_not_followed(void **state) {
  (void)state;
  /* The old temporary name was path.tmp.PID: anyone who could write the
   * directory could plant a symlink there and receive the private key. */
  tmp_t t;
  char planted[192];
  tmp_make(&t);
  write_raw(t.victim, "victim\n", 0644);
  snprintf(planted, sizeof(planted), "%s.tmp.%ld", t.path, (long)getpid());
  assert_int_equal(symlink(t.victim, planted), 0);
  assert_int_equal(rot_file_write(t.path, kSecret, strlen(kSecret), 0600),
                   ROT_OK);
  assert_file_is(t.victim, "victim\n");
  assert_int_equal(mode_of(t.victim), 0644);
  assert_file_is(t.path, kSecret);
  assert_int_equal(mode_of(t.path), 0600);
  tmp_remove(&t);
}

static void file_test_write_symlink_at_path_replaced_not_followed(void **state) {
  (void)state;
  tmp_t t;
  tmp_make(&t);
  write_raw(t.victim, "victim\n", 0644);
  assert_int_equal(symlink(t.victim, t.path), 0);
  assert_int_equal(rot_file_write(t.path, kSecret, strlen(kSecret), 0600),
                   ROT_OK);
  struct stat st;
  assert_int_equal(lstat(t.path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_file_is(t.path, kSecret);
  assert_file_is(t.victim, "victim\n");
  tmp_remove(&t);
}

static void file_test_write_syncs_directory(void **state) {
  (void)state;
  tmp_t t;
  tmp_make(&t);
  assert_int_equal(rot_file_write(t.path, kSecret, strlen(kSecret), 0600),
                   ROT_OK);
  assert_true(g_spy.dir_syncs >= 1);
  tmp_remove(&t);
}

static void file_test_write_mode_exact_whatever_umask(void **state) {
  (void)state;
  tmp_t t;
  tmp_make(&t);
  mode_t old = umask(0);
  assert_int_equal(rot_file_write(t.path, kSecret, strlen(kSecret), 0600),
                   ROT_OK);
  assert_int_equal(mode_of(t.path), 0600);
  umask(077);
  assert_int_equal(rot_file_write(t.path, "pub\n", 4, 0644), ROT_OK);
  assert_int_equal(mode_of(t.path), 0644);
  umask(old);
  assert_file_is(t.path, "pub\n");
  tmp_remove(&t);
}

static void file_test_write_leaves_no_temporary_file(void **state) {
  (void)state;
  tmp_t t;
  tmp_make(&t);
  assert_int_equal(rot_file_write(t.path, kSecret, strlen(kSecret), 0600),
                   ROT_OK);
  assert_int_equal(rot_file_write(t.path, kSecret, strlen(kSecret), 0600),
                   ROT_OK);
  assert_int_equal(tmp_entries(&t), 1);
  /* A failed rename (a directory in the way) cleans up after itself. */
  assert_int_equal(mkdir(t.victim, 0700), 0);
  assert_int_equal(rot_file_write(t.victim, kSecret, strlen(kSecret), 0600),
                   ROT_ERROR_IO_WRITE);
  assert_int_equal(tmp_entries(&t), 2);
  tmp_remove(&t);
}

static void file_test_write_relative_path(void **state) {
  (void)state;
  tmp_t t;
  char cwd[4096];
  tmp_make(&t);
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(t.dir), 0);
  rot_error_t err = rot_file_write("key.pem", kSecret, strlen(kSecret), 0600);
  assert_int_equal(chdir(cwd), 0);
  assert_int_equal(err, ROT_OK);
  assert_file_is(t.path, kSecret);
  assert_int_equal(tmp_entries(&t), 1);
  tmp_remove(&t);
}

static void file_test_write_missing_directory(void **state) {
  (void)state;
  tmp_t t;
  char p[192];
  tmp_make(&t);
  snprintf(p, sizeof(p), "%s/none/key.pem", t.dir);
  assert_int_equal(rot_file_write(p, kSecret, strlen(kSecret), 0600),
                   ROT_ERROR_IO_OPEN);
  assert_int_equal(rot_file_last_errno(), ENOENT);
  tmp_remove(&t);
}

/* The OS's reason travels with the error code, for the message. */
static void file_test_read_errors_keep_os_reason(void **state) {
  (void)state;
  tmp_t t;
  char p[192];
  uint8_t *buf = NULL;
  size_t len = 0;
  tmp_make(&t);
  snprintf(p, sizeof(p), "%s/none", t.dir);
  assert_int_equal(rot_file_read(p, 100, &buf, &len), ROT_ERROR_IO_OPEN);
  assert_int_equal(rot_file_last_errno(), ENOENT);
  assert_int_equal(rot_file_read(t.dir, 100, &buf, &len), ROT_ERROR_IO_OPEN);
  assert_int_equal(rot_file_last_errno(), EISDIR);
  write_raw(t.path, "x", 0600);
  assert_int_equal(rot_file_read(t.path, 100, &buf, &len), ROT_OK);
  assert_int_equal(rot_file_last_errno(), 0);
  free(buf);
  rot_otp_file_t otp;
  assert_int_equal(rot_otp_file_open(&otp, t.dir, 0), ROT_ERROR_IO_OPEN);
  assert_int_equal(rot_file_last_errno(), EISDIR);
  tmp_remove(&t);
}

static void file_test_write_bad_arguments(void **state) {
  (void)state;
  assert_int_equal(rot_file_write(NULL, "x", 1, 0600),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_file_write("", "x", 1, 0600),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_file_write("/tmp/", "x", 1, 0600),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_file_write("/tmp/x", NULL, 1, 0600),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_file_write("/tmp/x", "x", 1, 04600),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* ---- device files --------------------------------------------------------- */

static void make_device(const char *path, size_t size, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)size), 0);
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(close(fd), 0);
}

static void file_test_open_device_refuses_any_group_or_other_bit(void **state) {
  (void)state;
  tmp_t t;
  tmp_make(&t);
  for (unsigned bit = 0; bit < 6; bit++) {
    unsigned mode = 0600u | (1u << bit);
    make_device(t.path, 4096, mode);
    int fd = 123;
    unsigned found = 0;
    assert_int_equal(rot_file_open_device(t.path, 4096, 0xff, 1,
                                          ROT_ERROR_FLASH_BAD_LAYOUT, &fd,
                                          &found),
                     ROT_ERROR_IO_PERMISSIONS);
    assert_int_equal(fd, -1);
    assert_int_equal(found, mode);
    /* Refused, not repaired: the operator must see it. */
    assert_int_equal(mode_of(t.path), mode);
  }
  tmp_remove(&t);
}

static void file_test_open_device_private_file_opens(void **state) {
  (void)state;
  tmp_t t;
  tmp_make(&t);
  make_device(t.path, 4096, 0600);
  int fd = -1;
  unsigned found = 0;
  assert_int_equal(rot_file_open_device(t.path, 4096, 0xff, 0,
                                        ROT_ERROR_FLASH_BAD_LAYOUT, &fd, &found),
                   ROT_OK);
  assert_true(fd >= 0);
  assert_int_equal(found, 0600);
  close(fd);
  tmp_remove(&t);
}

static void file_test_open_device_fills_empty_file_0600(void **state) {
  (void)state;
  /* An empty file holds nothing yet: made private as it is filled. */
  tmp_t t;
  tmp_make(&t);
  make_device(t.path, 0, 0644);
  int fd = -1;
  unsigned found = 0;
  assert_int_equal(rot_file_open_device(t.path, 4096, 0xff, 1,
                                        ROT_ERROR_FLASH_BAD_LAYOUT, &fd, &found),
                   ROT_OK);
  close(fd);
  assert_int_equal(found, 0600);
  assert_int_equal(mode_of(t.path), 0600);
  tmp_remove(&t);
}

static void file_test_otp_open_reports_mode_when_refused(void **state) {
  (void)state;
  tmp_t t;
  rot_otp_file_t otp;
  tmp_make(&t);
  make_device(t.path, ROT_OTP_SIZE, 0644);
  assert_int_equal(rot_otp_file_open(&otp, t.path, 0), ROT_ERROR_IO_PERMISSIONS);
  assert_int_equal(otp.mode, 0644);
  assert_int_equal(otp.fd, -1);
  assert_int_equal(mode_of(t.path), 0644);
  assert_int_equal(chmod(t.path, 0600), 0);
  assert_int_equal(rot_otp_file_open(&otp, t.path, 0), ROT_OK);
  rot_otp_file_close(&otp);
  tmp_remove(&t);
}

static void file_test_flash_open_reports_mode_when_refused(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  make_device(t.path, 65536, 0660);
  assert_int_equal(rot_flash_file_open(&f, t.path, 65536, 4096, 1),
                   ROT_ERROR_IO_PERMISSIONS);
  assert_int_equal(f.mode, 0660);
  assert_int_equal(mode_of(t.path), 0660);
  tmp_remove(&t);
}

static void file_test_flash_open_creates_0600(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  mode_t old = umask(0);
  assert_int_equal(rot_flash_file_open(&f, t.path, 65536, 4096, 1), ROT_OK);
  umask(old);
  assert_int_equal(f.mode, 0600);
  assert_int_equal(mode_of(t.path), 0600);
  rot_flash_file_close(&f);
  tmp_remove(&t);
}

static void file_test_private_advice_names_file_mode_and_fix(void **state) {
  (void)state;
  char buf[512];
  const char *s = rot_file_private_advice(buf, sizeof(buf), "run/otp.bin", 0644);
  assert_ptr_equal(s, buf);
  assert_non_null(strstr(buf, "0644"));
  assert_non_null(strstr(buf, "chmod 600 run/otp.bin"));
  assert_null(strchr(buf, '\n'));
  /* Tiny buffers are cut, never overrun. */
  char small[8];
  rot_file_private_advice(small, sizeof(small), "run/otp.bin", 0644);
  assert_int_equal(strlen(small), 7);
  assert_null(rot_file_private_advice(NULL, 0, "x", 0644));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(file_test_write_planted_temp_symlink_not_followed),
      cmocka_unit_test(file_test_write_symlink_at_path_replaced_not_followed),
      cmocka_unit_test(file_test_write_syncs_directory),
      cmocka_unit_test(file_test_write_mode_exact_whatever_umask),
      cmocka_unit_test(file_test_write_leaves_no_temporary_file),
      cmocka_unit_test(file_test_write_relative_path),
      cmocka_unit_test(file_test_write_missing_directory),
      cmocka_unit_test(file_test_write_bad_arguments),
      cmocka_unit_test(file_test_read_errors_keep_os_reason),
      cmocka_unit_test(file_test_open_device_refuses_any_group_or_other_bit),
      cmocka_unit_test(file_test_open_device_private_file_opens),
      cmocka_unit_test(file_test_open_device_fills_empty_file_0600),
      cmocka_unit_test(file_test_otp_open_reports_mode_when_refused),
      cmocka_unit_test(file_test_flash_open_reports_mode_when_refused),
      cmocka_unit_test(file_test_flash_open_creates_0600),
      cmocka_unit_test(file_test_private_advice_names_file_mode_and_fix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
