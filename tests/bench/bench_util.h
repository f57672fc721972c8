/*
 * Timing and raw mbedTLS helpers shared by the benchmark programs of
 * tests/bench/; not a test. Define BENCH_NAME (the program's name, for its
 * error messages) before including.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/sha512.h>

#include "rot/crypto.h"

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_util.h"
#endif

/* A figure measured after a failed step would be a lie: say which, stop. */
static inline void die(const char *what, long code) {
  fprintf(stderr, BENCH_NAME ": %s failed (0x%lx)\n", what,
          (unsigned long)code);
  exit(1);
}

static inline double now_s(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    die("clock_gettime", errno);
  }
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef void (*bench_fn)(void *arg);

typedef struct bench_timing {
  double ms; /* mean wall time per run */
  unsigned runs;
} bench_timing_t;

/*
 * One untimed warm-up run (caches, lazy setup), then repeat until both
 * floors are met: min_seconds of wall time and min_runs runs.
 */
static inline bench_timing_t bench_time(bench_fn fn, void *arg,
                                        double min_seconds,
                                        unsigned min_runs) {
  fn(arg);
  unsigned runs = 0;
  double start = now_s();
  double elapsed;
  do {
    fn(arg);
    runs++;
    elapsed = now_s() - start;
  } while (elapsed < min_seconds || runs < min_runs);
  bench_timing_t t = {elapsed * 1e3 / runs, runs};
  return t;
}

/* Raw mbedTLS SHA-384 (SHA-512 with the 384 flag), no rot layer between. */
static inline void bench_sha384(const uint8_t *data, size_t len,
                                uint8_t out[ROT_SHA384_LEN]) {
  uint8_t full[64];
  int rc = mbedtls_sha512_ret(data, len, full, 1);
  if (rc != 0) {
    die("mbedtls_sha512_ret", rc);
  }
  memcpy(out, full, ROT_SHA384_LEN);
}

/*
 * A P-384 public key and one r || s signature, loaded once so that a timed
 * verify pays for the verify alone: the floor any verifier must pay.
 */
typedef struct bench_p384 {
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  mbedtls_mpi r, s;
} bench_p384_t;

static inline void bench_p384_load(bench_p384_t *k,
                                   const uint8_t pub[ROT_P384_PUBKEY_LEN],
                                   const uint8_t sig[ROT_P384_SIG_LEN]) {
  mbedtls_ecp_group_init(&k->grp);
  mbedtls_ecp_point_init(&k->q);
  mbedtls_mpi_init(&k->r);
  mbedtls_mpi_init(&k->s);
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  sec1[0] = 0x04; /* uncompressed point */
  memcpy(sec1 + 1, pub, ROT_P384_PUBKEY_LEN);
  int rc;
  if ((rc = mbedtls_ecp_group_load(&k->grp, MBEDTLS_ECP_DP_SECP384R1)) != 0 ||
      (rc = mbedtls_ecp_point_read_binary(&k->grp, &k->q, sec1, sizeof(sec1))) != 0 ||
      (rc = mbedtls_mpi_read_binary(&k->r, sig, ROT_P384_SCALAR_LEN)) != 0 ||
      (rc = mbedtls_mpi_read_binary(&k->s, sig + ROT_P384_SCALAR_LEN,
                                    ROT_P384_SCALAR_LEN)) != 0) {
    die("mbedtls key setup", rc);
  }
}

/* Verify the loaded signature over digest; a mismatch dies naming what. */
static inline void bench_p384_verify(bench_p384_t *k,
                                     const uint8_t digest[ROT_SHA384_LEN],
                                     const char *what) {
  int rc = mbedtls_ecdsa_verify(&k->grp, digest, ROT_SHA384_LEN, &k->q, &k->r,
                                &k->s);
  if (rc != 0) {
    die(what, rc);
  }
}

static inline void bench_p384_free(bench_p384_t *k) {
  mbedtls_ecp_group_free(&k->grp);
  mbedtls_ecp_point_free(&k->q);
  mbedtls_mpi_free(&k->r);
  mbedtls_mpi_free(&k->s);
}

#endif
