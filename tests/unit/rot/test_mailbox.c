/*
 * Mailbox codec: frames and every payload. Round trips pin the wire
 * layout; each decode error has its own case, and every payload decoder
 * is fed its exact size minus one and plus one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rot/flash.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot/update.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/mbox_requests.h"

/* Frame buffers are ~64 KiB: kept off the stack. */
static uint8_t g_frame[ROT_MBOX_MAX_FRAME + 16];
static uint8_t g_payload[ROT_MBOX_MAX_PAYLOAD + 16];

/* A hand-built header, so tests do not depend on the encoder under test. */
static void put_header(uint8_t *b, uint16_t magic, uint8_t version,
                       uint8_t flags, uint16_t cmd, uint16_t reserved,
                       uint32_t seq, uint32_t status, uint32_t payload_len) {
  rot_st16(b, magic);
  b[2] = version;
  b[3] = flags;
  rot_st16(b + 4, cmd);
  rot_st16(b + 6, reserved);
  rot_st32(b + 8, seq);
  rot_st32(b + 12, status);
  rot_st32(b + 16, payload_len);
}

static rot_error_t decode(size_t len) {
  rot_mbox_header_t h;
  const uint8_t *p;
  return rot_mbox_frame_decode(g_frame, len, &h, &p);
}

/* ---- frame decode ---------------------------------------------------------- */

static void mailbox_test_frame_decode_round_trip(void **state) {
  (void)state;
  const uint8_t body[5] = {1, 2, 3, 4, 5};
  size_t n = 0;
  assert_int_equal(rot_mbox_frame_encode(g_frame, sizeof(g_frame),
                                         ROT_MBOX_CMD_BOOT, 0, 0xdeadbeef, 0,
                                         body, sizeof(body), &n),
                   ROT_OK);
  assert_int_equal(n, ROT_MBOX_HEADER_SIZE + sizeof(body));
  /* The wire bytes, pinned. */
  const uint8_t want[20] = {0x52, 0x4d, 1, 0, 0x20, 0, 0, 0, 0xef, 0xbe,
                            0xad, 0xde, 0, 0, 0, 0, 5, 0, 0, 0};
  assert_memory_equal(g_frame, want, sizeof(want));
  rot_mbox_header_t h;
  const uint8_t *p = NULL;
  assert_int_equal(rot_mbox_frame_decode(g_frame, n, &h, &p), ROT_OK);
  assert_int_equal(h.magic, ROT_MBOX_MAGIC);
  assert_int_equal(h.version, ROT_MBOX_VERSION);
  assert_int_equal(h.flags, 0);
  assert_int_equal(h.command, ROT_MBOX_CMD_BOOT);
  assert_int_equal(h.seq, 0xdeadbeef);
  assert_int_equal(h.status, 0);
  assert_int_equal(h.payload_len, sizeof(body));
  assert_ptr_equal(p, g_frame + ROT_MBOX_HEADER_SIZE);
  assert_memory_equal(p, body, sizeof(body));
}

static void mailbox_test_frame_decode_response_round_trip(void **state) {
  (void)state;
  size_t n = 0;
  assert_int_equal(rot_mbox_frame_encode(g_frame, sizeof(g_frame),
                                         ROT_MBOX_CMD_STATUS,
                                         ROT_MBOX_FLAG_RESPONSE, 7,
                                         (uint32_t)ROT_ERROR_UPDATE_BUSY, NULL,
                                         0, &n),
                   ROT_OK);
  rot_mbox_header_t h;
  const uint8_t *p;
  assert_int_equal(rot_mbox_frame_decode(g_frame, n, &h, &p), ROT_OK);
  assert_int_equal(h.flags, ROT_MBOX_FLAG_RESPONSE);
  assert_int_equal(h.status, (uint32_t)ROT_ERROR_UPDATE_BUSY);
  assert_int_equal(h.payload_len, 0);
}

static void mailbox_test_frame_decode_empty(void **state) {
  (void)state;
  rot_mbox_header_t h;
  const uint8_t *p;
  assert_int_equal(rot_mbox_frame_decode(g_frame, 0, &h, &p),
                   ROT_ERROR_MAILBOX_BAD_FRAME);
}

static void mailbox_test_frame_decode_short(void **state) {
  (void)state;
  put_header(g_frame, ROT_MBOX_MAGIC, 1, 0, ROT_MBOX_CMD_STATUS, 0, 1, 0, 0);
  for (size_t len = 1; len < ROT_MBOX_HEADER_SIZE; len++) {
    assert_int_equal(decode(len), ROT_ERROR_MAILBOX_BAD_FRAME);
  }
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE), ROT_OK);
}

static void mailbox_test_frame_decode_length_longer_than_declared(void **state) {
  (void)state;
  put_header(g_frame, ROT_MBOX_MAGIC, 1, 0, ROT_MBOX_CMD_BOOT, 0, 1, 0, 4);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE + 4), ROT_OK);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE + 5),
                   ROT_ERROR_MAILBOX_BAD_LENGTH);
}

static void mailbox_test_frame_decode_length_shorter_than_declared(void **state) {
  (void)state;
  put_header(g_frame, ROT_MBOX_MAGIC, 1, 0, ROT_MBOX_CMD_BOOT, 0, 1, 0, 4);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE + 3),
                   ROT_ERROR_MAILBOX_BAD_LENGTH);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE), ROT_ERROR_MAILBOX_BAD_LENGTH);
}

static void mailbox_test_frame_decode_bad_magic(void **state) {
  (void)state;
  put_header(g_frame, 0x4d53, 1, 0, ROT_MBOX_CMD_STATUS, 0, 1, 0, 0);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE), ROT_ERROR_MAILBOX_BAD_FRAME);
  put_header(g_frame, 0x524d, 1, 0, ROT_MBOX_CMD_STATUS, 0, 1, 0, 0);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE), ROT_ERROR_MAILBOX_BAD_FRAME);
}

static void mailbox_test_frame_decode_bad_version(void **state) {
  (void)state;
  const uint8_t versions[] = {0, 2, 0xff};
  for (size_t i = 0; i < sizeof(versions); i++) {
    put_header(g_frame, ROT_MBOX_MAGIC, versions[i], 0, ROT_MBOX_CMD_STATUS, 0,
               1, 0, 0);
    assert_int_equal(decode(ROT_MBOX_HEADER_SIZE),
                     ROT_ERROR_MAILBOX_BAD_VERSION);
  }
}

static void mailbox_test_frame_decode_unknown_flags(void **state) {
  (void)state;
  for (unsigned bit = 1; bit < 8; bit++) {
    put_header(g_frame, ROT_MBOX_MAGIC, 1, (uint8_t)(1u << bit),
               ROT_MBOX_CMD_STATUS, 0, 1, 0, 0);
    assert_int_equal(decode(ROT_MBOX_HEADER_SIZE), ROT_ERROR_MAILBOX_BAD_FRAME);
  }
}

static void mailbox_test_frame_decode_reserved_nonzero(void **state) {
  (void)state;
  put_header(g_frame, ROT_MBOX_MAGIC, 1, 0, ROT_MBOX_CMD_STATUS, 0x0100, 1, 0,
             0);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE), ROT_ERROR_MAILBOX_BAD_FRAME);
}

static void mailbox_test_frame_decode_payload_len_too_large(void **state) {
  (void)state;
  put_header(g_frame, ROT_MBOX_MAGIC, 1, 0, ROT_MBOX_CMD_UPDATE_CHUNK, 0, 1, 0,
             ROT_MBOX_MAX_PAYLOAD + 1u);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE), ROT_ERROR_MAILBOX_TOO_LARGE);
  put_header(g_frame, ROT_MBOX_MAGIC, 1, 0, ROT_MBOX_CMD_UPDATE_CHUNK, 0, 1, 0,
             0xffffffffu);
  assert_int_equal(decode(ROT_MBOX_HEADER_SIZE), ROT_ERROR_MAILBOX_TOO_LARGE);
}

static void mailbox_test_frame_decode_frame_too_large(void **state) {
  (void)state;
  put_header(g_frame, ROT_MBOX_MAGIC, 1, 0, ROT_MBOX_CMD_UPDATE_CHUNK, 0, 1, 0,
             ROT_MBOX_MAX_PAYLOAD + 1u);
  assert_int_equal(decode(ROT_MBOX_MAX_FRAME + 1u), ROT_ERROR_MAILBOX_TOO_LARGE);
  /* A size no buffer holds is refused before any byte is read. */
  rot_mbox_header_t h;
  const uint8_t *p;
  assert_int_equal(rot_mbox_frame_decode(g_frame, SIZE_MAX, &h, &p),
                   ROT_ERROR_MAILBOX_TOO_LARGE);
}

static void mailbox_test_frame_decode_max_payload(void **state) {
  (void)state;
  put_header(g_frame, ROT_MBOX_MAGIC, 1, 0, ROT_MBOX_CMD_UPDATE_CHUNK, 0, 1, 0,
             ROT_MBOX_MAX_PAYLOAD);
  assert_int_equal(decode(ROT_MBOX_MAX_FRAME), ROT_OK);
}

static void mailbox_test_frame_decode_null(void **state) {
  (void)state;
  rot_mbox_header_t h;
  const uint8_t *p;
  assert_int_equal(rot_mbox_frame_decode(NULL, 20, &h, &p),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_mbox_frame_decode(g_frame, 20, NULL, &p),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_mbox_frame_decode(g_frame, 20, &h, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* ---- request / reply checks -------------------------------------------------- */

static rot_mbox_header_t header(uint8_t flags, uint16_t cmd, uint32_t seq,
                                uint32_t status, uint32_t payload_len) {
  rot_mbox_header_t h = {ROT_MBOX_MAGIC, ROT_MBOX_VERSION, flags, cmd, 0,
                         seq,            status,           payload_len};
  return h;
}

static void mailbox_test_request_check_every_command(void **state) {
  (void)state;
  const uint16_t cmds[] = {
      ROT_MBOX_CMD_STATUS,        ROT_MBOX_CMD_INVENTORY,
      ROT_MBOX_CMD_READ_REGION,   ROT_MBOX_CMD_UPDATE_BEGIN,
      ROT_MBOX_CMD_UPDATE_CHUNK,  ROT_MBOX_CMD_UPDATE_FINISH,
      ROT_MBOX_CMD_UPDATE_ABORT,  ROT_MBOX_CMD_ACTIVATE,
      ROT_MBOX_CMD_CONFIRM,       ROT_MBOX_CMD_REVERT,
      ROT_MBOX_CMD_BOOT,          ROT_MBOX_CMD_AUDIT_READ,
      ROT_MBOX_CMD_AUDIT_VERIFY,  ROT_MBOX_CMD_LOCK,
  };
  for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
    rot_mbox_header_t h = header(0, cmds[i], 1, 0, 0);
    assert_int_equal(rot_mbox_request_check(&h), ROT_OK);
    assert_string_not_equal(rot_mbox_command_name(cmds[i]), "unknown");
  }
}

static void mailbox_test_request_check_unknown_command(void **state) {
  (void)state;
  const uint16_t cmds[] = {0, 4, 0x17, 0x41, 0xffff};
  for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
    rot_mbox_header_t h = header(0, cmds[i], 1, 0, 0);
    assert_int_equal(rot_mbox_request_check(&h),
                     ROT_ERROR_MAILBOX_UNKNOWN_COMMAND);
    assert_string_equal(rot_mbox_command_name(cmds[i]), "unknown");
  }
}

static void mailbox_test_request_check_response_flag(void **state) {
  (void)state;
  rot_mbox_header_t h =
      header(ROT_MBOX_FLAG_RESPONSE, ROT_MBOX_CMD_STATUS, 1, 0, 0);
  assert_int_equal(rot_mbox_request_check(&h), ROT_ERROR_MAILBOX_BAD_FRAME);
}

static void mailbox_test_request_check_status_nonzero(void **state) {
  (void)state;
  rot_mbox_header_t h = header(0, ROT_MBOX_CMD_STATUS, 1, (uint32_t)ROT_OK, 0);
  assert_int_equal(rot_mbox_request_check(&h), ROT_ERROR_MAILBOX_BAD_FRAME);
  assert_int_equal(rot_mbox_request_check(NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void mailbox_test_reply_check_ok(void **state) {
  (void)state;
  rot_mbox_header_t h = header(ROT_MBOX_FLAG_RESPONSE, ROT_MBOX_CMD_BOOT, 9,
                               (uint32_t)ROT_OK, 88);
  assert_int_equal(rot_mbox_reply_check(&h, ROT_MBOX_CMD_BOOT, 9), ROT_OK);
  h = header(ROT_MBOX_FLAG_RESPONSE, ROT_MBOX_CMD_BOOT, 9,
             (uint32_t)ROT_ERROR_BOOT_NO_IMAGE, 0);
  assert_int_equal(rot_mbox_reply_check(&h, ROT_MBOX_CMD_BOOT, 9), ROT_OK);
}

static void mailbox_test_reply_check_mismatch(void **state) {
  (void)state;
  rot_mbox_header_t h = header(ROT_MBOX_FLAG_RESPONSE, ROT_MBOX_CMD_BOOT, 9,
                               (uint32_t)ROT_OK, 0);
  assert_int_equal(rot_mbox_reply_check(&h, ROT_MBOX_CMD_BOOT, 10),
                   ROT_ERROR_MAILBOX_BAD_FRAME);
  assert_int_equal(rot_mbox_reply_check(&h, ROT_MBOX_CMD_LOCK, 9),
                   ROT_ERROR_MAILBOX_BAD_FRAME);
  h.flags = 0;
  assert_int_equal(rot_mbox_reply_check(&h, ROT_MBOX_CMD_BOOT, 9),
                   ROT_ERROR_MAILBOX_BAD_FRAME);
}

static void mailbox_test_reply_check_error_with_payload(void **state) {
  (void)state;
  rot_mbox_header_t h = header(ROT_MBOX_FLAG_RESPONSE, ROT_MBOX_CMD_BOOT, 9,
                               (uint32_t)ROT_ERROR_UPDATE_BUSY, 4);
  assert_int_equal(rot_mbox_reply_check(&h, ROT_MBOX_CMD_BOOT, 9),
                   ROT_ERROR_MAILBOX_BAD_LENGTH);
}

/* ---- frame encode / peek ---------------------------------------------------------- */

static void mailbox_test_frame_encode_in_place(void **state) {
  (void)state;
  uint8_t *p = g_frame + ROT_MBOX_HEADER_SIZE;
  memset(p, 0xa5, 1000);
  size_t n = 0;
  assert_int_equal(rot_mbox_frame_encode(g_frame, sizeof(g_frame),
                                         ROT_MBOX_CMD_READ_REGION,
                                         ROT_MBOX_FLAG_RESPONSE, 3,
                                         (uint32_t)ROT_OK, p, 1000, &n),
                   ROT_OK);
  assert_int_equal(n, ROT_MBOX_HEADER_SIZE + 1000);
  for (size_t i = 0; i < 1000; i++) {
    assert_int_equal(p[i], 0xa5);
  }
}

static void mailbox_test_frame_encode_buffer_too_small(void **state) {
  (void)state;
  uint8_t small[ROT_MBOX_HEADER_SIZE + 3];
  const uint8_t body[4] = {0};
  size_t n = 99;
  assert_int_equal(rot_mbox_frame_encode(small, sizeof(small),
                                         ROT_MBOX_CMD_BOOT, 0, 1, 0, body, 4, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 0);
  assert_int_equal(rot_mbox_frame_encode(small, 10, ROT_MBOX_CMD_STATUS, 0, 1,
                                         0, NULL, 0, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
}

static void mailbox_test_frame_encode_payload_too_large(void **state) {
  (void)state;
  size_t n;
  assert_int_equal(rot_mbox_frame_encode(g_frame, sizeof(g_frame),
                                         ROT_MBOX_CMD_UPDATE_CHUNK, 0, 1, 0,
                                         g_payload, ROT_MBOX_MAX_PAYLOAD + 1u,
                                         &n),
                   ROT_ERROR_MAILBOX_TOO_LARGE);
}

static void mailbox_test_frame_encode_bad_args(void **state) {
  (void)state;
  size_t n;
  assert_int_equal(rot_mbox_frame_encode(g_frame, sizeof(g_frame),
                                         ROT_MBOX_CMD_STATUS, 0x02, 1, 0, NULL,
                                         0, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_mbox_frame_encode(g_frame, sizeof(g_frame),
                                         ROT_MBOX_CMD_STATUS, 0, 1, 0, NULL, 4,
                                         &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_mbox_frame_encode(NULL, 100, ROT_MBOX_CMD_STATUS, 0, 1,
                                         0, NULL, 0, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void mailbox_test_peek_partial(void **state) {
  (void)state;
  put_header(g_frame, 0xffff, 9, 0xff, 0x1234, 0xffff, 0x01020304, 5, 99);
  uint16_t cmd = 1;
  uint32_t seq = 1;
  rot_mbox_peek(g_frame, 5, &cmd, &seq);
  assert_int_equal(cmd, 0);
  assert_int_equal(seq, 0);
  rot_mbox_peek(g_frame, 6, &cmd, &seq);
  assert_int_equal(cmd, 0x1234);
  assert_int_equal(seq, 0);
  rot_mbox_peek(g_frame, 12, &cmd, &seq);
  assert_int_equal(seq, 0x01020304);
  rot_mbox_peek(NULL, 12, &cmd, &seq);
  assert_int_equal(cmd, 0);
  assert_int_equal(seq, 0);
}

/* ---- payloads: fixed sizes -------------------------------------------------------- */

/* Exact size decodes; one byte short or long does not. */
#define CHECK_FIXED(decode_fn, type_, size_, bytes_)                   \
  do {                                                                 \
    type_ out_;                                                        \
    assert_int_equal(decode_fn(bytes_, size_, &out_), ROT_OK);         \
    assert_int_equal(decode_fn(bytes_, (size_) - 1u, &out_),           \
                     ROT_ERROR_MAILBOX_BAD_ARGS);                      \
    assert_int_equal(decode_fn(bytes_, (size_) + 1u, &out_),           \
                     ROT_ERROR_MAILBOX_BAD_ARGS);                      \
    assert_int_equal(decode_fn(bytes_, 0, &out_),                      \
                     ROT_ERROR_MAILBOX_BAD_ARGS);                      \
    assert_int_equal(decode_fn(bytes_, size_, NULL),                   \
                     ROT_ERROR_INVALID_ARGUMENT);                      \
  } while (0)

static void mailbox_test_type_req_round_trip(void **state) {
  (void)state;
  rot_mbox_type_req_t in = {ROT_IMAGE_TYPE_HYPERVISOR}, out;
  size_t n;
  assert_int_equal(rot_mbox_type_req_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(n, ROT_MBOX_TYPE_REQ_SIZE);
  assert_int_equal(rot_mbox_type_req_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.image_type, ROT_IMAGE_TYPE_HYPERVISOR);
  CHECK_FIXED(rot_mbox_type_req_decode, rot_mbox_type_req_t,
              ROT_MBOX_TYPE_REQ_SIZE, g_payload);
}

static void mailbox_test_read_req_round_trip(void **state) {
  (void)state;
  rot_mbox_read_req_t in = {ROT_RGN_AUDIT, 0x1000, ROT_MBOX_READ_MAX}, out;
  size_t n;
  assert_int_equal(rot_mbox_read_req_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(n, ROT_MBOX_READ_REQ_SIZE);
  assert_int_equal(rot_mbox_read_req_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.region, ROT_RGN_AUDIT);
  assert_int_equal(out.offset, 0x1000);
  assert_int_equal(out.length, ROT_MBOX_READ_MAX);
  CHECK_FIXED(rot_mbox_read_req_decode, rot_mbox_read_req_t,
              ROT_MBOX_READ_REQ_SIZE, g_payload);
}

static void mailbox_test_read_req_length_limits(void **state) {
  (void)state;
  rot_mbox_read_req_t in = {0, 0, 0}, out;
  size_t n;
  assert_int_equal(rot_mbox_read_req_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(rot_mbox_read_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  in.length = ROT_MBOX_READ_MAX + 1u;
  assert_int_equal(rot_mbox_read_req_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(rot_mbox_read_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_TOO_LARGE);
}

static void mailbox_test_begin_req_round_trip(void **state) {
  (void)state;
  rot_mbox_begin_req_t in = {ROT_IMAGE_TYPE_DTB, 123456}, out;
  size_t n;
  assert_int_equal(rot_mbox_begin_req_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(n, ROT_MBOX_BEGIN_REQ_SIZE);
  assert_int_equal(rot_mbox_begin_req_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.image_type, ROT_IMAGE_TYPE_DTB);
  assert_int_equal(out.total_len, 123456);
  CHECK_FIXED(rot_mbox_begin_req_decode, rot_mbox_begin_req_t,
              ROT_MBOX_BEGIN_REQ_SIZE, g_payload);
}

static void mailbox_test_begin_resp_round_trip(void **state) {
  (void)state;
  rot_mbox_begin_resp_t in = {ROT_RGN_HYPERVISOR_B, ROT_SLOT_B,
                              ROT_UPDATE_CHUNK_MAX},
                        out;
  size_t n;
  assert_int_equal(rot_mbox_begin_resp_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(n, ROT_MBOX_BEGIN_RESP_SIZE);
  assert_int_equal(rot_mbox_begin_resp_decode(g_payload, n, &out), ROT_OK);
  assert_memory_equal(&in, &out, sizeof(in));
  CHECK_FIXED(rot_mbox_begin_resp_decode, rot_mbox_begin_resp_t,
              ROT_MBOX_BEGIN_RESP_SIZE, g_payload);
}

static void mailbox_test_begin_resp_bad_fields(void **state) {
  (void)state;
  const rot_mbox_begin_resp_t bad[] = {
      {ROT_RGN_HYPERVISOR_B, 2, 1024},
      {ROT_RGN_HYPERVISOR_B, 0x1ff, 1024},
      {ROT_RGN_HYPERVISOR_B, ROT_SLOT_A, 0},
      {ROT_RGN_HYPERVISOR_B, ROT_SLOT_A, ROT_MBOX_CHUNK_DATA_MAX + 1u},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    rot_mbox_begin_resp_t out;
    size_t n;
    assert_int_equal(rot_mbox_begin_resp_encode(&bad[i], g_payload, 64, &n),
                     ROT_OK);
    assert_int_equal(rot_mbox_begin_resp_decode(g_payload, n, &out),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
  }
}

static void mailbox_test_chunk_resp_round_trip(void **state) {
  (void)state;
  rot_mbox_chunk_resp_t in = {65536}, out;
  size_t n;
  assert_int_equal(rot_mbox_chunk_resp_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(rot_mbox_chunk_resp_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.written, 65536);
  CHECK_FIXED(rot_mbox_chunk_resp_decode, rot_mbox_chunk_resp_t,
              ROT_MBOX_CHUNK_RESP_SIZE, g_payload);
}

static rot_mbox_image_info_t sample_info(void) {
  rot_mbox_image_info_t i;
  memset(&i, 0, sizeof(i));
  i.image_type = ROT_IMAGE_TYPE_HYPERVISOR;
  i.region = ROT_RGN_HYPERVISOR_A;
  i.svn = 7;
  i.key_index = 3;
  i.ver_major = 1;
  i.ver_minor = 2;
  i.ver_patch = 0xffff;
  i.payload_len = 5000;
  i.image_len = 5528;
  for (size_t k = 0; k < sizeof(i.payload_digest); k++) {
    i.payload_digest[k] = (uint8_t)(k * 7u + 1u);
  }
  for (size_t k = 0; k < sizeof(i.signed_digest); k++) {
    i.signed_digest[k] = (uint8_t)(0xa0u ^ (k * 13u));
  }
  return i;
}

/* Field by field: the struct has padding that no codec writes. */
static void assert_info_equal(const rot_mbox_image_info_t *a,
                              const rot_mbox_image_info_t *b) {
  assert_int_equal(a->image_type, b->image_type);
  assert_int_equal(a->region, b->region);
  assert_int_equal(a->svn, b->svn);
  assert_int_equal(a->key_index, b->key_index);
  assert_int_equal(a->ver_major, b->ver_major);
  assert_int_equal(a->ver_minor, b->ver_minor);
  assert_int_equal(a->ver_patch, b->ver_patch);
  assert_int_equal(a->payload_len, b->payload_len);
  assert_int_equal(a->image_len, b->image_len);
  assert_memory_equal(a->payload_digest, b->payload_digest,
                      sizeof(a->payload_digest));
  assert_memory_equal(a->signed_digest, b->signed_digest,
                      sizeof(a->signed_digest));
}

static void mailbox_test_image_info_round_trip(void **state) {
  (void)state;
  rot_mbox_image_info_t in = sample_info(), out;
  size_t n;
  assert_int_equal(rot_mbox_image_info_encode(&in, g_payload, 128, &n), ROT_OK);
  assert_int_equal(n, ROT_MBOX_IMAGE_INFO_SIZE);
  assert_int_equal(rot_mbox_image_info_decode(g_payload, n, &out), ROT_OK);
  assert_info_equal(&in, &out);
  CHECK_FIXED(rot_mbox_image_info_decode, rot_mbox_image_info_t,
              ROT_MBOX_IMAGE_INFO_SIZE, g_payload);
}

static void mailbox_test_image_info_wire_layout(void **state) {
  (void)state;
  rot_mbox_image_info_t in = sample_info();
  size_t n;
  assert_int_equal(rot_mbox_image_info_encode(&in, g_payload, 256, &n), ROT_OK);
  assert_int_equal(n, 128);
  assert_int_equal(rot_ld32(g_payload + 28), in.image_len);
  assert_memory_equal(g_payload + 32, in.payload_digest, ROT_SHA384_LEN);
  assert_memory_equal(g_payload + 80, in.signed_digest, ROT_SHA384_LEN);
  /* Every byte of the signed digest reaches the decoded struct. */
  for (size_t k = 80; k < 128; k++) {
    rot_mbox_image_info_t out;
    g_payload[k] ^= 0x01u;
    assert_int_equal(rot_mbox_image_info_decode(g_payload, n, &out), ROT_OK);
    assert_int_equal(out.signed_digest[k - 80u], in.signed_digest[k - 80u] ^ 1u);
    g_payload[k] ^= 0x01u;
  }
}

static void mailbox_test_image_info_without_signed_digest(void **state) {
  (void)state;
  /* The 80-byte info of a peer that sends no signed digest, alone and
   * inside the BOOT reply, is refused, never read as a zero digest. */
  rot_mbox_image_info_t out;
  rot_mbox_boot_resp_t bout;
  memset(g_payload, 0, 256);
  assert_int_equal(rot_mbox_image_info_decode(g_payload, 80, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  assert_int_equal(rot_mbox_boot_resp_decode(g_payload, 88, &bout),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  /* Short by any amount, or long by any amount up to another digest. */
  for (size_t len = 0; len <= ROT_MBOX_IMAGE_INFO_SIZE + ROT_SHA384_LEN; len++) {
    if (len != ROT_MBOX_IMAGE_INFO_SIZE) {
      assert_int_equal(rot_mbox_image_info_decode(g_payload, len, &out),
                       ROT_ERROR_MAILBOX_BAD_ARGS);
    }
    if (len + 8u != ROT_MBOX_BOOT_RESP_SIZE) {
      assert_int_equal(rot_mbox_boot_resp_decode(g_payload, len + 8u, &bout),
                       ROT_ERROR_MAILBOX_BAD_ARGS);
    }
  }
}

static void mailbox_test_image_info_reserved_nonzero(void **state) {
  (void)state;
  rot_mbox_image_info_t in = sample_info(), out;
  size_t n;
  assert_int_equal(rot_mbox_image_info_encode(&in, g_payload, 128, &n), ROT_OK);
  g_payload[22] = 1; /* the u16 after the version */
  assert_int_equal(rot_mbox_image_info_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void mailbox_test_type_state_round_trip(void **state) {
  (void)state;
  rot_mbox_type_state_t in = {ROT_IMAGE_TYPE_DTB, ROT_SLOT_A, ROT_SLOT_B,
                              ROT_SLOT_NONE, 3, 5, 6},
                        out;
  size_t n;
  assert_int_equal(rot_mbox_type_state_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(n, ROT_MBOX_TYPE_STATE_SIZE);
  assert_int_equal(rot_mbox_type_state_decode(g_payload, n, &out), ROT_OK);
  assert_memory_equal(&in, &out, sizeof(in));
  CHECK_FIXED(rot_mbox_type_state_decode, rot_mbox_type_state_t,
              ROT_MBOX_TYPE_STATE_SIZE, g_payload);
}

static void mailbox_test_type_state_bad_slot(void **state) {
  (void)state;
  rot_mbox_type_state_t in = {ROT_IMAGE_TYPE_DTB, 2, ROT_SLOT_B, ROT_SLOT_NONE,
                              0, 0, 0},
                        out;
  size_t n;
  for (int field = 0; field < 3; field++) {
    in.active = field == 0 ? 2 : ROT_SLOT_A;
    in.pending = field == 1 ? 0x80 : ROT_SLOT_NONE;
    in.staged = field == 2 ? 0xfe : ROT_SLOT_NONE;
    assert_int_equal(rot_mbox_type_state_encode(&in, g_payload, 64, &n), ROT_OK);
    assert_int_equal(rot_mbox_type_state_decode(g_payload, n, &out),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
  }
}

static void mailbox_test_boot_resp_round_trip(void **state) {
  (void)state;
  rot_mbox_boot_resp_t in, out;
  memset(&in, 0, sizeof(in));
  in.reason = ROT_BOOT_FALLBACK_OTHER;
  in.why = (uint32_t)ROT_ERROR_IMAGE_DIGEST_MISMATCH;
  in.info = sample_info();
  size_t n;
  assert_int_equal(rot_mbox_boot_resp_encode(&in, g_payload,
                                             ROT_MBOX_BOOT_RESP_SIZE - 1u, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(rot_mbox_boot_resp_encode(&in, g_payload,
                                             ROT_MBOX_BOOT_RESP_SIZE, &n),
                   ROT_OK);
  assert_int_equal(n, ROT_MBOX_BOOT_RESP_SIZE);
  assert_int_equal(n, 136);
  assert_memory_equal(g_payload + 8 + 80, in.info.signed_digest, ROT_SHA384_LEN);
  assert_int_equal(rot_mbox_boot_resp_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.reason, in.reason);
  assert_int_equal(out.why, in.why);
  assert_info_equal(&in.info, &out.info);
  CHECK_FIXED(rot_mbox_boot_resp_decode, rot_mbox_boot_resp_t,
              ROT_MBOX_BOOT_RESP_SIZE, g_payload);
}

static void mailbox_test_audit_read_req_round_trip(void **state) {
  (void)state;
  rot_mbox_audit_read_req_t in = {17, ROT_MBOX_AUDIT_MAX_RECORDS}, out;
  size_t n;
  assert_int_equal(rot_mbox_audit_read_req_encode(&in, g_payload, 64, &n),
                   ROT_OK);
  assert_int_equal(rot_mbox_audit_read_req_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.start_seq, 17);
  assert_int_equal(out.count, ROT_MBOX_AUDIT_MAX_RECORDS);
  CHECK_FIXED(rot_mbox_audit_read_req_decode, rot_mbox_audit_read_req_t,
              ROT_MBOX_AUDIT_READ_REQ_SIZE, g_payload);
}

static void mailbox_test_audit_read_req_count_limits(void **state) {
  (void)state;
  rot_mbox_audit_read_req_t in = {1, 0}, out;
  size_t n;
  assert_int_equal(rot_mbox_audit_read_req_encode(&in, g_payload, 64, &n),
                   ROT_OK);
  assert_int_equal(rot_mbox_audit_read_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  in.count = ROT_MBOX_AUDIT_MAX_RECORDS + 1u;
  assert_int_equal(rot_mbox_audit_read_req_encode(&in, g_payload, 64, &n),
                   ROT_OK);
  assert_int_equal(rot_mbox_audit_read_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_TOO_LARGE);
}

static void mailbox_test_audit_report_round_trip(void **state) {
  (void)state;
  rot_audit_report_t in = {40, 1, 3, 42, 17, ROT_ERROR_AUDIT_TAMPERED}, out;
  size_t n;
  assert_int_equal(rot_mbox_audit_report_encode(&in, g_payload, 64, &n),
                   ROT_OK);
  assert_int_equal(n, ROT_MBOX_AUDIT_REPORT_SIZE);
  assert_int_equal(rot_mbox_audit_report_decode(g_payload, n, &out), ROT_OK);
  assert_memory_equal(&in, &out, sizeof(in));
  CHECK_FIXED(rot_mbox_audit_report_decode, rot_audit_report_t,
              ROT_MBOX_AUDIT_REPORT_SIZE, g_payload);
}

static void mailbox_test_lock_round_trip(void **state) {
  (void)state;
  rot_mbox_lock_req_t in = {ROT_MBOX_LOCK_BOOT}, out;
  rot_mbox_lock_resp_t rin = {0x1fc}, rout;
  size_t n;
  assert_int_equal(rot_mbox_lock_req_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(rot_mbox_lock_req_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.region, ROT_MBOX_LOCK_BOOT);
  CHECK_FIXED(rot_mbox_lock_req_decode, rot_mbox_lock_req_t,
              ROT_MBOX_LOCK_REQ_SIZE, g_payload);
  assert_int_equal(rot_mbox_lock_resp_encode(&rin, g_payload, 64, &n), ROT_OK);
  assert_int_equal(rot_mbox_lock_resp_decode(g_payload, n, &rout), ROT_OK);
  assert_int_equal(rout.locked_mask, 0x1fc);
  CHECK_FIXED(rot_mbox_lock_resp_decode, rot_mbox_lock_resp_t,
              ROT_MBOX_LOCK_RESP_SIZE, g_payload);
}

static void mailbox_test_encode_buffer_too_small(void **state) {
  (void)state;
  size_t n = 99;
  rot_mbox_image_info_t i = sample_info();
  assert_int_equal(rot_mbox_image_info_encode(&i, g_payload,
                                              ROT_MBOX_IMAGE_INFO_SIZE - 1u, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 0);
  rot_mbox_type_req_t t = {1};
  assert_int_equal(rot_mbox_type_req_encode(&t, g_payload, 3, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(rot_mbox_type_req_encode(&t, NULL, 64, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(rot_mbox_type_req_encode(NULL, g_payload, 64, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* ---- chunk request ------------------------------------------------------------------ */

static size_t chunk_bytes(uint32_t offset, uint32_t length, size_t data_len) {
  rot_st32(g_payload, offset);
  rot_st32(g_payload + 4, length);
  memset(g_payload + 8, 0x5a, data_len);
  return 8u + data_len;
}

static void mailbox_test_chunk_req_round_trip(void **state) {
  (void)state;
  const uint8_t data[3] = {9, 8, 7};
  rot_mbox_chunk_req_t in = {4096, 3, data}, out;
  size_t n;
  assert_int_equal(rot_mbox_chunk_req_encode(&in, g_payload, 64, &n), ROT_OK);
  assert_int_equal(n, ROT_MBOX_CHUNK_REQ_FIXED + 3u);
  assert_int_equal(rot_mbox_chunk_req_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.offset, 4096);
  assert_int_equal(out.length, 3);
  assert_ptr_equal(out.data, g_payload + 8);
  assert_memory_equal(out.data, data, 3);
}

static void mailbox_test_chunk_req_max(void **state) {
  (void)state;
  rot_mbox_chunk_req_t out;
  size_t n = chunk_bytes(0, ROT_MBOX_CHUNK_DATA_MAX, ROT_MBOX_CHUNK_DATA_MAX);
  assert_int_equal(rot_mbox_chunk_req_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.length, ROT_MBOX_CHUNK_DATA_MAX);
}

static void mailbox_test_chunk_req_too_large(void **state) {
  (void)state;
  rot_mbox_chunk_req_t out;
  size_t n =
      chunk_bytes(0, ROT_MBOX_CHUNK_DATA_MAX + 1u, ROT_MBOX_CHUNK_DATA_MAX + 1u);
  assert_int_equal(rot_mbox_chunk_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_TOO_LARGE);
  /* Declared huge, carried small: still refused as too large. */
  n = chunk_bytes(0, 0xffffffffu, 16);
  assert_int_equal(rot_mbox_chunk_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_TOO_LARGE);
  rot_mbox_chunk_req_t in = {0, ROT_MBOX_CHUNK_DATA_MAX + 1u, g_frame};
  assert_int_equal(rot_mbox_chunk_req_encode(&in, g_payload, sizeof(g_payload), &n),
                   ROT_ERROR_MAILBOX_TOO_LARGE);
}

static void mailbox_test_chunk_req_length_mismatch(void **state) {
  (void)state;
  rot_mbox_chunk_req_t out;
  size_t n = chunk_bytes(0, 10, 11); /* more data than declared */
  assert_int_equal(rot_mbox_chunk_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  n = chunk_bytes(0, 10, 9); /* less */
  assert_int_equal(rot_mbox_chunk_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  assert_null(out.data);
}

static void mailbox_test_chunk_req_truncated_head(void **state) {
  (void)state;
  rot_mbox_chunk_req_t out;
  chunk_bytes(0, 1, 1);
  for (size_t len = 0; len < 9; len++) {
    assert_int_equal(rot_mbox_chunk_req_decode(g_payload, len, &out),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
  }
  assert_int_equal(rot_mbox_chunk_req_decode(g_payload, 9, &out), ROT_OK);
}

static void mailbox_test_chunk_req_empty_data(void **state) {
  (void)state;
  rot_mbox_chunk_req_t out;
  size_t n = chunk_bytes(0, 0, 0);
  assert_int_equal(rot_mbox_chunk_req_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

/* ---- status ---------------------------------------------------------------------------- */

static rot_mbox_status_t sample_status(uint32_t types) {
  rot_mbox_status_t s;
  memset(&s, 0, sizeof(s));
  s.lifecycle = ROT_LIFECYCLE_DEV;
  s.revoked_keys = 0x5;
  memset(s.root_key_hash, 0xab, sizeof(s.root_key_hash));
  s.flash_size = 128u << 20;
  s.erase_size = 65536;
  s.locked_mask = 0x30;
  s.session_open = 1;
  s.session_type = ROT_IMAGE_TYPE_HYPERVISOR;
  s.session_declared = 9000;
  s.session_written = 4096;
  s.audit_next_seq = 77;
  s.type_count = types;
  for (uint32_t i = 0; i < types; i++) {
    s.types[i].image_type = i + 1u;
    s.types[i].active = ROT_SLOT_A;
    s.types[i].pending = ROT_SLOT_NONE;
    s.types[i].staged = ROT_SLOT_B;
    s.types[i].svn_floor = i;
  }
  return s;
}

static void mailbox_test_status_round_trip(void **state) {
  (void)state;
  for (uint32_t types = 0; types <= ROT_MBOX_MAX_TYPES; types++) {
    rot_mbox_status_t in = sample_status(types), out;
    size_t n;
    assert_int_equal(rot_mbox_status_encode(&in, g_payload, 1024, &n), ROT_OK);
    assert_int_equal(n, ROT_MBOX_STATUS_FIXED + types * ROT_MBOX_TYPE_STATE_SIZE);
    assert_int_equal(rot_mbox_status_decode(g_payload, n, &out), ROT_OK);
    assert_memory_equal(&in, &out, sizeof(in));
    assert_int_equal(rot_mbox_status_decode(g_payload, n - 1u, &out),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
    assert_int_equal(rot_mbox_status_decode(g_payload, n + 1u, &out),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
  }
}

static void mailbox_test_status_too_many_types(void **state) {
  (void)state;
  rot_mbox_status_t in = sample_status(ROT_MBOX_MAX_TYPES), out;
  size_t n;
  assert_int_equal(rot_mbox_status_encode(&in, g_payload, 1024, &n), ROT_OK);
  /* type_count: the last u32 of the fixed part. */
  rot_st32(g_payload + ROT_MBOX_STATUS_FIXED - 4u, ROT_MBOX_MAX_TYPES + 1u);
  assert_int_equal(rot_mbox_status_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  rot_st32(g_payload + ROT_MBOX_STATUS_FIXED - 4u, 0xffffffffu);
  assert_int_equal(rot_mbox_status_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  in.type_count = ROT_MBOX_MAX_TYPES + 1u;
  assert_int_equal(rot_mbox_status_encode(&in, g_payload, 1024, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* The ROM verdict's reserved u16 (offset 110) must be zero. */
static void mailbox_test_status_rom_reserved(void **state) {
  (void)state;
  rot_mbox_status_t in = sample_status(1), out;
  in.rom_reason = ROT_BOOT_TRIAL;
  in.rom_region = ROT_RGN_ROT_B;
  in.rom_why = ROT_OK;
  in.rom_svn = 7;
  in.rom_ver_major = 1;
  in.rom_ver_minor = 2;
  in.rom_ver_patch = 3;
  size_t n;
  assert_int_equal(rot_mbox_status_encode(&in, g_payload, 1024, &n), ROT_OK);
  assert_int_equal(rot_ld32(g_payload + 88), ROT_BOOT_TRIAL);
  assert_int_equal(rot_ld32(g_payload + 92), ROT_RGN_ROT_B);
  assert_int_equal(rot_ld32(g_payload + 100), 7);
  assert_int_equal(g_payload[104], 1);
  assert_int_equal(g_payload[108], 3);
  assert_int_equal(rot_mbox_status_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.rom_svn, 7);
  assert_int_equal(out.rom_ver_minor, 2);
  g_payload[110] = 1;
  assert_int_equal(rot_mbox_status_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void mailbox_test_status_session_flag(void **state) {
  (void)state;
  rot_mbox_status_t in = sample_status(1), out;
  in.session_open = 2;
  size_t n;
  assert_int_equal(rot_mbox_status_encode(&in, g_payload, 1024, &n), ROT_OK);
  assert_int_equal(rot_mbox_status_decode(g_payload, n, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

/* ---- inventory -------------------------------------------------------------------------- */

static rot_mbox_inventory_t g_inv, g_inv_out;

static void sample_inventory(uint32_t count) {
  memset(&g_inv, 0, sizeof(g_inv));
  g_inv.count = count;
  for (uint32_t i = 0; i < count; i++) {
    rot_mbox_inventory_entry_t *e = &g_inv.entries[i];
    e->region = (uint8_t)i;
    e->slot = (uint8_t)(i % 2u);
    e->kind = ROT_REGION_SLOT;
    e->flags = ROT_MBOX_INV_HEADER | ROT_MBOX_INV_VERIFIED;
    e->region_type = ROT_IMAGE_TYPE_OPENSBI;
    snprintf(e->name, sizeof(e->name), "region-%u", i % 100u);
    e->status = (uint32_t)ROT_OK;
    e->info = sample_info();
  }
}

static size_t encode_inventory(void) {
  size_t n = 0;
  assert_int_equal(rot_mbox_inventory_encode(&g_inv, g_payload,
                                             sizeof(g_payload), &n),
                   ROT_OK);
  return n;
}

/* Offset of entry i's field at off (entries follow an 8-byte head). */
#define INV_AT(i, off) (8u + (i) * ROT_MBOX_INVENTORY_ENTRY_SIZE + (off))

static void mailbox_test_inventory_round_trip(void **state) {
  (void)state;
  for (uint32_t count = 0; count <= ROT_MBOX_INVENTORY_MAX; count += 3) {
    sample_inventory(count);
    size_t n = encode_inventory();
    assert_int_equal(n, 8u + count * ROT_MBOX_INVENTORY_ENTRY_SIZE);
    assert_int_equal(ROT_MBOX_INVENTORY_ENTRY_SIZE, 156);
    for (uint32_t i = 0; i < count; i++) {
      assert_memory_equal(g_payload + INV_AT(i, 28u + 80u),
                          g_inv.entries[i].info.signed_digest, ROT_SHA384_LEN);
    }
    assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                     ROT_OK);
    assert_int_equal(g_inv_out.count, count);
    for (uint32_t i = 0; i < count; i++) {
      const rot_mbox_inventory_entry_t *a = &g_inv.entries[i];
      const rot_mbox_inventory_entry_t *b = &g_inv_out.entries[i];
      assert_int_equal(a->region, b->region);
      assert_int_equal(a->slot, b->slot);
      assert_int_equal(a->kind, b->kind);
      assert_int_equal(a->flags, b->flags);
      assert_int_equal(a->region_type, b->region_type);
      assert_string_equal(a->name, b->name);
      assert_int_equal(a->status, b->status);
      assert_info_equal(&a->info, &b->info);
    }
    assert_int_equal(rot_mbox_inventory_decode(g_payload, n - 1u, &g_inv_out),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
    assert_int_equal(rot_mbox_inventory_decode(g_payload, n + 1u, &g_inv_out),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
  }
}

static void mailbox_test_inventory_count_too_large(void **state) {
  (void)state;
  sample_inventory(2);
  size_t n = encode_inventory();
  rot_st32(g_payload, ROT_MBOX_INVENTORY_MAX + 1u);
  assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  rot_st32(g_payload, 0x80000000u);
  assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void mailbox_test_inventory_reserved_nonzero(void **state) {
  (void)state;
  sample_inventory(1);
  size_t n = encode_inventory();
  g_payload[4] = 1;
  assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void mailbox_test_inventory_bad_name(void **state) {
  (void)state;
  /* No terminator, a control byte, junk after the NUL, an empty name. */
  const struct {
    size_t off;
    uint8_t v;
  } edits[] = {{15, 'x'}, {0, 0x07}, {14, 'z'}, {0, 0}};
  for (size_t k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
    sample_inventory(2);
    if (k == 0) {
      memset(g_inv.entries[1].name, 'a', sizeof(g_inv.entries[1].name));
    }
    size_t n = encode_inventory();
    g_payload[INV_AT(1u, 8u + edits[k].off)] = edits[k].v;
    assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
    assert_int_equal(g_inv_out.count, 0);
  }
}

static void mailbox_test_inventory_verified_flag_mismatch(void **state) {
  (void)state;
  sample_inventory(1);
  g_inv.entries[0].status = (uint32_t)ROT_ERROR_IMAGE_BAD_SIGNATURE;
  size_t n = encode_inventory();
  assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  sample_inventory(1);
  g_inv.entries[0].flags = ROT_MBOX_INV_HEADER; /* status OK, flag clear */
  n = encode_inventory();
  assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void mailbox_test_inventory_unknown_flags_or_slot(void **state) {
  (void)state;
  sample_inventory(1);
  g_inv.entries[0].flags |= 0x80;
  size_t n = encode_inventory();
  assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  sample_inventory(1);
  g_inv.entries[0].slot = 3;
  n = encode_inventory();
  assert_int_equal(rot_mbox_inventory_decode(g_payload, n, &g_inv_out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

/* ---- audit read reply and records ------------------------------------------------------- */

static void mailbox_test_audit_read_resp_round_trip(void **state) {
  (void)state;
  rot_mbox_audit_read_resp_t in = {3, 20, NULL}, out;
  size_t n;
  assert_int_equal(rot_mbox_audit_read_resp_encode(&in, g_payload, 64, &n),
                   ROT_OK);
  assert_int_equal(n, ROT_MBOX_AUDIT_READ_RESP_FIXED);
  memset(g_payload + n, 0x11, 3u * ROT_AUDIT_RECORD_SIZE);
  n += 3u * ROT_AUDIT_RECORD_SIZE;
  assert_int_equal(rot_mbox_audit_read_resp_decode(g_payload, n, &out), ROT_OK);
  assert_int_equal(out.count, 3);
  assert_int_equal(out.next_seq, 20);
  assert_ptr_equal(out.records, g_payload + 8);
  assert_int_equal(rot_mbox_audit_read_resp_decode(g_payload, n - 1u, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  assert_int_equal(rot_mbox_audit_read_resp_decode(g_payload, n + 1u, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  assert_int_equal(rot_mbox_audit_read_resp_decode(g_payload, 7, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void mailbox_test_audit_read_resp_empty_and_max(void **state) {
  (void)state;
  rot_mbox_audit_read_resp_t in = {0, 0, NULL}, out;
  size_t n;
  assert_int_equal(rot_mbox_audit_read_resp_encode(&in, g_payload, 64, &n),
                   ROT_OK);
  assert_int_equal(rot_mbox_audit_read_resp_decode(g_payload, n, &out), ROT_OK);
  assert_null(out.records);
  /* The largest page fits one frame. */
  size_t max = ROT_MBOX_AUDIT_READ_RESP_FIXED +
               ROT_MBOX_AUDIT_MAX_RECORDS * ROT_AUDIT_RECORD_SIZE;
  assert_true(max <= ROT_MBOX_MAX_PAYLOAD);
  rot_st32(g_payload, ROT_MBOX_AUDIT_MAX_RECORDS);
  assert_int_equal(rot_mbox_audit_read_resp_decode(g_payload, max, &out), ROT_OK);
  rot_st32(g_payload, ROT_MBOX_AUDIT_MAX_RECORDS + 1u);
  assert_int_equal(rot_mbox_audit_read_resp_decode(
                       g_payload, max + ROT_AUDIT_RECORD_SIZE, &out),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void mailbox_test_audit_record_round_trip(void **state) {
  (void)state;
  rot_audit_record_t in, out;
  memset(&in, 0xff, sizeof(in));
  in.magic = ROT_AUDIT_MAGIC;
  in.seq = 42;
  in.timestamp = 0x0102030405060708ull;
  in.event = ROT_AUDIT_CONFIRM;
  in.status = (uint32_t)ROT_OK;
  in.arg0 = ROT_IMAGE_TYPE_HYPERVISOR;
  in.arg1 = 2;
  memset(in.chain, 0x3c, sizeof(in.chain));
  in.commit = ROT_AUDIT_COMMITTED;
  uint8_t raw[ROT_AUDIT_RECORD_SIZE];
  rot_mbox_audit_record_encode(&in, raw);
  assert_int_equal(rot_ld32(raw), ROT_AUDIT_MAGIC);
  assert_int_equal(rot_ld64(raw + 8), 0x0102030405060708ull);
  assert_int_equal(rot_ld32(raw + offsetof(rot_audit_record_t, event)),
                   ROT_AUDIT_CONFIRM);
  assert_memory_equal(raw + offsetof(rot_audit_record_t, chain), in.chain,
                      sizeof(in.chain));
  assert_int_equal(rot_ld32(raw + offsetof(rot_audit_record_t, commit)),
                   ROT_AUDIT_COMMITTED);
  rot_mbox_audit_record_decode(raw, &out);
  assert_memory_equal(&in, &out, sizeof(in));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mailbox_test_frame_decode_round_trip),
      cmocka_unit_test(mailbox_test_frame_decode_response_round_trip),
      cmocka_unit_test(mailbox_test_frame_decode_empty),
      cmocka_unit_test(mailbox_test_frame_decode_short),
      cmocka_unit_test(mailbox_test_frame_decode_length_longer_than_declared),
      cmocka_unit_test(mailbox_test_frame_decode_length_shorter_than_declared),
      cmocka_unit_test(mailbox_test_frame_decode_bad_magic),
      cmocka_unit_test(mailbox_test_frame_decode_bad_version),
      cmocka_unit_test(mailbox_test_frame_decode_unknown_flags),
      cmocka_unit_test(mailbox_test_frame_decode_reserved_nonzero),
      cmocka_unit_test(mailbox_test_frame_decode_payload_len_too_large),
      cmocka_unit_test(mailbox_test_frame_decode_frame_too_large),
      cmocka_unit_test(mailbox_test_frame_decode_max_payload),
      cmocka_unit_test(mailbox_test_frame_decode_null),
      cmocka_unit_test(mailbox_test_request_check_every_command),
      cmocka_unit_test(mailbox_test_request_check_unknown_command),
      cmocka_unit_test(mailbox_test_request_check_response_flag),
      cmocka_unit_test(mailbox_test_request_check_status_nonzero),
      cmocka_unit_test(mailbox_test_reply_check_ok),
      cmocka_unit_test(mailbox_test_reply_check_mismatch),
      cmocka_unit_test(mailbox_test_reply_check_error_with_payload),
      cmocka_unit_test(mailbox_test_frame_encode_in_place),
      cmocka_unit_test(mailbox_test_frame_encode_buffer_too_small),
      cmocka_unit_test(mailbox_test_frame_encode_payload_too_large),
      cmocka_unit_test(mailbox_test_frame_encode_bad_args),
      cmocka_unit_test(mailbox_test_peek_partial),
      cmocka_unit_test(mailbox_test_type_req_round_trip),
      cmocka_unit_test(mailbox_test_read_req_round_trip),
      cmocka_unit_test(mailbox_test_read_req_length_limits),
      cmocka_unit_test(mailbox_test_begin_req_round_trip),
      cmocka_unit_test(mailbox_test_begin_resp_round_trip),
      cmocka_unit_test(mailbox_test_begin_resp_bad_fields),
      cmocka_unit_test(mailbox_test_chunk_resp_round_trip),
      cmocka_unit_test(mailbox_test_image_info_round_trip),
      cmocka_unit_test(mailbox_test_image_info_wire_layout),
      cmocka_unit_test(mailbox_test_image_info_without_signed_digest),
      cmocka_unit_test(mailbox_test_image_info_reserved_nonzero),
      cmocka_unit_test(mailbox_test_type_state_round_trip),
      cmocka_unit_test(mailbox_test_type_state_bad_slot),
      cmocka_unit_test(mailbox_test_boot_resp_round_trip),
      cmocka_unit_test(mailbox_test_audit_read_req_round_trip),
      cmocka_unit_test(mailbox_test_audit_read_req_count_limits),
      cmocka_unit_test(mailbox_test_audit_report_round_trip),
      cmocka_unit_test(mailbox_test_lock_round_trip),
      cmocka_unit_test(mailbox_test_encode_buffer_too_small),
      cmocka_unit_test(mailbox_test_chunk_req_round_trip),
      cmocka_unit_test(mailbox_test_chunk_req_max),
      cmocka_unit_test(mailbox_test_chunk_req_too_large),
      cmocka_unit_test(mailbox_test_chunk_req_length_mismatch),
      cmocka_unit_test(mailbox_test_chunk_req_truncated_head),
      cmocka_unit_test(mailbox_test_chunk_req_empty_data),
      cmocka_unit_test(mailbox_test_status_round_trip),
      cmocka_unit_test(mailbox_test_status_too_many_types),
      cmocka_unit_test(mailbox_test_status_session_flag),
      cmocka_unit_test(mailbox_test_status_rom_reserved),
      cmocka_unit_test(mailbox_test_inventory_round_trip),
      cmocka_unit_test(mailbox_test_inventory_count_too_large),
      cmocka_unit_test(mailbox_test_inventory_reserved_nonzero),
      cmocka_unit_test(mailbox_test_inventory_bad_name),
      cmocka_unit_test(mailbox_test_inventory_verified_flag_mismatch),
      cmocka_unit_test(mailbox_test_inventory_unknown_flags_or_slot),
      cmocka_unit_test(mailbox_test_audit_read_resp_round_trip),
      cmocka_unit_test(mailbox_test_audit_read_resp_empty_and_max),
      cmocka_unit_test(mailbox_test_audit_record_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
