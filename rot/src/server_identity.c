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

/* May IDENTITY_STORE write? In dev always (provisioning, re-provisioning
 * on the bench); past dev only while no complete DeviceID record is
 * stored. Anything unreadable refuses. scratch receives the stored
 * certificate, if any. */
static rot_error_t store_allowed(rot_server_t *s, uint8_t *scratch,
                                 size_t cap) {
  rot_policy_t pol;
  ROT_TRY(rot_otp_policy(s->otp, &pol));
  if (pol.lifecycle == ROT_LIFECYCLE_DEV) {
    return ROT_OK;
  }
  size_t n = 0;
  rot_error_t err = rot_identity_load(s->gate, s->crypto, scratch, cap, &n);
  if (err == ROT_ERROR_IDENTITY_NOT_PROVISIONED) {
    return ROT_OK;
  }
  return err == ROT_OK ? ROT_ERROR_IDENTITY_ALREADY_PROVISIONED : err;
}

rot_error_t rot_server_h_identity_store(rot_server_t *s, const rot_peer_t *p,
                                        const uint8_t *req, uint32_t req_len,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len) {
  if (s->cert == NULL) {
    return ROT_ERROR_UNSUPPORTED;
  }
  /* Past dev, the DeviceID certificate the factory stored is the chip's
   * for good: replacing it would let whoever holds an operator role swap
   * in another CA's chain. */
  rot_error_t allow = store_allowed(s, out, cap);
  if (ROT_FIRST_CHECK(allow != ROT_OK)) {
    rot_server_record(s, ROT_AUDIT_COMMAND_REFUSED, allow, p->uid,
                      ROT_MBOX_CMD_IDENTITY_STORE);
    return allow;
  }
  HARDENED_CHECK_EQ(store_allowed(s, out, cap), ROT_OK);
  ROT_TRY(rot_identity_store(&s->id, s->gate, s->crypto, s->cert, req, req_len));
  /* The Alias certificate names the DeviceID as issuer; write it afresh. */
  s->id.alias_len = 0;
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

/* Is this request one of the recovery commands a chip without RoT
 * firmware still serves? The list is docs/mailbox.md's, "Recovery
 * commands": reads of the chip's state, the reset, the update session for
 * the chip's own firmware, BOOT for type rot (the ROM stage's verdict; it
 * decides nothing) and the one lifecycle step that retires the chip. */
static int is_recovery_command(const rot_server_t *s, uint16_t cmd,
                               const uint8_t *req, uint32_t req_len) {
  switch (cmd) {
    case ROT_MBOX_CMD_STATUS:
    case ROT_MBOX_CMD_INVENTORY:
    case ROT_MBOX_CMD_AUDIT_READ:
    case ROT_MBOX_CMD_AUDIT_VERIFY:
    case ROT_MBOX_CMD_RESET:
      return 1;
    case ROT_MBOX_CMD_BOOT:
      return req_len >= 4u && rot_ld32(req) == ROT_IMAGE_TYPE_ROT;
    case ROT_MBOX_CMD_LIFECYCLE:
      /* from, to, word: only the step to decommissioned, which needs no
       * identity and leaves the chip booting its recovery image. */
      return req_len >= 8u &&
             rot_ld32(req + 4) == ROT_LIFECYCLE_DECOMMISSIONED;
    default:
      return for_rot_firmware(s, cmd, req, req_len);
  }
}

rot_error_t rot_server_recovery_check(const rot_server_t *s, uint16_t cmd,
                                      const uint8_t *req, uint32_t req_len) {
  if (s->id.booted == HARDENED_TRUE) {
    HARDENED_CHECK_EQ(s->id.status, ROT_OK);
    return ROT_OK;
  }
  /* A decommissioned chip never reads its device secret again, so it never
   * has an identity, and the rule below would leave it unable to boot its
   * recovery image. It is exempt by design: its own layers already confine
   * it (the update engine is sealed, UPDATE_SEALED; the verifier accepts
   * only recovery images; no lifecycle step leaves the state; the identity
   * commands find no identity), and they answer with those reasons. */
  if (s->id.lifecycle == ROT_LIFECYCLE_DECOMMISSIONED) {
    return ROT_OK;
  }
  /* Every other lifecycle, dev included: no RoT firmware, no service but
   * recovery. A chip being brought up installs its firmware first. */
  return is_recovery_command(s, cmd, req, req_len) ? ROT_OK
                                                   : ROT_ERROR_BOOT_RECOVERY_ONLY;
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

void rot_server_rom_status(const rot_server_t *s, rot_mbox_status_t *st) {
  if (s->id.booted == HARDENED_TRUE) {
    st->rom_reason = s->id.reason;
    st->rom_region = s->id.region;
    st->rom_why = (uint32_t)ROT_OK;
    st->rom_svn = s->id.fw.svn;
    st->rom_ver_major = s->id.fw.ver_major;
    st->rom_ver_minor = s->id.fw.ver_minor;
    st->rom_ver_patch = s->id.fw.ver_patch;
  } else {
    st->rom_reason = ROT_BOOT_NONE;
    st->rom_region = ROT_MBOX_REGION_NONE;
    st->rom_why = (uint32_t)s->id.status;
  }
}
