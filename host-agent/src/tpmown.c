/* The serialised TPM owner (see tpmown.h). */
#include "tpmown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rot_client/names.h"

/* The kept parts of evidence (AK, EK certificate, event log, the chip's
 * certificates and endorsement, the active banks) are made again at least
 * this often, whenever the event log file changes, after any failed TPM
 * exchange and when a quote was signed by another key than theirs; in
 * between, a request asks the TPM for its quote only. */
#define KEPT_TTL_NS 1000000000LL

struct ha_kept {
  unsigned refs; /* under kept_lock: the owner's reference and each user's */
  attest_kept_t k;
  struct timespec at;
  struct stat log_st;
};

rot_error_t ha_tpm_init(ha_tpm_t *t, const char *tcti) {
  if (t == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(t, 0, sizeof(*t));
  if (tcti != NULL) {
    if (strlen(tcti) >= sizeof(t->tcti)) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    strcpy(t->tcti, tcti);
  }
  if (pthread_mutex_init(&t->lock, NULL) != 0) {
    return ROT_ERROR_INTERNAL;
  }
  if (pthread_mutex_init(&t->kept_lock, NULL) != 0) {
    pthread_mutex_destroy(&t->lock);
    return ROT_ERROR_INTERNAL;
  }
  return ROT_OK;
}

/* Under kept_lock: one reference to k less (freed with the last). */
static void kept_unref_locked(ha_kept_t *k) {
  if (k != NULL && --k->refs == 0) {
    attest_kept_free(&k->k);
    free(k);
  }
}

static void kept_put(ha_tpm_t *t, ha_kept_t *k) {
  pthread_mutex_lock(&t->kept_lock);
  kept_unref_locked(k);
  pthread_mutex_unlock(&t->kept_lock);
}

/* Stop handing out k (when it is still the current one). */
static void kept_drop(ha_tpm_t *t, ha_kept_t *k) {
  pthread_mutex_lock(&t->kept_lock);
  if (k == NULL || t->kept == k) {
    ha_kept_t *old = t->kept;
    t->kept = NULL;
    kept_unref_locked(old);
  }
  pthread_mutex_unlock(&t->kept_lock);
}

void ha_tpm_set_chip(ha_tpm_t *t, ha_chip_t *chip) {
  if (t != NULL) {
    t->chip = chip;
  }
}

void ha_tpm_close(ha_tpm_t *t) {
  if (t == NULL) {
    return;
  }
  pthread_mutex_lock(&t->lock);
  attest_tpm_close(t->tpm);
  t->tpm = NULL;
  pthread_mutex_unlock(&t->lock);
  kept_drop(t, NULL);
}

/* Under the lock. */
static void fail(ha_tpm_t *t, const char *what) {
  snprintf(t->last_error, sizeof(t->last_error), "%s", what);
  t->errors++;
  attest_tpm_close(t->tpm);
  t->tpm = NULL;
  kept_drop(t, NULL); /* the TPM may have changed under them */
}

/* The end of a TPM exchange: a failure drops the context (reopened on the
 * next use) naming why, a success clears the last error. */
static void settle(ha_tpm_t *t, rot_error_t err, const char *why) {
  if (err != ROT_OK) {
    fail(t, why);
  } else {
    t->last_error[0] = '\0';
  }
}

static rot_error_t ensure(ha_tpm_t *t) {
  if (t->tpm != NULL) {
    return ROT_OK;
  }
  rot_error_t err = attest_tpm_open(&t->tpm, t->tcti[0] != '\0' ? t->tcti : NULL);
  if (err != ROT_OK) {
    fail(t, attest_tpm_strerror(NULL));
  }
  return err;
}

rot_error_t ha_tpm_banks(ha_tpm_t *t, uint16_t *algs, size_t *n) {
  if (t == NULL || algs == NULL || n == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err == ROT_OK) {
    err = attest_tpm_banks(t->tpm, algs, n);
    if (err != ROT_ERROR_BUFFER_TOO_SMALL) { /* the caller's buffer, not the TPM */
      settle(t, err, attest_tpm_strerror(t->tpm));
    }
  }
  pthread_mutex_unlock(&t->lock);
  return err;
}

/* The source the TPM's side of evidence is made from: with the agent's
 * chip link, the chip is asked later (chip_fill), once the TPM is free. */
static attest_source_t tpm_side(const ha_tpm_t *t, const attest_source_t *src) {
  attest_source_t s = *src;
  if (t->chip != NULL) {
    s.no_chip = 1;
  }
  return s;
}

/* The chip's parts of n evidences made from tpm_side(src), outside the TPM
 * lock (through the chip cache); on failure the evidences are freed. */
static rot_error_t chip_fill(ha_tpm_t *t, const attest_source_t *src,
                             attest_evidence_t *evs, size_t n, char *detail,
                             size_t cap) {
  if (t->chip == NULL || src->no_chip) {
    return ROT_OK;
  }
  rot_error_t err = ha_chip_fill(t->chip, evs, n);
  if (err != ROT_OK) {
    snprintf(detail, cap, "out of memory");
    for (size_t i = 0; i < n; i++) {
      attest_evidence_free(&evs[i]);
    }
  }
  return err;
}

/* The event log as stat sees it (zeroed when absent). */
static void log_stat(const attest_source_t *src, struct stat *st) {
  const char *log = src->event_log != NULL ? src->event_log
                                           : ATTEST_DEFAULT_EVENT_LOG;
  if (stat(log, st) != 0) {
    memset(st, 0, sizeof(*st));
  }
}

/* k is young enough and the event log is still the one it read. */
static int kept_fresh(const ha_kept_t *k, const attest_source_t *src) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct stat st;
  log_stat(src, &st);
  int64_t age = (int64_t)(now.tv_sec - k->at.tv_sec) * 1000000000LL +
                (now.tv_nsec - k->at.tv_nsec);
  return age < KEPT_TTL_NS && st.st_ino == k->log_st.st_ino &&
         st.st_dev == k->log_st.st_dev && st.st_size == k->log_st.st_size &&
         st.st_mtim.tv_sec == k->log_st.st_mtim.tv_sec &&
         st.st_mtim.tv_nsec == k->log_st.st_mtim.tv_nsec;
}

/* A reference to the kept parts for src, made again when stale: the
 * TPM's under the TPM lock, the chip's after it (through the chip
 * cache). The caller puts it back with kept_put. */
static rot_error_t kept_get(ha_tpm_t *t, const attest_source_t *src,
                            ha_kept_t **out, char *detail, size_t cap) {
  pthread_mutex_lock(&t->kept_lock);
  ha_kept_t *k = t->kept;
  if (k != NULL && kept_fresh(k, src)) {
    k->refs++;
    pthread_mutex_unlock(&t->kept_lock);
    *out = k;
    return ROT_OK;
  }
  pthread_mutex_unlock(&t->kept_lock);
  k = calloc(1, sizeof(*k));
  if (k == NULL) {
    snprintf(detail, cap, "out of memory");
    return ROT_ERROR_INTERNAL;
  }
  log_stat(src, &k->log_st); /* before the read: a change during it shows next time */
  clock_gettime(CLOCK_MONOTONIC, &k->at);
  attest_source_t s = tpm_side(t, src);
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err != ROT_OK) {
    snprintf(detail, cap, "TPM: %s", t->last_error);
  } else {
    err = attest_kept_make(t->tpm, &s, &k->k, detail, cap);
    settle(t, err, detail);
  }
  pthread_mutex_unlock(&t->lock);
  if (err == ROT_OK) {
    err = chip_fill(t, src, &k->k.base, 1, detail, cap);
  }
  if (err != ROT_OK) {
    free(k); /* chip_fill and attest_kept_make free what they made */
    return err;
  }
  attest_kept_ready(&k->k);
  if (k->k.base.dice_unavailable != NULL) {
    /* The chip did not answer: this request says so, and the next one
     * asks again instead of serving that for a second. */
    k->refs = 1;
    *out = k;
    return ROT_OK;
  }
  k->refs = 2; /* the owner's and the caller's */
  pthread_mutex_lock(&t->kept_lock);
  ha_kept_t *old = t->kept;
  t->kept = k;
  kept_unref_locked(old);
  pthread_mutex_unlock(&t->kept_lock);
  *out = k;
  return ROT_OK;
}

/* One quote with k's parts under the TPM lock. */
static rot_error_t kept_quote(ha_tpm_t *t, const attest_source_t *src,
                              const ha_kept_t *k, const uint8_t *qual,
                              size_t qlen, attest_quote_t *q, int *stale,
                              char *detail, size_t cap) {
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err != ROT_OK) {
    snprintf(detail, cap, "TPM: %s", t->last_error);
  } else {
    err = attest_kept_quote(t->tpm, src, &k->k, qual, qlen, q, stale, detail,
                            cap);
    settle(t, err, detail);
  }
  pthread_mutex_unlock(&t->lock);
  return err;
}

/* Kept parts made again this many times for one request at most (the
 * key at the AK's handle changing under it). */
#define KEPT_ROUNDS 2

/* What a request makes of its quote and the kept parts it was made with
 * (called outside the TPM lock: the next request's quote runs meanwhile). */
typedef rot_error_t (*kept_encode_fn)(const ha_kept_t *k,
                                      const attest_quote_t *q, void *ctx);

/* One quote over qual with the kept parts, then encode: the parts are made
 * again (at most KEPT_ROUNDS times) while the key at the AK's handle
 * changes under them. */
static rot_error_t kept_attest(ha_tpm_t *t, const attest_source_t *src,
                               const uint8_t *qual, size_t qlen,
                               kept_encode_fn encode, void *ctx, char *detail,
                               size_t cap) {
  for (int round = 0; round < KEPT_ROUNDS; round++) {
    ha_kept_t *k = NULL;
    ROT_TRY(kept_get(t, src, &k, detail, cap));
    attest_quote_t q;
    int stale = 0;
    rot_error_t err = kept_quote(t, src, k, qual, qlen, &q, &stale, detail, cap);
    if (err == ROT_OK && !stale) {
      err = encode(k, &q, ctx);
      attest_quote_free(&q);
      if (err != ROT_OK) {
        snprintf(detail, cap, "cannot encode the evidence: %s",
                 rot_error_name(err));
      }
    }
    if (stale) {
      kept_drop(t, k);
    }
    kept_put(t, k);
    if (!stale) {
      return err;
    }
  }
  snprintf(detail, cap, "the key at the AK's handle keeps changing");
  return ROT_ERROR_TPM_COMMAND;
}

typedef struct single_ctx {
  const uint8_t *nonce;
  size_t len;
  char **doc;
} single_ctx_t;

static rot_error_t single_encode(const ha_kept_t *k, const attest_quote_t *q,
                                 void *ctx) {
  const single_ctx_t *c = ctx;
  return attest_kept_single_doc(&k->k, c->nonce, c->len, q, c->doc);
}

rot_error_t ha_tpm_attest_single(ha_tpm_t *t, const attest_source_t *src,
                                 const uint8_t *nonce, size_t len, char **doc,
                                 char *detail, size_t cap) {
  if (t == NULL || src == NULL || nonce == NULL || doc == NULL ||
      len < ATTEST_NONCE_MIN || len > ATTEST_NONCE_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  single_ctx_t c = {nonce, len, doc};
  return kept_attest(t, src, nonce, len, single_encode, &c, detail, cap);
}

/* A batch's shared document (attest_batch_shared_t), counted. */
typedef struct shared_doc {
  unsigned refs; /* atomic: members not yet freed */
  attest_batch_shared_t s;
} shared_doc_t;

struct ha_evpiece {
  shared_doc_t *shared;
  size_t nonce_len, text_len;
  char text[ATTEST_BATCH_MEMBER_TEXT_MAX];
};

size_t ha_evpiece_parts(const ha_evpiece_t *e, const char *p[5],
                        size_t len[5]) {
  const attest_batch_shared_t *s = &e->shared->s;
  p[0] = s->doc;
  len[0] = s->nonce_at;
  p[1] = e->text;
  len[1] = e->nonce_len;
  p[2] = s->doc + s->nonce_end;
  len[2] = s->batch_at - s->nonce_end;
  p[3] = e->text + e->nonce_len;
  len[3] = e->text_len - e->nonce_len;
  p[4] = s->doc + s->batch_at;
  len[4] = s->len - s->batch_at;
  return len[0] + len[1] + len[2] + len[3] + len[4];
}

static void shared_put(shared_doc_t *d) {
  if (d != NULL && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    attest_batch_shared_free(&d->s);
    free(d);
  }
}

void ha_evpiece_free(ha_evpiece_t *e) {
  if (e != NULL) {
    shared_put(e->shared);
    free(e);
  }
}

/* A member that is a whole document of its own (doc taken). */
static ha_evpiece_t *whole(char *doc) {
  shared_doc_t *d = calloc(1, sizeof(*d));
  ha_evpiece_t *e = calloc(1, sizeof(*e));
  if (d == NULL || e == NULL) {
    free(d);
    free(e);
    free(doc);
    return NULL;
  }
  d->refs = 1;
  d->s.doc = doc;
  d->s.len = d->s.nonce_at = d->s.nonce_end = d->s.batch_at = strlen(doc);
  e->shared = d;
  return e;
}

/* The n members' documents from k and q (outside the TPM lock). */
static rot_error_t batch_pieces(
    const ha_kept_t *k, const attest_nonce_t *nonces, size_t n,
    const attest_quote_t *q,
    const uint8_t (*paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN],
    const uint32_t *lens, ha_evpiece_t **docs) {
  memset(docs, 0, n * sizeof(*docs));
  shared_doc_t *d = calloc(1, sizeof(*d));
  if (d == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  rot_error_t err = ROT_OK;
  if (attest_kept_batch_shared(&k->k, q, &d->s) != ROT_OK) {
    /* The parts carry the stand-in: each member encoded whole. */
    free(d);
    char **whole_docs = calloc(n, sizeof(*whole_docs));
    err = whole_docs != NULL
              ? attest_kept_batch_docs(&k->k, nonces, n, q, paths, lens,
                                       whole_docs)
              : ROT_ERROR_INTERNAL;
    for (size_t i = 0; err == ROT_OK && i < n; i++) {
      docs[i] = whole(whole_docs[i]);
      whole_docs[i] = NULL;
      err = docs[i] != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
    }
    for (size_t i = 0; whole_docs != NULL && i < n; i++) {
      free(whole_docs[i]);
    }
    free(whole_docs);
  } else {
    d->refs = 1; /* this function's, dropped below */
    for (size_t i = 0; err == ROT_OK && i < n; i++) {
      ha_evpiece_t *e = malloc(sizeof(*e));
      err = e != NULL ? attest_batch_member_text(
                            &nonces[i], (uint32_t)i, (uint32_t)n, paths[i],
                            lens[i], e->text, sizeof(e->text), &e->nonce_len,
                            &e->text_len)
                      : ROT_ERROR_INTERNAL;
      if (err != ROT_OK) {
        free(e);
        break;
      }
      __atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
      e->shared = d;
      docs[i] = e;
    }
    shared_put(d);
  }
  if (err != ROT_OK) {
    for (size_t i = 0; i < n; i++) {
      ha_evpiece_free(docs[i]);
      docs[i] = NULL;
    }
  }
  return err;
}

typedef struct batch_ctx {
  const attest_nonce_t *nonces;
  size_t n;
  const uint8_t (*paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN];
  const uint32_t *lens;
  ha_evpiece_t **docs;
} batch_ctx_t;

static rot_error_t batch_encode(const ha_kept_t *k, const attest_quote_t *q,
                                void *ctx) {
  const batch_ctx_t *c = ctx;
  return batch_pieces(k, c->nonces, c->n, q, c->paths, c->lens, c->docs);
}

rot_error_t ha_tpm_attest_batch(ha_tpm_t *t, const attest_source_t *src,
                                const attest_nonce_t *nonces, size_t n,
                                ha_evpiece_t **docs, char *detail, size_t cap) {
  if (t == NULL || src == NULL || nonces == NULL || docs == NULL || n == 0 ||
      n > ATTEST_BATCH_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t root[ATTEST_MERKLE_HASH_LEN];
  uint8_t(*paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN] =
      malloc(n * sizeof(*paths));
  uint32_t *lens = malloc(n * sizeof(*lens));
  rot_error_t err = paths != NULL && lens != NULL
                        ? attest_merkle_paths(nonces, n, paths, lens, root)
                        : ROT_ERROR_INTERNAL;
  if (err != ROT_OK) {
    snprintf(detail, cap, "batch: 1..%u nonces of %u..%u bytes",
             ATTEST_BATCH_MAX, ATTEST_NONCE_MIN, ATTEST_NONCE_MAX);
  } else {
    batch_ctx_t c = {nonces, n,
                     (const uint8_t(*)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN])paths,
                     lens, docs};
    err = kept_attest(t, src, root, sizeof(root), batch_encode, &c, detail, cap);
  }
  free(paths);
  free(lens);
  return err;
}

rot_error_t ha_tpm_quote_banks(ha_tpm_t *t, uint32_t ak, const uint8_t *qual,
                               size_t qlen, uint32_t mask, const uint16_t *banks,
                               size_t nb, attest_quote_t *q,
                               TPM2B_PUBLIC *ak_pub) {
  if (t == NULL || q == NULL || ak_pub == NULL || banks == NULL || nb == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err == ROT_OK) {
    attest_buf_t m = {NULL, 0};
    err = attest_ak_read(t->tpm, ak, ak_pub, &m);
    free(m.p);
    if (err == ROT_OK) {
      err = attest_tpm_quote(t->tpm, ak, qual, qlen, mask, banks, nb, q);
    }
    settle(t, err, attest_tpm_strerror(t->tpm));
  }
  pthread_mutex_unlock(&t->lock);
  return err;
}

rot_error_t ha_tpm_identity(ha_tpm_t *t, uint32_t ak, uint16_t ek_alg,
                            TPM2B_PUBLIC *ak_pub, attest_buf_t *ak_marshalled,
                            TPM2B_PUBLIC *ek_pub, attest_buf_t *ek_cert) {
  if (t == NULL || ak_pub == NULL || ak_marshalled == NULL || ek_pub == NULL ||
      ek_cert == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err == ROT_OK) {
    err = attest_ak_read(t->tpm, ak, ak_pub, ak_marshalled);
    if (err == ROT_OK) {
      err = attest_ek_read(t->tpm, ek_alg, ek_pub, ek_cert);
    }
    settle(t, err, attest_tpm_strerror(t->tpm));
  }
  pthread_mutex_unlock(&t->lock);
  return err;
}

void ha_tpm_last_error(ha_tpm_t *t, char *out, size_t cap) {
  pthread_mutex_lock(&t->lock);
  snprintf(out, cap, "%s", t->last_error);
  pthread_mutex_unlock(&t->lock);
}

uint64_t ha_tpm_error_count(ha_tpm_t *t) {
  pthread_mutex_lock(&t->lock);
  uint64_t n = t->errors;
  pthread_mutex_unlock(&t->lock);
  return n;
}
