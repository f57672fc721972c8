/*
 * A development key hierarchy kept in one directory (host tools only).
 *
 *   root.key.pem    root private key (PEM, 0600)
 *   root.pub.pem    root public key (PEM)
 *   sign-<i>.key.pem, sign-<i>.pub.pem
 *                   signing key with index i (the generator makes i = 0,
 *                   allowed for every image type)
 *   manifest.bin    the key manifest, signed by the root key
 *
 * A real deployment keeps the root key offline; this layout exists so that
 * a developer or a test can sign and verify images with one command.
 */
#ifndef ROT_CLIENT_KEYDIR_H
#define ROT_CLIENT_KEYDIR_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/image.h"
#include "rot/policy.h"

#define ROT_KEYDIR_ROOT_KEY "root.key.pem"
#define ROT_KEYDIR_ROOT_PUB "root.pub.pem"
#define ROT_KEYDIR_MANIFEST "manifest.bin"
/* The signing key the generator creates. */
#define ROT_KEYDIR_DEFAULT_KEY_INDEX 0u

/* A loaded hierarchy. Holds a private key when loaded with a signer. */
typedef struct rot_keydir {
  uint8_t manifest_bytes[ROT_MANIFEST_MAX_SIZE];
  size_t manifest_len;
  /* Parsed view; its signed_bytes points into manifest_bytes above. */
  rot_manifest_t manifest;
  uint8_t root_pub[ROT_P384_PUBKEY_LEN];
  /* Policy a verifier would hold for this hierarchy (a dev device). */
  rot_policy_t policy;
  /* 1 when signer_priv holds the private key of signer_index. */
  int has_signer;
  uint32_t signer_index;
  uint8_t signer_priv[ROT_P384_SCALAR_LEN];
  uint8_t signer_pub[ROT_P384_PUBKEY_LEN];
  /* On failure: the file (name inside the directory) at fault, or "". */
  char bad_file[32];
} rot_keydir_t;

/**
 * Generate a root key and signing key 0 (allowed for every image type)
 * into dir, creating it (mode 0700, parents as needed) if missing, and
 * write the root-signed manifest. Private keys are written 0600.
 *
 * An existing hierarchy (any of its files present) is never replaced
 * unless force is non-zero: ROT_ERROR_IO_WRITE, with
 * rot_keydir_existing naming the file in the way.
 * Errors: ROT_ERROR_INVALID_ARGUMENT (NULL or over-long path),
 * ROT_ERROR_IO_*, ROT_ERROR_CRYPTO_*.
 */
ROT_WARN_UNUSED rot_error_t rot_keydir_generate(const char *dir, int force);

/**
 * Name of the first hierarchy file already present in dir, or NULL when
 * there is none (or dir does not exist).
 */
const char *rot_keydir_existing(const char *dir);

/**
 * Load the public part of a hierarchy: manifest (structurally parsed and
 * its root signature checked), root public key (must be the manifest's),
 * and the derived dev policy (root key hash = SHA-384(root pub), nothing
 * revoked, every floor 0, lifecycle dev). out->has_signer is 0.
 * On failure *out is wiped except bad_file.
 * Errors: ROT_ERROR_IO_* (missing or unreadable file),
 * ROT_ERROR_MANIFEST_* (bad manifest, or one signed by another root),
 * ROT_ERROR_CRYPTO_*.
 */
ROT_WARN_UNUSED rot_error_t rot_keydir_load_public(const char *dir,
                                                   rot_keydir_t *out);

/**
 * As rot_keydir_load_public, plus the private key of signing key
 * key_index (sign-<key_index>.key.pem). The key must be certified by the
 * manifest under that index with the same public key.
 * Errors: as above, plus ROT_ERROR_MANIFEST_KEY_NOT_FOUND (index not in
 * the manifest) and ROT_ERROR_CRYPTO_BAD_KEY (key file does not match).
 * Wipe the result with rot_keydir_wipe.
 */
ROT_WARN_UNUSED rot_error_t rot_keydir_load(const char *dir, uint32_t key_index,
                                            rot_keydir_t *out);

/** Wipe a loaded hierarchy (private key included). */
void rot_keydir_wipe(rot_keydir_t *kd);

#endif /* ROT_CLIENT_KEYDIR_H */
