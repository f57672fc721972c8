/*
 * The TPM structures evidence carries, decoded with bounds (tpm2-tss's
 * marshalling library, which checks every length) and with no byte left
 * over, plus tpm2-tools' serialized PCR file.
 */
#ifndef ATTEST_TPMS_H
#define ATTEST_TPMS_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "rot/error.h"

/*
 * tpm2-tools' serialized PCR file (tpm2_quote -o, tpm2_checkquote -f): a
 * TPML_PCR_SELECTION as the C struct lays it out (u32 count, then 16
 * entries of {u16 hash, u8 sizeofSelect, u8 pcrSelect[4], u8 pad}), a u32
 * count of TPML_DIGEST blocks, then that many TPML_DIGEST structs (u32
 * count, 8 x {u16 size, u8 buffer[64]}), all little-endian.
 */
#define ATTEST_PCRFILE_SEL_SIZE 132u
#define ATTEST_PCRFILE_DIGESTS_SIZE 532u
#define ATTEST_PCRFILE_MAX_LISTS 8u

/* PCR values in selection order: banks as selected, PCRs ascending. */
typedef struct attest_pcr_values {
  TPML_PCR_SELECTION sel;
  uint32_t count; /* values */
  struct {
    uint16_t alg;
    uint32_t pcr;
    uint16_t size;
    uint8_t value[64];
  } v[TPM2_NUM_PCR_BANKS * 24];
} attest_pcr_values_t;

/**
 * Decode a serialized PCR file. Checks the sizes, that the selection is
 * well-formed (count <= 16, sizeofSelect 3, hash a known bank), that
 * the digests match the selection one for one in number and size, and
 * that every byte carrying no value (padding, the fourth select byte,
 * unused entries, buffer bytes past a digest's size) is zero.
 * Errors: ROT_ERROR_ATTEST_BAD_EVIDENCE (malformed),
 * ROT_ERROR_ATTEST_PCR_PADDING (well-formed but a padding byte is set);
 * on either, out is all zero.
 */
ROT_WARN_UNUSED rot_error_t attest_pcrfile_decode(const uint8_t *p,
                                                  size_t len,
                                                  attest_pcr_values_t *out);

/** Encode PCR values (as read from a TPM) in that format (malloc'd). */
ROT_WARN_UNUSED rot_error_t attest_pcrfile_encode(
    const TPML_PCR_SELECTION *sel, const TPML_DIGEST *lists, uint32_t nlists,
    uint8_t **out, size_t *out_len);

/** Unmarshal a TPMS_ATTEST filling exactly len bytes. */
ROT_WARN_UNUSED rot_error_t attest_tpms_attest_decode(const uint8_t *p,
                                                      size_t len,
                                                      TPMS_ATTEST *out);

/** Unmarshal a TPMT_SIGNATURE filling exactly len bytes. */
ROT_WARN_UNUSED rot_error_t attest_tpmt_signature_decode(const uint8_t *p,
                                                         size_t len,
                                                         TPMT_SIGNATURE *out);

/** Unmarshal a TPM2B_PUBLIC (size prefix included) filling exactly len. */
ROT_WARN_UNUSED rot_error_t attest_tpm2b_public_decode(const uint8_t *p,
                                                       size_t len,
                                                       TPM2B_PUBLIC *out);

/**
 * The TPM name of a public area: nameAlg (u16 BE) || H_nameAlg(TPMT_PUBLIC
 * marshalled). name_cap >= 2 + 64. Errors: ROT_ERROR_UNSUPPORTED (a
 * nameAlg other than SHA-256/384), ROT_ERROR_INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t attest_tpm_name(const TPMT_PUBLIC *pub,
                                            uint8_t *name, size_t name_cap,
                                            size_t *name_len);

#endif /* ATTEST_TPMS_H */
