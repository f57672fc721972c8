/*
 * The host side of attestation on a TPM, through tpm2-tss (ESAPI over the
 * TCTI loader, same TCTI conventions as bootchain/tpm.h).
 *
 * Keys and where they live:
 *   AK   ECC NIST P-256, ECDSA-SHA256, restricted signing, fixedTPM,
 *        fixedParent, sensitiveDataOrigin, userWithAuth (empty auth): a
 *        primary key of the endorsement hierarchy, persisted at
 *        ATTEST_AK_HANDLE (owner range, clear of the TCG EK handles).
 *   EK   the endorsement keys swtpm_setup (or a TPM vendor) provisioned:
 *        RSA 2048 at 0x81010001 with its certificate in NV 0x01c00002,
 *        ECC at 0x81010016 with its certificate in NV 0x01c00016.
 *
 * Every object this code loads is flushed before it returns, so it works
 * without a resource manager. Not thread-safe: one thread per context.
 */
#ifndef ATTEST_TPM_H
#define ATTEST_TPM_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "attest/evidence.h"
#include "rot/error.h"

#define ATTEST_AK_HANDLE 0x81000002u
#define ATTEST_EK_RSA_HANDLE 0x81010001u
#define ATTEST_EK_ECC_HANDLE 0x81010016u
#define ATTEST_EK_RSA_CERT_NV 0x01c00002u
#define ATTEST_EK_ECC_CERT_NV 0x01c00016u

/* Environment consulted when no TCTI is given (then tpm2-tss's default). */
#define ATTEST_ENV_TCTI "ATTEST_TCTI"

typedef struct attest_tpm attest_tpm_t;

/** Open the TPM (TCTI string as in tpm2-tss; NULL: $ATTEST_TCTI,
 * $TPM2TOOLS_TCTI, default search). Errors: ROT_ERROR_TPM_TCTI,
 * ROT_ERROR_TPM_COMMAND. On failure attest_tpm_strerror(NULL) says why. */
ROT_WARN_UNUSED rot_error_t attest_tpm_open(attest_tpm_t **t,
                                            const char *tcti);
void attest_tpm_close(attest_tpm_t *t);
/** Last failure as one line ("" if none); NULL: the last open's. */
const char *attest_tpm_strerror(const attest_tpm_t *t);

/**
 * Create the AK and persist it at handle. An object already there is kept
 * (ROT_ERROR_IO_WRITE with a message) unless force, which evicts it first.
 */
ROT_WARN_UNUSED rot_error_t attest_ak_create(attest_tpm_t *t, uint32_t handle,
                                             int force);

/**
 * Read the persisted AK's public area: *pub gets it, der (may be NULL) the
 * marshalled TPM2B_PUBLIC (malloc'd). ROT_ERROR_ATTEST_NO_AK when the
 * handle is empty.
 */
ROT_WARN_UNUSED rot_error_t attest_ak_read(attest_tpm_t *t, uint32_t handle,
                                           TPM2B_PUBLIC *pub,
                                           attest_buf_t *marshalled);

/**
 * attest_ak_read, and the AK's qualified name as the TPM computes it
 * (TPM2_ReadPublic): what every quote that key signs carries as
 * qualifiedSigner.
 */
ROT_WARN_UNUSED rot_error_t attest_ak_read_named(attest_tpm_t *t,
                                                 uint32_t handle,
                                                 TPM2B_PUBLIC *pub,
                                                 attest_buf_t *marshalled,
                                                 TPM2B_NAME *qualified);

/** SubjectPublicKeyInfo PEM of an ECC P-256 public area (malloc'd).
 * Errors: ROT_ERROR_UNSUPPORTED (another key type), ROT_ERROR_INTERNAL. */
ROT_WARN_UNUSED rot_error_t attest_ak_pem(const TPMT_PUBLIC *pub, char **out);

/**
 * Read an EK's public area and certificate (DER, malloc'd).
 * alg: TPM2_ALG_RSA or TPM2_ALG_ECC.
 */
ROT_WARN_UNUSED rot_error_t attest_ek_read(attest_tpm_t *t, uint16_t alg,
                                           TPM2B_PUBLIC *pub,
                                           attest_buf_t *cert);

/** The parts of one quote, as tpm2_checkquote reads them (malloc'd). */
typedef struct attest_quote {
  attest_buf_t attest;    /* TPMS_ATTEST */
  attest_buf_t signature; /* TPMT_SIGNATURE */
  attest_buf_t pcrs;      /* serialized PCR file */
} attest_quote_t;

/**
 * TPM2_Quote with the AK over pcr_mask (bits 0..23) in every bank in
 * banks[0..nbanks), qualifying data qual[0..qlen) (at most 64 bytes), and
 * the PCR values of the same selection: exactly the values whose digest
 * the quote carries (pcrDigest, under the signing scheme's hash). The
 * context keeps the values it last read and the AK's ESYS_TR, so a quote
 * is one TPM command while the PCRs stay as they were; a digest that
 * does not match the kept values has them read again, and a quote whose
 * PCRs changed before that read is made again.
 * Errors: ROT_ERROR_ATTEST_NO_AK, ROT_ERROR_TPM_*, ROT_ERROR_UNSUPPORTED
 * (a signing scheme whose hash this code does not compute).
 */
ROT_WARN_UNUSED rot_error_t attest_tpm_quote(attest_tpm_t *t, uint32_t ak,
                                             const uint8_t *qual, size_t qlen,
                                             uint32_t pcr_mask,
                                             const uint16_t *banks,
                                             size_t nbanks,
                                             attest_quote_t *out);
void attest_quote_free(attest_quote_t *q);

/** The TPM's active PCR banks (at most 4). */
ROT_WARN_UNUSED rot_error_t attest_tpm_banks(attest_tpm_t *t, uint16_t *banks,
                                             size_t *nbanks);

/**
 * TPM2_ActivateCredential: the AK at ak, the EK of ek_alg (policy session
 * with PolicySecret(endorsement), plus PolicyOR for the SHA-384 EK
 * template). blob: TPM2B_ID_OBJECT, secret: TPM2B_ENCRYPTED_SECRET, both
 * marshalled with their size prefix. cred (cap >= 64) gets the credential.
 * Errors: ROT_ERROR_ATTEST_CREDENTIAL (the TPM refused the blob: not for
 * this AK/EK, or tampered), ROT_ERROR_TPM_*.
 */
ROT_WARN_UNUSED rot_error_t attest_tpm_activate(attest_tpm_t *t, uint32_t ak,
                                                uint16_t ek_alg,
                                                const uint8_t *blob,
                                                size_t blob_len,
                                                const uint8_t *secret,
                                                size_t secret_len,
                                                uint8_t *cred, size_t cap,
                                                size_t *cred_len);

#endif /* ATTEST_TPM_H */
