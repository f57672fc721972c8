/*
 * The boot ROM stage and the chip's DICE identity, through the mailbox
 * server over the real gate, update engine, OTP model and mbedTLS: the RoT
 * firmware chosen and measured at every reset, keys that follow the UDS
 * and the firmware, the lifecycle's mode in the Alias certificate, the
 * secrets staying inside, the recovery-only rule, DeviceID provisioning
 * and the AK endorsement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ram_flash.h"
#include "rot/dice.h"
#include "rot/server.h"
#include "rot/util.h"
#include "rot_host/cert_mbedtls.h"
#include "rot_client/otp_provision.h"
#include "test_keys.h"
#include "server_fixture.h"
#include "update_fixture.h"

#define ROT ROT_IMAGE_TYPE_ROT

static void uds_of_fixture(uint8_t uds[ROT_OTP_UDS_LEN]) { memset(uds, 0x3c, ROT_OTP_UDS_LEN); }

/* Find needle in hay. */
static int contains(const void *hay, size_t n, const void *needle, size_t m) {
  const uint8_t *h = hay;
  for (size_t i = 0; i + m <= n; i++) {
    if (memcmp(h + i, needle, m) == 0) {
      return 1;
    }
  }
  return 0;
}

/* A DeviceID certificate for the chip's key, issued by a test CA. */
static size_t issue_devid(srv_t *s, const uint8_t *subject_pub, uint8_t *out,
                          size_t cap) {
  const test_keys_t *k = test_keys();
  const uint8_t serial[] = {0x11, 0x22};
  char name[ROT_IDENTITY_NAME_MAX];
  assert_int_equal(rot_identity_devid_name(&s->server.id, test_crypto(), name), ROT_OK);
  rot_cert_spec_t spec = {
      .subject_pub = subject_pub,
      .subject_name = name,
      .issuer_priv = k->other_root.priv,
      .issuer_pub = k->other_root.pub,
      .issuer_name = "CN=test manufacturer CA,O=rot-stack",
      .serial = serial,
      .serial_len = sizeof(serial),
      .is_ca = 1,
  };
  size_t n = 0;
  assert_int_equal(rot_host_cert()->cert_write(rot_host_cert(), &spec, out, cap, &n),
                   ROT_OK);
  return n;
}

static void provision(srv_t *s) {
  uint8_t cert[ROT_CERT_MAX];
  size_t n = issue_devid(s, s->server.id.devid_pub, cert, sizeof(cert));
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n), ROT_OK);
}

/* IDENTITY reply: the Alias certificate's bytes. */
static size_t get_alias(srv_t *s, uint8_t *out) {
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0), ROT_OK);
  const uint8_t *p = s->payload;
  size_t dl = (size_t)p[0] << 8 | p[1];
  size_t al = (size_t)p[2 + dl] << 8 | p[3 + dl];
  assert_int_equal(4 + dl + al, s->h.payload_len);
  memcpy(out, p + 4 + dl, al);
  return al;
}

/* ---- the ROM stage ----------------------------------------------------------- */

/* The recovery-only rule in the lifecycle the chip is in now. */
static void expect_refusals_now(srv_t *s) {
  assert_int_equal(s->server.id.booted, HARDENED_FALSE);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, ROT_IMAGE_TYPE_OPENSBI),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_CSR, NULL, 0),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  uint8_t begin[8];
  rot_st32(begin, ROT_IMAGE_TYPE_OPENSBI);
  rot_st32(begin + 4, 4096);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_UPDATE_BEGIN, begin, 8),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  uint8_t region[12] = {0};
  rot_st32(region, ROT_RGN_OPENSBI_A);
  rot_st32(region + 8, 16);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_READ_REGION, region, 12),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  uint8_t lock[4];
  rot_st32(lock, ROT_MBOX_LOCK_BOOT);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_LOCK, lock, 4),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  /* The recovery commands. */
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_STATUS, NULL, 0), ROT_OK);
  rot_mbox_status_t st;
  assert_int_equal(rot_mbox_status_decode(s->payload, s->h.payload_len, &st), ROT_OK);
  assert_int_equal(st.rom_reason, ROT_BOOT_NONE);
  assert_int_equal(st.rom_region, ROT_MBOX_REGION_NONE);
  assert_int_equal(st.rom_why, s->server.id.status);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_INVENTORY, NULL, 0), ROT_OK);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_AUDIT_VERIFY, NULL, 0), ROT_OK);
  uint8_t ar[8];
  rot_st32(ar, 1);
  rot_st32(ar + 4, 1);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_AUDIT_READ, ar, 8), ROT_OK);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, ROT), ROT_OK);
  /* The refusals above are in the audit log (the last one: LOCK). */
  rot_audit_record_t r;
  assert_true(srv_last_record(s, ROT_AUDIT_COMMAND_REFUSED, &r));
  assert_int_equal(r.status, ROT_ERROR_BOOT_RECOVERY_ONLY);
  assert_int_equal(r.arg1, ROT_MBOX_CMD_LOCK);
  /* A new RoT firmware may still be installed. */
  rot_st32(begin, ROT);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_UPDATE_BEGIN, begin, 8), ROT_OK);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_UPDATE_ABORT, NULL, 0), ROT_OK);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_RESET, NULL, 0), ROT_OK);
}

/* No RoT firmware: recovery commands only, in dev and in production. */
static void expect_recovery_only(srv_t *s) {
  expect_refusals_now(s);
  assert_int_equal(rot_otp_set_lifecycle(&s->f->otp.port, ROT_LIFECYCLE_PROD), ROT_OK);
  srv_reset(s);
  expect_refusals_now(s);
}

static void identity_test_boot_no_firmware(void **state) {
  srv_t *s = *state;
  assert_int_equal(s->server.id.booted, HARDENED_FALSE);
  assert_int_equal(s->server.id.status, ROT_ERROR_BOOT_RECOVERY_ONLY);
  /* Even a dev chip serves recovery commands only without RoT firmware. */
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  rot_audit_record_t r;
  assert_true(srv_last_record(s, ROT_AUDIT_COMMAND_REFUSED, &r));
  assert_int_equal(r.status, ROT_ERROR_BOOT_RECOVERY_ONLY);
  assert_int_equal(r.arg0, kReader.uid);
  assert_int_equal(r.arg1, ROT_MBOX_CMD_IDENTITY);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_STATUS, NULL, 0), ROT_OK);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, ROT), ROT_OK);
  rot_mbox_boot_resp_t b;
  assert_int_equal(rot_mbox_boot_resp_decode(s->payload, s->h.payload_len, &b), ROT_OK);
  assert_int_equal(b.reason, ROT_BOOT_NONE);
  expect_recovery_only(s);
}

/* STATUS carries the ROM stage's verdict: which rot slot, which firmware. */
static void identity_test_status_reports_rom_verdict(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  srv_install_rot(s, 2);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_STATUS, NULL, 0), ROT_OK);
  rot_mbox_status_t st;
  assert_int_equal(rot_mbox_status_decode(s->payload, s->h.payload_len, &st), ROT_OK);
  assert_int_equal(st.rom_reason, ROT_BOOT_ACTIVE);
  assert_int_equal(st.rom_region, ROT_RGN_ROT_B);
  assert_int_equal(st.rom_why, ROT_OK);
  assert_int_equal(st.rom_svn, 2);
  assert_int_equal(st.rom_ver_major, s->server.id.fw.ver_major);
  assert_int_equal(st.rom_ver_minor, s->server.id.fw.ver_minor);
  assert_int_equal(st.rom_ver_patch, s->server.id.fw.ver_patch);
}

/* A decommissioned chip has no identity but is exempt from the rule: it
 * must still boot its recovery image. */
static void identity_test_decommissioned_exempt(void **state) {
  srv_t *s = *state;
  assert_int_equal(rot_otp_set_lifecycle(&s->f->otp.port, ROT_LIFECYCLE_PROD), ROT_OK);
  srv_reset(s);
  /* Without firmware the one lifecycle step still open is retirement. */
  uint8_t lc[12];
  rot_st32(lc, ROT_LIFECYCLE_DEV);
  rot_st32(lc + 4, ROT_LIFECYCLE_PROD);
  rot_st32(lc + 8, ROT_MBOX_LIFECYCLE_CONFIRM);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_LIFECYCLE, lc, 12),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  rot_st32(lc, ROT_LIFECYCLE_PROD);
  rot_st32(lc + 4, ROT_LIFECYCLE_DECOMMISSIONED);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_LIFECYCLE, lc, 12), ROT_OK);
  assert_int_equal(s->server.id.booted, HARDENED_FALSE);
  assert_int_equal(s->server.id.lifecycle, ROT_LIFECYCLE_DECOMMISSIONED);
  /* Its own layers answer: a boot decision (nothing to boot here), no
   * identity, a sealed update engine. */
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, ROT_IMAGE_TYPE_RECOVERY),
                   ROT_OK);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0),
                   ROT_ERROR_IDENTITY_NO_FIRMWARE);
  uint8_t begin[8];
  rot_st32(begin, ROT_IMAGE_TYPE_RECOVERY);
  rot_st32(begin + 4, 4096);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_UPDATE_BEGIN, begin, 8),
                   ROT_ERROR_UPDATE_SEALED);
}

static void identity_test_boot_measures_installed_firmware(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  const rot_identity_t *id = &s->server.id;
  assert_int_equal(id->region, ROT_RGN_ROT_A);
  assert_int_equal(id->fw.svn, 1);
  /* The code input is what the signature covered. */
  assert_memory_equal(id->inputs.code, id->fw.signed_digest, ROT_SHA384_LEN);
  /* The authority input is the SHA-384 of the key that signed it (as the
   * verification recorded it), zero-padded to the field. */
  uint8_t auth[ROT_SHA384_LEN];
  assert_int_equal(id->fw.key_index, TEST_KEY_INDEX_ALL);
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, test_keys()->signer.pub,
                            ROT_P384_PUBKEY_LEN, auth, sizeof(auth)),
                   ROT_OK);
  assert_memory_equal(id->fw.signer_digest, auth, sizeof(auth));
  assert_memory_equal(id->inputs.authority, auth, sizeof(auth));
  assert_true(rot_is_zero(id->inputs.authority + ROT_SHA384_LEN,
                          ROT_DICE_FIELD_LEN - ROT_SHA384_LEN));
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, ROT), ROT_OK);
  rot_mbox_boot_resp_t b;
  assert_int_equal(rot_mbox_boot_resp_decode(s->payload, s->h.payload_len, &b), ROT_OK);
  assert_int_equal(b.reason, ROT_BOOT_ACTIVE);
  assert_int_equal(b.info.svn, 1);
  assert_int_equal(b.info.region, ROT_RGN_ROT_A);
  assert_memory_equal(b.info.payload_digest, id->fw.payload_digest, ROT_SHA384_LEN);
  /* Asking BOOT about rot decides nothing: no boot region is locked. */
  assert_int_equal(rot_gate_is_locked(&s->f->gate, ROT_RGN_OPENSBI_A), HARDENED_FALSE);
}

static void identity_test_trial_counted_once_per_reset(void **state) {
  srv_t *s = *state;
  size_t len;
  uint8_t *img = make_image(ROT, 1, &len);
  assert_int_equal(send_image(s->f, ROT, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&s->f->up, ROT), ROT_OK);
  free(img);
  uint8_t before = s->f->up.state.types[ROT].attempts_left;
  srv_reset(s);
  assert_int_equal(s->server.id.reason, ROT_BOOT_TRIAL);
  uint8_t after = s->server.update->state.types[ROT].attempts_left;
  assert_int_equal(after, before - 1);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, ROT), ROT_OK);
  }
  assert_int_equal(s->server.update->state.types[ROT].attempts_left, after);
  assert_int_equal(srv_call_type(s, &kOperator, ROT_MBOX_CMD_CONFIRM, ROT), ROT_OK);
}

/* ---- determinism ------------------------------------------------------------- */

static void identity_test_keys_deterministic_across_resets(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  provision(s);
  uint8_t devid[ROT_P384_PUBKEY_LEN], alias[ROT_P384_PUBKEY_LEN];
  memcpy(devid, s->server.id.devid_pub, sizeof(devid));
  memcpy(alias, s->server.id.alias_pub, sizeof(alias));
  static uint8_t c1[ROT_CERT_MAX], c2[ROT_CERT_MAX];
  size_t n1 = get_alias(s, c1);
  srv_reset(s);
  assert_memory_equal(devid, s->server.id.devid_pub, sizeof(devid));
  assert_memory_equal(alias, s->server.id.alias_pub, sizeof(alias));
  size_t n2 = get_alias(s, c2);
  assert_int_equal(n1, n2);
  assert_memory_equal(c1, c2, n1); /* the same certificate bytes */
}

static void identity_test_new_firmware_new_alias_same_devid(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  uint8_t devid[ROT_P384_PUBKEY_LEN], alias[ROT_P384_PUBKEY_LEN];
  memcpy(devid, s->server.id.devid_pub, sizeof(devid));
  memcpy(alias, s->server.id.alias_pub, sizeof(alias));
  srv_install_rot(s, 2);
  assert_int_equal(s->server.id.fw.svn, 2);
  assert_memory_equal(devid, s->server.id.devid_pub, sizeof(devid));
  assert_memory_not_equal(alias, s->server.id.alias_pub, sizeof(alias));
}

static void identity_test_devid_follows_uds(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  uint8_t uds[ROT_OTP_UDS_LEN], priv[ROT_P384_SCALAR_LEN], pub[ROT_P384_PUBKEY_LEN];
  uds_of_fixture(uds);
  assert_int_equal(rot_dice_derive_key(test_crypto(), uds, sizeof(uds), priv, pub), ROT_OK);
  assert_memory_equal(pub, s->server.id.devid_pub, sizeof(pub));
  uds[0] ^= 1; /* another chip */
  assert_int_equal(rot_dice_derive_key(test_crypto(), uds, sizeof(uds), priv, pub), ROT_OK);
  assert_memory_not_equal(pub, s->server.id.devid_pub, sizeof(pub));
}

/* ---- lifecycle -> mode ----------------------------------------------------------- */

static void identity_test_mode_from_lifecycle(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  provision(s);
  static uint8_t cert[ROT_CERT_MAX];
  assert_int_equal(s->server.id.inputs.mode, ROT_DICE_MODE_DEBUG);
  size_t n = get_alias(s, cert);
  const uint8_t debug_flags[] = {0x87, 0x02, 0x04, 0x10};
  assert_true(contains(cert, n, debug_flags, sizeof(debug_flags)));
  uint8_t alias_dev[ROT_P384_PUBKEY_LEN];
  memcpy(alias_dev, s->server.id.alias_pub, sizeof(alias_dev));

  assert_int_equal(rot_otp_set_lifecycle(&s->f->otp.port, ROT_LIFECYCLE_PROD), ROT_OK);
  srv_reset(s);
  assert_int_equal(rot_identity_check(&s->server.id), ROT_OK);
  assert_int_equal(s->server.id.inputs.mode, ROT_DICE_MODE_NORMAL);
  n = get_alias(s, cert);
  const uint8_t normal_flags[] = {0x87, 0x01, 0x00};
  assert_true(contains(cert, n, normal_flags, sizeof(normal_flags)));
  assert_false(contains(cert, n, debug_flags, sizeof(debug_flags)));
  /* Mode and configuration are CDI inputs: another Alias key. */
  assert_memory_not_equal(alias_dev, s->server.id.alias_pub, sizeof(alias_dev));
}

/* ---- the secret stays inside ---------------------------------------------------------- */

static void identity_test_secrets_not_kept_or_sent(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  provision(s);
  uint8_t uds[ROT_OTP_UDS_LEN], cdi[ROT_DICE_CDI_LEN];
  uds_of_fixture(uds);
  assert_int_equal(rot_dice_cdi(test_crypto(), uds, sizeof(uds), &s->server.id.inputs, cdi),
                   ROT_OK);
  /* Neither is in the server's memory after the ROM stage... */
  assert_false(contains(&s->server, sizeof(s->server), uds, sizeof(uds)));
  assert_false(contains(&s->server, sizeof(s->server), cdi, sizeof(cdi)));
  assert_false(contains(&s->f->up, sizeof(s->f->up), cdi, sizeof(cdi)));
  /* ...nor in any reply of the identity commands. */
  const uint16_t cmds[] = {ROT_MBOX_CMD_IDENTITY, ROT_MBOX_CMD_IDENTITY_CSR,
                           ROT_MBOX_CMD_STATUS, ROT_MBOX_CMD_INVENTORY};
  for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
    assert_int_equal(srv_call(s, &kOperator, cmds[i], NULL, 0), ROT_OK);
    assert_false(contains(s->rep, sizeof(s->rep), uds, 16));
    assert_false(contains(s->rep, sizeof(s->rep), cdi, 16));
    assert_false(contains(s->rep, sizeof(s->rep), s->server.id.alias_priv, 16));
    assert_false(contains(s->rep, sizeof(s->rep), s->server.id.devid_priv, 16));
  }
}

/* ---- ROM stage refusals -------------------------------------------------------------- */

/* Slot a: svn_a (confirmed first), slot b: svn_b (active). Confirming
 * svn_b raises the floor to it. */
static void two_slots(srv_t *s, uint32_t svn_a, uint32_t svn_b) {
  install_type(s->f, ROT, svn_a);
  install_type(s->f, ROT, svn_b);
  srv_reset(s);
  assert_int_equal(s->server.id.region, ROT_RGN_ROT_B);
  assert_int_equal(s->server.id.reason, ROT_BOOT_ACTIVE);
}

static void tamper(srv_t *s, uint32_t region) {
  uint8_t *p = ram_flash_region(&s->f->flash, &ram_layout_small, region);
  p[ROT_IMAGE_HEADER_SIZE + 400] ^= 0x01; /* a manifest or payload byte */
}

static void identity_test_rom_tampered_falls_back_then_recovery(void **state) {
  srv_t *s = *state;
  two_slots(s, 1, 1);
  tamper(s, ROT_RGN_ROT_B);
  srv_reset(s);
  assert_int_equal(rot_identity_check(&s->server.id), ROT_OK);
  assert_int_equal(s->server.id.region, ROT_RGN_ROT_A);
  assert_int_equal(s->server.id.reason, ROT_BOOT_FALLBACK_OTHER);
  assert_int_equal(s->server.id.fw.svn, 1);
  tamper(s, ROT_RGN_ROT_A);
  srv_reset(s);
  expect_recovery_only(s);
}

static void identity_test_rom_unsigned_refused(void **state) {
  srv_t *s = *state;
  install_type(s->f, ROT, 1);
  /* Overwrite the image with bytes no key signed (a flash programmer). */
  uint8_t *p = ram_flash_region(&s->f->flash, &ram_layout_small, ROT_RGN_ROT_A);
  memset(p, 0x00, 4096);
  srv_reset(s);
  expect_recovery_only(s);
}

static void identity_test_rom_revoked_refused(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  assert_int_equal(rot_otp_revoke_key(&s->f->otp.port, TEST_KEY_INDEX_ALL), ROT_OK);
  srv_reset(s);
  expect_recovery_only(s);
}

static void identity_test_rom_below_floor_falls_back(void **state) {
  srv_t *s = *state;
  two_slots(s, 1, 2);
  /* Floor above both: neither may run. */
  assert_int_equal(rot_otp_raise_floor(&s->f->otp.port, ROT, 3), ROT_OK);
  srv_reset(s);
  expect_recovery_only(s);
}

/* ---- provisioning ------------------------------------------------------------------------ */

static void identity_test_store_checks_the_key(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0),
                   ROT_ERROR_IDENTITY_NOT_PROVISIONED);
  uint8_t cert[ROT_CERT_MAX];
  size_t n = issue_devid(s, s->server.id.alias_pub, cert, sizeof(cert));
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n),
                   ROT_ERROR_IDENTITY_CERT_MISMATCH);
  uint8_t junk[64];
  memset(junk, 0x30, sizeof(junk));
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, junk, sizeof(junk)),
                   ROT_ERROR_IDENTITY_BAD_CERT);
  n = issue_devid(s, s->server.id.devid_pub, cert, sizeof(cert));
  /* Trailing bytes after the certificate are refused. */
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n + 1),
                   ROT_ERROR_IDENTITY_BAD_CERT);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY_STORE, cert, n),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n), ROT_OK);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0), ROT_OK);
  assert_int_equal((size_t)s->payload[0] << 8 | s->payload[1], n);
  assert_memory_equal(s->payload + 2, cert, n);
  /* A damaged record reads as not provisioned. */
  uint8_t *nv = ram_flash_region(&s->f->flash, &ram_layout_small, ROT_RGN_NVCFG);
  nv[ROT_IDENTITY_STORE_HEAD + 10] &= 0x7f;
  nv[ROT_IDENTITY_STORE_HEAD + 11] &= 0x7e;
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0),
                   ROT_ERROR_IDENTITY_NOT_PROVISIONED);
}

/* Past dev, the stored DeviceID certificate is the chip's for good. */
static void identity_test_store_refused_once_provisioned_in_production(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  uint8_t cert[ROT_CERT_MAX];
  size_t n = issue_devid(s, s->server.id.devid_pub, cert, sizeof(cert));
  /* Dev: stored, and stored again (re-provisioning on the bench). */
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n), ROT_OK);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n), ROT_OK);
  assert_int_equal(rot_otp_set_lifecycle(&s->f->otp.port, ROT_LIFECYCLE_PROD), ROT_OK);
  srv_reset(s);
  uint8_t *nv = ram_flash_region(&s->f->flash, &ram_layout_small, ROT_RGN_NVCFG);
  static uint8_t before[ROT_IDENTITY_STORE_HEAD + ROT_CERT_MAX];
  memcpy(before, nv, sizeof(before));
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n),
                   ROT_ERROR_IDENTITY_ALREADY_PROVISIONED);
  assert_memory_equal(nv, before, sizeof(before));
  rot_audit_record_t r;
  assert_true(srv_last_record(s, ROT_AUDIT_COMMAND_REFUSED, &r));
  assert_int_equal(r.status, ROT_ERROR_IDENTITY_ALREADY_PROVISIONED);
  assert_int_equal(r.arg0, kOperator.uid);
  assert_int_equal(r.arg1, ROT_MBOX_CMD_IDENTITY_STORE);
  /* The chain still exports. */
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0), ROT_OK);
  /* A damaged record is no certificate: the factory may store one again. */
  nv[ROT_IDENTITY_STORE_HEAD + 10] ^= 0x01;
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n), ROT_OK);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0), ROT_OK);
}

/* A production chip never provisioned takes its first certificate. */
static void identity_test_store_first_in_production(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  assert_int_equal(rot_otp_set_lifecycle(&s->f->otp.port, ROT_LIFECYCLE_PROD), ROT_OK);
  srv_reset(s);
  uint8_t cert[ROT_CERT_MAX];
  size_t n = issue_devid(s, s->server.id.devid_pub, cert, sizeof(cert));
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n), ROT_OK);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n),
                   ROT_ERROR_IDENTITY_ALREADY_PROVISIONED);
}

/* A power cut at every flash operation of IDENTITY_STORE (and a torn
 * program): afterwards the chip holds no certificate or the whole one,
 * and a second store succeeds. */
static void identity_test_store_power_cut_anywhere(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  static uint8_t cert[ROT_CERT_MAX];
  size_t n = issue_devid(s, s->server.id.devid_pub, cert, sizeof(cert));
  uint32_t done_ok = 0;
  for (uint32_t cut = 1; cut < 64 && !done_ok; cut++) {
    for (int tear = 0; tear < 2; tear++) {
      /* Start from an erased nvcfg each time. */
      uint8_t *nv = ram_flash_region(&s->f->flash, &ram_layout_small, ROT_RGN_NVCFG);
      memset(nv, 0xff, ram_layout_small.regions[ROT_RGN_NVCFG].size);
      s->f->flash.cut_at = s->f->flash.ops + cut;
      s->f->flash.tear = tear;
      rot_error_t err = srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n);
      int cut_hit = s->f->flash.dead;
      s->f->flash.cut_at = 0;
      s->f->flash.tear = 0;
      s->f->flash.dead = 0;
      srv_reset(s);
      if (!cut_hit) {
        assert_int_equal(err, ROT_OK); /* the cut came after the last operation */
        done_ok = 1;
      }
      rot_error_t got = srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0);
      if (got == ROT_OK) {
        assert_int_equal((size_t)s->payload[0] << 8 | s->payload[1], n);
        assert_memory_equal(s->payload + 2, cert, n);
      } else {
        assert_int_equal(got, ROT_ERROR_IDENTITY_NOT_PROVISIONED);
        assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_IDENTITY_STORE, cert, n),
                         ROT_OK);
        assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_IDENTITY, NULL, 0), ROT_OK);
      }
    }
  }
  assert_true(done_ok);
}

/* ---- ENDORSE -------------------------------------------------------------------------------- */

static size_t endorse_req(uint8_t *b, size_t ak_body) {
  for (size_t i = 0; i < ROT_SHA384_LEN; i++) {
    b[i] = (uint8_t)(0xa0 + i);
  }
  b[48] = (uint8_t)(ak_body >> 8);
  b[49] = (uint8_t)ak_body;
  for (size_t i = 0; i < ak_body; i++) {
    b[50 + i] = (uint8_t)i;
  }
  return 50 + ak_body;
}

/* DER ECDSA-Sig-Value -> r || s (48 bytes each). */
static void der_to_raw(const uint8_t *d, size_t n, uint8_t raw[ROT_P384_SIG_LEN]) {
  assert_true(n >= 8 && d[0] == 0x30 && d[1] == n - 2);
  size_t off = 2;
  for (int k = 0; k < 2; k++) {
    assert_int_equal(d[off], 0x02);
    size_t l = d[off + 1];
    const uint8_t *v = d + off + 2;
    while (l > ROT_P384_SCALAR_LEN) {
      assert_int_equal(*v, 0);
      v++;
      l--;
    }
    memset(raw + k * 48, 0, 48 - l);
    memcpy(raw + k * 48 + 48 - l, v, l);
    off += 2 + d[off + 1];
  }
  assert_int_equal(off, n);
}

static void identity_test_endorse_signs_the_statement(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  uint8_t req[ROT_DICE_ENDORSE_REQ_MAX];
  size_t n = endorse_req(req, 280);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_ENDORSE, req, n),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(srv_call(s, &kBootPath, ROT_MBOX_CMD_ENDORSE, req, n), ROT_OK);
  size_t sl = (size_t)s->payload[0] << 8 | s->payload[1];
  assert_int_equal(sl + 2, s->h.payload_len);
  uint8_t raw[ROT_P384_SIG_LEN];
  der_to_raw(s->payload + 2, sl, raw);
  /* The statement, rebuilt as a verifier does. */
  uint8_t st[ROT_DICE_STATEMENT_LEN];
  memcpy(st, "rot-stack ak endorsement v1", 27);
  st[27] = 0;
  memcpy(st + 28, req, 48);
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, req + 48, n - 48, st + 76, 48),
                   ROT_OK);
  uint8_t digest[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, st, sizeof(st), digest, 48),
                   ROT_OK);
  assert_int_equal(rot_ecdsa_p384_verify(test_crypto(), s->server.id.alias_pub, digest,
                                         48, raw),
                   ROT_OK);
  /* Another AK: the signature no longer fits. */
  req[60] ^= 1;
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, req + 48, n - 48, st + 76, 48),
                   ROT_OK);
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, st, sizeof(st), digest, 48),
                   ROT_OK);
  assert_int_equal(rot_ecdsa_p384_verify(test_crypto(), s->server.id.alias_pub, digest,
                                         48, raw),
                   ROT_ERROR_CRYPTO_BAD_SIGNATURE);
}

static void identity_test_endorse_hostile_requests(void **state) {
  srv_t *s = *state;
  srv_install_rot(s, 1);
  uint8_t req[ROT_DICE_ENDORSE_REQ_MAX + 8];
  size_t n = endorse_req(req, 100);
  /* TPM2B size says more, or less, than follows. */
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_ENDORSE, req, n - 1),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  req[49]--;
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_ENDORSE, req, n),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  /* Empty TPM2B. */
  n = endorse_req(req, 0);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_ENDORSE, req, n),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  /* Only the EK hash. */
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_ENDORSE, req, 48),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  /* The largest AK is accepted, one byte more is not. */
  n = endorse_req(req, ROT_DICE_AK_PUBLIC_MAX - 2);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_ENDORSE, req, n), ROT_OK);
  n = endorse_req(req, ROT_DICE_AK_PUBLIC_MAX - 1);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_ENDORSE, req, n),
                   ROT_ERROR_MAILBOX_TOO_LARGE);
}

static void identity_test_endorse_needs_firmware(void **state) {
  srv_t *s = *state;
  uint8_t req[ROT_DICE_ENDORSE_REQ_MAX];
  size_t n = endorse_req(req, 64);
  /* Without RoT firmware the recovery-only rule answers first; in a
   * decommissioned chip (exempt from it) the handler finds no identity. */
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_ENDORSE, req, n),
                   ROT_ERROR_BOOT_RECOVERY_ONLY);
  assert_int_equal(rot_otp_set_lifecycle(&s->f->otp.port, ROT_LIFECYCLE_DECOMMISSIONED),
                   ROT_OK);
  srv_reset(s);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_ENDORSE, req, n),
                   ROT_ERROR_IDENTITY_NO_FIRMWARE);
}

/* ---- encoders ---------------------------------------------------------------------------------- */

static void dice_test_tcbinfo_encode_bounds(void **state) {
  (void)state;
  rot_dice_tcb_t t;
  memset(&t, 0xff, sizeof(t));
  t.mode = ROT_DICE_MODE_DEBUG;
  uint8_t out[ROT_DICE_TCBINFO_MAX];
  size_t n = 0;
  assert_int_equal(rot_dice_tcbinfo_encode(&t, out, sizeof(out), &n), ROT_OK);
  assert_int_equal(out[0], 0x30);
  assert_int_equal(out[1], n - 2);
  const uint8_t ver[] = {0x82, 17, '6', '5', '5', '3', '5', '.'};
  assert_true(contains(out, n, ver, sizeof(ver)));
  const uint8_t svn[] = {0x83, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff};
  assert_true(contains(out, n, svn, sizeof(svn)));
  for (size_t cap = 0; cap < n; cap++) {
    assert_int_equal(rot_dice_tcbinfo_encode(&t, out, cap, &n),
                     ROT_ERROR_BUFFER_TOO_SMALL);
  }
  assert_int_equal(rot_dice_tcbinfo_encode(NULL, out, sizeof(out), &n),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void dice_test_sig_der_minimal(void **state) {
  (void)state;
  uint8_t sig[ROT_P384_SIG_LEN];
  memset(sig, 0, sizeof(sig));
  sig[47] = 1;         /* r = 1 */
  sig[48] = 0x80;      /* s: top bit set: a 0x00 pad byte */
  uint8_t out[ROT_DICE_SIG_DER_MAX];
  size_t n = 0;
  assert_int_equal(rot_dice_sig_der(sig, out, sizeof(out), &n), ROT_OK);
  const uint8_t head[] = {0x30, 3 + 51, 0x02, 0x01, 0x01, 0x02, 49, 0x00, 0x80};
  assert_int_equal(n, 2 + 3 + 51);
  assert_memory_equal(out, head, sizeof(head));
  assert_int_equal(rot_dice_sig_der(sig, out, n - 1, &n), ROT_ERROR_BUFFER_TOO_SMALL);
}

static void dice_test_mode_of_lifecycle(void **state) {
  (void)state;
  assert_int_equal(rot_dice_mode(ROT_LIFECYCLE_PROD), ROT_DICE_MODE_NORMAL);
  assert_int_equal(rot_dice_mode(ROT_LIFECYCLE_DEV), ROT_DICE_MODE_DEBUG);
  assert_int_equal(rot_dice_mode(ROT_LIFECYCLE_BLANK), ROT_DICE_MODE_NOT_CONFIGURED);
  assert_int_equal(rot_dice_mode(ROT_LIFECYCLE_DECOMMISSIONED), ROT_DICE_MODE_NOT_CONFIGURED);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, srv_setup_bare, srv_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(identity_test_boot_no_firmware),
      T(identity_test_status_reports_rom_verdict),
      T(identity_test_decommissioned_exempt),
      T(identity_test_boot_measures_installed_firmware),
      T(identity_test_trial_counted_once_per_reset),
      T(identity_test_keys_deterministic_across_resets),
      T(identity_test_new_firmware_new_alias_same_devid),
      T(identity_test_devid_follows_uds),
      T(identity_test_mode_from_lifecycle),
      T(identity_test_secrets_not_kept_or_sent),
      T(identity_test_rom_tampered_falls_back_then_recovery),
      T(identity_test_rom_unsigned_refused),
      T(identity_test_rom_revoked_refused),
      T(identity_test_rom_below_floor_falls_back),
      T(identity_test_store_checks_the_key),
      T(identity_test_store_refused_once_provisioned_in_production),
      T(identity_test_store_first_in_production),
      T(identity_test_store_power_cut_anywhere),
      T(identity_test_endorse_signs_the_statement),
      T(identity_test_endorse_hostile_requests),
      T(identity_test_endorse_needs_firmware),
      cmocka_unit_test(dice_test_tcbinfo_encode_bounds),
      cmocka_unit_test(dice_test_sig_der_minimal),
      cmocka_unit_test(dice_test_mode_of_lifecycle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
