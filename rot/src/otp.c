/*
 * OTP fuse map decoding and the only ways the chip ever programs fuses
 * (SVN floors, lifecycle steps). Every program is followed by a read-back:
 * a fuse that did not take is an error, never a silent success. Factory
 * provisioning (root key hash, device secret, revocation) is host code:
 * rot/client/otp_provision.c.
 */
#include "rot/otp.h"

#include "rot/hardened.h"
#include "rot/util.h"

rot_error_t rot_otp_thermo_decode(const uint8_t *p, size_t len,
                                  uint32_t *count) {
  if (p == NULL || count == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* Valid: the lowest k bits set and nothing else. */
  uint32_t n = 0;
  int gap = 0;
  for (size_t i = 0; i < len; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      if ((p[i] >> bit) & 1u) {
        if (gap) {
          return ROT_ERROR_OTP_CORRUPT;
        }
        n++;
      } else {
        gap = 1;
      }
    }
  }
  *count = n;
  return ROT_OK;
}

/* A lifecycle is fused as a thermometer: state n is its n lowest bits. */
_Static_assert(ROT_OTP_LC_RAW_BLANK == (1u << ROT_LIFECYCLE_BLANK) - 1u &&
                   ROT_OTP_LC_RAW_DEV == (1u << ROT_LIFECYCLE_DEV) - 1u &&
                   ROT_OTP_LC_RAW_PROD == (1u << ROT_LIFECYCLE_PROD) - 1u &&
                   ROT_OTP_LC_RAW_DECOM ==
                       (1u << ROT_LIFECYCLE_DECOMMISSIONED) - 1u,
               "lifecycle fuses are a thermometer");

static rot_error_t lifecycle_decode(uint32_t raw, uint32_t *lc) {
  if (raw > ROT_OTP_LC_RAW_DECOM || (raw & (raw + 1u)) != 0) {
    return ROT_ERROR_OTP_CORRUPT; /* a gap, or a bit past the last state */
  }
  *lc = (raw & 1u) + ((raw >> 1) & 1u) + (raw >> 2);
  return ROT_OK;
}

rot_error_t rot_otp_decode(const uint8_t raw[ROT_OTP_SIZE], rot_policy_t *out) {
  if (raw == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  uint32_t magic = rot_ld32(raw + ROT_OTP_OFF_MAGIC);
  uint16_t version = rot_ld16(raw + ROT_OTP_OFF_VERSION);
  if (magic != ROT_OTP_MAGIC || version != ROT_OTP_VERSION) {
    /* The magic is fused last: only some of its bits (a cut in its very
     * burn) is a provisioning not yet done, which a retry completes;
     * any other bit is a layout this code does not know. */
    int partial = (magic & ~ROT_OTP_MAGIC) == 0 &&
                  (version & (uint16_t)~ROT_OTP_VERSION) == 0;
    return partial ? ROT_ERROR_OTP_NOT_PROVISIONED : ROT_ERROR_OTP_BAD_LAYOUT;
  }
  rot_policy_t p;
  rot_memset(&p, 0, sizeof(p));
  ROT_TRY(lifecycle_decode(rot_ld32(raw + ROT_OTP_OFF_LIFECYCLE), &p.lifecycle));
  /* Provisioning fuses the lifecycle (dev) before the magic, so a set
   * magic over a blank lifecycle is no state the chip ever writes: a
   * programmer's or a glitch's. Refused, never read as a device whose
   * lifecycle rules are "none". */
  if (ROT_FIRST_CHECK(p.lifecycle == ROT_LIFECYCLE_BLANK)) {
    return ROT_ERROR_OTP_LIFECYCLE_BLANK;
  }
  rot_memcpy(p.root_key_hash, raw + ROT_OTP_OFF_ROOT_HASH, ROT_SHA384_LEN);
  if (rot_is_zero(p.root_key_hash, ROT_SHA384_LEN)) {
    return ROT_ERROR_OTP_NOT_PROVISIONED;
  }
  p.revoked_keys = rot_ld32(raw + ROT_OTP_OFF_REVOKED);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    ROT_TRY(rot_otp_thermo_decode(
        raw + ROT_OTP_OFF_FLOORS + t * ROT_OTP_FLOOR_BYTES, ROT_OTP_FLOOR_BYTES,
        &p.svn_floor[t]));
  }
  HARDENED_CHECK_NE(p.lifecycle, ROT_LIFECYCLE_BLANK);
  *out = p;
  return ROT_OK;
}

rot_error_t rot_otp_lifecycle_read(const rot_otp_port_t *p, uint32_t *lifecycle) {
  uint8_t buf[4];
  ROT_TRY(p->read(p, ROT_OTP_OFF_LIFECYCLE, buf, sizeof(buf)));
  return lifecycle_decode(rot_ld32(buf), lifecycle);
}

rot_error_t rot_otp_policy(const rot_otp_port_t *p, rot_policy_t *out) {
  if (p == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t raw[ROT_OTP_SIZE];
  ROT_TRY(p->read(p, 0, raw, sizeof(raw)));
  rot_error_t err = rot_otp_decode(raw, out);
  rot_wipe(raw, sizeof(raw)); /* holds the UDS */
  return err;
}

rot_error_t rot_otp_program_checked(const rot_otp_port_t *p, uint32_t off,
                                   const uint8_t *buf, uint32_t len) {
  uint8_t back[ROT_SHA384_LEN];
  if (len > sizeof(back)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(p->program(p, off, buf, len));
  ROT_TRY(p->read(p, off, back, len));
  for (uint32_t i = 0; i < len; i++) {
    if ((back[i] & buf[i]) != buf[i]) {
      return ROT_ERROR_OTP_WRITE_FAILED;
    }
  }
  return ROT_OK;
}

rot_error_t rot_otp_read_uds(const rot_otp_port_t *p,
                             uint8_t out[ROT_OTP_UDS_LEN]) {
  if (p == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* A decommissioned device keeps its secret fused but never hands it
   * out again: nothing derived from it (identity, state key) exists. Any
   * lifecycle bit beyond production counts, so a torn pattern fails closed. */
  uint8_t lc[4];
  ROT_TRY(p->read(p, ROT_OTP_OFF_LIFECYCLE, lc, sizeof(lc)));
  uint32_t lc_raw = rot_ld32(lc);
  if (ROT_FIRST_CHECK((lc_raw & ~ROT_OTP_LC_RAW_PROD) != 0)) {
    rot_wipe(out, ROT_OTP_UDS_LEN);
    return ROT_ERROR_OTP_SECRET_LOCKED;
  }
  uint8_t marker[4];
  ROT_TRY(p->read(p, ROT_OTP_OFF_UDS_WRITTEN, marker, sizeof(marker)));
  if (rot_ld32(marker) != ROT_OTP_UDS_WRITTEN) {
    return ROT_ERROR_OTP_NO_DEVICE_SECRET;
  }
  rot_error_t err = p->read(p, ROT_OTP_OFF_UDS, out, ROT_OTP_UDS_LEN);
  /* Second look, right before the secret is kept. */
  if (err == ROT_OK) {
    err = p->read(p, ROT_OTP_OFF_LIFECYCLE, lc, sizeof(lc));
  }
  if (err == ROT_OK && (rot_ld32(lc) & ~ROT_OTP_LC_RAW_PROD) != 0) {
    err = ROT_ERROR_OTP_SECRET_LOCKED;
  }
  HARDENED_CHECK_EQ(err != ROT_OK || (rot_ld32(lc) & ~ROT_OTP_LC_RAW_PROD) == 0, 1);
  if (err == ROT_OK && rot_is_zero(out, ROT_OTP_UDS_LEN)) {
    err = ROT_ERROR_OTP_NO_DEVICE_SECRET; /* a marker without a secret */
  }
  if (err != ROT_OK) {
    rot_wipe(out, ROT_OTP_UDS_LEN);
  }
  return err;
}

rot_error_t rot_otp_raise_floor(const rot_otp_port_t *p, uint32_t image_type,
                                uint32_t svn) {
  if (p == NULL || image_type >= ROT_IMAGE_TYPE_SLOTS) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (svn > ROT_OTP_FLOOR_BYTES * 8u) {
    return ROT_ERROR_OTP_COUNTER_EXHAUSTED;
  }
  uint32_t off = ROT_OTP_OFF_FLOORS + image_type * ROT_OTP_FLOOR_BYTES;
  uint8_t cur[ROT_OTP_FLOOR_BYTES];
  uint32_t floor;
  ROT_TRY(p->read(p, off, cur, sizeof(cur)));
  ROT_TRY(rot_otp_thermo_decode(cur, sizeof(cur), &floor));
  if (svn <= floor) {
    return ROT_OK; /* never lowers */
  }
  /* One fuse at a time, lowest first: whatever a power cut lets land is
   * still a thermometer (a gap would decode as corrupt and fail every
   * verification). */
  for (uint32_t bit = floor; bit < svn; bit++) {
    uint8_t one = (uint8_t)(1u << (bit % 8u));
    ROT_TRY(rot_otp_program_checked(p, off + bit / 8u, &one, 1));
  }
  ROT_TRY(p->read(p, off, cur, sizeof(cur)));
  ROT_TRY(rot_otp_thermo_decode(cur, sizeof(cur), &floor));
  if (floor != svn) {
    return ROT_ERROR_OTP_WRITE_FAILED;
  }
  HARDENED_CHECK_EQ(floor, svn);
  return ROT_OK;
}

rot_error_t rot_otp_lifecycle_transition(const rot_otp_port_t *p, uint32_t from,
                                         uint32_t to) {
  if (p == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* The only ways forward; blank -> dev is provisioning, not a transition. */
  int allowed = (from == ROT_LIFECYCLE_DEV && to == ROT_LIFECYCLE_PROD) ||
                (from == ROT_LIFECYCLE_PROD && to == ROT_LIFECYCLE_DECOMMISSIONED);
  if (!allowed) {
    return ROT_ERROR_POLICY_LIFECYCLE_STEP;
  }
  uint32_t cur;
  ROT_TRY(rot_otp_lifecycle_read(p, &cur));
  if (cur == to) {
    return ROT_OK; /* done already: a retry after a cut, or a repeat */
  }
  if (cur != from) {
    return ROT_ERROR_POLICY_LIFECYCLE_FROM;
  }
  /* Each step is exactly one new fuse (thermometer), so a cut either
   * lands the step whole or leaves the device where it was. */
  uint8_t buf[4];
  rot_st32(buf, (1u << to) - 1u); /* the thermometer of state to */
  ROT_TRY(rot_otp_program_checked(p, ROT_OTP_OFF_LIFECYCLE, buf, 4));
  ROT_TRY(rot_otp_lifecycle_read(p, &cur));
  if (cur != to) {
    return ROT_ERROR_OTP_WRITE_FAILED;
  }
  HARDENED_CHECK_EQ(cur, to);
  return ROT_OK;
}
