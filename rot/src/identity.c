/*
 * The boot ROM stage and the chip's DICE identity (see rot/identity.h).
 */
#include "rot/identity.h"

#include "rot/util.h"

static void keys_wipe(rot_identity_t *id) {
  rot_wipe(id->devid_priv, sizeof(id->devid_priv));
  rot_wipe(id->alias_priv, sizeof(id->alias_priv));
  rot_memset(id->devid_pub, 0, sizeof(id->devid_pub));
  rot_memset(id->alias_pub, 0, sizeof(id->alias_pub));
  rot_memset(id->alias_cert, 0, sizeof(id->alias_cert));
  id->alias_len = 0;
}

void rot_identity_wipe(rot_identity_t *id) {
  if (id == NULL) {
    return;
  }
  rot_wipe(id, sizeof(*id)); /* the private keys with everything else */
  id->booted = HARDENED_FALSE;
  id->reason = ROT_BOOT_NONE;
  id->status = ROT_ERROR_IDENTITY_NO_FIRMWARE;
  id->region = ROT_RGN_COUNT;
}

static rot_error_t measure(rot_identity_t *id, rot_update_t *u,
                           const rot_otp_port_t *otp, const rot_crypto_t *c) {
  rot_boot_decision_t dec;
  rot_error_t err = rot_boot_decide(u, ROT_IMAGE_TYPE_ROT, &dec);
  if (err != ROT_OK) {
    return err == ROT_ERROR_BOOT_NO_IMAGE ? ROT_ERROR_BOOT_RECOVERY_ONLY : err;
  }
  ROT_TRY(rot_verified_check(&dec.verified));
  if (dec.verified.image_type != ROT_IMAGE_TYPE_ROT) {
    return ROT_ERROR_POLICY_TYPE_MISMATCH;
  }
  id->region = dec.region;
  id->reason = dec.reason;
  id->image_len = dec.image_len;
  id->fw = dec.verified;
  ROT_TRY(rot_dice_inputs(&dec.verified, id->lifecycle, &id->inputs));

  uint8_t uds[ROT_OTP_UDS_LEN];
  uint8_t cdi[ROT_DICE_CDI_LEN];
  err = rot_otp_read_uds(otp, uds);
  if (err == ROT_OK) {
    err = rot_dice_derive_key(c, uds, sizeof(uds), id->devid_priv, id->devid_pub);
  }
  if (err == ROT_OK) {
    err = rot_dice_cdi(c, uds, sizeof(uds), &id->inputs, cdi);
  }
  if (err == ROT_OK) {
    err = rot_dice_derive_key(c, cdi, sizeof(cdi), id->alias_priv, id->alias_pub);
  }
  /* The secrets end here, whatever happened. */
  rot_wipe(uds, sizeof(uds));
  rot_wipe(cdi, sizeof(cdi));
  return err;
}

rot_error_t rot_identity_boot(rot_identity_t *id, rot_update_t *u,
                              const rot_otp_port_t *otp, const rot_crypto_t *c) {
  if (id == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_identity_wipe(id);
  if (u == NULL || otp == NULL || c == NULL) {
    id->status = ROT_ERROR_INVALID_ARGUMENT;
    return id->status;
  }
  rot_policy_t pol;
  rot_error_t err = rot_otp_policy(otp, &pol);
  if (err == ROT_OK) {
    id->lifecycle = pol.lifecycle;
    err = measure(id, u, otp, c);
  }
  if (ROT_FIRST_CHECK(err != ROT_OK)) {
    keys_wipe(id);
    id->booted = HARDENED_FALSE;
    id->status = err;
    return err;
  }
  HARDENED_CHECK_EQ(err, ROT_OK);
  id->status = ROT_OK;
  id->booted = HARDENED_TRUE;
  return ROT_OK;
}

rot_error_t rot_identity_check(const rot_identity_t *id) {
  if (id == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* id->status keeps the ROM stage's reason for the record; a caller
   * asking for the identity learns only that there is none. */
  if (ROT_FIRST_CHECK(id->booted != HARDENED_TRUE || id->status != ROT_OK)) {
    return ROT_ERROR_IDENTITY_NO_FIRMWARE;
  }
  HARDENED_CHECK_EQ(id->booted, HARDENED_TRUE);
  HARDENED_CHECK_EQ(rot_verified_check(&id->fw), ROT_OK);
  return ROT_OK;
}

/* ---- names ----------------------------------------------------------------- */

static rot_error_t name_for(const rot_crypto_t *c, const char *role,
                            const uint8_t pub[ROT_P384_PUBKEY_LEN],
                            char out[ROT_IDENTITY_NAME_MAX]) {
  static const char kHex[] = "0123456789abcdef";
  uint8_t kid[20];
  ROT_TRY(rot_dice_key_id(c, pub, kid));
  size_t n = 0;
  const char *prefix = "CN=rot-stack ";
  for (size_t i = 0; prefix[i] != '\0'; i++) {
    out[n++] = prefix[i];
  }
  for (size_t i = 0; role[i] != '\0' && n < 40; i++) {
    out[n++] = role[i];
  }
  out[n++] = ' ';
  for (size_t i = 0; i < sizeof(kid); i++) {
    out[n++] = kHex[kid[i] >> 4];
    out[n++] = kHex[kid[i] & 15u];
  }
  const char *suffix = ",O=rot-stack";
  for (size_t i = 0; suffix[i] != '\0'; i++) {
    out[n++] = suffix[i];
  }
  out[n] = '\0';
  return ROT_OK;
}

rot_error_t rot_identity_devid_name(const rot_identity_t *id,
                                    const rot_crypto_t *c,
                                    char out[ROT_IDENTITY_NAME_MAX]) {
  if (id == NULL || c == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(rot_identity_check(id));
  return name_for(c, "DeviceID", id->devid_pub, out);
}

rot_error_t rot_identity_csr(const rot_identity_t *id, const rot_crypto_t *c,
                             const rot_cert_port_t *cp, uint8_t *out,
                             size_t cap, size_t *out_len) {
  if (id == NULL || c == NULL || cp == NULL || out == NULL || out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  char name[ROT_IDENTITY_NAME_MAX];
  ROT_TRY(rot_identity_devid_name(id, c, name));
  return cp->csr_write(cp, id->devid_priv, id->devid_pub, name, out, cap,
                       out_len);
}

/* ---- the stored DeviceID certificate ------------------------------------------ */

rot_error_t rot_identity_store(const rot_identity_t *id, rot_gate_t *g,
                               const rot_crypto_t *c, const rot_cert_port_t *cp,
                               const uint8_t *der, size_t len) {
  if (id == NULL || g == NULL || c == NULL || cp == NULL ||
      (der == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(rot_identity_check(id));
  if (len == 0 || len > ROT_CERT_MAX) {
    return ROT_ERROR_IDENTITY_BAD_CERT;
  }
  uint8_t pub[ROT_P384_PUBKEY_LEN];
  ROT_TRY(cp->cert_pubkey(cp, der, len, pub));
  if (ROT_FIRST_CHECK(!rot_memeq(pub, id->devid_pub, sizeof(pub)))) {
    return ROT_ERROR_IDENTITY_CERT_MISMATCH;
  }
  HARDENED_CHECK_EQ(rot_memeq(pub, id->devid_pub, sizeof(pub)), 1);
  uint8_t head[ROT_IDENTITY_STORE_HEAD];
  rot_memset(head, 0, sizeof(head));
  rot_st32(head, ROT_IDENTITY_STORE_MAGIC);
  rot_st16(head + 4, ROT_IDENTITY_STORE_VERSION);
  rot_st32(head + 8, (uint32_t)len);
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, der, len, head + 16, ROT_SHA384_LEN));
  /* Body first, header last: a cut leaves no header, i.e. "not provisioned". */
  ROT_TRY(rot_gate_erase_region(g, ROT_INIT_CHIP, ROT_RGN_NVCFG));
  ROT_TRY(rot_gate_sync(g));
  ROT_TRY(rot_gate_program(g, ROT_INIT_CHIP, ROT_RGN_NVCFG,
                           ROT_IDENTITY_STORE_HEAD, der, (uint32_t)len));
  ROT_TRY(rot_gate_sync(g));
  ROT_TRY(rot_gate_program(g, ROT_INIT_CHIP, ROT_RGN_NVCFG, 0, head,
                           sizeof(head)));
  return rot_gate_sync(g);
}

rot_error_t rot_identity_load(rot_gate_t *g, const rot_crypto_t *c,
                              uint8_t *out, size_t cap, size_t *out_len) {
  if (g == NULL || c == NULL || out == NULL || out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t head[ROT_IDENTITY_STORE_HEAD];
  ROT_TRY(rot_gate_read(g, ROT_INIT_CHIP, ROT_RGN_NVCFG, 0, head, sizeof(head)));
  uint32_t len = rot_ld32(head + 8);
  if (rot_ld32(head) != ROT_IDENTITY_STORE_MAGIC ||
      rot_ld16(head + 4) != ROT_IDENTITY_STORE_VERSION || len == 0 ||
      len > ROT_CERT_MAX) {
    return ROT_ERROR_IDENTITY_NOT_PROVISIONED;
  }
  if (len > cap) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  ROT_TRY(rot_gate_read(g, ROT_INIT_CHIP, ROT_RGN_NVCFG, ROT_IDENTITY_STORE_HEAD,
                        out, len));
  uint8_t digest[ROT_SHA384_LEN];
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, out, len, digest, sizeof(digest)));
  if (!rot_memeq(digest, head + 16, sizeof(digest))) {
    return ROT_ERROR_IDENTITY_NOT_PROVISIONED; /* torn or damaged record */
  }
  *out_len = len;
  return ROT_OK;
}

/* ---- Alias certificate and endorsement ------------------------------------------ */

rot_error_t rot_identity_alias_cert(rot_identity_t *id, const rot_crypto_t *c,
                                    const rot_cert_port_t *cp,
                                    const uint8_t **der, size_t *len) {
  if (id == NULL || c == NULL || cp == NULL || der == NULL || len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(rot_identity_check(id));
  if (id->alias_len == 0) {
    char issuer[ROT_IDENTITY_NAME_MAX];
    char subject[ROT_IDENTITY_NAME_MAX];
    uint8_t serial[20];
    ROT_TRY(name_for(c, "DeviceID", id->devid_pub, issuer));
    ROT_TRY(name_for(c, "Alias", id->alias_pub, subject));
    ROT_TRY(rot_dice_key_id(c, id->alias_pub, serial));
    rot_dice_tcb_t tcb;
    rot_memset(&tcb, 0, sizeof(tcb));
    tcb.ver_major = id->fw.ver_major;
    tcb.ver_minor = id->fw.ver_minor;
    tcb.ver_patch = id->fw.ver_patch;
    tcb.svn = id->fw.svn;
    tcb.mode = id->inputs.mode;
    rot_memcpy(tcb.fwid, id->fw.payload_digest, ROT_SHA384_LEN);
    uint8_t ext[ROT_DICE_TCBINFO_MAX];
    size_t ext_len = 0;
    ROT_TRY(rot_dice_tcbinfo_encode(&tcb, ext, sizeof(ext), &ext_len));
    rot_cert_spec_t spec = {
        .subject_pub = id->alias_pub,
        .subject_name = subject,
        .issuer_priv = id->devid_priv,
        .issuer_pub = id->devid_pub,
        .issuer_name = issuer,
        .serial = serial,
        .serial_len = sizeof(serial),
        .is_ca = 0,
        .tcbinfo = ext,
        .tcbinfo_len = ext_len,
    };
    size_t n = 0;
    ROT_TRY(cp->cert_write(cp, &spec, id->alias_cert, sizeof(id->alias_cert), &n));
    if (n == 0 || n > sizeof(id->alias_cert)) {
      return ROT_ERROR_INTERNAL;
    }
    id->alias_len = (uint32_t)n;
  }
  *der = id->alias_cert;
  *len = id->alias_len;
  return ROT_OK;
}

rot_error_t rot_identity_endorse(const rot_identity_t *id, const rot_crypto_t *c,
                                 const rot_dice_endorse_req_t *r, uint8_t *sig,
                                 size_t cap, size_t *sig_len) {
  if (id == NULL || c == NULL || r == NULL || sig == NULL || sig_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(rot_identity_check(id));
  uint8_t st[ROT_DICE_STATEMENT_LEN];
  uint8_t digest[ROT_SHA384_LEN];
  uint8_t raw[ROT_P384_SIG_LEN];
  ROT_TRY(rot_dice_endorse_statement(c, r, st));
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, st, sizeof(st), digest, sizeof(digest)));
  ROT_TRY(c->ecdsa_p384_sign(c, id->alias_priv, digest, sizeof(digest), raw));
  ROT_TRY(rot_p384_sig_normalize(raw));
  /* Check our own signature before it leaves: a faulted signer must not
   * hand out a signature that leaks the key or vouches for nothing. */
  ROT_TRY(rot_ecdsa_p384_verify(c, id->alias_pub, digest, sizeof(digest), raw));
  return rot_dice_sig_der(raw, sig, cap, sig_len);
}
