/*
 * rotctl's OTP family: otp provision, show, revoke, set-floor, on the
 * file-backed fuses. The device secret is written once and never shown.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/image.h"
#include "rot/otp.h"
#include "rot_client/otp_provision.h"
#include "rot/policy.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"
#include "rot_client/keydir.h"
#include "rotctl.h"




/* An OTP file open to others holds a device secret that may have leaked:
 * refuse it with the fix, never chmod it behind the operator's back. */
static int fail_otp_private(const char *what, const char *path,
                            unsigned mode) {
  char advice[4400];
  return fail(what, path, "%s (%s)",
              rot_file_private_advice(advice, sizeof(advice), path, mode),
              rot_error_name(ROT_ERROR_IO_PERMISSIONS));
}

/* lock: ROT_LOCK_WRITER for the commands that burn fuses (refused while
 * rotd or anyone else has the file), ROT_LOCK_READER for otp show. */
static int open_otp(const char *what, const char *path, int create,
                    rot_lock_t lock, rot_otp_file_t *otp) {
  rot_error_t err = rot_otp_file_open_locked(otp, path, create, lock);
  if (err == ROT_ERROR_IO_PERMISSIONS) {
    return fail_otp_private(what, path, otp->mode);
  }
  if (err == ROT_ERROR_IO_LOCKED) {
    return fail_rot_hint(what, path, "cannot open OTP", err,
                         lock == ROT_LOCK_WRITER
                             ? "another process has it open (a running rotd?); "
                               "stop it first, or let the chip do it"
                             : "another process is burning fuses in it; retry");
  }
  if (err != ROT_OK) {
    return fail_rot(what, path, "cannot open OTP", err);
  }
  return EXIT_OK;
}

/*
 * The fuses as an operator sees them. Reads everything except the unique
 * device secret, which never leaves the OTP through this tool.
 */
typedef struct otp_view {
  int provisioned;
  rot_policy_t policy; /* floors and revocations valid even when blank */
  uint32_t uds_word;
} otp_view_t;

static rot_error_t otp_read_view(const rot_otp_port_t *p, otp_view_t *v) {
  uint8_t raw[ROT_OTP_SIZE];
  memset(raw, 0, sizeof(raw));
  memset(v, 0, sizeof(*v));
  ROT_TRY(p->read(p, 0, raw, ROT_OTP_OFF_UDS));
  ROT_TRY(p->read(p, ROT_OTP_OFF_UDS_WRITTEN, raw + ROT_OTP_OFF_UDS_WRITTEN,
                  4));
  v->uds_word = rot_ld32(raw + ROT_OTP_OFF_UDS_WRITTEN);
  rot_error_t err = rot_otp_decode(raw, &v->policy);
  if (err == ROT_OK) {
    v->provisioned = 1;
    return ROT_OK;
  }
  if (err != ROT_ERROR_OTP_NOT_PROVISIONED) {
    return err;
  }
  /* Blank: no root, but revocations and floors can already be burnt. */
  memset(&v->policy, 0, sizeof(v->policy));
  v->policy.lifecycle = ROT_LIFECYCLE_BLANK;
  v->policy.revoked_keys = rot_ld32(raw + ROT_OTP_OFF_REVOKED);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    ROT_TRY(rot_otp_thermo_decode(
        raw + ROT_OTP_OFF_FLOORS + t * ROT_OTP_FLOOR_BYTES, ROT_OTP_FLOOR_BYTES,
        &v->policy.svn_floor[t]));
  }
  return ROT_OK;
}

static const char *uds_state(uint32_t word) {
  return word == ROT_OTP_UDS_WRITTEN ? "written"
         : word == 0                 ? "not written"
                                     : "invalid";
}

/* ---- otp ------------------------------------------------------------------------ */

static int cmd_otp_provision(rotctl_t *c) {
  const command_t *cmd = c->cmd;
  const char *keys = c->o.keys;
  const char *path = c->o.otp;
  if (keys == NULL || keys[0] == '\0') {
    return usage_error(cmd, "--keys DIR is required");
  }
  if (path == NULL || path[0] == '\0') {
    return usage_error(cmd, "--otp FILE is required");
  }
  rot_keydir_t kd;
  rot_error_t err = rot_keydir_load_public(keys, &kd);
  if (err != ROT_OK) {
    return fail_keydir(cmd->full, path, keys, &kd, err);
  }
  uint8_t root_hash[ROT_SHA384_LEN];
  memcpy(root_hash, kd.policy.root_key_hash, sizeof(root_hash));
  rot_keydir_wipe(&kd);

  rot_otp_file_t otp;
  int rc = open_otp(cmd->full, path, 1, ROT_LOCK_WRITER, &otp);
  if (rc != EXIT_OK) {
    return rc;
  }
  err = rot_otp_provision(&otp.port, root_hash);
  if (err == ROT_OK) {
    /* The device's own secret, for the DICE identity: random, fused
     * once, never printed. */
    uint8_t uds[ROT_OTP_UDS_LEN];
    const rot_crypto_t *crypto = NULL;
    err = rot_host_crypto_get(&crypto);
    if (err == ROT_OK) {
      err = crypto->rng(crypto, uds, sizeof(uds));
    }
    if (err == ROT_OK) {
      err = rot_otp_write_uds(&otp.port, uds);
    }
    rot_wipe(uds, sizeof(uds));
  }
  rot_otp_file_close(&otp);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, path, "cannot provision", err);
  }
  printf("%s: provisioned lifecycle=dev uds=written root_key_hash=", path);
  put_hex(stdout, root_hash, sizeof(root_hash));
  putchar('\n');
  return EXIT_OK;
}

static int cmd_otp_show(rotctl_t *c) {
  const command_t *cmd = c->cmd;
  int json = c->o.json;
  const char *path = c->o.operands[0];
  int rc;
  rot_otp_file_t otp;
  rc = open_otp(cmd->full, path, 0, ROT_LOCK_READER, &otp);
  if (rc != EXIT_OK) {
    return rc;
  }
  otp_view_t v;
  rot_error_t err = otp_read_view(&otp.port, &v);
  rot_otp_file_close(&otp);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, path, "cannot decode", err);
  }
  const rot_policy_t *p = &v.policy;
  if (json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_str(&j, "otp", path);
    jw_bool(&j, "provisioned", v.provisioned);
    jw_str(&j, "lifecycle", rot_lifecycle_name(p->lifecycle));
    if (v.provisioned) {
      jw_hex(&j, "root_key_hash", p->root_key_hash, ROT_SHA384_LEN);
    } else {
      jw_str(&j, "root_key_hash", NULL);
    }
    jw_open(&j, "revoked_keys", '[');
    for (uint32_t i = 0; i < ROT_MAX_KEY_INDEX; i++) {
      if ((p->revoked_keys & (1u << i)) != 0) {
        jw_u64(&j, NULL, i);
      }
    }
    jw_close(&j, ']');
    jw_open(&j, "svn_floors", '{');
    for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
      jw_u64(&j, rot_image_type_name(t), p->svn_floor[t]);
    }
    jw_close(&j, '}');
    jw_str(&j, "uds", uds_state(v.uds_word));
    jw_close(&j, '}');
    return EXIT_OK;
  }
  printf("%s:\n", path);
  printf("  lifecycle        %s%s\n", rot_lifecycle_name(p->lifecycle),
         v.provisioned ? "" : " (not provisioned)");
  printf("  root_key_hash    ");
  if (v.provisioned) {
    put_hex(stdout, p->root_key_hash, ROT_SHA384_LEN);
  } else {
    fputs("none", stdout);
  }
  printf("\n  revoked_keys     ");
  int any = 0;
  for (uint32_t i = 0; i < ROT_MAX_KEY_INDEX; i++) {
    if ((p->revoked_keys & (1u << i)) != 0) {
      printf("%s%" PRIu32, any ? ", " : "", i);
      any = 1;
    }
  }
  printf("%s\n  svn_floor       ", any ? "" : "none");
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    printf(" %s=%" PRIu32, rot_image_type_name(t), p->svn_floor[t]);
  }
  printf("\n  uds              %s\n", uds_state(v.uds_word));
  return EXIT_OK;
}

static int cmd_otp_revoke(rotctl_t *c) {
  const command_t *cmd = c->cmd;
  const char *path = c->o.otp;
  uint32_t index = c->o.key_index;
  int rc;
  if (path == NULL || path[0] == '\0') {
    return usage_error(cmd, "--otp FILE is required");
  }
  if (!c->o.has_key_index) {
    return usage_error(cmd, "--key-index N is required");
  }
  rot_otp_file_t otp;
  rc = open_otp(cmd->full, path, 0, ROT_LOCK_WRITER, &otp);
  if (rc != EXIT_OK) {
    return rc;
  }
  otp_view_t v;
  rot_error_t err = otp_read_view(&otp.port, &v);
  int already = err == ROT_OK && (v.policy.revoked_keys & (1u << index)) != 0;
  if (err == ROT_OK && !already) {
    err = rot_otp_revoke_key(&otp.port, index);
  }
  rot_otp_file_close(&otp);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, path, "cannot revoke", err);
  }
  printf("%s: key %" PRIu32 " %s (revocation is permanent)\n", path, index,
         already ? "was already revoked" : "revoked");
  return EXIT_OK;
}

static int cmd_otp_set_floor(rotctl_t *c) {
  const command_t *cmd = c->cmd;
  const char *path = c->o.otp;
  uint32_t type = c->o.has_type ? c->o.type : 0;
  uint32_t svn = c->o.svn;
  int have_svn = c->o.has_svn;
  int rc;
  if (path == NULL || path[0] == '\0') {
    return usage_error(cmd, "--otp FILE is required");
  }
  if (type == 0) {
    return usage_error(cmd, "--type TYPE is required");
  }
  if (!have_svn) {
    return usage_error(cmd, "--svn N is required");
  }
  rot_otp_file_t otp;
  rc = open_otp(cmd->full, path, 0, ROT_LOCK_WRITER, &otp);
  if (rc != EXIT_OK) {
    return rc;
  }
  otp_view_t v;
  rot_error_t err = otp_read_view(&otp.port, &v);
  uint32_t before = err == ROT_OK ? v.policy.svn_floor[type] : 0;
  if (err == ROT_OK && svn > before) {
    err = rot_otp_raise_floor(&otp.port, type, svn);
  }
  rot_otp_file_close(&otp);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, path, "cannot raise floor", err);
  }
  if (svn > before) {
    printf("%s: %s floor raised %" PRIu32 " -> %" PRIu32 "\n", path,
           rot_image_type_name(type), before, svn);
  } else {
    printf("%s: %s floor stays at %" PRIu32 " (floors only rise)\n", path,
           rot_image_type_name(type), before);
  }
  return EXIT_OK;
}

/* ---- the family ------------------------------------------------------------------ */

static const command_t kOtpCommands[] = {
    {"provision", cmd_otp_provision, "--keys DIR --otp FILE",
     "Program a blank OTP file (created if missing) with the root key hash "
     "of a key hierarchy; lifecycle becomes dev.",
     "\noptions:\n"
     "  --keys DIR    key hierarchy (made by 'rotctl keygen')\n"
     "  --otp FILE    OTP file; must be blank or missing\n",
     O_KEYS | O_OTP, 0, NULL, NULL, "otp provision"},
    {"show", cmd_otp_show, "[--json] FILE",
     "Show lifecycle, root key hash, revoked keys, SVN floors and whether "
     "the device secret is written (never the secret itself).",
     "\noptions:\n"
     "  --json        machine-readable output\n",
     O_JSON, 1, "one OTP FILE", NULL, "otp show"},
    {"revoke", cmd_otp_revoke, "--otp FILE --key-index N",
     "Revoke a signing key index for good.",
     "\noptions:\n"
     "  --otp FILE       OTP file\n"
     "  --key-index N    key index, 0..31\n",
     O_OTP | O_KEY_INDEX, 0, NULL, NULL, "otp revoke"},
    {"set-floor", cmd_otp_set_floor, "--otp FILE --type TYPE --svn N",
     "Raise the anti-rollback floor of an image type (never lowers it).",
     "\noptions:\n"
     "  --otp FILE     OTP file\n"
     "  --type TYPE    rot, opensbi, hypervisor, dtb or recovery\n"
     "  --svn N        new floor, 0..256\n",
     O_OTP | O_TYPE | O_SVN, 0, NULL, NULL, "otp set-floor"},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const command_t rotctl_otp_commands[] = {
    {"otp", NULL, "COMMAND [options]",
     "Read and program the (file-backed) OTP fuses.", NULL, 0, 0, NULL,
     kOtpCommands, "otp"},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL},
};
