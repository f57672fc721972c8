/*
 * libFuzzer target for the audit log as the chip finds it at start:
 * rot_audit_init (the scan for the end of the ring), rot_audit_verify (the
 * walk that checks every link) and the first append, over arbitrary bytes
 * in the audit region of an in-memory NOR flash, behind the real gate with
 * the audit hook installed, as rotd runs it.
 *
 * Input: byte 0 picks the flash geometry (audit_layout.h); the rest is the
 * audit region's content (shorter: the remainder stays erased).
 *
 * The target traps when:
 *  - init or the first append fails (a log full of garbage must still
 *    take records), or init's idea of the end disagrees with the region;
 *  - verify visits other records than the committed ones in ring order
 *    from the oldest, or decodes one to other bytes than the flash holds;
 *  - a link is judged good that does not verify (or bad that does) when
 *    checked here record by record with SHA-256 of our own;
 *  - the report (counts, first/last/bad sequence, verdict) disagrees with
 *    the links; in particular a verified log whose records do not chain;
 *  - after the append a verified log no longer verifies, or a reboot
 *    finds another end than the live instance.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "audit_layout.h"
#include "ram_flash.h"
#include "rot/audit.h"
#include "rot/gate.h"
#include "rot_host/crypto_mbedtls.h"
#include "fuzz.h"

#define REC ROT_AUDIT_RECORD_SIZE
#define MAX_SLOTS 64u /* 5 blocks of 8 records at most */

/* ---- the model: the record format as audit.h describes it --------------- */

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) {
    p[i] = (uint8_t)(v >> (8 * i));
  }
}

enum { ERASED, COMMITTED, TORN };

static int all_ff(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0xffu) {
      return 0;
    }
  }
  return 1;
}

static int kind_of(const uint8_t *rec) {
  if (all_ff(rec, REC)) {
    return ERASED;
  }
  if (le32(rec + offsetof(rot_audit_record_t, magic)) == ROT_AUDIT_MAGIC &&
      le32(rec + offsetof(rot_audit_record_t, commit)) ==
          ROT_AUDIT_COMMITTED &&
      le32(rec + offsetof(rot_audit_record_t, seq)) != 0) {
    return COMMITTED;
  }
  return TORN;
}

static uint32_t seq_of(const uint8_t *rec) {
  return le32(rec + offsetof(rot_audit_record_t, seq));
}

static const uint8_t *chain_of(const uint8_t *rec) {
  return rec + offsetof(rot_audit_record_t, chain);
}

/* SHA-256(prev || rec[0, 64)), independently of the crypto port. */
static void link_hash(const uint8_t prev[32], const uint8_t *rec,
                      uint8_t out[32]) {
  uint8_t in[32 + 64];
  memcpy(in, prev, 32);
  memcpy(in + 32, rec, 64);
  CHECK(mbedtls_sha256_ret(in, sizeof(in), out, 0) == 0);
}

/* Is rec a sound link after prev (NULL: rec is the oldest survivor)? */
static int link_ok(const uint8_t *rec, const uint8_t *prev) {
  static const uint8_t zero[32];
  uint8_t want[32];
  if (!all_ff(rec + offsetof(rot_audit_record_t, pad),
              REC - offsetof(rot_audit_record_t, pad))) {
    return 0; /* outside the hash: never written by the log */
  }
  if (prev == NULL) {
    if (seq_of(rec) != 1u) {
      return 1; /* its predecessor went with the ring: it is the anchor */
    }
    link_hash(zero, rec, want);
  } else {
    if (seq_of(prev) == UINT32_MAX || seq_of(rec) != seq_of(prev) + 1u) {
      return 0;
    }
    link_hash(chain_of(prev), rec, want);
  }
  return memcmp(want, chain_of(rec), 32) == 0;
}

/* The record's 128 bytes from its decoded form. */
static void encode(const rot_audit_record_t *r, uint8_t out[REC]) {
  put32(out + 0, r->magic);
  put32(out + 4, r->seq);
  put32(out + 8, (uint32_t)r->timestamp);
  put32(out + 12, (uint32_t)(r->timestamp >> 32));
  put32(out + 16, r->event);
  put32(out + 20, r->status);
  put32(out + 24, r->arg0);
  put32(out + 28, r->arg1);
  memcpy(out + 32, r->reserved, sizeof(r->reserved));
  memcpy(out + 64, r->chain, sizeof(r->chain));
  put32(out + 96, r->commit);
  memcpy(out + 100, r->pad, sizeof(r->pad));
}

/* What a pass over the raw region shows. */
typedef struct view {
  uint32_t slots;
  uint32_t committed, torn;
  uint32_t hi_idx, hi_seq; /* first slot holding the highest sequence */
  uint32_t lo_idx, lo_seq; /* first slot holding the lowest */
  uint32_t order[MAX_SLOTS]; /* committed slots in ring order from lo */
} view_t;

static void view_region(const uint8_t *region, uint32_t slots, view_t *v) {
  memset(v, 0, sizeof(*v));
  v->slots = slots;
  for (uint32_t i = 0; i < slots; i++) {
    const uint8_t *rec = region + (size_t)i * REC;
    int k = kind_of(rec);
    v->torn += k == TORN;
    if (k != COMMITTED) {
      continue;
    }
    uint32_t s = seq_of(rec);
    if (v->committed == 0 || s > v->hi_seq) {
      v->hi_seq = s;
      v->hi_idx = i;
    }
    if (v->committed == 0 || s < v->lo_seq) {
      v->lo_seq = s;
      v->lo_idx = i;
    }
    v->committed++;
  }
  uint32_t n = 0;
  for (uint32_t k = 0; k < slots && v->committed != 0; k++) {
    uint32_t i = (v->lo_idx + k) % slots;
    if (kind_of(region + (size_t)i * REC) == COMMITTED) {
      v->order[n++] = i;
    }
  }
}

/* ---- the flash, the gate, the log ------------------------------------------ */

static rot_flash_layout_t g_layout;
static ram_flash_t g_flash;
static uint64_t g_clock;

static uint64_t fake_now(void) { return ++g_clock; }

typedef struct chip {
  rot_gate_t gate;
  rot_audit_t audit;
} chip_t;

static void power_on(chip_t *c) {
  memset(c, 0, sizeof(*c));
  CHECK(rot_gate_init(&c->gate, &g_flash.port, &g_layout, rot_audit_gate_hook,
                      &c->audit) == ROT_OK);
  CHECK(rot_audit_init(&c->audit, &c->gate, rot_host_crypto(), fake_now) ==
        ROT_OK);
}

static uint8_t *region(void) {
  return ram_flash_region(&g_flash, &g_layout, ROT_RGN_AUDIT);
}

typedef struct visit {
  uint32_t n;
  rot_audit_record_t rec[MAX_SLOTS];
  rot_error_t link[MAX_SLOTS];
} visit_t;

static int collect(void *ctx, const rot_audit_record_t *r, rot_error_t link) {
  visit_t *v = ctx;
  CHECK(v->n < MAX_SLOTS);
  v->rec[v->n] = *r;
  v->link[v->n] = link;
  v->n++;
  return 0;
}

/* After a fresh init: the end it found is the one the region shows. */
static void check_init(const rot_audit_t *a, const view_t *v) {
  if (v->committed == 0) {
    static const uint8_t zero[32];
    CHECK(a->next_seq == 1u && a->next_index == 0u);
    CHECK(memcmp(a->last_chain, zero, 32) == 0);
    return;
  }
  CHECK(a->next_seq == v->hi_seq + 1u); /* UINT32_MAX wraps to 0 */
  CHECK(a->next_index == (v->hi_idx + 1u) % v->slots);
  CHECK(memcmp(a->last_chain, chain_of(region() + (size_t)v->hi_idx * REC),
               32) == 0);
}

/*
 * Verify the log held by a, whose region looks like v, and check every
 * part of the answer record by record. Returns the verdict.
 */
static rot_error_t check_verify(rot_audit_t *a, const view_t *v) {
  static visit_t seen;
  rot_audit_report_t rep;
  seen.n = 0;
  rot_error_t verdict = rot_audit_verify(a, collect, &seen, &rep);
  CHECK(verdict == rep.verdict);
  CHECK(verdict == ROT_OK || verdict == ROT_ERROR_AUDIT_TAMPERED ||
        verdict == ROT_ERROR_AUDIT_BROKEN);
  CHECK(rep.torn == v->torn);

  /* Exactly the committed records, oldest first round the ring, each
   * decoded to the bytes the flash holds. */
  CHECK(seen.n == v->committed);
  uint32_t good = 0, first_bad = 0; /* committed sequences are never 0 */
  const uint8_t *prev = NULL;
  for (uint32_t k = 0; k < seen.n; k++) {
    const uint8_t *raw = region() + (size_t)v->order[k] * REC;
    uint8_t back[REC];
    encode(&seen.rec[k], back);
    CHECK(memcmp(back, raw, REC) == 0);
    rot_error_t link = seen.link[k];
    CHECK(link == ROT_OK || link == ROT_ERROR_AUDIT_TAMPERED ||
          link == ROT_ERROR_AUDIT_BROKEN);
    /* Judged against the record stored before it, verified here. */
    CHECK((link == ROT_OK) == link_ok(raw, prev));
    if (link == ROT_OK) {
      good++;
    } else if (first_bad == 0) {
      first_bad = seq_of(raw);
    }
    prev = raw;
  }
  CHECK(rep.records == good);
  CHECK(rep.first_seq == (seen.n ? seen.rec[0].seq : 0u));
  CHECK(rep.last_seq == (seen.n ? seen.rec[seen.n - 1].seq : 0u));

  /* The tail: what this instance knows it wrote or found must be there. */
  int tail_ok = 1;
  uint32_t tail_bad = 0;
  if (a->next_seq > 1u) {
    uint32_t known_last = a->next_seq - 1u;
    if (seen.n == 0 || rep.last_seq < known_last) {
      tail_ok = 0;
      tail_bad = seen.n == 0 ? known_last : rep.last_seq + 1u;
    } else if (rep.last_seq == known_last &&
               memcmp(seen.rec[seen.n - 1].chain, a->last_chain, 32) != 0) {
      tail_ok = 0;
      tail_bad = known_last;
    }
  }
  if (good == seen.n && tail_ok) {
    CHECK(verdict == ROT_OK && rep.bad_seq == 0);
  } else {
    CHECK(verdict != ROT_OK);
    CHECK(rep.bad_seq == (good != seen.n ? first_bad : tail_bad));
  }

  /* The promise, stated plainly: a verified log chains record by record. */
  if (verdict == ROT_OK) {
    static const uint8_t zero[32];
    for (uint32_t k = 0; k < seen.n; k++) {
      const uint8_t *raw = region() + (size_t)v->order[k] * REC;
      uint8_t want[32];
      if (k == 0 && seq_of(raw) != 1u) {
        continue;
      }
      CHECK(k == 0 || seq_of(raw) == seen.rec[k - 1].seq + 1u);
      link_hash(k == 0 ? zero : seen.rec[k - 1].chain, raw, want);
      CHECK(memcmp(want, chain_of(raw), 32) == 0);
    }
  }
  return verdict;
}

/*
 * Whether the log could have written this layout: it only ever enters an
 * erase block at its start, erasing it, so the slots from the one after
 * the newest record up to the next block start never hold a committed
 * record. A region rewritten otherwise (with a flash programmer) can
 * verify while no append can extend it without breaking the ring order;
 * the append then makes verify report the damage, which is all a
 * tamper-evident log can promise.
 */
static int log_could_write(const view_t *v) {
  if (v->committed == 0) {
    return 1;
  }
  uint32_t per_block = g_layout.erase_size / REC;
  uint32_t i = (v->hi_idx + 1u) % v->slots;
  for (; i % per_block != 0; i = (i + 1u) % v->slots) {
    if (kind_of(region() + (size_t)i * REC) == COMMITTED) {
      return 0;
    }
  }
  /* The block the next append erases holds the oldest records, if any. */
  for (uint32_t j = i; j < i + per_block && j < v->slots; j++) {
    if (kind_of(region() + (size_t)j * REC) == COMMITTED &&
        (v->lo_idx < i || v->lo_idx >= i + per_block)) {
      return 0;
    }
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || rot_host_crypto() == NULL) {
    return 0;
  }
  fuzz_audit_layout(data[0], &g_layout);
  uint32_t len = g_layout.regions[ROT_RGN_AUDIT].size;
  uint32_t slots = len / REC;
  CHECK(slots <= MAX_SLOTS);
  ram_flash_init(&g_flash, &g_layout);
  size_t n = size - 1 < len ? size - 1 : len;
  memcpy(region(), data + 1, n);
  g_clock = 1000;

  static view_t before, after;
  static chip_t chip, rebooted;
  view_region(region(), slots, &before);
  int canonical = log_could_write(&before);
  power_on(&chip);
  check_init(&chip.audit, &before);
  rot_error_t verdict = check_verify(&chip.audit, &before);
  uint32_t next_seq = chip.audit.next_seq; /* 0: a forged UINT32_MAX */

  /* The first thing rotd records; it must land whatever the region held. */
  CHECK(rot_audit_append(&chip.audit, ROT_AUDIT_DAEMON_START, ROT_OK, 0, 0) ==
        ROT_OK);
  view_region(region(), slots, &after);
  rot_error_t verdict2 = check_verify(&chip.audit, &after);
  if (next_seq != 0) {
    CHECK(chip.audit.next_seq == next_seq + 1u);
    /* A sound log stays sound, one record longer, when the log itself
     * could have written its layout. */
    CHECK(verdict != ROT_OK || !canonical || verdict2 == ROT_OK);
    /* A reboot finds the end the live instance holds (not so after a
     * forged UINT32_MAX: the append then starts a fresh chain at 1). */
    power_on(&rebooted);
    CHECK(rebooted.audit.next_seq == chip.audit.next_seq);
    CHECK(rebooted.audit.next_index == chip.audit.next_index);
    CHECK(memcmp(rebooted.audit.last_chain, chip.audit.last_chain, 32) == 0);
  }
  ram_flash_free(&g_flash);
  return 0;
}
