/*
 * Nonce batch tree (attest/merkle.h): every leaf's path checks against the
 * root, and nothing else does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "attest/merkle.h"

#define MAXN 40

static uint8_t bytes[ATTEST_BATCH_MAX + 1][32];
static attest_nonce_t nonces[ATTEST_BATCH_MAX + 1];

static void fill(size_t n) {
  for (size_t i = 0; i < n; i++) {
    memset(bytes[i], 0, 32);
    bytes[i][0] = (uint8_t)i;
    bytes[i][1] = (uint8_t)(i >> 8);
    bytes[i][31] = 0xa5;
    nonces[i].p = bytes[i];
    nonces[i].len = 32;
  }
}

static void merkle_test_check_every_leaf_of_every_size(void **state) {
  (void)state;
  fill(MAXN);
  for (size_t n = 1; n <= MAXN; n++) {
    uint8_t root[32];
    assert_int_equal(attest_merkle_root(nonces, n, root), ROT_OK);
    for (size_t i = 0; i < n; i++) {
      uint8_t path[ATTEST_MERKLE_MAX_DEPTH][32];
      uint32_t len = 0;
      assert_int_equal(attest_merkle_path(nonces, n, i, path, &len), ROT_OK);
      assert_int_equal(attest_merkle_check(bytes[i], 32, (uint32_t)i,
                                           (uint32_t)n,
                                           (const uint8_t(*)[32])path, len,
                                           root),
                       HARDENED_TRUE);
      if (n > 1) {
        /* Wrong sibling, wrong index, wrong size, another nonce. */
        path[0][5] ^= 1;
        assert_int_equal(attest_merkle_check(bytes[i], 32, (uint32_t)i,
                                             (uint32_t)n,
                                             (const uint8_t(*)[32])path, len,
                                             root),
                         HARDENED_FALSE);
        path[0][5] ^= 1;
        assert_int_equal(attest_merkle_check(bytes[i], 32,
                                             (uint32_t)((i + 1) % n),
                                             (uint32_t)n,
                                             (const uint8_t(*)[32])path, len,
                                             root),
                         HARDENED_FALSE);
        assert_int_equal(attest_merkle_check(bytes[(i + 1) % n], 32,
                                             (uint32_t)i, (uint32_t)n,
                                             (const uint8_t(*)[32])path, len,
                                             root),
                         HARDENED_FALSE);
      }
      /* An index outside the claimed size never checks. (The size itself
       * is informative: a left leaf's path is the same in a tree one leaf
       * larger, as in RFC 9162; what the root commits to is the nonce.) */
      assert_int_equal(attest_merkle_check(bytes[i], 32, (uint32_t)n,
                                           (uint32_t)n,
                                           (const uint8_t(*)[32])path, len,
                                           root),
                       HARDENED_FALSE);
    }
  }
}

static void merkle_test_root_single_leaf_is_leaf_hash_not_nonce(void **state) {
  (void)state;
  fill(1);
  uint8_t root[32];
  assert_int_equal(attest_merkle_root(nonces, 1, root), ROT_OK);
  /* A one-nonce batch is not the single form: the root is H(0 || nonce). */
  assert_memory_not_equal(root, bytes[0], 32);
}

static void merkle_test_node_cannot_pass_as_leaf(void **state) {
  (void)state;
  fill(2);
  uint8_t root[32], l0[32], l1[32];
  uint8_t path[ATTEST_MERKLE_MAX_DEPTH][32];
  uint32_t len;
  assert_int_equal(attest_merkle_root(nonces, 2, root), ROT_OK);
  assert_int_equal(attest_merkle_path(nonces, 2, 1, path, &len), ROT_OK);
  memcpy(l0, path[0], 32);
  assert_int_equal(attest_merkle_path(nonces, 2, 0, path, &len), ROT_OK);
  memcpy(l1, path[0], 32);
  /* The 64 bytes of the two leaf hashes as a "nonce" of a 1-leaf tree. */
  uint8_t both[64];
  memcpy(both, l0, 32);
  memcpy(both + 32, l1, 32);
  assert_int_equal(attest_merkle_check(both, 64, 0, 1, NULL, 0, root),
                   HARDENED_FALSE);
}

/* All paths at once: the same root and paths as one call per leaf. */
static void merkle_test_paths_match_path_for_every_leaf(void **state) {
  (void)state;
  static uint8_t all[ATTEST_BATCH_MAX][ATTEST_MERKLE_MAX_DEPTH][32];
  static uint32_t lens[ATTEST_BATCH_MAX];
  static const size_t sizes[] = {1, 2, 3, 5, 8, 13, 33, 64, 100, ATTEST_BATCH_MAX};
  fill(ATTEST_BATCH_MAX);
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    size_t n = sizes[s];
    uint8_t root[32], root1[32];
    assert_int_equal(attest_merkle_paths(nonces, n, all, lens, root), ROT_OK);
    assert_int_equal(attest_merkle_root(nonces, n, root1), ROT_OK);
    assert_memory_equal(root, root1, 32);
    for (size_t i = 0; i < n; i += (n > 100 ? 37 : 1)) {
      uint8_t path[ATTEST_MERKLE_MAX_DEPTH][32];
      uint32_t len = 0;
      assert_int_equal(attest_merkle_path(nonces, n, i, path, &len), ROT_OK);
      assert_int_equal(lens[i], len);
      assert_memory_equal(all[i], path, len * 32);
      assert_int_equal(attest_merkle_check(bytes[i], 32, (uint32_t)i,
                                           (uint32_t)n,
                                           (const uint8_t(*)[32])all[i],
                                           lens[i], root),
                       HARDENED_TRUE);
    }
  }
  /* The same bounds as the rest of the tree code. */
  assert_int_equal(attest_merkle_paths(nonces, 0, all, lens, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  uint8_t root[32];
  assert_int_equal(attest_merkle_paths(nonces, 0, all, lens, root),
                   ROT_ERROR_ATTEST_BATCH);
  assert_int_equal(attest_merkle_paths(nonces, ATTEST_BATCH_MAX + 1, all,
                                       lens, root),
                   ROT_ERROR_ATTEST_BATCH);
}

static void merkle_test_bounds(void **state) {
  (void)state;
  uint8_t root[32];
  fill(ATTEST_BATCH_MAX + 1);
  assert_int_equal(attest_merkle_root(nonces, 0, root), ROT_ERROR_ATTEST_BATCH);
  assert_int_equal(attest_merkle_root(nonces, ATTEST_BATCH_MAX + 1, root),
                   ROT_ERROR_ATTEST_BATCH);
  assert_int_equal(attest_merkle_root(nonces, ATTEST_BATCH_MAX, root), ROT_OK);
  uint8_t path[ATTEST_MERKLE_MAX_DEPTH][32];
  uint32_t len = 0;
  assert_int_equal(attest_merkle_path(nonces, ATTEST_BATCH_MAX,
                                      ATTEST_BATCH_MAX - 1, path, &len),
                   ROT_OK);
  assert_int_equal(len, ATTEST_MERKLE_MAX_DEPTH);
  assert_int_equal(attest_merkle_path(nonces, 4, 4, path, &len),
                   ROT_ERROR_ATTEST_BATCH);
  nonces[1].len = ATTEST_NONCE_MIN - 1;
  assert_int_equal(attest_merkle_root(nonces, 2, root), ROT_ERROR_ATTEST_BATCH);
  nonces[1].len = ATTEST_NONCE_MAX + 1;
  assert_int_equal(attest_merkle_root(nonces, 2, root), ROT_ERROR_ATTEST_BATCH);
  assert_int_equal(attest_merkle_root(NULL, 2, root), ROT_ERROR_ATTEST_BATCH);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(merkle_test_check_every_leaf_of_every_size),
      cmocka_unit_test(merkle_test_root_single_leaf_is_leaf_hash_not_nonce),
      cmocka_unit_test(merkle_test_node_cannot_pass_as_leaf),
      cmocka_unit_test(merkle_test_bounds),
      cmocka_unit_test(merkle_test_paths_match_path_for_every_leaf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
