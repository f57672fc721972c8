/*
 * Mailbox client, connection side: which socket a client talks to (an
 * absolute path, fixed at start-up) and whom it accepts at the other end
 * (root, itself, or the uid ROT_DAEMON_UID names). Listeners here only
 * bind and listen: the kernel completes a connect from the backlog, and
 * SO_PEERCRED reports the credentials the listener had at listen().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rot_client/mbox_client.h"

#define NOBODY_UID 65534u

typedef struct tmp {
  char dir[64];
  char sock[96];
} tmp_t;

static void tmp_make(tmp_t *t) {
  const char *base = getenv("TMPDIR");
  snprintf(t->dir, sizeof(t->dir), "%s/rot-mbox-XXXXXX",
           base != NULL && strlen(base) < 40 ? base : "/tmp");
  assert_non_null(mkdtemp(t->dir));
  snprintf(t->sock, sizeof(t->sock), "%s/rotd.sock", t->dir);
}

static void tmp_remove(tmp_t *t) {
  unlink(t->sock);
  assert_int_equal(rmdir(t->dir), 0);
}

/* A SEQPACKET listener at path (relative or not); returns its fd. */
static int listen_at(const char *path) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof(a));
  a.sun_family = AF_UNIX;
  assert_true(strlen(path) < sizeof(a.sun_path));
  memcpy(a.sun_path, path, strlen(path));
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (const struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(fd, 4), 0);
  return fd;
}

/* A listener run by another user: a child process and its stop pipe. */
typedef struct other_listener {
  pid_t pid;
  int stop_fd; /* closing it lets the child exit */
} other_listener_t;

/*
 * Fork a child that drops to uid/gid nobody, listens at path and waits
 * until the parent closes the stop pipe; returns once it listens.
 */
static void listen_as_nobody(other_listener_t *l, const char *path) {
  int ready[2], stop[2];
  assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
  assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(ready[0]);
    close(stop[1]);
    if (setgroups(0, NULL) != 0 || setgid(NOBODY_UID) != 0 ||
        setuid(NOBODY_UID) != 0) {
      _exit(2);
    }
    struct sockaddr_un a;
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd < 0 || bind(fd, (const struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(fd, 4) != 0 || write(ready[1], "r", 1) != 1) {
      _exit(3);
    }
    char c;
    while (read(stop[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(ready[1]);
  close(stop[0]);
  char c = 0;
  assert_int_equal(read(ready[0], &c, 1), 1);
  close(ready[0]);
  l->pid = pid;
  l->stop_fd = stop[1];
}

static void stop_listener(other_listener_t *l) {
  int status = 0;
  close(l->stop_fd);
  assert_int_equal(waitpid(l->pid, &status, 0), l->pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- whom the client accepts ---------------------------------------------- */

static void mbox_client_test_connect_own_uid_accepted(void **state) {
  (void)state;
  tmp_t t;
  rot_mbox_client_t c;
  tmp_make(&t);
  unsetenv(ROT_MBOX_DAEMON_UID_ENV);
  int lfd = listen_at(t.sock);
  assert_int_equal(rot_mbox_client_connect(&c, t.sock, 0), ROT_OK);
  assert_int_equal(c.peer_uid, (uint32_t)geteuid());
  assert_true(c.fd >= 0);
  rot_mbox_client_close(&c);
  close(lfd);
  tmp_remove(&t);
}

static void mbox_client_test_connect_other_uid_refused(void **state) {
  (void)state;
  if (geteuid() != 0) {
    skip(); /* only root can run a listener as another user */
  }
  tmp_t t;
  rot_mbox_client_t c;
  other_listener_t l;
  tmp_make(&t);
  assert_int_equal(chmod(t.dir, 0777), 0);
  unsetenv(ROT_MBOX_DAEMON_UID_ENV);
  listen_as_nobody(&l, t.sock);
  assert_int_equal(rot_mbox_client_connect(&c, t.sock, 0),
                   ROT_ERROR_HOST_PEER_UID);
  assert_int_equal(c.peer_uid, NOBODY_UID);
  assert_int_equal(c.fd, -1);
  assert_null(c.tx);
  /* Named on purpose: accepted. */
  assert_int_equal(setenv(ROT_MBOX_DAEMON_UID_ENV, "65534", 1), 0);
  assert_int_equal(rot_mbox_client_connect(&c, t.sock, 0), ROT_OK);
  assert_int_equal(c.peer_uid, NOBODY_UID);
  rot_mbox_client_close(&c);
  /* Naming someone else changes nothing. */
  assert_int_equal(setenv(ROT_MBOX_DAEMON_UID_ENV, "1000", 1), 0);
  assert_int_equal(rot_mbox_client_connect(&c, t.sock, 0),
                   ROT_ERROR_HOST_PEER_UID);
  unsetenv(ROT_MBOX_DAEMON_UID_ENV);
  stop_listener(&l);
  tmp_remove(&t);
}

static void mbox_client_test_connect_bad_daemon_uid_env(void **state) {
  (void)state;
  static const char *const kBad[] = {"nobody", "-1", "1x", " 1", "0x10",
                                     "4294967295", "99999999999"};
  tmp_t t;
  rot_mbox_client_t c;
  tmp_make(&t);
  int lfd = listen_at(t.sock);
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    assert_int_equal(setenv(ROT_MBOX_DAEMON_UID_ENV, kBad[i], 1), 0);
    assert_int_equal(rot_mbox_client_connect(&c, t.sock, 0),
                     ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c.fd, -1);
  }
  /* Empty is the same as unset. */
  assert_int_equal(setenv(ROT_MBOX_DAEMON_UID_ENV, "", 1), 0);
  assert_int_equal(rot_mbox_client_connect(&c, t.sock, 0), ROT_OK);
  rot_mbox_client_close(&c);
  unsetenv(ROT_MBOX_DAEMON_UID_ENV);
  close(lfd);
  tmp_remove(&t);
}

static void mbox_client_test_connect_nothing_listening(void **state) {
  (void)state;
  rot_mbox_client_t c;
  assert_int_equal(rot_mbox_client_connect(&c, "/nonexistent/rotd.sock", 0),
                   ROT_ERROR_MAILBOX_CONNECT);
  assert_int_equal(c.sys_errno, ENOENT);
  assert_int_equal(c.peer_uid, ROT_MBOX_UID_UNKNOWN);
  assert_int_equal(rot_mbox_client_connect(NULL, "/x", 0),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_mbox_client_connect(&c, NULL, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* ---- which socket the client talks to ------------------------------------- */

static void mbox_client_test_default_socket_pinned_before_chdir(void **state) {
  (void)state;
  /* The first call fixes the path; neither chdir nor setenv moves it. */
  tmp_t a, b;
  rot_mbox_client_t c;
  char cwd[4096];
  tmp_make(&a);
  tmp_make(&b);
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(a.dir), 0);
  int lfd = listen_at("rotd.sock");
  assert_int_equal(setenv("ROT_SOCKET", "rotd.sock", 1), 0);
  const char *def = rot_mbox_default_socket();
  assert_string_equal(def, a.sock);
  assert_int_equal(chdir(b.dir), 0);
  assert_int_equal(setenv("ROT_SOCKET", "/elsewhere.sock", 1), 0);
  assert_string_equal(rot_mbox_default_socket(), a.sock);
  rot_error_t err = rot_mbox_client_connect(&c, rot_mbox_default_socket(), 0);
  assert_int_equal(chdir(cwd), 0);
  unsetenv("ROT_SOCKET");
  assert_int_equal(err, ROT_OK);
  rot_mbox_client_close(&c);
  close(lfd);
  tmp_remove(&a);
  tmp_remove(&b);
}

static void mbox_client_test_socket_absolute(void **state) {
  (void)state;
  char out[ROT_MBOX_SOCKET_PATH_MAX];
  char cwd[4096];
  char want[4200];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(rot_mbox_socket_absolute("/run/rotd.sock", out, sizeof(out)),
                   ROT_OK);
  assert_string_equal(out, "/run/rotd.sock");
  snprintf(want, sizeof(want), "%s/run/rotd.sock", cwd);
  rot_error_t err = rot_mbox_socket_absolute("run/rotd.sock", out, sizeof(out));
  if (strlen(want) < sizeof(out)) {
    assert_int_equal(err, ROT_OK);
    assert_string_equal(out, want);
  } else {
    assert_int_equal(err, ROT_ERROR_INVALID_ARGUMENT);
  }
  /* From "/", no doubled slash. */
  assert_int_equal(chdir("/"), 0);
  err = rot_mbox_socket_absolute("run/rotd.sock", out, sizeof(out));
  assert_int_equal(chdir(cwd), 0);
  assert_int_equal(err, ROT_OK);
  assert_string_equal(out, "/run/rotd.sock");
}

static void mbox_client_test_socket_absolute_too_long_or_bad(void **state) {
  (void)state;
  char out[ROT_MBOX_SOCKET_PATH_MAX];
  char longp[ROT_MBOX_SOCKET_PATH_MAX + 1];
  memset(longp, 'a', sizeof(longp) - 1);
  longp[0] = '/';
  longp[sizeof(longp) - 1] = '\0';
  assert_int_equal(rot_mbox_socket_absolute(longp, out, sizeof(out)),
                   ROT_ERROR_INVALID_ARGUMENT);
  longp[ROT_MBOX_SOCKET_PATH_MAX - 1] = '\0'; /* 107 bytes: fits */
  assert_int_equal(rot_mbox_socket_absolute(longp, out, sizeof(out)), ROT_OK);
  assert_int_equal(rot_mbox_socket_absolute("/a/b", out, 4),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_mbox_socket_absolute(NULL, out, sizeof(out)),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_mbox_socket_absolute("", out, sizeof(out)),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_mbox_socket_absolute("x", NULL, 8),
                   ROT_ERROR_INVALID_ARGUMENT);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* A refused connection must not kill the test with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mbox_client_test_default_socket_pinned_before_chdir),
      cmocka_unit_test(mbox_client_test_connect_own_uid_accepted),
      cmocka_unit_test(mbox_client_test_connect_other_uid_refused),
      cmocka_unit_test(mbox_client_test_connect_bad_daemon_uid_env),
      cmocka_unit_test(mbox_client_test_connect_nothing_listening),
      cmocka_unit_test(mbox_client_test_socket_absolute),
      cmocka_unit_test(mbox_client_test_socket_absolute_too_long_or_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
