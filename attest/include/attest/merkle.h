/*
 * The nonce batch: a SHA-256 Merkle tree (the RFC 9162 tree shape) over
 * the nonces gathered in one window, quoted once with the root as the
 * quote's qualifying data (docs/evidence.md, Batched evidence).
 *
 *   leaf  = SHA-256(0x00 || nonce)
 *   node  = SHA-256(0x01 || left || right)
 *   tree  = for n > 1 leaves, k = the largest power of two < n:
 *           node(tree(leaves[0..k)), tree(leaves[k..n)))
 *
 * Leaves are in arrival order (index 0 first); 1..ATTEST_BATCH_MAX
 * leaves, each nonce ATTEST_NONCE_MIN..ATTEST_NONCE_MAX bytes. The
 * distinct leaf and node prefixes keep a node from passing as a leaf.
 */
#ifndef ATTEST_MERKLE_H
#define ATTEST_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "attest/evidence.h"
#include "rot/error.h"
#include "rot/hardened.h"

typedef struct attest_nonce {
  const uint8_t *p;
  size_t len;
} attest_nonce_t;

/** Root of the tree over nonces[0..n). Errors: ROT_ERROR_ATTEST_BATCH. */
ROT_WARN_UNUSED rot_error_t attest_merkle_root(const attest_nonce_t *nonces,
                                               size_t n,
                                               uint8_t root[ATTEST_MERKLE_HASH_LEN]);

/**
 * Inclusion path of leaf index in the tree over nonces[0..n), siblings
 * from the leaf up; *path_len gets their number (<= ATTEST_MERKLE_MAX_DEPTH).
 */
ROT_WARN_UNUSED rot_error_t attest_merkle_path(
    const attest_nonce_t *nonces, size_t n, size_t index,
    uint8_t path[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN],
    uint32_t *path_len);

/**
 * Every leaf's inclusion path at once, and the root: paths[i] and
 * path_lens[i] as attest_merkle_path gives them for index i, in one pass
 * over the tree (n leaf hashes, n - 1 node hashes) where n calls of
 * attest_merkle_path would hash the whole tree n times.
 * Errors: ROT_ERROR_ATTEST_BATCH, ROT_ERROR_INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t attest_merkle_paths(
    const attest_nonce_t *nonces, size_t n,
    uint8_t (*paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN],
    uint32_t *path_lens, uint8_t root[ATTEST_MERKLE_HASH_LEN]);

/**
 * HARDENED_TRUE when nonce is leaf index of a size-leaf tree whose root is
 * root (the path length must be exactly the tree's for that index).
 */
hardened_bool_t attest_merkle_check(
    const uint8_t *nonce, size_t nonce_len, uint32_t index, uint32_t size,
    const uint8_t path[][ATTEST_MERKLE_HASH_LEN], uint32_t path_len,
    const uint8_t root[ATTEST_MERKLE_HASH_LEN]);

#endif /* ATTEST_MERKLE_H */
