/*
 * The hash-chained audit log. Records are read and written only through
 * the gate, as the chip. Flash content is untrusted: every loop is bounded
 * by the slot count and every index is reduced modulo it, so a region full
 * of garbage costs at most a few passes and never an out-of-range access.
 */
#include "rot/audit.h"

#include "rot/util.h"
#include "rot/wire.h"

#define REC ROT_AUDIT_RECORD_SIZE
#define OFF_MAGIC 0u
#define OFF_SEQ 4u
#define OFF_TIME 8u
#define OFF_EVENT 16u
#define OFF_STATUS 20u
#define OFF_ARG0 24u
#define OFF_ARG1 28u
#define OFF_RESERVED 32u
#define OFF_EXT 32u /* format 2: the ext word, first of the reserved bytes */
#define OFF_CHAIN 64u
#define OFF_COMMIT 96u
#define OFF_PAD 100u
#define HASHED_LEN 64u /* bytes [0, 64) feed the chain */
#define CHAIN_LEN 32u
/* Reads are batched, but never more than 1 KiB of stack. */
#define READ_SLOTS 8u

_Static_assert(offsetof(rot_audit_record_t, seq) == OFF_SEQ, "seq");
_Static_assert(offsetof(rot_audit_record_t, timestamp) == OFF_TIME, "time");
_Static_assert(offsetof(rot_audit_record_t, status) == OFF_STATUS, "status");
_Static_assert(offsetof(rot_audit_record_t, arg0) == OFF_ARG0, "arg0");
_Static_assert(offsetof(rot_audit_record_t, arg1) == OFF_ARG1, "arg1");
_Static_assert(offsetof(rot_audit_record_t, reserved) == OFF_RESERVED, "rsv");
_Static_assert(offsetof(rot_audit_record_t, pad) == OFF_PAD, "pad");
_Static_assert(sizeof(((rot_audit_record_t *)0)->chain) == CHAIN_LEN, "chain");

typedef enum slot_kind {
  SLOT_ERASED = 1,
  SLOT_COMMITTED = 2,
  SLOT_TORN = 3,
} slot_kind_t;

typedef struct geometry {
  uint32_t slots;     /* records in the region */
  uint32_t per_block; /* records per erase block */
  uint32_t per_read;  /* records per batched read (divides slots) */
} geometry_t;

/* A window of consecutive slots read in one gate call. */
typedef struct reader {
  uint8_t buf[READ_SLOTS * REC];
  uint32_t base;
  uint32_t count; /* 0: nothing cached */
} reader_t;

static rot_error_t get_geometry(const rot_audit_t *a, geometry_t *geo) {
  const rot_gate_t *g = a->gate;
  if (g == NULL || g->layout == NULL || g->flash == NULL ||
      a->crypto == NULL || a->region >= ROT_RGN_COUNT) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const rot_flash_region_t *r = &g->layout->regions[a->region];
  uint32_t erase = g->layout->erase_size;
  if (r->kind != ROT_REGION_AUDIT || erase < REC || erase % REC != 0 ||
      r->size % erase != 0 || r->size / erase < 2u) {
    return ROT_ERROR_FLASH_BAD_LAYOUT;
  }
  geo->slots = r->size / REC;
  geo->per_block = erase / REC;
  /* Both are powers of two, so the smaller divides the slot count. */
  geo->per_read = geo->per_block < READ_SLOTS ? geo->per_block : READ_SLOTS;
  return ROT_OK;
}

/* Sequence 0 is never written, so a record claiming it is not one. */
static slot_kind_t classify(const uint8_t *rec) {
  if (rot_is_erased(rec, REC)) {
    return SLOT_ERASED;
  }
  if (rot_ld32(rec + OFF_MAGIC) == ROT_AUDIT_MAGIC &&
      rot_ld32(rec + OFF_COMMIT) == ROT_AUDIT_COMMITTED &&
      rot_ld32(rec + OFF_SEQ) != 0u) {
    return SLOT_COMMITTED;
  }
  return SLOT_TORN;
}

/* Point *rec at slot idx (< geo->slots), reading its batch when needed. */
static rot_error_t reader_get(rot_audit_t *a, const geometry_t *geo,
                              reader_t *rd, uint32_t idx,
                              const uint8_t **rec) {
  if (rd->count == 0 || idx < rd->base || idx - rd->base >= rd->count) {
    uint32_t base = idx - idx % geo->per_read;
    rd->count = 0;
    ROT_TRY(rot_gate_read(a->gate, ROT_INIT_CHIP, a->region, base * REC,
                          rd->buf, geo->per_read * REC));
    rd->base = base;
    rd->count = geo->per_read;
  }
  *rec = rd->buf + (idx - rd->base) * REC;
  return ROT_OK;
}

/* chain = SHA-256(prev || rec[0, 64)); out may be prev (read first). */
static rot_error_t chain_of(const rot_crypto_t *c, const uint8_t *prev,
                            const uint8_t *rec, uint8_t out[CHAIN_LEN]) {
  uint8_t in[CHAIN_LEN + HASHED_LEN];
  rot_memcpy(in, prev, CHAIN_LEN);
  rot_memcpy(in + CHAIN_LEN, rec, HASHED_LEN);
  return rot_hash(c, ROT_HASH_SHA256, in, sizeof(in), out, CHAIN_LEN);
}

/* What one pass over every slot finds. */
typedef struct scan {
  uint32_t committed;
  uint32_t torn;
  uint32_t hi_idx, hi_seq; /* newest committed record */
  uint32_t lo_idx, lo_seq; /* oldest committed record */
  uint8_t hi_chain[CHAIN_LEN];
} scan_t;

static rot_error_t scan_region(rot_audit_t *a, const geometry_t *geo,
                               reader_t *rd, scan_t *s) {
  rot_memset(s, 0, sizeof(*s));
  for (uint32_t i = 0; i < geo->slots; i++) {
    const uint8_t *rec;
    ROT_TRY(reader_get(a, geo, rd, i, &rec));
    slot_kind_t kind = classify(rec);
    if (kind == SLOT_TORN) {
      s->torn++;
    }
    if (kind != SLOT_COMMITTED) {
      continue;
    }
    uint32_t seq = rot_ld32(rec + OFF_SEQ);
    /* Ties keep the first slot seen; duplicates are caught by verify. */
    if (s->committed == 0 || seq > s->hi_seq) {
      s->hi_seq = seq;
      s->hi_idx = i;
      rot_memcpy(s->hi_chain, rec + OFF_CHAIN, CHAIN_LEN);
    }
    if (s->committed == 0 || seq < s->lo_seq) {
      s->lo_seq = seq;
      s->lo_idx = i;
    }
    s->committed++;
  }
  return ROT_OK;
}

rot_error_t rot_audit_init(rot_audit_t *a, rot_gate_t *g,
                           const rot_crypto_t *c, uint64_t (*now)(void)) {
  if (a == NULL || g == NULL || c == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* Inert until the scan succeeds: the gate may already call the hook. */
  a->busy = 1;
  a->gate = g;
  a->crypto = c;
  a->region = ROT_RGN_AUDIT;
  a->now = now;
  a->next_index = 0;
  a->next_seq = 1;
  a->collecting = 0;
  a->locks = 0;
  a->window = ROT_AUDIT_EXT_NONE;
  rot_memset(a->last_chain, 0, sizeof(a->last_chain));

  geometry_t geo;
  reader_t rd;
  scan_t s;
  rd.count = 0;
  rot_error_t err = get_geometry(a, &geo);
  if (err == ROT_OK) {
    err = scan_region(a, &geo, &rd, &s);
  }
  if (err != ROT_OK) {
    a->gate = NULL;
    a->busy = 0;
    return err;
  }
  if (s.committed != 0) {
    /* A forged UINT32_MAX wraps to 0, which append restarts from 1. */
    a->next_seq = s.hi_seq + 1u;
    a->next_index = (s.hi_idx + 1u) % geo.slots;
    rot_memcpy(a->last_chain, s.hi_chain, CHAIN_LEN);
  }
  a->busy = 0;
  return ROT_OK;
}

static void encode(uint8_t rec[REC], uint32_t seq, uint64_t ts, uint32_t event,
                   rot_error_t status, uint32_t arg0, uint32_t arg1,
                   uint32_t ext) {
  /* Erased (0xff) wherever nothing is written yet: the chain, the commit
   * word, the pad and the reserved bytes after the ext word. */
  rot_audit_record_t r;
  rot_memset(&r, 0xff, sizeof(r));
  r.magic = ROT_AUDIT_MAGIC;
  r.seq = seq;
  r.timestamp = ts;
  r.event = event;
  r.status = (uint32_t)status;
  r.arg0 = arg0;
  r.arg1 = arg1;
  rot_st32(r.reserved, ext);
  rot_audit_record_encode(&r, rec);
}

/* Find the slot the next record goes to: erased, block erased on entry. */
static rot_error_t claim_slot(rot_audit_t *a, const geometry_t *geo,
                              uint32_t *slot) {
  uint32_t idx = a->next_index % geo->slots;
  uint8_t cur[REC];
  /* Within slots + 1 tries the ring reaches a block start and erases it;
   * running out means the flash does not erase. */
  for (uint32_t tries = 0; tries <= geo->slots; tries++) {
    if (idx % geo->per_block == 0) {
      ROT_TRY(rot_gate_erase(a->gate, ROT_INIT_CHIP, a->region, idx * REC));
    }
    ROT_TRY(rot_gate_read(a->gate, ROT_INIT_CHIP, a->region, idx * REC, cur,
                          REC));
    if (rot_is_erased(cur, REC)) {
      *slot = idx;
      return ROT_OK;
    }
    /* A torn (or foreign) record keeps its slot: programming over it
     * would AND two records together. */
    idx = (idx + 1u) % geo->slots;
  }
  return ROT_ERROR_FLASH_ERASE;
}

static rot_error_t append_locked(rot_audit_t *a, uint32_t event,
                                 rot_error_t status, uint32_t arg0,
                                 uint32_t arg1, uint32_t ext) {
  geometry_t geo;
  ROT_TRY(get_geometry(a, &geo));

  uint8_t rec[REC];
  uint8_t prev[CHAIN_LEN];
  uint32_t seq = a->next_seq;
  if (seq == 0) {
    /* The sequence space is spent (only a forged record gets here): start
     * a fresh chain rather than stop recording; verify flags the seam. */
    seq = 1;
    rot_memset(prev, 0, sizeof(prev));
  } else {
    rot_memcpy(prev, a->last_chain, sizeof(prev));
  }
  encode(rec, seq, a->now != NULL ? a->now() : 0u, event, status, arg0, arg1,
         ext);
  ROT_TRY(chain_of(a->crypto, prev, rec, rec + OFF_CHAIN));

  uint32_t slot;
  ROT_TRY(claim_slot(a, &geo, &slot));
  /* Until the record commits the ring stays here: a retry re-reads the
   * slot and skips it only if this attempt left anything behind. */
  a->next_index = slot;
  uint32_t off = slot * REC;
  /* The body is programmed before the word that says it is complete, so
   * a cut between them leaves a torn slot, never a committed one. One
   * barrier after both is enough: the record is one 128-byte slot, 128-
   * aligned in a block-aligned region, so body and commit word share one
   * sector and one page of any cache in front of the flash, and no
   * write-back can persist the later write without the earlier one. */
  ROT_TRY(rot_gate_program(a->gate, ROT_INIT_CHIP, a->region, off, rec,
                           OFF_COMMIT));
  uint8_t commit[4];
  rot_st32(commit, ROT_AUDIT_COMMITTED);
  rot_error_t perr = rot_gate_program(a->gate, ROT_INIT_CHIP, a->region,
                                      off + OFF_COMMIT, commit, sizeof(commit));
  if (perr == ROT_OK) {
    perr = rot_gate_sync(a->gate);
  }
  rot_st32(rec + OFF_COMMIT, ROT_AUDIT_COMMITTED);

  /* The read-back decides whether the sequence number is spent: a commit
   * word that landed despite an error still made a record, and one that
   * did not land despite success did not. */
  uint8_t back[REC];
  rot_error_t rerr =
      rot_gate_read(a->gate, ROT_INIT_CHIP, a->region, off, back, REC);
  if (rerr != ROT_OK) {
    return perr != ROT_OK ? perr : rerr;
  }
  if (classify(back) != SLOT_COMMITTED) {
    return perr != ROT_OK ? perr : ROT_ERROR_FLASH_PROGRAM;
  }
  /* Chain on from what the flash holds, as a reboot would. */
  a->next_seq = seq + 1u;
  a->next_index = (slot + 1u) % geo.slots;
  rot_memcpy(a->last_chain, back + OFF_CHAIN, CHAIN_LEN);
  if (perr != ROT_OK) {
    return perr;
  }
  return rot_memeq(back, rec, REC) ? ROT_OK : ROT_ERROR_FLASH_PROGRAM;
}

rot_error_t rot_audit_append_ext(rot_audit_t *a, uint32_t event,
                                 rot_error_t status, uint32_t arg0,
                                 uint32_t arg1, uint32_t ext) {
  if (a == NULL || a->gate == NULL || a->crypto == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (a->busy != 0) {
    return ROT_ERROR_INTERNAL; /* re-entered from inside the log */
  }
  a->busy = 1;
  rot_error_t err = ROT_OK;
  uint32_t w = a->window;
  a->window = ROT_AUDIT_EXT_NONE;
  if (w != ROT_AUDIT_EXT_NONE && event >= ROT_AUDIT_UPDATE_BEGIN &&
      event <= ROT_AUDIT_UPDATE_ABORT && ext == ROT_AUDIT_EXT_NONE) {
    ext = w; /* folded: the update record says which window moved */
    w = ROT_AUDIT_EXT_NONE;
  }
  /* Otherwise the held window gets its own records first, in order. */
  for (uint32_t f = ROT_AUDIT_WINDOW_OPENED;
       w != ROT_AUDIT_EXT_NONE && f <= ROT_AUDIT_WINDOW_CLOSED && err == ROT_OK;
       f <<= 1) {
    if ((w & f) != 0) {
      err = append_locked(a, ROT_AUDIT_GATE_WINDOW, ROT_OK,
                          f == ROT_AUDIT_WINDOW_OPENED,
                          w & ROT_AUDIT_WINDOW_REGION_MASK, ROT_AUDIT_EXT_NONE);
    }
  }
  if (err == ROT_OK) {
    err = append_locked(a, event, status, arg0, arg1, ext);
  }
  a->busy = 0;
  return err;
}

rot_error_t rot_audit_append(rot_audit_t *a, uint32_t event,
                             rot_error_t status, uint32_t arg0,
                             uint32_t arg1) {
  return rot_audit_append_ext(a, event, status, arg0, arg1, ROT_AUDIT_EXT_NONE);
}

uint32_t rot_audit_record_ext(const rot_audit_record_t *r) {
  return rot_ld32(r->reserved);
}

void rot_audit_locks_collect(rot_audit_t *a) {
  if (a != NULL) {
    a->collecting = 1;
    a->locks = 0;
  }
}

uint32_t rot_audit_locks_take(rot_audit_t *a) {
  if (a == NULL) {
    return 0;
  }
  uint32_t m = a->locks;
  a->locks = 0;
  return m;
}

uint32_t rot_audit_locks_end(rot_audit_t *a) {
  if (a == NULL) {
    return 0;
  }
  a->collecting = 0;
  return rot_audit_locks_take(a);
}

/* The persisted layout, field by field (rot/wire.h). */
static const rot_field_t kRecordFields[] = {
    ROT_FIELD_INT(rot_audit_record_t, magic),
    ROT_FIELD_INT(rot_audit_record_t, seq),
    ROT_FIELD_INT(rot_audit_record_t, timestamp),
    ROT_FIELD_INT(rot_audit_record_t, event),
    ROT_FIELD_INT(rot_audit_record_t, status),
    ROT_FIELD_INT(rot_audit_record_t, arg0),
    ROT_FIELD_INT(rot_audit_record_t, arg1),
    ROT_FIELD_BYTES(rot_audit_record_t, reserved),
    ROT_FIELD_BYTES(rot_audit_record_t, chain),
    ROT_FIELD_INT(rot_audit_record_t, commit),
    ROT_FIELD_BYTES(rot_audit_record_t, pad),
    ROT_FIELD_END,
};

void rot_audit_record_encode(const rot_audit_record_t *r,
                             uint8_t rec[ROT_AUDIT_RECORD_SIZE]) {
  rot_cursor_t w = rot_cursor_writer(rec, REC);
  rot_cursor_put(&w, kRecordFields, r);
}

void rot_audit_record_decode(const uint8_t rec[ROT_AUDIT_RECORD_SIZE],
                             rot_audit_record_t *r) {
  rot_cursor_t c = rot_cursor_reader(rec, REC);
  rot_cursor_get(&c, kRecordFields, r);
}

ROT_NOINLINE
static void note_failure(rot_audit_report_t *rep, rot_error_t link,
                         uint32_t seq) {
  if (rep->verdict == ROT_OK) {
    rep->verdict = link;
    rep->bad_seq = seq;
  }
}

/* The link verdict of one committed record given its predecessor. */
static rot_error_t check_link(const rot_crypto_t *c, const uint8_t *rec,
                              int first, uint32_t prev_seq,
                              const uint8_t *prev_chain) {
  uint32_t seq = rot_ld32(rec + OFF_SEQ);
  uint8_t want[CHAIN_LEN];
  /* The pad is outside the hash: any bit written there was not ours. */
  if (!rot_is_erased(rec + OFF_PAD, REC - OFF_PAD)) {
    return ROT_ERROR_AUDIT_TAMPERED;
  }
  if (first) {
    /* The oldest survivor's predecessor was erased by the ring, so its
     * chain is the anchor, unless it is the very first record. */
    if (seq != 1u) {
      return ROT_OK;
    }
    /* Its predecessor's chain is all zero (chain_of reads prev before
     * it writes out, so one buffer serves as both). */
    rot_memset(want, 0, sizeof(want));
    ROT_TRY(chain_of(c, want, rec, want));
  } else {
    if (prev_seq == UINT32_MAX || seq != prev_seq + 1u) {
      return ROT_ERROR_AUDIT_BROKEN;
    }
    ROT_TRY(chain_of(c, prev_chain, rec, want));
  }
  return rot_memeq(want, rec + OFF_CHAIN, CHAIN_LEN) ? ROT_OK
                                                     : ROT_ERROR_AUDIT_TAMPERED;
}

rot_error_t rot_audit_verify(rot_audit_t *a, rot_audit_visit_fn visit,
                             void *ctx, rot_audit_report_t *report) {
  if (a == NULL || report == NULL || a->gate == NULL || a->crypto == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(report, 0, sizeof(*report));
  report->verdict = ROT_OK;

  geometry_t geo;
  reader_t rd;
  scan_t s;
  rd.count = 0;
  ROT_TRY(get_geometry(a, &geo));
  ROT_TRY(scan_region(a, &geo, &rd, &s));
  report->torn = s.torn;

  /* Ring order from the oldest survivor is sequence order. */
  uint32_t seen = 0;
  uint32_t prev_seq = 0;
  uint8_t prev_chain[CHAIN_LEN];
  int stopped = 0;
  rot_memset(prev_chain, 0, sizeof(prev_chain));
  for (uint32_t k = 0; k < geo.slots && s.committed != 0; k++) {
    const uint8_t *rec;
    ROT_TRY(reader_get(a, &geo, &rd, (s.lo_idx + k) % geo.slots, &rec));
    if (classify(rec) != SLOT_COMMITTED) {
      continue;
    }
    uint32_t seq = rot_ld32(rec + OFF_SEQ);
    rot_error_t link =
        check_link(a->crypto, rec, seen == 0, prev_seq, prev_chain);
    if (link == ROT_OK) {
      report->records++;
    } else if (link == ROT_ERROR_AUDIT_TAMPERED ||
               link == ROT_ERROR_AUDIT_BROKEN) {
      note_failure(report, link, seq);
    } else {
      return link; /* the hash itself failed: no verdict */
    }
    if (seen == 0) {
      report->first_seq = seq;
    }
    report->last_seq = seq;
    seen++;
    /* Judge the next link against what is stored here, so one bad record
     * is reported once rather than poisoning everything after it. */
    prev_seq = seq;
    rot_memcpy(prev_chain, rec + OFF_CHAIN, CHAIN_LEN);
    if (visit != NULL) {
      rot_audit_record_t r;
      rot_audit_record_decode(rec, &r);
      if (visit(ctx, &r, link) != 0) {
        stopped = 1;
        break;
      }
    }
  }

  /* A chain cannot see its own tail cut off; this instance can, for
   * everything it wrote or found since init. */
  if (!stopped && a->next_seq > 1u) {
    uint32_t known_last = a->next_seq - 1u;
    if (seen == 0 || report->last_seq < known_last) {
      note_failure(report, ROT_ERROR_AUDIT_BROKEN,
                   seen == 0 ? known_last : report->last_seq + 1u);
    } else if (report->last_seq == known_last &&
               !rot_memeq(prev_chain, a->last_chain, CHAIN_LEN)) {
      note_failure(report, ROT_ERROR_AUDIT_TAMPERED, known_last);
    }
  }
  return report->verdict;
}

void rot_audit_gate_hook(void *ctx, rot_gate_op_t op, rot_initiator_t who,
                         uint32_t region, rot_error_t verdict) {
  rot_audit_t *a = ctx;
  (void)who;
  if (a == NULL || a->busy != 0 || a->gate == NULL || a->crypto == NULL) {
    return;
  }
  /* At most one record, now: a denial, a lock no boot decision names, or
   * a window change that cannot be held for the next update record. */
  uint32_t event = 0; /* no event is 0 */
  uint32_t arg0 = 0;
  if (verdict != ROT_OK) {
    event = ROT_AUDIT_GATE_DENY;
    arg0 = (uint32_t)op;
  } else if (op == ROT_GATE_OP_LOCK && a->collecting != 0 && region < 32u) {
    a->locks |= 1u << region; /* named by the boot decision's record */
  } else if (op == ROT_GATE_OP_LOCK) {
    event = ROT_AUDIT_GATE_LOCK;
  } else if (op == ROT_GATE_OP_WINDOW) {
    /* The gate reports after the change, so its state tells open from
     * close. Held for the update record that follows (see a->window): an
     * opening, or an opening then the closing of that window. Anything
     * else is recorded now, after whatever is held. */
    uint32_t open = a->gate->window_open == HARDENED_TRUE &&
                    a->gate->window == region;
    uint32_t w = a->window == ROT_AUDIT_EXT_NONE ? region : a->window;
    if (w == region || (!open && w == (region | ROT_AUDIT_WINDOW_OPENED))) {
      a->window = w | (open ? ROT_AUDIT_WINDOW_OPENED : ROT_AUDIT_WINDOW_CLOSED);
    } else {
      event = ROT_AUDIT_GATE_WINDOW;
      arg0 = open;
    }
  }
  rot_error_t err = ROT_OK;
  if (event != 0) {
    err = rot_audit_append(a, event, verdict, arg0, region);
  }
  /* A hook cannot fail its caller; a lost record shows as a gap or torn
   * slot to the next verify. */
  (void)err;
}

