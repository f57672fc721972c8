/*
 * Merkle tree over nonces (attest/merkle.h).
 */
#include "attest/merkle.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#define H ATTEST_MERKLE_HASH_LEN

static int leaf_hash(const uint8_t *p, size_t len, uint8_t out[H]) {
  static const uint8_t zero = 0x00;
  mbedtls_sha256_context c;
  mbedtls_sha256_init(&c);
  int rc = mbedtls_sha256_starts_ret(&c, 0);
  rc = rc ? rc : mbedtls_sha256_update_ret(&c, &zero, 1);
  rc = rc ? rc : mbedtls_sha256_update_ret(&c, p, len);
  rc = rc ? rc : mbedtls_sha256_finish_ret(&c, out);
  mbedtls_sha256_free(&c);
  return rc;
}

static int node_hash(const uint8_t l[H], const uint8_t r[H], uint8_t out[H]) {
  uint8_t buf[1 + 2 * H];
  buf[0] = 0x01;
  memcpy(buf + 1, l, H);
  memcpy(buf + 1 + H, r, H);
  return mbedtls_sha256_ret(buf, sizeof(buf), out, 0);
}

static size_t split(size_t n) {
  size_t k = 1;
  while (k * 2 < n) {
    k *= 2;
  }
  return k;
}

static int tree(const uint8_t (*leaves)[H], size_t n, uint8_t out[H]) {
  if (n == 1) {
    memcpy(out, leaves[0], H);
    return 0;
  }
  size_t k = split(n);
  uint8_t l[H], r[H];
  if (tree(leaves, k, l) || tree(leaves + k, n - k, r)) {
    return -1;
  }
  return node_hash(l, r, out);
}

static rot_error_t leaves_of(const attest_nonce_t *nonces, size_t n,
                             uint8_t (**out)[H]) {
  if (nonces == NULL || n == 0 || n > ATTEST_BATCH_MAX) {
    return ROT_ERROR_ATTEST_BATCH;
  }
  uint8_t(*leaves)[H] = malloc(n * H);
  if (leaves == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  for (size_t i = 0; i < n; i++) {
    if (nonces[i].p == NULL || nonces[i].len < ATTEST_NONCE_MIN ||
        nonces[i].len > ATTEST_NONCE_MAX ||
        leaf_hash(nonces[i].p, nonces[i].len, leaves[i]) != 0) {
      free(leaves);
      return ROT_ERROR_ATTEST_BATCH;
    }
  }
  *out = leaves;
  return ROT_OK;
}

rot_error_t attest_merkle_root(const attest_nonce_t *nonces, size_t n,
                               uint8_t root[H]) {
  uint8_t(*leaves)[H] = NULL;
  if (root == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(leaves_of(nonces, n, &leaves));
  int rc = tree((const uint8_t(*)[H])leaves, n, root);
  free(leaves);
  return rc == 0 ? ROT_OK : ROT_ERROR_INTERNAL;
}

rot_error_t attest_merkle_path(const attest_nonce_t *nonces, size_t n,
                               size_t index,
                               uint8_t path[ATTEST_MERKLE_MAX_DEPTH][H],
                               uint32_t *path_len) {
  uint8_t(*leaves)[H] = NULL;
  if (path == NULL || path_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(leaves_of(nonces, n, &leaves));
  if (index >= n) {
    free(leaves);
    return ROT_ERROR_ATTEST_BATCH;
  }
  /* Walk down from the root, collecting the other side at each level;
   * the path lists them from the leaf up, so fill from the end. */
  uint8_t tmp[ATTEST_MERKLE_MAX_DEPTH][H];
  uint32_t depth = 0;
  size_t lo = 0, len = n, m = index;
  int rc = 0;
  while (len > 1 && rc == 0) {
    size_t k = split(len);
    if (m < k) {
      rc = tree((const uint8_t(*)[H])leaves + lo + k, len - k, tmp[depth]);
      len = k;
    } else {
      rc = tree((const uint8_t(*)[H])leaves + lo, k, tmp[depth]);
      lo += k;
      len -= k;
      m -= k;
    }
    depth++;
  }
  free(leaves);
  if (rc != 0) {
    return ROT_ERROR_INTERNAL;
  }
  for (uint32_t i = 0; i < depth; i++) {
    memcpy(path[i], tmp[depth - 1 - i], H);
  }
  *path_len = depth;
  return ROT_OK;
}

/* The subtree over leaves[lo..lo+n) into out; each of its leaves gets the
 * other side's hash appended at every level, so paths fill leaf-up. */
static int all_paths(const uint8_t (*leaves)[H], size_t lo, size_t n,
                     uint8_t (*paths)[ATTEST_MERKLE_MAX_DEPTH][H],
                     uint32_t *lens, uint8_t out[H]) {
  if (n == 1) {
    memcpy(out, leaves[lo], H);
    return 0;
  }
  size_t k = split(n);
  uint8_t l[H], r[H];
  if (all_paths(leaves, lo, k, paths, lens, l) ||
      all_paths(leaves, lo + k, n - k, paths, lens, r)) {
    return -1;
  }
  for (size_t i = lo; i < lo + n; i++) {
    if (lens[i] >= ATTEST_MERKLE_MAX_DEPTH) {
      return -1;
    }
    memcpy(paths[i][lens[i]++], i < lo + k ? r : l, H);
  }
  return node_hash(l, r, out);
}

rot_error_t attest_merkle_paths(const attest_nonce_t *nonces, size_t n,
                                uint8_t (*paths)[ATTEST_MERKLE_MAX_DEPTH][H],
                                uint32_t *path_lens, uint8_t root[H]) {
  uint8_t(*leaves)[H] = NULL;
  if (paths == NULL || path_lens == NULL || root == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(leaves_of(nonces, n, &leaves));
  memset(path_lens, 0, n * sizeof(*path_lens));
  int rc = all_paths((const uint8_t(*)[H])leaves, 0, n, paths, path_lens,
                     root);
  free(leaves);
  return rc == 0 ? ROT_OK : ROT_ERROR_INTERNAL;
}

hardened_bool_t attest_merkle_check(const uint8_t *nonce, size_t nonce_len,
                                    uint32_t index, uint32_t size,
                                    const uint8_t path[][H], uint32_t path_len,
                                    const uint8_t root[H]) {
  uint8_t r[H];
  if (nonce == NULL || root == NULL || (path == NULL && path_len > 0) ||
      size == 0 || size > ATTEST_BATCH_MAX || index >= size ||
      path_len > ATTEST_MERKLE_MAX_DEPTH || nonce_len < ATTEST_NONCE_MIN ||
      nonce_len > ATTEST_NONCE_MAX || leaf_hash(nonce, nonce_len, r) != 0) {
    return HARDENED_FALSE;
  }
  /* RFC 9162, 2.1.3.2. */
  uint32_t fn = index, sn = size - 1;
  for (uint32_t i = 0; i < path_len; i++) {
    if (sn == 0) {
      return HARDENED_FALSE;
    }
    int rc;
    if ((fn & 1u) || fn == sn) {
      rc = node_hash(path[i], r, r);
      if (!(fn & 1u)) {
        while (!(fn & 1u) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      rc = node_hash(r, path[i], r);
    }
    if (rc != 0) {
      return HARDENED_FALSE;
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return HARDENED_FALSE;
  }
  return rot_ct_equal(r, root, H);
}
