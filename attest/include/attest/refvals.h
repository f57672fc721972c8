/*
 * Reference values (docs/evidence.md, Reference values): the policy a
 * verifier appraises evidence against, derived from the signed images and
 * the key manifest, never copied from a booted machine.
 */
#ifndef ATTEST_REFVALS_H
#define ATTEST_REFVALS_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/policy.h"

#define ATTEST_REFVALS_FORMAT "rot-stack-refvals"
#define ATTEST_REFVALS_VERSION 1u
#define ATTEST_REF_MAX_IMAGES 16u
#define ATTEST_REF_MAX_JSON (256u * 1024u)

typedef struct attest_ref_image {
  uint32_t type;      /* rot_image_type_t */
  uint32_t svn;
  uint32_t key_index; /* the manifest key that signed it */
  uint16_t ver_major, ver_minor, ver_patch;
  uint8_t sha256[ROT_SHA256_LEN]; /* of the payload */
  uint8_t sha384[ROT_SHA384_LEN]; /* of the payload (= header digest) */
} attest_ref_image_t;

/* The DiceTcbInfo a chip's Alias certificate carries for one accepted RoT
 * firmware image (rot/dice.h, rot_dice_tcbinfo_encode). */
typedef struct attest_ref_dice {
  char vendor[32];
  char model[32];
  char version[24];                /* "M.m.p" */
  uint32_t svn;
  uint8_t fwid[ROT_SHA384_LEN];    /* SHA-384 of the firmware payload */
} attest_ref_dice_t;

typedef struct attest_policy {
  uint32_t pcr_mask;   /* PCRs the quote must cover, exactly */
  uint32_t nbanks;
  uint16_t banks[4];   /* banks the quote must cover, exactly, in order */
  /* Accepted S-CRTM versions (PCR 0), one per accepted RoT firmware:
   * JSON "rot_firmware", an array (a single string still reads). */
  uint32_t nrot_firmware;
  char rot_firmware[ATTEST_REF_MAX_IMAGES][64];
  uint8_t root_key_sha384[ROT_SHA384_LEN];
  uint32_t lifecycles; /* bit l: lifecycle l allowed */
  uint32_t signers[ROT_IMAGE_TYPE_SLOTS];   /* bit k: key k may sign type */
  uint32_t svn_floor[ROT_IMAGE_TYPE_SLOTS]; /* minimum SVN per type */
  uint32_t nimages;
  attest_ref_image_t images[ATTEST_REF_MAX_IMAGES];
  uint32_t dice_debug_ok; /* 1: an Alias certificate in debug mode passes */
  uint32_t ndice;         /* accepted RoT firmware (DiceTcbInfo) entries */
  attest_ref_dice_t dice[ATTEST_REF_MAX_IMAGES];
} attest_policy_t;

/**
 * Derive a policy: keys_dir is a key hierarchy (rotctl keygen), images
 * signed images that must verify against its root. PCRs 0,1,4,5,7 in
 * banks SHA-256 and SHA-384; signers and SVN floors (the lowest SVN
 * given) per type from the images; lifecycles dev and production; one
 * accepted S-CRTM version and one DiceTcbInfo entry per RoT firmware image
 * (the stack's own version when none is given), and dice_debug_ok set since
 * the dev lifecycle (whose chips run in DICE debug mode) is allowed.
 * detail names the file at fault. Errors: ROT_ERROR_IO_*, the image
 * verifier's errors, ROT_ERROR_ATTEST_BAD_POLICY (too many images).
 */
ROT_WARN_UNUSED rot_error_t attest_refvals_derive(const char *keys_dir,
                                                  const char *const *images,
                                                  size_t nimages,
                                                  attest_policy_t *out,
                                                  char *detail, size_t cap);

/** Policy as JSON (malloc'd). */
ROT_WARN_UNUSED rot_error_t attest_refvals_encode(const attest_policy_t *p,
                                                  char **out);

/**
 * Parse policy JSON (bounded, strict: unknown fields refused).
 * Errors: ROT_ERROR_ATTEST_BAD_POLICY (detail names the field).
 */
ROT_WARN_UNUSED rot_error_t attest_refvals_decode(const char *json, size_t len,
                                                  attest_policy_t *out,
                                                  char *detail, size_t cap);

#endif /* ATTEST_REFVALS_H */
