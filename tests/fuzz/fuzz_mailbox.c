/*
 * libFuzzer target for the mailbox codec: the frame decoder and every
 * payload decoder, on arbitrary bytes.
 *
 * Each input is decoded as a whole frame (and, when that works, its
 * payload by the decoders of its command) and also handed raw to every
 * payload decoder. Because decoding is strict, an accepted input has
 * exactly one encoding: whatever decodes must re-encode to the very same
 * bytes, and the target traps when it does not.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/mbox_requests.h"
#include "fuzz.h"

static uint8_t g_out[ROT_MBOX_MAX_FRAME];

/* Decode; on success re-encode and require the same bytes back. */
#define ROUND_TRIP(type_, decode_fn, encode_fn, p_, n_)                    \
  do {                                                                     \
    type_ v_;                                                              \
    if (decode_fn(p_, n_, &v_) == ROT_OK) {                                \
      size_t m_ = 0;                                                       \
      CHECK(encode_fn(&v_, g_out, sizeof(g_out), &m_) == ROT_OK);          \
      CHECK(m_ == (n_) && memcmp(g_out, p_, m_) == 0);                     \
    }                                                                      \
  } while (0)

static void chunk_req(const uint8_t *p, size_t n) {
  rot_mbox_chunk_req_t c;
  if (rot_mbox_chunk_req_decode(p, n, &c) != ROT_OK) {
    return;
  }
  CHECK(c.length >= 1 && c.length <= ROT_MBOX_CHUNK_DATA_MAX);
  CHECK(c.data == p + ROT_MBOX_CHUNK_REQ_FIXED);
  CHECK(ROT_MBOX_CHUNK_REQ_FIXED + (size_t)c.length == n);
  size_t m = 0;
  CHECK(rot_mbox_chunk_req_encode(&c, g_out, sizeof(g_out), &m) == ROT_OK);
  CHECK(m == n && memcmp(g_out, p, m) == 0);
}

static void audit_read_resp(const uint8_t *p, size_t n) {
  rot_mbox_audit_read_resp_t r;
  if (rot_mbox_audit_read_resp_decode(p, n, &r) != ROT_OK) {
    return;
  }
  CHECK(r.count <= ROT_MBOX_AUDIT_MAX_RECORDS);
  CHECK(n == ROT_MBOX_AUDIT_READ_RESP_FIXED +
                 (size_t)r.count * ROT_AUDIT_RECORD_SIZE);
  for (uint32_t i = 0; i < r.count; i++) {
    const uint8_t *raw = r.records + (size_t)i * ROT_AUDIT_RECORD_SIZE;
    rot_audit_record_t rec;
    uint8_t back[ROT_AUDIT_RECORD_SIZE];
    rot_mbox_audit_record_decode(raw, &rec);
    rot_mbox_audit_record_encode(&rec, back);
    CHECK(memcmp(back, raw, sizeof(back)) == 0);
  }
}

static void inventory(const uint8_t *p, size_t n) {
  static rot_mbox_inventory_t inv; /* large */
  if (rot_mbox_inventory_decode(p, n, &inv) != ROT_OK) {
    return;
  }
  CHECK(inv.count <= ROT_MBOX_INVENTORY_MAX);
  for (uint32_t i = 0; i < inv.count; i++) {
    /* A name the client may print as a C string. */
    CHECK(memchr(inv.entries[i].name, '\0', ROT_MBOX_NAME_LEN) != NULL);
  }
  size_t m = 0;
  CHECK(rot_mbox_inventory_encode(&inv, g_out, sizeof(g_out), &m) == ROT_OK);
  CHECK(m == n && memcmp(g_out, p, m) == 0);
}

static void status(const uint8_t *p, size_t n) {
  rot_mbox_status_t st;
  if (rot_mbox_status_decode(p, n, &st) != ROT_OK) {
    return;
  }
  CHECK(st.type_count <= ROT_MBOX_MAX_TYPES && st.session_open <= 1);
  size_t m = 0;
  CHECK(rot_mbox_status_encode(&st, g_out, sizeof(g_out), &m) == ROT_OK);
  CHECK(m == n && memcmp(g_out, p, m) == 0);
}

/* CONFIRM: a 4-byte request is the 8-byte one with flags 0. */
static void confirm_req(const uint8_t *p, size_t n) {
  rot_mbox_confirm_req_t q;
  if (rot_mbox_confirm_req_decode(p, n, &q) != ROT_OK) {
    return;
  }
  CHECK(n == ROT_MBOX_CONFIRM_REQ_MIN || n == ROT_MBOX_CONFIRM_REQ_SIZE);
  size_t m = 0;
  CHECK(rot_mbox_confirm_req_encode(&q, g_out, sizeof(g_out), &m) == ROT_OK);
  CHECK(m == ROT_MBOX_CONFIRM_REQ_SIZE && memcmp(g_out, p, n) == 0);
  CHECK(n == m || rot_ld32(g_out + 4) == 0);
}

static void lifecycle_resp(const uint8_t *p, size_t n) {
  uint32_t lc;
  if (rot_mbox_lifecycle_resp_decode(p, n, &lc) != ROT_OK) {
    return;
  }
  size_t m = 0;
  CHECK(rot_mbox_lifecycle_resp_encode(lc, g_out, sizeof(g_out), &m) == ROT_OK);
  CHECK(m == n && memcmp(g_out, p, m) == 0);
}

/* Every payload decoder, whatever the bytes claim to be. */
static void all_payloads(const uint8_t *p, size_t n) {
  ROUND_TRIP(rot_mbox_type_req_t, rot_mbox_type_req_decode,
             rot_mbox_type_req_encode, p, n);
  ROUND_TRIP(rot_mbox_read_req_t, rot_mbox_read_req_decode,
             rot_mbox_read_req_encode, p, n);
  ROUND_TRIP(rot_mbox_begin_req_t, rot_mbox_begin_req_decode,
             rot_mbox_begin_req_encode, p, n);
  ROUND_TRIP(rot_mbox_begin_resp_t, rot_mbox_begin_resp_decode,
             rot_mbox_begin_resp_encode, p, n);
  ROUND_TRIP(rot_mbox_chunk_resp_t, rot_mbox_chunk_resp_decode,
             rot_mbox_chunk_resp_encode, p, n);
  ROUND_TRIP(rot_mbox_image_info_t, rot_mbox_image_info_decode,
             rot_mbox_image_info_encode, p, n);
  ROUND_TRIP(rot_mbox_type_state_t, rot_mbox_type_state_decode,
             rot_mbox_type_state_encode, p, n);
  ROUND_TRIP(rot_mbox_boot_resp_t, rot_mbox_boot_resp_decode,
             rot_mbox_boot_resp_encode, p, n);
  ROUND_TRIP(rot_mbox_audit_read_req_t, rot_mbox_audit_read_req_decode,
             rot_mbox_audit_read_req_encode, p, n);
  ROUND_TRIP(rot_audit_report_t, rot_mbox_audit_report_decode,
             rot_mbox_audit_report_encode, p, n);
  ROUND_TRIP(rot_mbox_lock_req_t, rot_mbox_lock_req_decode,
             rot_mbox_lock_req_encode, p, n);
  ROUND_TRIP(rot_mbox_lock_resp_t, rot_mbox_lock_resp_decode,
             rot_mbox_lock_resp_encode, p, n);
  ROUND_TRIP(rot_mbox_lifecycle_req_t, rot_mbox_lifecycle_req_decode,
             rot_mbox_lifecycle_req_encode, p, n);
  confirm_req(p, n);
  lifecycle_resp(p, n);
  chunk_req(p, n);
  audit_read_resp(p, n);
  inventory(p, n);
  status(p, n);
}

static void frame(const uint8_t *data, size_t size) {
  rot_mbox_header_t h;
  const uint8_t *payload = NULL;
  uint16_t cmd;
  uint32_t seq;
  rot_mbox_peek(data, size, &cmd, &seq);
  if (rot_mbox_frame_decode(data, size, &h, &payload) != ROT_OK) {
    return;
  }
  CHECK(h.magic == ROT_MBOX_MAGIC && h.version == ROT_MBOX_VERSION);
  CHECK((h.flags & ~ROT_MBOX_FLAGS_KNOWN) == 0 && h.reserved == 0);
  CHECK(h.payload_len <= ROT_MBOX_MAX_PAYLOAD);
  CHECK((size_t)h.payload_len + ROT_MBOX_HEADER_SIZE == size);
  CHECK(payload == data + ROT_MBOX_HEADER_SIZE);
  CHECK(cmd == h.command && seq == h.seq);
  size_t m = 0;
  CHECK(rot_mbox_frame_encode(g_out, sizeof(g_out), h.command, h.flags, h.seq,
                              h.status, payload, h.payload_len,
                              &m) == ROT_OK);
  CHECK(m == size && memcmp(g_out, data, size) == 0);
  rot_error_t rq = rot_mbox_request_check(&h);
  CHECK(rq == ROT_OK || rq == ROT_ERROR_MAILBOX_BAD_FRAME ||
        rq == ROT_ERROR_MAILBOX_UNKNOWN_COMMAND);
  rot_error_t rp = rot_mbox_reply_check(&h, h.command, h.seq);
  CHECK(rp == ROT_OK || rp == ROT_ERROR_MAILBOX_BAD_FRAME ||
        rp == ROT_ERROR_MAILBOX_BAD_LENGTH);
  (void)rot_mbox_command_name(h.command);
  all_payloads(payload, h.payload_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  frame(data, size);
  all_payloads(data, size);
  return 0;
}
