/*
 * The TCG crypto-agile event log: writer, strict parser, replayer, digest
 * checks, the PCR plan's event data encoders and the log renderer.
 * Hostile logs are made by writing a valid one and changing bytes at the
 * offsets the format pins.
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

#include "bootchain/eventlog.h"
#include "bootchain/logprint.h"
#include "rot/policy.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"

/* Layout of a two-bank (SHA-256, SHA-384) log, as the writer makes it. */
#define HDR_LEN (32u + 28u + 2u * 4u + 1u) /* 69 */
#define REC_FIXED (12u + 2u + 32u + 2u + 48u + 4u) /* 100: record w/o data */
#define R_PCR 0u
#define R_TYPE 4u
#define R_COUNT 8u
#define R_ALG0 12u
#define R_DIG0 14u
#define R_ALG1 46u
#define R_DIG1 48u
#define R_SIZE 96u
#define R_DATA 100u

static const uint16_t kTwo[] = {BC_ALG_SHA256, BC_ALG_SHA384};
static const uint16_t kFour[] = {BC_ALG_SHA1, BC_ALG_SHA256, BC_ALG_SHA384,
                                 BC_ALG_SHA512};

static const rot_crypto_t *crypto(void) {
  const rot_crypto_t *c = rot_host_crypto();
  assert_non_null(c);
  return c;
}

/*
 * A small valid log: S-CRTM version, a firmware blob over 300 bytes,
 * a 4-byte event on PCR 23, separators on 0 and 7. Returns its length.
 */
static size_t small_log(uint8_t *buf, size_t cap) {
  const rot_crypto_t *c = crypto();
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, cap, kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_s_crtm_version(&w, c, "1.2.3", NULL), ROT_OK);
  uint8_t fw[300];
  for (size_t i = 0; i < sizeof(fw); i++) {
    fw[i] = (uint8_t)i;
  }
  uint8_t blob[BC_EV_BLOB_LEN];
  bc_ev_blob_encode(blob, 0x80000000u, sizeof(fw));
  assert_int_equal(bc_log_measure(&w, c, 0, BC_EV_EFI_PLATFORM_FIRMWARE_BLOB,
                                  fw, sizeof(fw), blob, sizeof(blob), NULL),
                   ROT_OK);
  assert_int_equal(bc_log_append_data(&w, c, 23, BC_EV_EFI_ACTION, "abcd", 4,
                                      NULL),
                   ROT_OK);
  assert_int_equal(bc_log_separator(&w, c, 0, NULL), ROT_OK);
  assert_int_equal(bc_log_separator(&w, c, 7, NULL), ROT_OK);
  return w.len;
}

/* A log with one event of dlen data bytes on PCR 4 (record at HDR_LEN). */
static size_t one_event_log(uint8_t *buf, size_t cap, size_t dlen) {
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, cap, kTwo, 2), ROT_OK);
  uint8_t data[64] = {0};
  assert_true(dlen <= sizeof(data));
  assert_int_equal(bc_log_measure(&w, crypto(), 4, BC_EV_IPL, "img", 3,
                                  data, dlen, NULL),
                   ROT_OK);
  assert_int_equal(w.len, HDR_LEN + REC_FIXED + dlen);
  return w.len;
}

typedef struct collect {
  uint32_t n;
  bc_log_event_t ev[64];
} collect_t;

static rot_error_t collect_visit(void *ctx, const bc_log_header_t *h,
                                 const bc_log_event_t *ev) {
  (void)h;
  collect_t *col = ctx;
  if (col->n < 64) {
    col->ev[col->n] = *ev;
  }
  col->n++;
  return ROT_OK;
}

static rot_error_t parse(const uint8_t *buf, size_t len) {
  bc_log_header_t h;
  return bc_log_parse(buf, len, &h, NULL, NULL);
}

/* ---- bc_log_init -------------------------------------------------------- */

static void eventlog_test_init_null(void **state) {
  (void)state;
  uint8_t buf[256];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(NULL, buf, sizeof(buf), kTwo, 2),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_init(&w, NULL, sizeof(buf), kTwo, 2),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), NULL, 2),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void eventlog_test_init_bad_algs(void **state) {
  (void)state;
  uint8_t buf[256];
  bc_log_writer_t w;
  const uint16_t unknown[] = {BC_ALG_SHA256, 0x0012};
  const uint16_t dup[] = {BC_ALG_SHA256, BC_ALG_SHA256};
  const uint16_t five[] = {BC_ALG_SHA1, BC_ALG_SHA256, BC_ALG_SHA384,
                           BC_ALG_SHA512, BC_ALG_SHA1};
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), unknown, 2),
                   ROT_ERROR_UNSUPPORTED);
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), dup, 2),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), five, 5),
                   ROT_ERROR_UNSUPPORTED);
}

static void eventlog_test_init_buffer_too_small(void **state) {
  (void)state;
  uint8_t buf[HDR_LEN];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, HDR_LEN - 1, kTwo, 2),
                   ROT_ERROR_EVENTLOG_FULL);
  assert_int_equal(bc_log_init(&w, buf, HDR_LEN, kTwo, 2), ROT_OK);
  assert_int_equal(w.len, HDR_LEN);
}

static void eventlog_test_init_header_bytes(void **state) {
  (void)state;
  uint8_t buf[256];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(w.len, HDR_LEN);
  assert_int_equal(rot_ld32(buf), 0);                /* PCR 0 */
  assert_int_equal(rot_ld32(buf + 4), BC_EV_NO_ACTION);
  assert_true(rot_is_zero(buf + 8, 20));
  assert_int_equal(rot_ld32(buf + 28), HDR_LEN - 32);
  assert_memory_equal(buf + 32, "Spec ID Event03\0", 16);
  assert_int_equal(rot_ld32(buf + 48), 0); /* platformClass */
  assert_int_equal(buf[52], 0);            /* specVersionMinor */
  assert_int_equal(buf[53], 2);            /* specVersionMajor */
  assert_int_equal(buf[54], 2);            /* specErrata */
  assert_int_equal(buf[55], 2);            /* uintnSize */
  assert_int_equal(rot_ld32(buf + 56), 2);
  assert_int_equal(rot_ld16(buf + 60), BC_ALG_SHA256);
  assert_int_equal(rot_ld16(buf + 62), 32);
  assert_int_equal(rot_ld16(buf + 64), BC_ALG_SHA384);
  assert_int_equal(rot_ld16(buf + 66), 48);
  assert_int_equal(buf[68], 0); /* vendorInfoSize */
}

/* ---- bc_log_append_digests ---------------------------------------------- */

static void eventlog_test_append_digests_bytes(void **state) {
  (void)state;
  uint8_t buf[512];
  bc_log_writer_t w;
  bc_log_digests_t d;
  memset(&d, 0, sizeof(d));
  memset(d.value[0], 0x11, 32);
  memset(d.value[1], 0x22, 48);
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_append_digests(&w, 5, BC_EV_EVENT_TAG, &d, "xyz", 3),
                   ROT_OK);
  const uint8_t *r = buf + HDR_LEN;
  assert_int_equal(w.len, HDR_LEN + REC_FIXED + 3);
  assert_int_equal(rot_ld32(r + R_PCR), 5);
  assert_int_equal(rot_ld32(r + R_TYPE), BC_EV_EVENT_TAG);
  assert_int_equal(rot_ld32(r + R_COUNT), 2);
  assert_int_equal(rot_ld16(r + R_ALG0), BC_ALG_SHA256);
  assert_memory_equal(r + R_DIG0, d.value[0], 32);
  assert_int_equal(rot_ld16(r + R_ALG1), BC_ALG_SHA384);
  assert_memory_equal(r + R_DIG1, d.value[1], 48);
  assert_int_equal(rot_ld32(r + R_SIZE), 3);
  assert_memory_equal(r + R_DATA, "xyz", 3);
  assert_int_equal(w.event_count, 1);
}

static void eventlog_test_append_digests_null(void **state) {
  (void)state;
  uint8_t buf[512];
  bc_log_writer_t w;
  bc_log_digests_t d = {{{0}}};
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_append_digests(NULL, 0, 1, &d, NULL, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, NULL, NULL, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d, NULL, 4),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d, NULL, 0), ROT_OK);
}

static void eventlog_test_append_digests_bad_pcr(void **state) {
  (void)state;
  uint8_t buf[512];
  bc_log_writer_t w;
  bc_log_digests_t d = {{{0}}};
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  const uint32_t bad[] = {24, 32, 0xffffffffu};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(bad); i++) {
    assert_int_equal(bc_log_append_digests(&w, bad[i], BC_EV_IPL, &d, NULL, 0),
                     ROT_ERROR_INVALID_ARGUMENT);
  }
  assert_int_equal(w.len, HDR_LEN);
  assert_int_equal(bc_log_append_digests(&w, 23, BC_EV_IPL, &d, NULL, 0), ROT_OK);
}

static void eventlog_test_append_digests_no_action(void **state) {
  (void)state;
  uint8_t buf[512];
  bc_log_writer_t w;
  bc_log_digests_t d = {{{0}}};
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_NO_ACTION, &d, NULL, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(w.len, HDR_LEN);
}

static void eventlog_test_append_digests_full(void **state) {
  (void)state;
  uint8_t buf[HDR_LEN + REC_FIXED + 10];
  bc_log_writer_t w;
  bc_log_digests_t d = {{{0}}};
  memset(buf, 0xee, sizeof(buf));
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  /* One byte too many: nothing is written, the log stays valid. */
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d, "01234567890", 11),
                   ROT_ERROR_EVENTLOG_FULL);
  assert_int_equal(w.len, HDR_LEN);
  assert_int_equal(w.event_count, 0);
  assert_int_equal(buf[HDR_LEN], 0xee);
  assert_int_equal(parse(buf, w.len), ROT_OK);
  /* Exactly full is fine; after that even an empty event does not fit. */
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d, "0123456789", 10),
                   ROT_OK);
  assert_int_equal(w.len, sizeof(buf));
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d, NULL, 0),
                   ROT_ERROR_EVENTLOG_FULL);
  assert_int_equal(parse(buf, w.len), ROT_OK);
}

static void eventlog_test_append_digests_huge_data(void **state) {
  (void)state;
  uint8_t buf[512];
  bc_log_writer_t w;
  bc_log_digests_t d = {{{0}}};
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  /* A length that would wrap the record size must not get through. */
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d, buf, SIZE_MAX),
                   ROT_ERROR_EVENTLOG_FULL);
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d, buf, SIZE_MAX - 50),
                   ROT_ERROR_EVENTLOG_FULL);
  assert_int_equal(w.len, HDR_LEN);
}

static void eventlog_test_append_digests_event_cap(void **state) {
  (void)state;
  size_t cap = HDR_LEN + (size_t)(BC_LOG_MAX_EVENTS + 1) * REC_FIXED;
  uint8_t *buf = malloc(cap);
  assert_non_null(buf);
  bc_log_writer_t w;
  bc_log_digests_t d = {{{0}}};
  assert_int_equal(bc_log_init(&w, buf, cap, kTwo, 2), ROT_OK);
  for (uint32_t i = 0; i < BC_LOG_MAX_EVENTS; i++) {
    assert_int_equal(bc_log_append_digests(&w, i % 24, BC_EV_IPL, &d, NULL, 0),
                     ROT_OK);
  }
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d, NULL, 0),
                   ROT_ERROR_EVENTLOG_FULL);
  bc_log_header_t h;
  assert_int_equal(bc_log_parse(buf, w.len, &h, NULL, NULL), ROT_OK);
  assert_int_equal(h.event_count, BC_LOG_MAX_EVENTS);
  /* The parser holds the same line: one more record is refused. */
  memcpy(buf + w.len, buf + HDR_LEN, REC_FIXED);
  assert_int_equal(parse(buf, w.len + REC_FIXED),
                   ROT_ERROR_EVENTLOG_TOO_LARGE);
  free(buf);
}

/* ---- bc_log_measure and the data-bound helpers --------------------------- */

static void eventlog_test_measure_digests(void **state) {
  (void)state;
  const rot_crypto_t *c = crypto();
  uint8_t buf[512];
  bc_log_writer_t w;
  bc_log_digests_t d;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_measure(&w, c, 4, BC_EV_IPL, "measured", 8,
                                  "desc", 4, &d),
                   ROT_OK);
  uint8_t h256[32], h384[48];
  assert_int_equal(rot_hash(c, ROT_HASH_SHA256, "measured", 8, h256, 32),
                   ROT_OK);
  assert_int_equal(rot_hash(c, ROT_HASH_SHA384, "measured", 8, h384, 48),
                   ROT_OK);
  assert_memory_equal(d.value[0], h256, 32);
  assert_memory_equal(d.value[1], h384, 48);
  assert_memory_equal(buf + HDR_LEN + R_DIG0, h256, 32);
  assert_memory_equal(buf + HDR_LEN + R_DIG1, h384, 48);
  assert_memory_equal(buf + HDR_LEN + R_DATA, "desc", 4);
}

static void eventlog_test_measure_null(void **state) {
  (void)state;
  uint8_t buf[512];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_measure(&w, NULL, 0, BC_EV_IPL, "m", 1, NULL, 0, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_measure(&w, crypto(), 0, BC_EV_IPL, NULL, 1, NULL, 0, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(w.len, HDR_LEN);
}

static void eventlog_test_measure_unsupported_bank(void **state) {
  (void)state;
  uint8_t buf[1024];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kFour, 4), ROT_OK);
  size_t before = w.len;
  /* The crypto port has no SHA-1 / SHA-512: refuse rather than log zeros. */
  assert_int_equal(bc_log_measure(&w, crypto(), 0, BC_EV_IPL, "m", 1, NULL, 0, NULL),
                   ROT_ERROR_UNSUPPORTED);
  assert_int_equal(w.len, before);
  assert_int_equal(w.event_count, 0);
}

static void eventlog_test_separator_data(void **state) {
  (void)state;
  const rot_crypto_t *c = crypto();
  uint8_t buf[512];
  bc_log_writer_t w;
  bc_log_digests_t d;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_separator(&w, c, 3, &d), ROT_OK);
  const uint8_t *r = buf + HDR_LEN;
  assert_int_equal(rot_ld32(r + R_PCR), 3);
  assert_int_equal(rot_ld32(r + R_TYPE), BC_EV_SEPARATOR);
  assert_int_equal(rot_ld32(r + R_SIZE), 4);
  assert_true(rot_is_zero(r + R_DATA, 4));
  uint8_t want[32];
  const uint8_t zero[4] = {0};
  assert_int_equal(rot_hash(c, ROT_HASH_SHA256, zero, 4, want, 32), ROT_OK);
  assert_memory_equal(d.value[0], want, 32);
  /* The well-known SHA-256 of four zero bytes. */
  assert_int_equal(d.value[0][0], 0xdf);
  assert_int_equal(d.value[0][31], 0x19);
  assert_int_equal(bc_log_separator(&w, c, 24, &d), ROT_ERROR_INVALID_ARGUMENT);
}

static void eventlog_test_s_crtm_version_ucs2(void **state) {
  (void)state;
  const rot_crypto_t *c = crypto();
  uint8_t buf[512];
  bc_log_writer_t w;
  bc_log_digests_t d;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_s_crtm_version(&w, c, "1.0", &d), ROT_OK);
  const uint8_t *r = buf + HDR_LEN;
  const uint8_t want[] = {'1', 0, '.', 0, '0', 0, 0, 0};
  assert_int_equal(rot_ld32(r + R_PCR), 0);
  assert_int_equal(rot_ld32(r + R_TYPE), BC_EV_S_CRTM_VERSION);
  assert_int_equal(rot_ld32(r + R_SIZE), sizeof(want));
  assert_memory_equal(r + R_DATA, want, sizeof(want));
  uint8_t h[48];
  assert_int_equal(rot_hash(c, ROT_HASH_SHA384, want, sizeof(want), h, 48),
                   ROT_OK);
  assert_memory_equal(d.value[1], h, 48);
}

static void eventlog_test_s_crtm_version_bad(void **state) {
  (void)state;
  const rot_crypto_t *c = crypto();
  uint8_t buf[512];
  bc_log_writer_t w;
  char long_ver[80];
  memset(long_ver, 'a', sizeof(long_ver) - 1);
  long_ver[sizeof(long_ver) - 1] = '\0';
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_s_crtm_version(&w, c, NULL, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_s_crtm_version(&w, c, "", NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_s_crtm_version(&w, c, "1.0\n", NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_s_crtm_version(&w, c, "v\xc3\xa9", NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_s_crtm_version(&w, c, long_ver, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(w.len, HDR_LEN);
}

/* ---- bc_log_parse: valid logs ------------------------------------------- */

static void eventlog_test_parse_round_trip(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  collect_t col = {0};
  bc_log_header_t h;
  assert_int_equal(bc_log_parse(buf, len, &h, collect_visit, &col), ROT_OK);
  assert_int_equal(h.bank_count, 2);
  assert_int_equal(h.banks[0].alg, BC_ALG_SHA256);
  assert_int_equal(h.banks[0].size, 32);
  assert_int_equal(h.banks[1].alg, BC_ALG_SHA384);
  assert_int_equal(h.banks[1].size, 48);
  assert_int_equal(h.spec_version_major, 2);
  assert_int_equal(h.spec_version_minor, 0);
  assert_int_equal(h.spec_errata, 2);
  assert_int_equal(h.uintn_size, 2);
  assert_int_equal(h.vendor_info_size, 0);
  assert_int_equal(h.header_len, HDR_LEN);
  assert_int_equal(h.event_count, 5);
  assert_int_equal(col.n, 5);

  const uint32_t pcrs[] = {0, 0, 23, 0, 7};
  const uint32_t types[] = {BC_EV_S_CRTM_VERSION,
                            BC_EV_EFI_PLATFORM_FIRMWARE_BLOB, BC_EV_EFI_ACTION,
                            BC_EV_SEPARATOR, BC_EV_SEPARATOR};
  size_t off = HDR_LEN;
  for (uint32_t i = 0; i < 5; i++) {
    assert_int_equal(col.ev[i].index, i);
    assert_int_equal(col.ev[i].pcr, pcrs[i]);
    assert_int_equal(col.ev[i].type, types[i]);
    assert_int_equal(col.ev[i].offset, off);
    assert_ptr_equal(col.ev[i].digests[0], buf + off + R_DIG0);
    assert_ptr_equal(col.ev[i].digests[1], buf + off + R_DIG1);
    assert_ptr_equal(col.ev[i].data, buf + off + R_DATA);
    off += col.ev[i].record_len;
  }
  assert_int_equal(off, len);
  assert_int_equal(col.ev[1].data_len, BC_EV_BLOB_LEN);
  assert_int_equal(rot_ld64(col.ev[1].data), 0x80000000u);
  assert_int_equal(rot_ld64(col.ev[1].data + 8), 300);
  assert_memory_equal(col.ev[2].data, "abcd", 4);
}

static void eventlog_test_parse_header_only(void **state) {
  (void)state;
  uint8_t buf[256];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  bc_log_header_t h;
  collect_t col = {0};
  assert_int_equal(bc_log_parse(buf, w.len, &h, collect_visit, &col), ROT_OK);
  assert_int_equal(h.event_count, 0);
  assert_int_equal(col.n, 0);
}

static void eventlog_test_parse_null_outputs(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  assert_int_equal(bc_log_parse(buf, len, NULL, NULL, NULL), ROT_OK);
}

static void eventlog_test_parse_four_banks(void **state) {
  (void)state;
  uint8_t buf[1024];
  bc_log_writer_t w;
  bc_log_digests_t d;
  for (uint32_t b = 0; b < 4; b++) {
    memset(d.value[b], (int)(0x10 * (b + 1)), BC_LOG_MAX_DIGEST);
  }
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kFour, 4), ROT_OK);
  assert_int_equal(bc_log_append_digests(&w, 2, BC_EV_IPL, &d, "x", 1),
                   ROT_OK);
  collect_t col = {0};
  bc_log_header_t h;
  assert_int_equal(bc_log_parse(buf, w.len, &h, collect_visit, &col), ROT_OK);
  assert_int_equal(h.bank_count, 4);
  const uint16_t sizes[] = {20, 32, 48, 64};
  for (uint32_t b = 0; b < 4; b++) {
    assert_int_equal(h.banks[b].alg, kFour[b]);
    assert_int_equal(h.banks[b].size, sizes[b]);
    assert_memory_equal(col.ev[0].digests[b], d.value[b], sizes[b]);
  }
  assert_int_equal(w.len, HDR_LEN + 8 + 12 + 4 * 2 + 20 + 32 + 48 + 64 + 4 + 1);
}

static void eventlog_test_parse_digest_order_swapped(void **state) {
  (void)state;
  uint8_t buf[512];
  size_t len = one_event_log(buf, sizeof(buf), 0);
  uint8_t *r = buf + HDR_LEN;
  uint8_t d256[32], d384[48];
  memcpy(d256, r + R_DIG0, 32);
  memcpy(d384, r + R_DIG1, 48);
  /* SHA-384 first, then SHA-256: still one digest per bank. */
  rot_st16(r + 12, BC_ALG_SHA384);
  memcpy(r + 14, d384, 48);
  rot_st16(r + 62, BC_ALG_SHA256);
  memcpy(r + 64, d256, 32);
  collect_t col = {0};
  assert_int_equal(bc_log_parse(buf, len, NULL, collect_visit, &col), ROT_OK);
  assert_memory_equal(col.ev[0].digests[0], d256, 32);
  assert_memory_equal(col.ev[0].digests[1], d384, 48);
}

static void eventlog_test_parse_over_64k(void **state) {
  (void)state;
  const size_t cap = 200u * 1024u;
  uint8_t *buf = malloc(cap);
  assert_non_null(buf);
  bc_log_writer_t w;
  bc_log_digests_t d = {{{0}}};
  uint8_t data[1000];
  memset(data, 0x5a, sizeof(data));
  assert_int_equal(bc_log_init(&w, buf, cap, kTwo, 2), ROT_OK);
  uint32_t n = 0;
  while (w.len < 150u * 1024u) {
    d.value[0][0] = (uint8_t)n;
    assert_int_equal(bc_log_append_digests(&w, n % 8, BC_EV_IPL, &d,
                                           data, sizeof(data)),
                     ROT_OK);
    n++;
  }
  collect_t col = {0};
  bc_log_header_t h;
  assert_int_equal(bc_log_parse(buf, w.len, &h, collect_visit, &col), ROT_OK);
  assert_int_equal(h.event_count, n);
  assert_int_equal(col.n, n);
  free(buf);
}

static void eventlog_test_parse_at_size_cap(void **state) {
  (void)state;
  /* One event whose data fills the log to exactly BC_LOG_MAX_SIZE. */
  uint8_t *buf = calloc(1, BC_LOG_MAX_SIZE + 1u);
  assert_non_null(buf);
  bc_log_writer_t w;
  bc_log_digests_t d = {{{0}}};
  assert_int_equal(bc_log_init(&w, buf, BC_LOG_MAX_SIZE + 1u, kTwo, 2),
                   ROT_OK);
  assert_int_equal(w.cap, BC_LOG_MAX_SIZE);
  size_t dlen = BC_LOG_MAX_SIZE - HDR_LEN - REC_FIXED;
  /* The data source is the (zeroed) tail of the buffer the record lands
   * in: same bytes, so the overlap is harmless and saves 16 MiB. */
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_IPL, &d,
                                         buf + BC_LOG_MAX_SIZE - dlen, dlen),
                   ROT_OK);
  assert_int_equal(w.len, BC_LOG_MAX_SIZE);
  bc_log_header_t h;
  assert_int_equal(bc_log_parse(buf, w.len, &h, NULL, NULL), ROT_OK);
  assert_int_equal(h.event_count, 1);
  /* One byte more is refused outright, not parsed in part. */
  assert_int_equal(parse(buf, BC_LOG_MAX_SIZE + 1u),
                   ROT_ERROR_EVENTLOG_TOO_LARGE);
  free(buf);
}

static rot_error_t stop_visit(void *ctx, const bc_log_header_t *h,
                              const bc_log_event_t *ev) {
  (void)h;
  uint32_t *seen = ctx;
  (*seen)++;
  return ev->index == 1 ? ROT_ERROR_INTERNAL : ROT_OK;
}

static void eventlog_test_parse_visitor_stops(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  uint32_t seen = 0;
  assert_int_equal(bc_log_parse(buf, len, NULL, stop_visit, &seen),
                   ROT_ERROR_INTERNAL);
  assert_int_equal(seen, 2);
}

/* ---- bc_log_parse: hostile logs ----------------------------------------- */

static void eventlog_test_parse_short_logs(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  assert_true(len > 8);
  for (size_t n = 0; n <= 7; n++) {
    assert_int_equal(parse(buf, n), ROT_ERROR_EVENTLOG_BAD_HEADER);
  }
  assert_int_equal(parse(NULL, 0), ROT_ERROR_EVENTLOG_BAD_HEADER);
  assert_int_equal(parse(NULL, 5), ROT_ERROR_INVALID_ARGUMENT);
}

static void eventlog_test_parse_every_prefix(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  /* Where records end: a prefix cut there is a shorter valid log. */
  collect_t col = {0};
  assert_int_equal(bc_log_parse(buf, len, NULL, collect_visit, &col), ROT_OK);
  for (size_t n = 0; n < len; n++) {
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    bc_log_header_t h;
    rot_error_t err = bc_log_parse(copy, n, &h, NULL, NULL);
    uint32_t whole = 0;
    int boundary = n == HDR_LEN;
    for (uint32_t i = 0; i < col.n; i++) {
      size_t end = col.ev[i].offset + col.ev[i].record_len;
      if (end <= n) {
        whole++;
      }
      if (end == n) {
        boundary = 1;
      }
    }
    if (n < HDR_LEN) {
      assert_int_equal(err, ROT_ERROR_EVENTLOG_BAD_HEADER);
    } else if (boundary) {
      assert_int_equal(err, ROT_OK);
      assert_int_equal(h.event_count, whole);
    } else {
      assert_int_equal(err, ROT_ERROR_EVENTLOG_TRUNCATED);
    }
    free(copy);
  }
}

static void eventlog_test_parse_trailing_bytes(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  memset(buf + len, 0, 3);
  assert_int_equal(parse(buf, len + 3), ROT_ERROR_EVENTLOG_TRUNCATED);
}

static void eventlog_test_parse_bad_pcr(void **state) {
  (void)state;
  const uint32_t bad[] = {24, 32, 0xffffffffu};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(bad); i++) {
    uint8_t buf[512];
    size_t len = one_event_log(buf, sizeof(buf), 4);
    rot_st32(buf + HDR_LEN + R_PCR, bad[i]);
    assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_PCR);
  }
  uint8_t buf[512];
  size_t len = one_event_log(buf, sizeof(buf), 4);
  rot_st32(buf + HDR_LEN + R_PCR, 23);
  assert_int_equal(parse(buf, len), ROT_OK);
}

static void eventlog_test_parse_no_action_after_header(void **state) {
  (void)state;
  uint8_t buf[512];
  size_t len = one_event_log(buf, sizeof(buf), 4);
  rot_st32(buf + HDR_LEN + R_TYPE, BC_EV_NO_ACTION);
  assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_NO_ACTION);
}

static void eventlog_test_parse_digest_count_mismatch(void **state) {
  (void)state;
  const uint32_t bad[] = {0, 1, 3, 4, 5, 0xffffffffu};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(bad); i++) {
    uint8_t buf[512];
    size_t len = one_event_log(buf, sizeof(buf), 4);
    rot_st32(buf + HDR_LEN + R_COUNT, bad[i]);
    assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_DIGESTS);
  }
}

static void eventlog_test_parse_unknown_alg(void **state) {
  (void)state;
  /* Not in the header: unknown to TPM, or a real one the header lacks. */
  const uint16_t bad[] = {0x0000, 0x0012, 0xffff, BC_ALG_SHA1, BC_ALG_SHA512};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(bad); i++) {
    uint8_t buf[512];
    size_t len = one_event_log(buf, sizeof(buf), 4);
    rot_st16(buf + HDR_LEN + R_ALG1, bad[i]);
    assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_DIGESTS);
  }
}

static void eventlog_test_parse_duplicate_alg(void **state) {
  (void)state;
  uint8_t buf[512];
  size_t len = one_event_log(buf, sizeof(buf), 4);
  rot_st16(buf + HDR_LEN + R_ALG1, BC_ALG_SHA256);
  assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_DIGESTS);
}

static void eventlog_test_parse_digest_size_mismatch(void **state) {
  (void)state;
  /* Record digest sizes come from the header, so a wrong size shows as a
   * record that no longer lines up: a SHA-1-sized SHA-256 slot. */
  uint8_t buf[512];
  size_t len = one_event_log(buf, sizeof(buf), 4);
  uint8_t cut[512];
  size_t n = 0;
  memcpy(cut, buf, HDR_LEN + R_DIG0 + 20);
  n = HDR_LEN + R_DIG0 + 20;
  memcpy(cut + n, buf + HDR_LEN + R_ALG1, len - (HDR_LEN + R_ALG1));
  n += len - (HDR_LEN + R_ALG1);
  assert_int_not_equal(parse(cut, n), ROT_OK);
  /* And a header that claims the wrong size for a known algorithm. */
  rot_st16(buf + 62, 20);
  assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_HEADER);
}

static void eventlog_test_parse_huge_event_size(void **state) {
  (void)state;
  const uint32_t bad[] = {5, 0x7fffffffu, 0xfffffffcu, 0xffffffffu};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(bad); i++) {
    uint8_t buf[512];
    size_t len = one_event_log(buf, sizeof(buf), 4);
    rot_st32(buf + HDR_LEN + R_SIZE, bad[i]);
    assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_TRUNCATED);
  }
}

static void eventlog_test_parse_too_large(void **state) {
  (void)state;
  uint8_t buf[512];
  one_event_log(buf, sizeof(buf), 4);
  /* Refused by length alone, before a byte past the header is read. */
  assert_int_equal(parse(buf, (size_t)BC_LOG_MAX_SIZE + 1u),
                   ROT_ERROR_EVENTLOG_TOO_LARGE);
  assert_int_equal(parse(buf, SIZE_MAX), ROT_ERROR_EVENTLOG_TOO_LARGE);
}

/* Header corruptions: each gives BAD_HEADER. */
static void eventlog_test_parse_bad_header(void **state) {
  (void)state;
  struct {
    size_t off;
    uint32_t val;
    int width;
  } cases[] = {
      {0, 1, 4},                        /* PCRIndex */
      {4, BC_EV_SEPARATOR, 4},          /* EventType */
      {8, 1, 1},                        /* digest not zero */
      {27, 1, 1},                       /* last digest byte */
      {28, HDR_LEN - 32 + 1, 4},        /* EventSize too long for the log */
      {28, HDR_LEN - 32 - 1, 4},        /* EventSize too short */
      {28, 0xffffffffu, 4},             /* EventSize huge */
      {28, 4, 4},                       /* EventSize smaller than struct */
      {32, 's', 1},                     /* signature */
      {47, '3', 1},                     /* signature NUL */
      {52, 1, 1},                       /* specVersionMinor */
      {53, 1, 1},                       /* specVersionMajor */
      {55, 0, 1},                       /* uintnSize 0 */
      {55, 3, 1},                       /* uintnSize 3 */
      {56, 0, 4},                       /* no algorithms */
      {56, 3, 4},                       /* more algorithms than the struct */
      {56, 5, 4},                       /* above the bank limit */
      {56, 0xffffffffu, 4},             /* huge algorithm count */
      {60, 0x0012, 2},                  /* unknown algorithm */
      {64, BC_ALG_SHA256, 2},           /* algorithm twice */
      {62, 20, 2},                      /* wrong size for SHA-256 */
      {66, 64, 2},                      /* wrong size for SHA-384 */
      {68, 1, 1},                       /* vendorInfoSize past the struct */
  };
  for (size_t i = 0; i < ROT_ARRAY_SIZE(cases); i++) {
    uint8_t buf[512];
    size_t len = one_event_log(buf, sizeof(buf), 4);
    if (cases[i].width == 4) {
      rot_st32(buf + cases[i].off, cases[i].val);
    } else if (cases[i].width == 2) {
      rot_st16(buf + cases[i].off, (uint16_t)cases[i].val);
    } else {
      buf[cases[i].off] = (uint8_t)cases[i].val;
    }
    rot_error_t err = parse(buf, len);
    if (err != ROT_ERROR_EVENTLOG_BAD_HEADER) {
      fail_msg("case %zu (offset %zu): got %s", i, cases[i].off,
               rot_error_name(err));
    }
  }
}

static void eventlog_test_parse_vendor_info(void **state) {
  (void)state;
  /* A header with 3 bytes of vendor info, made by hand. */
  uint8_t buf[512];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  rot_st32(buf + 28, HDR_LEN - 32 + 3);
  buf[68] = 3;
  memcpy(buf + 69, "abc", 3);
  bc_log_header_t h;
  assert_int_equal(bc_log_parse(buf, HDR_LEN + 3, &h, NULL, NULL), ROT_OK);
  assert_int_equal(h.vendor_info_size, 3);
  assert_memory_equal(h.vendor_info, "abc", 3);
  assert_int_equal(h.header_len, HDR_LEN + 3);
  /* vendorInfoSize and EventSize must agree exactly. */
  buf[68] = 2;
  assert_int_equal(parse(buf, HDR_LEN + 3), ROT_ERROR_EVENTLOG_BAD_HEADER);
}

/* ---- bc_log_replay ------------------------------------------------------ */

/* PCR = H(PCR || digest), by hand. */
static void extend(const rot_crypto_t *c, rot_hash_alg_t alg, uint8_t *pcr,
                   const uint8_t *digest) {
  size_t n = rot_hash_len(alg);
  uint8_t cat[2 * 48];
  memcpy(cat, pcr, n);
  memcpy(cat + n, digest, n);
  assert_int_equal(rot_hash(c, alg, cat, 2 * n, pcr, n), ROT_OK);
}

static void eventlog_test_replay_matches_manual_extend(void **state) {
  (void)state;
  const rot_crypto_t *c = crypto();
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  collect_t col = {0};
  assert_int_equal(bc_log_parse(buf, len, NULL, collect_visit, &col), ROT_OK);
  uint8_t p256[24][32], p384[24][48];
  memset(p256, 0, sizeof(p256));
  memset(p384, 0, sizeof(p384));
  for (uint32_t i = 0; i < col.n; i++) {
    extend(c, ROT_HASH_SHA256, p256[col.ev[i].pcr], col.ev[i].digests[0]);
    extend(c, ROT_HASH_SHA384, p384[col.ev[i].pcr], col.ev[i].digests[1]);
  }
  static bc_log_replay_t r;
  assert_int_equal(bc_log_replay(buf, len, c, &r), ROT_OK);
  assert_int_equal(r.header.event_count, 5);
  assert_int_equal(r.extended_mask, (1u << 0) | (1u << 7) | (1u << 23));
  assert_int_equal(r.banks[0].replayed, HARDENED_TRUE);
  assert_int_equal(r.banks[1].replayed, HARDENED_TRUE);
  assert_int_equal(r.banks[0].alg, BC_ALG_SHA256);
  assert_int_equal(r.banks[1].alg, BC_ALG_SHA384);
  for (uint32_t p = 0; p < 24; p++) {
    assert_memory_equal(r.banks[0].pcr[p], p256[p], 32);
    assert_memory_equal(r.banks[1].pcr[p], p384[p], 48);
  }
  /* PCR 7 saw one separator: H(0^32 || H(00000000)). */
  uint8_t sep[32], want[32] = {0};
  const uint8_t zero4[4] = {0};
  assert_int_equal(rot_hash(c, ROT_HASH_SHA256, zero4, 4, sep, 32), ROT_OK);
  extend(c, ROT_HASH_SHA256, want, sep);
  assert_memory_equal(r.banks[0].pcr[7], want, 32);
  assert_true(rot_is_zero(r.banks[0].pcr[1], 32));
}

static void eventlog_test_replay_four_banks(void **state) {
  (void)state;
  uint8_t buf[1024];
  bc_log_writer_t w;
  bc_log_digests_t d;
  memset(&d, 0x42, sizeof(d));
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kFour, 4), ROT_OK);
  assert_int_equal(bc_log_append_digests(&w, 9, BC_EV_IPL, &d, NULL, 0),
                   ROT_OK);
  static bc_log_replay_t r;
  assert_int_equal(bc_log_replay(buf, w.len, crypto(), &r), ROT_OK);
  /* No SHA-1 or SHA-512 in the crypto port: flagged, never compared. */
  assert_int_equal(r.banks[0].replayed, HARDENED_FALSE);
  assert_int_equal(r.banks[1].replayed, HARDENED_TRUE);
  assert_int_equal(r.banks[2].replayed, HARDENED_TRUE);
  assert_int_equal(r.banks[3].replayed, HARDENED_FALSE);
  assert_true(rot_is_zero(r.banks[0].pcr[9], 20));
  assert_false(rot_is_zero(r.banks[1].pcr[9], 32));
  assert_int_equal(r.extended_mask, 1u << 9);
}

static void eventlog_test_replay_error_clears(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  /* Last record's PCR out of range: the earlier extends must not leak. */
  collect_t col = {0};
  assert_int_equal(bc_log_parse(buf, len, NULL, collect_visit, &col), ROT_OK);
  rot_st32(buf + col.ev[4].offset + R_PCR, 32);
  static bc_log_replay_t r;
  assert_int_equal(bc_log_replay(buf, len, crypto(), &r),
                   ROT_ERROR_EVENTLOG_BAD_PCR);
  assert_int_equal(r.extended_mask, 0);
  assert_true(rot_is_zero(r.banks, sizeof(r.banks)));
}

static void eventlog_test_replay_null(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  static bc_log_replay_t r;
  assert_int_equal(bc_log_replay(buf, len, NULL, &r),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_replay(buf, len, crypto(), NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_replay(NULL, 0, crypto(), &r),
                   ROT_ERROR_EVENTLOG_BAD_HEADER);
  assert_int_equal(bc_log_replay(buf, 7, crypto(), &r),
                   ROT_ERROR_EVENTLOG_BAD_HEADER);
  assert_int_equal(bc_log_replay(buf, (size_t)BC_LOG_MAX_SIZE + 1u, crypto(),
                                 &r),
                   ROT_ERROR_EVENTLOG_TOO_LARGE);
}

/* ---- bc_log_check / bc_log_check_event ---------------------------------- */

static void eventlog_test_check_valid_log(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  assert_int_equal(bc_log_check(buf, len, crypto()), ROT_OK);
  assert_int_equal(bc_log_check(buf, len, NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void eventlog_test_check_separator_mismatch(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  collect_t col = {0};
  assert_int_equal(bc_log_parse(buf, len, NULL, collect_visit, &col), ROT_OK);
  /* Separator data 0x00000001 (an error separator) under a zero digest. */
  buf[col.ev[3].offset + R_DATA] = 1;
  assert_int_equal(bc_log_check(buf, len, crypto()),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
}

static void eventlog_test_check_separator_length(void **state) {
  (void)state;
  /* A separator of 5 bytes whose digests do match its data. */
  const rot_crypto_t *c = crypto();
  uint8_t buf[512];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kTwo, 2), ROT_OK);
  assert_int_equal(bc_log_append_data(&w, c, 0, BC_EV_SEPARATOR,
                                      "\0\0\0\0\0", 5, NULL),
                   ROT_OK);
  assert_int_equal(bc_log_check(buf, w.len, c), ROT_ERROR_EVENTLOG_BAD_EVENT);
}

static void eventlog_test_check_s_crtm_mismatch(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  /* Second bank only: every bank is checked, not just the first. */
  buf[HDR_LEN + R_DIG1 + 47] ^= 1;
  assert_int_equal(bc_log_check(buf, len, crypto()),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  buf[HDR_LEN + R_DIG1 + 47] ^= 1;
  buf[HDR_LEN + R_DATA] = '2';
  assert_int_equal(bc_log_check(buf, len, crypto()),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
}

static void eventlog_test_check_event_measured_types_pass(void **state) {
  (void)state;
  /* A firmware blob's digest is over the image, not the event data. */
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  collect_t col = {0};
  bc_log_header_t h;
  assert_int_equal(bc_log_parse(buf, len, &h, collect_visit, &col), ROT_OK);
  assert_int_equal(bc_log_check_event(crypto(), &h, &col.ev[1]), ROT_OK);
  assert_int_equal(bc_log_check_event(NULL, &h, &col.ev[1]),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_check_event(crypto(), NULL, &col.ev[1]),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_check_event(crypto(), &h, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_true(bc_log_type_is_data_bound(BC_EV_SEPARATOR));
  assert_true(bc_log_type_is_data_bound(BC_EV_S_CRTM_VERSION));
  assert_true(bc_log_type_is_data_bound(BC_EV_EFI_VARIABLE_DRIVER_CONFIG));
  assert_false(bc_log_type_is_data_bound(BC_EV_EFI_PLATFORM_FIRMWARE_BLOB));
  assert_false(bc_log_type_is_data_bound(BC_EV_TABLE_OF_DEVICES));
  assert_false(bc_log_type_is_data_bound(BC_EV_EFI_BOOT_SERVICES_APPLICATION));
}

/* ---- names -------------------------------------------------------------- */

static void eventlog_test_names(void **state) {
  (void)state;
  assert_string_equal(bc_log_alg_name(BC_ALG_SHA384), "sha384");
  assert_null(bc_log_alg_name(0x0012));
  assert_int_equal(bc_log_alg_size(BC_ALG_SHA1), 20);
  assert_int_equal(bc_log_alg_size(BC_ALG_SHA512), 64);
  assert_int_equal(bc_log_alg_size(0), 0);
  assert_string_equal(bc_log_event_type_name(BC_EV_SEPARATOR), "EV_SEPARATOR");
  assert_string_equal(bc_log_event_type_name(BC_EV_EFI_VARIABLE_AUTHORITY),
                      "EV_EFI_VARIABLE_AUTHORITY");
  assert_null(bc_log_event_type_name(0x7777));
}

/* ---- event data encoders ------------------------------------------------ */

static void eventlog_test_ev_fixed_structs(void **state) {
  (void)state;
  uint8_t b[BC_EV_IMAGE_LOAD_LEN];
  bc_ev_blob_encode(b, 0x80000000u, 0x1234);
  assert_true(rot_ld64(b) == 0x80000000u);
  assert_true(rot_ld64(b + 8) == 0x1234);
  bc_ev_image_load_encode(b, 0x80200000u, 99, 0x80200000u);
  assert_true(rot_ld64(b) == 0x80200000u);
  assert_true(rot_ld64(b + 8) == 99);
  assert_true(rot_ld64(b + 16) == 0x80200000u);
  assert_true(rot_ld64(b + 24) == 0);
  bc_ev_platform_config_encode(b, ROT_LIFECYCLE_PROD, 0x5);
  assert_memory_equal(b, "BCPC", 4);
  assert_int_equal(rot_ld32(b + 4), 1);
  assert_int_equal(rot_ld32(b + 8), ROT_LIFECYCLE_PROD);
  assert_int_equal(rot_ld32(b + 12), 5);
}

static void eventlog_test_ev_boot_config(void **state) {
  (void)state;
  uint8_t b[BC_EV_BOOT_CONFIG_MAX_LEN];
  size_t n = 0;
  const bc_ev_boot_image_t imgs[2] = {
      {.image_type = 2, .svn = 3, .ver_major = 1, .ver_minor = 2,
       .ver_patch = 3},
      {.image_type = 3, .svn = 4, .ver_major = 5, .ver_minor = 6,
       .ver_patch = 7}};
  assert_int_equal(bc_ev_boot_config_encode(b, sizeof(b), 1, imgs, 2, &n),
                   ROT_OK);
  assert_int_equal(n, 20 + 32);
  assert_int_equal(rot_ld32(b), BC_EV_TAG_BOOT_CONFIG);
  assert_memory_equal(b, "BCBC", 4);
  assert_int_equal(rot_ld32(b + 4), n - 8);
  assert_int_equal(rot_ld32(b + 8), 1);
  assert_int_equal(rot_ld32(b + 12), 1);
  assert_int_equal(rot_ld32(b + 16), 2);
  assert_int_equal(rot_ld32(b + 36), 3);
  assert_int_equal(rot_ld32(b + 40), 4);
  assert_int_equal(rot_ld16(b + 44), 5);
  assert_int_equal(rot_ld16(b + 48), 7);
  assert_int_equal(rot_ld16(b + 50), 0);
  assert_int_equal(bc_ev_boot_config_encode(b, n - 1, 1, imgs, 2, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(bc_ev_boot_config_encode(b, sizeof(b), 1, imgs, 0, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_ev_boot_config_encode(b, sizeof(b), 1, imgs, 9, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_ev_boot_config_encode(NULL, sizeof(b), 1, imgs, 1, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void eventlog_test_ev_variable_round_trip(void **state) {
  (void)state;
  uint8_t b[128];
  size_t n = 0;
  uint32_t lc = ROT_LIFECYCLE_DEV;
  assert_int_equal(bc_ev_variable_encode(b, sizeof(b), BC_EV_VAR_LIFECYCLE,
                                         &lc, 4, &n),
                   ROT_OK);
  assert_int_equal(n, 32 + 2 * 12 + 4);
  assert_memory_equal(b, bc_ev_vendor_guid, 16);
  assert_int_equal(rot_ld64(b + 16), 12);
  assert_int_equal(rot_ld64(b + 24), 4);
  assert_int_equal(rot_ld16(b + 32), 'R');
  assert_int_equal(rot_ld16(b + 34), 'o');
  bc_ev_variable_t v;
  assert_int_equal(bc_ev_variable_decode(b, n, &v), ROT_OK);
  assert_true(bc_ev_variable_is(&v, BC_EV_VAR_LIFECYCLE));
  assert_false(bc_ev_variable_is(&v, BC_EV_VAR_REVOKED_KEYS));
  assert_false(bc_ev_variable_is(&v, "RotLifecycl"));
  assert_false(bc_ev_variable_is(&v, "RotLifecycleX"));
  assert_int_equal(v.value_len, 4);
  assert_int_equal(rot_ld32(v.value), ROT_LIFECYCLE_DEV);
  /* Not our GUID: never taken for one of our variables. */
  b[0] ^= 1;
  assert_int_equal(bc_ev_variable_decode(b, n, &v), ROT_OK);
  assert_false(bc_ev_variable_is(&v, BC_EV_VAR_LIFECYCLE));
}

static void eventlog_test_ev_variable_bad(void **state) {
  (void)state;
  uint8_t b[128];
  size_t n = 0;
  assert_int_equal(bc_ev_variable_encode(b, sizeof(b), "", NULL, 0, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_ev_variable_encode(b, sizeof(b), "a b", NULL, 0, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_ev_variable_encode(b, sizeof(b), "x", NULL, 3, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_ev_variable_encode(b, 33, "x", "ab", 2, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(bc_ev_variable_encode(b, 36, "x", "ab", 2, &n), ROT_OK);
  bc_ev_variable_t v;
  assert_int_equal(bc_ev_variable_decode(b, n, &v), ROT_OK);
  assert_int_equal(bc_ev_variable_decode(b, n - 1, &v),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  assert_int_equal(bc_ev_variable_decode(b, 31, &v),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  rot_st64(b + 16, 0x8000000000000001ull); /* 2 * chars wraps */
  assert_int_equal(bc_ev_variable_decode(b, n, &v),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  rot_st64(b + 16, 1);
  rot_st64(b + 24, 0xffffffffffffffffull);
  assert_int_equal(bc_ev_variable_decode(b, n, &v),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
}

/* ---- bc_log_print ------------------------------------------------------- */

static char *render(const uint8_t *buf, size_t len, unsigned flags,
                    rot_error_t *err) {
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  assert_non_null(f);
  *err = bc_log_print(f, buf, len, crypto(), flags);
  fclose(f);
  return text;
}

static void eventlog_test_print_text(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  rot_error_t err;
  char *t = render(buf, len, 0, &err);
  assert_int_equal(err, ROT_OK);
  assert_non_null(strstr(t, "banks: sha256 sha384"));
  assert_non_null(strstr(t, "S-CRTM version \"1.2.3\""));
  assert_non_null(strstr(t, "firmware blob: base 0x80000000, length 300"));
  assert_non_null(strstr(t, "event 4: PCR 7 EV_SEPARATOR"));
  assert_non_null(strstr(t, "replayed PCRs:"));
  assert_non_null(strstr(t, "    23: "));
  assert_null(strstr(t, "MISMATCH"));
  free(t);
}

static void eventlog_test_print_json(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  rot_error_t err;
  char *t = render(buf, len, BC_LOG_PRINT_JSON, &err);
  assert_int_equal(err, ROT_OK);
  assert_int_equal(t[0], '{');
  assert_non_null(strstr(t, "\"type_name\": \"EV_S_CRTM_VERSION\""));
  assert_non_null(strstr(t, "\"data_check\": \"ok\""));
  assert_non_null(strstr(t, "\"event_count\": 5"));
  assert_non_null(strstr(t, "\"result\": \"ok\""));
  /* The document parses, and carries the replayed PCR 0 of both banks. */
  json_object *doc = json_tokener_parse(t);
  assert_non_null(doc);
  json_object *pcrs = NULL;
  json_object *bank = NULL;
  json_object *pcr0 = NULL;
  assert_true(json_object_object_get_ex(doc, "pcrs", &pcrs));
  assert_true(json_object_object_get_ex(pcrs, "sha384", &bank));
  assert_true(json_object_object_get_ex(bank, "0", &pcr0));
  assert_int_equal(json_object_get_string_len(pcr0), 96);
  assert_true(json_object_object_get_ex(pcrs, "sha256", &bank));
  assert_true(json_object_object_get_ex(bank, "0", &pcr0));
  assert_int_equal(json_object_get_string_len(pcr0), 64);
  json_object_put(doc);
  free(t);
}

static void eventlog_test_print_bad_log(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = small_log(buf, sizeof(buf));
  rot_error_t err;
  char *t = render(buf, len - 1, BC_LOG_PRINT_JSON, &err);
  assert_int_equal(err, ROT_ERROR_EVENTLOG_TRUNCATED);
  assert_non_null(strstr(t, "\"result\": \"ROT_ERROR_EVENTLOG_TRUNCATED\""));
  assert_null(strstr(t, "\"pcrs\""));
  free(t);
  t = render(buf, 5, 0, &err);
  assert_int_equal(err, ROT_ERROR_EVENTLOG_BAD_HEADER);
  assert_non_null(strstr(t, "error: "));
  free(t);
  /* A data-bound digest mismatch prints everything, then fails. */
  buf[HDR_LEN + R_DIG0] ^= 1;
  t = render(buf, len, 0, &err);
  assert_int_equal(err, ROT_ERROR_EVENTLOG_BAD_EVENT);
  assert_non_null(strstr(t, "digest = hash of data: MISMATCH"));
  assert_non_null(strstr(t, "replayed PCRs:"));
  free(t);
  assert_int_equal(bc_log_print(NULL, buf, len, crypto(), 0),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void eventlog_test_describe_event_bounded(void **state) {
  (void)state;
  uint8_t data[300];
  memset(data, 0xab, sizeof(data));
  bc_log_event_t ev = {.type = 0x1234, .data = data, .data_len = sizeof(data)};
  char small[16];
  bc_log_describe_event(&ev, small, sizeof(small));
  assert_int_equal(strlen(small), sizeof(small) - 1);
  char big[512];
  bc_log_describe_event(&ev, big, sizeof(big));
  assert_non_null(strstr(big, "(300 bytes)"));
  bc_log_describe_event(NULL, big, sizeof(big));
  assert_string_equal(big, "");
}

/* ---- firmware logs (BC_LOG_FIRMWARE) ----------------------------------- */

static void hash_of(uint16_t alg, const void *d, size_t n, uint8_t *out) {
  assert_int_equal(rot_hash(crypto(), (rot_hash_alg_t)alg, d, n, out, 64), ROT_OK);
}

/*
 * Append a TCG_PCR_EVENT2 by hand at buf + off: the banks in algs[0..n)
 * (SHA-256 / SHA-384), each digest the hash of `measured` (NULL: zeros).
 * Returns the new length.
 */
static size_t put_ev2(uint8_t *buf, size_t off, uint32_t pcr, uint32_t type,
                      const uint16_t *algs, uint32_t n, const void *measured,
                      size_t mlen, const void *data, uint32_t dlen) {
  uint8_t *p = buf + off;
  rot_st32(p, pcr);
  rot_st32(p + 4, type);
  rot_st32(p + 8, n);
  p += 12;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t d[64] = {0};
    if (measured != NULL) {
      hash_of(algs[i], measured, mlen, d);
    }
    rot_st16(p, algs[i]);
    memcpy(p + 2, d, bc_log_alg_size(algs[i]));
    p += 2u + bc_log_alg_size(algs[i]);
  }
  rot_st32(p, dlen);
  memcpy(p + 4, data, dlen);
  return (size_t)(p + 4 + dlen - buf);
}

/* A two-bank header, then nothing. */
static size_t agile_header(uint8_t *buf, size_t cap) {
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, cap, kTwo, 2), ROT_OK);
  return w.len;
}

static const uint8_t kSep[4] = {0, 0, 0, 0};

static size_t startup_locality(uint8_t *buf, size_t off, uint32_t pcr,
                               uint8_t locality) {
  uint8_t data[17] = "StartupLocality";
  data[16] = locality;
  return put_ev2(buf, off, pcr, BC_EV_NO_ACTION, kTwo, 2, NULL, 0, data,
                 sizeof(data));
}

static void eventlog_test_firmware_startup_locality(void **state) {
  (void)state;
  uint8_t buf[1024];
  size_t len = agile_header(buf, sizeof(buf));
  len = startup_locality(buf, len, 0, 3);
  len = put_ev2(buf, len, 0, BC_EV_SEPARATOR, kTwo, 2, kSep, 4, kSep, 4);
  /* The chain's own logs never carry EV_NO_ACTION after the header. */
  assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_NO_ACTION);
  bc_log_header_t h;
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, &h, NULL, NULL),
                   ROT_OK);
  assert_int_equal(h.has_startup_locality, 1);
  assert_int_equal(h.startup_locality, 3);
  assert_int_equal(h.event_count, 2);
  /* PCR 0 starts at 0...03 and only the separator extends it. */
  static bc_log_replay_t r;
  assert_int_equal(bc_log_replay_mode(buf, len, BC_LOG_FIRMWARE, crypto(), &r),
                   ROT_OK);
  for (uint32_t b = 0; b < 2; b++) {
    uint16_t alg = kTwo[b];
    size_t n = bc_log_alg_size(alg);
    uint8_t in[128] = {0};
    in[n - 1] = 3;
    hash_of(alg, kSep, 4, in + n);
    uint8_t want[64];
    hash_of(alg, in, 2 * n, want);
    assert_memory_equal(r.banks[b].pcr[0], want, n);
  }
  assert_int_equal(r.extended_mask, 1u);
  rot_error_t err;
  char *text = render(buf, len, 0, &err);
  assert_int_equal(err, ROT_OK);
  assert_non_null(strstr(text, "StartupLocality 3"));
  free(text);
}

static void eventlog_test_firmware_startup_locality_hostile(void **state) {
  (void)state;
  uint8_t buf[1024];
  size_t hdr = agile_header(buf, sizeof(buf));
  /* After PCR 0 was extended, twice, on PCR 1, locality 5, or cut short:
   * each would make PCR 0's start ambiguous. */
  size_t len = put_ev2(buf, hdr, 0, BC_EV_SEPARATOR, kTwo, 2, kSep, 4, kSep, 4);
  len = startup_locality(buf, len, 0, 3);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  len = startup_locality(buf, hdr, 0, 0);
  len = startup_locality(buf, len, 0, 3);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  len = startup_locality(buf, hdr, 1, 3);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  len = startup_locality(buf, hdr, 0, 5);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  len = put_ev2(buf, hdr, 0, BC_EV_NO_ACTION, kTwo, 2, NULL, 0,
                "StartupLocality", 16);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  /* Any other EV_NO_ACTION is information: not extended, PCR 0 untouched. */
  len = put_ev2(buf, hdr, 0, BC_EV_NO_ACTION, kTwo, 2, NULL, 0,
                "SP800-155 Event3", 16);
  static bc_log_replay_t r;
  assert_int_equal(bc_log_replay_mode(buf, len, BC_LOG_FIRMWARE, crypto(), &r),
                   ROT_OK);
  assert_int_equal(r.extended_mask, 0);
  assert_true(rot_is_zero(r.banks[0].pcr[0], 32));
}

static void eventlog_test_firmware_pfp_digest_rules(void **state) {
  (void)state;
  uint8_t buf[2048];
  size_t len = agile_header(buf, sizeof(buf));
  /* How firmware measures these: EV_EFI_VARIABLE_BOOT over the variable's
   * data alone, EV_EVENT_TAG and EV_IPL over other bytes. */
  uint8_t var[BC_EV_VARIABLE_FIXED + 2 * 8 + 6];
  size_t vlen = 0;
  static const uint8_t boot0000[6] = {1, 0, 0, 0, 0x2e, 0};
  assert_int_equal(bc_ev_variable_encode(var, sizeof(var), "Boot0000", boot0000,
                                         sizeof(boot0000), &vlen),
                   ROT_OK);
  len = put_ev2(buf, len, 1, BC_EV_EFI_VARIABLE_BOOT, kTwo, 2, boot0000,
                sizeof(boot0000), var, (uint32_t)vlen);
  uint8_t tag[12] = {0x42, 0x43, 0x42, 0x43, 4, 0, 0, 0, 1, 2, 3, 4};
  len = put_ev2(buf, len, 5, BC_EV_EVENT_TAG, kTwo, 2, "elsewhere", 9, tag,
                sizeof(tag));
  len = put_ev2(buf, len, 8, BC_EV_IPL, kTwo, 2, "linux /vmlinuz", 14,
                "grub_cmd: linux /vmlinuz", 24);
  len = put_ev2(buf, len, 0, BC_EV_SEPARATOR, kTwo, 2, kSep, 4, kSep, 4);
  rot_error_t err;
  char *text = render(buf, len, 0, &err);
  assert_int_equal(err, ROT_OK);
  assert_null(strstr(text, "MISMATCH"));
  free(text);
  /* The plan's own rule still holds for the chain's logs. */
  text = render(buf, len, BC_LOG_PRINT_STRICT, &err);
  assert_int_equal(err, ROT_ERROR_EVENTLOG_BAD_EVENT);
  free(text);
  /* A PFP data-bound type is still checked in firmware mode. */
  len = put_ev2(buf, len, 7, BC_EV_SEPARATOR, kTwo, 2, "x", 1, kSep, 4);
  text = render(buf, len, 0, &err);
  assert_int_equal(err, ROT_ERROR_EVENTLOG_BAD_EVENT);
  assert_non_null(strstr(text, "MISMATCH"));
  free(text);
}

static void eventlog_test_firmware_fewer_digests(void **state) {
  (void)state;
  uint8_t buf[1024];
  size_t hdr = agile_header(buf, sizeof(buf));
  size_t len = put_ev2(buf, hdr, 0, BC_EV_SEPARATOR, kTwo, 1, kSep, 4, kSep, 4);
  len = put_ev2(buf, len, 7, BC_EV_SEPARATOR, kTwo, 2, kSep, 4, kSep, 4);
  assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_DIGESTS);
  bc_log_header_t h;
  collect_t col;
  memset(&col, 0, sizeof(col));
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, &h, collect_visit,
                                     &col),
                   ROT_OK);
  assert_int_equal(h.warnings & BC_LOG_WARN_MISSING_DIGESTS,
                   BC_LOG_WARN_MISSING_DIGESTS);
  assert_int_equal(h.short_events, 1);
  assert_int_equal(col.ev[0].digest_count, 1);
  assert_non_null(col.ev[0].digests[0]);
  assert_null(col.ev[0].digests[1]);
  static bc_log_replay_t r;
  assert_int_equal(bc_log_replay_mode(buf, len, BC_LOG_FIRMWARE, crypto(), &r),
                   ROT_OK);
  assert_int_equal(r.banks[0].replayed, HARDENED_TRUE);
  assert_int_equal(r.banks[1].replayed, HARDENED_FALSE);
  assert_int_equal(r.banks[1].incomplete, 1);
  rot_error_t err;
  char *text = render(buf, len, 0, &err);
  assert_int_equal(err, ROT_ERROR_EVENTLOG_UNCHECKED);
  assert_non_null(strstr(text, "warning: 1 events carry fewer digests"));
  assert_non_null(strstr(text, "sha384: not replayed (some events carry no digest"));
  free(text);
  /* Never none, never more than the banks. */
  len = put_ev2(buf, hdr, 0, BC_EV_SEPARATOR, kTwo, 0, kSep, 4, kSep, 4);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_DIGESTS);
  static const uint16_t three[] = {BC_ALG_SHA256, BC_ALG_SHA384, BC_ALG_SHA256};
  len = put_ev2(buf, hdr, 0, BC_EV_SEPARATOR, three, 3, kSep, 4, kSep, 4);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_DIGESTS);
}

/* A TCG_PCClientPCREvent (TCG 1.2 log) at buf + off. */
static size_t put_ev1(uint8_t *buf, size_t off, uint32_t pcr, uint32_t type,
                      const void *data, uint32_t dlen) {
  rot_st32(buf + off, pcr);
  rot_st32(buf + off + 4, type);
  memset(buf + off + 8, 0xa5, 20);
  rot_st32(buf + off + 28, dlen);
  memcpy(buf + off + 32, data, dlen);
  return off + 32 + dlen;
}

static void eventlog_test_firmware_sha1_log(void **state) {
  (void)state;
  uint8_t buf[512];
  static const uint8_t ver[8] = {'1', 0, '.', 0, '0', 0, 0, 0};
  size_t len = put_ev1(buf, 0, 0, BC_EV_S_CRTM_VERSION, ver, sizeof(ver));
  len = put_ev1(buf, len, 0, BC_EV_SEPARATOR, kSep, 4);
  len = put_ev1(buf, len, 7, BC_EV_SEPARATOR, kSep, 4);
  assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_HEADER);
  bc_log_header_t h;
  collect_t col;
  memset(&col, 0, sizeof(col));
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, &h, collect_visit,
                                     &col),
                   ROT_OK);
  assert_int_equal(h.format, BC_LOG_FORMAT_SHA1);
  assert_int_equal(h.bank_count, 1);
  assert_int_equal(h.banks[0].alg, BC_ALG_SHA1);
  assert_int_equal(h.event_count, 3);
  assert_int_equal(col.ev[2].pcr, 7);
  assert_ptr_equal(col.ev[1].digests[0], buf + 40 + 8);
  /* No SHA-1 here: nothing checked, nothing replayed, and said so. */
  rot_error_t err;
  char *text = render(buf, len, 0, &err);
  assert_int_equal(err, ROT_ERROR_EVENTLOG_UNCHECKED);
  assert_non_null(strstr(text, "TCG 1.2"));
  assert_non_null(strstr(text, "sha1: not replayed (no such hash here)"));
  assert_null(strstr(text, "hash of data: ok"));
  free(text);
  /* Bounds: a record cut short, a log shorter than one record. */
  assert_int_equal(bc_log_parse_mode(buf, len - 1, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_TRUNCATED);
  assert_int_equal(bc_log_parse_mode(buf, 31, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_HEADER);
  rot_st32(buf + 28, 0xffffffffu);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_TRUNCATED);
}

/* A bank the crypto port cannot hash is "not checked", never "ok". */
static void eventlog_test_check_unhashable_bank_not_checked(void **state) {
  (void)state;
  uint8_t buf[2048];
  bc_log_writer_t w;
  assert_int_equal(bc_log_init(&w, buf, sizeof(buf), kFour, 4), ROT_OK);
  bc_log_digests_t d;
  memset(&d, 0, sizeof(d));
  for (uint32_t i = 1; i < 3; i++) {
    hash_of(kFour[i], kSep, 4, d.value[i]);
  }
  memset(d.value[0], 0x11, 20); /* nobody here can tell these apart */
  memset(d.value[3], 0x33, 64);
  assert_int_equal(bc_log_append_digests(&w, 0, BC_EV_SEPARATOR, &d, kSep, 4),
                   ROT_OK);
  assert_int_equal(bc_log_check(buf, w.len, crypto()),
                   ROT_ERROR_EVENTLOG_UNCHECKED);
  collect_t col;
  memset(&col, 0, sizeof(col));
  bc_log_header_t h;
  assert_int_equal(bc_log_parse(buf, w.len, &h, collect_visit, &col), ROT_OK);
  uint32_t ok = 0, skipped = 0;
  assert_int_equal(bc_log_check_event_banks(crypto(), &h, &col.ev[0], &ok, &skipped),
                   ROT_ERROR_EVENTLOG_UNCHECKED);
  assert_int_equal(ok, 0x6u);
  assert_int_equal(skipped, 0x9u);
  for (unsigned flags = 0; flags <= BC_LOG_PRINT_STRICT; flags += BC_LOG_PRINT_STRICT) {
    rot_error_t err;
    char *text = render(buf, w.len, flags, &err);
    assert_int_equal(err, ROT_ERROR_EVENTLOG_UNCHECKED);
    assert_null(strstr(text, "digest = hash of data: ok\n"));
    assert_non_null(strstr(text, "not checked in sha1, sha512"));
    assert_non_null(strstr(text, "2 checked, 2 not checked"));
    free(text);
  }
  rot_error_t err;
  char *text = render(buf, w.len, BC_LOG_PRINT_JSON, &err);
  assert_non_null(strstr(text, "\"data_check\": \"partly checked\""));
  assert_non_null(strstr(text, "\"result\": \"ROT_ERROR_EVENTLOG_UNCHECKED\""));
  free(text);
}

static void eventlog_test_parse_typed_data_too_short(void **state) {
  (void)state;
  uint8_t buf[1024];
  uint8_t junk[40];
  memset(junk, 0, sizeof(junk));
  static const uint32_t types[] = {
      BC_EV_EFI_VARIABLE_DRIVER_CONFIG, BC_EV_EFI_VARIABLE_BOOT,
      BC_EV_EFI_VARIABLE_AUTHORITY,     BC_EV_EFI_PLATFORM_FIRMWARE_BLOB,
      BC_EV_EFI_BOOT_SERVICES_APPLICATION};
  static const uint32_t lens[] = {31, 20, 0, 15, 31};
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    size_t len = put_ev2(buf, agile_header(buf, sizeof(buf)), 0, types[i], kTwo,
                         2, junk, lens[i], junk, lens[i]);
    assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_EVENT);
    assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                     ROT_ERROR_EVENTLOG_BAD_EVENT);
  }
  /* A variable whose name and data lengths run past the event. */
  rot_st64(junk + 16, 4);
  rot_st64(junk + 24, 1);
  size_t len = put_ev2(buf, agile_header(buf, sizeof(buf)), 7,
                       BC_EV_EFI_VARIABLE_DRIVER_CONFIG, kTwo, 2, junk, 40,
                       junk, 40);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_EVENT);
  /* Bytes after the structure: firmware logs may have them, ours not. */
  rot_st64(junk + 16, 2);
  rot_st64(junk + 24, 2);
  len = put_ev2(buf, agile_header(buf, sizeof(buf)), 7,
                BC_EV_EFI_VARIABLE_DRIVER_CONFIG, kTwo, 2, junk, 40, junk, 40);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_OK);
  assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_EVENT);
  /* A 20-byte firmware blob: fine for firmware, not for the plan. */
  len = put_ev2(buf, agile_header(buf, sizeof(buf)), 0,
                BC_EV_EFI_PLATFORM_FIRMWARE_BLOB, kTwo, 2, junk, 20, junk, 20);
  assert_int_equal(bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_OK);
  assert_int_equal(parse(buf, len), ROT_ERROR_EVENTLOG_BAD_EVENT);
}

/* EV_POST_CODE: a firmware blob or a short description, bounded in both
 * modes; the plan's logs carry only the blob or printable text. */
static void eventlog_test_parse_post_code_bounded(void **state) {
  (void)state;
  uint8_t buf[1024];
  uint8_t data[BC_EV_POST_CODE_MAX + 1];
  memset(data, 'A', sizeof(data));
  static const struct {
    size_t len;
    uint8_t fill; /* 0: text ('A'), else every byte */
    rot_error_t strict, firmware;
  } kCases[] = {
      {0, 0, ROT_ERROR_EVENTLOG_BAD_EVENT, ROT_ERROR_EVENTLOG_BAD_EVENT},
      {BC_EV_POST_CODE_MAX + 1, 0, ROT_ERROR_EVENTLOG_BAD_EVENT,
       ROT_ERROR_EVENTLOG_BAD_EVENT},
      {BC_EV_POST_CODE_MAX, 0, ROT_OK, ROT_OK},
      {1, 0, ROT_OK, ROT_OK},
      {BC_EV_BLOB_LEN, 0x80, ROT_OK, ROT_OK},         /* the blob */
      {20, 0x01, ROT_ERROR_EVENTLOG_BAD_EVENT, ROT_OK}, /* binary, not a blob */
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    memset(data, kCases[i].fill != 0 ? kCases[i].fill : 'A', sizeof(data));
    size_t len = put_ev2(buf, agile_header(buf, sizeof(buf)), 0,
                         BC_EV_POST_CODE, kTwo, 2, NULL, 0, data,
                         (uint32_t)kCases[i].len);
    if (parse(buf, len) != kCases[i].strict ||
        bc_log_parse_mode(buf, len, BC_LOG_FIRMWARE, NULL, NULL, NULL) !=
            kCases[i].firmware) {
      fail_msg("EV_POST_CODE case %zu (%zu bytes)", i, kCases[i].len);
    }
  }
  /* A data length far past the bound, in a log that holds it all. */
  static uint8_t big[70000], text[65536];
  memset(text, 'A', sizeof(text));
  size_t off = agile_header(big, sizeof(big));
  size_t len = put_ev2(big, off, 0, BC_EV_POST_CODE, kTwo, 2, NULL, 0, text,
                       sizeof(text));
  assert_int_equal(parse(big, len), ROT_ERROR_EVENTLOG_BAD_EVENT);
  /* The describer names the blob and the description. */
  bc_log_event_t ev;
  memset(&ev, 0, sizeof(ev));
  uint8_t blob[BC_EV_BLOB_LEN];
  bc_ev_blob_encode(blob, 0x80000000u, 0x1000u);
  ev.type = BC_EV_POST_CODE;
  ev.data = blob;
  ev.data_len = sizeof(blob);
  char desc[256];
  bc_log_describe_event(&ev, desc, sizeof(desc));
  assert_string_equal(desc, "POST code blob: base 0x80000000, length 4096");
  ev.data = (const uint8_t *)"SMM CODE";
  ev.data_len = 8;
  bc_log_describe_event(&ev, desc, sizeof(desc));
  assert_string_equal(desc, "text \"SMM CODE\"");
}

static void eventlog_test_parse_mode_bad(void **state) {
  (void)state;
  uint8_t buf[256];
  size_t len = agile_header(buf, sizeof(buf));
  assert_int_equal(bc_log_parse_mode(buf, len, 7, NULL, NULL, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  static bc_log_replay_t r;
  assert_int_equal(bc_log_replay_mode(buf, len, 7, crypto(), &r),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_log_parse_mode(NULL, 0, BC_LOG_FIRMWARE, NULL, NULL, NULL),
                   ROT_ERROR_EVENTLOG_BAD_HEADER);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(eventlog_test_init_null),
      cmocka_unit_test(eventlog_test_init_bad_algs),
      cmocka_unit_test(eventlog_test_init_buffer_too_small),
      cmocka_unit_test(eventlog_test_init_header_bytes),
      cmocka_unit_test(eventlog_test_append_digests_bytes),
      cmocka_unit_test(eventlog_test_append_digests_null),
      cmocka_unit_test(eventlog_test_append_digests_bad_pcr),
      cmocka_unit_test(eventlog_test_append_digests_no_action),
      cmocka_unit_test(eventlog_test_append_digests_full),
      cmocka_unit_test(eventlog_test_append_digests_huge_data),
      cmocka_unit_test(eventlog_test_append_digests_event_cap),
      cmocka_unit_test(eventlog_test_measure_digests),
      cmocka_unit_test(eventlog_test_measure_null),
      cmocka_unit_test(eventlog_test_measure_unsupported_bank),
      cmocka_unit_test(eventlog_test_separator_data),
      cmocka_unit_test(eventlog_test_s_crtm_version_ucs2),
      cmocka_unit_test(eventlog_test_s_crtm_version_bad),
      cmocka_unit_test(eventlog_test_parse_round_trip),
      cmocka_unit_test(eventlog_test_parse_header_only),
      cmocka_unit_test(eventlog_test_parse_null_outputs),
      cmocka_unit_test(eventlog_test_parse_four_banks),
      cmocka_unit_test(eventlog_test_parse_digest_order_swapped),
      cmocka_unit_test(eventlog_test_parse_over_64k),
      cmocka_unit_test(eventlog_test_parse_at_size_cap),
      cmocka_unit_test(eventlog_test_parse_visitor_stops),
      cmocka_unit_test(eventlog_test_parse_short_logs),
      cmocka_unit_test(eventlog_test_parse_every_prefix),
      cmocka_unit_test(eventlog_test_parse_trailing_bytes),
      cmocka_unit_test(eventlog_test_parse_bad_pcr),
      cmocka_unit_test(eventlog_test_parse_no_action_after_header),
      cmocka_unit_test(eventlog_test_parse_digest_count_mismatch),
      cmocka_unit_test(eventlog_test_parse_unknown_alg),
      cmocka_unit_test(eventlog_test_parse_duplicate_alg),
      cmocka_unit_test(eventlog_test_parse_digest_size_mismatch),
      cmocka_unit_test(eventlog_test_parse_huge_event_size),
      cmocka_unit_test(eventlog_test_parse_too_large),
      cmocka_unit_test(eventlog_test_parse_bad_header),
      cmocka_unit_test(eventlog_test_parse_vendor_info),
      cmocka_unit_test(eventlog_test_replay_matches_manual_extend),
      cmocka_unit_test(eventlog_test_replay_four_banks),
      cmocka_unit_test(eventlog_test_replay_error_clears),
      cmocka_unit_test(eventlog_test_replay_null),
      cmocka_unit_test(eventlog_test_check_valid_log),
      cmocka_unit_test(eventlog_test_check_separator_mismatch),
      cmocka_unit_test(eventlog_test_check_separator_length),
      cmocka_unit_test(eventlog_test_check_s_crtm_mismatch),
      cmocka_unit_test(eventlog_test_check_event_measured_types_pass),
      cmocka_unit_test(eventlog_test_names),
      cmocka_unit_test(eventlog_test_ev_fixed_structs),
      cmocka_unit_test(eventlog_test_ev_boot_config),
      cmocka_unit_test(eventlog_test_ev_variable_round_trip),
      cmocka_unit_test(eventlog_test_ev_variable_bad),
      cmocka_unit_test(eventlog_test_print_text),
      cmocka_unit_test(eventlog_test_print_json),
      cmocka_unit_test(eventlog_test_print_bad_log),
      cmocka_unit_test(eventlog_test_describe_event_bounded),
      cmocka_unit_test(eventlog_test_firmware_startup_locality),
      cmocka_unit_test(eventlog_test_firmware_startup_locality_hostile),
      cmocka_unit_test(eventlog_test_firmware_pfp_digest_rules),
      cmocka_unit_test(eventlog_test_firmware_fewer_digests),
      cmocka_unit_test(eventlog_test_firmware_sha1_log),
      cmocka_unit_test(eventlog_test_check_unhashable_bank_not_checked),
      cmocka_unit_test(eventlog_test_parse_typed_data_too_short),
      cmocka_unit_test(eventlog_test_parse_post_code_bounded),
      cmocka_unit_test(eventlog_test_parse_mode_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
