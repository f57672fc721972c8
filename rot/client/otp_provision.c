/* Factory provisioning of the OTP fuses (rot_client/otp_provision.h). */
#include "rot_client/otp_provision.h"

#include "rot/util.h"

/* Fuses only gain bits: a field can still become want when every bit it
 * already has is one want has too. */
static int bits_within(const uint8_t *cur, const uint8_t *want, size_t len) {
  uint8_t extra = 0;
  for (size_t i = 0; i < len; i++) {
    extra |= (uint8_t)(cur[i] & (uint8_t)~want[i]);
  }
  return extra == 0;
}

rot_error_t rot_otp_provision(const rot_otp_port_t *p,
                              const uint8_t root_key_hash[ROT_SHA384_LEN]) {
  if (p == NULL || root_key_hash == NULL ||
      rot_is_zero(root_key_hash, ROT_SHA384_LEN)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* What the head of the fuse map holds once provisioned. */
  uint8_t want[ROT_OTP_OFF_REVOKED];
  rot_memset(want, 0, sizeof(want));
  rot_st32(want + ROT_OTP_OFF_MAGIC, ROT_OTP_MAGIC);
  rot_st16(want + ROT_OTP_OFF_MAGIC + 4, ROT_OTP_VERSION);
  rot_st32(want + ROT_OTP_OFF_LIFECYCLE, ROT_OTP_LC_RAW_DEV);
  rot_memcpy(want + ROT_OTP_OFF_ROOT_HASH, root_key_hash, ROT_SHA384_LEN);
  uint8_t head[ROT_OTP_OFF_REVOKED];
  ROT_TRY(p->read(p, 0, head, sizeof(head)));
  /* Done, or fused for something else: refuse. A provisioning a power cut
   * interrupted (only bits of this very one blown) is completed instead,
   * or the device could never be provisioned. */
  if (rot_memeq(head + ROT_OTP_OFF_MAGIC, want + ROT_OTP_OFF_MAGIC, 8) ||
      !bits_within(head, want, sizeof(head))) {
    return ROT_ERROR_OTP_ALREADY_SET;
  }
  ROT_TRY(rot_otp_program_checked(p, ROT_OTP_OFF_ROOT_HASH, want + ROT_OTP_OFF_ROOT_HASH,
                          ROT_SHA384_LEN));
  ROT_TRY(rot_otp_program_checked(p, ROT_OTP_OFF_LIFECYCLE, want + ROT_OTP_OFF_LIFECYCLE, 4));
  /* Magic last: a device cut mid-provision reads as blank, never half-set. */
  return rot_otp_program_checked(p, ROT_OTP_OFF_MAGIC, want + ROT_OTP_OFF_MAGIC, 8);
}

rot_error_t rot_otp_write_uds(const rot_otp_port_t *p,
                              const uint8_t uds[ROT_OTP_UDS_LEN]) {
  if (p == NULL || uds == NULL || rot_is_zero(uds, ROT_OTP_UDS_LEN)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t marker[4];
  rot_st32(marker, ROT_OTP_UDS_WRITTEN);
  uint8_t cur[ROT_OTP_UDS_LEN + 4];
  ROT_TRY(p->read(p, ROT_OTP_OFF_UDS, cur, sizeof(cur)));
  int marked = rot_ld32(cur + ROT_OTP_UDS_LEN) == ROT_OTP_UDS_WRITTEN;
  int marker_ok = bits_within(cur + ROT_OTP_UDS_LEN, marker, sizeof(marker));
  int secret_ok = bits_within(cur, uds, ROT_OTP_UDS_LEN);
  rot_wipe(cur, sizeof(cur));
  /* Written, or half-written with another secret: refuse. A burn a power
   * cut interrupted is completed by the same secret, so the device never
   * stays without one (the update state key needs it). */
  if (marked || !marker_ok || !secret_ok) {
    return ROT_ERROR_OTP_ALREADY_SET;
  }
  rot_error_t err = rot_otp_program_checked(p, ROT_OTP_OFF_UDS, uds, ROT_OTP_UDS_LEN);
  if (err == ROT_OK) {
    err = rot_otp_program_checked(p, ROT_OTP_OFF_UDS_WRITTEN, marker, sizeof(marker));
  }
  return err;
}

rot_error_t rot_otp_revoke_key(const rot_otp_port_t *p, uint32_t key_index) {
  if (p == NULL || key_index >= ROT_MAX_KEY_INDEX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t buf[4];
  rot_st32(buf, 1u << key_index);
  return rot_otp_program_checked(p, ROT_OTP_OFF_REVOKED, buf, 4);
}

rot_error_t rot_otp_set_lifecycle(const rot_otp_port_t *p, uint32_t lifecycle) {
  static const uint32_t kRaw[] = {ROT_OTP_LC_RAW_BLANK, ROT_OTP_LC_RAW_DEV,
                                  ROT_OTP_LC_RAW_PROD, ROT_OTP_LC_RAW_DECOM};
  if (p == NULL || lifecycle > ROT_LIFECYCLE_DECOMMISSIONED) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint32_t cur;
  ROT_TRY(rot_otp_lifecycle_read(p, &cur));
  if (lifecycle < cur) {
    return ROT_ERROR_OTP_ALREADY_SET; /* only forward */
  }
  uint8_t buf[4];
  rot_st32(buf, kRaw[lifecycle]);
  return rot_otp_program_checked(p, ROT_OTP_OFF_LIFECYCLE, buf, 4);
}

