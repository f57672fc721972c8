/*
 * Test helper for the event log interop test.
 *
 *   eventlog_gen write LOG [--opensbi F] [--payload F] [--dtb F]
 *       Write a log that follows docs/pcr-plan.md (synthetic stand-ins for
 *       any image not given) and print one line per event for the TPM side:
 *       "PCR:sha256=HEX,sha384=HEX", the argument tpm2_pcrextend takes.
 *   eventlog_gen print [--json] LOG
 *       Render LOG with bc_log_print (exit 1 when it is not valid).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootchain/eventlog.h"
#include "bootchain/logprint.h"
#include "rot/policy.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"

#define LOG_CAP (256u * 1024u)
#define IMAGE_MAX (64u * 1024u * 1024u)
#define OPENSBI_BASE 0x80000000u
#define PAYLOAD_BASE 0x80200000u
#define DTB_BASE 0x9fe00000u

static const uint16_t kAlgs[] = {BC_ALG_SHA256, BC_ALG_SHA384};

static void emit(const bc_log_writer_t *w, uint32_t pcr,
                 const bc_log_digests_t *d) {
  printf("%u:", pcr);
  for (uint32_t i = 0; i < w->bank_count; i++) {
    printf("%s%s=", i ? "," : "", bc_log_alg_name(w->banks[i].alg));
    for (uint32_t j = 0; j < w->banks[i].size; j++) {
      printf("%02x", d->value[i][j]);
    }
  }
  printf("\n");
}

static int fail(const char *what, rot_error_t err) {
  fprintf(stderr, "eventlog_gen: %s: %s\n", what, rot_error_str(err));
  return 1;
}

/* File contents, or a deterministic stand-in of len bytes. */
static int load(const char *path, size_t len, uint8_t seed, uint8_t **out,
                size_t *out_len) {
  if (path != NULL) {
    rot_error_t err = rot_file_read(path, IMAGE_MAX, out, out_len);
    return err == ROT_OK ? 0 : fail(path, err);
  }
  *out = malloc(len);
  if (*out == NULL) {
    return 1;
  }
  for (size_t i = 0; i < len; i++) {
    (*out)[i] = (uint8_t)(seed + i * 7u);
  }
  *out_len = len;
  return 0;
}

/* One PCR 7 policy variable (EV_EFI_VARIABLE_DRIVER_CONFIG). */
static rot_error_t add_var(bc_log_writer_t *w, const rot_crypto_t *c,
                           const char *name, const void *val, size_t len,
                           bc_log_digests_t *d) {
  uint8_t ev[BC_EV_VARIABLE_FIXED + 2u * BC_EV_VAR_MAX_NAME + 64u];
  size_t n = 0;
  ROT_TRY(bc_ev_variable_encode(ev, sizeof(ev), name, val, len, &n));
  return bc_log_append_data(w, c, 7, BC_EV_EFI_VARIABLE_DRIVER_CONFIG, ev, n,
                            d);
}

#define TRY_LOG(what, expr)                  \
  do {                                       \
    rot_error_t e_ = (expr);                 \
    if (e_ != ROT_OK) {                      \
      rc = fail(what, e_);                   \
      goto out;                              \
    }                                        \
    emit(&w, last_pcr, &d);                  \
  } while (0)

static int cmd_write(int argc, char **argv) {
  const char *log_path = NULL, *fw_path = NULL, *pl_path = NULL,
             *dtb_path = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--opensbi") == 0 && i + 1 < argc) {
      fw_path = argv[++i];
    } else if (strcmp(argv[i], "--payload") == 0 && i + 1 < argc) {
      pl_path = argv[++i];
    } else if (strcmp(argv[i], "--dtb") == 0 && i + 1 < argc) {
      dtb_path = argv[++i];
    } else if (log_path == NULL && argv[i][0] != '-') {
      log_path = argv[i];
    } else {
      fprintf(stderr, "eventlog_gen: bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (log_path == NULL) {
    fprintf(stderr, "eventlog_gen: write needs LOG\n");
    return 2;
  }
  const rot_crypto_t *c = rot_host_crypto();
  if (c == NULL) {
    return fail("crypto", ROT_ERROR_CRYPTO_FAILED);
  }
  int rc = 0;
  uint8_t *fw = NULL, *pl = NULL, *dtb = NULL, *buf = malloc(LOG_CAP);
  size_t fw_len = 0, pl_len = 0, dtb_len = 0;
  if (buf == NULL || load(fw_path, 4096, 0x11, &fw, &fw_len) != 0 ||
      load(pl_path, 8192, 0x22, &pl, &pl_len) != 0 ||
      load(dtb_path, 2048, 0x33, &dtb, &dtb_len) != 0) {
    rc = 1;
    goto out;
  }

  bc_log_writer_t w;
  bc_log_digests_t d;
  uint32_t last_pcr = 0;
  rot_error_t err = bc_log_init(&w, buf, LOG_CAP, kAlgs, 2);
  if (err != ROT_OK) {
    rc = fail("init", err);
    goto out;
  }
  uint8_t ev[BC_EV_BOOT_CONFIG_MAX_LEN + 64];
  size_t ev_len = 0;

  /* PCR 0: S-CRTM version, then the host firmware. */
  last_pcr = 0;
  TRY_LOG("s-crtm version", bc_log_s_crtm_version(&w, c, "1.0.0", &d));
  bc_ev_blob_encode(ev, OPENSBI_BASE, fw_len);
  TRY_LOG("opensbi", bc_log_measure(&w, c, 0, BC_EV_EFI_PLATFORM_FIRMWARE_BLOB,
                                    fw, fw_len, ev, BC_EV_BLOB_LEN, &d));

  /* PCR 1: platform configuration, then the handoff DTB. */
  last_pcr = 1;
  bc_ev_platform_config_encode(ev, ROT_LIFECYCLE_DEV, 0x0000000fu);
  TRY_LOG("platform config",
          bc_log_append_data(&w, c, 1, BC_EV_PLATFORM_CONFIG_FLAGS, ev,
                             BC_EV_PLATFORM_CONFIG_LEN, &d));
  bc_ev_blob_encode(ev, DTB_BASE, dtb_len);
  TRY_LOG("dtb", bc_log_measure(&w, c, 1, BC_EV_TABLE_OF_DEVICES, dtb, dtb_len,
                                ev, BC_EV_BLOB_LEN, &d));

  /* PCR 4: the boot payload. */
  last_pcr = 4;
  bc_ev_image_load_encode(ev, PAYLOAD_BASE, pl_len, PAYLOAD_BASE);
  TRY_LOG("payload",
          bc_log_measure(&w, c, 4, BC_EV_EFI_BOOT_SERVICES_APPLICATION, pl,
                         pl_len, ev, BC_EV_IMAGE_LOAD_LEN, &d));

  /* PCR 5: boot configuration (what /chosen says). */
  last_pcr = 5;
  const bc_ev_boot_image_t imgs[] = {
      {.image_type = ROT_IMAGE_TYPE_OPENSBI, .svn = 1, .ver_major = 1,
       .ver_minor = 1, .ver_patch = 0},
      {.image_type = ROT_IMAGE_TYPE_HYPERVISOR, .svn = 2, .ver_major = 2023,
       .ver_minor = 1, .ver_patch = 0},
  };
  err = bc_ev_boot_config_encode(ev, sizeof(ev), 0, imgs, 2, &ev_len);
  if (err != ROT_OK) {
    rc = fail("boot config", err);
    goto out;
  }
  TRY_LOG("boot config",
          bc_log_append_data(&w, c, 5, BC_EV_EVENT_TAG, ev, ev_len, &d));

  /* PCR 7: secure-boot policy. */
  last_pcr = 7;
  uint8_t val[64];
  rot_st32(val, ROT_LIFECYCLE_DEV);
  TRY_LOG("lifecycle", add_var(&w, c, BC_EV_VAR_LIFECYCLE, val, 4, &d));
  for (size_t i = 0; i < 48; i++) {
    val[i] = (uint8_t)(0xa0 + i);
  }
  TRY_LOG("root key", add_var(&w, c, BC_EV_VAR_ROOT_KEY_HASH, val, 48, &d));
  rot_st32(val, 2);
  rot_st32(val + 4, ROT_IMAGE_TYPE_OPENSBI);
  rot_st32(val + 8, 1);
  rot_st32(val + 12, ROT_IMAGE_TYPE_HYPERVISOR);
  rot_st32(val + 16, 2);
  TRY_LOG("signer keys", add_var(&w, c, BC_EV_VAR_SIGNER_KEYS, val, 20, &d));
  rot_st32(val, 0x00000008u);
  TRY_LOG("revoked keys", add_var(&w, c, BC_EV_VAR_REVOKED_KEYS, val, 4, &d));
  for (uint32_t t = 0; t < 8; t++) {
    rot_st32(val + 4 * t, t == 2 || t == 3 ? 1u : 0u);
  }
  TRY_LOG("svn floors", add_var(&w, c, BC_EV_VAR_SVN_FLOORS, val, 32, &d));

  /* EV_SEPARATOR closes PCRs 0-7. */
  for (last_pcr = 0; last_pcr < 8; last_pcr++) {
    TRY_LOG("separator", bc_log_separator(&w, c, last_pcr, &d));
  }

  err = rot_file_write(log_path, buf, w.len, 0644);
  if (err != ROT_OK) {
    rc = fail(log_path, err);
  }
out:
  free(fw);
  free(pl);
  free(dtb);
  free(buf);
  return rc;
}

static int cmd_print(int argc, char **argv) {
  unsigned flags = 0;
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      flags |= BC_LOG_PRINT_JSON;
    } else if (path == NULL) {
      path = argv[i];
    } else {
      return 2;
    }
  }
  if (path == NULL) {
    fprintf(stderr, "eventlog_gen: print needs LOG\n");
    return 2;
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  rot_error_t err = rot_file_read(path, BC_LOG_MAX_SIZE, &buf, &len);
  if (err != ROT_OK) {
    return fail(path, err);
  }
  const rot_crypto_t *c = rot_host_crypto();
  err = c == NULL ? ROT_ERROR_CRYPTO_FAILED
                  : bc_log_print(stdout, buf, len, c, flags | BC_LOG_PRINT_STRICT);
  free(buf);
  return err == ROT_OK ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "write") == 0) {
    return cmd_write(argc - 2, argv + 2);
  }
  if (argc >= 2 && strcmp(argv[1], "print") == 0) {
    return cmd_print(argc - 2, argv + 2);
  }
  fprintf(stderr,
          "usage: eventlog_gen write LOG [--opensbi F] [--payload F] "
          "[--dtb F]\n       eventlog_gen print [--json] LOG\n");
  return 2;
}
