/*
 * Counters the agent exposes at /metrics in the Prometheus text exposition
 * format (version 0.0.4). Every label value comes from a fixed set (route
 * patterns, status codes, outcome names), so a client cannot grow the
 * series without bound.
 */
#ifndef HOST_AGENT_METRICS_H
#define HOST_AGENT_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define HA_METRICS_MAX_SERIES 256u
#define HA_METRICS_QUOTE_BUCKETS 10u
#define HA_METRICS_BATCH_BUCKETS 8u

typedef enum ha_update_outcome {
  HA_UPDATE_STARTED,
  HA_UPDATE_STAGED,
  HA_UPDATE_FAILED,
  HA_UPDATE_REFUSED_BUSY,
  HA_UPDATE_OUTCOMES
} ha_update_outcome_t;

typedef struct ha_metrics {
  pthread_mutex_t lock;
  struct {
    const char *route; /* a static route pattern */
    unsigned status;
    uint64_t count;
  } requests[HA_METRICS_MAX_SERIES];
  size_t request_series;
  uint64_t dropped_series; /* requests past HA_METRICS_MAX_SERIES pairs */
  uint64_t gate_denials;   /* operator operations refused before rotd */
  uint64_t client_cert_refusals;
  uint64_t updates[HA_UPDATE_OUTCOMES];
  uint64_t update_bytes;
  uint64_t rotd_unavailable;
  /* Quote series: filled by the attestation endpoints. */
  uint64_t quote_bucket[HA_METRICS_QUOTE_BUCKETS + 1];
  double quote_sum;
  uint64_t quote_count;
  uint64_t batch_bucket[HA_METRICS_BATCH_BUCKETS + 1];
  double batch_sum;
  uint64_t batch_count;
} ha_metrics_t;

int ha_metrics_init(ha_metrics_t *m);
void ha_metrics_request(ha_metrics_t *m, const char *route, unsigned status);
void ha_metrics_gate_denial(ha_metrics_t *m);
void ha_metrics_cert_refusal(ha_metrics_t *m);
void ha_metrics_update(ha_metrics_t *m, ha_update_outcome_t o);
void ha_metrics_update_bytes(ha_metrics_t *m, uint64_t n);
void ha_metrics_rotd_unavailable(ha_metrics_t *m);
/* batch_size 0: the latency only (the batch was counted once already). */
void ha_metrics_quote(ha_metrics_t *m, double seconds, unsigned batch_size);

/**
 * Render every series as Prometheus text into a malloc'd string
 * (*out, *len). tpm_errors comes from the TPM owner. Returns 0, or -1 when
 * out of memory.
 */
int ha_metrics_render(ha_metrics_t *m, uint64_t tpm_errors, int rotd_up,
                      int tpm_up, char **out, size_t *len);

#endif /* HOST_AGENT_METRICS_H */
