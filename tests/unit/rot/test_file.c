/*
 * Host file helpers: the atomic write that private keys go through.
 *
 * fsync is interposed (defined here, so the library's calls land here
 * first) to see which descriptors get synced: a rename is only durable
 * once its directory is synced, and nothing else can show that.
 */
#define _GNU_SOURCE
#include <dirent.h>
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

#include "rot_host/file.h"

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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
