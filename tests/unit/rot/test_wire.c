/* The table-driven codec (rot/wire.h): layouts, bounds, reserved fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rot/wire.h"

/* Every kind and width, in an order that leaves padding in the struct. */
typedef struct sample {
  uint8_t a;
  uint16_t b;
  uint32_t c;
  uint64_t d;
  uint8_t bytes[5];
} sample_t;

static const rot_field_t kSample[] = {
    ROT_FIELD_INT(sample_t, a),     ROT_FIELD_INT(sample_t, b),
    ROT_FIELD_ZERO(3),              ROT_FIELD_INT(sample_t, c),
    ROT_FIELD_INT(sample_t, d),     ROT_FIELD_BYTES(sample_t, bytes),
    ROT_FIELD_END,
};
#define SAMPLE_SIZE (1u + 2u + 3u + 4u + 8u + 5u)

static const uint8_t kWire[SAMPLE_SIZE] = {
    0x11,                                           /* a */
    0x22, 0x33,                                     /* b = 0x3322 */
    0, 0, 0,                                        /* reserved */
    0x44, 0x55, 0x66, 0x77,                         /* c = 0x77665544 */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88, /* d */
    'h', 'e', 'l', 'l', 'o',
};

static void wire_test_decode_layout(void **state) {
  (void)state;
  sample_t s;
  memset(&s, 0xee, sizeof(s));
  assert_int_equal(rot_wire_decode(kSample, SAMPLE_SIZE, kWire, sizeof(kWire), &s),
                   ROT_OK);
  assert_int_equal(s.a, 0x11);
  assert_int_equal(s.b, 0x3322);
  assert_int_equal(s.c, 0x77665544u);
  assert_true(s.d == 0x8807060504030201ull);
  assert_memory_equal(s.bytes, "hello", 5);
}

static void wire_test_encode_round_trip(void **state) {
  (void)state;
  sample_t s;
  assert_int_equal(rot_wire_decode(kSample, SAMPLE_SIZE, kWire, sizeof(kWire), &s),
                   ROT_OK);
  uint8_t out[SAMPLE_SIZE + 4];
  memset(out, 0xaa, sizeof(out));
  size_t n = 0;
  assert_int_equal(rot_wire_encode(kSample, &s, out, sizeof(out), &n), ROT_OK);
  assert_int_equal(n, SAMPLE_SIZE);
  assert_memory_equal(out, kWire, SAMPLE_SIZE);
  assert_int_equal(out[SAMPLE_SIZE], 0xaa); /* nothing past the layout */
}

static void wire_test_decode_reserved_nonzero(void **state) {
  (void)state;
  for (size_t i = 3; i < 6; i++) {
    uint8_t b[SAMPLE_SIZE];
    memcpy(b, kWire, sizeof(b));
    b[i] = 0x01;
    sample_t s;
    assert_int_equal(rot_wire_decode(kSample, SAMPLE_SIZE, b, sizeof(b), &s),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
  }
}

static void wire_test_decode_wrong_length(void **state) {
  (void)state;
  sample_t s;
  uint8_t longer[SAMPLE_SIZE + 1] = {0};
  memcpy(longer, kWire, SAMPLE_SIZE);
  for (size_t len = 0; len < SAMPLE_SIZE; len++) {
    assert_int_equal(rot_wire_decode(kSample, SAMPLE_SIZE, kWire, len, &s),
                     ROT_ERROR_MAILBOX_BAD_ARGS);
  }
  assert_int_equal(rot_wire_decode(kSample, SAMPLE_SIZE, longer, sizeof(longer), &s),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  /* A table longer than the bytes it is given (want agrees with len):
   * the cursor runs out, reads nothing past the end, fails. */
  assert_int_equal(rot_wire_decode(kSample, 4, kWire, 4, &s),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void wire_test_cursor_short_read_zeroes(void **state) {
  (void)state;
  sample_t s;
  memset(&s, 0xee, sizeof(s));
  rot_cursor_t c = rot_cursor_reader(kWire, 7);
  rot_cursor_get(&c, kSample, &s);
  assert_true(c.bad);
  assert_int_equal(s.a, 0x11);
  assert_int_equal(s.c, 0); /* past the end: zero, never bytes from beyond */
  assert_true(s.d == 0);
  assert_memory_equal(s.bytes, "\0\0\0\0\0", 5);
  assert_int_equal(rot_cursor_read_done(&c), ROT_ERROR_MAILBOX_BAD_ARGS);
}

static void wire_test_encode_buffer_too_small(void **state) {
  (void)state;
  sample_t s;
  assert_int_equal(rot_wire_decode(kSample, SAMPLE_SIZE, kWire, sizeof(kWire), &s),
                   ROT_OK);
  uint8_t out[SAMPLE_SIZE];
  for (size_t cap = 0; cap < SAMPLE_SIZE; cap++) {
    size_t n = 99;
    assert_int_equal(rot_wire_encode(kSample, &s, out, cap, &n),
                     ROT_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 0);
  }
  size_t n = 99;
  assert_int_equal(rot_wire_encode(kSample, &s, NULL, sizeof(out), &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 0);
}

static void wire_test_null_arguments(void **state) {
  (void)state;
  sample_t s;
  uint8_t out[SAMPLE_SIZE];
  size_t n = 0;
  assert_int_equal(rot_wire_decode(kSample, SAMPLE_SIZE, kWire, sizeof(kWire), NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_wire_decode(kSample, SAMPLE_SIZE, NULL, SAMPLE_SIZE, &s),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_wire_encode(kSample, NULL, out, sizeof(out), &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_wire_encode(kSample, &s, out, sizeof(out), NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  /* An empty layout over no bytes is a valid, empty decode. */
  static const rot_field_t kEmpty[] = {ROT_FIELD_END};
  assert_int_equal(rot_wire_decode(kEmpty, 0, NULL, 0, &s), ROT_OK);
}

static void wire_test_direction_is_fixed(void **state) {
  (void)state;
  /* A reader never writes into the buffer, a writer never into the
   * struct: the other direction's call is a no-op. */
  sample_t s;
  memset(&s, 0x5a, sizeof(s));
  sample_t before = s;
  uint8_t buf[SAMPLE_SIZE];
  memcpy(buf, kWire, sizeof(buf));
  rot_cursor_t r = rot_cursor_reader(buf, sizeof(buf));
  rot_cursor_put(&r, kSample, &s);
  assert_memory_equal(buf, kWire, sizeof(buf));
  assert_int_equal(r.off, 0);
  rot_cursor_t w = rot_cursor_writer(buf, sizeof(buf));
  rot_cursor_get(&w, kSample, &s);
  assert_memory_equal(&s, &before, sizeof(s));
  assert_int_equal(w.off, 0);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wire_test_decode_layout),
      cmocka_unit_test(wire_test_encode_round_trip),
      cmocka_unit_test(wire_test_decode_reserved_nonzero),
      cmocka_unit_test(wire_test_decode_wrong_length),
      cmocka_unit_test(wire_test_cursor_short_read_zeroes),
      cmocka_unit_test(wire_test_encode_buffer_too_small),
      cmocka_unit_test(wire_test_null_arguments),
      cmocka_unit_test(wire_test_direction_is_fixed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
