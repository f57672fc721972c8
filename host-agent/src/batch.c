/* The batching window (see batch.h). */
#include "batch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct waiter {
  struct waiter *next;
  const uint8_t *nonce;
  size_t len;
  attest_evidence_t *ev;
  rot_error_t err;
  unsigned size;
  char detail[256];
  int done;
} waiter_t;

/* One open window: the requests that joined it, all asking one mask. */
typedef struct window {
  uint32_t mask;
  waiter_t *head, **tail;
  unsigned n;
  int closed;
} window_t;

struct ha_batch {
  pthread_mutex_t lock;
  pthread_cond_t joined; /* a request joined (the leader may close early) */
  pthread_cond_t done;   /* a window's evidence is ready */
  ha_tpm_t *tpm;
  attest_source_t src;
  unsigned window_us, max;
  window_t *open; /* the window requests join now, or NULL */
};

rot_error_t ha_batch_new(ha_batch_t **out, ha_tpm_t *t,
                         const attest_source_t *src, unsigned window_us,
                         unsigned max) {
  if (out == NULL || t == NULL || src == NULL || max == 0 ||
      max > ATTEST_BATCH_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ha_batch_t *b = calloc(1, sizeof(*b));
  if (b == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  if (pthread_mutex_init(&b->lock, NULL) != 0 ||
      pthread_cond_init(&b->joined, &ca) != 0 ||
      pthread_cond_init(&b->done, &ca) != 0) {
    pthread_condattr_destroy(&ca);
    free(b);
    return ROT_ERROR_INTERNAL;
  }
  pthread_condattr_destroy(&ca);
  b->tpm = t;
  b->src = *src;
  b->window_us = window_us;
  b->max = max;
  *out = b;
  return ROT_OK;
}

void ha_batch_free(ha_batch_t *b) {
  if (b == NULL) {
    return;
  }
  pthread_mutex_destroy(&b->lock);
  pthread_cond_destroy(&b->joined);
  pthread_cond_destroy(&b->done);
  free(b);
}

/* The leader's part, outside the lock: one quote for the whole window. */
static void answer(ha_batch_t *b, window_t *w) {
  attest_nonce_t *nonces = calloc(w->n, sizeof(*nonces));
  attest_evidence_t *evs = calloc(w->n, sizeof(*evs));
  char detail[256] = "";
  rot_error_t err = ROT_ERROR_INTERNAL;
  if (nonces != NULL && evs != NULL) {
    size_t i = 0;
    for (waiter_t *x = w->head; x != NULL; x = x->next) {
      nonces[i].p = x->nonce;
      nonces[i].len = x->len;
      i++;
    }
    attest_source_t src = b->src;
    src.pcr_mask = w->mask;
    err = ha_tpm_produce(b->tpm, &src, nonces, w->n, 1, evs, detail,
                         sizeof(detail));
  } else {
    snprintf(detail, sizeof(detail), "out of memory");
  }
  pthread_mutex_lock(&b->lock);
  size_t i = 0;
  for (waiter_t *x = w->head; x != NULL; x = x->next, i++) {
    x->err = err;
    x->size = w->n;
    if (err == ROT_OK) {
      *x->ev = evs[i]; /* ownership moves to the request */
    } else {
      snprintf(x->detail, sizeof(x->detail), "%s", detail);
    }
    x->done = 1;
  }
  pthread_cond_broadcast(&b->done);
  pthread_mutex_unlock(&b->lock);
  free(nonces);
  free(evs);
}

rot_error_t ha_batch_join(ha_batch_t *b, const uint8_t *nonce, size_t len,
                          uint32_t mask, attest_evidence_t *ev,
                          unsigned *batch_size, char *detail, size_t cap) {
  if (b == NULL || nonce == NULL || ev == NULL || batch_size == NULL ||
      len < ATTEST_NONCE_MIN || len > ATTEST_NONCE_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  waiter_t me;
  memset(&me, 0, sizeof(me));
  me.nonce = nonce;
  me.len = len;
  me.ev = ev;
  window_t mine;
  int leader = 0;
  pthread_mutex_lock(&b->lock);
  /* A window asking other PCRs, or a full one, is left to finish first. */
  while (b->open != NULL && (b->open->mask != mask || b->open->n >= b->max)) {
    pthread_cond_wait(&b->done, &b->lock);
  }
  window_t *w = b->open;
  if (w == NULL) {
    memset(&mine, 0, sizeof(mine));
    mine.mask = mask;
    mine.tail = &mine.head;
    w = &mine;
    b->open = w;
    leader = 1;
  }
  *w->tail = &me;
  w->tail = &me.next;
  w->n++;
  pthread_cond_signal(&b->joined);
  if (leader) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)b->window_us * 1000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    while (w->n < b->max) {
      if (pthread_cond_timedwait(&b->joined, &b->lock, &until) == ETIMEDOUT) {
        break;
      }
    }
    w->closed = 1;
    b->open = NULL;
    /* Requests waiting for a different window may open theirs now. */
    pthread_cond_broadcast(&b->done);
    pthread_mutex_unlock(&b->lock);
    answer(b, w);
    pthread_mutex_lock(&b->lock);
  }
  while (!me.done) {
    pthread_cond_wait(&b->done, &b->lock);
  }
  pthread_mutex_unlock(&b->lock);
  *batch_size = me.size;
  if (me.err != ROT_OK && detail != NULL) {
    snprintf(detail, cap, "%s", me.detail);
  }
  return me.err;
}
