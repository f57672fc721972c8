/* Flags and the configuration file (see config.h). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "rot_client/mbox_client.h"

#define DEFAULT_THREADS 4u
#define DEFAULT_MAX_IMAGE (32u * 1024u * 1024u)
#define DEFAULT_CONN_TIMEOUT 10u
#define DEFAULT_CONN_LIMIT 256u
#define DEFAULT_GRACE 10u

static const char kUsage[] =
    "usage: host-agent [options]\n"
    "\n"
    "The host's HTTP API: Redfish (service root, Systems/1, UpdateService\n"
    "with the chip's firmware inventory and signed-image push, TaskService),\n"
    "Keylime's pull-agent API, /healthz, /metrics and the boot event log.\n"
    "Two listeners: plain HTTP on loopback for reads, and TLS for everything;\n"
    "operator operations (firmware push, reset) need TLS and a client\n"
    "certificate issued by the operator CA.\n"
    "\n"
    "options (each also a 'key = value' line of the --config file, without\n"
    "the dashes; a flag wins over the file):\n"
    "  --config FILE        read options from FILE first\n"
    "  --http HOST:PORT     plain HTTP listener, loopback only\n"
    "                       (default 127.0.0.1:0; port 0: a free port)\n"
    "  --no-http            no plain listener\n"
    "  --https HOST:PORT    TLS listener (default 127.0.0.1:0)\n"
    "  --tls-cert FILE      server certificate chain (PEM); TLS is on when\n"
    "  --tls-key FILE       both are given\n"
    "  --operator-ca FILE   CA certificate (PEM) whose client certificates\n"
    "                       may run operator operations\n"
    "  --rotd-socket PATH   rotd's mailbox socket (default $ROT_SOCKET, else\n"
    "                       run/rotd.sock)\n"
    "  --tcti CONF          TPM (tpm2-tss TCTI string, e.g.\n"
    "                       swtpm:path=SOCK; default tpm2-tss's search)\n"
    "  --eventlog FILE      the boot event log bootchain wrote\n"
    "                       (eventlog.bin) served at /v1/eventlog\n"
    "  --ports-file FILE    write the chosen ports there (http=N, https=N)\n"
    "  --uuid UUID          agent id for Keylime (default from\n"
    "                       /etc/machine-id)\n"
    "  --threads N          worker threads per listener (1..64, default 4)\n"
    "  --batch-window MS    how long /v1/attestation?batch=1 waits for more\n"
    "                       nonces before its quote (0..2000 ms, default 0:\n"
    "                       quote as soon as the TPM is free)\n"
    "  --batch-max N        at most N nonces per quote (1..1024, default 256)\n"
    "  --max-image BYTES    largest firmware image accepted (default 32 MiB)\n"
    "  --conn-timeout SECS  close a connection idle this long (default 10)\n"
    "  --conn-limit N       concurrent connections per listener (default 256)\n"
    "  --grace SECS         on SIGTERM, wait this long for requests in\n"
    "                       flight (default 10)\n"
    "  --help               this text\n";

enum {
  OPT_CONFIG = 256,
  OPT_HTTP,
  OPT_NO_HTTP,
  OPT_HTTPS,
  OPT_TLS_CERT,
  OPT_TLS_KEY,
  OPT_OPERATOR_CA,
  OPT_ROTD_SOCKET,
  OPT_TCTI,
  OPT_EVENTLOG,
  OPT_PORTS_FILE,
  OPT_UUID,
  OPT_THREADS,
  OPT_BATCH_WINDOW,
  OPT_BATCH_MAX,
  OPT_MAX_IMAGE,
  OPT_CONN_TIMEOUT,
  OPT_CONN_LIMIT,
  OPT_GRACE,
  OPT_HELP,
};

static const struct option kOpts[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"http", required_argument, NULL, OPT_HTTP},
    {"no-http", no_argument, NULL, OPT_NO_HTTP},
    {"https", required_argument, NULL, OPT_HTTPS},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"operator-ca", required_argument, NULL, OPT_OPERATOR_CA},
    {"rotd-socket", required_argument, NULL, OPT_ROTD_SOCKET},
    {"tcti", required_argument, NULL, OPT_TCTI},
    {"eventlog", required_argument, NULL, OPT_EVENTLOG},
    {"ports-file", required_argument, NULL, OPT_PORTS_FILE},
    {"uuid", required_argument, NULL, OPT_UUID},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"batch-window", required_argument, NULL, OPT_BATCH_WINDOW},
    {"batch-max", required_argument, NULL, OPT_BATCH_MAX},
    {"max-image", required_argument, NULL, OPT_MAX_IMAGE},
    {"conn-timeout", required_argument, NULL, OPT_CONN_TIMEOUT},
    {"conn-limit", required_argument, NULL, OPT_CONN_LIMIT},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int bad(const char *where, const char *name, const char *value,
               const char *why) {
  fprintf(stderr, "host-agent: %s%s%s: '%s': %s\n", where, where[0] ? ": " : "",
          name, value, why);
  return HA_CONFIG_ERROR;
}

static int parse_num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (s == NULL || s[0] < '0' || s[0] > '9') {
    return -1;
  }
  errno = 0;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
    return -1;
  }
  *out = v;
  return 0;
}

static int is_loopback(const char *host) {
  return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

/* Keep value for the life of the process (file values are freed lines). */
static const char *keep(const char *v, int from_file) {
  return from_file ? strdup(v) : v;
}

static int set_opt(ha_config_t *c, int opt, const char *name, const char *v,
                   const char *where) {
  int ff = where[0] != '\0';
  uint64_t n = 0;
  switch (opt) {
    case OPT_HTTP:
      if (ha_param_listen(v, c->http_host, sizeof(c->http_host), &c->http_port) !=
          ROT_OK) {
        return bad(where, name, v, "expected HOST:PORT");
      }
      if (!is_loopback(c->http_host)) {
        return bad(where, name, v,
                   "the plain listener serves loopback only (127.x or ::1)");
      }
      c->http_enabled = 1;
      return HA_CONFIG_OK;
    case OPT_NO_HTTP:
      c->http_enabled = 0;
      return HA_CONFIG_OK;
    case OPT_HTTPS:
      if (ha_param_listen(v, c->https_host, sizeof(c->https_host),
                          &c->https_port) != ROT_OK) {
        return bad(where, name, v, "expected HOST:PORT");
      }
      return HA_CONFIG_OK;
    case OPT_TLS_CERT: c->tls_cert = keep(v, ff); return HA_CONFIG_OK;
    case OPT_TLS_KEY: c->tls_key = keep(v, ff); return HA_CONFIG_OK;
    case OPT_OPERATOR_CA: c->operator_ca = keep(v, ff); return HA_CONFIG_OK;
    case OPT_ROTD_SOCKET: c->rotd_socket = keep(v, ff); return HA_CONFIG_OK;
    case OPT_TCTI: c->tcti = keep(v, ff); return HA_CONFIG_OK;
    case OPT_EVENTLOG: c->eventlog = keep(v, ff); return HA_CONFIG_OK;
    case OPT_PORTS_FILE: c->ports_file = keep(v, ff); return HA_CONFIG_OK;
    case OPT_UUID: {
      static const char kShape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
      int ok = strlen(v) == sizeof(kShape) - 1;
      for (size_t i = 0; ok && i < sizeof(kShape) - 1; i++) {
        ok = kShape[i] == '-' ? v[i] == '-'
                              : (v[i] >= '0' && v[i] <= '9') ||
                                    (v[i] >= 'a' && v[i] <= 'f');
      }
      if (!ok) {
        return bad(where, name, v, "expected a lower-case UUID");
      }
      c->uuid = keep(v, ff);
      return HA_CONFIG_OK;
    }
    case OPT_THREADS:
      if (parse_num(v, 1, 64, &n) != 0) {
        return bad(where, name, v, "expected 1..64");
      }
      c->threads = (unsigned)n;
      return HA_CONFIG_OK;
    case OPT_BATCH_WINDOW:
      if (parse_num(v, 0, 2000, &n) != 0) {
        return bad(where, name, v, "expected 0..2000 ms");
      }
      c->batch_window_ms = (unsigned)n;
      return HA_CONFIG_OK;
    case OPT_BATCH_MAX:
      if (parse_num(v, 1, 1024, &n) != 0) {
        return bad(where, name, v, "expected 1..1024");
      }
      c->batch_max = (unsigned)n;
      return HA_CONFIG_OK;
    case OPT_MAX_IMAGE:
      if (parse_num(v, 4096, 1u << 30, &n) != 0) {
        return bad(where, name, v, "expected 4096..1073741824 bytes");
      }
      c->max_image = n;
      return HA_CONFIG_OK;
    case OPT_CONN_TIMEOUT:
      if (parse_num(v, 1, 3600, &n) != 0) {
        return bad(where, name, v, "expected 1..3600 seconds");
      }
      c->conn_timeout_s = (unsigned)n;
      return HA_CONFIG_OK;
    case OPT_CONN_LIMIT:
      if (parse_num(v, 1, 4096, &n) != 0) {
        return bad(where, name, v, "expected 1..4096");
      }
      c->conn_limit = (unsigned)n;
      return HA_CONFIG_OK;
    case OPT_GRACE:
      if (parse_num(v, 0, 600, &n) != 0) {
        return bad(where, name, v, "expected 0..600 seconds");
      }
      c->grace_s = (unsigned)n;
      return HA_CONFIG_OK;
    default:
      return bad(where, name, v, "unknown option");
  }
}

static int load_file(ha_config_t *c, const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "host-agent: --config %s: %s\n", path, strerror(errno));
    return HA_CONFIG_ERROR;
  }
  char line[4100];
  unsigned lineno = 0;
  int rc = HA_CONFIG_OK;
  while (rc == HA_CONFIG_OK && fgets(line, sizeof(line), f) != NULL) {
    lineno++;
    char where[600];
    snprintf(where, sizeof(where), "%.512s:%u", path, lineno);
    if (strchr(line, '\n') == NULL && !feof(f)) {
      fprintf(stderr, "host-agent: %s: line too long\n", where);
      rc = HA_CONFIG_ERROR;
      break;
    }
    char *key;
    char *value;
    if (ha_config_line(line, &key, &value) != ROT_OK) {
      fprintf(stderr, "host-agent: %s: expected 'key = value'\n", where);
      rc = HA_CONFIG_ERROR;
      break;
    }
    if (key == NULL) {
      continue;
    }
    const struct option *o = kOpts;
    while (o->name != NULL && strcmp(o->name, key) != 0) {
      o++;
    }
    if (o->name == NULL || o->val == OPT_CONFIG || o->val == OPT_HELP) {
      fprintf(stderr, "host-agent: %s: unknown key '%s'\n", where, key);
      rc = HA_CONFIG_ERROR;
      break;
    }
    if (o->has_arg == no_argument) {
      if (strcmp(value, "true") != 0 && strcmp(value, "1") != 0) {
        rc = bad(where, key, value, "expected true");
        break;
      }
    }
    rc = set_opt(c, o->val, key, value, where);
  }
  fclose(f);
  return rc;
}

int ha_config_parse(ha_config_t *c, int argc, char **argv) {
  memset(c, 0, sizeof(*c));
  strcpy(c->http_host, "127.0.0.1");
  strcpy(c->https_host, "127.0.0.1");
  c->http_enabled = 1;
  c->threads = DEFAULT_THREADS;
  c->batch_window_ms = 0;
  c->batch_max = 256;
  c->max_image = DEFAULT_MAX_IMAGE;
  c->conn_timeout_s = DEFAULT_CONN_TIMEOUT;
  c->conn_limit = DEFAULT_CONN_LIMIT;
  c->grace_s = DEFAULT_GRACE;
  c->rotd_socket = rot_mbox_default_socket();

  /* The file first, so the flags can override it. */
  int opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", kOpts, NULL)) != -1) {
    if (opt == OPT_HELP) {
      fputs(kUsage, stdout);
      return HA_CONFIG_HELP;
    }
    if (opt == OPT_CONFIG) {
      int rc = load_file(c, optarg);
      if (rc != HA_CONFIG_OK) {
        return rc;
      }
    }
  }
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", kOpts, NULL)) != -1) {
    if (opt == '?' || opt == ':') {
      fprintf(stderr, "host-agent: bad option '%s' (see --help)\n",
              argv[optind - 1]);
      return HA_CONFIG_ERROR;
    }
    if (opt == OPT_CONFIG) {
      continue;
    }
    const char *name = argv[optind - 1];
    int rc = set_opt(c, opt, name, optarg != NULL ? optarg : "", "");
    if (rc != HA_CONFIG_OK) {
      return rc;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "host-agent: unexpected argument '%s' (see --help)\n",
            argv[optind]);
    return HA_CONFIG_ERROR;
  }
  if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
    fprintf(stderr, "host-agent: --tls-cert and --tls-key go together\n");
    return HA_CONFIG_ERROR;
  }
  if (c->operator_ca != NULL && c->tls_cert == NULL) {
    fprintf(stderr, "host-agent: --operator-ca needs the TLS listener "
                    "(--tls-cert, --tls-key)\n");
    return HA_CONFIG_ERROR;
  }
  if (!c->http_enabled && c->tls_cert == NULL) {
    fprintf(stderr, "host-agent: no listener: --no-http without TLS\n");
    return HA_CONFIG_ERROR;
  }
  return HA_CONFIG_OK;
}
