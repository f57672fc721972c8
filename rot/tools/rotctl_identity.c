/*
 * rotctl identity: the chip's DICE identity (docs/mailbox.md, "Identity").
 *
 *   rotctl identity [--pem] [--out DIR]   IDENTITY: the DeviceID and Alias
 *                                         certificates (DIR/deviceid.der,
 *                                         DIR/alias.der; .pem with --pem)
 *   rotctl identity csr --out FILE        IDENTITY_CSR: the DeviceID CSR (DER)
 *   rotctl identity store CERT            IDENTITY_STORE: the DeviceID
 *                                         certificate (DER or PEM)
 *   rotctl identity endorse --ek-cert-sha384 HEX --ak-public FILE [--out FILE]
 *                                         ENDORSE: the Alias key's signature
 *                                         (DER) over the AK endorsement
 *
 * A command family like the others (rotctl.h): its options go through the
 * shared parser, its requests through rotctl_call.
 */
#include <errno.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rot/cert.h"
#include "rot/dice.h"
#include "rot/error.h"
#include "rot/mailbox.h"
#include "rot_host/file.h"
#include "rotctl.h"

static int write_out(const rotctl_t *c, const char *path, const uint8_t *p,
                     size_t n) {
  rot_error_t err = rot_file_write(path, p, n, 0644);
  if (err != ROT_OK) {
    return fail_rot(c->cmd->full, path, "cannot write", err);
  }
  return EXIT_OK;
}

static int pem_of(const rotctl_t *c, const uint8_t *der, size_t n,
                  const char *what, char *out, size_t cap) {
  char head[64], foot[64];
  snprintf(head, sizeof(head), "-----BEGIN %s-----\n", what);
  snprintf(foot, sizeof(foot), "-----END %s-----\n", what);
  size_t olen = 0;
  if (mbedtls_pem_write_buffer(head, foot, der, n, (unsigned char *)out, cap,
                               &olen) != 0) {
    return fail(c->cmd->full, NULL, "cannot encode %s as PEM", what);
  }
  return EXIT_OK;
}

/* Subject of a certificate, for the summary. */
static void print_subject(const char *label, const uint8_t *der, size_t n) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  char name[256] = "(unparsable)";
  if (mbedtls_x509_crt_parse_der(&crt, der, n) == 0) {
    (void)mbedtls_x509_dn_gets(name, sizeof(name), &crt.subject);
  }
  printf("%-9s %s (%zu bytes)\n", label, name, n);
  mbedtls_x509_crt_free(&crt);
}

static int cmd_chain(rotctl_t *c) {
  const rotctl_opts_t *o = &c->o;
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  int rc = rotctl_call(c, ROT_MBOX_CMD_IDENTITY, NULL, 0, NULL, &r, &rl);
  if (rc != EXIT_OK) {
    return rc;
  }
  /* u16 BE len || DeviceID || u16 BE len || Alias, nothing after. */
  size_t dl = rl >= 2 ? ((size_t)r[0] << 8 | r[1]) : 0;
  size_t al = rl >= 4 + dl ? ((size_t)r[2 + dl] << 8 | r[3 + dl]) : 0;
  if (rl < 4 || dl == 0 || dl > rl - 4 || al == 0 || al != rl - 4 - dl ||
      dl > ROT_CERT_MAX || al > ROT_CERT_MAX) {
    return rotctl_bad_reply(c, ROT_MBOX_CMD_IDENTITY,
                            ROT_ERROR_MAILBOX_BAD_LENGTH);
  }
  static uint8_t dev[ROT_CERT_MAX], alias[ROT_CERT_MAX];
  memcpy(dev, r + 2, dl);
  memcpy(alias, r + 4 + dl, al);
  static char pd[ROT_CERT_MAX * 2], pa[ROT_CERT_MAX * 2];
  pd[0] = pa[0] = '\0';
  if (o->pem && (pem_of(c, dev, dl, "CERTIFICATE", pd, sizeof(pd)) != EXIT_OK ||
                 pem_of(c, alias, al, "CERTIFICATE", pa, sizeof(pa)) != EXIT_OK)) {
    return EXIT_FAIL;
  }
  if (o->out == NULL) {
    if (o->pem) {
      fputs(pd, stdout);
      fputs(pa, stdout);
    } else {
      print_subject("deviceid", dev, dl);
      print_subject("alias", alias, al);
    }
    return EXIT_OK;
  }
  if (mkdir(o->out, 0755) != 0 && errno != EEXIST) {
    return fail(c->cmd->full, o->out, "cannot create the directory: %s",
                strerror(errno));
  }
  char path[4096];
  struct {
    const char *name;
    const void *p;
    size_t n;
  } files[4] = {{"deviceid.der", dev, dl},
                {"alias.der", alias, al},
                {"deviceid.pem", pd, strlen(pd)},
                {"alias.pem", pa, strlen(pa)}};
  for (int i = 0; i < (o->pem ? 4 : 2); i++) {
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", o->out, files[i].name) >=
        sizeof(path)) {
      return fail(c->cmd->full, o->out, "path too long");
    }
    if ((rc = write_out(c, path, files[i].p, files[i].n)) != EXIT_OK) {
      return rc;
    }
    printf("wrote %s\n", path);
  }
  return EXIT_OK;
}

static int cmd_csr(rotctl_t *c) {
  if (c->o.out == NULL) {
    return usage_error(c->cmd, "--out FILE is required");
  }
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  int rc = rotctl_call(c, ROT_MBOX_CMD_IDENTITY_CSR, NULL, 0, NULL, &r, &rl);
  if (rc == EXIT_OK) {
    rc = write_out(c, c->o.out, r, rl);
    if (rc == EXIT_OK) {
      printf("wrote %s (DeviceID CSR, %u bytes)\n", c->o.out, (unsigned)rl);
    }
  }
  return rc;
}

static int cmd_store(rotctl_t *c) {
  const char *file = c->o.operands[0];
  uint8_t *buf = NULL;
  size_t len = 0;
  rot_error_t err = rot_file_read(file, 64 * 1024, &buf, &len);
  if (err != ROT_OK) {
    return fail_rot(c->cmd->full, file, "cannot read", err);
  }
  /* DER or PEM in; the chip gets the DER of exactly one certificate. */
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  uint8_t *pem = malloc(len + 1);
  int prc = -1;
  if (pem != NULL) {
    memcpy(pem, buf, len);
    pem[len] = 0;
    prc = mbedtls_x509_crt_parse(&crt, pem, len + 1);
    free(pem);
  }
  free(buf);
  if (prc != 0 || crt.next != NULL || crt.raw.len > ROT_CERT_MAX) {
    mbedtls_x509_crt_free(&crt);
    return fail(c->cmd->full, file, "not one X.509 certificate (DER or PEM)");
  }
  int rc = rotctl_call(c, ROT_MBOX_CMD_IDENTITY_STORE, crt.raw.p,
                       (uint32_t)crt.raw.len, NULL, NULL, NULL);
  mbedtls_x509_crt_free(&crt);
  if (rc == EXIT_OK) {
    printf("DeviceID certificate stored in the chip\n");
  }
  return rc;
}

static int cmd_endorse(rotctl_t *c) {
  const rotctl_opts_t *o = &c->o;
  if (!o->has_ek_cert_sha384) {
    return usage_error(c->cmd, "--ek-cert-sha384 HEX is required");
  }
  if (o->ak_public == NULL) {
    return usage_error(c->cmd, "--ak-public FILE is required");
  }
  uint8_t req[ROT_DICE_ENDORSE_REQ_MAX];
  memcpy(req, o->ek_cert_sha384, ROT_SHA384_LEN);
  uint8_t *ak = NULL;
  size_t ak_len = 0;
  rot_error_t err =
      rot_file_read(o->ak_public, ROT_DICE_AK_PUBLIC_MAX, &ak, &ak_len);
  if (err != ROT_OK) {
    return fail_rot(c->cmd->full, o->ak_public, "cannot read", err);
  }
  memcpy(req + ROT_SHA384_LEN, ak, ak_len);
  free(ak);
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  int rc = rotctl_call(c, ROT_MBOX_CMD_ENDORSE, req,
                       (uint32_t)(ROT_SHA384_LEN + ak_len), NULL, &r, &rl);
  if (rc != EXIT_OK) {
    return rc;
  }
  size_t sl = rl >= 2 ? ((size_t)r[0] << 8 | r[1]) : 0;
  if (rl < 2 || sl == 0 || sl != rl - 2u) {
    return rotctl_bad_reply(c, ROT_MBOX_CMD_ENDORSE,
                            ROT_ERROR_MAILBOX_BAD_LENGTH);
  }
  if (o->out != NULL) {
    rc = write_out(c, o->out, r + 2, sl);
    if (rc == EXIT_OK) {
      printf("wrote %s (endorsement signature, %zu bytes)\n", o->out, sl);
    }
    return rc;
  }
  put_hex(stdout, r + 2, sl);
  putchar('\n');
  return EXIT_OK;
}

/* ---- the family ------------------------------------------------------------------ */

static const command_t kIdentityCommands[] = {
    {"csr", cmd_csr, "--out FILE",
     "The DeviceID certificate request (DER), signed by the chip.",
     "\nFor the manufacturer CA (keys/issue-deviceid.sh). Operators only.\n"
     "\noptions:\n"
     "  --out FILE      where to write the CSR (DER)\n"
     "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n",
     O_DAEMON | O_OUT, 0, NULL, NULL, "identity csr"},
    {"store", cmd_store, "CERT",
     "Store the issued DeviceID certificate (DER or PEM) in the chip.",
     "\nThe chip keeps it only if it certifies its own DeviceID key, and past\n"
     "the dev lifecycle only while none is stored yet\n"
     "(ROT_ERROR_IDENTITY_ALREADY_PROVISIONED). Operators only.\n"
     "\noptions:\n"
     "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n",
     O_DAEMON, 1, "one certificate file CERT", NULL, "identity store"},
    {"endorse", cmd_endorse, "--ek-cert-sha384 HEX --ak-public FILE [--out FILE]",
     "The Alias key's endorsement of a TPM attestation key.",
     "\nA signature over the AK's TPM2B_PUBLIC and the EK certificate's hash\n"
     "(docs/mailbox.md). Operators and the boot path only.\n"
     "\noptions:\n"
     "  --ek-cert-sha384 HEX  SHA-384 of the EK certificate (96 hex digits)\n"
     "  --ak-public FILE      the AK's TPM2B_PUBLIC, as TPM2 marshals it\n"
     "  --out FILE            write the DER signature (default: hex on stdout)\n"
     "  --socket PATH         rotd's socket (default: $ROT_SOCKET, else "
     "run/rotd.sock)\n",
     O_DAEMON | O_OUT | O_EK_CERT_SHA384 | O_AK_PUBLIC, 0, NULL, NULL,
     "identity endorse"},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL},
};

/* A group that also runs on its own: with no sub-command (the next word an
 * option, or nothing), 'rotctl identity' exports the chain. */
const command_t rotctl_identity_commands[] = {
    {"identity", cmd_chain, "[--pem] [--out DIR] | csr | store | endorse",
     "Export the chip's DeviceID/Alias certificate chain; provision the "
     "DeviceID.",
     "\nWith no command: the chain, the DeviceID certificate (issued by the\n"
     "manufacturer CA) and the Alias certificate (issued by the DeviceID,\n"
     "carrying the RoT firmware's TCG DiceTcbInfo). Without --out, prints\n"
     "both subjects, or both PEM blocks with --pem.\n"
     "\noptions:\n"
     "  --pem           PEM too (deviceid.pem, alias.pem), or PEM on stdout\n"
     "  --out DIR       write DIR/deviceid.der and DIR/alias.der\n"
     "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n",
     O_DAEMON | O_PEM | O_OUT, 0, NULL, kIdentityCommands, "identity"},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL},
};
