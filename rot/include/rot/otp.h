/*
 * One-time-programmable fuses: layout and the operations the core performs.
 *
 * Fuse bits can only go from 0 to 1. Multi-state fields use thermometer
 * codes (state k = the lowest k bits set), so every legal transition only
 * sets bits and any other pattern is detected as corrupt. The port
 * (struct rot_otp_port) supplies raw read and program; program ORs bits in.
 */
#ifndef ROT_OTP_H
#define ROT_OTP_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"
#include "rot/policy.h"

#define ROT_OTP_MAGIC 0x4f4f5452u /* bytes "RTOO" */
#define ROT_OTP_VERSION 1u
#define ROT_OTP_SIZE 512u
#define ROT_OTP_FLOOR_BYTES 32u /* 256 bits: floors 0..256 */
#define ROT_OTP_UDS_LEN 48u

/* Persisted fuse map. Pinned: every offset is asserted. */
typedef struct rot_otp_layout {
  uint32_t magic;           /* ROT_OTP_MAGIC once provisioned, 0 when blank */
  uint16_t version;         /* ROT_OTP_VERSION */
  uint16_t reserved0;
  uint32_t lifecycle;       /* thermometer: ROT_OTP_LC_RAW_* below */
  uint32_t reserved1;
  uint8_t root_key_hash[ROT_SHA384_LEN];
  uint32_t revoked_keys;    /* bit i: key index i revoked */
  uint32_t reserved2;
  uint8_t svn_floor[ROT_IMAGE_TYPE_SLOTS][ROT_OTP_FLOOR_BYTES]; /* thermometer */
  uint8_t uds[ROT_OTP_UDS_LEN]; /* unique device secret (DICE) */
  uint32_t uds_written;     /* 0 or ROT_OTP_UDS_WRITTEN */
  uint8_t reserved3[132];
} rot_otp_layout_t;

#define ROT_OTP_UDS_WRITTEN 0xa5c3965au

/* Raw lifecycle fuse values (a thermometer: each step blows one more fuse)
 * and the rot_lifecycle_t each decodes to. Any other pattern is corrupt.
 * docs/image-format.md has the table. */
#define ROT_OTP_LC_RAW_BLANK 0x0u /* ROT_LIFECYCLE_BLANK (0) */
#define ROT_OTP_LC_RAW_DEV 0x1u   /* ROT_LIFECYCLE_DEV (1) */
#define ROT_OTP_LC_RAW_PROD 0x3u  /* ROT_LIFECYCLE_PROD (2) */
#define ROT_OTP_LC_RAW_DECOM 0x7u /* ROT_LIFECYCLE_DECOMMISSIONED (3) */

_Static_assert(sizeof(rot_otp_layout_t) == ROT_OTP_SIZE, "otp size");
_Static_assert(offsetof(rot_otp_layout_t, lifecycle) == 8, "lifecycle");
_Static_assert(offsetof(rot_otp_layout_t, root_key_hash) == 16, "root hash");
_Static_assert(offsetof(rot_otp_layout_t, revoked_keys) == 64, "revoked");
_Static_assert(offsetof(rot_otp_layout_t, svn_floor) == 72, "svn floors");
_Static_assert(offsetof(rot_otp_layout_t, uds) == 328, "uds");
_Static_assert(offsetof(rot_otp_layout_t, uds_written) == 376, "uds written");

#define ROT_OTP_OFF_MAGIC 0u
#define ROT_OTP_OFF_VERSION 4u
#define ROT_OTP_OFF_LIFECYCLE 8u
#define ROT_OTP_OFF_ROOT_HASH 16u
#define ROT_OTP_OFF_REVOKED 64u
#define ROT_OTP_OFF_FLOORS 72u
#define ROT_OTP_OFF_UDS 328u
#define ROT_OTP_OFF_UDS_WRITTEN 376u

typedef struct rot_otp_port rot_otp_port_t;

/* The OTP hardware: raw bytes, program ORs bits in. */
struct rot_otp_port {
  rot_error_t (*read)(const rot_otp_port_t *p, uint32_t off, void *buf,
                      uint32_t len);
  rot_error_t (*program)(const rot_otp_port_t *p, uint32_t off,
                         const void *buf, uint32_t len);
  void *state;
};

/** Decode a thermometer-coded field of len bytes; ROT_ERROR_OTP_CORRUPT if not one. */
ROT_WARN_UNUSED rot_error_t rot_otp_thermo_decode(const uint8_t *p, size_t len,
                                                  uint32_t *count);

/**
 * Read and decode the policy the fuses define. A blank device gives
 * ROT_ERROR_OTP_NOT_PROVISIONED; a bad fuse pattern ROT_ERROR_OTP_CORRUPT.
 */
ROT_WARN_UNUSED rot_error_t rot_otp_policy(const rot_otp_port_t *p,
                                           rot_policy_t *out);

/**
 * Decode a raw fuse image (ROT_OTP_SIZE bytes) into a policy. A set magic
 * over a blank lifecycle (never written by provisioning, which fuses the
 * lifecycle first) is ROT_ERROR_OTP_LIFECYCLE_BLANK.
 */
ROT_WARN_UNUSED rot_error_t rot_otp_decode(const uint8_t raw[ROT_OTP_SIZE],
                                           rot_policy_t *out);

/**
 * Program len (at most 48) bytes of fuses at off, then read them back:
 * every bit asked must now be set, else ROT_ERROR_OTP_WRITE_FAILED.
 */
ROT_WARN_UNUSED rot_error_t rot_otp_program_checked(const rot_otp_port_t *p,
                                                    uint32_t off,
                                                    const uint8_t *buf,
                                                    uint32_t len);

/** The lifecycle the fuses hold (ROT_ERROR_OTP_CORRUPT: no known pattern). */
ROT_WARN_UNUSED rot_error_t rot_otp_lifecycle_read(const rot_otp_port_t *p,
                                                   uint32_t *lifecycle);

/**
 * Read the unique device secret into out (the caller wipes it after use).
 * ROT_ERROR_OTP_NO_DEVICE_SECRET when the marker says it was never fused;
 * ROT_ERROR_OTP_SECRET_LOCKED once the device is decommissioned (the
 * secret stays fused but is never read again).
 */
ROT_WARN_UNUSED rot_error_t rot_otp_read_uds(const rot_otp_port_t *p,
                                             uint8_t out[ROT_OTP_UDS_LEN]);

/**
 * Raise the SVN floor of a type to svn (never lowers: a lower or equal
 * value is a no-op). Read back after programming.
 */
ROT_WARN_UNUSED rot_error_t rot_otp_raise_floor(const rot_otp_port_t *p,
                                                uint32_t image_type,
                                                uint32_t svn);

/**
 * One lifecycle transition, one-way: dev -> production, or production ->
 * decommissioned (the terminal state: only the recovery image boots and
 * the device secret is never read again). ROT_ERROR_POLICY_LIFECYCLE_STEP
 * for any other pair, ROT_ERROR_POLICY_LIFECYCLE_FROM when the device is
 * not in `from`; ROT_OK without a burn when it is already in `to` (a
 * retry completes an interrupted transition). Each step burns one fuse
 * and is read back.
 */
ROT_WARN_UNUSED rot_error_t rot_otp_lifecycle_transition(
    const rot_otp_port_t *p, uint32_t from, uint32_t to);

/* Factory provisioning (root key, device secret, revocation) is host code:
 * rot_client/otp_provision.h. */

#endif /* ROT_OTP_H */
