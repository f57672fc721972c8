/*
 * The TPM, through tpm2-tss: ESAPI on top of the TCTI loader.
 *
 * The TCTI string follows tpm2-tss conventions ("swtpm:path=RUN/tpm.sock",
 * "device:/dev/tpmrm0", "mssim:host=localhost,port=2321", ...), so a
 * hardware TPM works unchanged. One bc_tpm_t holds one long-lived TCTI and
 * ESAPI context; it creates no TPM objects, so nothing needs flushing even
 * without a resource manager.
 *
 * Every failure leaves a line of text behind (bc_tpm_strerror): the
 * operation and tpm2-tss's decoded response code, e.g.
 * "PCR_Extend: tpm:error(2.0): ...". A TPM that goes away (the simulator
 * killed, the socket gone) makes the next call fail with
 * ROT_ERROR_TPM_UNAVAILABLE instead of hanging.
 *
 * Errors: ROT_ERROR_INVALID_ARGUMENT (NULL, PCR > 23, bad digest set),
 * ROT_ERROR_TPM_TCTI (the TCTI cannot be loaded or the TPM cannot be reached
 * when opening), ROT_ERROR_TPM_UNAVAILABLE (the TPM stopped answering),
 * ROT_ERROR_TPM_COMMAND (the TPM or tpm2-tss refused a command),
 * ROT_ERROR_BUFFER_TOO_SMALL.
 *
 * Not thread-safe: one thread uses a given bc_tpm_t.
 */
#ifndef BOOTCHAIN_TPM_H
#define BOOTCHAIN_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"

/* TPM_ALG_ID values (TPM 2.0 Part 2) of the hashes a PCR bank may use. */
#define BC_TPM_ALG_SHA1 0x0004u
#define BC_TPM_ALG_SHA256 0x000bu
#define BC_TPM_ALG_SHA384 0x000cu
#define BC_TPM_ALG_SHA512 0x000du

#define BC_TPM_PCR_COUNT 24u   /* PCRs 0..23, as in the PC Client profile */
#define BC_TPM_MAX_BANKS 4u    /* digests one extend may carry */
#define BC_TPM_MAX_DIGEST 64u  /* SHA-512 */

/** Environment variables consulted, in order, when no TCTI is given. */
#define BC_TPM_ENV_TCTI "BOOTCHAIN_TCTI"
#define BC_TPM_ENV_TCTI_TOOLS "TPM2TOOLS_TCTI"

/**
 * The digests of one measurement, one per bank: d[0..count). alg is a
 * BC_TPM_ALG_* id; only the first bc_tpm_alg_size(alg) bytes of digest are
 * used.
 */
typedef struct bc_tpm_digests {
  uint32_t count;
  struct {
    uint16_t alg;
    uint8_t digest[BC_TPM_MAX_DIGEST];
  } d[BC_TPM_MAX_BANKS];
} bc_tpm_digests;

typedef struct bc_tpm bc_tpm_t;

/** Digest size of a BC_TPM_ALG_* id in bytes, or 0 if unknown. */
size_t bc_tpm_alg_size(uint16_t alg);

/** Name of a BC_TPM_ALG_* id ("sha256"), or "unknown". */
const char *bc_tpm_alg_name(uint16_t alg);

/**
 * Open the TPM: load the TCTI and initialise ESAPI. TPM2_Startup(CLEAR)
 * is sent only if the TPM asks for it: the first command that gets
 * TPM_RC_INITIALIZE (a TPM not started yet) sends it and is sent again,
 * so a TPM that firmware already started costs no extra round trip.
 *
 * tcti_conf: a TCTI string; NULL means $BOOTCHAIN_TCTI, else
 * $TPM2TOOLS_TCTI, else tpm2-tss's default search (tabrmd, /dev/tpmrm0,
 * /dev/tpm0, mssim). Unless the user set TSS2_LOG, tpm2-tss's own logging is
 * silenced: failures are reported through bc_tpm_strerror instead.
 *
 * On success *tpm owns the contexts (release with bc_tpm_close). On failure
 * *tpm is NULL and bc_tpm_strerror(NULL) names the TCTI and the reason.
 * Errors: ROT_ERROR_TPM_TCTI, ROT_ERROR_TPM_COMMAND, ROT_ERROR_INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t bc_tpm_open(bc_tpm_t **tpm, const char *tcti_conf);

/**
 * Silence tpm2-tss's own logging (TSS2_LOG=all+NONE) unless the user set
 * TSS2_LOG: what bc_tpm_open does first. It changes the environment, so a
 * caller that opens the TPM on another thread calls it before starting
 * that thread (setenv is not safe against a concurrent getenv).
 */
void bc_tpm_quiet_logs(void);

/** Release the contexts. NULL is a no-op. */
void bc_tpm_close(bc_tpm_t *tpm);

/** The TCTI string in use ("(tpm2-tss default)" when none was given). */
const char *bc_tpm_tcti(const bc_tpm_t *tpm);

/**
 * The last failure on tpm as one line of text ("" if none yet). With NULL:
 * the last failure of bc_tpm_open in the calling thread.
 */
const char *bc_tpm_strerror(const bc_tpm_t *tpm);

/**
 * The TPM's active PCR banks (a bank is active when any PCR is selected in
 * it), in the order the TPM reports them.
 *
 * n: in, capacity of algs; out, number of active banks. If they do not fit,
 * returns ROT_ERROR_BUFFER_TOO_SMALL with *n set to the number needed.
 */
ROT_WARN_UNUSED rot_error_t bc_tpm_active_banks(bc_tpm_t *tpm, uint16_t *algs,
                                                size_t *n);

/**
 * Extend PCR pcr (0..23) with every digest in d, in one TPM2_PCR_Extend.
 * The caller decides which banks d must cover (normally every active bank);
 * banks that d leaves out are not touched by the TPM.
 * Errors: ROT_ERROR_INVALID_ARGUMENT (pcr > 23, count 0 or above
 * BC_TPM_MAX_BANKS, an unknown or repeated algorithm), ROT_ERROR_TPM_*.
 */
ROT_WARN_UNUSED rot_error_t bc_tpm_extend(bc_tpm_t *tpm, uint32_t pcr,
                                          const bc_tpm_digests *d);

/**
 * Read one PCR of one bank.
 * len: in, capacity of out; out, the digest size.
 * Errors: ROT_ERROR_BUFFER_TOO_SMALL (with *len set to the size needed),
 * ROT_ERROR_TPM_COMMAND (also when the bank is not active), others as above.
 */
ROT_WARN_UNUSED rot_error_t bc_tpm_pcr_read(bc_tpm_t *tpm, uint16_t alg,
                                            uint32_t pcr, uint8_t *out,
                                            size_t *len);

/**
 * Read several PCRs of one bank: values[i] for every bit i set in pcr_mask
 * (bits 24..31 must be clear). The TPM returns at most a few digests per
 * TPM2_PCR_Read; this asks again for the rest, and starts over if a PCR
 * changed in between, so the set is consistent.
 * digest_len (may be NULL): receives the digest size of alg.
 */
ROT_WARN_UNUSED rot_error_t bc_tpm_pcr_read_bank(
    bc_tpm_t *tpm, uint16_t alg, uint32_t pcr_mask,
    uint8_t values[BC_TPM_PCR_COUNT][BC_TPM_MAX_DIGEST], size_t *digest_len);

#endif /* BOOTCHAIN_TPM_H */
