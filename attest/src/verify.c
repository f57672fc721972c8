/*
 * The verifier (attest/verify.h): every check runs, each records its own
 * verdict and reason, and the evidence is trusted only when all passed,
 * counted twice.
 */
#include "attest/verify.h"
#include "rot_client/names.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include "attest/merkle.h"
#include "attest/tpms.h"
#include "bootchain/eventlog.h"
#include "internal.h"
#include "rot_host/crypto_mbedtls.h"

/* "rot-stack ak endorsement v1" || 0x00 || SHA-384(EK cert) ||
 * SHA-384(AK TPM2B_PUBLIC). */
#define ENDORSE_LABEL "rot-stack ak endorsement v1"
#define ENDORSE_LEN (sizeof(ENDORSE_LABEL) + 2u * 48u)

const char *attest_check_name(attest_check_id_t id) {
  switch (id) {
#define ATTEST_CHECK_NAME_(i, n) \
  case i:                        \
    return n;
    ATTEST_CHECK_LIST(ATTEST_CHECK_NAME_)
#undef ATTEST_CHECK_NAME_
  default:
    return "unknown";
  }
}

static void set(attest_result_t *r, attest_check_id_t id, attest_status_t st,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set(attest_result_t *r, attest_check_id_t id, attest_status_t st,
                const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(r->checks[id].reason, sizeof(r->checks[id].reason), fmt, ap);
  va_end(ap);
  r->checks[id].status = st;
}

static int sha384(const void *p, size_t len, uint8_t *out) {
  return rot_hash(rot_host_crypto(), ROT_HASH_SHA384, p, len, out, 48) ==
                 ROT_OK
             ? 0
             : -1;
}

static void pass(attest_result_t *r, attest_check_id_t id, const char *why) {
  set(r, id, ATTEST_PASS, "%s", why);
}

/* Parsed once, shared by the checks. */
typedef struct parts {
  TPMS_ATTEST attest;
  int attest_ok;
  TPMT_SIGNATURE sig;
  int sig_ok;
  TPM2B_PUBLIC ak;
  int ak_ok;
  attest_pcr_values_t *pcrs;
  int pcrs_ok;
  rot_error_t pcrs_err; /* why the PCR file was refused */
} parts_t;

static void check_nonce(const attest_verify_opts_t *o,
                        const attest_evidence_t *ev, const parts_t *p,
                        attest_result_t *r) {
  if (ev->nonce_len < ATTEST_NONCE_MIN) {
    set(r, ATTEST_CHECK_NONCE, ATTEST_FAIL,
        "nonce is %zu bytes: at least %u (128 bits) are required",
        ev->nonce_len, ATTEST_NONCE_MIN);
    return;
  }
  if (o->nonce != NULL &&
      (o->nonce_len != ev->nonce_len ||
       rot_ct_equal(o->nonce, ev->nonce, ev->nonce_len) != HARDENED_TRUE)) {
    set(r, ATTEST_CHECK_NONCE, ATTEST_FAIL,
        "nonce is not the one requested (a replayed or foreign quote)");
    return;
  }
  if (!p->attest_ok) {
    set(r, ATTEST_CHECK_NONCE, ATTEST_FAIL, "no TPMS_ATTEST to compare with");
    return;
  }
  const TPM2B_DATA *x = &p->attest.extraData;
  if (ev->batched) {
    if (x->size != ATTEST_MERKLE_HASH_LEN ||
        attest_merkle_check(ev->nonce, ev->nonce_len, ev->batch_index,
                            ev->batch_size,
                            (const uint8_t(*)[ATTEST_MERKLE_HASH_LEN])ev->path,
                            ev->path_len, x->buffer) != HARDENED_TRUE) {
      set(r, ATTEST_CHECK_NONCE, ATTEST_FAIL,
          "batched: the nonce's inclusion path (leaf %u of %u) does not "
          "reach the quoted root (wrong sibling, or a leaf of another batch)",
          ev->batch_index, ev->batch_size);
      return;
    }
    set(r, ATTEST_CHECK_NONCE, ATTEST_PASS,
        "%s%u-byte nonce is leaf %u of a %u-nonce batch whose Merkle root "
        "is the quote's extraData",
        o->nonce != NULL ? "requested " : "", (unsigned)ev->nonce_len,
        ev->batch_index, ev->batch_size);
    return;
  }
  if (x->size != ev->nonce_len ||
      rot_ct_equal(x->buffer, ev->nonce, ev->nonce_len) != HARDENED_TRUE) {
    set(r, ATTEST_CHECK_NONCE, ATTEST_FAIL,
        "the quote's extraData is not the nonce");
    return;
  }
  set(r, ATTEST_CHECK_NONCE, ATTEST_PASS,
      "%s%u-byte nonce equals the quote's extraData",
      o->nonce != NULL ? "requested " : "", (unsigned)ev->nonce_len);
}

static int same_selection(const TPML_PCR_SELECTION *a,
                          const TPML_PCR_SELECTION *b) {
  if (a->count != b->count) {
    return 0;
  }
  for (uint32_t i = 0; i < a->count && i < TPM2_NUM_PCR_BANKS; i++) {
    if (a->pcrSelections[i].hash != b->pcrSelections[i].hash ||
        a->pcrSelections[i].sizeofSelect != 3 ||
        b->pcrSelections[i].sizeofSelect != 3 ||
        memcmp(a->pcrSelections[i].pcrSelect, b->pcrSelections[i].pcrSelect,
               3) != 0) {
      return 0;
    }
  }
  return 1;
}

static void check_selection(const attest_policy_t *pol, const parts_t *p,
                            attest_result_t *r) {
  if (!p->attest_ok || p->attest.type != TPM2_ST_ATTEST_QUOTE) {
    set(r, ATTEST_CHECK_SELECTION, ATTEST_FAIL, "not a quote");
    return;
  }
  TPML_PCR_SELECTION want;
  memset(&want, 0, sizeof(want));
  want.count = pol->nbanks;
  for (uint32_t i = 0; i < pol->nbanks && i < 4; i++) {
    want.pcrSelections[i].hash = pol->banks[i];
    want.pcrSelections[i].sizeofSelect = 3;
    want.pcrSelections[i].pcrSelect[0] = (uint8_t)pol->pcr_mask;
    want.pcrSelections[i].pcrSelect[1] = (uint8_t)(pol->pcr_mask >> 8);
    want.pcrSelections[i].pcrSelect[2] = (uint8_t)(pol->pcr_mask >> 16);
  }
  const TPML_PCR_SELECTION *got = &p->attest.attested.quote.pcrSelect;
  if (!same_selection(&want, got)) {
    char desc[160] = "";
    size_t off = 0;
    for (uint32_t i = 0; i < got->count && i < TPM2_NUM_PCR_BANKS; i++) {
      const TPMS_PCR_SELECTION *s = &got->pcrSelections[i];
      uint32_t m = s->sizeofSelect >= 3 ? (uint32_t)s->pcrSelect[0] |
                                              (uint32_t)s->pcrSelect[1] << 8 |
                                              (uint32_t)s->pcrSelect[2] << 16
                                        : 0;
      off += (size_t)snprintf(desc + off, sizeof(desc) - off, "%s%s:0x%06x",
                              i ? "+" : "", bc_log_alg_name(s->hash)
                                                ? bc_log_alg_name(s->hash)
                                                : "?",
                              m);
      if (off >= sizeof(desc)) {
        break;
      }
    }
    set(r, ATTEST_CHECK_SELECTION, ATTEST_FAIL,
        "quoted selection %s is not the policy's (PCR mask 0x%06x in each of "
        "%u banks, exactly)",
        desc[0] ? desc : "(none)", pol->pcr_mask, pol->nbanks);
    return;
  }
  if (!p->pcrs_ok) {
    set(r, ATTEST_CHECK_SELECTION, ATTEST_FAIL, "the PCR values are refused: %s",
        rot_error_str(p->pcrs_err));
    return;
  }
  if (!same_selection(got, &p->pcrs->sel)) {
    set(r, ATTEST_CHECK_SELECTION, ATTEST_FAIL,
        "the PCR values cover another selection than the quote");
    return;
  }
  pass(r, ATTEST_CHECK_SELECTION,
       "exactly the policy's PCRs, in every policy bank, no other bank");
}

/*
 * The P-256 group, loaded once per thread: mbedTLS caches its table of
 * multiples of G in the group, which is most of a verify's cost when the
 * group is loaded afresh each time.
 */
static mbedtls_ecp_group *p256(void) {
  static _Thread_local mbedtls_ecp_group g;
  static _Thread_local int loaded;
  if (!loaded) {
    mbedtls_ecp_group_init(&g);
    if (mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_SECP256R1) != 0) {
      return NULL;
    }
    loaded = 1;
  }
  return &g;
}

static int ak_point(const TPM2B_PUBLIC *ak, mbedtls_ecp_keypair *kp) {
  const TPMS_ECC_POINT *q = &ak->publicArea.unique.ecc;
  return mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
         q->x.size == 32 && q->y.size == 32 &&
         mbedtls_mpi_read_binary(&kp->Q.X, q->x.buffer, 32) == 0 &&
         mbedtls_mpi_read_binary(&kp->Q.Y, q->y.buffer, 32) == 0 &&
         mbedtls_mpi_lset(&kp->Q.Z, 1) == 0 &&
         mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q) == 0;
}

static void check_ak(const attest_evidence_t *ev, const parts_t *p,
                     attest_result_t *r) {
  const TPMT_PUBLIC *a = &p->ak.publicArea;
  const TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN |
                           TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  if (!p->ak_ok) {
    set(r, ATTEST_CHECK_AK_KEY, ATTEST_FAIL, "AK TPM2B_PUBLIC malformed");
    return;
  }
  if ((a->objectAttributes & need) != need ||
      (a->objectAttributes & TPMA_OBJECT_DECRYPT)) {
    set(r, ATTEST_CHECK_AK_KEY, ATTEST_FAIL,
        "AK attributes 0x%08x: must be restricted, sign-only, fixedTPM, "
        "fixedParent and sensitiveDataOrigin",
        a->objectAttributes);
    return;
  }
  if (a->type != TPM2_ALG_ECC ||
      a->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256 ||
      a->parameters.eccDetail.scheme.scheme != TPM2_ALG_ECDSA ||
      a->parameters.eccDetail.scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256) {
    set(r, ATTEST_CHECK_AK_KEY, ATTEST_FAIL,
        "AK is not ECC P-256 with ECDSA-SHA256");
    return;
  }
  /* The PEM (what tpm2_checkquote uses) must be this very key. */
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  int same = 0;
  if (mbedtls_pk_parse_public_key(&pk, (const uint8_t *)ev->ak_pem,
                                  strlen(ev->ak_pem) + 1) == 0 &&
      mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY) {
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    if (ak_point(&p->ak, &kp)) {
      same = mbedtls_ecp_point_cmp(&kp.Q, &mbedtls_pk_ec(pk)->Q) == 0 &&
             mbedtls_pk_ec(pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
    }
    mbedtls_ecp_keypair_free(&kp);
  }
  mbedtls_pk_free(&pk);
  if (!same) {
    set(r, ATTEST_CHECK_AK_KEY, ATTEST_FAIL,
        "AK PEM is not the key of the AK TPM2B_PUBLIC (or not a P-256 point)");
    return;
  }
  pass(r, ATTEST_CHECK_AK_KEY,
       "ECC P-256 ECDSA-SHA256, restricted signing, fixedTPM, fixedParent");
}

static void check_signature(const attest_evidence_t *ev, const parts_t *p,
                            attest_result_t *r) {
  if (!p->sig_ok || !p->ak_ok || !p->attest_ok) {
    set(r, ATTEST_CHECK_SIGNATURE, ATTEST_FAIL,
        "signature, AK or TPMS_ATTEST malformed");
    return;
  }
  if (p->sig.sigAlg != TPM2_ALG_ECDSA ||
      p->sig.signature.ecdsa.hash != TPM2_ALG_SHA256) {
    set(r, ATTEST_CHECK_SIGNATURE, ATTEST_FAIL,
        "signature is not ECDSA-SHA256 (algorithm 0x%04x)", p->sig.sigAlg);
    return;
  }
  uint8_t h[32];
  mbedtls_ecp_keypair kp;
  mbedtls_mpi rr, ss;
  mbedtls_ecp_keypair_init(&kp);
  mbedtls_mpi_init(&rr);
  mbedtls_mpi_init(&ss);
  const TPMS_SIGNATURE_ECC *e = &p->sig.signature.ecdsa;
  mbedtls_ecp_group *g = p256();
  int ok = g != NULL && ak_point(&p->ak, &kp) &&
           mbedtls_sha256_ret(ev->attest.p, ev->attest.len, h, 0) == 0 &&
           mbedtls_mpi_read_binary(&rr, e->signatureR.buffer,
                                   e->signatureR.size) == 0 &&
           mbedtls_mpi_read_binary(&ss, e->signatureS.buffer,
                                   e->signatureS.size) == 0 &&
           mbedtls_ecdsa_verify(g, h, sizeof(h), &kp.Q, &rr, &ss) == 0;
  mbedtls_ecp_keypair_free(&kp);
  mbedtls_mpi_free(&rr);
  mbedtls_mpi_free(&ss);
  if (!ok) {
    set(r, ATTEST_CHECK_SIGNATURE, ATTEST_FAIL,
        "the AK's signature over TPMS_ATTEST does not verify");
    return;
  }
  pass(r, ATTEST_CHECK_SIGNATURE, "the AK signed this TPMS_ATTEST");
}

/* Alias certificate chains (through DeviceID) to the manufacturer CA. */
static void check_dice(const attest_trust_t *trust,
                       const attest_evidence_t *ev, attest_result_t *r) {
  if (ev->dice_unavailable != NULL) {
    set(r, ATTEST_CHECK_DICE_CHAIN, ATTEST_FAIL, "not available: %s",
        ev->dice_unavailable);
    set(r, ATTEST_CHECK_AK_ENDORSED, ATTEST_FAIL, "not available: %s",
        ev->dice_unavailable);
    return;
  }
  const mbedtls_x509_crt *ca = attest_trust_dice(trust);
  mbedtls_x509_crt chain;
  mbedtls_x509_crt_init(&chain);
  uint32_t flags = 0;
  if (ca == NULL) {
    set(r, ATTEST_CHECK_DICE_CHAIN, ATTEST_FAIL,
        "no manufacturer CA (dice-ca.pem) among the trust anchors");
  } else if (mbedtls_x509_crt_parse_der(&chain, ev->dice_alias.p,
                                        ev->dice_alias.len) != 0 ||
             mbedtls_x509_crt_parse_der(&chain, ev->dice_deviceid.p,
                                        ev->dice_deviceid.len) != 0) {
    set(r, ATTEST_CHECK_DICE_CHAIN, ATTEST_FAIL,
        "DeviceID or Alias certificate does not parse");
  } else if (mbedtls_x509_crt_verify(&chain, (mbedtls_x509_crt *)ca, NULL,
                                     NULL, &flags, NULL, NULL) != 0) {
    set(r, ATTEST_CHECK_DICE_CHAIN, ATTEST_FAIL,
        "Alias -> DeviceID does not reach the trusted manufacturer CA "
        "(flags 0x%x): a chain from another root",
        flags);
  } else {
    pass(r, ATTEST_CHECK_DICE_CHAIN,
         "Alias -> DeviceID -> trusted manufacturer CA");
  }
  /* The endorsement: ECDSA P-384 / SHA-384 by the Alias key. */
  uint8_t stmt[ENDORSE_LEN], h[48];
  memcpy(stmt, ENDORSE_LABEL, sizeof(ENDORSE_LABEL));
  int ok = chain.raw.p != NULL &&
           sha384(ev->ek_cert.p, ev->ek_cert.len,
                              stmt + sizeof(ENDORSE_LABEL)) == 0 &&
           sha384(ev->ak_public.p, ev->ak_public.len,
                              stmt + sizeof(ENDORSE_LABEL) + 48) == 0 &&
           sha384(stmt, sizeof(stmt), h) == 0 &&
           mbedtls_pk_get_type(&chain.pk) == MBEDTLS_PK_ECKEY &&
           mbedtls_pk_ec(chain.pk)->grp.id == MBEDTLS_ECP_DP_SECP384R1 &&
           mbedtls_pk_verify(&chain.pk, MBEDTLS_MD_SHA384, h, sizeof(h),
                             ev->ak_endorsement.p,
                             ev->ak_endorsement.len) == 0;
  if (ok) {
    pass(r, ATTEST_CHECK_AK_ENDORSED,
         "the Alias key endorsed this AK and EK certificate");
  } else {
    set(r, ATTEST_CHECK_AK_ENDORSED, ATTEST_FAIL,
        "the endorsement does not verify with the Alias key over this AK "
        "and EK certificate (an endorsement of another AK?)");
  }
  mbedtls_x509_crt_free(&chain);
}

/* The Alias certificate's DiceTcbInfo names RoT firmware the policy
 * accepts, at or above the SVN floor, in an accepted DICE mode. */
static void check_dice_tcb(const attest_policy_t *pol,
                           const attest_evidence_t *ev, attest_result_t *r) {
  /* Fail closed: a policy with no accepted RoT firmware has nothing to
   * appraise the chip's firmware against, and passing would trust any. */
  if (pol->ndice == 0) {
    set(r, ATTEST_CHECK_DICE_TCB, ATTEST_FAIL,
        "not appraised: the policy names no RoT firmware (dice_tcb is "
        "empty; derive the reference values with the RoT firmware images)");
    return;
  }
  if (ev->dice_unavailable != NULL) {
    set(r, ATTEST_CHECK_DICE_TCB, ATTEST_FAIL, "not available: %s",
        ev->dice_unavailable);
    return;
  }
  attest_dice_tcb_t t;
  int found = 0;
  rot_error_t err = attest_dice_tcb_from_cert(ev->dice_alias.p,
                                              ev->dice_alias.len, &found, &t);
  if (err != ROT_OK) {
    set(r, ATTEST_CHECK_DICE_TCB, ATTEST_FAIL,
        "Alias certificate or its DiceTcbInfo malformed");
    return;
  }
  if (!found || !t.has_fwid || !t.has_svn || !t.has_flags ||
      t.version[0] == '\0') {
    set(r, ATTEST_CHECK_DICE_TCB, ATTEST_FAIL,
        "Alias certificate lacks a DiceTcbInfo (2.23.133.5.4.1) with "
        "version, svn, a SHA-384 fwid and flags");
    return;
  }
  const uint32_t bad = ATTEST_DICE_FLAG_NOT_CONFIGURED |
                       ATTEST_DICE_FLAG_NOT_SECURE | ATTEST_DICE_FLAG_RECOVERY;
  if (t.flags & bad) {
    set(r, ATTEST_CHECK_DICE_TCB, ATTEST_FAIL,
        "DICE mode not acceptable (flags 0x%x: not configured, not secure "
        "or recovery)",
        t.flags);
    return;
  }
  if ((t.flags & ATTEST_DICE_FLAG_DEBUG) && pol->dice_debug_ok != 1u) {
    set(r, ATTEST_CHECK_DICE_TCB, ATTEST_FAIL,
        "chip in DICE debug mode and the policy does not accept it "
        "(dice_debug_ok)");
    return;
  }
  uint32_t match = UINT32_MAX;
  for (uint32_t i = 0; i < pol->ndice && i < ATTEST_REF_MAX_IMAGES; i++) {
    const attest_ref_dice_t *d = &pol->dice[i];
    if (strcmp(d->vendor, t.vendor) == 0 && strcmp(d->model, t.model) == 0 &&
        strcmp(d->version, t.version) == 0 && d->svn == t.svn &&
        memcmp(d->fwid, t.fwid, sizeof(t.fwid)) == 0) {
      match = i;
      break;
    }
  }
  char fw[17];
  for (int i = 0; i < 8; i++) {
    snprintf(fw + 2 * i, 3, "%02x", t.fwid[i]);
  }
  if (match == UINT32_MAX) {
    set(r, ATTEST_CHECK_DICE_TCB, ATTEST_FAIL,
        "RoT firmware %s %s %s svn %u fwid %s... is not one the policy "
        "accepts",
        t.vendor, t.model, t.version, t.svn, fw);
    return;
  }
  if (t.svn < pol->svn_floor[ROT_IMAGE_TYPE_ROT]) {
    set(r, ATTEST_CHECK_DICE_TCB, ATTEST_FAIL,
        "RoT firmware svn %u below the floor %u", t.svn,
        pol->svn_floor[ROT_IMAGE_TYPE_ROT]);
    return;
  }
  /* Double-checked: the entry matched really is this fwid and svn. */
  HARDENED_CHECK_EQ(memcmp(pol->dice[match].fwid, t.fwid, sizeof(t.fwid)), 0);
  HARDENED_CHECK_EQ(pol->dice[match].svn, t.svn);
  set(r, ATTEST_CHECK_DICE_TCB, ATTEST_PASS,
      "Alias certificate names accepted RoT firmware %s svn %u fwid %s... "
      "(%s mode)",
      t.version, t.svn, fw,
      (t.flags & ATTEST_DICE_FLAG_DEBUG) ? "debug" : "normal");
}

static void check_pcr_digest(const parts_t *p, attest_result_t *r) {
  if (!p->attest_ok || !p->pcrs_ok ||
      p->attest.type != TPM2_ST_ATTEST_QUOTE) {
    set(r, ATTEST_CHECK_PCR_DIGEST, ATTEST_FAIL,
        "no quote or no PCR values to compare");
    return;
  }
  mbedtls_sha256_context c;
  uint8_t h[32];
  mbedtls_sha256_init(&c);
  int rc = mbedtls_sha256_starts_ret(&c, 0);
  for (uint32_t i = 0; rc == 0 && i < p->pcrs->count; i++) {
    rc = mbedtls_sha256_update_ret(&c, p->pcrs->v[i].value, p->pcrs->v[i].size);
  }
  rc = rc ? rc : mbedtls_sha256_finish_ret(&c, h);
  mbedtls_sha256_free(&c);
  const TPM2B_DIGEST *d = &p->attest.attested.quote.pcrDigest;
  if (rc != 0 || d->size != 32 ||
      rot_ct_equal(h, d->buffer, 32) != HARDENED_TRUE) {
    set(r, ATTEST_CHECK_PCR_DIGEST, ATTEST_FAIL,
        "the quoted PCR digest is not the digest of the PCR values");
    return;
  }
  pass(r, ATTEST_CHECK_PCR_DIGEST, "the PCR values are the quoted ones");
}

static void check_replay(const attest_evidence_t *ev, const parts_t *p,
                         attest_result_t *r) {
  if (!p->pcrs_ok) {
    set(r, ATTEST_CHECK_REPLAY, ATTEST_FAIL, "no PCR values");
    return;
  }
  bc_log_replay_t *rep = malloc(sizeof(*rep));
  if (rep == NULL) {
    set(r, ATTEST_CHECK_REPLAY, ATTEST_FAIL, "out of memory");
    return;
  }
  rot_error_t err = bc_log_replay(ev->event_log.p, ev->event_log.len,
                                  rot_host_crypto(), rep);
  if (err != ROT_OK) {
    set(r, ATTEST_CHECK_REPLAY, ATTEST_FAIL, "event log malformed: %s (%s)",
        rot_error_str(err), rot_error_name(err));
    free(rep);
    return;
  }
  for (uint32_t i = 0; i < p->pcrs->count; i++) {
    const bc_log_pcr_bank_t *b = NULL;
    for (uint32_t k = 0; k < rep->header.bank_count; k++) {
      if (rep->banks[k].alg == p->pcrs->v[i].alg) {
        b = &rep->banks[k];
      }
    }
    if (b == NULL || b->replayed != HARDENED_TRUE) {
      set(r, ATTEST_CHECK_REPLAY, ATTEST_FAIL,
          "the log does not cover the quoted %s bank",
          bc_log_alg_name(p->pcrs->v[i].alg));
      free(rep);
      return;
    }
    if (rot_ct_equal(b->pcr[p->pcrs->v[i].pcr], p->pcrs->v[i].value,
                     p->pcrs->v[i].size) != HARDENED_TRUE) {
      set(r, ATTEST_CHECK_REPLAY, ATTEST_FAIL,
          "replaying the log does not give the quoted %s PCR %u (an event "
          "dropped, reordered, added or altered)",
          bc_log_alg_name(p->pcrs->v[i].alg), p->pcrs->v[i].pcr);
      free(rep);
      return;
    }
  }
  set(r, ATTEST_CHECK_REPLAY, ATTEST_PASS,
      "replaying %u events gives every quoted PCR in every bank",
      rep->header.event_count);
  free(rep);
}

/* ---- state: resetCount, restartCount, clock per host ---- */

static int state_path(const attest_verify_opts_t *o, const char *host,
                      char *out, size_t cap) {
  int n = snprintf(out, cap, "%s/%s.json", o->state_dir, host);
  return n > 0 && (size_t)n < cap;
}

static rot_error_t check_clock(const attest_verify_opts_t *o, const parts_t *p,
                               attest_result_t *r, int *store) {
  *store = 0;
  if (o->state_dir == NULL) {
    set(r, ATTEST_CHECK_CLOCK, ATTEST_SKIP,
        "not requested (no --state): reset and clock not tracked");
    return ROT_OK;
  }
  if (!p->attest_ok) {
    set(r, ATTEST_CHECK_CLOCK, ATTEST_FAIL, "no TPMS_ATTEST");
    return ROT_OK;
  }
  const TPMS_CLOCK_INFO *ci = &p->attest.clockInfo;
  char path[4096];
  if (!state_path(o, r->host, path, sizeof(path))) {
    return ROT_ERROR_ATTEST_STATE;
  }
  attest_buf_t b = {0};
  rot_error_t err = attest_read_file(path, 4096, &b);
  if (err == ROT_ERROR_IO_OPEN && access(path, F_OK) != 0) {
    if (ci->safe != TPM2_YES) {
      set(r, ATTEST_CHECK_CLOCK, ATTEST_FAIL,
          "the TPM clock is not marked safe (it may have gone back)");
      return ROT_OK;
    }
    *store = 1;
    set(r, ATTEST_CHECK_CLOCK, ATTEST_PASS,
        "first attestation of this host: resetCount %u, restartCount %u, "
        "clock %llu recorded",
        ci->resetCount, ci->restartCount, (unsigned long long)ci->clock);
    return ROT_OK;
  }
  if (err != ROT_OK) {
    return ROT_ERROR_ATTEST_STATE;
  }
  unsigned long long reset, restart, clock;
  char tail;
  char *txt = malloc(b.len + 1);
  if (txt == NULL) {
    attest_buf_free(&b);
    return ROT_ERROR_INTERNAL;
  }
  memcpy(txt, b.p, b.len);
  txt[b.len] = '\0';
  attest_buf_free(&b);
  int n = sscanf(txt,
                 "{\"reset_count\":%llu,\"restart_count\":%llu,\"clock\":%llu}"
                 "%c",
                 &reset, &restart, &clock, &tail);
  free(txt);
  if (n != 4 || tail != '\n') {
    return ROT_ERROR_ATTEST_STATE;
  }
  if (ci->resetCount != reset) {
    set(r, ATTEST_CHECK_CLOCK, ATTEST_FAIL,
        "TPM reset since the last attestation (resetCount %llu -> %u): the "
        "PCRs were cleared; remove %s to enrol the host again",
        reset, ci->resetCount, path);
  } else if (ci->restartCount < restart) {
    set(r, ATTEST_CHECK_CLOCK, ATTEST_FAIL,
        "restartCount went back (%llu -> %u)", restart, ci->restartCount);
  } else if (ci->clock <= clock) {
    set(r, ATTEST_CHECK_CLOCK, ATTEST_FAIL,
        "clock did not move forward (%llu -> %llu): an old quote",
        clock, (unsigned long long)ci->clock);
  } else if (ci->safe != TPM2_YES) {
    set(r, ATTEST_CHECK_CLOCK, ATTEST_FAIL,
        "the TPM clock is not marked safe (it may have gone back)");
  } else {
    *store = 1;
    set(r, ATTEST_CHECK_CLOCK, ATTEST_PASS,
        "resetCount %u unchanged, restartCount %u, clock %llu -> %llu, safe",
        ci->resetCount, ci->restartCount, clock,
        (unsigned long long)ci->clock);
  }
  return ROT_OK;
}

static rot_error_t store_state(const attest_verify_opts_t *o,
                               const parts_t *p, const char *host) {
  char path[4096], tmp[4200];
  if (!state_path(o, host, path, sizeof(path))) {
    return ROT_ERROR_ATTEST_STATE;
  }
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) {
    return ROT_ERROR_ATTEST_STATE;
  }
  const TPMS_CLOCK_INFO *ci = &p->attest.clockInfo;
  int ok = fprintf(f, "{\"reset_count\":%u,\"restart_count\":%u,\"clock\":%llu}\n",
                   ci->resetCount, ci->restartCount,
                   (unsigned long long)ci->clock) > 0;
  ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok &= fclose(f) == 0;
  if (!ok || rename(tmp, path) != 0) {
    (void)unlink(tmp);
    return ROT_ERROR_ATTEST_STATE;
  }
  return ROT_OK;
}

rot_error_t attest_verify(const attest_verify_opts_t *o,
                          const attest_evidence_t *ev, attest_result_t *r) {
  if (o == NULL || ev == NULL || r == NULL || o->policy == NULL ||
      (o->trust_dir == NULL && o->trust == NULL)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(r, 0, sizeof(*r));
  r->trusted = HARDENED_FALSE;
  for (int i = 0; i < ATTEST_CHECK_COUNT; i++) {
    set(r, (attest_check_id_t)i, ATTEST_FAIL, "not run");
  }
  attest_trust_t *loaded = NULL;
  const attest_trust_t *trust = o->trust;
  if (trust == NULL) {
    char why[256];
    if (o->trust_dir == NULL ||
        attest_trust_load(o->trust_dir, &loaded, why, sizeof(why)) != ROT_OK) {
      return ROT_ERROR_ATTEST_BAD_TRUST;
    }
    trust = loaded;
  }
  if (o->state_dir != NULL) {
    struct stat st;
    if (stat(o->state_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      attest_trust_free(loaded);
      return ROT_ERROR_ATTEST_STATE;
    }
  }

  parts_t p;
  memset(&p, 0, sizeof(p));
  p.pcrs = malloc(sizeof(*p.pcrs));
  if (p.pcrs == NULL) {
    attest_trust_free(loaded);
    return ROT_ERROR_INTERNAL;
  }
  p.attest_ok = attest_tpms_attest_decode(ev->attest.p, ev->attest.len,
                                          &p.attest) == ROT_OK;
  p.sig_ok = attest_tpmt_signature_decode(ev->signature.p, ev->signature.len,
                                          &p.sig) == ROT_OK;
  p.ak_ok = attest_tpm2b_public_decode(ev->ak_public.p, ev->ak_public.len,
                                       &p.ak) == ROT_OK;
  p.pcrs_err = attest_pcrfile_decode(ev->pcrs.p, ev->pcrs.len, p.pcrs);
  p.pcrs_ok = p.pcrs_err == ROT_OK;
  snprintf(r->host, sizeof(r->host), "unknown");
  if (p.ak_ok) {
    uint8_t name[66];
    size_t nlen = 0;
    if (attest_tpm_name(&p.ak.publicArea, name, sizeof(name), &nlen) ==
            ROT_OK &&
        nlen * 2 < sizeof(r->host)) {
      char *h = attest_hex(name, nlen);
      if (h != NULL) {
        snprintf(r->host, sizeof(r->host), "%s", h);
        free(h);
      }
    }
  }

  check_nonce(o, ev, &p, r);
  if (!p.attest_ok) {
    set(r, ATTEST_CHECK_MAGIC, ATTEST_FAIL,
        "TPMS_ATTEST malformed (or of an unknown type)");
  } else if (p.attest.magic != TPM2_GENERATED_VALUE) {
    set(r, ATTEST_CHECK_MAGIC, ATTEST_FAIL,
        "magic 0x%08x is not TPM_GENERATED_VALUE: not made by the TPM "
        "(e.g. signed with TPM2_Sign)",
        p.attest.magic);
  } else {
    pass(r, ATTEST_CHECK_MAGIC, "TPM_GENERATED_VALUE");
  }
  if (p.attest_ok && p.attest.type == TPM2_ST_ATTEST_QUOTE) {
    pass(r, ATTEST_CHECK_TYPE, "TPM_ST_ATTEST_QUOTE");
  } else {
    set(r, ATTEST_CHECK_TYPE, ATTEST_FAIL,
        "attestation type 0x%04x is not TPM_ST_ATTEST_QUOTE (a Certify or "
        "NV_Certify output?)",
        p.attest_ok ? p.attest.type : 0);
  }
  check_selection(o->policy, &p, r);
  check_ak(ev, &p, r);
  check_signature(ev, &p, r);
  check_dice(trust, ev, r);
  check_dice_tcb(o->policy, ev, r);
  char why[256];
  hardened_bool_t ek = attest_trust_check_ek(trust, ev->ek_cert.p,
                                             ev->ek_cert.len, why,
                                             sizeof(why));
  set(r, ATTEST_CHECK_EK_CERT, ek == HARDENED_TRUE ? ATTEST_PASS : ATTEST_FAIL,
      "EK certificate %s", why);
  check_pcr_digest(&p, r);
  check_replay(ev, &p, r);
  attest_appraise_log(o->policy, ev->event_log.p, ev->event_log.len,
                      &r->checks[ATTEST_CHECK_EVENTS],
                      &r->checks[ATTEST_CHECK_SVN]);
  int store = 0;
  rot_error_t err = check_clock(o, &p, r, &store);

  /* The verdict, counted twice. */
  uint32_t passed = 0, skipped = 0;
  for (int i = 0; i < ATTEST_CHECK_COUNT; i++) {
    passed += r->checks[i].status == ATTEST_PASS;
    skipped += r->checks[i].status == ATTEST_SKIP &&
               i == ATTEST_CHECK_CLOCK;
  }
  if (err == ROT_OK && passed + skipped == ATTEST_CHECK_COUNT) {
    uint32_t again = 0;
    for (int i = 0; i < ATTEST_CHECK_COUNT; i++) {
      again += r->checks[i].status != ATTEST_FAIL;
    }
    HARDENED_CHECK_EQ(again, ATTEST_CHECK_COUNT);
    if (store) {
      err = store_state(o, &p, r->host);
    }
    if (err == ROT_OK) {
      r->trusted = HARDENED_TRUE;
    }
  }
  free(p.pcrs);
  attest_trust_free(loaded);
  return err;
}
