/*
 * Factory provisioning of the OTP fuses: the root key hash and lifecycle
 * dev, the unique device secret, key revocation, a lifecycle set directly.
 * The chip's firmware never runs these (no mailbox command reaches them);
 * the factory's programmer and the host tools (rotctl otp, tests, the
 * power-fail simulator) do, on the same fuse map and the same
 * program-then-read-back rule as the chip's own fuse writes (rot/otp.h).
 */
#ifndef ROT_CLIENT_OTP_PROVISION_H
#define ROT_CLIENT_OTP_PROVISION_H

#include <stdint.h>

#include "rot/otp.h"

/**
 * Provision a blank device: magic, version, root key hash, lifecycle dev.
 * ROT_ERROR_OTP_ALREADY_SET when any of it is already programmed.
 */
ROT_WARN_UNUSED rot_error_t rot_otp_provision(
    const rot_otp_port_t *p, const uint8_t root_key_hash[ROT_SHA384_LEN]);

/**
 * Fuse the unique device secret (the DICE UDS), once: the secret first,
 * then the marker, so a device cut in between reads as "not written" and
 * the secret is never half-trusted. ROT_ERROR_OTP_ALREADY_SET when any
 * UDS bit or the marker is already blown.
 */
ROT_WARN_UNUSED rot_error_t rot_otp_write_uds(
    const rot_otp_port_t *p, const uint8_t uds[ROT_OTP_UDS_LEN]);

/** Revoke a key index (idempotent). */
ROT_WARN_UNUSED rot_error_t rot_otp_revoke_key(const rot_otp_port_t *p,
                                               uint32_t key_index);

/** Advance the lifecycle (only forward; test and factory use). */
ROT_WARN_UNUSED rot_error_t rot_otp_set_lifecycle(const rot_otp_port_t *p,
                                                  uint32_t lifecycle);

#endif /* ROT_CLIENT_OTP_PROVISION_H */
