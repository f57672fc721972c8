/*
 * OTP fuse map decoding and the only ways the core ever programs fuses.
 * Every program is followed by a read-back: a fuse that did not take is an
 * error, never a silent success.
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

static void thermo_encode(uint8_t *p, size_t len, uint32_t count) {
  for (size_t i = 0; i < len; i++) {
    uint32_t bits = count > 8 ? 8 : count;
    p[i] = (uint8_t)((1u << bits) - 1u);
    count -= bits;
  }
}

static rot_error_t lifecycle_decode(uint32_t raw, uint32_t *lc) {
  switch (raw) {
    case 0x0:
      *lc = ROT_LIFECYCLE_BLANK;
      return ROT_OK;
    case 0x1:
      *lc = ROT_LIFECYCLE_DEV;
      return ROT_OK;
    case 0x3:
      *lc = ROT_LIFECYCLE_PROD;
      return ROT_OK;
    case 0x7:
      *lc = ROT_LIFECYCLE_DECOMMISSIONED;
      return ROT_OK;
    default:
      return ROT_ERROR_OTP_CORRUPT;
  }
}

rot_error_t rot_otp_decode(const uint8_t raw[ROT_OTP_SIZE], rot_policy_t *out) {
  if (raw == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  uint32_t magic = rot_ld32(raw + ROT_OTP_OFF_MAGIC);
  if (magic == 0) {
    return ROT_ERROR_OTP_NOT_PROVISIONED;
  }
  if (magic != ROT_OTP_MAGIC ||
      rot_ld16(raw + ROT_OTP_OFF_VERSION) != ROT_OTP_VERSION) {
    return ROT_ERROR_OTP_BAD_LAYOUT;
  }
  rot_policy_t p;
  rot_memset(&p, 0, sizeof(p));
  ROT_TRY(lifecycle_decode(rot_ld32(raw + ROT_OTP_OFF_LIFECYCLE), &p.lifecycle));
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
  *out = p;
  return ROT_OK;
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

/* Program then read back; the fuse must now hold at least the bits asked. */
static rot_error_t program_checked(const rot_otp_port_t *p, uint32_t off,
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

rot_error_t rot_otp_provision(const rot_otp_port_t *p,
                              const uint8_t root_key_hash[ROT_SHA384_LEN]) {
  if (p == NULL || root_key_hash == NULL ||
      rot_is_zero(root_key_hash, ROT_SHA384_LEN)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t head[ROT_OTP_OFF_REVOKED];
  ROT_TRY(p->read(p, 0, head, sizeof(head)));
  if (!rot_is_zero(head, sizeof(head))) {
    return ROT_ERROR_OTP_ALREADY_SET;
  }
  uint8_t buf[8];
  ROT_TRY(program_checked(p, ROT_OTP_OFF_ROOT_HASH, root_key_hash, ROT_SHA384_LEN));
  rot_st32(buf, 0x1u); /* lifecycle dev */
  ROT_TRY(program_checked(p, ROT_OTP_OFF_LIFECYCLE, buf, 4));
  /* Magic last: a device cut mid-provision reads as blank, never half-set. */
  rot_st32(buf, ROT_OTP_MAGIC);
  rot_st16(buf + 4, ROT_OTP_VERSION);
  rot_st16(buf + 6, 0);
  return program_checked(p, ROT_OTP_OFF_MAGIC, buf, 8);
}

rot_error_t rot_otp_write_uds(const rot_otp_port_t *p,
                              const uint8_t uds[ROT_OTP_UDS_LEN]) {
  if (p == NULL || uds == NULL || rot_is_zero(uds, ROT_OTP_UDS_LEN)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t cur[ROT_OTP_UDS_LEN + 4];
  ROT_TRY(p->read(p, ROT_OTP_OFF_UDS, cur, sizeof(cur)));
  if (!rot_is_zero(cur, sizeof(cur))) {
    rot_wipe(cur, sizeof(cur));
    return ROT_ERROR_OTP_ALREADY_SET;
  }
  rot_error_t err = program_checked(p, ROT_OTP_OFF_UDS, uds, ROT_OTP_UDS_LEN);
  if (err == ROT_OK) {
    uint8_t marker[4];
    rot_st32(marker, ROT_OTP_UDS_WRITTEN);
    err = program_checked(p, ROT_OTP_OFF_UDS_WRITTEN, marker, sizeof(marker));
  }
  return err;
}

rot_error_t rot_otp_read_uds(const rot_otp_port_t *p,
                             uint8_t out[ROT_OTP_UDS_LEN]) {
  if (p == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t marker[4];
  ROT_TRY(p->read(p, ROT_OTP_OFF_UDS_WRITTEN, marker, sizeof(marker)));
  if (rot_ld32(marker) != ROT_OTP_UDS_WRITTEN) {
    return ROT_ERROR_OTP_NO_DEVICE_SECRET;
  }
  rot_error_t err = p->read(p, ROT_OTP_OFF_UDS, out, ROT_OTP_UDS_LEN);
  if (err == ROT_OK && rot_is_zero(out, ROT_OTP_UDS_LEN)) {
    err = ROT_ERROR_OTP_NO_DEVICE_SECRET; /* a marker without a secret */
  }
  if (err != ROT_OK) {
    rot_wipe(out, ROT_OTP_UDS_LEN);
  }
  return err;
}

rot_error_t rot_otp_revoke_key(const rot_otp_port_t *p, uint32_t key_index) {
  if (p == NULL || key_index >= ROT_MAX_KEY_INDEX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t buf[4];
  rot_st32(buf, 1u << key_index);
  return program_checked(p, ROT_OTP_OFF_REVOKED, buf, 4);
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
  uint8_t want[ROT_OTP_FLOOR_BYTES];
  thermo_encode(want, sizeof(want), svn);
  ROT_TRY(program_checked(p, off, want, sizeof(want)));
  ROT_TRY(p->read(p, off, cur, sizeof(cur)));
  ROT_TRY(rot_otp_thermo_decode(cur, sizeof(cur), &floor));
  if (floor != svn) {
    return ROT_ERROR_OTP_WRITE_FAILED;
  }
  HARDENED_CHECK_EQ(floor, svn);
  return ROT_OK;
}

rot_error_t rot_otp_set_lifecycle(const rot_otp_port_t *p, uint32_t lifecycle) {
  static const uint32_t kRaw[] = {0x0, 0x1, 0x3, 0x7};
  if (p == NULL || lifecycle > ROT_LIFECYCLE_DECOMMISSIONED) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t buf[4];
  uint32_t cur;
  ROT_TRY(p->read(p, ROT_OTP_OFF_LIFECYCLE, buf, 4));
  ROT_TRY(lifecycle_decode(rot_ld32(buf), &cur));
  if (lifecycle < cur) {
    return ROT_ERROR_OTP_ALREADY_SET; /* only forward */
  }
  rot_st32(buf, kRaw[lifecycle]);
  return program_checked(p, ROT_OTP_OFF_LIFECYCLE, buf, 4);
}
