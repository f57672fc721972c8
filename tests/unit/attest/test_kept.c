/*
 * Kept parts of evidence (attest/attest.h attest_kept_*): the single-form
 * document written into the kept template is byte for byte what
 * attest_evidence_encode gives, with and without the chip's parts, for
 * every nonce length; parts that carry a stand-in's text make the
 * template unusable and the documents are encoded whole; a batch member
 * put together from the shared document and its own pieces is the same
 * JSON value attest_evidence_encode gives; bad arguments are refused. No TPM: the parts and quotes are made up.
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

#include "attest/attest.h"

static attest_buf_t dup_buf(const void *p, size_t n) {
  attest_buf_t b = {malloc(n), n};
  assert_non_null(b.p);
  memcpy(b.p, p, n);
  return b;
}

/* Kept parts as attest_kept_make leaves them (heap, freed by
 * attest_kept_free); chip: the chip's certificates, else their absence. */
static void kept_sample(attest_kept_t *k, int chip, const char *inventory) {
  memset(k, 0, sizeof(*k));
  static const uint8_t log[] = {0x03, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0xfe};
  static const uint8_t pub[] = {0x00, 0x04, 0xde, 0xad, 0xbe, 0xef};
  static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x05};
  k->base.event_log = dup_buf(log, sizeof(log));
  k->base.ak_public = dup_buf(pub, sizeof(pub));
  k->base.ak_pem = strdup("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  k->base.ek_cert = dup_buf(der, sizeof(der));
  k->base.ek_alg = 0x0001;
  if (chip) {
    k->base.dice_deviceid = dup_buf(der, sizeof(der));
    k->base.dice_alias = dup_buf(der, 4);
    k->base.ak_endorsement = dup_buf(log, 6);
  } else {
    k->base.dice_unavailable = strdup("the chip (rotd) was not reachable");
  }
  k->base.inventory = strdup(inventory);
  k->nbanks = 1;
  k->banks[0] = 0x000b;
}

static attest_quote_t quote_sample(size_t alen) {
  uint8_t a[300], s[80], p[700];
  for (size_t i = 0; i < sizeof(a); i++) {
    a[i] = (uint8_t)(i * 7 + 1);
  }
  memset(s, 0x5c, sizeof(s));
  memset(p, 0, sizeof(p));
  p[0] = 2;
  attest_quote_t q = {dup_buf(a, alen), dup_buf(s, sizeof(s)),
                      dup_buf(p, sizeof(p))};
  return q;
}

/* What attest_evidence_encode gives for the same evidence. */
static char *reference(const attest_kept_t *k, const uint8_t *nonce,
                       size_t len, const attest_quote_t *q) {
  attest_evidence_t v = k->base;
  v.version = ATTEST_EVIDENCE_VERSION;
  memcpy(v.nonce, nonce, len);
  v.nonce_len = len;
  v.attest = q->attest;
  v.signature = q->signature;
  v.pcrs = q->pcrs;
  char *doc = NULL;
  assert_int_equal(attest_evidence_encode(&v, &doc), ROT_OK);
  return doc;
}

static void check_docs(attest_kept_t *k) {
  static const size_t lens[] = {ATTEST_NONCE_MIN, 31, 32, ATTEST_NONCE_MAX};
  static const size_t alens[] = {1, 2, 3, 145, 300};
  for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    for (size_t j = 0; j < sizeof(alens) / sizeof(alens[0]); j++) {
      uint8_t nonce[ATTEST_NONCE_MAX];
      for (size_t b = 0; b < lens[i]; b++) {
        nonce[b] = (uint8_t)(0xa5 ^ (b * 13 + i));
      }
      attest_quote_t q = quote_sample(alens[j]);
      char *doc = NULL;
      assert_int_equal(attest_kept_single_doc(k, nonce, lens[i], &q, &doc),
                       ROT_OK);
      char *want = reference(k, nonce, lens[i], &q);
      assert_string_equal(doc, want);
      free(doc);
      free(want);
      attest_quote_free(&q);
    }
  }
}

static void produce_test_kept_single_doc_matches_encode(void **state) {
  (void)state;
  for (int chip = 0; chip < 2; chip++) {
    attest_kept_t k;
    kept_sample(&k, chip, "{\"regions\": [{\"region\": \"rot\"}]}");
    attest_kept_ready(&k);
    assert_non_null(k.doc); /* the template is in use */
    check_docs(&k);
    attest_kept_free(&k);
  }
}

static void produce_test_kept_single_doc_marker_in_parts(void **state) {
  (void)state;
  /* A part carrying a stand-in's text: no template, same documents. */
  static const char *const inv[] = {
      "{\"x\": \"rotstack0quote0attest000\"}",
      "{\"x\": \"rotstack0quote0pcrs00000\"}",
      "{\"x\": \"a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\"}"};
  for (size_t i = 0; i < sizeof(inv) / sizeof(inv[0]); i++) {
    attest_kept_t k;
    kept_sample(&k, 1, inv[i]);
    attest_kept_ready(&k);
    assert_null(k.doc);
    check_docs(&k);
    attest_kept_free(&k);
  }
}

static void produce_test_kept_single_doc_bad_arguments(void **state) {
  (void)state;
  attest_kept_t k;
  kept_sample(&k, 1, "{}");
  attest_kept_ready(&k);
  attest_quote_t q = quote_sample(10);
  uint8_t nonce[ATTEST_NONCE_MAX + 1] = {0};
  char *doc = (char *)&k;
  assert_int_equal(attest_kept_single_doc(NULL, nonce, 32, &q, &doc),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(attest_kept_single_doc(&k, NULL, 32, &q, &doc),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(attest_kept_single_doc(&k, nonce, ATTEST_NONCE_MIN - 1, &q,
                                          &doc),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(attest_kept_single_doc(&k, nonce, ATTEST_NONCE_MAX + 1, &q,
                                          &doc),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(attest_kept_single_doc(&k, nonce, 32, NULL, &doc),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(attest_kept_single_doc(&k, nonce, 32, &q, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  attest_quote_t empty = {{NULL, 0}, q.signature, q.pcrs};
  assert_int_equal(attest_kept_single_doc(&k, nonce, 32, &empty, &doc),
                   ROT_ERROR_INVALID_ARGUMENT);
  attest_quote_free(&q);
  attest_kept_free(&k);
  attest_kept_free(NULL);
  attest_kept_ready(NULL);
}

static void produce_test_kept_batch_pieces_match_encode(void **state) {
  (void)state;
  attest_kept_t k;
  kept_sample(&k, 1, "{\"regions\": []}");
  attest_kept_ready(&k);
  attest_quote_t q = quote_sample(145);
  attest_batch_shared_t sh;
  assert_int_equal(attest_kept_batch_shared(&k, &q, &sh), ROT_OK);
  enum { N = 5 };
  uint8_t raw[N][40];
  attest_nonce_t nonces[N];
  for (size_t i = 0; i < N; i++) {
    memset(raw[i], (int)(0x30 + i), sizeof(raw[i]));
    nonces[i].p = raw[i];
    nonces[i].len = 16 + 6 * i; /* 16..40 bytes */
  }
  uint8_t paths[N][ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN];
  uint32_t lens[N];
  uint8_t root[ATTEST_MERKLE_HASH_LEN];
  assert_int_equal(attest_merkle_paths(nonces, N, paths, lens, root), ROT_OK);
  for (size_t i = 0; i < N; i++) {
    char text[ATTEST_BATCH_MEMBER_TEXT_MAX];
    size_t nl = 0, tl = 0;
    assert_int_equal(attest_batch_member_text(&nonces[i], (uint32_t)i, N,
                                              (const uint8_t(*)[ATTEST_MERKLE_HASH_LEN])paths[i],
                                              lens[i], text, sizeof(text), &nl,
                                              &tl),
                     ROT_OK);
    char *doc = malloc(sh.len + tl + 1);
    assert_non_null(doc);
    size_t o = 0;
    memcpy(doc + o, sh.doc, sh.nonce_at), o += sh.nonce_at;
    memcpy(doc + o, text, nl), o += nl;
    memcpy(doc + o, sh.doc + sh.nonce_end, sh.batch_at - sh.nonce_end);
    o += sh.batch_at - sh.nonce_end;
    memcpy(doc + o, text + nl, tl - nl), o += tl - nl;
    memcpy(doc + o, sh.doc + sh.batch_at, sh.len - sh.batch_at);
    o += sh.len - sh.batch_at;
    doc[o] = '\0';
    attest_evidence_t v = k.base;
    v.version = ATTEST_EVIDENCE_VERSION;
    memcpy(v.nonce, nonces[i].p, nonces[i].len);
    v.nonce_len = nonces[i].len;
    v.attest = q.attest;
    v.signature = q.signature;
    v.pcrs = q.pcrs;
    v.batched = 1;
    v.batch_index = (uint32_t)i;
    v.batch_size = N;
    v.path_len = lens[i];
    memcpy(v.path, paths[i], sizeof(v.path));
    char *want = NULL;
    assert_int_equal(attest_evidence_encode(&v, &want), ROT_OK);
    json_object *a = json_tokener_parse(doc), *b = json_tokener_parse(want);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(json_object_equal(a, b));
    /* And it decodes as the batched evidence of that nonce. */
    attest_evidence_t back;
    char why[128];
    assert_int_equal(attest_evidence_decode(doc, o, &back, why, sizeof(why)),
                     ROT_OK);
    assert_int_equal(back.batch_index, i);
    assert_int_equal(back.nonce_len, nonces[i].len);
    attest_evidence_free(&back);
    json_object_put(a);
    json_object_put(b);
    free(doc);
    free(want);
  }
  char small[8];
  size_t nl, tl;
  assert_int_equal(attest_batch_member_text(&nonces[0], 0, N, NULL, 0, small,
                                            sizeof(small), &nl, &tl),
                   ROT_ERROR_INVALID_ARGUMENT);
  attest_batch_shared_free(&sh);
  attest_quote_free(&q);
  attest_kept_free(&k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(produce_test_kept_single_doc_matches_encode),
      cmocka_unit_test(produce_test_kept_single_doc_marker_in_parts),
      cmocka_unit_test(produce_test_kept_single_doc_bad_arguments),
      cmocka_unit_test(produce_test_kept_batch_pieces_match_encode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
