/*
 * rotctl identity: the chip's DICE identity.
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
 * Every form takes --socket PATH (default: $ROT_SOCKET, else
 * run/rotd.sock). Exit status: 0 success, 1 refused or failed, 2 usage.
 */
#include "rotctl_identity.h"

#include <errno.h>
#include <getopt.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rot/cert.h"
#include "rot/dice.h"
#include "rot/error.h"
#include "rot/mailbox.h"
#include "rot_host/file.h"
#include "rot_client/mbox_client.h"
#include "rot_client/names.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };
enum { OPT_SOCKET = 256, OPT_PEM, OPT_OUT, OPT_EK, OPT_AK };

static const char kUsage[] =
    "usage: rotctl identity [--socket PATH] [--pem] [--out DIR]\n"
    "       rotctl identity csr [--socket PATH] --out FILE\n"
    "       rotctl identity store [--socket PATH] CERT\n"
    "       rotctl identity endorse [--socket PATH] --ek-cert-sha384 HEX\n"
    "                               --ak-public FILE [--out FILE]\n\n"
    ROTCTL_IDENTITY_SUMMARY "\n\n"
    "  (no word)  the chain: DeviceID certificate (issued by the manufacturer\n"
    "             CA) and Alias certificate (issued by the DeviceID, carrying\n"
    "             the RoT firmware's TCG DiceTcbInfo). Without --out, prints\n"
    "             both subjects, or both PEM blocks with --pem.\n"
    "  csr        the DeviceID certificate request the chip signs, for the\n"
    "             manufacturer CA (keys/issue-deviceid.sh). Operators only.\n"
    "  store      hand the issued DeviceID certificate to the chip; it keeps\n"
    "             it only if it certifies its own DeviceID key. Operators only.\n"
    "  endorse    the Alias key's signature over an AK (TPM2B_PUBLIC file)\n"
    "             and an EK certificate hash (docs/mailbox.md). Operators and\n"
    "             the boot path only.\n\n"
    "options:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --pem           write PEM (deviceid.pem, alias.pem) besides DER\n"
    "  --out DIR|FILE  where to write (a directory for the chain)\n";

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...) {
  va_list ap;
  fputs("rotctl: identity: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return EXIT_FAIL;
}

static int usage(const char *what) {
  fprintf(stderr, "rotctl: identity: %s (try 'rotctl identity --help')\n", what);
  return EXIT_USAGE;
}

typedef struct opts {
  const char *socket;
  const char *out;
  const char *ek_hex;
  const char *ak_path;
  int pem;
  int nargs;
  char **args;
} opts_t;

/* -1 to go on, else an exit status. */
static int parse(int argc, char **argv, opts_t *o) {
  static const struct option kOpts[] = {
      {"socket", required_argument, NULL, OPT_SOCKET},
      {"pem", no_argument, NULL, OPT_PEM},
      {"out", required_argument, NULL, OPT_OUT},
      {"ek-cert-sha384", required_argument, NULL, OPT_EK},
      {"ak-public", required_argument, NULL, OPT_AK},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  memset(o, 0, sizeof(*o));
  o->socket = rot_mbox_default_socket();
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", kOpts, NULL)) != -1) {
    switch (c) {
      case 'h':
        fputs(kUsage, stdout);
        return EXIT_OK;
      case OPT_SOCKET:
        o->socket = optarg;
        break;
      case OPT_PEM:
        o->pem = 1;
        break;
      case OPT_OUT:
        o->out = optarg;
        break;
      case OPT_EK:
        o->ek_hex = optarg;
        break;
      case OPT_AK:
        o->ak_path = optarg;
        break;
      case ':':
        return usage("an option needs a value");
      default:
        return usage("unknown option");
    }
  }
  o->nargs = argc - optind;
  o->args = argv + optind;
  return -1;
}

/* One request; the reply payload in *r / *rl. */
static int call(const opts_t *o, uint16_t cmd, const uint8_t *req, uint32_t len,
                rot_mbox_client_t *cl, const uint8_t **r, uint32_t *rl) {
  rot_error_t err = rot_mbox_client_connect(cl, o->socket, 0);
  if (err != ROT_OK) {
    return fail("cannot connect to rotd at %s: %s (%s)", o->socket,
                rot_error_str(err), rot_error_name(err));
  }
  uint8_t *payload = rot_mbox_client_payload(cl);
  if (len > 0) {
    memcpy(payload, req, len);
  }
  rot_error_t status = ROT_ERROR_INTERNAL;
  err = rot_mbox_call(cl, cmd, len > 0 ? payload : NULL, len, &status, r, rl);
  if (err != ROT_OK) {
    return fail("%s: no answer from rotd at %s: %s (%s)",
                rot_mbox_command_name(cmd), o->socket, rot_error_name(err),
                rot_error_str(err));
  }
  if (status != ROT_OK) {
    return fail("refused: %s (%s)", rot_error_name(status), rot_error_str(status));
  }
  return EXIT_OK;
}

static int write_out(const char *path, const uint8_t *p, size_t n) {
  rot_error_t err = rot_file_write(path, p, n, 0644);
  if (err != ROT_OK) {
    return fail("cannot write %s: %s (%s)", path, rot_error_str(err),
                rot_error_name(err));
  }
  return EXIT_OK;
}

static int pem_of(const uint8_t *der, size_t n, const char *what, char *out,
                  size_t cap) {
  char head[64], foot[64];
  snprintf(head, sizeof(head), "-----BEGIN %s-----\n", what);
  snprintf(foot, sizeof(foot), "-----END %s-----\n", what);
  size_t olen = 0;
  if (mbedtls_pem_write_buffer(head, foot, der, n, (unsigned char *)out, cap,
                               &olen) != 0) {
    return fail("cannot encode PEM");
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

static int cmd_chain(const opts_t *o) {
  if (o->nargs != 0) {
    return usage("unexpected argument");
  }
  rot_mbox_client_t cl;
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  int rc = call(o, ROT_MBOX_CMD_IDENTITY, NULL, 0, &cl, &r, &rl);
  if (rc != EXIT_OK) {
    rot_mbox_client_close(&cl);
    return rc;
  }
  /* u16 BE len || DeviceID || u16 BE len || Alias, nothing after. */
  size_t dl = rl >= 2 ? ((size_t)r[0] << 8 | r[1]) : 0;
  size_t al = rl >= 4 + dl ? ((size_t)r[2 + dl] << 8 | r[3 + dl]) : 0;
  if (rl < 4 || dl == 0 || dl > rl - 4 || al == 0 || al != rl - 4 - dl) {
    rot_mbox_client_close(&cl);
    return fail("malformed identity reply from rotd (%u bytes)", (unsigned)rl);
  }
  static uint8_t dev[ROT_CERT_MAX * 2], alias[ROT_CERT_MAX * 2];
  memcpy(dev, r + 2, dl);
  memcpy(alias, r + 4 + dl, al);
  rot_mbox_client_close(&cl);
  static char pd[ROT_CERT_MAX * 3], pa[ROT_CERT_MAX * 3];
  if (o->pem && (pem_of(dev, dl, "CERTIFICATE", pd, sizeof(pd)) != EXIT_OK ||
                 pem_of(alias, al, "CERTIFICATE", pa, sizeof(pa)) != EXIT_OK)) {
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
    return fail("cannot create %s: %s", o->out, strerror(errno));
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
      return fail("%s: path too long", o->out);
    }
    if ((rc = write_out(path, files[i].p, files[i].n)) != EXIT_OK) {
      return rc;
    }
    printf("wrote %s\n", path);
  }
  return EXIT_OK;
}

static int cmd_csr(const opts_t *o) {
  if (o->nargs != 0 || o->out == NULL) {
    return usage("csr needs --out FILE and no argument");
  }
  rot_mbox_client_t cl;
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  int rc = call(o, ROT_MBOX_CMD_IDENTITY_CSR, NULL, 0, &cl, &r, &rl);
  if (rc == EXIT_OK) {
    rc = write_out(o->out, r, rl);
    if (rc == EXIT_OK) {
      printf("wrote %s (DeviceID CSR, %u bytes)\n", o->out, (unsigned)rl);
    }
  }
  rot_mbox_client_close(&cl);
  return rc;
}

static int cmd_store(const opts_t *o) {
  if (o->nargs != 1) {
    return usage("store needs one certificate file");
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  rot_error_t err = rot_file_read(o->args[0], 64 * 1024, &buf, &len);
  if (err != ROT_OK) {
    return fail("cannot read %s: %s (%s)", o->args[0], rot_error_str(err),
                rot_error_name(err));
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
    return fail("%s: not one X.509 certificate (DER or PEM)", o->args[0]);
  }
  rot_mbox_client_t cl;
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  int rc = call(o, ROT_MBOX_CMD_IDENTITY_STORE, crt.raw.p, (uint32_t)crt.raw.len,
                &cl, &r, &rl);
  rot_mbox_client_close(&cl);
  mbedtls_x509_crt_free(&crt);
  if (rc == EXIT_OK) {
    printf("DeviceID certificate stored in the chip\n");
  }
  return rc;
}

static int hex_nibble(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

static int cmd_endorse(const opts_t *o) {
  if (o->nargs != 0 || o->ek_hex == NULL || o->ak_path == NULL) {
    return usage("endorse needs --ek-cert-sha384 HEX and --ak-public FILE");
  }
  uint8_t req[ROT_DICE_ENDORSE_REQ_MAX];
  if (strlen(o->ek_hex) != 2 * ROT_SHA384_LEN) {
    return usage("--ek-cert-sha384 takes 96 hex digits");
  }
  for (size_t i = 0; i < ROT_SHA384_LEN; i++) {
    int hi = hex_nibble(o->ek_hex[2 * i]), lo = hex_nibble(o->ek_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return usage("--ek-cert-sha384 takes 96 hex digits");
    }
    req[i] = (uint8_t)(hi << 4 | lo);
  }
  uint8_t *ak = NULL;
  size_t ak_len = 0;
  rot_error_t err = rot_file_read(o->ak_path, ROT_DICE_AK_PUBLIC_MAX, &ak, &ak_len);
  if (err != ROT_OK) {
    return fail("cannot read %s: %s (%s)", o->ak_path, rot_error_str(err),
                rot_error_name(err));
  }
  memcpy(req + ROT_SHA384_LEN, ak, ak_len);
  free(ak);
  rot_mbox_client_t cl;
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  int rc = call(o, ROT_MBOX_CMD_ENDORSE, req,
                (uint32_t)(ROT_SHA384_LEN + ak_len), &cl, &r, &rl);
  if (rc == EXIT_OK) {
    size_t sl = rl >= 2 ? ((size_t)r[0] << 8 | r[1]) : 0;
    if (rl < 2 || sl == 0 || sl != rl - 2u) {
      rc = fail("malformed endorse reply from rotd");
    } else if (o->out != NULL) {
      rc = write_out(o->out, r + 2, sl);
      if (rc == EXIT_OK) {
        printf("wrote %s (endorsement signature, %zu bytes)\n", o->out, sl);
      }
    } else {
      for (size_t i = 0; i < sl; i++) {
        printf("%02x", r[2 + i]);
      }
      putchar('\n');
    }
  }
  rot_mbox_client_close(&cl);
  return rc;
}

int rotctl_cmd_identity(int argc, char **argv) {
  const char *word = argc >= 2 && argv[1][0] != '-' ? argv[1] : NULL;
  opts_t o;
  int rc = word != NULL ? parse(argc - 1, argv + 1, &o) : parse(argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  if (word == NULL) {
    return cmd_chain(&o);
  }
  if (strcmp(word, "csr") == 0) {
    return cmd_csr(&o);
  }
  if (strcmp(word, "store") == 0) {
    return cmd_store(&o);
  }
  if (strcmp(word, "endorse") == 0) {
    return cmd_endorse(&o);
  }
  return usage("unknown word (csr, store, endorse, or none)");
}
