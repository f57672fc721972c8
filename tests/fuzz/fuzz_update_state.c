/*
 * libFuzzer target for the update-state decoder: the record the chip reads
 * back from its own flash at every start, which anyone with a flash
 * programmer can rewrite.
 *
 * Each input is decoded twice: as it is (its MAC almost never matches, and
 * the decoder must refuse it before reading a field), and with a valid MAC
 * under the fixture key written over its last 32 bytes, so the field checks
 * run on arbitrary contents. Whatever decodes must be in range and must
 * re-encode to the very same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rot/update.h"
#include "rot_host/crypto_mbedtls.h"
#include "fuzz.h"

static const uint8_t kKey[ROT_UPDATE_STATE_KEY_LEN] = {
    0x6b, 0x65, 0x79, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x66, 0x75, 0x7a,
    0x7a, 0x69, 0x6e, 0x67, 0x20, 0x74, 0x68, 0x65, 0x20, 0x73, 0x74,
    0x61, 0x74, 0x65, 0x20, 0x72, 0x65, 0x63, 0x6f, 0x72, 0x64};

static void check_decoded(const rot_crypto_t *c, const uint8_t *b,
                          const rot_update_state_t *s) {
  CHECK(s->magic == ROT_UPDATE_STATE_MAGIC);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    const rot_type_state_t *ts = &s->types[t];
    CHECK(ts->active <= ROT_SLOT_B || ts->active == ROT_SLOT_NONE);
    CHECK(ts->pending <= ROT_SLOT_B || ts->pending == ROT_SLOT_NONE);
    CHECK(ts->staged <= ROT_SLOT_B || ts->staged == ROT_SLOT_NONE);
    CHECK(ts->attempts_left <= ROT_TRIAL_ATTEMPTS);
    CHECK(ts->floor_pending <= ROT_SVN_MAX);
  }
  uint8_t again[ROT_UPDATE_STATE_SIZE];
  CHECK(rot_update_state_encode(c, kKey, s, again, sizeof(again)) == ROT_OK);
  CHECK(memcmp(again, b, sizeof(again)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const rot_crypto_t *c = rot_host_crypto();
  CHECK(c != NULL);
  rot_update_state_t s;
  rot_error_t err = rot_update_state_decode(c, kKey, data, size, &s);
  if (size < ROT_UPDATE_STATE_SIZE) {
    CHECK(err == ROT_ERROR_INVALID_ARGUMENT);
    return 0;
  }
  if (err == ROT_OK) {
    check_decoded(c, data, &s);
  }
  /* The same bytes with an authentic MAC: only the field checks remain. */
  uint8_t b[ROT_UPDATE_STATE_SIZE];
  memcpy(b, data, sizeof(b));
  CHECK(c->hmac(c, ROT_HASH_SHA256, kKey, sizeof(kKey), b, 72, b + 72, 32) ==
        ROT_OK);
  err = rot_update_state_decode(c, kKey, b, sizeof(b), &s);
  CHECK(err == ROT_OK || err == ROT_ERROR_UPDATE_STATE_CORRUPT);
  if (err == ROT_OK) {
    check_decoded(c, b, &s);
  }
  return 0;
}
