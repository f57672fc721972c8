/*
 * Property: flipping any single bit anywhere in a valid signed image makes
 * rot_image_verify fail. Every bit is tried (no sampling), each through the
 * whole verifier and the real mbedTLS backend.
 *
 * Two things keep it fast without skipping anything:
 *  - ECDSA verification is a pure function of (key, digest, signature), so
 *    the answer for a triple that already verified is reused. Only the two
 *    triples of the unflipped image ever repeat (the manifest's root
 *    signature when the flip is outside the manifest, the image signature
 *    when the flip is in the payload); every other triple goes to mbedTLS.
 *  - The bits are split across one worker process per CPU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rot/image.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "test_keys.h"

#define PAYLOAD_LEN 48u
#define MAX_WORKERS 8
#define MAX_CODES 64

/* ---- memoising view of the crypto backend ------------------------------ */

typedef struct memo_entry {
  uint8_t pub[ROT_P384_PUBKEY_LEN];
  uint8_t digest[ROT_SHA384_LEN];
  uint8_t sig[ROT_P384_SIG_LEN];
} memo_entry_t;

static const rot_crypto_t *g_real;
static rot_crypto_t g_memo_crypto;
static memo_entry_t g_memo[4];
static size_t g_memo_n;
static unsigned g_backend_calls;

static rot_error_t memo_verify(const rot_crypto_t *c,
                               const uint8_t pub[ROT_P384_PUBKEY_LEN],
                               const uint8_t *digest, size_t digest_len,
                               const uint8_t sig[ROT_P384_SIG_LEN]) {
  (void)c;
  if (digest_len == ROT_SHA384_LEN) {
    for (size_t i = 0; i < g_memo_n; i++) {
      const memo_entry_t *e = &g_memo[i];
      if (memcmp(e->pub, pub, sizeof(e->pub)) == 0 &&
          memcmp(e->digest, digest, sizeof(e->digest)) == 0 &&
          memcmp(e->sig, sig, sizeof(e->sig)) == 0) {
        return ROT_OK;
      }
    }
  }
  g_backend_calls++;
  rot_error_t err = g_real->ecdsa_p384_verify(g_real, pub, digest, digest_len,
                                              sig);
  /* Only successes are kept: a failed triple never comes back. */
  if (err == ROT_OK && digest_len == ROT_SHA384_LEN &&
      g_memo_n < ROT_ARRAY_SIZE(g_memo)) {
    memo_entry_t *e = &g_memo[g_memo_n++];
    memcpy(e->pub, pub, sizeof(e->pub));
    memcpy(e->digest, digest, sizeof(e->digest));
    memcpy(e->sig, sig, sizeof(e->sig));
  }
  return err;
}

static const rot_crypto_t *memo_crypto(void) {
  g_real = test_crypto();
  g_memo_crypto = *g_real;
  g_memo_crypto.ecdsa_p384_verify = memo_verify;
  g_memo_n = 0;
  g_backend_calls = 0;
  return &g_memo_crypto;
}

/* ---- one worker's share of the bits ------------------------------------ */

typedef struct tally {
  int32_t code;
  uint32_t count;
} tally_t;

typedef struct report {
  uint32_t bits_tried;
  uint32_t accepted; /* flips that still verified: must stay 0 */
  uint32_t first_accepted_bit;
  uint32_t backend_calls;
  uint32_t n_codes;
  tally_t codes[MAX_CODES];
} report_t;

static void report_add(report_t *r, rot_error_t code) {
  for (uint32_t i = 0; i < r->n_codes; i++) {
    if (r->codes[i].code == (int32_t)code) {
      r->codes[i].count++;
      return;
    }
  }
  if (r->n_codes < MAX_CODES) {
    r->codes[r->n_codes].code = (int32_t)code;
    r->codes[r->n_codes].count = 1;
    r->n_codes++;
  }
}

/*
 * Flip bits worker, worker + workers, ... of img one at a time. Runs in a
 * child process, so it reports through r rather than cmocka assertions.
 */
static void flip_share(const rot_crypto_t *c, const rot_policy_t *policy,
                       uint8_t *img, size_t len, uint32_t type,
                       unsigned worker, unsigned workers, report_t *r) {
  memset(r, 0, sizeof(*r));
  unsigned calls0 = g_backend_calls;
  for (size_t bit = worker; bit < len * 8u; bit += workers) {
    rot_verified_image_t v;
    img[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    rot_error_t err = rot_image_verify(c, policy, img, len, type, &v);
    img[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    r->bits_tried++;
    if (err == ROT_OK || v.token == ROT_VERIFY_TOKEN_VALID ||
        rot_verified_check(&v) == ROT_OK) {
      if (r->accepted++ == 0) {
        r->first_accepted_bit = (uint32_t)bit;
      }
    }
    report_add(r, err);
  }
  r->backend_calls = g_backend_calls - calls0;
}

static int write_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w <= 0) {
      return -1;
    }
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  uint8_t *b = p;
  while (n > 0) {
    ssize_t r = read(fd, b, n);
    if (r <= 0) {
      return -1;
    }
    b += r;
    n -= (size_t)r;
  }
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned worker_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) {
    return 1;
  }
  return n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
}

/* Flip every bit of a signed image; every flip must be rejected. */
static void flip_every_bit(uint8_t *img, size_t len, uint32_t type) {
  const rot_policy_t *policy = &test_keys()->policy;
  const rot_crypto_t *c = memo_crypto();
  rot_verified_image_t v;

  /* Vacuous unless the unflipped image passes; this also primes the memo
   * with its two signature triples before the workers fork. */
  assert_int_equal(rot_image_verify(c, policy, img, len, type, &v), ROT_OK);
  assert_int_equal(g_memo_n, 2);

  unsigned workers = worker_count();
  int fds[MAX_WORKERS];
  pid_t pids[MAX_WORKERS];
  double t0 = now_s();
  fflush(NULL); /* nothing buffered may be written twice */
  for (unsigned w = 0; w < workers; w++) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      report_t r;
      close(p[0]);
      flip_share(c, policy, img, len, type, w, workers, &r);
      _exit(write_all(p[1], &r, sizeof(r)) == 0 ? 0 : 3);
    }
    close(p[1]);
    fds[w] = p[0];
    pids[w] = pid;
  }

  report_t total;
  memset(&total, 0, sizeof(total));
  int broken = 0;
  for (unsigned w = 0; w < workers; w++) {
    report_t r;
    int status = 0;
    int got = read_all(fds[w], &r, sizeof(r));
    close(fds[w]);
    assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
    /* A sanitizer report or a crash in a worker fails the property too. */
    if (got != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      broken = 1;
      continue;
    }
    total.bits_tried += r.bits_tried;
    total.backend_calls += r.backend_calls;
    if (r.accepted > 0 && total.accepted == 0) {
      total.first_accepted_bit = r.first_accepted_bit;
    }
    total.accepted += r.accepted;
    for (uint32_t i = 0; i < r.n_codes; i++) {
      for (uint32_t n = 0; n < r.codes[i].count; n++) {
        report_add(&total, (rot_error_t)r.codes[i].code);
      }
    }
  }
  double dt = now_s() - t0;

  assert_false(broken);
  if (total.accepted != 0) {
    fail_msg("%u flip(s) still verify, first at bit %u (byte %u)",
             total.accepted, total.first_accepted_bit,
             total.first_accepted_bit / 8);
  }
  assert_int_equal(total.bits_tried, len * 8u);
  assert_int_equal(rot_image_verify(c, policy, img, len, type, &v), ROT_OK);

  print_message("bitflip: %u of %u bits of a %zu-byte %s image rejected; "
                "%u ECDSA verifies in mbedTLS; %u worker(s); %.2f s\n",
                total.bits_tried, (unsigned)(len * 8u), len,
                type == ROT_IMAGE_TYPE_ANY ? "any-type" : rot_image_type_name(type),
                total.backend_calls, workers, dt);
  for (uint32_t i = 0; i < total.n_codes; i++) {
    print_message("bitflip: %6u  %s\n", total.codes[i].count,
                  rot_error_name((rot_error_t)total.codes[i].code));
  }
}

static void image_test_verify_every_single_bit_flip_fails(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_default(ROT_IMAGE_TYPE_HYPERVISOR, PAYLOAD_LEN,
                                    &len);
  /* Any type accepted: the flip alone, not the caller's expectation, must
   * cause the rejection. */
  flip_every_bit(img, len, ROT_IMAGE_TYPE_ANY);
  free(img);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(image_test_verify_every_single_bit_flip_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
