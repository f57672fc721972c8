/*
 * The chip's boot ROM stage and its DICE identity.
 *
 * At every chip reset (rot_identity_boot, run by rot_server_init) the ROM
 * stage decides which RoT firmware image runs, with the same verifier,
 * SVN floors, revocation and A/B rules as every other image type
 * (rot_boot_decide on ROT_IMAGE_TYPE_ROT; there is no host recovery image
 * for the chip's own firmware). When one verifies it is measured
 * (rot/dice.h): the CDI is derived from the UDS and the measurement, the
 * DeviceID key from the UDS and the Alias key from the CDI; the UDS and
 * the CDI are wiped before the function returns and only the two key
 * pairs stay in the chip's RAM. When none verifies the chip serves
 * recovery commands only (see the command table in server.c).
 *
 * The DeviceID certificate is issued by the manufacturer CA at
 * provisioning: the chip hands out a CSR signed by its DeviceID key
 * (IDENTITY_CSR), the factory signs it (keys/), and the chip stores the
 * certificate in its private nvcfg region (IDENTITY_STORE) after checking
 * it certifies its own DeviceID key. The Alias certificate is written by
 * the chip, signed by the DeviceID key, at the first IDENTITY after a
 * reset.
 *
 * nvcfg layout (chip-private region, offsets from its start):
 *   0   u32 magic "RTDC" (ROT_IDENTITY_STORE_MAGIC), u16 version 1,
 *       u16 reserved 0, u32 cert_len (1..ROT_CERT_MAX), u32 reserved 0,
 *       SHA-384 of the certificate (48 bytes)     = 64 bytes
 *   64  the DeviceID certificate, DER (cert_len bytes)
 * The region is erased, the certificate programmed, then the header: a
 * power cut anywhere leaves either the old state "not provisioned" or
 * the whole record.
 */
#ifndef ROT_IDENTITY_H
#define ROT_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "rot/cert.h"
#include "rot/dice.h"
#include "rot/error.h"
#include "rot/hardened.h"
#include "rot/otp.h"
#include "rot/update.h"

#define ROT_IDENTITY_STORE_MAGIC 0x43445452u /* bytes "RTDC" */
#define ROT_IDENTITY_STORE_VERSION 1u
#define ROT_IDENTITY_STORE_HEAD 64u
#define ROT_IDENTITY_NAME_MAX 96u

typedef struct rot_identity {
  /* HARDENED_TRUE only when a RoT firmware verified and was measured at
   * this reset; status says why not otherwise. */
  hardened_bool_t booted;
  rot_error_t status;
  uint32_t region; /* rot-a / rot-b, or ROT_RGN_COUNT */
  uint32_t reason; /* rot_boot_reason_t */
  uint32_t image_len; /* exact length of the verified image */
  rot_verified_image_t fw;
  rot_dice_inputs_t inputs;
  uint32_t lifecycle;
  /* Key pairs (private halves never leave the chip). */
  uint8_t devid_priv[ROT_P384_SCALAR_LEN];
  uint8_t devid_pub[ROT_P384_PUBKEY_LEN];
  uint8_t alias_priv[ROT_P384_SCALAR_LEN];
  uint8_t alias_pub[ROT_P384_PUBKEY_LEN];
  /* The Alias certificate, written at the first IDENTITY of a reset. */
  uint32_t alias_len;
  uint8_t alias_cert[ROT_CERT_MAX];
} rot_identity_t;

/**
 * The ROM stage: choose, verify and measure the RoT firmware, derive the
 * identity. Always leaves id consistent: on any failure id->booted is
 * HARDENED_FALSE, id->status the reason, and no key material is kept.
 * Returns id->status.
 */
ROT_WARN_UNUSED rot_error_t rot_identity_boot(rot_identity_t *id,
                                              rot_update_t *u,
                                              const rot_otp_port_t *otp,
                                              const rot_crypto_t *c);

/** ROT_OK (hardened, checked twice) only when id holds a measured identity. */
ROT_WARN_UNUSED rot_error_t rot_identity_check(const rot_identity_t *id);

/** Wipe every key and certificate (before a reset). */
void rot_identity_wipe(rot_identity_t *id);

/** Subject name of the DeviceID ("CN=rot-stack DeviceID <hex id>,O=rot-stack"). */
ROT_WARN_UNUSED rot_error_t rot_identity_devid_name(const rot_identity_t *id,
                                                    const rot_crypto_t *c,
                                                    char out[ROT_IDENTITY_NAME_MAX]);

/** The DeviceID CSR (PKCS#10, DER), signed by the DeviceID key. */
ROT_WARN_UNUSED rot_error_t rot_identity_csr(const rot_identity_t *id,
                                             const rot_crypto_t *c,
                                             const rot_cert_port_t *cp,
                                             uint8_t *out, size_t cap,
                                             size_t *out_len);

/**
 * Store the DeviceID certificate in nvcfg after checking that its
 * subject key is this chip's DeviceID key (ROT_ERROR_IDENTITY_CERT_MISMATCH).
 */
ROT_WARN_UNUSED rot_error_t rot_identity_store(const rot_identity_t *id,
                                               rot_gate_t *g,
                                               const rot_crypto_t *c,
                                               const rot_cert_port_t *cp,
                                               const uint8_t *der, size_t len);

/**
 * Read the stored DeviceID certificate. ROT_ERROR_IDENTITY_NOT_PROVISIONED
 * when nvcfg holds no complete record.
 */
ROT_WARN_UNUSED rot_error_t rot_identity_load(rot_gate_t *g,
                                              const rot_crypto_t *c,
                                              uint8_t *out, size_t cap,
                                              size_t *out_len);

/** Write (once per reset) and return the Alias certificate. */
ROT_WARN_UNUSED rot_error_t rot_identity_alias_cert(rot_identity_t *id,
                                                    const rot_crypto_t *c,
                                                    const rot_cert_port_t *cp,
                                                    const uint8_t **der,
                                                    size_t *len);

/** Sign the ENDORSE statement with the Alias key; sig is DER. */
ROT_WARN_UNUSED rot_error_t rot_identity_endorse(const rot_identity_t *id,
                                                 const rot_crypto_t *c,
                                                 const rot_dice_endorse_req_t *r,
                                                 uint8_t *sig, size_t cap,
                                                 size_t *sig_len);

#endif /* ROT_IDENTITY_H */
