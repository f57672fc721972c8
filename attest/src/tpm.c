/*
 * AK, EK, quotes and credential activation through tpm2-tss ESAPI
 * (attest/tpm.h).
 */
#include "attest/tpm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "attest/tpms.h"
#include "internal.h"

#define ERR_MAX 512
#define QUOTE_ATTEMPTS 3
#define NV_CHUNK 512u

/* PCR values as last read, per bank and index: a quote's pcrDigest is
 * checked against them, and they are read again only when it does not
 * match (see attest_tpm_quote). */
typedef struct pcr_bank {
  uint16_t alg;     /* 0: slot free */
  uint32_t have;    /* PCRs with a value below */
  uint16_t size[24];
  uint8_t val[24][64];
} pcr_bank_t;

struct attest_tpm {
  TSS2_TCTI_CONTEXT *tcti;
  ESYS_CONTEXT *esys;
  char err[ERR_MAX];
  /* The key quotes were last made with: its handle and ESYS_TR, kept
   * open between quotes (ESAPI hands the same ESYS_TR to every lookup of
   * that handle, so the other users release it through put_tr). */
  uint32_t quote_key;
  ESYS_TR quote_tr;
  pcr_bank_t pcr[TPM2_NUM_PCR_BANKS];
  TPML_DIGEST lists[ATTEST_PCRFILE_MAX_LISTS];
};

/* Release a persistent object's ESYS_TR, unless it is the one quotes
 * keep open. */
static void put_tr(attest_tpm_t *t, ESYS_TR *tr) {
  if (*tr != ESYS_TR_NONE && *tr == t->quote_tr) {
    *tr = ESYS_TR_NONE;
    return;
  }
  Esys_TR_Close(t->esys, tr);
}

/* Forget the key quotes keep open (it was evicted, or failed). */
static void drop_quote_key(attest_tpm_t *t) {
  if (t->quote_tr != ESYS_TR_NONE) {
    Esys_TR_Close(t->esys, &t->quote_tr);
  }
  t->quote_tr = ESYS_TR_NONE;
  t->quote_key = 0;
}

static _Thread_local char open_err[ERR_MAX];

static void set_err(attest_tpm_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(attest_tpm_t *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(t != NULL ? t->err : open_err, ERR_MAX, fmt, ap);
  va_end(ap);
}

static rot_error_t fail_rc(attest_tpm_t *t, const char *op, TSS2_RC rc) {
  set_err(t, "%s: %s", op, Tss2_RC_Decode(rc));
  return (rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER
             ? ROT_ERROR_TPM_UNAVAILABLE
             : ROT_ERROR_TPM_COMMAND;
}

const char *attest_tpm_strerror(const attest_tpm_t *t) {
  return t != NULL ? t->err : open_err;
}

static const char *env_nonempty(const char *name) {
  const char *v = getenv(name);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

void attest_tpm_close(attest_tpm_t *t) {
  if (t == NULL) {
    return;
  }
  if (t->esys != NULL) {
    Esys_Finalize(&t->esys);
  }
  if (t->tcti != NULL) {
    Tss2_TctiLdr_Finalize(&t->tcti);
  }
  free(t);
}

rot_error_t attest_tpm_open(attest_tpm_t **out, const char *tcti) {
  open_err[0] = '\0';
  if (out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = NULL;
  const char *conf = tcti != NULL && tcti[0] != '\0' ? tcti : NULL;
  if (conf == NULL) {
    conf = env_nonempty(ATTEST_ENV_TCTI);
  }
  if (conf == NULL) {
    conf = env_nonempty("TPM2TOOLS_TCTI");
  }
  (void)setenv("TSS2_LOG", "all+NONE", 0);
  attest_tpm_t *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    set_err(NULL, "out of memory");
    return ROT_ERROR_INTERNAL;
  }
  t->quote_tr = ESYS_TR_NONE;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(conf, &t->tcti);
  if (rc != TSS2_RC_SUCCESS) {
    t->tcti = NULL;
    set_err(NULL, "cannot load or connect TCTI \"%s\": %s",
            conf != NULL ? conf : "(tpm2-tss default)", Tss2_RC_Decode(rc));
    attest_tpm_close(t);
    return ROT_ERROR_TPM_TCTI;
  }
  rc = Esys_Initialize(&t->esys, t->tcti, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    t->esys = NULL;
    set_err(NULL, "Esys_Initialize: %s", Tss2_RC_Decode(rc));
    attest_tpm_close(t);
    return ROT_ERROR_TPM_COMMAND;
  }
  rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
  if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
    set_err(NULL, "Startup: %s", Tss2_RC_Decode(rc));
    attest_tpm_close(t);
    return (rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER
               ? ROT_ERROR_TPM_TCTI
               : ROT_ERROR_TPM_COMMAND;
  }
  *out = t;
  return ROT_OK;
}

/* The AK template (attest/tpm.h). */
static void ak_template(TPM2B_PUBLIC *pub) {
  memset(pub, 0, sizeof(*pub));
  TPMT_PUBLIC *a = &pub->publicArea;
  a->type = TPM2_ALG_ECC;
  a->nameAlg = TPM2_ALG_SHA256;
  a->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                        TPMA_OBJECT_SENSITIVEDATAORIGIN |
                        TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED |
                        TPMA_OBJECT_SIGN_ENCRYPT;
  a->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  a->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  a->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  a->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  a->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

/* ESYS_TR of a persistent handle, or NONE (and ROT_ERROR_ATTEST_NO_AK-ish
 * for the caller to name) when nothing is there. */
static rot_error_t persistent_tr(attest_tpm_t *t, uint32_t handle,
                                 ESYS_TR *tr, int *absent) {
  *tr = ESYS_TR_NONE;
  *absent = 0;
  TSS2_RC rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE,
                                     ESYS_TR_NONE, ESYS_TR_NONE, tr);
  if (rc == TSS2_RC_SUCCESS) {
    return ROT_OK;
  }
  /* TPM_RC_HANDLE (format 1, any parameter number): nothing there. */
  if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && (rc & 0x80u) != 0 &&
      (rc & 0x3fu) == (TPM2_RC_HANDLE & 0x3fu)) {
    *absent = 1;
    set_err(t, "no object at handle 0x%08x", handle);
    return ROT_ERROR_ATTEST_NO_AK;
  }
  return fail_rc(t, "TR_FromTPMPublic", rc);
}

rot_error_t attest_ak_create(attest_tpm_t *t, uint32_t handle, int force) {
  if (t == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  drop_quote_key(t); /* the key at handle may be replaced */
  ESYS_TR old = ESYS_TR_NONE;
  int absent = 0;
  rot_error_t err = persistent_tr(t, handle, &old, &absent);
  if (err == ROT_OK) {
    if (!force) {
      Esys_TR_Close(t->esys, &old);
      set_err(t, "an object already lives at 0x%08x (ak create --force "
                 "replaces it)", handle);
      return ROT_ERROR_IO_WRITE;
    }
    ESYS_TR gone = ESYS_TR_NONE;
    TSS2_RC rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, old,
                                   ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE, handle, &gone);
    if (rc != TSS2_RC_SUCCESS) {
      Esys_TR_Close(t->esys, &old);
      return fail_rc(t, "EvictControl (remove old AK)", rc);
    }
  } else if (!absent) {
    return err;
  }

  TPM2B_SENSITIVE_CREATE sens;
  memset(&sens, 0, sizeof(sens));
  TPM2B_PUBLIC tmpl;
  ak_template(&tmpl);
  TPM2B_DATA outside = {.size = 0};
  TPML_PCR_SELECTION none = {.count = 0};
  ESYS_TR obj = ESYS_TR_NONE;
  TSS2_RC rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT,
                                  ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &sens, &tmpl, &outside, &none,
                                  &obj, NULL, NULL, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    return fail_rc(t, "CreatePrimary (AK)", rc);
  }
  ESYS_TR persisted = ESYS_TR_NONE;
  rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD,
                         ESYS_TR_NONE, ESYS_TR_NONE, handle, &persisted);
  (void)Esys_FlushContext(t->esys, obj);
  if (rc != TSS2_RC_SUCCESS) {
    return fail_rc(t, "EvictControl (persist AK)", rc);
  }
  Esys_TR_Close(t->esys, &persisted);
  return ROT_OK;
}

static rot_error_t read_public(attest_tpm_t *t, uint32_t handle,
                               TPM2B_PUBLIC *pub, attest_buf_t *marshalled,
                               TPM2B_NAME *qualified, rot_error_t absent_err) {
  ESYS_TR tr;
  int absent = 0;
  rot_error_t err = persistent_tr(t, handle, &tr, &absent);
  if (err != ROT_OK) {
    return absent ? absent_err : err;
  }
  TPM2B_PUBLIC *out = NULL;
  TPM2B_NAME *qn = NULL;
  TSS2_RC rc = Esys_ReadPublic(t->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, &out, NULL,
                               qualified != NULL ? &qn : NULL);
  put_tr(t, &tr);
  if (rc != TSS2_RC_SUCCESS) {
    return fail_rc(t, "ReadPublic", rc);
  }
  *pub = *out;
  Esys_Free(out);
  if (qualified != NULL) {
    *qualified = *qn;
    Esys_Free(qn);
  }
  if (marshalled != NULL) {
    uint8_t buf[sizeof(TPM2B_PUBLIC)];
    size_t off = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) !=
        TSS2_RC_SUCCESS) {
      set_err(t, "cannot marshal the public area");
      return ROT_ERROR_INTERNAL;
    }
    return attest_buf_set(marshalled, buf, off);
  }
  return ROT_OK;
}

rot_error_t attest_ak_read(attest_tpm_t *t, uint32_t handle, TPM2B_PUBLIC *pub,
                           attest_buf_t *marshalled) {
  if (t == NULL || pub == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return read_public(t, handle, pub, marshalled, NULL, ROT_ERROR_ATTEST_NO_AK);
}

rot_error_t attest_ak_read_named(attest_tpm_t *t, uint32_t handle,
                                 TPM2B_PUBLIC *pub, attest_buf_t *marshalled,
                                 TPM2B_NAME *qualified) {
  if (t == NULL || pub == NULL || qualified == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return read_public(t, handle, pub, marshalled, qualified,
                     ROT_ERROR_ATTEST_NO_AK);
}

static rot_error_t nv_read_all(attest_tpm_t *t, uint32_t index,
                               attest_buf_t *out) {
  ESYS_TR nv = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE,
                                     ESYS_TR_NONE, ESYS_TR_NONE, &nv);
  if (rc != TSS2_RC_SUCCESS) {
    return fail_rc(t, "TR_FromTPMPublic (EK certificate NV index)", rc);
  }
  TPM2B_NV_PUBLIC *npub = NULL;
  rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE,
                          ESYS_TR_NONE, &npub, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    Esys_TR_Close(t->esys, &nv);
    return fail_rc(t, "NV_ReadPublic", rc);
  }
  uint16_t size = npub->nvPublic.dataSize;
  Esys_Free(npub);
  uint8_t *buf = malloc(size > 0 ? size : 1);
  if (buf == NULL) {
    Esys_TR_Close(t->esys, &nv);
    return ROT_ERROR_INTERNAL;
  }
  uint16_t off = 0;
  while (off < size) {
    uint16_t n = (uint16_t)((size_t)(size - off) > NV_CHUNK ? NV_CHUNK : (size_t)(size - off));
    TPM2B_MAX_NV_BUFFER *data = NULL;
    rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD,
                      ESYS_TR_NONE, ESYS_TR_NONE, n, off, &data);
    if (rc != TSS2_RC_SUCCESS || data->size != n) {
      Esys_Free(data);
      free(buf);
      Esys_TR_Close(t->esys, &nv);
      return rc != TSS2_RC_SUCCESS ? fail_rc(t, "NV_Read", rc)
                                   : ROT_ERROR_TPM_COMMAND;
    }
    memcpy(buf + off, data->buffer, n);
    Esys_Free(data);
    off = (uint16_t)(off + n);
  }
  Esys_TR_Close(t->esys, &nv);
  /* A DER certificate: drop the zero padding some vendors leave after it. */
  size_t len = size;
  if (len >= 4 && buf[0] == 0x30 && buf[1] == 0x82) {
    size_t der = 4u + ((size_t)buf[2] << 8 | buf[3]);
    if (der <= len) {
      len = der;
    }
  }
  out->p = buf;
  out->len = len;
  return ROT_OK;
}

rot_error_t attest_ek_read(attest_tpm_t *t, uint16_t alg, TPM2B_PUBLIC *pub,
                           attest_buf_t *cert) {
  if (t == NULL || pub == NULL || cert == NULL ||
      (alg != TPM2_ALG_RSA && alg != TPM2_ALG_ECC)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint32_t h = alg == TPM2_ALG_RSA ? ATTEST_EK_RSA_HANDLE
                                   : ATTEST_EK_ECC_HANDLE;
  uint32_t nv = alg == TPM2_ALG_RSA ? ATTEST_EK_RSA_CERT_NV
                                    : ATTEST_EK_ECC_CERT_NV;
  ROT_TRY(read_public(t, h, pub, NULL, NULL, ROT_ERROR_TPM_COMMAND));
  return nv_read_all(t, nv, cert);
}

rot_error_t attest_tpm_banks(attest_tpm_t *t, uint16_t *banks,
                             size_t *nbanks) {
  if (t == NULL || banks == NULL || nbanks == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  TPMS_CAPABILITY_DATA *cap = NULL;
  TPMI_YES_NO more;
  TSS2_RC rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
                                  ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more,
                                  &cap);
  if (rc != TSS2_RC_SUCCESS) {
    return fail_rc(t, "GetCapability(PCRS)", rc);
  }
  size_t n = 0;
  const TPML_PCR_SELECTION *s = &cap->data.assignedPCR;
  for (uint32_t i = 0; i < s->count && i < TPM2_NUM_PCR_BANKS; i++) {
    const TPMS_PCR_SELECTION *b = &s->pcrSelections[i];
    int active = 0;
    for (uint32_t j = 0; j < b->sizeofSelect && j < TPM2_PCR_SELECT_MAX; j++) {
      active |= b->pcrSelect[j] != 0;
    }
    if (active && n < *nbanks) {
      banks[n++] = b->hash;
    }
  }
  Esys_Free(cap);
  *nbanks = n;
  return ROT_OK;
}

static void make_selection(TPML_PCR_SELECTION *sel, uint32_t mask,
                           const uint16_t *banks, size_t nbanks) {
  memset(sel, 0, sizeof(*sel));
  sel->count = (uint32_t)nbanks;
  for (size_t i = 0; i < nbanks; i++) {
    sel->pcrSelections[i].hash = banks[i];
    sel->pcrSelections[i].sizeofSelect = 3;
    sel->pcrSelections[i].pcrSelect[0] = (uint8_t)mask;
    sel->pcrSelections[i].pcrSelect[1] = (uint8_t)(mask >> 8);
    sel->pcrSelections[i].pcrSelect[2] = (uint8_t)(mask >> 16);
  }
}

/* Read every PCR of sel into lists of 8 digests, in selection order: one
 * PCR_Read per bank, asking again for what the TPM left out (it returns
 * at most 8 digests at a time, and says which). */
static rot_error_t read_pcrs(attest_tpm_t *t, const TPML_PCR_SELECTION *sel,
                             TPML_DIGEST *lists, uint32_t *nlists) {
  memset(lists, 0, sizeof(TPML_DIGEST) * ATTEST_PCRFILE_MAX_LISTS);
  uint32_t total = 0;
  for (uint32_t b = 0; b < sel->count; b++) {
    uint32_t want = (uint32_t)sel->pcrSelections[b].pcrSelect[0] |
                    (uint32_t)sel->pcrSelections[b].pcrSelect[1] << 8 |
                    (uint32_t)sel->pcrSelections[b].pcrSelect[2] << 16;
    uint8_t got_vals[24][64];
    uint16_t got_size[24] = {0};
    uint32_t done = 0;
    for (int round = 0; round < 24 && (want & ~done) != 0; round++) {
      uint32_t ask = want & ~done;
      TPML_PCR_SELECTION one = {.count = 1};
      one.pcrSelections[0].hash = sel->pcrSelections[b].hash;
      one.pcrSelections[0].sizeofSelect = 3;
      one.pcrSelections[0].pcrSelect[0] = (uint8_t)ask;
      one.pcrSelections[0].pcrSelect[1] = (uint8_t)(ask >> 8);
      one.pcrSelections[0].pcrSelect[2] = (uint8_t)(ask >> 16);
      TPML_DIGEST *vals = NULL;
      TPML_PCR_SELECTION *out = NULL;
      UINT32 counter;
      TSS2_RC rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
                                 ESYS_TR_NONE, &one, &counter, &out, &vals);
      if (rc != TSS2_RC_SUCCESS) {
        return fail_rc(t, "PCR_Read", rc);
      }
      uint32_t read = 0;
      if (out->count == 1 && out->pcrSelections[0].hash == one.pcrSelections[0].hash) {
        const TPMS_PCR_SELECTION *o = &out->pcrSelections[0];
        for (uint32_t k = 0; k < o->sizeofSelect && k < 3; k++) {
          read |= (uint32_t)o->pcrSelect[k] << (8 * k);
        }
      }
      read &= ask;
      uint32_t idx = 0;
      int okv = read != 0;
      for (uint32_t pcr = 0; okv && pcr < 24; pcr++) {
        if (!((read >> pcr) & 1u)) {
          continue;
        }
        okv = idx < vals->count && vals->digests[idx].size <= 64;
        if (okv) {
          got_size[pcr] = vals->digests[idx].size;
          memcpy(got_vals[pcr], vals->digests[idx].buffer, got_size[pcr]);
          idx++;
        }
      }
      okv = okv && idx == vals->count;
      Esys_Free(vals);
      Esys_Free(out);
      if (!okv) {
        set_err(t, "PCR_Read: bank 0x%04x: the TPM read none or answered "
                   "inconsistently (inactive bank?)",
                one.pcrSelections[0].hash);
        return ROT_ERROR_TPM_COMMAND;
      }
      done |= read;
    }
    if ((want & ~done) != 0) {
      set_err(t, "PCR_Read: bank 0x%04x not fully read",
              sel->pcrSelections[b].hash);
      return ROT_ERROR_TPM_COMMAND;
    }
    for (uint32_t pcr = 0; pcr < 24; pcr++) {
      if (!((want >> pcr) & 1u)) {
        continue;
      }
      if (total / 8 >= ATTEST_PCRFILE_MAX_LISTS) {
        set_err(t, "PCR_Read: too many PCRs selected");
        return ROT_ERROR_INVALID_ARGUMENT;
      }
      TPM2B_DIGEST *d = &lists[total / 8].digests[total % 8];
      d->size = got_size[pcr];
      memcpy(d->buffer, got_vals[pcr], got_size[pcr]);
      lists[total / 8].count++;
      total++;
    }
  }
  *nlists = (total + 7) / 8;
  return ROT_OK;
}

void attest_quote_free(attest_quote_t *q) {
  if (q != NULL) {
    attest_buf_free(&q->attest);
    attest_buf_free(&q->signature);
    attest_buf_free(&q->pcrs);
  }
}

/* The kept value slot of bank alg (a free one taken when absent; NULL
 * when all are used by other banks). */
static pcr_bank_t *pcr_slot(attest_tpm_t *t, uint16_t alg) {
  pcr_bank_t *free_slot = NULL;
  for (size_t i = 0; i < TPM2_NUM_PCR_BANKS; i++) {
    if (t->pcr[i].alg == alg) {
      return &t->pcr[i];
    }
    if (t->pcr[i].alg == 0 && free_slot == NULL) {
      free_slot = &t->pcr[i];
    }
  }
  if (free_slot != NULL) {
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->alg = alg;
  }
  return free_slot;
}

/* The kept values of sel into lists (selection order, 8 a list); 0 when
 * one of them was never read. */
static int kept_lists(attest_tpm_t *t, const TPML_PCR_SELECTION *sel,
                      TPML_DIGEST *lists, uint32_t *nlists) {
  memset(lists, 0, sizeof(TPML_DIGEST) * ATTEST_PCRFILE_MAX_LISTS);
  uint32_t total = 0;
  for (uint32_t b = 0; b < sel->count; b++) {
    const TPMS_PCR_SELECTION *s = &sel->pcrSelections[b];
    uint32_t want = (uint32_t)s->pcrSelect[0] | (uint32_t)s->pcrSelect[1] << 8 |
                    (uint32_t)s->pcrSelect[2] << 16;
    const pcr_bank_t *k = NULL;
    for (size_t i = 0; i < TPM2_NUM_PCR_BANKS && k == NULL; i++) {
      k = t->pcr[i].alg == s->hash ? &t->pcr[i] : NULL;
    }
    if (k == NULL || (k->have & want) != want) {
      return 0;
    }
    for (uint32_t pcr = 0; pcr < 24; pcr++) {
      if (!((want >> pcr) & 1u)) {
        continue;
      }
      if (total / 8 >= ATTEST_PCRFILE_MAX_LISTS) {
        return 0;
      }
      TPM2B_DIGEST *d = &lists[total / 8].digests[total % 8];
      d->size = k->size[pcr];
      memcpy(d->buffer, k->val[pcr], k->size[pcr]);
      lists[total / 8].count++;
      total++;
    }
  }
  *nlists = (total + 7) / 8;
  return total > 0;
}

/* Keep the values of sel just read (lists, selection order). */
static void keep_lists(attest_tpm_t *t, const TPML_PCR_SELECTION *sel,
                       const TPML_DIGEST *lists) {
  uint32_t total = 0;
  for (uint32_t b = 0; b < sel->count; b++) {
    const TPMS_PCR_SELECTION *s = &sel->pcrSelections[b];
    uint32_t want = (uint32_t)s->pcrSelect[0] | (uint32_t)s->pcrSelect[1] << 8 |
                    (uint32_t)s->pcrSelect[2] << 16;
    pcr_bank_t *k = pcr_slot(t, s->hash);
    for (uint32_t pcr = 0; pcr < 24; pcr++) {
      if (!((want >> pcr) & 1u)) {
        continue;
      }
      const TPM2B_DIGEST *d = &lists[total / 8].digests[total % 8];
      total++;
      if (k != NULL && d->size <= sizeof(k->val[0])) {
        k->size[pcr] = d->size;
        memcpy(k->val[pcr], d->buffer, d->size);
        k->have |= 1u << pcr;
      }
    }
  }
}

/* H_alg over the values of lists in order, what TPM2_Quote puts in
 * pcrDigest; 0 when alg is not a hash this code computes. */
static int pcr_digest(uint16_t alg, const TPML_DIGEST *lists, uint32_t nlists,
                      uint8_t *out, size_t *len) {
  mbedtls_sha1_context c1;
  mbedtls_sha256_context c256;
  mbedtls_sha512_context c512;
  int ok = 1;
  switch (alg) {
    case TPM2_ALG_SHA1:
      mbedtls_sha1_init(&c1);
      ok = mbedtls_sha1_starts_ret(&c1) == 0;
      *len = 20;
      break;
    case TPM2_ALG_SHA256:
      mbedtls_sha256_init(&c256);
      ok = mbedtls_sha256_starts_ret(&c256, 0) == 0;
      *len = 32;
      break;
    case TPM2_ALG_SHA384:
    case TPM2_ALG_SHA512:
      mbedtls_sha512_init(&c512);
      ok = mbedtls_sha512_starts_ret(&c512, alg == TPM2_ALG_SHA384) == 0;
      *len = alg == TPM2_ALG_SHA384 ? 48 : 64;
      break;
    default:
      return 0;
  }
  for (uint32_t l = 0; ok && l < nlists; l++) {
    for (uint32_t i = 0; ok && i < lists[l].count && i < 8; i++) {
      const TPM2B_DIGEST *d = &lists[l].digests[i];
      ok = (alg == TPM2_ALG_SHA1     ? mbedtls_sha1_update_ret(&c1, d->buffer, d->size)
            : alg == TPM2_ALG_SHA256 ? mbedtls_sha256_update_ret(&c256, d->buffer, d->size)
                                     : mbedtls_sha512_update_ret(&c512, d->buffer, d->size)) == 0;
    }
  }
  if (ok) {
    ok = (alg == TPM2_ALG_SHA1     ? mbedtls_sha1_finish_ret(&c1, out)
          : alg == TPM2_ALG_SHA256 ? mbedtls_sha256_finish_ret(&c256, out)
                                   : mbedtls_sha512_finish_ret(&c512, out)) == 0;
  }
  if (alg == TPM2_ALG_SHA1) {
    mbedtls_sha1_free(&c1);
  } else if (alg == TPM2_ALG_SHA256) {
    mbedtls_sha256_free(&c256);
  } else {
    mbedtls_sha512_free(&c512);
  }
  return ok;
}

/* The hash of a signature's scheme: the one TPM2_Quote digests the PCRs
 * with. 0 for a scheme without one. */
static uint16_t sig_hash(const TPMT_SIGNATURE *sig) {
  switch (sig->sigAlg) {
    case TPM2_ALG_ECDSA:
    case TPM2_ALG_ECDAA:
    case TPM2_ALG_SM2:
    case TPM2_ALG_ECSCHNORR:
      return sig->signature.ecdsa.hash;
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS:
      return sig->signature.rsassa.hash;
    case TPM2_ALG_HMAC:
      return sig->signature.hmac.hashAlg;
    default:
      return 0;
  }
}

/* 1 when values (lists) are what attest's pcrDigest covers. */
static int digest_matches(uint16_t alg, const TPML_DIGEST *lists,
                          uint32_t nlists, const TPM2B_DIGEST *quoted) {
  uint8_t d[64];
  size_t len = 0;
  return pcr_digest(alg, lists, nlists, d, &len) && quoted->size == len &&
         memcmp(d, quoted->buffer, len) == 0;
}

/* The AK's ESYS_TR for a quote: the one kept open, else looked up (and
 * kept). */
static rot_error_t quote_key(attest_tpm_t *t, uint32_t ak, ESYS_TR *key) {
  if (t->quote_tr != ESYS_TR_NONE && t->quote_key == ak) {
    *key = t->quote_tr;
    return ROT_OK;
  }
  drop_quote_key(t);
  int absent = 0;
  ROT_TRY(persistent_tr(t, ak, key, &absent));
  t->quote_tr = *key;
  t->quote_key = ak;
  return ROT_OK;
}

rot_error_t attest_tpm_quote(attest_tpm_t *t, uint32_t ak, const uint8_t *qual,
                             size_t qlen, uint32_t pcr_mask,
                             const uint16_t *banks, size_t nbanks,
                             attest_quote_t *out) {
  if (t == NULL || out == NULL || (qual == NULL && qlen > 0) || qlen > 64 ||
      banks == NULL || nbanks == 0 || nbanks > TPM2_NUM_PCR_BANKS ||
      pcr_mask == 0 || (pcr_mask >> 24) != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  ESYS_TR key;
  int kept = t->quote_tr != ESYS_TR_NONE && t->quote_key == ak;
  ROT_TRY(quote_key(t, ak, &key));
  TPML_PCR_SELECTION sel;
  make_selection(&sel, pcr_mask, banks, nbanks);
  TPM2B_DATA q = {.size = (UINT16)qlen};
  if (qlen > 0) {
    memcpy(q.buffer, qual, qlen);
  }
  TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
  TPML_DIGEST *lists = t->lists;
  rot_error_t err = ROT_ERROR_TPM_PCR_MISMATCH;
  /* One TPM2_Quote; the values served beside it are those whose digest
   * it carries: the kept ones when they still match, else read again
   * (and kept). When the PCRs change between the quote and the read, the
   * quote is made again. */
  for (int attempt = 0; attempt < QUOTE_ATTEMPTS; attempt++) {
    TPM2B_ATTEST *quoted = NULL;
    TPMT_SIGNATURE *sig = NULL;
    TSS2_RC rc = Esys_Quote(t->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &q, &scheme, &sel, &quoted, &sig);
    if (rc != TSS2_RC_SUCCESS && kept) {
      /* The kept key may be gone (evicted, replaced): look it up again. */
      kept = 0;
      drop_quote_key(t);
      err = quote_key(t, ak, &key);
      if (err != ROT_OK) {
        break;
      }
      attempt--;
      continue;
    }
    if (rc != TSS2_RC_SUCCESS) {
      drop_quote_key(t);
      err = fail_rc(t, "Quote", rc);
      break;
    }
    TPMS_ATTEST at;
    uint16_t alg = sig_hash(sig);
    uint32_t n = 0;
    err = attest_tpms_attest_decode(quoted->attestationData, quoted->size, &at);
    if (err != ROT_OK || at.type != TPM2_ST_ATTEST_QUOTE) {
      set_err(t, "Quote: the TPM's attestation structure is not a quote");
      err = ROT_ERROR_TPM_COMMAND;
    } else if (alg != TPM2_ALG_SHA1 && alg != TPM2_ALG_SHA256 &&
               alg != TPM2_ALG_SHA384 && alg != TPM2_ALG_SHA512) {
      set_err(t, "Quote: signing scheme 0x%04x digests the PCRs with a "
                 "hash this code does not compute (0x%04x)", sig->sigAlg, alg);
      err = ROT_ERROR_UNSUPPORTED;
    } else if (kept_lists(t, &sel, lists, &n) &&
               digest_matches(alg, lists, n, &at.attested.quote.pcrDigest)) {
      err = ROT_OK;
    } else {
      err = read_pcrs(t, &sel, lists, &n);
      if (err == ROT_OK) {
        keep_lists(t, &sel, lists);
        if (!digest_matches(alg, lists, n, &at.attested.quote.pcrDigest)) {
          err = ROT_ERROR_TPM_PCR_MISMATCH; /* extended meanwhile: again */
          set_err(t, "PCRs changed while quoting");
        }
      }
    }
    if (err == ROT_OK) {
      uint8_t sbuf[sizeof(TPMT_SIGNATURE)];
      size_t soff = 0;
      if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sbuf, sizeof(sbuf), &soff) !=
          TSS2_RC_SUCCESS) {
        err = ROT_ERROR_INTERNAL;
      } else {
        err = attest_buf_set(&out->attest, quoted->attestationData,
                             quoted->size);
        if (err == ROT_OK) {
          err = attest_buf_set(&out->signature, sbuf, soff);
        }
        if (err == ROT_OK) {
          err = attest_pcrfile_encode(&sel, lists, n, &out->pcrs.p,
                                      &out->pcrs.len);
        }
      }
    }
    Esys_Free(quoted);
    Esys_Free(sig);
    if (err != ROT_ERROR_TPM_PCR_MISMATCH) {
      break;
    }
  }
  if (err != ROT_OK) {
    attest_quote_free(out);
  }
  return err;
}

/* PolicyC of the TCG EK Credential Profile's SHA-384 templates, the second
 * branch of the EK's PolicyOR (the first is PolicySecret(endorsement)). */
static const uint8_t ek_policy_a_sha384[48] = {
    0x8b, 0xbf, 0x22, 0x66, 0x53, 0x7c, 0x17, 0x1c, 0xb5, 0x6e, 0x40, 0x3c,
    0x4d, 0xc1, 0xd4, 0xb6, 0x4f, 0x43, 0x26, 0x11, 0xdc, 0x38, 0x6e, 0x6f,
    0x53, 0x20, 0x50, 0xc3, 0x27, 0x8c, 0x93, 0x0e, 0x14, 0x3e, 0x8b, 0xb1,
    0x13, 0x38, 0x24, 0xcc, 0xb4, 0x31, 0x05, 0x38, 0x71, 0xc6, 0xdb, 0x53};
static const uint8_t ek_policy_c_sha384[48] = {
    0xd6, 0x03, 0x2c, 0xe6, 0x1f, 0x2f, 0xb3, 0xc2, 0x40, 0xeb, 0x3c, 0xf6,
    0xa3, 0x32, 0x37, 0xef, 0x2b, 0x6a, 0x16, 0xf4, 0x29, 0x3c, 0x22, 0xb4,
    0x55, 0xe2, 0x61, 0xcf, 0xfd, 0x21, 0x7a, 0xd5, 0xb4, 0x94, 0x7c, 0x2d,
    0x73, 0xe6, 0x30, 0x05, 0xee, 0xd2, 0xdc, 0x2b, 0x35, 0x93, 0xd1, 0x65};

rot_error_t attest_tpm_activate(attest_tpm_t *t, uint32_t ak, uint16_t ek_alg,
                                const uint8_t *blob, size_t blob_len,
                                const uint8_t *secret, size_t secret_len,
                                uint8_t *cred, size_t cap, size_t *cred_len) {
  if (t == NULL || blob == NULL || secret == NULL || cred == NULL ||
      cred_len == NULL || (ek_alg != TPM2_ALG_RSA && ek_alg != TPM2_ALG_ECC)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  TPM2B_ID_OBJECT idobj;
  TPM2B_ENCRYPTED_SECRET sec;
  size_t off = 0;
  memset(&idobj, 0, sizeof(idobj));
  memset(&sec, 0, sizeof(sec));
  if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &off, &idobj) !=
          TSS2_RC_SUCCESS ||
      off != blob_len) {
    set_err(t, "credential blob is not one TPM2B_ID_OBJECT");
    return ROT_ERROR_ATTEST_CREDENTIAL;
  }
  off = 0;
  if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(secret, secret_len, &off,
                                               &sec) != TSS2_RC_SUCCESS ||
      off != secret_len) {
    set_err(t, "secret is not one TPM2B_ENCRYPTED_SECRET");
    return ROT_ERROR_ATTEST_CREDENTIAL;
  }
  TPM2B_PUBLIC ekpub;
  uint32_t ekh = ek_alg == TPM2_ALG_RSA ? ATTEST_EK_RSA_HANDLE
                                        : ATTEST_EK_ECC_HANDLE;
  ROT_TRY(read_public(t, ekh, &ekpub, NULL, NULL, ROT_ERROR_TPM_COMMAND));
  ESYS_TR akh, ekt;
  int absent = 0;
  ROT_TRY(persistent_tr(t, ak, &akh, &absent));
  rot_error_t err = persistent_tr(t, ekh, &ekt, &absent);
  if (err != ROT_OK) {
    put_tr(t, &akh);
    return err;
  }
  TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(
      t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
      ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, ekpub.publicArea.nameAlg,
      &session);
  if (rc != TSS2_RC_SUCCESS) {
    err = fail_rc(t, "StartAuthSession", rc);
    goto out;
  }
  rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, session,
                         ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
                         NULL, NULL, 0, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    err = fail_rc(t, "PolicySecret(endorsement)", rc);
    goto out;
  }
  if (ekpub.publicArea.nameAlg == TPM2_ALG_SHA384) {
    TPML_DIGEST list = {.count = 2};
    list.digests[0].size = 48;
    memcpy(list.digests[0].buffer, ek_policy_a_sha384, 48);
    list.digests[1].size = 48;
    memcpy(list.digests[1].buffer, ek_policy_c_sha384, 48);
    rc = Esys_PolicyOR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE,
                       ESYS_TR_NONE, &list);
    if (rc != TSS2_RC_SUCCESS) {
      err = fail_rc(t, "PolicyOR (EK policy)", rc);
      goto out;
    }
  }
  TPM2B_DIGEST *out_cred = NULL;
  rc = Esys_ActivateCredential(t->esys, akh, ekt, ESYS_TR_PASSWORD, session,
                               ESYS_TR_NONE, &idobj, &sec, &out_cred);
  if (rc != TSS2_RC_SUCCESS) {
    err = fail_rc(t, "ActivateCredential", rc);
    if (err == ROT_ERROR_TPM_COMMAND) {
      err = ROT_ERROR_ATTEST_CREDENTIAL;
    }
    goto out;
  }
  if (out_cred->size > cap) {
    err = ROT_ERROR_BUFFER_TOO_SMALL;
  } else {
    memcpy(cred, out_cred->buffer, out_cred->size);
    *cred_len = out_cred->size;
    err = ROT_OK;
  }
  Esys_Free(out_cred);
out:
  if (session != ESYS_TR_NONE) {
    (void)Esys_FlushContext(t->esys, session);
  }
  put_tr(t, &akh);
  put_tr(t, &ekt);
  return err;
}
