/*
 * attestctl verify --url: evidence fetched from a host agent's
 * GET /v1/attestation over HTTP or HTTPS (libcurl), for a nonce the
 * verifier drew itself.
 */
#ifndef ATTESTCTL_FETCH_H
#define ATTESTCTL_FETCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct actl_fetch {
  const char *url;     /* the agent ("https://host:port") or its /v1/attestation */
  const char *cacert;  /* PEM bundle that verifies the agent's TLS certificate */
  const char *cert;    /* client certificate (PEM), optional */
  const char *key;     /* its key (PEM), optional */
  long timeout_s;      /* whole transfer; 0: 30 s */
} actl_fetch_t;

/**
 * GET <url>/v1/attestation?nonce=HEX&pcrs=LIST. On 200 *body gets the
 * answer (malloc'd, NUL terminated, at most max bytes) and 0 is
 * returned; otherwise -1 with why (cap bytes) saying what failed: a URL
 * that is not http(s) or carries a query, the connection, TLS, the
 * status (with the agent's error message), an oversized answer.
 */
int actl_fetch_evidence(const actl_fetch_t *f, const uint8_t *nonce, size_t nlen,
                        uint32_t pcr_mask, size_t max, char **body, size_t *len,
                        char *why, size_t cap);

#endif /* ATTESTCTL_FETCH_H */
