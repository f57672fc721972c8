/*
 * HTTP load client for the host agent's attestation figures in `make
 * bench` (not a test): C keep-alive connections on loopback, each with one
 * request in flight (a closed loop: a client sends its next request when
 * the answer to the last one is in), every request with a fresh unique
 * nonce. One thread, epoll.
 *
 *   bench_load --port N --path PREFIX --conns N --seconds S [--warmup S]
 *              [--verify REFVALS TRUST_DIR] [--samples K]
 *
 * PREFIX is the request path up to the nonce's value
 * ("/v1/attestation?pcrs=0,1,4,5,7&batch=1&nonce="); the client appends
 * 64 hex digits: 16 random bytes drawn once, an 8-byte counter, 8 more
 * pseudo-random bytes, so no two requests of a run share a nonce.
 *
 * A response counts as a success only when its status is 200 and its body
 * carries the request's nonce; K samples spread over the measured period
 * are kept and, after the run (outside the timing), verified in-process
 * by attest_verify against the reference values and trust anchors with
 * the nonce the client sent: a run whose samples do not all verify exits
 * non-zero. Prints one line of key=value pairs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "attest/evidence.h"
#include "attest/refvals.h"
#include "attest/verify.h"

#define NONCE_LEN 32u
#define BODY_MAX (4u << 20)
#define CONNS_MAX 4096u
#define SAMPLES_MAX 64u

static void die(const char *what) {
  fprintf(stderr, "bench_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct conn {
  int fd;
  char req[1200];
  size_t req_len, req_off;
  uint8_t nonce[NONCE_LEN];
  char nonce_hex[2 * NONCE_LEN + 1];
  char *in;
  size_t in_len, in_cap;
  double t0;
} conn_t;

typedef struct sample {
  uint8_t nonce[NONCE_LEN];
  char *body;
  size_t len;
} sample_t;

static struct {
  uint16_t port;
  const char *path;
  unsigned conns;
  double seconds, warmup;
  const char *refvals, *trust;
  unsigned nsamples;
  int ep;
  uint8_t prefix[16];
  uint64_t counter, rng;
  /* the measured period */
  double t_start, t_end;
  double *lat_ms;
  size_t nlat, cap_lat;
  uint64_t ok, errors;
  sample_t samples[SAMPLES_MAX];
  unsigned have;
  char first_error[200];
} g;

static uint64_t next_rand(void) {
  /* xorshift64*: spread only, the uniqueness comes from the counter. */
  g.rng ^= g.rng >> 12;
  g.rng ^= g.rng << 25;
  g.rng ^= g.rng >> 27;
  return g.rng * 0x2545F4914F6CDD1DULL;
}

static void new_request(conn_t *c) {
  static const char hx[] = "0123456789abcdef";
  uint64_t n = g.counter++, r = next_rand();
  memcpy(c->nonce, g.prefix, 16);
  for (int i = 0; i < 8; i++) {
    c->nonce[16 + i] = (uint8_t)(n >> (56 - 8 * i));
    c->nonce[24 + i] = (uint8_t)(r >> (8 * i));
  }
  for (unsigned i = 0; i < NONCE_LEN; i++) {
    c->nonce_hex[2 * i] = hx[c->nonce[i] >> 4];
    c->nonce_hex[2 * i + 1] = hx[c->nonce[i] & 15];
  }
  c->nonce_hex[2 * NONCE_LEN] = '\0';
  int k = snprintf(c->req, sizeof(c->req),
                   "GET %s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", g.path,
                   c->nonce_hex);
  if (k <= 0 || (size_t)k >= sizeof(c->req)) {
    errno = 0;
    die("request line too long");
  }
  c->req_len = (size_t)k;
  c->req_off = 0;
  c->in_len = 0;
  c->t0 = now_s();
}

static void open_conn(conn_t *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    die("socket");
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(g.port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
      errno != EINPROGRESS) {
    die("connect");
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
                           .data.ptr = c};
  if (epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
    die("epoll_ctl");
  }
  new_request(c);
}

static void note_error(const char *fmt, const char *detail) {
  g.errors++;
  if (g.first_error[0] == '\0') {
    snprintf(g.first_error, sizeof(g.first_error), fmt, detail);
  }
}

static void reopen(conn_t *c) {
  epoll_ctl(g.ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  open_conn(c);
}

static int measured(double t) { return t >= g.t_start && t < g.t_end; }

/* A whole response is in: judge it, keep the figures, send the next. */
static void complete(conn_t *c, int status, const char *body, size_t blen) {
  double t = now_s();
  if (measured(c->t0) && measured(t)) {
    int has_nonce = memmem(body, blen, c->nonce_hex, 2 * NONCE_LEN) != NULL;
    if (status == 200 && has_nonce) {
      g.ok++;
      if (g.nlat == g.cap_lat) {
        g.cap_lat = g.cap_lat ? 2 * g.cap_lat : 65536;
        g.lat_ms = realloc(g.lat_ms, g.cap_lat * sizeof(double));
        if (g.lat_ms == NULL) {
          die("out of memory");
        }
      }
      g.lat_ms[g.nlat++] = (t - c->t0) * 1e3;
      /* Samples spread evenly over the measured period. */
      if (g.have < g.nsamples &&
          t - g.t_start >= g.have * (g.t_end - g.t_start) / g.nsamples) {
        sample_t *s = &g.samples[g.have++];
        memcpy(s->nonce, c->nonce, NONCE_LEN);
        s->body = malloc(blen + 1);
        if (s->body == NULL) {
          die("out of memory");
        }
        memcpy(s->body, body, blen);
        s->body[blen] = '\0';
        s->len = blen;
      }
    } else {
      char st[16];
      snprintf(st, sizeof(st), "%d", status);
      note_error(status == 200 ? "200 without the request's nonce%s"
                               : "status %s", status == 200 ? "" : st);
    }
  }
  new_request(c);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
                           .data.ptr = c};
  epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Parses what has arrived; 1 when a response was complete. */
static int parse(conn_t *c) {
  char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
  if (end == NULL) {
    return 0;
  }
  size_t hlen = (size_t)(end - c->in) + 4;
  int status = 0;
  if (c->in_len < 12 || sscanf(c->in, "HTTP/1.%*d %d", &status) != 1) {
    note_error("malformed status line%s", "");
    reopen(c);
    return 0;
  }
  long long clen = -1;
  for (char *p = c->in; p < end;) {
    char *nl = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
    if (nl == NULL) {
      break;
    }
    if (strncasecmp(p, "Content-Length:", 15) == 0) {
      clen = strtoll(p + 15, NULL, 10);
    }
    p = nl + 2;
  }
  if (clen < 0 || (unsigned long long)clen > BODY_MAX) {
    note_error("response without a usable Content-Length%s", "");
    reopen(c);
    return 0;
  }
  if (c->in_len < hlen + (size_t)clen) {
    return 0;
  }
  if (c->in_len != hlen + (size_t)clen) {
    note_error("bytes after the response%s", "");
    reopen(c);
    return 0;
  }
  int close_after = memmem(c->in, hlen, "Connection: close", 17) != NULL;
  complete(c, status, c->in + hlen, (size_t)clen);
  if (close_after) {
    reopen(c);
  }
  return 1;
}

static void on_event(conn_t *c, uint32_t events) {
  if (c->req_off < c->req_len && (events & EPOLLOUT)) {
    ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off,
                     MSG_NOSIGNAL);
    if (n > 0) {
      c->req_off += (size_t)n;
      if (c->req_off == c->req_len) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev);
      }
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      if (measured(now_s())) {
        note_error("send failed: %s", strerror(errno));
      }
      reopen(c);
      return;
    }
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    for (;;) {
      if (c->in_cap - c->in_len < 65536) {
        size_t cap = c->in_cap ? 2 * c->in_cap : 131072;
        if (cap > BODY_MAX + 65536) {
          note_error("response over the size limit%s", "");
          reopen(c);
          return;
        }
        c->in = realloc(c->in, cap);
        if (c->in == NULL) {
          die("out of memory");
        }
        c->in_cap = cap;
      }
      ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
      if (n > 0) {
        c->in_len += (size_t)n;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        break;
      }
      /* Closed (or failed) with an answer pending. */
      if (measured(now_s())) {
        note_error("connection closed by the server%s", "");
      }
      reopen(c);
      return;
    }
    parse(c);
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(double p) {
  if (g.nlat == 0) {
    return 0;
  }
  size_t i = (size_t)(p * (double)(g.nlat - 1) + 0.5);
  return g.lat_ms[i];
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    die(path);
  }
  char *p = malloc(BODY_MAX);
  if (p == NULL) {
    die("out of memory");
  }
  *len = fread(p, 1, BODY_MAX - 1, f);
  fclose(f);
  p[*len] = '\0';
  return p;
}

/* The kept samples through the verifier; how many passed every check. */
static unsigned verify_samples(double *mean_batch) {
  static attest_policy_t pol;
  size_t len;
  char *j = slurp(g.refvals, &len);
  char why[256] = "";
  if (attest_refvals_decode(j, len, &pol, why, sizeof(why)) != ROT_OK) {
    errno = 0;
    die(why);
  }
  free(j);
  attest_trust_t *trust = NULL;
  if (attest_trust_load(g.trust, &trust, why, sizeof(why)) != ROT_OK) {
    errno = 0;
    die(why);
  }
  unsigned good = 0;
  double batch = 0;
  for (unsigned i = 0; i < g.have; i++) {
    static attest_evidence_t ev;
    static attest_result_t res;
    sample_t *s = &g.samples[i];
    if (attest_evidence_decode(s->body, s->len, &ev, why, sizeof(why)) !=
        ROT_OK) {
      fprintf(stderr, "bench_load: sample %u does not decode: %s\n", i, why);
      continue;
    }
    batch += ev.batched ? ev.batch_size : 1;
    attest_verify_opts_t o = {.policy = &pol, .trust_dir = g.trust,
                              .trust = trust, .nonce = s->nonce,
                              .nonce_len = NONCE_LEN};
    if (attest_verify(&o, &ev, &res) == ROT_OK &&
        res.trusted == HARDENED_TRUE) {
      good++;
    } else {
      for (int k = 0; k < ATTEST_CHECK_COUNT; k++) {
        if (res.checks[k].status == ATTEST_FAIL) {
          fprintf(stderr, "bench_load: sample %u: check %s: %s\n", i,
                  attest_check_name(k), res.checks[k].reason);
        }
      }
    }
    attest_evidence_free(&ev);
  }
  attest_trust_free(trust);
  *mean_batch = g.have ? batch / g.have : 0;
  return good;
}

static void usage(void) {
  fprintf(stderr,
          "usage: bench_load --port N --path PREFIX --conns N --seconds S "
          "[--warmup S] [--verify REFVALS TRUST_DIR] [--samples K]\n");
  exit(2);
}

int main(int argc, char **argv) {
  g.warmup = 0.5;
  g.nsamples = 8;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (strcmp(a, "--port") == 0 && more) {
      g.port = (uint16_t)atoi(argv[++i]);
    } else if (strcmp(a, "--path") == 0 && more) {
      g.path = argv[++i];
    } else if (strcmp(a, "--conns") == 0 && more) {
      g.conns = (unsigned)atoi(argv[++i]);
    } else if (strcmp(a, "--seconds") == 0 && more) {
      g.seconds = atof(argv[++i]);
    } else if (strcmp(a, "--warmup") == 0 && more) {
      g.warmup = atof(argv[++i]);
    } else if (strcmp(a, "--samples") == 0 && more) {
      g.nsamples = (unsigned)atoi(argv[++i]);
    } else if (strcmp(a, "--verify") == 0 && i + 2 < argc) {
      g.refvals = argv[++i];
      g.trust = argv[++i];
    } else {
      usage();
    }
  }
  if (g.port == 0 || g.path == NULL || g.conns == 0 || g.conns > CONNS_MAX ||
      g.seconds <= 0 || g.warmup < 0 || g.nsamples > SAMPLES_MAX) {
    usage();
  }
  if (g.refvals == NULL) {
    g.nsamples = 0;
  }
  if (getrandom(g.prefix, sizeof(g.prefix), 0) != (ssize_t)sizeof(g.prefix) ||
      getrandom(&g.rng, sizeof(g.rng), 0) != (ssize_t)sizeof(g.rng)) {
    die("getrandom");
  }
  g.rng |= 1;
  g.ep = epoll_create1(EPOLL_CLOEXEC);
  if (g.ep < 0) {
    die("epoll_create1");
  }
  double t = now_s();
  g.t_start = t + g.warmup;
  g.t_end = g.t_start + g.seconds;
  conn_t *cs = calloc(g.conns, sizeof(*cs));
  if (cs == NULL) {
    die("out of memory");
  }
  for (unsigned i = 0; i < g.conns; i++) {
    open_conn(&cs[i]);
  }
  struct epoll_event evs[256];
  while (now_s() < g.t_end) {
    int n = epoll_wait(g.ep, evs, 256, 50);
    if (n < 0 && errno != EINTR) {
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      on_event(evs[i].data.ptr, evs[i].events);
    }
  }
  for (unsigned i = 0; i < g.conns; i++) {
    close(cs[i].fd);
    free(cs[i].in);
  }
  free(cs);
  qsort(g.lat_ms, g.nlat, sizeof(double), cmp_double);
  double mean_batch = 0;
  unsigned verified = g.nsamples ? verify_samples(&mean_batch) : 0;
  printf("conns=%u ok=%llu errors=%llu per_s=%.1f p50_ms=%.3f p99_ms=%.3f "
         "samples=%u verified=%u mean_batch=%.1f\n",
         g.conns, (unsigned long long)g.ok, (unsigned long long)g.errors,
         (double)g.ok / g.seconds, pct(0.50), pct(0.99), g.have, verified,
         mean_batch);
  if (g.errors != 0) {
    fprintf(stderr, "bench_load: %llu failed responses (first: %s)\n",
            (unsigned long long)g.errors, g.first_error);
  }
  for (unsigned i = 0; i < g.have; i++) {
    free(g.samples[i].body);
  }
  free(g.lat_ms);
  close(g.ep);
  return verified == g.have && g.ok > 0 ? 0 : 1;
}
