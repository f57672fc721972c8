/*
 * Image types, their load regions, and the verification policy the OTP
 * fuses define (root key hash, revoked keys, SVN floors, lifecycle).
 */
#ifndef ROT_POLICY_H
#define ROT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"

/* Image types. Values are persisted; never renumber. */
typedef enum rot_image_type {
  ROT_IMAGE_TYPE_ROT = 1,        /* the security chip's own firmware */
  ROT_IMAGE_TYPE_OPENSBI = 2,    /* host M-mode firmware (OpenSBI fw_dynamic) */
  ROT_IMAGE_TYPE_HYPERVISOR = 3, /* host boot payload (hypervisor, U-Boot) */
  ROT_IMAGE_TYPE_DTB = 4,        /* platform device tree */
  ROT_IMAGE_TYPE_RECOVERY = 5,   /* golden recovery payload */
} rot_image_type_t;

#define ROT_IMAGE_TYPE_MIN 1u
#define ROT_IMAGE_TYPE_MAX 5u
/* Slots reserved for floors: types 0..7 (0 unused). */
#define ROT_IMAGE_TYPE_SLOTS 8u
/* "Any type" for rot_image_verify's expected_type. */
#define ROT_IMAGE_TYPE_ANY 0xffffffffu

/* Key indices certified by a manifest must be below this (revocation bits). */
#define ROT_MAX_KEY_INDEX 32u
/* Highest SVN an image may carry: the OTP floors count to 256. */
#define ROT_SVN_MAX 256u

typedef enum rot_lifecycle {
  ROT_LIFECYCLE_BLANK = 0,
  ROT_LIFECYCLE_DEV = 1,
  ROT_LIFECYCLE_PROD = 2,
  ROT_LIFECYCLE_DECOMMISSIONED = 3,
} rot_lifecycle_t;

/* Memory window an image of a given type may be loaded into: [base, end). */
typedef struct rot_region {
  uint32_t base; /* every window lies below 4 GiB */
  uint32_t end;
  /* 1 when the image is code: the entry must lie inside the payload. */
  uint32_t executable;
} rot_region_t;

/** Allowed region of a type, or NULL for an unknown type. */
const rot_region_t *rot_image_region(uint32_t image_type);

/*
 * What the verifier checks an image against; decoded from OTP on the chip
 * (rot_otp_policy) or built from a key directory by host tools.
 */
typedef struct rot_policy {
  uint8_t root_key_hash[ROT_SHA384_LEN]; /* SHA-384(root public key X||Y) */
  uint32_t revoked_keys;                 /* bit i set: key index i revoked */
  uint32_t svn_floor[ROT_IMAGE_TYPE_SLOTS];
  uint32_t lifecycle;                    /* rot_lifecycle_t */
} rot_policy_t;

#endif /* ROT_POLICY_H */
