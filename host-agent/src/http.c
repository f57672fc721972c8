/*
 * The server core: two libmicrohttpd daemons (plain HTTP on loopback, and
 * TLS through GnuTLS), each with its own thread pool; the per-request
 * life cycle (first look at the headers, body, dispatch, completion with
 * one log line and the metrics); the operator gate on client
 * certificates; and the error shapes of the three API families.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "rot_client/names.h"
#include "update.h"

typedef struct listener {
  ha_agent_t *agent;
  int tls;
} listener_t;

static listener_t g_plain, g_tls;

/* ---- replies ---------------------------------------------------------------- */

void ha_reply_header(ha_req_t *r, const char *name, const char *value) {
  if (r->nhdr < 4) {
    snprintf(r->hdr_name[r->nhdr], sizeof(r->hdr_name[0]), "%s", name);
    snprintf(r->hdr_val[r->nhdr], sizeof(r->hdr_val[0]), "%s", value);
    r->nhdr++;
  }
}

/* Queue resp (len bytes, taken) as the answer. */
static void reply_resp(ha_req_t *r, unsigned status, const char *ctype,
                       struct MHD_Response *resp, size_t len) {
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (r->family == HA_FAM_REDFISH) {
    MHD_add_response_header(resp, "OData-Version", "4.0");
  }
  for (int i = 0; i < r->nhdr; i++) {
    MHD_add_response_header(resp, r->hdr_name[i], r->hdr_val[i]);
  }
  /* A client still sending its body may not read an early answer (the
   * connection closes under it): a small body is read and dropped first. */
  if (!r->defer && MHD_queue_response(r->conn, status, resp) == MHD_YES) {
    r->status = status;
    r->resp_len = len;
    MHD_destroy_response(resp);
    return;
  }
  /* Mid-body: sent once the body has been read (and dropped). */
  r->deferred = resp;
  r->status = status;
  r->resp_len = len;
}

void ha_reply_bytes(ha_req_t *r, unsigned status, const char *ctype,
                    const void *buf, size_t len) {
  if (r->status != 0) {
    return; /* one answer per request */
  }
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, (void *)buf, MHD_RESPMEM_MUST_COPY);
  if (resp != NULL) {
    reply_resp(r, status, ctype, resp, len);
  }
}

void ha_reply_take(ha_req_t *r, unsigned status, const char *ctype, char *buf,
                   size_t len) {
  if (r->status != 0) {
    free(buf);
    return; /* one answer per request */
  }
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(buf);
    return;
  }
  reply_resp(r, status, ctype, resp, len);
}

static void pieces_sent(void *doc) { ha_evpiece_free(doc); }

void ha_reply_pieces(ha_req_t *r, unsigned status, const char *ctype,
                     ha_evpiece_t *doc) {
  if (r->status != 0) {
    ha_evpiece_free(doc);
    return; /* one answer per request */
  }
  const char *p[5];
  size_t len[5];
  size_t total = ha_evpiece_parts(doc, p, len);
  struct MHD_IoVec iov[5];
  unsigned n = 0;
  for (unsigned i = 0; i < 5; i++) {
    if (len[i] > 0) {
      iov[n].iov_base = p[i];
      iov[n].iov_len = len[i];
      n++;
    }
  }
  /* MHD keeps the pieces (not a copy) until the answer is sent. */
  struct MHD_Response *resp =
      MHD_create_response_from_iovec(iov, n, pieces_sent, doc);
  if (resp == NULL) {
    ha_evpiece_free(doc);
    return;
  }
  reply_resp(r, status, ctype, resp, total);
}

json_object *ha_json_object_body(const char *p, size_t len) {
  if (p == NULL || len > INT_MAX) {
    return NULL;
  }
  json_tokener *tok = json_tokener_new_ex(8);
  if (tok == NULL) {
    return NULL;
  }
  json_object *o = json_tokener_parse_ex(tok, p, (int)len);
  int whole = json_tokener_get_error(tok) == json_tokener_success &&
              json_tokener_get_parse_end(tok) == len;
  json_tokener_free(tok);
  if (o == NULL || !whole || !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

void ha_reply_json(ha_req_t *r, unsigned status, json_object *obj) {
  if (obj == NULL) {
    ha_reply_bytes(r, 500, "application/json",
                   "{\"error\":{\"code\":500,\"message\":\"out of memory\"}}\n", 48);
    return;
  }
  size_t len = 0;
  const char *s = json_object_to_json_string_length(
      obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  char *buf = malloc(len + 1);
  if (buf != NULL) {
    memcpy(buf, s, len);
    buf[len] = '\n';
    ha_reply_bytes(r, status, "application/json; charset=utf-8", buf, len + 1);
    free(buf);
  }
  json_object_put(obj);
}

static const char *reason_phrase(unsigned status) {
  const char *p = MHD_get_reason_phrase_for(status);
  return p != NULL && p[0] != '\0' ? p : "Error";
}

void ha_reply_error(ha_req_t *r, unsigned status, const char *msgid,
                    const char *param, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  json_object *o = json_object_new_object();
  switch (r->family) {
    case HA_FAM_KEYLIME: {
      /* Keylime's shape: code, status text, results (here: the parameter). */
      char st[600];
      snprintf(st, sizeof(st), "%s: %s", reason_phrase(status), msg);
      json_object_object_add(o, "code", json_object_new_int((int)status));
      json_object_object_add(o, "status", json_object_new_string(st));
      json_object *res = json_object_new_object();
      if (param != NULL) {
        json_object_object_add(res, "parameter", json_object_new_string(param));
      }
      json_object_object_add(o, "results", res);
      break;
    }
    case HA_FAM_REDFISH: {
      /* DMTF Redfish error response: the Base message registry's ids. */
      char id[96];
      snprintf(id, sizeof(id), "Base.1.16.%s", msgid != NULL ? msgid : "GeneralError");
      json_object *err = json_object_new_object();
      json_object_object_add(err, "code", json_object_new_string(id));
      json_object_object_add(err, "message", json_object_new_string(msg));
      json_object *info = json_object_new_object();
      json_object_object_add(info, "@odata.type",
                             json_object_new_string("#Message.v1_1_2.Message"));
      json_object_object_add(info, "MessageId", json_object_new_string(id));
      json_object_object_add(info, "Message", json_object_new_string(msg));
      json_object_object_add(info, "Severity",
                             json_object_new_string(status >= 500 ? "Critical" : "Warning"));
      if (param != NULL) {
        json_object *rel = json_object_new_array();
        char ptr[80];
        snprintf(ptr, sizeof(ptr), "#/%s", param);
        json_object_array_add(rel, json_object_new_string(ptr));
        json_object_object_add(info, "RelatedProperties", rel);
      }
      json_object *arr = json_object_new_array();
      json_object_array_add(arr, info);
      json_object_object_add(err, "@Message.ExtendedInfo", arr);
      json_object_object_add(o, "error", err);
      break;
    }
    case HA_FAM_NATIVE:
    default: {
      json_object *err = json_object_new_object();
      json_object_object_add(err, "code", json_object_new_int((int)status));
      json_object_object_add(err, "message", json_object_new_string(msg));
      if (param != NULL) {
        json_object_object_add(err, "parameter", json_object_new_string(param));
      }
      json_object_object_add(o, "error", err);
      break;
    }
  }
  ha_reply_json(r, status, o);
}

static void resume_conn(void *conn) { MHD_resume_connection(conn); }

int ha_req_wait_batch(ha_agent_t *a, ha_req_t *r, const uint8_t *nonce,
                      size_t len, uint32_t mask) {
  ha_batch_job_t *job = ha_batch_job_new(nonce, len, mask, resume_conn, r->conn);
  if (job == NULL) {
    return 0;
  }
  r->batch_job = job;
  r->suspended = 1;
  /* Suspended before the job is handed in: its answer resumes it. */
  MHD_suspend_connection(r->conn);
  ha_batch_submit(a->batch, job);
  return 1;
}

const char *ha_query(ha_req_t *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- the operator gate -------------------------------------------------------- */

typedef enum peer_verdict {
  PEER_NONE,    /* no certificate presented (or plain HTTP) */
  PEER_INVALID, /* presented, refused */
  PEER_OK,
} peer_verdict_t;

/*
 * The TLS peer's certificate, checked against the operator CA (the trust
 * list the TLS daemon was given), its validity period and its purpose
 * (TLS client). A certificate from any other issuer is refused.
 */
static peer_verdict_t peer_check(struct MHD_Connection *conn, char *subject,
                                 size_t cap) {
  if (subject != NULL && cap > 0) {
    subject[0] = '\0';
  }
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (ci == NULL || ci->tls_session == NULL) {
    return PEER_NONE;
  }
  gnutls_session_t s = (gnutls_session_t)ci->tls_session;
  if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509) {
    return PEER_INVALID;
  }
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
  if (certs == NULL || n == 0) {
    return PEER_NONE;
  }
  if (subject != NULL && cap > 0) {
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) == 0) {
      if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0) {
        size_t sz = cap;
        if (gnutls_x509_crt_get_dn(crt, subject, &sz) != 0) {
          subject[0] = '\0';
        }
      }
      gnutls_x509_crt_deinit(crt);
    }
  }
  gnutls_typed_vdata_st purpose = {
      .type = GNUTLS_DT_KEY_PURPOSE_OID,
      .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
      .size = 0,
  };
  unsigned status = ~0u;
  if (gnutls_certificate_verify_peers(s, &purpose, 1, &status) != 0 ||
      status != 0) {
    return PEER_INVALID;
  }
  return PEER_OK;
}

/* First look: decides the request's fate and records the verdict. */
static int operator_gate(ha_agent_t *a, ha_req_t *r) {
  r->operator_ok = HARDENED_FALSE;
  if (!r->tls) {
    ha_metrics_gate_denial(&a->metrics);
    ha_reply_error(r, 403, "InsufficientPrivilege", NULL,
                   "operator operations need TLS with an operator client "
                   "certificate; this is the read-only plain listener");
    return 0;
  }
  if (a->operator_ca == NULL) {
    ha_metrics_gate_denial(&a->metrics);
    ha_reply_error(r, 403, "InsufficientPrivilege", NULL,
                   "operator operations are off: the agent has no operator CA");
    return 0;
  }
  peer_verdict_t v = peer_check(r->conn, r->client, sizeof(r->client));
  if (v == PEER_INVALID) {
    ha_metrics_cert_refusal(&a->metrics);
    ha_metrics_gate_denial(&a->metrics);
    ha_reply_error(r, 403, "InsufficientPrivilege", NULL,
                   "client certificate refused: not issued by the operator "
                   "CA, expired, or not for TLS client use");
    return 0;
  }
  if (v != PEER_OK) {
    ha_metrics_gate_denial(&a->metrics);
    ha_reply_error(r, 403, "InsufficientPrivilege", NULL,
                   "operator operations need a client certificate issued "
                   "by the operator CA");
    return 0;
  }
  r->operator_ok = HARDENED_TRUE;
  return 1;
}

void ha_operator_recheck(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  HARDENED_CHECK_EQ(r->operator_ok, HARDENED_TRUE);
  HARDENED_CHECK_EQ(r->tls, 1);
  HARDENED_CHECK_EQ(peer_check(r->conn, NULL, 0), PEER_OK);
}

/* ---- per-request life cycle ---------------------------------------------- */

typedef struct header_tally {
  size_t count;
  size_t bytes;
} header_tally_t;

static enum MHD_Result tally(void *cls, enum MHD_ValueKind kind, const char *key,
                             const char *value) {
  (void)kind;
  header_tally_t *t = cls;
  t->count++;
  t->bytes += strlen(key) + (value != NULL ? strlen(value) : 0) + 4;
  return MHD_YES;
}

#define QUERY_MAX_ARGS 32u

typedef struct query_tally {
  const char *names[QUERY_MAX_ARGS];
  size_t count;
  const char *dup;
} query_tally_t;

static enum MHD_Result query_walk(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value) {
  (void)kind;
  (void)value;
  query_tally_t *q = cls;
  if (q->count == QUERY_MAX_ARGS) {
    q->count++;
    return MHD_NO;
  }
  for (size_t i = 0; i < q->count; i++) {
    if (strcmp(q->names[i], key) == 0) {
      q->dup = q->names[i];
      return MHD_NO;
    }
  }
  q->names[q->count++] = key;
  return MHD_YES;
}

static uint64_t content_length(ha_req_t *r, int *chunked) {
  const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_TRANSFER_ENCODING);
  *chunked = te != NULL && strcasecmp(te, "chunked") == 0;
  const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl == NULL) {
    return 0;
  }
  return strtoull(cl, NULL, 10); /* MHD has already rejected a malformed one */
}

static void allow_header(ha_req_t *r, const ha_route_t *rt) {
  char allow[32];
  snprintf(allow, sizeof(allow), "%s%s%s", rt->get ? "GET, HEAD" : "",
           rt->get && rt->post ? ", " : "", rt->post ? "POST" : "");
  ha_reply_header(r, "Allow", allow);
}

/* The first call: everything decided from the request line and headers. */
static void first_look(ha_agent_t *a, ha_req_t *r, const char *url) {
  header_tally_t t = {0, 0};
  MHD_get_connection_values(r->conn, MHD_HEADER_KIND, tally, &t);
  if (t.count > HA_HEADERS_MAX_COUNT || t.bytes > HA_HEADERS_MAX_BYTES) {
    ha_reply_error(r, 431, "GeneralError", NULL,
                   "request headers too large: %zu headers, %zu bytes (limits "
                   "%u, %u)", t.count, t.bytes, HA_HEADERS_MAX_COUNT,
                   HA_HEADERS_MAX_BYTES);
    return;
  }
  if (strlen(url) > HA_URL_MAX) {
    ha_reply_error(r, 414, "GeneralError", NULL, "URI longer than %u bytes",
                   HA_URL_MAX);
    return;
  }
  query_tally_t q;
  memset(&q, 0, sizeof(q));
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_walk, &q);
  if (q.count > QUERY_MAX_ARGS) {
    ha_reply_error(r, 400, "QueryNotSupported", NULL,
                   "more than %u query parameters", QUERY_MAX_ARGS);
    return;
  }
  if (q.dup != NULL) {
    char name[65];
    snprintf(name, sizeof(name), "%s", q.dup);
    ha_reply_error(r, 400, "QueryParameterValueFormatError", name,
                   "parameter '%s' given more than once", name);
    return;
  }
  r->route = ha_route_find(r->url, r);
  if (r->route == NULL) {
    ha_reply_error(r, 404, "ResourceMissingAtURI", NULL, "no resource at %s",
                   r->url);
    return;
  }
  r->label = r->route->pattern;
  r->family = r->route->family;
  int is_get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  int is_post = strcmp(r->method, "POST") == 0;
  if ((is_get && r->route->get == NULL) || (is_post && r->route->post == NULL) ||
      (!is_get && !is_post)) {
    allow_header(r, r->route);
    ha_reply_error(r, 405, "OperationNotAllowed", NULL,
                   "%s is not allowed on %s", r->method, r->route->pattern);
    return;
  }
  int chunked = 0;
  uint64_t len = content_length(r, &chunked);
  r->defer = chunked || (len > 0 && len <= HA_DISCARD_MAX);
  if (is_get) {
    if (len > 0 || chunked) {
      ha_reply_error(r, 413, "GeneralError", NULL, "GET takes no body");
    }
    return;
  }
  if (r->route->post_operator && !operator_gate(a, r)) {
    return;
  }
  switch (r->route->post_body) {
    case HA_BODY_NONE:
      if (len > 0 || chunked) {
        ha_reply_error(r, 413, "GeneralError", NULL, "this action takes no body");
      }
      return;
    case HA_BODY_JSON:
      if (len > HA_JSON_BODY_MAX) {
        ha_reply_error(r, 413, "GeneralError", NULL,
                       "body of %llu bytes; at most %u accepted",
                       (unsigned long long)len, HA_JSON_BODY_MAX);
      }
      return;
    case HA_BODY_STREAM:
      ha_upload_begin(a, r, len);
      return;
  }
}

static void body_chunk(ha_agent_t *a, ha_req_t *r, const char *data, size_t n) {
  r->body_seen += n;
  switch (r->route->post_body) {
    case HA_BODY_NONE:
      ha_reply_error(r, 413, "GeneralError", NULL, "this request takes no body");
      return;
    case HA_BODY_JSON: {
      if (r->body_len + n > HA_JSON_BODY_MAX) {
        ha_reply_error(r, 413, "GeneralError", NULL, "body over %u bytes",
                       HA_JSON_BODY_MAX);
        return;
      }
      if (r->body == NULL) {
        r->body = malloc(HA_JSON_BODY_MAX + 1);
        if (r->body == NULL) {
          ha_reply_error(r, 500, "InternalError", NULL, "out of memory");
          return;
        }
      }
      memcpy(r->body + r->body_len, data, n);
      r->body_len += n;
      r->body[r->body_len] = '\0';
      return;
    }
    case HA_BODY_STREAM:
      ha_upload_feed(a, r, data, n);
      return;
  }
}

static void dispatch(ha_agent_t *a, ha_req_t *r) {
  int is_post = strcmp(r->method, "POST") == 0;
  if (!is_post) {
    r->route->get(a, r);
  } else {
    r->route->post(a, r);
  }
  if (r->status == 0 && !r->suspended) {
    ha_reply_error(r, 500, "InternalError", NULL, "the handler gave no answer");
  }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
  (void)version;
  listener_t *l = cls;
  ha_agent_t *a = l->agent;
  ha_req_t *r = *con_cls;
  if (r == NULL) {
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
      return MHD_NO;
    }
    *con_cls = r;
    r->conn = conn;
    r->tls = l->tls;
    r->operator_ok = HARDENED_FALSE;
    r->label = "unknown";
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->url, sizeof(r->url), "%s", url);
    r->family = ha_family_of(r->url);
    pthread_mutex_lock(&a->inflight_lock);
    a->inflight++;
    pthread_mutex_unlock(&a->inflight_lock);
    r->started = 1;
    first_look(a, r, url);
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    if (r->status == 0) {
      body_chunk(a, r, upload_data, *upload_data_size);
    } else {
      /* Answered already: the rest is dropped, within a budget. */
      r->discarded += *upload_data_size;
      if (r->discarded > HA_DISCARD_MAX) {
        return MHD_NO; /* closes the connection */
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (r->deferred != NULL) {
    struct MHD_Response *resp = r->deferred;
    r->deferred = NULL;
    enum MHD_Result q = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return q;
  }
  if (r->status == 0) {
    r->suspended = 0; /* called again: a parked request was resumed */
    dispatch(a, r);
  }
  return MHD_YES;
}

/* Log text: printable ASCII only, bounded. */
static void clean(char *dst, size_t cap, const char *src) {
  size_t j = 0;
  for (size_t i = 0; src[i] != '\0' && j + 5 < cap; i++) {
    unsigned char c = (unsigned char)src[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      dst[j++] = (char)c;
    } else {
      j += (size_t)snprintf(dst + j, cap - j, "\\x%02x", c);
    }
  }
  dst[j < cap ? j : cap - 1] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)conn;
  listener_t *l = cls;
  ha_agent_t *a = l->agent;
  ha_req_t *r = *con_cls;
  if (r == NULL) {
    return;
  }
  *con_cls = NULL;
  if (r->upload != NULL) {
    ha_upload_release(a, r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
  }
  if (r->batch_job != NULL) {
    ha_batch_job_release(a->batch, r->batch_job);
    r->batch_job = NULL;
  }
  if (r->deferred != NULL) {
    MHD_destroy_response(r->deferred);
    r->deferred = NULL;
  }
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 +
              (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
  char ip[INET6_ADDRSTRLEN] = "-";
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci != NULL && ci->client_addr != NULL) {
    if (ci->client_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                ip, sizeof(ip));
    } else if (ci->client_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr,
                ip, sizeof(ip));
    }
  }
  char url[256];
  char method[32];
  char client[200];
  clean(url, sizeof(url), r->url);
  clean(method, sizeof(method), r->method);
  clean(client, sizeof(client), r->client[0] != '\0' ? r->client : "-");
  pthread_mutex_lock(&a->log_lock);
  fprintf(stderr,
          "host-agent: %s %s \"%s %s\" %u %zu %.2fms in=%llu client=\"%s\"%s\n", ip,
          r->tls ? "https" : "http", method, url, r->status, r->resp_len, ms,
          (unsigned long long)r->body_seen, client,
          toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
  pthread_mutex_unlock(&a->log_lock);
  ha_metrics_request(&a->metrics, r->label, r->status);
  free(r->body);
  free(r);
  pthread_mutex_lock(&a->inflight_lock);
  a->inflight--;
  pthread_mutex_unlock(&a->inflight_lock);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  ha_agent_t *a = cls;
  char msg[512];
  vsnprintf(msg, sizeof(msg), fmt, ap);
  size_t n = strlen(msg);
  while (n > 0 && msg[n - 1] == '\n') {
    msg[--n] = '\0';
  }
  pthread_mutex_lock(&a->log_lock);
  fprintf(stderr, "host-agent: libmicrohttpd: %s\n", msg);
  pthread_mutex_unlock(&a->log_lock);
}

/* ---- daemons ----------------------------------------------------------------- */

static struct MHD_Daemon *start_one(ha_agent_t *a, listener_t *l,
                                    const char *host, uint16_t port,
                                    uint16_t *bound) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  /* Suspend/resume: a batched attestation waits for its window's quote
   * without holding a pool thread. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  if (strchr(host, ':') != NULL) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
      fprintf(stderr, "host-agent: bad address %s\n", host);
      return NULL;
    }
    flags |= MHD_USE_IPv6;
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
      fprintf(stderr, "host-agent: bad address %s\n", host);
      return NULL;
    }
  }
  if (l->tls) {
    flags |= MHD_USE_TLS;
  }
  struct MHD_OptionItem ops[16];
  size_t n = 0;
  /* The logger first, so even option errors go through it. */
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, a};
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, a->cfg.threads, NULL};
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, a->cfg.conn_timeout_s, NULL};
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, a->cfg.conn_limit, NULL};
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32768, NULL};
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, l};
  if (l->tls) {
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key};
    if (a->operator_ca != NULL) {
      ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, a->operator_ca};
    }
  }
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  struct MHD_Daemon *d = MHD_start_daemon(flags, port, NULL, NULL, on_request, l,
                                          MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
  if (d == NULL) {
    fprintf(stderr, "host-agent: cannot listen on %s:%u (%s)\n", host, port,
            l->tls ? "TLS" : "plain HTTP");
    return NULL;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  *bound = di != NULL ? di->port : port;
  return d;
}

int ha_server_start(ha_agent_t *a) {
  g_plain = (listener_t){a, 0};
  g_tls = (listener_t){a, 1};
  if (a->cfg.http_enabled) {
    a->http = start_one(a, &g_plain, a->cfg.http_host, a->cfg.http_port,
                        &a->http_port);
    if (a->http == NULL) {
      return -1;
    }
  }
  if (a->tls_cert != NULL) {
    a->https = start_one(a, &g_tls, a->cfg.https_host, a->cfg.https_port,
                         &a->https_port);
    if (a->https == NULL) {
      if (a->http != NULL) {
        MHD_stop_daemon(a->http);
        a->http = NULL;
      }
      return -1;
    }
  }
  return 0;
}

static void quiesce(struct MHD_Daemon *d) {
  if (d != NULL) {
    MHD_socket fd = MHD_quiesce_daemon(d);
    if (fd != MHD_INVALID_SOCKET) {
      close(fd);
    }
  }
}

void ha_server_stop(ha_agent_t *a, unsigned grace_s) {
  /* No new connections; requests already begun run to their end. */
  quiesce(a->http);
  quiesce(a->https);
  for (unsigned i = 0; i < grace_s * 20u; i++) {
    pthread_mutex_lock(&a->inflight_lock);
    unsigned n = a->inflight;
    pthread_mutex_unlock(&a->inflight_lock);
    if (n == 0 && !ha_tasks_running(a)) {
      break;
    }
    usleep(50000);
  }
  /* Every parked request answered (and resumed) before the daemons go. */
  ha_batch_drain(a->batch);
  if (a->http != NULL) {
    MHD_stop_daemon(a->http);
    a->http = NULL;
  }
  if (a->https != NULL) {
    MHD_stop_daemon(a->https);
    a->https = NULL;
  }
}
