/*
 * The mailbox server's identity commands and the ROM stage's recovery-only
 * rule (see rot/identity.h and docs/mailbox.md "Identity"). Rows for these
 * handlers live in server.c's authorisation table with every other command.
 */
#include "server_identity.h"

#include "rot/util.h"

rot_error_t rot_server_h_identity(rot_server_t *s, const rot_peer_t *p,
                                  const uint8_t *req, uint32_t req_len,
                                  uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  (void)req;
  (void)req_len;
  if (s->cert == NULL) {
    return ROT_ERROR_UNSUPPORTED;
  }
  ROT_TRY(rot_identity_check(&s->id));
  if (cap < 4u) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  size_t dev_len = 0;
  ROT_TRY(rot_identity_load(s->gate, s->crypto, out + 2, cap - 4u, &dev_len));
  const uint8_t *alias = NULL;
  size_t alias_len = 0;
  ROT_TRY(rot_identity_alias_cert(&s->id, s->crypto, s->cert, &alias,
                                  &alias_len));
  if (dev_len > 0xffffu || alias_len > 0xffffu ||
      alias_len > cap - 4u - dev_len) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  out[0] = (uint8_t)(dev_len >> 8);
  out[1] = (uint8_t)dev_len;
  out[2 + dev_len] = (uint8_t)(alias_len >> 8);
  out[3 + dev_len] = (uint8_t)alias_len;
  rot_memcpy(out + 4 + dev_len, alias, alias_len);
  *out_len = 4u + dev_len + alias_len;
  return ROT_OK;
}

rot_error_t rot_server_h_endorse(rot_server_t *s, const rot_peer_t *p,
                                 const uint8_t *req, uint32_t req_len,
                                 uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  rot_dice_endorse_req_t r;
  ROT_TRY(rot_dice_endorse_req_parse(req, req_len, &r));
  ROT_TRY(rot_identity_check(&s->id));
  if (cap < 2u + ROT_DICE_SIG_DER_MAX) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  size_t n = 0;
  ROT_TRY(rot_identity_endorse(&s->id, s->crypto, &r, out + 2, cap - 2u, &n));
  out[0] = (uint8_t)(n >> 8);
  out[1] = (uint8_t)n;
  *out_len = 2u + n;
  return ROT_OK;
}

rot_error_t rot_server_h_identity_csr(rot_server_t *s, const rot_peer_t *p,
                                      const uint8_t *req, uint32_t req_len,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  (void)p;
  (void)req;
  (void)req_len;
  if (s->cert == NULL) {
    return ROT_ERROR_UNSUPPORTED;
  }
  return rot_identity_csr(&s->id, s->crypto, s->cert, out,
                          cap < ROT_CERT_MAX ? cap : ROT_CERT_MAX, out_len);
}

rot_error_t rot_server_h_identity_store(rot_server_t *s, const rot_peer_t *p,
                                        const uint8_t *req, uint32_t req_len,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len) {
  (void)out;
  (void)cap;
  if (s->cert == NULL) {
    return ROT_ERROR_UNSUPPORTED;
  }
  ROT_TRY(rot_identity_store(&s->id, s->gate, s->crypto, s->cert, req, req_len));
  /* The Alias certificate names the DeviceID as issuer; write it afresh. */
  s->id.alias_len = 0;
  (void)p;
  *out_len = 0;
  return ROT_OK;
}

/* Is this request about the chip's own firmware (type rot)? */
static int for_rot_firmware(const rot_server_t *s, uint16_t cmd,
                            const uint8_t *req, uint32_t req_len) {
  switch (cmd) {
    case ROT_MBOX_CMD_UPDATE_BEGIN:
    case ROT_MBOX_CMD_ACTIVATE:
    case ROT_MBOX_CMD_CONFIRM:
    case ROT_MBOX_CMD_REVERT:
      /* Both requests start with the image type (u32 LE). */
      return req_len >= 4u && rot_ld32(req) == ROT_IMAGE_TYPE_ROT;
    case ROT_MBOX_CMD_UPDATE_CHUNK:
    case ROT_MBOX_CMD_UPDATE_FINISH:
    case ROT_MBOX_CMD_UPDATE_ABORT:
      return s->update->session.open == HARDENED_TRUE &&
             s->update->session.image_type == ROT_IMAGE_TYPE_ROT;
    default:
      return 0;
  }
}

rot_error_t rot_server_recovery_check(const rot_server_t *s, uint16_t cmd,
                                      const uint8_t *req, uint32_t req_len) {
  if (s->id.booted == HARDENED_TRUE) {
    return ROT_OK;
  }
  /* A dev chip may run without measured firmware (bring-up, debugging):
   * it serves everything but has no identity. From production on, the
   * ROM stage's rule holds. */
  if (s->id.lifecycle < ROT_LIFECYCLE_PROD) {
    return ROT_OK;
  }
  switch (cmd) {
    case ROT_MBOX_CMD_STATUS:
    case ROT_MBOX_CMD_INVENTORY:
    case ROT_MBOX_CMD_AUDIT_READ:
    case ROT_MBOX_CMD_AUDIT_VERIFY:
    case ROT_MBOX_CMD_RESET:
      return ROT_OK;
    default:
      return for_rot_firmware(s, cmd, req, req_len) ? ROT_OK
                                                    : ROT_ERROR_BOOT_RECOVERY_ONLY;
  }
}

rot_error_t rot_server_rom_verdict(rot_server_t *s, uint8_t *out, size_t cap,
                                   size_t *out_len) {
  rot_mbox_boot_resp_t resp;
  rot_memset(&resp, 0, sizeof(resp));
  if (s->id.booted == HARDENED_TRUE) {
    HARDENED_CHECK_EQ(rot_verified_check(&s->id.fw), ROT_OK);
    resp.reason = s->id.reason;
    resp.why = (uint32_t)ROT_OK;
    rot_server_info_from_verified(&s->id.fw, s->id.region, s->id.image_len,
                                  &resp.info);
  } else {
    resp.reason = ROT_BOOT_NONE;
    resp.why = (uint32_t)s->id.status;
    resp.info.image_type = ROT_IMAGE_TYPE_ROT;
    resp.info.region = ROT_MBOX_REGION_NONE;
  }
  return rot_mbox_boot_resp_encode(&resp, out, cap, out_len);
}
