/*
 * Evidence codec and PCR file decoder (attest/evidence.h, attest/tpms.h):
 * round trips, and every malformed input refused with the field named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <tss2/tss2_mu.h>

#include "attest/evidence.h"
#include "attest/tpms.h"

static uint8_t b1[] = {1, 2, 3};

static attest_evidence_t sample(void) {
  attest_evidence_t ev;
  memset(&ev, 0, sizeof(ev));
  ev.version = 1;
  memset(ev.nonce, 0xab, 32);
  ev.nonce_len = 32;
  attest_buf_t b = {b1, sizeof(b1)};
  ev.attest = ev.signature = ev.pcrs = ev.event_log = ev.ak_public = b;
  ev.ek_cert = b;
  ev.ak_pem = (char *)"-----BEGIN PUBLIC KEY-----\n";
  ev.ek_alg = 0x0023;
  ev.dice_unavailable = (char *)"not yet";
  return ev;
}

static char *encode_sample(int batched) {
  attest_evidence_t ev = sample();
  if (batched) {
    ev.batched = 1;
    ev.batch_index = 2;
    ev.batch_size = 3;
    ev.path_len = 2;
    memset(ev.path, 0x11, sizeof(ev.path));
  }
  char *json = NULL;
  assert_int_equal(attest_evidence_encode(&ev, &json), ROT_OK);
  return json;
}

static void evidence_test_roundtrip(void **state) {
  (void)state;
  for (int batched = 0; batched < 2; batched++) {
    char *json = encode_sample(batched);
    attest_evidence_t ev;
    char d[256];
    assert_int_equal(attest_evidence_decode(json, strlen(json), &ev, d,
                                            sizeof(d)),
                     ROT_OK);
    assert_int_equal(ev.nonce_len, 32);
    assert_int_equal(ev.attest.len, 3);
    assert_int_equal(ev.ek_alg, 0x0023);
    assert_string_equal(ev.dice_unavailable, "not yet");
    assert_int_equal(ev.batched, batched);
    if (batched) {
      assert_int_equal(ev.batch_index, 2);
      assert_int_equal(ev.path_len, 2);
    }
    attest_evidence_free(&ev);
    free(json);
  }
}

/* Replace the first `from` in json with `to` and expect a refusal whose
 * detail contains `field`. */
static void refused(const char *from, const char *to, const char *field,
                    int batched) {
  char *json = encode_sample(batched);
  char *at = strstr(json, from);
  assert_non_null(at);
  size_t n = strlen(json) - strlen(from) + strlen(to) + 1;
  char *m = malloc(n);
  assert_non_null(m);
  snprintf(m, n, "%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
  attest_evidence_t ev;
  char d[256];
  assert_int_equal(attest_evidence_decode(m, strlen(m), &ev, d, sizeof(d)),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  if (strstr(d, field) == NULL) {
    fail_msg("detail \"%s\" does not name %s", d, field);
  }
  free(m);
  free(json);
}

/* A batch encoded at once: each document the same JSON value as the
 * single encoder gives, and decoding to its member, including nonces of
 * other lengths, other path lengths, and a member that does not share
 * the batch's parts. */
static void evidence_test_encode_batch_matches_encode(void **state) {
  (void)state;
  static uint8_t other[] = {9, 9};
  attest_evidence_t evs[5];
  for (int i = 0; i < 5; i++) {
    evs[i] = sample();
    evs[i].batched = 1;
    evs[i].batch_index = (uint32_t)i;
    evs[i].batch_size = 5;
    evs[i].nonce_len = 16 + 12 * (size_t)i;
    evs[i].nonce[0] = (uint8_t)i;
    evs[i].path_len = i == 4 ? 1 : 3;
    memset(evs[i].path, 0x20 + i, sizeof(evs[i].path));
  }
  evs[3].signature = (attest_buf_t){other, sizeof(other)};
  char *out[5];
  /* Second round: a part carrying the encoder's marker text. */
  for (int round = 0; round < 2; round++) {
    if (round == 1) {
      for (int i = 0; i < 5; i++) {
        evs[i].dice_unavailable = (char *)"@@nonce@@";
      }
    }
    assert_int_equal(attest_evidence_encode_batch(evs, 5, out), ROT_OK);
    for (int i = 0; i < 5; i++) {
      char *one = NULL;
      assert_int_equal(attest_evidence_encode(&evs[i], &one), ROT_OK);
      json_object *x = json_tokener_parse(out[i]), *y = json_tokener_parse(one);
      assert_non_null(x);
      assert_non_null(y);
      assert_true(json_object_equal(x, y));
      json_object_put(x);
      json_object_put(y);
      /* And it decodes to this member. */
      static attest_evidence_t back;
      assert_int_equal(
          attest_evidence_decode(out[i], strlen(out[i]), &back, NULL, 0),
          ROT_OK);
      assert_int_equal(back.nonce_len, evs[i].nonce_len);
      assert_memory_equal(back.nonce, evs[i].nonce, evs[i].nonce_len);
      assert_int_equal(back.batch_index, evs[i].batch_index);
      assert_int_equal(back.path_len, evs[i].path_len);
      assert_memory_equal(back.path, evs[i].path, evs[i].path_len * 32);
      attest_evidence_free(&back);
      free(one);
      free(out[i]);
    }
  }
  /* The same refusals as the single encoder; nothing left allocated. */
  evs[2].ak_pem = NULL;
  out[0] = (char *)"untouched";
  assert_int_equal(attest_evidence_encode_batch(evs, 5, out),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(attest_evidence_encode_batch(evs, 0, out),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(attest_evidence_encode_batch(NULL, 1, out),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void evidence_test_decode_hostile(void **state) {
  (void)state;
  refused("\"version\": 1", "\"version\": 2", "version", 0);
  refused("\"format\": \"rot-stack-evidence\"", "\"format\": \"x\"", "format", 0);
  refused("\"nonce\": \"abab", "\"nonce\": \"zzab", "nonce", 0);
  refused("\"attest\": \"AQID\"", "\"attest\": \"AQ!D\"", "quote.attest", 0);
  refused("\"attest\": \"AQID\"", "\"attest\": \"\"", "quote.attest", 0);
  refused("\"attest\": \"AQID\"", "\"attest\": 5", "quote.attest", 0);
  refused("\"alg\": \"ecc\"", "\"alg\": \"dsa\"", "ek.alg", 0);
  refused("\"version\": 1", "\"version\": 1, \"extra\": 1", "unknown field", 0);
  refused("\"index\": 2", "\"index\": 3", "batch", 1);
  refused("\"size\": 3", "\"size\": 1025", "batch", 1);
  refused("\"index\": 2", "\"index\": -1", "batch", 1);
  refused("\"unavailable\": \"not yet\"",
          "\"unavailable\": \"not yet\", \"alias\": \"AQID\"", "dice", 0);
}

static void evidence_test_decode_bounds(void **state) {
  (void)state;
  attest_evidence_t ev;
  char d[128];
  char *json = encode_sample(0);
  size_t n = strlen(json);
  /* Truncated at every length: never accepted, never a crash. */
  for (size_t cut = 0; cut < n - 1; cut++) {
    assert_int_not_equal(attest_evidence_decode(json, cut, &ev, d, sizeof(d)),
                         ROT_OK);
  }
  /* Trailing bytes, a NUL inside. */
  char *m = malloc(n + 3);
  assert_non_null(m);
  memcpy(m, json, n);
  memcpy(m + n, "{}", 3);
  assert_int_equal(attest_evidence_decode(m, n + 2, &ev, d, sizeof(d)),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  m[n / 2] = '\0';
  assert_int_equal(attest_evidence_decode(m, n, &ev, d, sizeof(d)),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  free(m);
  free(json);
  assert_int_equal(attest_evidence_decode(NULL, 0, &ev, d, sizeof(d)),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  assert_int_equal(attest_evidence_decode(NULL, 3, &ev, d, sizeof(d)),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* The same PCRs (select0: a bit per PCR 0-7) in SHA-256 and SHA-384. */
static void two_banks(TPML_PCR_SELECTION *sel, uint8_t select0) {
  memset(sel, 0, sizeof(*sel));
  sel->count = 2;
  sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel->pcrSelections[1].hash = TPM2_ALG_SHA384;
  for (int i = 0; i < 2; i++) {
    sel->pcrSelections[i].sizeofSelect = 3;
    sel->pcrSelections[i].pcrSelect[0] = select0;
  }
}

static void pcrfile_test_roundtrip_and_hostile(void **state) {
  (void)state;
  TPML_PCR_SELECTION sel;
  two_banks(&sel, 0xb3); /* 0,1,4,5,7 */
  TPML_DIGEST lists[2];
  memset(lists, 0, sizeof(lists));
  lists[0].count = 8;
  lists[1].count = 2;
  for (int i = 0; i < 10; i++) {
    TPM2B_DIGEST *d = &lists[i / 8].digests[i % 8];
    d->size = i < 5 ? 32 : 48;
    memset(d->buffer, i, d->size);
  }
  uint8_t *p = NULL;
  size_t len = 0;
  static attest_pcr_values_t v;
  assert_int_equal(attest_pcrfile_encode(&sel, lists, 2, &p, &len), ROT_OK);
  assert_int_equal(len, ATTEST_PCRFILE_SEL_SIZE + 4 + 2 * ATTEST_PCRFILE_DIGESTS_SIZE);
  assert_int_equal(attest_pcrfile_decode(p, len, &v), ROT_OK);
  assert_int_equal(v.count, 10);
  assert_int_equal(v.v[5].pcr, 0);
  assert_int_equal(v.v[7].pcr, 4);
  assert_int_equal(v.v[7].alg, TPM2_ALG_SHA384);
  /* A digest of the wrong size for its bank. */
  p[ATTEST_PCRFILE_SEL_SIZE + 4 + 4] = 20;
  assert_int_equal(attest_pcrfile_decode(p, len, &v),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  p[ATTEST_PCRFILE_SEL_SIZE + 4 + 4] = 32;
  /* Truncated, or one list too many declared. */
  assert_int_equal(attest_pcrfile_decode(p, len - 1, &v),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  p[ATTEST_PCRFILE_SEL_SIZE] = 3;
  assert_int_equal(attest_pcrfile_decode(p, len, &v),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  p[ATTEST_PCRFILE_SEL_SIZE] = 2;
  /* A selection naming more PCRs than values. */
  p[4 + 3 + 1] = 0x01;
  assert_int_equal(attest_pcrfile_decode(p, len, &v),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  free(p);
}

/*
 * Every byte of a PCR file that carries no value must be zero: set any one
 * of them and the file is refused with ROT_ERROR_ATTEST_PCR_PADDING (the
 * verifier then names that), while a changed digest byte still decodes.
 * The test's own model of the layout: 4 + 16 x 8 selection bytes (a used
 * entry's bytes 6 and 7 are the fourth select byte and the pad), then a
 * u32 list count, then lists of u32 count + 8 x (u16 size + 64 bytes).
 */
static void pcrfile_test_padding_refused(void **state) {
  (void)state;
  TPML_PCR_SELECTION sel;
  two_banks(&sel, 0x03); /* 0,1 */
  TPML_DIGEST list;
  memset(&list, 0, sizeof(list));
  list.count = 4;
  for (int i = 0; i < 4; i++) {
    list.digests[i].size = i < 2 ? 32 : 48;
    memset(list.digests[i].buffer, 0x11 * (i + 1), list.digests[i].size);
  }
  uint8_t *p = NULL;
  size_t len = 0;
  static attest_pcr_values_t v;
  assert_int_equal(attest_pcrfile_encode(&sel, &list, 1, &p, &len), ROT_OK);
  assert_int_equal(attest_pcrfile_decode(p, len, &v), ROT_OK);
  size_t padding = 0, values = 0;
  for (size_t off = 0; off < len; off++) {
    int pad = 0, value = 0;
    if (off >= 4 && off < ATTEST_PCRFILE_SEL_SIZE) {
      size_t entry = (off - 4) / 8, at = (off - 4) % 8;
      pad = entry >= 2 || at >= 6;
    } else if (off >= ATTEST_PCRFILE_SEL_SIZE + 8) {
      size_t entry = (off - ATTEST_PCRFILE_SEL_SIZE - 8) / 66;
      size_t at = (off - ATTEST_PCRFILE_SEL_SIZE - 8) % 66;
      size_t used = entry < 4 ? 2u + list.digests[entry].size : 0u;
      pad = at >= used;
      value = entry < 4 && at >= 2 && at < used;
    }
    if (!pad && !value) {
      continue;
    }
    uint8_t was = p[off];
    p[off] ^= 0x5a;
    rot_error_t err = attest_pcrfile_decode(p, len, &v);
    p[off] = was;
    if (pad) {
      padding++;
      if (err != ROT_ERROR_ATTEST_PCR_PADDING) {
        fail_msg("byte %zu is padding: want ATTEST_PCR_PADDING, got 0x%08x", off,
                 (unsigned)err);
      }
      /* Nothing half decoded is left behind. */
      assert_int_equal(v.count, 0);
    } else {
      values++;
      assert_int_equal(err, ROT_OK);
    }
  }
  assert_int_equal(padding, 14 * 8 + 2 * 2 + 2 * 32 + 2 * 16 + 4 * 66);
  assert_int_equal(values, 2 * 32 + 2 * 48);
  /* The last byte, in an unused digest entry, is padding too. */
  p[len - 1] = 1;
  assert_int_equal(attest_pcrfile_decode(p, len, &v), ROT_ERROR_ATTEST_PCR_PADDING);
  free(p);
}

/* The TPM structure decoders: exactly len bytes, or refused and zeroed. */
static void tpms_test_decoders_exact(void **state) {
  (void)state;
  uint8_t buf[sizeof(TPMS_ATTEST) + 16];
  size_t len = 0;

  TPMT_SIGNATURE sig, sig2;
  memset(&sig, 0, sizeof(sig));
  sig.sigAlg = TPM2_ALG_ECDSA;
  sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
  sig.signature.ecdsa.signatureR.size = 32;
  sig.signature.ecdsa.signatureS.size = 32;
  memset(sig.signature.ecdsa.signatureR.buffer, 0x11, 32);
  memset(sig.signature.ecdsa.signatureS.buffer, 0x22, 32);
  assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, buf, sizeof(buf), &len),
                   TSS2_RC_SUCCESS);
  assert_int_equal(attest_tpmt_signature_decode(buf, len, &sig2), ROT_OK);
  assert_memory_equal(sig2.signature.ecdsa.signatureS.buffer,
                      sig.signature.ecdsa.signatureS.buffer, 32);
  buf[len] = 0;
  assert_int_equal(attest_tpmt_signature_decode(buf, len + 1, &sig2),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  assert_int_equal(sig2.sigAlg, 0); /* zeroed, not half decoded */
  assert_int_equal(attest_tpmt_signature_decode(buf, len - 1, &sig2),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  assert_int_equal(attest_tpmt_signature_decode(NULL, len, &sig2),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(attest_tpmt_signature_decode(buf, len, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);

  TPM2B_PUBLIC pub, pub2;
  memset(&pub, 0, sizeof(pub));
  pub.publicArea.type = TPM2_ALG_ECC;
  pub.publicArea.nameAlg = TPM2_ALG_SHA256;
  pub.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  pub.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  pub.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  pub.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  pub.publicArea.unique.ecc.x.size = 32;
  pub.publicArea.unique.ecc.y.size = 32;
  len = 0;
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, buf, sizeof(buf), &len),
                   TSS2_RC_SUCCESS);
  assert_int_equal(attest_tpm2b_public_decode(buf, len, &pub2), ROT_OK);
  assert_int_equal(pub2.publicArea.unique.ecc.y.size, 32);
  assert_int_equal(attest_tpm2b_public_decode(buf, len + 1, &pub2),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  assert_int_equal(pub2.publicArea.type, 0);
  assert_int_equal(attest_tpm2b_public_decode(buf, len - 1, &pub2),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);

  TPMS_ATTEST at, at2;
  memset(&at, 0, sizeof(at));
  at.magic = TPM2_GENERATED_VALUE;
  at.type = TPM2_ST_ATTEST_QUOTE;
  at.extraData.size = 4;
  memcpy(at.extraData.buffer, "abcd", 4);
  len = 0;
  assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&at, buf, sizeof(buf), &len),
                   TSS2_RC_SUCCESS);
  assert_int_equal(attest_tpms_attest_decode(buf, len, &at2), ROT_OK);
  assert_memory_equal(at2.extraData.buffer, "abcd", 4);
  assert_int_equal(attest_tpms_attest_decode(buf, len + 1, &at2),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  assert_int_equal(at2.magic, 0);
  assert_int_equal(attest_tpms_attest_decode(buf, len - 1, &at2),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(evidence_test_roundtrip),
      cmocka_unit_test(evidence_test_encode_batch_matches_encode),
      cmocka_unit_test(evidence_test_decode_hostile),
      cmocka_unit_test(evidence_test_decode_bounds),
      cmocka_unit_test(pcrfile_test_roundtrip_and_hostile),
      cmocka_unit_test(pcrfile_test_padding_refused),
      cmocka_unit_test(tpms_test_decoders_exact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
