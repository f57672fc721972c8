/* The batching window (see batch.h). */
#include "batch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The longest a window waits for the last one's answers to be taken by
 * their requests (see worker_main); a parked request that never runs
 * again must not stall the batcher. */
#define DELIVERY_CAP_NS 1000000000LL

struct ha_batch_job {
  ha_batch_job_t *next;
  ha_batch_t *owner;
  uint8_t nonce[ATTEST_NONCE_MAX];
  size_t len;
  uint32_t mask;
  ha_batch_done_fn done;
  void *ctx;
  struct timespec joined;
  int answered;  /* the result below is set */
  int abandoned; /* released while waiting: the worker frees it */
  int counted;   /* answered, its answer not yet taken (owner->undelivered) */
  ha_evpiece_t *doc; /* the evidence document */
  uint32_t index;
  rot_error_t err;
  unsigned size;
  char detail[256];
};

struct ha_batch {
  pthread_mutex_t lock;
  pthread_cond_t wake; /* the worker: a job came, or a window filled up */
  pthread_cond_t idle; /* drain: a window was answered */
  ha_tpm_t *tpm;
  attest_source_t src;
  unsigned window_us, max;
  ha_batch_job_t *head, **tail; /* waiting jobs, oldest first */
  unsigned queued;
  unsigned busy;  /* jobs taken into a window, not yet answered */
  int draining;
  int stop;
  pthread_t worker;
  /* The worker's: a window's done callbacks, called outside the lock. */
  ha_batch_done_fn *fns;
  void **ctxs;
  /* Answers of the last window not yet taken by their requests, and when
   * the last of them was: its clients ask again from then. */
  unsigned undelivered;
  struct timespec delivered_at;
  int64_t quote_ns;  /* how long the last window's quote took */
  unsigned last_n;   /* how many requests it answered */
  unsigned waiting_for; /* the worker waits for this many jobs (0: not) */
};

static void *worker_main(void *arg);

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
      pthread_cond_init(&b->wake, &ca) != 0 ||
      pthread_cond_init(&b->idle, &ca) != 0) {
    pthread_condattr_destroy(&ca);
    free(b);
    return ROT_ERROR_INTERNAL;
  }
  pthread_condattr_destroy(&ca);
  b->tpm = t;
  b->src = *src;
  b->window_us = window_us;
  b->max = max;
  b->tail = &b->head;
  b->fns = calloc(max, sizeof(*b->fns));
  b->ctxs = calloc(max, sizeof(*b->ctxs));
  /* Signals are for the main thread: the worker starts with all blocked. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = b->fns != NULL && b->ctxs != NULL
               ? pthread_create(&b->worker, NULL, worker_main, b)
               : -1;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    free(b->fns);
    free(b->ctxs);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->wake);
    pthread_cond_destroy(&b->idle);
    free(b);
    return ROT_ERROR_INTERNAL;
  }
  *out = b;
  return ROT_OK;
}

void ha_batch_drain(ha_batch_t *b) {
  if (b == NULL) {
    return;
  }
  pthread_mutex_lock(&b->lock);
  b->draining = 1;
  pthread_cond_signal(&b->wake);
  while (b->head != NULL || b->busy != 0) {
    pthread_cond_wait(&b->idle, &b->lock);
  }
  pthread_mutex_unlock(&b->lock);
}

void ha_batch_free(ha_batch_t *b) {
  if (b == NULL) {
    return;
  }
  ha_batch_drain(b);
  pthread_mutex_lock(&b->lock);
  b->stop = 1;
  pthread_cond_signal(&b->wake);
  pthread_mutex_unlock(&b->lock);
  pthread_join(b->worker, NULL);
  pthread_mutex_destroy(&b->lock);
  pthread_cond_destroy(&b->wake);
  pthread_cond_destroy(&b->idle);
  free(b->fns);
  free(b->ctxs);
  free(b);
}

ha_batch_job_t *ha_batch_job_new(const uint8_t *nonce, size_t len,
                                 uint32_t mask, ha_batch_done_fn done,
                                 void *ctx) {
  if (nonce == NULL || done == NULL || len < ATTEST_NONCE_MIN ||
      len > ATTEST_NONCE_MAX) {
    return NULL;
  }
  ha_batch_job_t *j = calloc(1, sizeof(*j));
  if (j != NULL) {
    memcpy(j->nonce, nonce, len);
    j->len = len;
    j->mask = mask;
    j->done = done;
    j->ctx = ctx;
  }
  return j;
}

void ha_batch_submit(ha_batch_t *b, ha_batch_job_t *j) {
  pthread_mutex_lock(&b->lock);
  if (b->draining) {
    j->err = ROT_ERROR_INTERNAL;
    snprintf(j->detail, sizeof(j->detail), "the agent is stopping");
    j->answered = 1;
    ha_batch_done_fn done = j->done;
    void *ctx = j->ctx;
    pthread_mutex_unlock(&b->lock);
    done(ctx);
    return;
  }
  clock_gettime(CLOCK_MONOTONIC, &j->joined);
  j->owner = b;
  j->next = NULL;
  *b->tail = j;
  b->tail = &j->next;
  b->queued++;
  /* The worker waits for a first job, for as many as the last window
   * answered, or for a window to fill up. */
  if (b->queued == 1 || b->queued == b->max || b->queued == b->waiting_for) {
    pthread_cond_signal(&b->wake);
  }
  pthread_mutex_unlock(&b->lock);
}

/* j's answer has reached its request (or never will). */
static void delivered(ha_batch_job_t *j) {
  ha_batch_t *b = j->owner;
  if (b == NULL) {
    return;
  }
  pthread_mutex_lock(&b->lock);
  if (j->counted) {
    j->counted = 0;
    if (--b->undelivered == 0) {
      clock_gettime(CLOCK_MONOTONIC, &b->delivered_at);
      pthread_cond_signal(&b->wake);
    }
  }
  pthread_mutex_unlock(&b->lock);
}

rot_error_t ha_batch_job_result(ha_batch_job_t *j, ha_evpiece_t **doc,
                                uint32_t *index, unsigned *batch_size,
                                char *detail, size_t cap) {
  if (j == NULL || doc == NULL || index == NULL || batch_size == NULL ||
      !j->answered) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  delivered(j);
  *batch_size = j->size;
  *index = j->index;
  if (j->err != ROT_OK) {
    if (detail != NULL && cap > 0) {
      snprintf(detail, cap, "%s", j->detail);
    }
    return j->err;
  }
  *doc = j->doc; /* ownership moves to the caller */
  j->doc = NULL;
  return ROT_OK;
}

void ha_batch_job_release(ha_batch_t *b, ha_batch_job_t *j) {
  if (j == NULL) {
    return;
  }
  pthread_mutex_lock(&b->lock);
  int mine = j->answered;
  if (!mine) {
    j->abandoned = 1;
  }
  pthread_mutex_unlock(&b->lock);
  if (mine) {
    delivered(j);
    ha_evpiece_free(j->doc);
    free(j);
  }
}

/* The worker's part of a window, outside the lock: one quote for all,
 * and every request's document, encoded together (the parts they share
 * are built once). */
static void answer(ha_batch_t *b, ha_batch_job_t *w, unsigned n) {
  attest_nonce_t *nonces = calloc(n, sizeof(*nonces));
  ha_evpiece_t **docs = calloc(n, sizeof(*docs));
  char detail[256] = "";
  rot_error_t err = ROT_ERROR_INTERNAL;
  if (nonces != NULL && docs != NULL) {
    unsigned i = 0;
    for (ha_batch_job_t *x = w; x != NULL; x = x->next) {
      nonces[i].p = x->nonce;
      nonces[i].len = x->len;
      i++;
    }
    attest_source_t src = b->src;
    src.pcr_mask = w->mask;
    err = ha_tpm_attest_batch(b->tpm, &src, nonces, n, docs, detail,
                              sizeof(detail));
  } else {
    snprintf(detail, sizeof(detail), "out of memory");
  }
  unsigned i = 0;
  for (ha_batch_job_t *x = w; x != NULL; x = x->next, i++) {
    x->err = err;
    x->size = n;
    x->index = i;
    if (err == ROT_OK) {
      x->doc = docs[i]; /* ownership moves to the job */
    } else {
      snprintf(x->detail, sizeof(x->detail), "%s", detail);
    }
  }
  free(nonces);
  free(docs);
}

/* t + ns. */
static struct timespec after_ns(const struct timespec *t, int64_t ns) {
  struct timespec r = *t;
  r.tv_sec += (time_t)(ns / 1000000000LL);
  r.tv_nsec += (long)(ns % 1000000000LL);
  if (r.tv_nsec >= 1000000000L) {
    r.tv_sec++;
    r.tv_nsec -= 1000000000L;
  }
  return r;
}

static int before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec ||
         (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Under the lock: take up to max waiting jobs asking the oldest one's
 * PCRs, oldest first, into a list; *n gets how many. */
static ha_batch_job_t *take_window(ha_batch_t *b, unsigned *n) {
  uint32_t mask = b->head->mask;
  ha_batch_job_t *w = NULL, **wt = &w;
  ha_batch_job_t **pp = &b->head;
  unsigned k = 0;
  while (*pp != NULL && k < b->max) {
    ha_batch_job_t *x = *pp;
    if (x->mask != mask) {
      pp = &x->next;
      continue;
    }
    *pp = x->next;
    x->next = NULL;
    *wt = x;
    wt = &x->next;
    k++;
  }
  /* Re-point the tail at the last job left. */
  b->tail = &b->head;
  while (*b->tail != NULL) {
    b->tail = &(*b->tail)->next;
  }
  b->queued -= k;
  *n = k;
  return w;
}

static void *worker_main(void *arg) {
  ha_batch_t *b = arg;
  ha_batch_done_fn *fns = b->fns;
  void **ctxs = b->ctxs;
  pthread_mutex_lock(&b->lock);
  for (;;) {
    while (b->head == NULL && !b->stop) {
      pthread_cond_wait(&b->wake, &b->lock);
    }
    if (b->head == NULL) {
      break; /* stopping, nothing left */
    }
    /* Group commit: quote once the last window's answers were all taken
     * by their requests and as many requests wait as that window
     * answered (its clients asking again at once then share this quote
     * instead of splitting into groups that take turns at the TPM), or
     * half the last quote's time after the answers went out when fewer
     * come back (nothing on a fast TPM, 50 ms on one taking 100 ms per
     * quote). With window_us set (0 by default): window_us after that or
     * after the first job joined, whichever is later, instead. At once
     * when max jobs wait (then without waiting for the last answers
     * either) or when draining. */
    while (b->undelivered > 0 && !b->draining && b->queued < b->max) {
      struct timespec cap = after_ns(&b->delivered_at, DELIVERY_CAP_NS), now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (!before(&now, &cap) ||
          pthread_cond_timedwait(&b->wake, &b->lock, &cap) == ETIMEDOUT) {
        b->undelivered = 0; /* waited long enough; see DELIVERY_CAP_NS */
        clock_gettime(CLOCK_MONOTONIC, &b->delivered_at);
      }
    }
    for (;;) {
      const struct timespec *from = before(&b->head->joined, &b->delivered_at)
                                        ? &b->delivered_at
                                        : &b->head->joined;
      /* A window set: exactly that long. */
      struct timespec until =
          b->window_us > 0 ? after_ns(from, (int64_t)b->window_us * 1000)
                           : after_ns(from, b->quote_ns / 2);
      int enough = b->window_us == 0 && b->queued >= b->last_n;
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (b->queued >= b->max || b->draining || enough ||
          !before(&now, &until)) {
        break;
      }
      b->waiting_for = b->last_n;
      pthread_cond_timedwait(&b->wake, &b->lock, &until);
      b->waiting_for = 0;
    }
    unsigned n = 0;
    ha_batch_job_t *w = take_window(b, &n);
    b->busy += n;
    pthread_mutex_unlock(&b->lock);
    struct timespec q0, q1;
    clock_gettime(CLOCK_MONOTONIC, &q0);
    answer(b, w, n);
    clock_gettime(CLOCK_MONOTONIC, &q1);
    pthread_mutex_lock(&b->lock);
    b->quote_ns = (int64_t)(q1.tv_sec - q0.tv_sec) * 1000000000LL +
                  (q1.tv_nsec - q0.tv_nsec);
    b->last_n = n;
    unsigned k = 0;
    /* From now until their answers are taken, delivered_at is when
     * this window was answered (the cap counts from it). */
    clock_gettime(CLOCK_MONOTONIC, &b->delivered_at);
    for (ha_batch_job_t *x = w, *next; x != NULL; x = next) {
      next = x->next;
      x->answered = 1;
      if (x->abandoned) {
        ha_evpiece_free(x->doc);
        free(x);
      } else {
        x->counted = 1;
        b->undelivered++;
        fns[k] = x->done;
        ctxs[k] = x->ctx;
        k++;
      }
    }
    pthread_mutex_unlock(&b->lock);
    /* After the lock: a done callback may release its job at once. */
    for (unsigned i = 0; i < k; i++) {
      fns[i](ctxs[i]);
    }
    pthread_mutex_lock(&b->lock);
    b->busy -= n;
    pthread_cond_broadcast(&b->idle);
  }
  pthread_mutex_unlock(&b->lock);
  return NULL;
}
