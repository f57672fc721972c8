/*
 * TPM2_MakeCredential computed without a TPM (the verifier's half of
 * credential activation, as `tpm2_makecredential --tcti none` does), for
 * RSA (OAEP, label "IDENTITY") and ECC (ECDH + KDFe) endorsement keys.
 *
 * The host answers with ActivateCredential (attest/tpm.h): the TPM gives
 * the credential back only if the AK named here is loaded in the same TPM
 * as the EK, so the verifier learns the AK and EK are one TPM's.
 */
#ifndef ATTEST_CRED_H
#define ATTEST_CRED_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "attest/evidence.h"
#include "rot/error.h"

/* tpm2-tools' credential blob file: magic, version, then the two parts. */
#define ATTEST_CRED_FILE_MAGIC 0xbadcc0deu
#define ATTEST_CRED_FILE_VERSION 1u

/**
 * Make a credential for the object named ak_name (nameAlg || digest)
 * under the EK ek (its public area; RSA 2048 or ECC P-256/P-384,
 * nameAlg SHA-256 or SHA-384, AES-CFB symmetric). cred: 1..digest size
 * of the EK's nameAlg bytes. blob gets TPM2B_ID_OBJECT and secret
 * TPM2B_ENCRYPTED_SECRET, each marshalled with its size (malloc'd).
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_UNSUPPORTED (another key
 * type or algorithm), ROT_ERROR_CRYPTO_BAD_KEY (an EK key that is not a
 * valid public key), ROT_ERROR_INTERNAL.
 */
ROT_WARN_UNUSED rot_error_t attest_make_credential(
    const TPMT_PUBLIC *ek, const uint8_t *ak_name, size_t name_len,
    const uint8_t *cred, size_t cred_len, attest_buf_t *blob,
    attest_buf_t *secret);

/** tpm2-tools' blob file: magic || version || blob || secret (malloc'd). */
ROT_WARN_UNUSED rot_error_t attest_cred_file_encode(const attest_buf_t *blob,
                                                    const attest_buf_t *secret,
                                                    attest_buf_t *out);
/** Split such a file into its two parts (copies, malloc'd). */
ROT_WARN_UNUSED rot_error_t attest_cred_file_decode(const uint8_t *p,
                                                    size_t len,
                                                    attest_buf_t *blob,
                                                    attest_buf_t *secret);

#endif /* ATTEST_CRED_H */
