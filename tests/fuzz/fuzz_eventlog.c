/*
 * libFuzzer target for the event log parser, replayer, digest checks and
 * renderer.
 *
 * Every input is parsed (with a visitor that reads every byte the parser
 * hands out, so ASan sees any out-of-range pointer), replayed, checked and
 * rendered. Besides the sanitizers, the target traps when an invariant
 * breaks: the records of a valid log must tile it exactly (in strict and
 * firmware mode), replay must succeed exactly when parsing does, checking
 * fails only with the parse error, a digest mismatch or a digest it could
 * not compare (never a pass), firmware mode accepts every log strict mode
 * accepts, and a valid log in the writer's own header form must come out
 * byte-identical when written again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootchain/eventlog.h"
#include "bootchain/logprint.h"
#include "rot_host/crypto_mbedtls.h"
#include "fuzz.h"

typedef struct walk {
  const uint8_t *base;
  size_t size;
  size_t next_off; /* where the next record must start */
  uint32_t count;
  uint32_t in_order; /* every record lists its digests in bank order */
  unsigned sink;
} walk_t;

static int inside(const walk_t *w, const uint8_t *p, size_t n) {
  return p >= w->base && (size_t)(p - w->base) <= w->size &&
         n <= w->size - (size_t)(p - w->base);
}

static rot_error_t visit(void *ctx, const bc_log_header_t *h,
                         const bc_log_event_t *ev) {
  walk_t *w = ctx;
  CHECK(ev->index == w->count);
  CHECK(ev->offset == (w->count == 0 ? h->header_len : w->next_off));
  CHECK(ev->pcr < BC_LOG_PCR_COUNT);
  CHECK(h->mode == BC_LOG_FIRMWARE || ev->type != BC_EV_NO_ACTION);
  CHECK(inside(w, w->base + ev->offset, ev->record_len));
  CHECK(inside(w, ev->data, ev->data_len));
  CHECK(ev->digest_count >= 1 && ev->digest_count <= h->bank_count);
  CHECK(h->mode == BC_LOG_FIRMWARE || ev->digest_count == h->bank_count);
  uint32_t present = 0;
  for (uint32_t i = 0; i < h->bank_count; i++) {
    if (ev->digests[i] == NULL) {
      CHECK(h->mode == BC_LOG_FIRMWARE);
      continue;
    }
    present++;
    CHECK(inside(w, ev->digests[i], h->banks[i].size));
    for (uint32_t j = 0; j < h->banks[i].size; j++) {
      w->sink += ev->digests[i][j];
    }
    if (i > 0 && (ev->digests[i - 1] == NULL ||
                  ev->digests[i] < ev->digests[i - 1])) {
      w->in_order = 0;
    }
  }
  CHECK(present == ev->digest_count);
  /* Typed data the parser bounds: EV_POST_CODE never empty, never long. */
  CHECK(ev->type != BC_EV_POST_CODE ||
        (ev->data_len >= 1 && ev->data_len <= BC_EV_POST_CODE_MAX));
  for (uint32_t j = 0; j < ev->data_len; j++) {
    w->sink += ev->data[j];
  }
  char desc[256];
  bc_log_describe_event(ev, desc, sizeof(desc));
  CHECK(strlen(desc) < sizeof(desc));
  w->next_off = ev->offset + ev->record_len;
  w->count++;
  return ROT_OK;
}

static rot_error_t rewrite_visit(void *ctx, const bc_log_header_t *h,
                                 const bc_log_event_t *ev) {
  bc_log_writer_t *wr = ctx;
  bc_log_digests_t d;
  memset(&d, 0, sizeof(d));
  for (uint32_t i = 0; i < h->bank_count; i++) {
    memcpy(d.value[i], ev->digests[i], h->banks[i].size);
  }
  return bc_log_append_digests(wr, ev->pcr, ev->type, &d, ev->data,
                               ev->data_len);
}

/* The writer's fixed header choices. */
static int writer_form(const bc_log_header_t *h) {
  return h->platform_class == 0 && h->spec_errata == 2 && h->uintn_size == 2 &&
         h->vendor_info_size == 0;
}

static FILE *sink_file(void) {
  static FILE *f;
  if (f == NULL) {
    f = fopen("/dev/null", "w");
  }
  return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const rot_crypto_t *c = rot_host_crypto();
  CHECK(c != NULL);

  walk_t w = {.base = data, .size = size, .in_order = 1};
  bc_log_header_t h;
  memset(&h, 0, sizeof(h));
  rot_error_t perr = bc_log_parse(data, size, &h, visit, &w);
  if (perr == ROT_OK) {
    CHECK(h.bank_count >= 1 && h.bank_count <= BC_LOG_MAX_BANKS);
    CHECK(h.header_len <= size);
    CHECK(h.event_count == w.count);
    CHECK(w.count == 0 ? h.header_len == size : w.next_off == size);
  }

  static bc_log_replay_t r;
  rot_error_t rerr = bc_log_replay(data, size, c, &r);
  CHECK((rerr == ROT_OK) == (perr == ROT_OK));
  if (rerr == ROT_OK) {
    CHECK(r.header.event_count == w.count);
    CHECK((r.extended_mask >> BC_LOG_PCR_COUNT) == 0);
    CHECK((r.extended_mask == 0) == (w.count == 0));
  }

  /* The check stops at the first problem: a bad digest before the bad
   * record, or the parse error itself; a digest it cannot compare is
   * never a pass. */
  rot_error_t cerr = bc_log_check(data, size, c);
  CHECK(cerr == perr || cerr == ROT_ERROR_EVENTLOG_BAD_EVENT ||
        (perr == ROT_OK && cerr == ROT_ERROR_EVENTLOG_UNCHECKED));

  /* Firmware mode accepts everything strict mode does (and more). */
  walk_t fw = {.base = data, .size = size, .in_order = 1};
  bc_log_header_t fh;
  memset(&fh, 0, sizeof(fh));
  rot_error_t ferr = bc_log_parse_mode(data, size, BC_LOG_FIRMWARE, &fh, visit, &fw);
  CHECK(perr != ROT_OK || ferr == ROT_OK);
  if (ferr == ROT_OK) {
    CHECK(fh.event_count == fw.count);
    CHECK(fw.count == 0 ? fh.header_len == size : fw.next_off == size);
    CHECK(fh.format == BC_LOG_FORMAT_AGILE || fh.format == BC_LOG_FORMAT_SHA1);
    CHECK(fh.startup_locality <= BC_LOG_MAX_LOCALITY);
  }
  static bc_log_replay_t fr;
  rot_error_t frerr = bc_log_replay_mode(data, size, BC_LOG_FIRMWARE, c, &fr);
  CHECK((frerr == ROT_OK) == (ferr == ROT_OK));
  if (frerr == ROT_OK) {
    for (uint32_t i = 0; i < fr.header.bank_count; i++) {
      CHECK(!fr.banks[i].incomplete || fr.banks[i].replayed == HARDENED_FALSE);
    }
  }

  FILE *f = sink_file();
  if (f != NULL) {
    (void)bc_log_print(f, data, size, c, 0);
    (void)bc_log_print(f, data, size, c, BC_LOG_PRINT_JSON);
    (void)bc_log_print(f, data, size, c, BC_LOG_PRINT_STRICT);
  }

  /* Written again, a valid log in the writer's form is the same bytes. */
  if (perr == ROT_OK && writer_form(&h) && w.in_order && size > 0) {
    uint8_t *out = malloc(size);
    CHECK(out != NULL);
    uint16_t algs[BC_LOG_MAX_BANKS];
    for (uint32_t i = 0; i < h.bank_count; i++) {
      algs[i] = h.banks[i].alg;
    }
    bc_log_writer_t wr;
    CHECK(bc_log_init(&wr, out, size, algs, h.bank_count) == ROT_OK);
    CHECK(bc_log_parse(data, size, NULL, rewrite_visit, &wr) == ROT_OK);
    CHECK(wr.len == size);
    CHECK(memcmp(out, data, size) == 0);
    free(out);
  }
  return 0;
}
