/*
 * libFuzzer target for the evidence decoder and the TPM structure
 * decoders and log appraisal the verifier runs on its fields.
 *
 * Invariants: evidence that decodes encodes again, and the encoding
 * decodes to the same fields (a round trip); every decoder either refuses
 * or fills exactly its input; appraisal never passes a log that does not
 * parse; a batch path never checks against a root it was not built for.
 * The raw input also goes to the DiceTcbInfo parsers (as an extension
 * value and as an Extensions field), and the Alias certificate of
 * evidence that decodes to the certificate one: they refuse or fill
 * bounded, NUL-terminated fields, and a refusal leaves nothing behind.
 * The raw input is also a tpm2-tools PCR file: refused as malformed or
 * for a padding byte set, with nothing left behind, or decoded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/evidence.h"
#include "attest/merkle.h"
#include "attest/refvals.h"
#include "attest/tpms.h"
#include "attest/verify.h"
#include "bootchain/eventlog.h"
#include "fuzz.h"

static int same_buf(const attest_buf_t *a, const attest_buf_t *b) {
  return a->len == b->len &&
         (a->len == 0 || (a->p != NULL && b->p != NULL &&
                          memcmp(a->p, b->p, a->len) == 0));
}

static int same_str(const char *a, const char *b) {
  return (a == NULL && b == NULL) ||
         (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void tcb_fields_ok(rot_error_t err, const attest_dice_tcb_t *t) {
  static const attest_dice_tcb_t zero;
  CHECK(err == ROT_OK || err == ROT_ERROR_ATTEST_BAD_EVIDENCE);
  CHECK(memchr(t->vendor, '\0', sizeof(t->vendor)) != NULL &&
        memchr(t->model, '\0', sizeof(t->model)) != NULL &&
        memchr(t->version, '\0', sizeof(t->version)) != NULL);
  if (err != ROT_OK) {
    CHECK(memcmp(t, &zero, sizeof(zero)) == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  attest_evidence_t ev, again;
  char detail[256];
  attest_dice_tcb_t tcb;
  int found = 0;
  tcb_fields_ok(attest_dice_tcbinfo_parse(data, size, &tcb), &tcb);
  rot_error_t terr = attest_dice_tcb_from_exts(data, size, &found, &tcb);
  tcb_fields_ok(terr, &tcb);
  CHECK(!found || terr == ROT_OK);
  static attest_pcr_values_t raw;
  rot_error_t perr = attest_pcrfile_decode(data, size, &raw);
  CHECK(perr == ROT_OK || perr == ROT_ERROR_ATTEST_BAD_EVIDENCE ||
        perr == ROT_ERROR_ATTEST_PCR_PADDING);
  CHECK(perr == ROT_OK ? raw.count > 0 && raw.count <= 24u * TPM2_NUM_PCR_BANKS
                       : raw.count == 0 && raw.sel.count == 0);
  if (attest_evidence_decode((const char *)data, size, &ev, detail,
                             sizeof(detail)) != ROT_OK) {
    return 0;
  }
  char *json = NULL;
  CHECK(attest_evidence_encode(&ev, &json) == ROT_OK);
  CHECK(attest_evidence_decode(json, strlen(json), &again, detail,
                               sizeof(detail)) == ROT_OK);
  CHECK(ev.nonce_len == again.nonce_len &&
        memcmp(ev.nonce, again.nonce, ev.nonce_len) == 0);
  CHECK(same_buf(&ev.attest, &again.attest));
  CHECK(same_buf(&ev.signature, &again.signature));
  CHECK(same_buf(&ev.pcrs, &again.pcrs));
  CHECK(same_buf(&ev.event_log, &again.event_log));
  CHECK(same_buf(&ev.ak_public, &again.ak_public));
  CHECK(same_buf(&ev.ek_cert, &again.ek_cert));
  CHECK(same_buf(&ev.ak_endorsement, &again.ak_endorsement));
  CHECK(same_str(ev.ak_pem, again.ak_pem));
  CHECK(same_str(ev.dice_unavailable, again.dice_unavailable));
  CHECK(ev.batched == again.batched && ev.batch_index == again.batch_index &&
        ev.batch_size == again.batch_size && ev.path_len == again.path_len);
  free(json);
  attest_evidence_free(&again);

  TPMS_ATTEST attest;
  TPMT_SIGNATURE sig;
  TPM2B_PUBLIC pub;
  static attest_pcr_values_t pcrs;
  (void)attest_tpms_attest_decode(ev.attest.p, ev.attest.len, &attest);
  (void)attest_tpmt_signature_decode(ev.signature.p, ev.signature.len, &sig);
  if (attest_tpm2b_public_decode(ev.ak_public.p, ev.ak_public.len, &pub) ==
      ROT_OK) {
    uint8_t name[66];
    size_t nlen = 0;
    (void)attest_tpm_name(&pub.publicArea, name, sizeof(name), &nlen);
  }
  if (attest_pcrfile_decode(ev.pcrs.p, ev.pcrs.len, &pcrs) == ROT_OK) {
    CHECK(pcrs.count > 0 && pcrs.count <= 24u * TPM2_NUM_PCR_BANKS);
  }
  if (ev.batched) {
    uint8_t root[ATTEST_MERKLE_HASH_LEN] = {0};
    (void)attest_merkle_check(ev.nonce, ev.nonce_len, ev.batch_index,
                              ev.batch_size,
                              (const uint8_t(*)[ATTEST_MERKLE_HASH_LEN])ev.path,
                              ev.path_len, root);
  }
  terr = attest_dice_tcb_from_cert(ev.dice_alias.p, ev.dice_alias.len, &found,
                                   &tcb);
  tcb_fields_ok(terr, &tcb);
  static attest_policy_t pol;
  attest_check_t events, svn;
  pol.nimages = 0;
  pol.lifecycles = 0x6;
  attest_appraise_log(&pol, ev.event_log.p, ev.event_log.len, &events, &svn);
  if (bc_log_parse(ev.event_log.p, ev.event_log.len, NULL, NULL, NULL) !=
      ROT_OK) {
    CHECK(events.status == ATTEST_FAIL);
  }
  /* No reference image: nothing may pass the firmware events. */
  CHECK(events.status == ATTEST_FAIL);
  attest_evidence_free(&ev);
  return 0;
}
