/*
 * A slowed TPM for `make bench` (not a test, bench only): a proxy on a
 * Unix socket in front of swtpm's server socket that holds every
 * TPM2_Quote command (TPM2_CC_Quote, 0x158) for a fixed delay before
 * passing it on, so the agent's batching can be measured against a TPM
 * that takes as long per quote as slow hardware does. Everything else
 * passes untouched. Commands are framed by the TPM header (tag u16, size
 * u32, command code u32, big-endian); one command, then its response, in
 * lock step per connection, one thread per connection.
 *
 *   bench_tpmslow LISTEN_SOCK UPSTREAM_SOCK DELAY_MS
 *
 * tpm2-tss's swtpm TCTI also needs LISTEN_SOCK.ctrl: the caller links it
 * to swtpm's own control socket. Prints "ready" once listening; runs until
 * killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TPM_CC_QUOTE 0x158u
#define FRAME_MAX 8192u

static const char *g_upstream;
static long g_delay_ms;

/* All n bytes read into rd, or written from wr (exactly one of the two). */
static int io_full(int fd, uint8_t *rd, const uint8_t *wr, size_t n) {
  while (n > 0) {
    ssize_t k = wr != NULL ? write(fd, wr, n) : read(fd, rd, n);
    if (k < 0 && errno == EINTR) {
      continue;
    }
    if (k <= 0) {
      return -1;
    }
    if (wr != NULL) {
      wr += k;
    } else {
      rd += k;
    }
    n -= (size_t)k;
  }
  return 0;
}

static int read_full(int fd, uint8_t *p, size_t n) { return io_full(fd, p, NULL, n); }

static int write_full(int fd, const uint8_t *p, size_t n) {
  return io_full(fd, NULL, p, n);
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One TPM frame (command or response) into buf; its length, or 0. */
static size_t read_frame(int fd, uint8_t *buf) {
  if (read_full(fd, buf, 10) != 0) {
    return 0;
  }
  uint32_t size = be32(buf + 2);
  if (size < 10 || size > FRAME_MAX || read_full(fd, buf + 10, size - 10) != 0) {
    return 0;
  }
  return size;
}

static int dial(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static void *serve(void *arg) {
  int cfd = (int)(intptr_t)arg;
  int ufd = dial(g_upstream);
  static __thread uint8_t buf[FRAME_MAX];
  while (ufd >= 0) {
    size_t n = read_frame(cfd, buf);
    if (n == 0) {
      break;
    }
    if (be32(buf + 6) == TPM_CC_QUOTE) {
      struct timespec d = {g_delay_ms / 1000, (g_delay_ms % 1000) * 1000000L};
      while (nanosleep(&d, &d) != 0 && errno == EINTR) {
      }
    }
    if (write_full(ufd, buf, n) != 0 || (n = read_frame(ufd, buf)) == 0 ||
        write_full(cfd, buf, n) != 0) {
      break;
    }
  }
  if (ufd >= 0) {
    close(ufd);
  }
  close(cfd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench_tpmslow LISTEN_SOCK UPSTREAM_SOCK DELAY_MS\n");
    return 2;
  }
  g_upstream = argv[2];
  g_delay_ms = atol(argv[3]);
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (lfd < 0 || strlen(argv[1]) >= sizeof(sa.sun_path) || g_delay_ms < 0) {
    fprintf(stderr, "bench_tpmslow: bad arguments\n");
    return 1;
  }
  strcpy(sa.sun_path, argv[1]);
  unlink(argv[1]);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0) {
    perror("bench_tpmslow: listen");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      perror("bench_tpmslow: accept");
      return 1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, serve, (void *)(intptr_t)cfd) != 0) {
      close(cfd);
      continue;
    }
    pthread_detach(th);
  }
}
