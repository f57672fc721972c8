/*
 * Bounded decoding of the TPM structures in evidence (attest/tpms.h).
 */
#include "attest/tpms.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <tss2/tss2_mu.h>

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint16_t le16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}
static void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static void put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static uint16_t bank_size(uint16_t alg) {
  switch (alg) {
  case TPM2_ALG_SHA1:
    return 20;
  case TPM2_ALG_SHA256:
    return 32;
  case TPM2_ALG_SHA384:
    return 48;
  case TPM2_ALG_SHA512:
    return 64;
  default:
    return 0;
  }
}

/* Offsets inside the serialized TPMS_PCR_SELECTION entries (8 bytes). */
#define SEL_ENTRY 8u
#define TPM2B_ENTRY 66u

static int all_zero(const uint8_t *p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc |= p[i];
  }
  return acc == 0;
}

/*
 * The bytes of a well-formed file that carry no value: in each used
 * selection entry the fourth select byte (sizeofSelect is 3) and the
 * struct's padding byte, the unused selection entries, and in each digest
 * list the buffer bytes past a digest's size and the unused digest
 * entries. tpm2-tools writes them zero; a value hidden there would pass
 * every other check, so none is taken. Called once the counts are checked.
 */
static int padding_zero(const uint8_t *p, uint32_t nsel, uint32_t nlists) {
  for (uint32_t i = 0; i < TPM2_NUM_PCR_BANKS; i++) {
    const uint8_t *e = p + 4 + i * SEL_ENTRY;
    if (i < nsel ? !all_zero(e + 6, 2) : !all_zero(e, SEL_ENTRY)) {
      return 0;
    }
  }
  for (uint32_t l = 0; l < nlists; l++) {
    const uint8_t *lp = p + ATTEST_PCRFILE_SEL_SIZE + 4u +
                        (size_t)l * ATTEST_PCRFILE_DIGESTS_SIZE;
    uint32_t count = le32(lp);
    for (uint32_t j = 0; j < 8; j++) {
      const uint8_t *d = lp + 4 + j * TPM2B_ENTRY;
      size_t used = j < count ? 2u + le16(d) : 0u;
      if (used > TPM2B_ENTRY || !all_zero(d + used, TPM2B_ENTRY - used)) {
        return 0;
      }
    }
  }
  return 1;
}

static rot_error_t pcrfile_decode(const uint8_t *p, size_t len,
                                  attest_pcr_values_t *out) {
  if (len < ATTEST_PCRFILE_SEL_SIZE + 4u) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  uint32_t nsel = le32(p);
  if (nsel == 0 || nsel > TPM2_NUM_PCR_BANKS) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  out->sel.count = nsel;
  uint32_t expected = 0;
  for (uint32_t i = 0; i < nsel; i++) {
    const uint8_t *e = p + 4 + i * SEL_ENTRY;
    TPMS_PCR_SELECTION *s = &out->sel.pcrSelections[i];
    s->hash = le16(e);
    s->sizeofSelect = e[2];
    if (bank_size(s->hash) == 0 || s->sizeofSelect != 3) {
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;
    }
    memcpy(s->pcrSelect, e + 3, 3);
    for (uint32_t b = 0; b < 24; b++) {
      expected += (s->pcrSelect[b / 8] >> (b % 8)) & 1u;
    }
  }
  if (expected == 0) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  uint32_t nlists = le32(p + ATTEST_PCRFILE_SEL_SIZE);
  if (nlists == 0 || nlists > ATTEST_PCRFILE_MAX_LISTS ||
      len != ATTEST_PCRFILE_SEL_SIZE + 4u +
                 (size_t)nlists * ATTEST_PCRFILE_DIGESTS_SIZE) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  /* Walk the selection in order, taking digests from the lists in order. */
  uint32_t list = 0, in_list = 0;
  const uint8_t *lp = p + ATTEST_PCRFILE_SEL_SIZE + 4u;
  uint32_t list_count = le32(lp);
  if (list_count > 8) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  for (uint32_t i = 0; i < nsel; i++) {
    const TPMS_PCR_SELECTION *s = &out->sel.pcrSelections[i];
    for (uint32_t pcr = 0; pcr < 24; pcr++) {
      if (!((s->pcrSelect[pcr / 8] >> (pcr % 8)) & 1u)) {
        continue;
      }
      while (in_list == list_count) {
        list++;
        if (list >= nlists) {
          return ROT_ERROR_ATTEST_BAD_EVIDENCE;
        }
        lp = p + ATTEST_PCRFILE_SEL_SIZE + 4u +
             (size_t)list * ATTEST_PCRFILE_DIGESTS_SIZE;
        list_count = le32(lp);
        in_list = 0;
        if (list_count == 0 || list_count > 8) {
          return ROT_ERROR_ATTEST_BAD_EVIDENCE;
        }
      }
      const uint8_t *d = lp + 4 + in_list * TPM2B_ENTRY;
      uint16_t size = le16(d);
      if (size != bank_size(s->hash) || out->count >= 24 * TPM2_NUM_PCR_BANKS) {
        return ROT_ERROR_ATTEST_BAD_EVIDENCE;
      }
      out->v[out->count].alg = s->hash;
      out->v[out->count].pcr = pcr;
      out->v[out->count].size = size;
      memcpy(out->v[out->count].value, d + 2, size);
      out->count++;
      in_list++;
    }
  }
  /* Every digest used, no list left over or partly used. */
  if (in_list != list_count || list + 1 != nlists) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  if (!padding_zero(p, nsel, nlists)) {
    return ROT_ERROR_ATTEST_PCR_PADDING;
  }
  return ROT_OK;
}

rot_error_t attest_pcrfile_decode(const uint8_t *p, size_t len,
                                  attest_pcr_values_t *out) {
  if (p == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  rot_error_t err = pcrfile_decode(p, len, out);
  if (err != ROT_OK) {
    /* Refused: nothing half decoded is left behind. */
    memset(out, 0, sizeof(*out));
  }
  return err;
}

rot_error_t attest_pcrfile_encode(const TPML_PCR_SELECTION *sel,
                                  const TPML_DIGEST *lists, uint32_t nlists,
                                  uint8_t **out, size_t *out_len) {
  if (sel == NULL || lists == NULL || out == NULL || out_len == NULL ||
      sel->count > TPM2_NUM_PCR_BANKS || nlists == 0 ||
      nlists > ATTEST_PCRFILE_MAX_LISTS) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t len = ATTEST_PCRFILE_SEL_SIZE + 4u +
               (size_t)nlists * ATTEST_PCRFILE_DIGESTS_SIZE;
  uint8_t *p = calloc(1, len);
  if (p == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  put_le32(p, sel->count);
  for (uint32_t i = 0; i < sel->count; i++) {
    uint8_t *e = p + 4 + i * SEL_ENTRY;
    put_le16(e, sel->pcrSelections[i].hash);
    e[2] = sel->pcrSelections[i].sizeofSelect;
    memcpy(e + 3, sel->pcrSelections[i].pcrSelect, 4);
  }
  put_le32(p + ATTEST_PCRFILE_SEL_SIZE, nlists);
  for (uint32_t l = 0; l < nlists; l++) {
    uint8_t *lp = p + ATTEST_PCRFILE_SEL_SIZE + 4u +
                  (size_t)l * ATTEST_PCRFILE_DIGESTS_SIZE;
    if (lists[l].count > 8) {
      free(p);
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    put_le32(lp, lists[l].count);
    for (uint32_t i = 0; i < lists[l].count; i++) {
      uint8_t *d = lp + 4 + i * TPM2B_ENTRY;
      uint16_t size = lists[l].digests[i].size;
      if (size > 64) {
        free(p);
        return ROT_ERROR_INVALID_ARGUMENT;
      }
      put_le16(d, size);
      memcpy(d + 2, lists[l].digests[i].buffer, size);
    }
  }
  *out = p;
  *out_len = len;
  return ROT_OK;
}

/*
 * The one decoding path for the TPM structures evidence carries: tpm2-tss's
 * unmarshalling, which bounds every length, and no byte left over. On a
 * failure the output is all zero, never half decoded. The prototypes in
 * attest/tpms.h pin each decoder's types.
 */
#define TPMS_EXACT_DECODER(fn_, type_)                                  \
  rot_error_t fn_(const uint8_t *p, size_t len, type_ *out) {          \
    size_t off = 0;                                                    \
    if (p == NULL || out == NULL) {                                    \
      return ROT_ERROR_INVALID_ARGUMENT;                               \
    }                                                                  \
    memset(out, 0, sizeof(*out));                                      \
    if (Tss2_MU_##type_##_Unmarshal(p, len, &off, out) !=              \
            TSS2_RC_SUCCESS ||                                         \
        off != len) {                                                  \
      memset(out, 0, sizeof(*out));                                    \
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;                            \
    }                                                                  \
    return ROT_OK;                                                     \
  }

TPMS_EXACT_DECODER(attest_tpms_attest_decode, TPMS_ATTEST)
TPMS_EXACT_DECODER(attest_tpmt_signature_decode, TPMT_SIGNATURE)
TPMS_EXACT_DECODER(attest_tpm2b_public_decode, TPM2B_PUBLIC)

rot_error_t attest_tpm_name(const TPMT_PUBLIC *pub, uint8_t *name,
                            size_t name_cap, size_t *name_len) {
  uint8_t buf[sizeof(TPMT_PUBLIC)];
  size_t off = 0;
  if (pub == NULL || name == NULL || name_len == NULL || name_cap < 2 + 64) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) !=
      TSS2_RC_SUCCESS) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  name[0] = (uint8_t)(pub->nameAlg >> 8);
  name[1] = (uint8_t)pub->nameAlg;
  if (pub->nameAlg == TPM2_ALG_SHA256) {
    if (mbedtls_sha256_ret(buf, off, name + 2, 0) != 0) {
      return ROT_ERROR_INTERNAL;
    }
    *name_len = 2 + 32;
  } else if (pub->nameAlg == TPM2_ALG_SHA384) {
    if (mbedtls_sha512_ret(buf, off, name + 2, 1) != 0) {
      return ROT_ERROR_INTERNAL;
    }
    *name_len = 2 + 48;
  } else {
    return ROT_ERROR_UNSUPPORTED;
  }
  return ROT_OK;
}
