/*
 * The measured boot flow (see measure.h and docs/pcr-plan.md).
 *
 * Measurement is a table walked by one loop: every row names its PCR and
 * event type, and its function only says what bytes are measured and what
 * the event data is. Recording (hash in every bank, extend, append) is one
 * function, so no stage can extend without logging or the other way round.
 */
#define _GNU_SOURCE
#include "bootchain/measure.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bootchain/eventlog.h"
#include "bootchain/handoff.h"
#include "bootchain/tpm.h"
#include "rot/hardened.h"
#include "rot/image.h"
#include "rot/update.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/mbox_requests.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"
#include "rot_client/mbox_client.h"
#include "rot_client/mbox_replies.h"

#define LOG_CAP (64u * 1024u)
#define DTB_MAX (1024u * 1024u)
#define SEPARATOR_DATA_LEN 4u

typedef struct bc_ctx bc_ctx_t;
typedef struct bc_stage bc_stage_t;

/* One row: what is measured, where, as which event. */
struct bc_stage {
  const char *name;
  uint32_t pcr;
  uint32_t event_type;
  rot_error_t (*run)(bc_ctx_t *ctx, const bc_stage_t *st);
  /* Event data size when fixed (rows after the DTB must have one: the
   * DTB carries the final log length). 0: variable. */
  uint32_t data_len;
};

/*
 * An image being read (fetch_read): header and manifest into head, the
 * payload into the memfd it is sealed in (bc_seal_open), each chunk of it
 * written there as soon as it is in, read back from there and hashed in
 * both banks, while the chip already reads the next one. The payload's
 * place comes from the header (first chunk); fetch_finish checks header
 * and manifest in full. What is hashed is read back from the memfd, which
 * only this process holds until bc_seal_commit seals it, so what is
 * hashed, compared with the chip's digest, measured and booted is one set
 * of bytes, hashed once. The signature, which the chip checked, is read
 * (the image is read whole) but not kept.
 */
struct fetched {
  uint32_t len;    /* the whole image's, 0: nothing read */
  uint8_t *head;   /* header || manifest, head_len bytes */
  size_t head_len;
  size_t end;      /* payload bytes [head_len, end) of the image */
  size_t hashed;   /* image offset hashed up to */
  int started;     /* 1: the header gave the payload's place */
  bc_seal_writer_t pl;
  rot_hash_ctx_t h256, h384;
};

struct bc_ctx {
  const bc_config_t *cfg;
  bc_measured_t *m;
  const rot_crypto_t *crypto;
  rot_mbox_client_t mbox;
  int mbox_open;
  bc_tpm_t *tpm;
  bc_log_writer_t log;
  uint8_t *log_buf;
  rot_mbox_status_t status;
  /* The chip's boot decisions (kDecided order) and the images read for
   * them but not yet checked and sealed (fetch_read, fetch_finish). */
  uint32_t boot_seq[3];
  rot_mbox_boot_resp_t boot[3];
  struct fetched got[3];
  /* A payload chunk as read back from its memfd, to be hashed. */
  uint8_t *back;
  uint8_t *base_dtb;
  size_t base_dtb_len;
  /* The handoff tree built by check_handoff_inputs with the largest log,
   * which st_dtb shrinks to the final log length and measures. */
  uint8_t *dtb;
  size_t dtb_len;
  size_t stage_index; /* row being run: the DTB stage looks ahead */
  /* The running phase (phase()): its name, start and thread CPU then. */
  const char *phase;
  double phase_t0;
  double phase_cpu0;
  /* What the handoff writes to /chosen (handoff_info fills these). */
  char fw_version[96];
  char pl_version[96];
  const char *versions[2];
  bc_handoff_str_t chosen[4];
};

static double clock_ms(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void) {
  return clock_ms(CLOCK_MONOTONIC);
}

/* End the running phase, if any, into m->t.phases and start `name`
 * (NULL: none): wall time and this thread's CPU time. */
static void phase(bc_ctx_t *ctx, const char *name) {
  double t = now_ms();
  double cpu = clock_ms(CLOCK_THREAD_CPUTIME_ID);
  bc_timings_t *tm = &ctx->m->t;
  if (ctx->phase != NULL && tm->phase_count < BC_PHASES_MAX) {
    bc_phase_t *p = &tm->phases[tm->phase_count++];
    p->name = ctx->phase;
    p->ms = t - ctx->phase_t0;
    p->cpu_ms = cpu - ctx->phase_cpu0;
  }
  ctx->phase = name;
  ctx->phase_t0 = t;
  ctx->phase_cpu0 = cpu;
}

__attribute__((format(printf, 3, 4))) static rot_error_t fail(
    bc_ctx_t *ctx, rot_error_t err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->m->detail, sizeof(ctx->m->detail), fmt, ap);
  va_end(ap);
  return err;
}

/* ---- recording: the one place that hashes, extends and logs ---------- */

static rot_error_t extend(bc_ctx_t *ctx, uint32_t pcr,
                          const bc_log_digests_t *d) {
  bc_tpm_digests td;
  memset(&td, 0, sizeof(td));
  td.count = ctx->log.bank_count;
  for (uint32_t i = 0; i < ctx->log.bank_count; i++) {
    td.d[i].alg = ctx->log.banks[i].alg;
    memcpy(td.d[i].digest, d->value[i], ctx->log.banks[i].size);
  }
  double t0 = now_ms();
  rot_error_t err = bc_tpm_extend(ctx->tpm, pcr, &td);
  ctx->m->t.extend_ms += now_ms() - t0;
  if (err != ROT_OK) {
    return fail(ctx, err, "PCR %u extend: %s", pcr, bc_tpm_strerror(ctx->tpm));
  }
  ctx->m->t.extends++;
  return ROT_OK;
}

/*
 * Record one event. measured == NULL: the digest is the hash of the event
 * data itself (data-bound events); otherwise of the measured bytes.
 */
static rot_error_t record(bc_ctx_t *ctx, const bc_stage_t *st,
                          const void *measured, size_t mlen, const void *data,
                          size_t dlen) {
  bc_log_digests_t d;
  rot_error_t err =
      measured != NULL
          ? bc_log_measure(&ctx->log, ctx->crypto, st->pcr, st->event_type,
                           measured, mlen, data, dlen, &d)
          : bc_log_append_data(&ctx->log, ctx->crypto, st->pcr,
                               st->event_type, data, dlen, &d);
  if (err != ROT_OK) {
    return fail(ctx, err, "event log: %s", rot_error_str(err));
  }
  return extend(ctx, st->pcr, &d);
}

/* ---- the chip: boot decisions and image reads --------------------------- */

static rot_error_t send_req(bc_ctx_t *ctx, uint16_t cmd, const uint8_t *req,
                            uint32_t req_len, uint32_t *seq) {
  rot_error_t err = rot_mbox_send(&ctx->mbox, cmd, req, req_len, seq);
  if (err != ROT_OK) {
    return fail(ctx, err, "rotd %s: %s", rot_mbox_command_name(cmd),
                rot_error_str(err));
  }
  return ROT_OK;
}

static rot_error_t recv_reply(bc_ctx_t *ctx, uint16_t cmd, uint32_t seq,
                              const uint8_t **reply, uint32_t *reply_len) {
  rot_error_t status = ROT_OK;
  rot_error_t err =
      rot_mbox_receive(&ctx->mbox, cmd, seq, &status, reply, reply_len);
  if (err != ROT_OK) {
    return fail(ctx, err, "rotd %s: %s", rot_mbox_command_name(cmd),
                rot_error_str(err));
  }
  if (status != ROT_OK) {
    return fail(ctx, status, "rotd %s refused: %s (%s)",
                rot_mbox_command_name(cmd), rot_error_name(status),
                rot_error_str(status));
  }
  return ROT_OK;
}

/* The reply to a STATUS request already sent (seq). */
static rot_error_t read_status(bc_ctx_t *ctx, uint32_t seq) {
  const uint8_t *reply;
  uint32_t len;
  ROT_TRY(recv_reply(ctx, ROT_MBOX_CMD_STATUS, seq, &reply, &len));
  rot_error_t err = rot_mbox_status_decode(reply, len, &ctx->status);
  return err == ROT_OK ? ROT_OK
                       : fail(ctx, err, "rotd status: malformed reply");
}

/*
 * The bytes read must be the image the chip verified. All three verdicts
 * are reached before any is acted on, and the success path checks each
 * again, so one skipped branch cannot turn a difference into a boot.
 */
rot_error_t bc_check_read_image(const rot_crypto_t *c, uint32_t expected_type,
                                const uint8_t *img, size_t len,
                                const rot_mbox_image_info_t *info,
                                rot_image_view_t *view, const char **what) {
  return bc_check_read_image_digest(c, expected_type, img, len, info, NULL,
                                    view, what);
}

/* The digests and header fields of an image read back, against the
 * chip's report of the image it verified. */
static rot_error_t compare_with_chip(uint32_t expected_type,
                                     const rot_image_header_t *h,
                                     const uint8_t *signed_digest,
                                     const uint8_t *payload_digest,
                                     const rot_mbox_image_info_t *info,
                                     const char **what) {
  hardened_bool_t signed_same =
      rot_ct_equal(signed_digest, info->signed_digest, ROT_SHA384_LEN);
  hardened_bool_t payload_same =
      rot_ct_equal(payload_digest, info->payload_digest, ROT_SHA384_LEN);
  /* Implied by the two digests when the chip is honest; compared anyway so
   * a reply whose facts disagree with its own digests is refused. */
  hardened_bool_t fields_same =
      rot_ct_equal(h->payload_digest, info->payload_digest, ROT_SHA384_LEN);
  if (h->image_type != expected_type || info->image_type != expected_type ||
      h->svn != info->svn || h->key_index != info->key_index ||
      h->ver_major != info->ver_major || h->ver_minor != info->ver_minor ||
      h->ver_patch != info->ver_patch || h->payload_len != info->payload_len) {
    fields_same = HARDENED_FALSE;
  }
  if (signed_same != HARDENED_TRUE) {
    *what = "header or key manifest differs from the one the chip verified "
            "(SHA-384 over header and manifest)";
  } else if (payload_same != HARDENED_TRUE) {
    *what = "payload differs from the one the chip verified (SHA-384 over "
            "the payload)";
  } else if (fields_same != HARDENED_TRUE) {
    *what = "header fields (type, SVN, key, version, length) differ from the "
            "chip's report";
  } else {
    HARDENED_CHECK_EQ(signed_same, HARDENED_TRUE);
    HARDENED_CHECK_EQ(payload_same, HARDENED_TRUE);
    HARDENED_CHECK_EQ(fields_same, HARDENED_TRUE);
    *what = "";
    return ROT_OK;
  }
  return ROT_ERROR_HANDOFF_MISMATCH;
}

rot_error_t bc_check_read_image_digest(const rot_crypto_t *c,
                                       uint32_t expected_type,
                                       const uint8_t *img, size_t len,
                                       const rot_mbox_image_info_t *info,
                                       const uint8_t *payload_sha384,
                                       rot_image_view_t *view,
                                       const char **what) {
  static const char *ignored;
  if (what == NULL) {
    what = &ignored;
  }
  *what = "invalid argument";
  if (c == NULL || img == NULL || info == NULL || view == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(view, 0, sizeof(*view));
  if (len != info->image_len) {
    *what = "length differs from the verified image's";
    return ROT_ERROR_HANDOFF_MISMATCH;
  }
  rot_error_t err = rot_image_parse(img, len, view);
  if (err != ROT_OK) {
    *what = "not a well-formed image";
    return err;
  }
  /* The parser proved header + manifest + payload + signature == len. */
  size_t signed_len = ROT_IMAGE_HEADER_SIZE + (size_t)view->header.manifest_len;
  uint8_t signed_digest[ROT_SHA384_LEN];
  uint8_t payload_digest[ROT_SHA384_LEN];
  err = rot_hash(c, ROT_HASH_SHA384, img, signed_len, signed_digest,
                 sizeof(signed_digest));
  if (err == ROT_OK && payload_sha384 != NULL) {
    memcpy(payload_digest, payload_sha384, sizeof(payload_digest));
  } else if (err == ROT_OK) {
    err = rot_hash(c, ROT_HASH_SHA384, view->payload, view->header.payload_len,
                   payload_digest, sizeof(payload_digest));
  }
  if (err != ROT_OK) {
    *what = "hashing the image failed";
    return err;
  }
  err = compare_with_chip(expected_type, &view->header, signed_digest,
                          payload_digest, info, what);
  if (err == ROT_OK) {
    return ROT_OK;
  }
  memset(view, 0, sizeof(*view));
  return err;
}

rot_error_t bc_check_read_head_digest(const rot_crypto_t *c,
                                      uint32_t expected_type,
                                      const uint8_t *head, size_t head_len,
                                      size_t len,
                                      const rot_mbox_image_info_t *info,
                                      const uint8_t *payload_sha384,
                                      rot_image_header_t *header,
                                      const char **what) {
  static const char *ignored;
  if (what == NULL) {
    what = &ignored;
  }
  *what = "invalid argument";
  if (c == NULL || head == NULL || info == NULL || payload_sha384 == NULL ||
      header == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(header, 0, sizeof(*header));
  if (len != info->image_len) {
    *what = "length differs from the verified image's";
    return ROT_ERROR_HANDOFF_MISMATCH;
  }
  *what = "not a well-formed image";
  rot_image_view_t v;
  rot_error_t err = rot_image_parse_head(head, head_len, len, &v);
  rot_image_header_t h = v.header;
  rot_wipe(&v, sizeof(v));
  if (err != ROT_OK) {
    return err;
  }
  uint8_t signed_digest[ROT_SHA384_LEN];
  err = rot_hash(c, ROT_HASH_SHA384, head, head_len, signed_digest,
                 sizeof(signed_digest));
  if (err != ROT_OK) {
    *what = "hashing the image failed";
    return err;
  }
  err = compare_with_chip(expected_type, &h, signed_digest, payload_sha384,
                          info, what);
  if (err == ROT_OK) {
    *header = h;
  }
  return err;
}

/*
 * READ_REGION requests kept in flight at once. The chip answers in order,
 * so while this side copies one reply the chip already reads the next
 * chunk, instead of both sides taking turns to wait. rotd never blocks on
 * a client: one whose replies do not fit in the socket's send buffer is
 * dropped. With two in flight at most one unread 64 KiB reply sits in
 * that buffer when the next is sent, so two are kept only when this
 * socket's send buffer (the kernel sizes rotd's the same way) holds two
 * whole frames with room to spare; otherwise one at a time.
 */
#define READ_WINDOW 2u

static uint32_t read_window(const bc_ctx_t *ctx) {
  int sndbuf = 0;
  socklen_t sl = sizeof(sndbuf);
  if (getsockopt(ctx->mbox.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) != 0 ||
      sndbuf < 0 ||
      (size_t)sndbuf < READ_WINDOW * ((size_t)ROT_MBOX_MAX_FRAME + 4096u)) {
    return 1;
  }
  return READ_WINDOW;
}

static rot_error_t send_read(bc_ctx_t *ctx, uint32_t region, uint32_t off,
                             uint32_t n, uint32_t *seq) {
  uint8_t *req = rot_mbox_client_payload(&ctx->mbox);
  size_t req_len = 0;
  rot_mbox_read_req_t rr = {.region = region, .offset = off, .length = n};
  ROT_TRY(rot_mbox_read_req_encode(&rr, req, ROT_MBOX_READ_REQ_SIZE, &req_len));
  return send_req(ctx, ROT_MBOX_CMD_READ_REGION, req, (uint32_t)req_len, seq);
}

static void fetched_free(struct fetched *f) {
  bc_seal_abort(&f->pl);
  free(f->head);
  rot_wipe(f, sizeof(*f));
  f->pl.fd = -1;
}

/*
 * The first chunk: the header gives the image's parts. An image whose
 * header does not parse, or declares another length than the chip's, is
 * refused here as rot_image_parse would refuse it once read whole.
 */
static rot_error_t fetched_start(bc_ctx_t *ctx, struct fetched *f,
                                 const uint8_t *chunk, size_t n,
                                 const char *name, const char *what) {
  rot_image_header_t h;
  rot_error_t err = rot_image_header_parse(chunk, n, &h);
  size_t expected = err == ROT_OK ? rot_image_expected_len(&h) : 0;
  if (err == ROT_OK && expected == 0) {
    err = ROT_ERROR_IMAGE_BAD_LENGTH;
  } else if (err == ROT_OK && f->len < expected) {
    err = ROT_ERROR_IMAGE_TRUNCATED;
  } else if (err == ROT_OK && f->len > expected) {
    err = ROT_ERROR_IMAGE_TRAILING_DATA;
  }
  if (err != ROT_OK) {
    return fail(ctx, err, "%s: not a well-formed image (%s)", what,
                rot_error_name(err));
  }
  f->head_len = ROT_IMAGE_HEADER_SIZE + (size_t)h.manifest_len;
  f->end = f->head_len + (size_t)h.payload_len;
  f->hashed = f->head_len;
  f->head = malloc(f->head_len);
  if (ctx->back == NULL && (ctx->back = malloc(ROT_MBOX_READ_MAX)) != NULL) {
    bc_populate_write(ctx->back, ROT_MBOX_READ_MAX);
  }
  if (f->head == NULL || ctx->back == NULL) {
    return fail(ctx, ROT_ERROR_IO_READ, "out of memory");
  }
  err = bc_seal_open(name, h.payload_len, &f->pl);
  if (err != ROT_OK) {
    return fail(ctx, err, "sealing %s: %s", name, rot_error_str(err));
  }
  if (ctx->crypto->hash_start(ctx->crypto, &f->h256, ROT_HASH_SHA256) != ROT_OK ||
      ctx->crypto->hash_start(ctx->crypto, &f->h384, ROT_HASH_SHA384) != ROT_OK) {
    return fail(ctx, ROT_ERROR_CRYPTO_FAILED, "hashing the payload failed");
  }
  f->started = 1;
  return ROT_OK;
}

/* The part of [off, off + n) that falls in [lo, hi): its start in *from,
 * its length returned (0: none). */
static size_t overlap(size_t lo, size_t hi, size_t off, size_t n,
                      size_t *from) {
  *from = off > lo ? off : lo;
  size_t to = off + n < hi ? off + n : hi;
  return to > *from ? to - *from : 0;
}

/* One chunk of the image at image offset off (chunks come in order): its
 * head bytes placed, its payload bytes written into the memfd, read back
 * from there and hashed. */
static rot_error_t fetched_take(bc_ctx_t *ctx, struct fetched *f,
                                const uint8_t *chunk, size_t off, size_t n,
                                const char *what) {
  size_t from = 0;
  size_t len = overlap(0, f->head_len, off, n, &from);
  if (len > 0) {
    memcpy(f->head + from, chunk + (from - off), len);
  }
  len = overlap(f->head_len, f->end, off, n, &from);
  if (len == 0) {
    return ROT_OK;
  }
  if (from != f->hashed) {
    return fail(ctx, ROT_ERROR_HOST_PROTOCOL, "%s: a chunk out of order", what);
  }
  size_t at = from - f->head_len;
  rot_error_t err = bc_seal_write(&f->pl, at, chunk + (from - off), len);
  if (err == ROT_OK) {
    err = bc_seal_read(&f->pl, at, ctx->back, len);
  }
  if (err != ROT_OK) {
    return fail(ctx, err, "%s: writing its sealed copy failed", what);
  }
  const rot_crypto_t *c = ctx->crypto;
  if (c->hash_update(c, &f->h256, ctx->back, len) != ROT_OK ||
      c->hash_update(c, &f->h384, ctx->back, len) != ROT_OK) {
    return fail(ctx, ROT_ERROR_CRYPTO_FAILED, "hashing the payload failed");
  }
  f->hashed = from + len;
  return ROT_OK;
}

static rot_error_t ask_decision(bc_ctx_t *ctx, size_t i);

/* Read the f->len bytes of a region from offset 0 into f, in READ_REGION
 * chunks of at most ROT_MBOX_READ_MAX, each reply exactly as long as
 * asked (the chunks arrive in order). ask_next >= 0: the boot decision
 * ask_next (DECIDED_*) is asked for right behind the last READ_REGION,
 * so the chip decides it while this side hashes the last chunks; its
 * answer is the next reply after the image's. */
static rot_error_t read_image(bc_ctx_t *ctx, uint32_t region,
                              struct fetched *f, const char *name,
                              const char *what, int ask_next) {
  uint32_t seqs[READ_WINDOW];
  uint32_t lens[READ_WINDOW];
  uint32_t window = read_window(ctx);
  uint32_t len = f->len;
  uint32_t sent = 0, done = 0, first = 0, in_flight = 0;
  while (done < len) {
    while (in_flight < window && sent < len) {
      uint32_t slot = (first + in_flight) % READ_WINDOW;
      uint32_t n = len - sent;
      n = n > ROT_MBOX_READ_MAX ? ROT_MBOX_READ_MAX : n;
      ROT_TRY(send_read(ctx, region, sent, n, &seqs[slot]));
      lens[slot] = n;
      sent += n;
      in_flight++;
      if (sent == len && ask_next >= 0) {
        ROT_TRY(ask_decision(ctx, (size_t)ask_next));
      }
    }
    const uint8_t *reply = NULL;
    uint32_t got = 0;
    ROT_TRY(recv_reply(ctx, ROT_MBOX_CMD_READ_REGION, seqs[first], &reply, &got));
    if (got != lens[first]) {
      return fail(ctx, ROT_ERROR_HOST_PROTOCOL, "rotd read-region: %u of %u bytes",
                  got, lens[first]);
    }
    if (!f->started) {
      /* done == 0: the first chunk holds the whole header (the image is
       * at least a header long, a chunk at most 64 KiB). */
      ROT_TRY(fetched_start(ctx, f, reply, got, name, what));
    }
    ROT_TRY(fetched_take(ctx, f, reply, done, got, what));
    done += got;
    first = (first + 1) % READ_WINDOW;
    in_flight--;
  }
  return ROT_OK;
}

/*
 * The boot decisions the chain needs, in the order it reads the images:
 * the chip's own firmware (the ROM stage's verdict at reset), OpenSBI, the
 * payload.
 */
enum { DECIDED_ROT, DECIDED_OPENSBI, DECIDED_PAYLOAD, DECIDED_COUNT };
static const uint32_t kDecided[DECIDED_COUNT] = {
    ROT_IMAGE_TYPE_ROT, ROT_IMAGE_TYPE_OPENSBI, ROT_IMAGE_TYPE_HYPERVISOR};

/*
 * Ask the chip for a boot decision (i: DECIDED_*) without waiting for the
 * answer (take_decision). The payload's and the RoT firmware's are asked
 * for first thing, before the TPM opens, the base tree is read and the
 * crypto backend starts: the chip verifies the payload (a full hash, a
 * signature and a durable audit record) meanwhile, instead of each side
 * waiting for the other. OpenSBI's is asked for right behind the payload's last
 * READ_REGION (read_image), so the chip decides it while this side hashes
 * the last chunks and checks and seals the payload. Nothing is
 * measured before every answer is in and every image checked, so a
 * refusal still leaves the TPM untouched and the host off. A TPM that
 * then fails to open fails the boot after the chip decided, as a boot
 * that fails later would: the decision (and a trial attempt) is the
 * chip's record that the host was released.
 */
static rot_error_t ask_decision(bc_ctx_t *ctx, size_t i) {
  uint8_t *req = rot_mbox_client_payload(&ctx->mbox);
  size_t req_len = 0;
  rot_mbox_type_req_t treq = {.image_type = kDecided[i]};
  ROT_TRY(rot_mbox_type_req_encode(&treq, req, ROT_MBOX_TYPE_REQ_SIZE, &req_len));
  return send_req(ctx, ROT_MBOX_CMD_BOOT, req, (uint32_t)req_len,
                  &ctx->boot_seq[i]);
}

/* The answer to ask_decision(i): the chip answers in order, so answers
 * are taken in the order they were asked for. */
static rot_error_t take_decision(bc_ctx_t *ctx, size_t i) {
  const uint8_t *reply;
  uint32_t len;
  ROT_TRY(recv_reply(ctx, ROT_MBOX_CMD_BOOT, ctx->boot_seq[i], &reply, &len));
  rot_error_t err = rot_mbox_boot_resp_decode(reply, len, &ctx->boot[i]);
  if (err != ROT_OK) {
    return kDecided[i] == ROT_IMAGE_TYPE_ROT
               ? fail(ctx, ROT_ERROR_MAILBOX_BAD_ARGS,
                      "rotd boot rot: malformed reply")
               : fail(ctx, err, "rotd boot: malformed reply");
  }
  return ROT_OK;
}

/*
 * The image the chip decided to boot for decision i (take_decision): read
 * it once into ctx->got[i] (its payload into the memfd it is sealed in),
 * the payload hashed as it arrives. fetch_finish then checks it is the
 * image the chip verified and seals the payload.
 */
static rot_error_t fetch_read(bc_ctx_t *ctx, size_t i, bc_boot_image_t *out,
                              int ask_next) {
  uint32_t type = kDecided[i];
  const rot_mbox_boot_resp_t *boot = &ctx->boot[i];
  struct fetched *f = &ctx->got[i];
  out->image_type = type;
  out->reason = boot->reason;
  out->why = (rot_error_t)boot->why;
  if (boot->reason == ROT_BOOT_NONE || boot->info.region >= ROT_RGN_COUNT) {
    return fail(ctx, ROT_ERROR_BOOT_NO_IMAGE,
                "no %s image verifies: %s (%s); the host stays off",
                rot_image_type_name(type), rot_error_name(out->why),
                rot_error_str(out->why));
  }
  out->info = boot->info;
  const rot_flash_region_t *r = &rot_flash_layout_default.regions[boot->info.region];
  snprintf(out->region, sizeof(out->region), "%s", r->name);
  if (boot->info.image_len > r->size ||
      boot->info.image_len < ROT_IMAGE_HEADER_SIZE) {
    return fail(ctx, ROT_ERROR_HOST_PROTOCOL, "rotd boot: image length %u",
                boot->info.image_len);
  }
  fetched_free(f);
  f->len = boot->info.image_len;
  char name[32];
  char what[96];
  snprintf(name, sizeof(name), "bootchain-%s", rot_image_type_name(type));
  snprintf(what, sizeof(what), "%s image read from %s",
           rot_image_type_name(type), out->region);
  rot_error_t err = read_image(ctx, boot->info.region, f, name, what, ask_next);
  if (err != ROT_OK) {
    fetched_free(f);
  }
  return err;
}

static rot_error_t fetch_finish(bc_ctx_t *ctx, size_t i, bc_boot_image_t *out) {
  uint32_t type = kDecided[i];
  const rot_mbox_boot_resp_t *boot = &ctx->boot[i];
  struct fetched *f = &ctx->got[i];
  /* The payload was hashed once per bank as it arrived, from the memfd it
   * sits in; sealing freezes those very bytes, its SHA-384 is what the
   * chip's verified digest is compared with, and the same digests are the
   * measurements. What is compared, measured and booted is one set of
   * bytes, hashed once. No byte comparison of the sealed copy is needed:
   * nothing but this process could write the memfd before the seals, and
   * its own writes all came before the hashing read them back. */
  if (!f->started || f->hashed != f->end) {
    fetched_free(f);
    return fail(ctx, ROT_ERROR_HOST_PROTOCOL, "%s image read from %s: incomplete",
                rot_image_type_name(type), out->region);
  }
  rot_error_t err = ctx->crypto->hash_finish(ctx->crypto, &f->h256,
                                             out->sha256, ROT_SHA256_LEN);
  if (err == ROT_OK) {
    err = ctx->crypto->hash_finish(ctx->crypto, &f->h384, out->sha384,
                                   ROT_SHA384_LEN);
  }
  if (err != ROT_OK) {
    fetched_free(f);
    return fail(ctx, err, "%s image read from %s: hashing the payload failed",
                rot_image_type_name(type), out->region);
  }
  err = bc_seal_commit(&f->pl, &out->payload);
  if (err != ROT_OK) {
    fetched_free(f);
    return fail(ctx, err, "sealing bootchain-%s: %s", rot_image_type_name(type),
                rot_error_str(err));
  }
  const char *what = "";
  rot_image_header_t h;
  err = bc_check_read_head_digest(ctx->crypto, type, f->head, f->head_len,
                                  f->len, &boot->info, out->sha384, &h, &what);
  fetched_free(f);
  if (err != ROT_OK) {
    bc_seal_close(&out->payload);
    return fail(ctx, err, "%s image read from %s: %s (%s)",
                rot_image_type_name(type), out->region, what,
                rot_error_name(err));
  }
  HARDENED_CHECK_EQ(err, ROT_OK);
  out->load_addr = h.load_addr;
  return ROT_OK;
}

/*
 * The RoT firmware the chip's ROM stage booted at reset: read and checked
 * like every image. A chip whose ROM stage found none (a dev chip being
 * brought up) leaves out->info.region at ROT_MBOX_REGION_NONE, and PCR 0
 * then records only the stack's own version.
 */
static int no_rot_firmware(const bc_ctx_t *ctx) {
  return ctx->boot[DECIDED_ROT].reason == ROT_BOOT_NONE;
}

static rot_error_t fetch_rot_read(bc_ctx_t *ctx, bc_boot_image_t *out) {
  const rot_mbox_boot_resp_t *boot = &ctx->boot[DECIDED_ROT];
  out->image_type = ROT_IMAGE_TYPE_ROT;
  out->info.region = ROT_MBOX_REGION_NONE;
  if (no_rot_firmware(ctx)) {
    out->reason = ROT_BOOT_NONE;
    out->why = (rot_error_t)boot->why;
    return ROT_OK;
  }
  return fetch_read(ctx, DECIDED_ROT, out, -1);
}

static rot_error_t fetch_rot_finish(bc_ctx_t *ctx, bc_boot_image_t *out) {
  return no_rot_firmware(ctx) ? ROT_OK : fetch_finish(ctx, DECIDED_ROT, out);
}

/* ---- stages -------------------------------------------------------------- */

static rot_error_t st_crtm_version(bc_ctx_t *ctx, const bc_stage_t *st) {
  bc_log_digests_t d;
  char version[64] = BC_RTM_VERSION;
  const rot_mbox_image_info_t *i = &ctx->m->rot.info;
  if (i->region != ROT_MBOX_REGION_NONE) {
    snprintf(version, sizeof(version), BC_RTM_ROT_VERSION_FMT,
             i->ver_major, i->ver_minor, i->ver_patch, i->svn);
  }
  rot_error_t err = bc_log_s_crtm_version(&ctx->log, ctx->crypto, version, &d);
  if (err != ROT_OK) {
    return fail(ctx, err, "event log: %s", rot_error_str(err));
  }
  return extend(ctx, st->pcr, &d);
}

static rot_error_t record_image(bc_ctx_t *ctx, const bc_stage_t *st,
                                const bc_boot_image_t *img, const void *data,
                                size_t dlen);

/* The S-CRTM itself: the RoT firmware's payload, hashed in every bank
 * from the bytes read back, once, as every image is (its SHA-384 is the
 * fwid in the chip's Alias certificate). Nothing when no RoT firmware was
 * booted. */
static rot_error_t st_crtm_contents(bc_ctx_t *ctx, const bc_stage_t *st) {
  const bc_boot_image_t *rot = &ctx->m->rot;
  if (rot->info.region == ROT_MBOX_REGION_NONE) {
    return ROT_OK;
  }
  uint8_t data[BC_EV_BLOB_LEN];
  bc_ev_blob_encode(data, rot->load_addr, rot->payload.len);
  return record_image(ctx, st, rot, data, sizeof(data));
}

static rot_error_t variable(bc_ctx_t *ctx, const bc_stage_t *st,
                            const char *name, const void *value, size_t len) {
  uint8_t buf[256];
  size_t n = 0;
  ROT_TRY(bc_ev_variable_encode(buf, sizeof(buf), name, value, len, &n));
  return record(ctx, st, NULL, 0, buf, n);
}

static rot_error_t st_lifecycle(bc_ctx_t *ctx, const bc_stage_t *st) {
  uint8_t v[4];
  rot_st32(v, ctx->status.lifecycle);
  return variable(ctx, st, BC_EV_VAR_LIFECYCLE, v, sizeof(v));
}

static rot_error_t st_root_key(bc_ctx_t *ctx, const bc_stage_t *st) {
  return variable(ctx, st, BC_EV_VAR_ROOT_KEY_HASH, ctx->status.root_key_hash,
                  ROT_SHA384_LEN);
}

static rot_error_t st_signers(bc_ctx_t *ctx, const bc_stage_t *st) {
  const bc_boot_image_t *imgs[] = {&ctx->m->firmware, &ctx->m->payload};
  uint8_t v[4 + 2 * 8];
  rot_st32(v, 2);
  for (size_t i = 0; i < 2; i++) {
    rot_st32(v + 4 + i * 8, imgs[i]->info.image_type);
    rot_st32(v + 8 + i * 8, imgs[i]->info.key_index);
  }
  return variable(ctx, st, BC_EV_VAR_SIGNER_KEYS, v, sizeof(v));
}

static rot_error_t st_revoked(bc_ctx_t *ctx, const bc_stage_t *st) {
  uint8_t v[4];
  rot_st32(v, ctx->status.revoked_keys);
  return variable(ctx, st, BC_EV_VAR_REVOKED_KEYS, v, sizeof(v));
}

static rot_error_t st_floors(bc_ctx_t *ctx, const bc_stage_t *st) {
  uint8_t v[4 * ROT_IMAGE_TYPE_SLOTS];
  memset(v, 0, sizeof(v));
  for (uint32_t i = 0; i < ctx->status.type_count; i++) {
    uint32_t t = ctx->status.types[i].image_type;
    if (t < ROT_IMAGE_TYPE_SLOTS) {
      rot_st32(v + 4 * t, ctx->status.types[i].svn_floor);
    }
  }
  return variable(ctx, st, BC_EV_VAR_SVN_FLOORS, v, sizeof(v));
}

/*
 * Record a sealed boot image: its digests are the ones fetch_read took as
 * the bytes arrived, from the memfd they were read into and then sealed
 * (what QEMU loads), and fetch_finish compared with the chip's, one per
 * bank; nothing is hashed again.
 */
static rot_error_t record_image(bc_ctx_t *ctx, const bc_stage_t *st,
                                const bc_boot_image_t *img, const void *data,
                                size_t dlen) {
  bc_log_digests_t d;
  memset(&d, 0, sizeof(d));
  for (uint32_t i = 0; i < ctx->log.bank_count; i++) {
    if (ctx->log.banks[i].alg == BC_TPM_ALG_SHA256) {
      memcpy(d.value[i], img->sha256, sizeof(img->sha256));
    } else if (ctx->log.banks[i].alg == BC_TPM_ALG_SHA384) {
      memcpy(d.value[i], img->sha384, sizeof(img->sha384));
    } else {
      return fail(ctx, ROT_ERROR_UNSUPPORTED, "event log: bank 0x%04x",
                  ctx->log.banks[i].alg);
    }
  }
  rot_error_t err = bc_log_append_digests(&ctx->log, st->pcr, st->event_type,
                                          &d, data, dlen);
  if (err != ROT_OK) {
    return fail(ctx, err, "event log: %s", rot_error_str(err));
  }
  return extend(ctx, st->pcr, &d);
}

static rot_error_t st_firmware(bc_ctx_t *ctx, const bc_stage_t *st) {
  const bc_sealed_t *s = &ctx->m->firmware.payload;
  uint8_t data[BC_EV_BLOB_LEN];
  bc_ev_blob_encode(data, ctx->m->firmware.load_addr, s->len);
  return record_image(ctx, st, &ctx->m->firmware, data, sizeof(data));
}

static rot_error_t st_payload(bc_ctx_t *ctx, const bc_stage_t *st) {
  const bc_sealed_t *s = &ctx->m->payload.payload;
  uint8_t data[BC_EV_IMAGE_LOAD_LEN];
  bc_ev_image_load_encode(data, ctx->m->payload.load_addr, s->len,
                          ctx->m->payload.load_addr);
  return record_image(ctx, st, &ctx->m->payload, data, sizeof(data));
}

static uint32_t slot_of(const bc_boot_image_t *img) {
  const rot_flash_region_t *r =
      &rot_flash_layout_default.regions[img->info.region];
  return r->kind == ROT_REGION_RECOVERY ? 0xffu : r->slot;
}

static rot_error_t st_boot_config(bc_ctx_t *ctx, const bc_stage_t *st) {
  const bc_boot_image_t *imgs[] = {&ctx->m->firmware, &ctx->m->payload};
  bc_ev_boot_image_t list[2];
  for (size_t i = 0; i < 2; i++) {
    list[i].image_type = imgs[i]->info.image_type;
    list[i].svn = imgs[i]->info.svn;
    list[i].ver_major = imgs[i]->info.ver_major;
    list[i].ver_minor = imgs[i]->info.ver_minor;
    list[i].ver_patch = imgs[i]->info.ver_patch;
  }
  uint8_t data[BC_EV_BOOT_CONFIG_MAX_LEN];
  size_t n = 0;
  ROT_TRY(bc_ev_boot_config_encode(data, sizeof(data), slot_of(&ctx->m->payload),
                                   list, 2, &n));
  return record(ctx, st, NULL, 0, data, n);
}

static rot_error_t st_platform_config(bc_ctx_t *ctx, const bc_stage_t *st) {
  uint8_t data[BC_EV_PLATFORM_CONFIG_LEN];
  bc_ev_platform_config_encode(data, ctx->m->lifecycle, ctx->m->locked_mask);
  return record(ctx, st, NULL, 0, data, sizeof(data));
}

static rot_error_t st_separator(bc_ctx_t *ctx, const bc_stage_t *st) {
  bc_log_digests_t d;
  rot_error_t err = bc_log_separator(&ctx->log, ctx->crypto, st->pcr, &d);
  if (err != ROT_OK) {
    return fail(ctx, err, "event log: %s", rot_error_str(err));
  }
  return extend(ctx, st->pcr, &d);
}

static rot_error_t st_dtb(bc_ctx_t *ctx, const bc_stage_t *st);

/* The PCR plan, in boot order (docs/pcr-plan.md). */
static const bc_stage_t kStages[] = {
    {"s-crtm-version", 0, BC_EV_S_CRTM_VERSION, st_crtm_version, 0},
    {"s-crtm-contents", 0, BC_EV_S_CRTM_CONTENTS, st_crtm_contents, 0},
    {"policy-lifecycle", 7, BC_EV_EFI_VARIABLE_DRIVER_CONFIG, st_lifecycle, 0},
    {"policy-root-key", 7, BC_EV_EFI_VARIABLE_DRIVER_CONFIG, st_root_key, 0},
    {"policy-signers", 7, BC_EV_EFI_VARIABLE_DRIVER_CONFIG, st_signers, 0},
    {"policy-revoked", 7, BC_EV_EFI_VARIABLE_DRIVER_CONFIG, st_revoked, 0},
    {"policy-svn-floors", 7, BC_EV_EFI_VARIABLE_DRIVER_CONFIG, st_floors, 0},
    {"opensbi", 0, BC_EV_EFI_PLATFORM_FIRMWARE_BLOB, st_firmware, 0},
    {"payload", 4, BC_EV_EFI_BOOT_SERVICES_APPLICATION, st_payload, 0},
    {"boot-config", 5, BC_EV_EVENT_TAG, st_boot_config, 0},
    {"platform-config", 1, BC_EV_PLATFORM_CONFIG_FLAGS, st_platform_config, 0},
    {"handoff-dtb", 1, BC_EV_TABLE_OF_DEVICES, st_dtb, BC_EV_BLOB_LEN},
    {"separator-0", 0, BC_EV_SEPARATOR, st_separator, SEPARATOR_DATA_LEN},
    {"separator-1", 1, BC_EV_SEPARATOR, st_separator, SEPARATOR_DATA_LEN},
    {"separator-2", 2, BC_EV_SEPARATOR, st_separator, SEPARATOR_DATA_LEN},
    {"separator-3", 3, BC_EV_SEPARATOR, st_separator, SEPARATOR_DATA_LEN},
    {"separator-4", 4, BC_EV_SEPARATOR, st_separator, SEPARATOR_DATA_LEN},
    {"separator-5", 5, BC_EV_SEPARATOR, st_separator, SEPARATOR_DATA_LEN},
    {"separator-6", 6, BC_EV_SEPARATOR, st_separator, SEPARATOR_DATA_LEN},
    {"separator-7", 7, BC_EV_SEPARATOR, st_separator, SEPARATOR_DATA_LEN},
};

#define STAGE_COUNT (sizeof(kStages) / sizeof(kStages[0]))

/* Bytes one record of data_len adds to the log with the current banks. */
static size_t record_size(const bc_log_writer_t *w, size_t data_len) {
  return bc_log_record_size(w, data_len);
}

/*
 * The handoff DTB carries the final log length (linux,sml-size), and the
 * DTB itself is measured into the log: the rows from here on have fixed
 * data sizes, so the final length is known before the tree is built.
 */
/* The handoff request for a log of log_size bytes: the same for the
 * check before the first extend and for the measured tree. */
static bc_handoff_info_t handoff_info(bc_ctx_t *ctx, uint32_t log_size) {
  snprintf(ctx->fw_version, sizeof(ctx->fw_version), "opensbi %u.%u.%u svn %u %s",
           ctx->m->firmware.info.ver_major, ctx->m->firmware.info.ver_minor,
           ctx->m->firmware.info.ver_patch, ctx->m->firmware.info.svn,
           ctx->m->firmware.region);
  snprintf(ctx->pl_version, sizeof(ctx->pl_version),
           "hypervisor %u.%u.%u svn %u %s", ctx->m->payload.info.ver_major,
           ctx->m->payload.info.ver_minor, ctx->m->payload.info.ver_patch,
           ctx->m->payload.info.svn, ctx->m->payload.region);
  ctx->versions[0] = ctx->fw_version;
  ctx->versions[1] = ctx->pl_version;
  ctx->chosen[0] = (bc_handoff_str_t){"rot,firmware-slot", ctx->m->firmware.region};
  ctx->chosen[1] = (bc_handoff_str_t){"rot,firmware-decision",
                                      rot_boot_reason_name(ctx->m->firmware.reason)};
  ctx->chosen[2] = (bc_handoff_str_t){"rot,payload-decision",
                                      rot_boot_reason_name(ctx->m->payload.reason)};
  ctx->chosen[3] = (bc_handoff_str_t){"rot,rtm-version", BC_RTM_VERSION};
  bc_handoff_info_t info = {
      .log_addr = ctx->m->log_addr,
      .log_size = log_size,
      .boot_slot = ctx->m->payload.region,
      .image_versions = ctx->versions,
      .image_version_count = 2,
      .chosen_strs = ctx->chosen,
      .chosen_str_count = sizeof(ctx->chosen) / sizeof(ctx->chosen[0]),
  };
  return info;
}

/*
 * Every input of the handoff (the base tree from disk, the versions and
 * slots from the chip) is checked before the first PCR is extended: a
 * build with the largest log the reservation allows. The measured tree
 * differs only in the log size, and its region lies inside the one
 * checked here, so a refusal can no longer come after PCRs moved. The
 * tree is kept: st_dtb shrinks its log in place (bc_handoff_set_log_size,
 * the same bytes a second build would give) instead of building again.
 */
static rot_error_t check_handoff_inputs(bc_ctx_t *ctx) {
  bc_handoff_info_t info = handoff_info(ctx, BC_HANDOFF_LOG_MAX);
  size_t cap = bc_handoff_max_size(ctx->base_dtb_len, &info);
  if (cap == 0) {
    return fail(ctx, ROT_ERROR_INVALID_ARGUMENT, "handoff request is invalid");
  }
  uint8_t *out = malloc(cap);
  if (out == NULL) {
    return fail(ctx, ROT_ERROR_HANDOFF_FDT, "out of memory");
  }
  size_t out_len = 0;
  rot_error_t err = bc_handoff_build(ctx->base_dtb, ctx->base_dtb_len, &info,
                                     out, cap, &out_len);
  if (err != ROT_OK) {
    free(out);
    return fail(ctx, err, "base DTB refused before any measurement: %s",
                rot_error_str(err));
  }
  ctx->dtb = out;
  ctx->dtb_len = out_len;
  return ROT_OK;
}

static rot_error_t st_dtb(bc_ctx_t *ctx, const bc_stage_t *st) {
  size_t final_len = ctx->log.len;
  for (size_t i = ctx->stage_index; i < STAGE_COUNT; i++) {
    if (kStages[i].data_len == 0) {
      return fail(ctx, ROT_ERROR_INTERNAL, "stage %s after the DTB has no fixed size",
                  kStages[i].name);
    }
    final_len += record_size(&ctx->log, kStages[i].data_len);
  }
  if (final_len > BC_HANDOFF_LOG_MAX) {
    return fail(ctx, ROT_ERROR_EVENTLOG_FULL, "log of %zu bytes exceeds the reservation",
                final_len);
  }
  if (ctx->dtb == NULL) {
    return fail(ctx, ROT_ERROR_INTERNAL, "handoff DTB: not checked before");
  }
  rot_error_t err =
      bc_handoff_set_log_size(ctx->dtb, ctx->dtb_len, (uint32_t)final_len);
  if (err == ROT_OK) {
    err = bc_seal_create("bootchain-dtb", ctx->dtb, ctx->dtb_len, &ctx->m->dtb);
  }
  if (err != ROT_OK) {
    return fail(ctx, err, "handoff DTB: %s", rot_error_str(err));
  }
  uint8_t data[BC_EV_BLOB_LEN];
  /* QEMU places the -dtb blob itself: base 0 says "placed by the loader". */
  bc_ev_blob_encode(data, 0, ctx->m->dtb.len);
  return record(ctx, st, ctx->m->dtb.data, ctx->m->dtb.len, data, sizeof(data));
}

/* ---- read-back ---------------------------------------------------------- */

#define BOOT_PCRS 0xffu /* PCRs 0-7: the ones the plan extends */

rot_error_t bc_check_pcrs(bc_tpm_t *tpm, const rot_crypto_t *c,
                          const uint8_t *log, size_t len, uint32_t pcr_mask,
                          char *detail, size_t detail_cap) {
  char ignored[1];
  if (detail == NULL || detail_cap == 0) {
    detail = ignored;
    detail_cap = sizeof(ignored);
  }
  detail[0] = '\0';
  if (tpm == NULL || c == NULL || log == NULL || pcr_mask == 0 ||
      (pcr_mask >> BC_TPM_PCR_COUNT) != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  bc_log_replay_t *r = calloc(1, sizeof(*r));
  if (r == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  rot_error_t err = bc_log_replay(log, len, c, r);
  hardened_bool_t same = HARDENED_TRUE;
  uint32_t compared = 0;
  for (uint32_t i = 0; err == ROT_OK && i < r->header.bank_count; i++) {
    const bc_log_pcr_bank_t *b = &r->banks[i];
    if (b->replayed != HARDENED_TRUE) {
      snprintf(detail, detail_cap, "the log's %s bank cannot be replayed here",
               bc_tpm_alg_name(b->alg));
      err = ROT_ERROR_TPM_BANKS;
      break;
    }
    uint8_t values[BC_TPM_PCR_COUNT][BC_TPM_MAX_DIGEST];
    size_t dlen = 0;
    err = bc_tpm_pcr_read_bank(tpm, b->alg, pcr_mask, values, &dlen);
    if (err != ROT_OK) {
      snprintf(detail, detail_cap, "PCR read: %s", bc_tpm_strerror(tpm));
      break;
    }
    if (dlen != b->size) {
      snprintf(detail, detail_cap, "%s: the TPM's digest size differs",
               bc_tpm_alg_name(b->alg));
      err = ROT_ERROR_TPM_BANKS;
      break;
    }
    for (uint32_t p = 0; p < BC_TPM_PCR_COUNT; p++) {
      if ((pcr_mask & (1u << p)) == 0) {
        continue;
      }
      compared++;
      if (rot_ct_equal(values[p], b->pcr[p], b->size) != HARDENED_TRUE) {
        if (same == HARDENED_TRUE) {
          snprintf(detail, detail_cap,
                   "PCR %u (%s) differs from the log's replay: extended by "
                   "someone else during the boot",
                   p, bc_tpm_alg_name(b->alg));
        }
        same = HARDENED_FALSE;
      }
    }
  }
  free(r);
  if (err != ROT_OK) {
    return err;
  }
  if (same != HARDENED_TRUE || compared == 0) {
    return ROT_ERROR_TPM_PCR_MISMATCH;
  }
  HARDENED_CHECK_EQ(same, HARDENED_TRUE);
  return ROT_OK;
}

static rot_error_t check_pcrs(bc_ctx_t *ctx) {
  rot_error_t err = bc_check_pcrs(ctx->tpm, ctx->crypto, ctx->log_buf,
                                  ctx->log.len, BOOT_PCRS, ctx->m->detail,
                                  sizeof(ctx->m->detail));
  if (err != ROT_OK && ctx->m->detail[0] == '\0') {
    snprintf(ctx->m->detail, sizeof(ctx->m->detail), "%s", rot_error_str(err));
  }
  return err;
}

/* ---- set-up ---------------------------------------------------------------- */

static rot_error_t open_tpm(bc_ctx_t *ctx) {
  rot_error_t err = bc_tpm_open(&ctx->tpm, ctx->cfg->tcti);
  if (err != ROT_OK) {
    return fail(ctx, err, "%s", bc_tpm_strerror(NULL));
  }
  uint16_t algs[BC_TPM_MAX_BANKS];
  size_t n = BC_TPM_MAX_BANKS;
  err = bc_tpm_active_banks(ctx->tpm, algs, &n);
  if (err != ROT_OK) {
    return fail(ctx, err, "reading active PCR banks: %s",
                bc_tpm_strerror(ctx->tpm));
  }
  /* Banks declared = banks extended = the TPM's active banks: every
   * active bank must be one the chain can hash, or nothing boots. */
  for (size_t i = 0; i < n; i++) {
    if (algs[i] != BC_TPM_ALG_SHA256 && algs[i] != BC_TPM_ALG_SHA384) {
      return fail(ctx, ROT_ERROR_TPM_BANKS,
                  "the TPM has the %s bank active, which the boot chain cannot "
                  "extend; the log and the TPM would disagree",
                  bc_tpm_alg_name(algs[i]));
    }
  }
  if (n == 0) {
    return fail(ctx, ROT_ERROR_TPM_BANKS, "the TPM has no active PCR bank");
  }
  /* A log describes one boot from reset: PCRs 0-7 must start at zero. */
  for (size_t i = 0; i < n; i++) {
    uint8_t values[BC_TPM_PCR_COUNT][BC_TPM_MAX_DIGEST];
    size_t dlen = 0;
    err = bc_tpm_pcr_read_bank(ctx->tpm, algs[i], 0xffu, values, &dlen);
    if (err != ROT_OK) {
      return fail(ctx, err, "PCR read: %s", bc_tpm_strerror(ctx->tpm));
    }
    for (uint32_t p = 0; p < 8; p++) {
      for (size_t b = 0; b < dlen; b++) {
        if (values[p][b] != 0) {
          return fail(ctx, ROT_ERROR_TPM_NOT_FRESH,
                      "PCR %u (%s) is already extended: measure once per TPM "
                      "reset (scripts/swtpm.sh stop DIR; scripts/swtpm.sh start DIR)",
                      p, bc_tpm_alg_name(algs[i]));
        }
      }
    }
  }
  ctx->m->bank_count = (uint32_t)n;
  memcpy(ctx->m->banks, algs, n * sizeof(algs[0]));
  /* Not zeroed: the writer writes every byte up to its length, and only
   * those are read, sealed and handed on. Zeroing all 64 KiB would fault
   * in 16 pages (each a trip to the hypervisor on a virtual machine) for
   * a log of a few KiB. */
  ctx->log_buf = malloc(LOG_CAP);
  if (ctx->log_buf == NULL) {
    return fail(ctx, ROT_ERROR_EVENTLOG_FULL, "out of memory");
  }
  err = bc_log_init(&ctx->log, ctx->log_buf, LOG_CAP, algs, n);
  return err == ROT_OK ? ROT_OK : fail(ctx, err, "event log: %s", rot_error_str(err));
}

/*
 * The TPM side of the set-up (open_tpm: load the TCTI, read the active
 * banks, check PCRs 0-7 are fresh) on a thread of its own, while this
 * thread takes the chip's answers and reads, hashes and seals the images:
 * the two wait on different servers (swtpm, rotd). The thread works on a
 * private context and result (the TPM, the log writer, the banks, its
 * error detail), handed over only at tpm_join; it uses neither the crypto
 * backend nor the mailbox. Nothing is extended before the join, and a
 * TPM that failed fails the boot there, before the first extend.
 */
typedef struct tpm_opener {
  bc_ctx_t ctx;
  bc_measured_t m;
  rot_error_t err;
  pthread_t thread;
  int running;
} tpm_opener_t;

static void *tpm_open_main(void *arg) {
  tpm_opener_t *op = arg;
  double t = now_ms();
  double cpu = clock_ms(CLOCK_THREAD_CPUTIME_ID);
  op->err = open_tpm(&op->ctx);
  op->m.t.tpm_open_ms = now_ms() - t;
  op->m.t.tpm_open_cpu_ms = clock_ms(CLOCK_THREAD_CPUTIME_ID) - cpu;
  return NULL;
}

/* Start opening the TPM; without a thread, open it here and now. */
static tpm_opener_t *tpm_start(bc_ctx_t *ctx) {
  tpm_opener_t *op = calloc(1, sizeof(*op));
  if (op == NULL) {
    return NULL;
  }
  op->ctx.cfg = ctx->cfg;
  op->ctx.m = &op->m;
  /* Before the thread exists: the environment is changed only here. */
  bc_tpm_quiet_logs();
  op->running = pthread_create(&op->thread, NULL, tpm_open_main, op) == 0;
  if (!op->running) {
    (void)tpm_open_main(op);
  }
  return op;
}

/* Wait for the opener and take over what it opened (all of it, also on
 * failure, so ctx_close releases it). NULL op: out of memory at start. */
static rot_error_t tpm_join(bc_ctx_t *ctx, tpm_opener_t *op) {
  if (op == NULL) {
    return fail(ctx, ROT_ERROR_INTERNAL, "out of memory");
  }
  if (op->running) {
    (void)pthread_join(op->thread, NULL);
    op->running = 0;
  }
  ctx->tpm = op->ctx.tpm;
  ctx->log_buf = op->ctx.log_buf;
  ctx->log = op->ctx.log;
  op->ctx.tpm = NULL;
  op->ctx.log_buf = NULL;
  ctx->m->t.tpm_open_ms = op->m.t.tpm_open_ms;
  ctx->m->t.tpm_open_cpu_ms = op->m.t.tpm_open_cpu_ms;
  ctx->m->bank_count = op->m.bank_count;
  memcpy(ctx->m->banks, op->m.banks, sizeof(ctx->m->banks));
  rot_error_t err = op->err;
  if (err != ROT_OK) {
    memcpy(ctx->m->detail, op->m.detail, sizeof(ctx->m->detail));
  }
  free(op);
  return err;
}

static rot_error_t load_base_dtb(bc_ctx_t *ctx) {
  const char *path = ctx->cfg->base_dtb != NULL ? ctx->cfg->base_dtb
                                                : bc_default_base_dtb();
  rot_error_t err = rot_file_read(path, DTB_MAX, &ctx->base_dtb, &ctx->base_dtb_len);
  if (err != ROT_OK) {
    return fail(ctx, err, "base DTB %s: %s", path, rot_error_str(err));
  }
  return ROT_OK;
}

/*
 * LOCK, then STATUS, both sent before either answer is awaited: the chip
 * answers in order, so the status reflects the lock, and the chain waits
 * for one round trip instead of two. A refused LOCK fails the boot before
 * the status is looked at.
 */
static rot_error_t lock_boot_regions(bc_ctx_t *ctx) {
  uint32_t lock_seq = 0, status_seq = 0;
  if (!ctx->cfg->no_lock) {
    uint8_t *req = rot_mbox_client_payload(&ctx->mbox);
    size_t req_len = 0;
    rot_mbox_lock_req_t lr = {.region = ROT_MBOX_LOCK_BOOT};
    ROT_TRY(rot_mbox_lock_req_encode(&lr, req, ROT_MBOX_LOCK_REQ_SIZE, &req_len));
    ROT_TRY(send_req(ctx, ROT_MBOX_CMD_LOCK, req, (uint32_t)req_len, &lock_seq));
  }
  ROT_TRY(send_req(ctx, ROT_MBOX_CMD_STATUS, NULL, 0, &status_seq));
  if (!ctx->cfg->no_lock) {
    const uint8_t *reply;
    uint32_t len;
    ROT_TRY(recv_reply(ctx, ROT_MBOX_CMD_LOCK, lock_seq, &reply, &len));
  }
  /* Measured as the chip reports it, not as we believe we asked. */
  ROT_TRY(read_status(ctx, status_seq));
  ctx->m->locked_mask = ctx->status.locked_mask;
  ctx->m->lifecycle = ctx->status.lifecycle;
  return ROT_OK;
}

static void ctx_close(bc_ctx_t *ctx) {
  for (size_t i = 0; i < DECIDED_COUNT; i++) {
    fetched_free(&ctx->got[i]);
  }
  if (ctx->mbox_open) {
    rot_mbox_client_close(&ctx->mbox);
  }
  bc_tpm_close(ctx->tpm);
  free(ctx->back);
  free(ctx->log_buf);
  free(ctx->base_dtb);
  free(ctx->dtb);
}

#define STEP(name_, expr_)                                                  \
  do {                                                                      \
    snprintf(m->stage, sizeof(m->stage), "%s", (name_));                    \
    err = (expr_);                                                          \
    if (err != ROT_OK) {                                                    \
      goto out;                                                             \
    }                                                                       \
  } while (0)

rot_error_t bc_measure(const bc_config_t *cfg, bc_measured_t *m) {
  if (cfg == NULL || m == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(m, 0, sizeof(*m));
  m->firmware.payload.fd = m->payload.payload.fd = m->dtb.fd = m->log.fd = -1;
  m->rot.payload.fd = -1;
  m->log_addr = BC_HANDOFF_LOG_ADDR;
  bc_ctx_t ctx;
  memset(&ctx, 0, sizeof(ctx));
  ctx.cfg = cfg;
  ctx.m = m;
  rot_error_t err = ROT_OK;
  tpm_opener_t *opener = NULL;
  double t0 = now_ms();
  double cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
  phase(&ctx, "chip-connect");

  const char *sock = cfg->socket != NULL ? cfg->socket : rot_mbox_default_socket();
  err = rot_mbox_client_connect(&ctx.mbox, sock, 0);
  if (err != ROT_OK) {
    snprintf(m->stage, sizeof(m->stage), "rotd");
    char why[PATH_MAX + 256];
    if (err == ROT_ERROR_MAILBOX_CONNECT) {
      fail(&ctx, err, "%s", rot_mbox_connect_advice(why, sizeof(why), sock,
                                                    ctx.mbox.sys_errno));
    } else {
      fail(&ctx, err, "cannot reach rotd at %s: %s", sock,
           strerror(ctx.mbox.sys_errno));
    }
    goto out;
  }
  ctx.mbox_open = 1;
  /* The receive buffer is filled by the kernel with 64 KiB replies: its
   * pages allocated in one call, not a fault per page in the first read. */
  bc_populate_write(ctx.mbox.rx, ROT_MBOX_MAX_FRAME);
  /* The chip decides the payload while the TPM opens, the base tree is
   * read and the crypto backend starts (libcrypto loads its configuration
   * and providers), and OpenSBI while the payload is hashed, checked and
   * sealed (ask_decision). */
  phase(&ctx, "chip-ask");
  STEP("boot", ask_decision(&ctx, DECIDED_PAYLOAD));
  STEP("boot", ask_decision(&ctx, DECIDED_ROT));
  /* The TPM opens while the chip decides, when this thread only waits.
   * (Opened once the payload was decided instead, beside its hashing, the
   * boot took about 1.2 ms longer: measured, interleaved.) */
  phase(&ctx, "tpm-start");
  opener = tpm_start(&ctx);
  /* The base tree is read while the chip decides: it is checked, with
   * every other input of the handoff, before the first extend. */
  phase(&ctx, "base-dtb");
  STEP("base-dtb", load_base_dtb(&ctx));
  phase(&ctx, "crypto-start");
  STEP("crypto", (ctx.crypto = rot_host_crypto()) != NULL ? ROT_OK
                                                          : ROT_ERROR_CRYPTO_FAILED);
  phase(&ctx, "chip-decide");
  STEP("boot", take_decision(&ctx, DECIDED_PAYLOAD));
  STEP("boot", take_decision(&ctx, DECIDED_ROT));
  /* OpenSBI's decision is asked for behind the payload's last READ_REGION:
   * the chip decides it while this side hashes the last chunks and checks
   * and seals the payload. The RoT firmware's reads would queue behind it,
   * so they come after. */
  phase(&ctx, "payload");
  STEP("read-payload", fetch_read(&ctx, DECIDED_PAYLOAD, &m->payload, DECIDED_OPENSBI));
  STEP("read-payload", fetch_finish(&ctx, DECIDED_PAYLOAD, &m->payload));
  phase(&ctx, "opensbi-decide");
  STEP("boot", take_decision(&ctx, DECIDED_OPENSBI));
  phase(&ctx, "rot-firmware");
  STEP("read-rot", fetch_rot_read(&ctx, &m->rot));
  STEP("read-rot", fetch_rot_finish(&ctx, &m->rot));
  phase(&ctx, "opensbi");
  STEP("read-opensbi", fetch_read(&ctx, DECIDED_OPENSBI, &m->firmware, -1));
  STEP("read-opensbi", fetch_finish(&ctx, DECIDED_OPENSBI, &m->firmware));
  phase(&ctx, "tpm-wait");
  err = tpm_join(&ctx, opener);
  opener = NULL;
  STEP("tpm", err);
  phase(&ctx, "checks");
  STEP("lock", lock_boot_regions(&ctx));
  STEP("handoff-check", check_handoff_inputs(&ctx));
  m->t.read_ms = now_ms() - t0;

  phase(&ctx, "events");
  double t1 = now_ms();
  for (size_t i = 0; i < STAGE_COUNT; i++) {
    ctx.stage_index = i;
    STEP(kStages[i].name, kStages[i].run(&ctx, &kStages[i]));
  }
  m->t.measure_ms = now_ms() - t1;

  /* The log the host gets is sealed too, and it must be exactly as long
   * as the DTB told the host it is. */
  phase(&ctx, "finish");
  uint64_t addr = 0;
  uint32_t declared = 0;
  STEP("log-length", bc_handoff_log_location(m->dtb.data, m->dtb.len, &addr, &declared));
  if (declared != ctx.log.len || addr != m->log_addr) {
    snprintf(m->stage, sizeof(m->stage), "log-length");
    err = fail(&ctx, ROT_ERROR_INTERNAL, "DTB says %u bytes at 0x%llx, log is %zu",
               declared, (unsigned long long)addr, ctx.log.len);
    goto out;
  }
  /* Nothing but the chain may have extended PCRs 0-7 since they were
   * found fresh: what the TPM holds must be what the log replays to. */
  STEP("pcr-check", check_pcrs(&ctx));
  m->events = ctx.log.event_count;
  STEP("seal-log", bc_seal_create("bootchain-eventlog", ctx.log_buf, ctx.log.len, &m->log));
  phase(&ctx, NULL);
  m->t.total_ms = now_ms() - t0;
  m->t.cpu_ms = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  m->stage[0] = '\0';

out:
  if (opener != NULL) {
    /* A step failed while the TPM was opening: wait for it and release
     * it. A TPM that failed too is the reason given, as when the TPM was
     * opened before the chip was asked: a TPM that is gone, not fresh or
     * has the wrong banks is named whatever the chip said. */
    char detail[sizeof(m->detail)];
    memcpy(detail, m->detail, sizeof(detail));
    rot_error_t terr = tpm_join(&ctx, opener);
    if (terr != ROT_OK) {
      err = terr;
      snprintf(m->stage, sizeof(m->stage), "tpm");
    } else {
      memcpy(m->detail, detail, sizeof(detail));
    }
  }
  if (err == ROT_OK) {
    /* Closed by bc_measured_free, once the host runs (see measure.h). */
    m->tpm = ctx.tpm;
    ctx.tpm = NULL;
  }
  ctx_close(&ctx);
  if (err != ROT_OK) {
    if (m->detail[0] == '\0') {
      snprintf(m->detail, sizeof(m->detail), "%s", rot_error_str(err));
    }
    char stage[sizeof(m->stage)], detail[sizeof(m->detail)];
    memcpy(stage, m->stage, sizeof(stage));
    memcpy(detail, m->detail, sizeof(detail));
    bc_measured_free(m);
    memcpy(m->stage, stage, sizeof(stage));
    memcpy(m->detail, detail, sizeof(detail));
  }
  return err;
}

void bc_measured_free(bc_measured_t *m) {
  if (m == NULL) {
    return;
  }
  bc_tpm_close(m->tpm);
  m->tpm = NULL;
  bc_seal_close(&m->firmware.payload);
  bc_seal_close(&m->rot.payload);
  bc_seal_close(&m->payload.payload);
  bc_seal_close(&m->dtb);
  bc_seal_close(&m->log);
}

void bc_measured_qemu_spec(const bc_measured_t *m, bc_qemu_spec_t *spec) {
  memset(spec, 0, sizeof(*spec));
  spec->bios.fd = m->firmware.payload.fd;
  spec->kernel.fd = m->payload.payload.fd;
  spec->dtb.fd = m->dtb.fd;
  spec->event_log.fd = m->log.fd;
  spec->event_log_addr = m->log_addr;
}

const char *bc_default_base_dtb(void) {
  static char path[PATH_MAX];
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) {
    return "build/dtb/virt.dtb";
  }
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash != NULL) {
    *slash = '\0';
  }
  /* The build tree's layout, then the one `make install` writes. */
  static const char *const kRel[] = {"/../dtb/virt.dtb",
                                     "/../share/rot-stack/virt.dtb"};
  size_t len = strlen(exe);
  for (size_t i = 0; i < sizeof(kRel) / sizeof(kRel[0]); i++) {
    size_t rl = strlen(kRel[i]) + 1;
    if (len + rl > sizeof(path)) {
      return "build/dtb/virt.dtb";
    }
    memcpy(path, exe, len);
    memcpy(path + len, kRel[i], rl);
    if (i == 0 && access(path, R_OK) != 0) {
      continue; /* not a build tree: try the installed layout */
    }
    return path;
  }
  return path;
}
