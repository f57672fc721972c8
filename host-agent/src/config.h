/*
 * The agent's configuration: flags, and an optional file of "key = value"
 * lines whose keys are the long flags without their dashes. A flag given
 * on the command line wins over the same key in the file.
 */
#ifndef HOST_AGENT_CONFIG_H
#define HOST_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ha_config {
  char http_host[64];
  uint16_t http_port;
  int http_enabled;
  char https_host[64];
  uint16_t https_port;
  const char *tls_cert;     /* PEM file; TLS listener only when set */
  const char *tls_key;
  const char *operator_ca;  /* PEM: CA that issues operator client certs */
  const char *rotd_socket;
  const char *tcti;
  const char *eventlog;
  const char *ports_file;
  const char *uuid;
  unsigned threads;
  unsigned batch_window_ms; /* /v1/attestation?batch=1 window */
  unsigned batch_max;       /* nonces per batched quote */
  uint64_t max_image;
  unsigned conn_timeout_s;
  unsigned conn_limit;
  unsigned grace_s;
} ha_config_t;

/* Exit codes of ha_config_parse. */
#define HA_CONFIG_OK 0
#define HA_CONFIG_HELP 1  /* --help printed */
#define HA_CONFIG_ERROR 2 /* a message was printed to stderr */

/**
 * Fill cfg from argv (and the file --config names). Strings point into
 * argv or into memory kept for the life of the process.
 */
int ha_config_parse(ha_config_t *cfg, int argc, char **argv);

#endif /* HOST_AGENT_CONFIG_H */
