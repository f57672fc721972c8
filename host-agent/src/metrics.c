/* Prometheus counters (see metrics.h). */
#define _GNU_SOURCE
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double kQuoteBounds[HA_METRICS_QUOTE_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};
static const double kBatchBounds[HA_METRICS_BATCH_BUCKETS] = {
    1, 2, 4, 8, 16, 64, 256, 1024};
static const char *const kUpdateOutcome[HA_UPDATE_OUTCOMES] = {
    "started", "staged", "failed", "refused_busy"};

int ha_metrics_init(ha_metrics_t *m) {
  memset(m, 0, sizeof(*m));
  return pthread_mutex_init(&m->lock, NULL) == 0 ? 0 : -1;
}

void ha_metrics_request(ha_metrics_t *m, const char *route, unsigned status) {
  pthread_mutex_lock(&m->lock);
  size_t i;
  for (i = 0; i < m->request_series; i++) {
    if (m->requests[i].route == route && m->requests[i].status == status) {
      break;
    }
  }
  if (i == m->request_series) {
    if (i == HA_METRICS_MAX_SERIES) {
      m->dropped_series++;
      pthread_mutex_unlock(&m->lock);
      return;
    }
    m->requests[i].route = route;
    m->requests[i].status = status;
    m->requests[i].count = 0;
    m->request_series++;
  }
  m->requests[i].count++;
  pthread_mutex_unlock(&m->lock);
}

#define BUMP(field_)                 \
  do {                               \
    pthread_mutex_lock(&m->lock);    \
    m->field_++;                     \
    pthread_mutex_unlock(&m->lock);  \
  } while (0)

void ha_metrics_gate_denial(ha_metrics_t *m) { BUMP(gate_denials); }
void ha_metrics_cert_refusal(ha_metrics_t *m) { BUMP(client_cert_refusals); }
void ha_metrics_rotd_unavailable(ha_metrics_t *m) { BUMP(rotd_unavailable); }

void ha_metrics_update(ha_metrics_t *m, ha_update_outcome_t o) {
  if ((unsigned)o < HA_UPDATE_OUTCOMES) {
    BUMP(updates[o]);
  }
}

void ha_metrics_update_bytes(ha_metrics_t *m, uint64_t n) {
  pthread_mutex_lock(&m->lock);
  m->update_bytes += n;
  pthread_mutex_unlock(&m->lock);
}

void ha_metrics_quote(ha_metrics_t *m, double seconds, unsigned batch_size) {
  pthread_mutex_lock(&m->lock);
  size_t b = 0;
  while (b < HA_METRICS_QUOTE_BUCKETS && seconds > kQuoteBounds[b]) {
    b++;
  }
  m->quote_bucket[b]++;
  m->quote_sum += seconds;
  m->quote_count++;
  if (batch_size == 0) { /* the quote was counted by another request */
    pthread_mutex_unlock(&m->lock);
    return;
  }
  b = 0;
  while (b < HA_METRICS_BATCH_BUCKETS && batch_size > kBatchBounds[b]) {
    b++;
  }
  m->batch_bucket[b]++;
  m->batch_sum += batch_size;
  m->batch_count++;
  pthread_mutex_unlock(&m->lock);
}

static void histogram(FILE *f, const char *name, const char *help,
                      const double *bounds, size_t nb, const uint64_t *bucket,
                      double sum, uint64_t count) {
  fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  uint64_t cum = 0;
  for (size_t i = 0; i < nb; i++) {
    cum += bucket[i];
    fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, bounds[i], cum);
  }
  cum += bucket[nb];
  fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
  fprintf(f, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, sum, name, count);
}

int ha_metrics_render(ha_metrics_t *m, uint64_t tpm_errors, int rotd_up,
                      int tpm_up, char **out, size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (f == NULL) {
    return -1;
  }
  pthread_mutex_lock(&m->lock);
  fputs("# HELP hostagent_http_requests_total HTTP requests answered, by route "
        "and status code.\n# TYPE hostagent_http_requests_total counter\n", f);
  for (size_t i = 0; i < m->request_series; i++) {
    fprintf(f, "hostagent_http_requests_total{route=\"%s\",code=\"%u\"} %" PRIu64 "\n",
            m->requests[i].route, m->requests[i].status, m->requests[i].count);
  }
  fprintf(f, "# HELP hostagent_metrics_series_dropped_total Requests not counted "
             "by route: the series table is full.\n"
             "# TYPE hostagent_metrics_series_dropped_total counter\n"
             "hostagent_metrics_series_dropped_total %" PRIu64 "\n",
          m->dropped_series);
  fprintf(f, "# HELP hostagent_gate_denials_total Operator operations refused "
             "(no TLS client certificate from the operator CA, or plain HTTP).\n"
             "# TYPE hostagent_gate_denials_total counter\n"
             "hostagent_gate_denials_total %" PRIu64 "\n", m->gate_denials);
  fprintf(f, "# HELP hostagent_client_cert_refusals_total TLS client "
             "certificates presented and refused.\n"
             "# TYPE hostagent_client_cert_refusals_total counter\n"
             "hostagent_client_cert_refusals_total %" PRIu64 "\n",
          m->client_cert_refusals);
  fputs("# HELP hostagent_firmware_updates_total Firmware updates through the "
        "API, by outcome.\n# TYPE hostagent_firmware_updates_total counter\n", f);
  for (size_t i = 0; i < HA_UPDATE_OUTCOMES; i++) {
    fprintf(f, "hostagent_firmware_updates_total{outcome=\"%s\"} %" PRIu64 "\n",
            kUpdateOutcome[i], m->updates[i]);
  }
  fprintf(f, "# HELP hostagent_firmware_update_bytes_total Image bytes streamed "
             "to the chip.\n# TYPE hostagent_firmware_update_bytes_total counter\n"
             "hostagent_firmware_update_bytes_total %" PRIu64 "\n", m->update_bytes);
  fprintf(f, "# HELP hostagent_rotd_unavailable_total Requests answered 503 "
             "because rotd did not answer.\n"
             "# TYPE hostagent_rotd_unavailable_total counter\n"
             "hostagent_rotd_unavailable_total %" PRIu64 "\n", m->rotd_unavailable);
  fprintf(f, "# HELP hostagent_tpm_errors_total Failed TPM operations.\n"
             "# TYPE hostagent_tpm_errors_total counter\n"
             "hostagent_tpm_errors_total %" PRIu64 "\n", tpm_errors);
  histogram(f, "hostagent_quote_duration_seconds",
            "Time to answer an attestation request (TPM quote included).",
            kQuoteBounds, HA_METRICS_QUOTE_BUCKETS, m->quote_bucket,
            m->quote_sum, m->quote_count);
  histogram(f, "hostagent_quote_batch_size",
            "Attestation requests answered by one TPM quote.", kBatchBounds,
            HA_METRICS_BATCH_BUCKETS, m->batch_bucket, m->batch_sum,
            m->batch_count);
  pthread_mutex_unlock(&m->lock);
  fprintf(f, "# HELP hostagent_up Whether a dependency answered its last probe.\n"
             "# TYPE hostagent_up gauge\n"
             "hostagent_up{component=\"rotd\"} %d\nhostagent_up{component=\"tpm\"} %d\n",
          rotd_up, tpm_up);
  if (fclose(f) != 0) {
    free(buf);
    return -1;
  }
  *out = buf;
  *len = n;
  return 0;
}
