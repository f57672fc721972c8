/*
 * host-agent: the host's HTTP API. Reads its configuration, loads the TLS
 * material, starts the two listeners, writes the chosen ports, and waits
 * for SIGTERM or SIGINT; then stops taking connections, lets requests in
 * flight (and a firmware task) finish, and closes the rotd and TPM
 * connections cleanly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "rot_client/names.h"
#include "rot_host/crypto_host.h"
#include "update.h"

#define PEM_MAX (256u * 1024u)

static ha_agent_t g_agent;

static char *load_pem(const char *what, const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "host-agent: %s %s: %s\n", what, path, strerror(errno));
    return NULL;
  }
  char *buf = malloc(PEM_MAX + 1);
  size_t n = buf != NULL ? fread(buf, 1, PEM_MAX + 1, f) : 0;
  fclose(f);
  if (buf == NULL || n == 0 || n > PEM_MAX || memchr(buf, '\0', n) != NULL ||
      strstr(buf, "-----BEGIN") == NULL) {
    fprintf(stderr, "host-agent: %s %s: not a PEM file (or over %u bytes)\n", what,
            path, PEM_MAX);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

/* The Keylime agent id: given, else derived from /etc/machine-id. */
static void pick_uuid(ha_agent_t *a) {
  if (a->cfg.uuid != NULL) {
    snprintf(a->uuid, sizeof(a->uuid), "%s", a->cfg.uuid);
    return;
  }
  char id[64] = "";
  FILE *f = fopen("/etc/machine-id", "r");
  if (f != NULL) {
    if (fgets(id, sizeof(id), f) == NULL) {
      id[0] = '\0';
    }
    fclose(f);
  }
  size_t n = 0;
  while (n < 32 && ((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f'))) {
    n++;
  }
  if (n != 32) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    unsigned char b[16] = {0};
    if (fd >= 0) {
      if (read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
        memset(b, 0, sizeof(b));
      }
      close(fd);
    }
    for (size_t i = 0; i < 16; i++) {
      snprintf(id + 2 * i, 3, "%02x", b[i]);
    }
  }
  snprintf(a->uuid, sizeof(a->uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8,
           id + 12, id + 16, id + 20);
}

static int write_ports(const ha_agent_t *a) {
  if (a->cfg.ports_file == NULL) {
    return 0;
  }
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", a->cfg.ports_file);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) {
    fprintf(stderr, "host-agent: --ports-file %s: %s\n", tmp, strerror(errno));
    return -1;
  }
  if (a->http != NULL) {
    fprintf(f, "http=%u\n", a->http_port);
  }
  if (a->https != NULL) {
    fprintf(f, "https=%u\n", a->https_port);
  }
  if (fclose(f) != 0 || rename(tmp, a->cfg.ports_file) != 0) {
    fprintf(stderr, "host-agent: --ports-file %s: %s\n", a->cfg.ports_file,
            strerror(errno));
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  ha_agent_t *a = &g_agent;
  /* Batched answers allocate and free some 12 KB per request across
   * threads; glibc trims a thread arena's top as soon as 128 KB are free
   * there (madvise, then page faults and TLB shootdowns on every core to
   * get the pages back), which took a third of the agent's CPU under load.
   * Keep up to 4 MiB free per arena instead. */
  mallopt(M_TRIM_THRESHOLD, 4 << 20);
  int rc = ha_config_parse(&a->cfg, argc, argv);
  if (rc == HA_CONFIG_HELP) {
    return 0;
  }
  if (rc != HA_CONFIG_OK) {
    return 2;
  }
  /* A ROT_CRYPTO naming no backend stops the agent before it listens. */
  rot_error_t cerr = rot_host_crypto_get(NULL);
  if (cerr != ROT_OK) {
    const char *want = getenv("ROT_CRYPTO");
    fprintf(stderr, "host-agent: ROT_CRYPTO='%s': %s (%s)\n",
            want != NULL ? want : "", rot_error_name(cerr), rot_error_str(cerr));
    return cerr == ROT_ERROR_CRYPTO_UNKNOWN_BACKEND ? 2 : 1;
  }
  if (a->cfg.tls_cert != NULL) {
    a->tls_cert = load_pem("--tls-cert", a->cfg.tls_cert);
    a->tls_key = load_pem("--tls-key", a->cfg.tls_key);
    if (a->tls_cert == NULL || a->tls_key == NULL) {
      return 1;
    }
  }
  if (a->cfg.operator_ca != NULL) {
    a->operator_ca = load_pem("--operator-ca", a->cfg.operator_ca);
    if (a->operator_ca == NULL) {
      return 1;
    }
  }
  pick_uuid(a);
  a->started = time(NULL);
  if (pthread_mutex_init(&a->log_lock, NULL) != 0 ||
      pthread_mutex_init(&a->inflight_lock, NULL) != 0 ||
      ha_metrics_init(&a->metrics) != 0 || ha_tasks_init(a) != 0) {
    fprintf(stderr, "host-agent: out of resources\n");
    return 1;
  }
  rot_error_t err = ha_rot_init(&a->rot, a->cfg.rotd_socket, 0);
  if (err != ROT_OK) {
    fprintf(stderr, "host-agent: --rotd-socket %s: %s\n", a->cfg.rotd_socket,
            rot_error_str(err));
    return 2;
  }
  if (ha_tpm_init(&a->tpm, a->cfg.tcti) != ROT_OK) {
    fprintf(stderr, "host-agent: --tcti: too long\n");
    return 2;
  }
  if (ha_chip_init(&a->chip, &a->rot) != ROT_OK) {
    fprintf(stderr, "host-agent: out of resources\n");
    return 1;
  }
  ha_tpm_set_chip(&a->tpm, &a->chip);
  memset(&a->src, 0, sizeof(a->src));
  a->src.event_log = a->cfg.eventlog;
  a->src.rotd_socket = a->cfg.rotd_socket;
  if (ha_batch_new(&a->batch, &a->tpm, &a->src, a->cfg.batch_window_ms * 1000u,
                   a->cfg.batch_max) != ROT_OK) {
    fprintf(stderr, "host-agent: out of resources\n");
    return 1;
  }

  /* Signals reach only the main thread's sigwait: every thread the
   * daemons start inherits this mask. */
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  if (ha_server_start(a) != 0) {
    return 1;
  }
  if (write_ports(a) != 0) {
    ha_server_stop(a, 0);
    return 1;
  }
  printf("host-agent: listening");
  if (a->http != NULL) {
    printf(" http://%s:%u", a->cfg.http_host, a->http_port);
  }
  if (a->https != NULL) {
    printf(" https://%s:%u%s", a->cfg.https_host, a->https_port,
           a->operator_ca != NULL ? " (operator client certificates)" : "");
  }
  printf("; rotd %s; TPM %s\n", a->rot.socket,
         a->tpm.tcti[0] != '\0' ? a->tpm.tcti : "(tpm2-tss default)");
  fflush(stdout);

  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  fprintf(stderr, "host-agent: %s: finishing requests in flight (up to %u s)\n",
          strsignal(sig), a->cfg.grace_s);
  ha_server_stop(a, a->cfg.grace_s);
  ha_rot_close(&a->rot);
  ha_tpm_close(&a->tpm);
  ha_batch_free(a->batch);
  ha_chip_free(&a->chip);
  fprintf(stderr, "host-agent: stopped\n");
  free(a->tls_cert);
  free(a->tls_key);
  free(a->operator_ca);
  return 0;
}
