/*
 * The host agent's shared state and request context. One ha_agent_t per
 * process; one ha_req_t per HTTP request, from its first header to the
 * completion callback.
 */
#ifndef HOST_AGENT_AGENT_H
#define HOST_AGENT_AGENT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "batch.h"
#include "chipid.h"
#include "config.h"
#include "metrics.h"
#include "rot/hardened.h"
#include "rotlink.h"
#include "tpmown.h"

typedef struct ha_agent ha_agent_t;
typedef struct ha_req ha_req_t;
typedef struct ha_upload ha_upload_t;
typedef struct ha_tasks ha_tasks_t;

/* Who answers an error, and in which shape. */
typedef enum ha_family {
  HA_FAM_NATIVE,  /* {"error": {"code", "message", "parameter"}} */
  HA_FAM_REDFISH, /* DMTF error object with @Message.ExtendedInfo */
  HA_FAM_KEYLIME, /* {"code", "status", "results"} */
} ha_family_t;

typedef void (*ha_handler_t)(ha_agent_t *a, ha_req_t *r);

/* Body a POST takes. */
typedef enum ha_body {
  HA_BODY_NONE,   /* refused when present: 413 */
  HA_BODY_JSON,   /* buffered, at most HA_JSON_BODY_MAX */
  HA_BODY_STREAM, /* the firmware upload: handed on as it arrives */
} ha_body_t;

typedef struct ha_route {
  const char *pattern; /* "{id}" matches one segment; also the metrics label */
  ha_family_t family;
  ha_handler_t get;
  ha_handler_t post;
  int post_operator;   /* POST needs the operator's client certificate */
  ha_body_t post_body;
} ha_route_t;

#define HA_JSON_BODY_MAX 16384u
#define HA_HEADERS_MAX_BYTES 8192u
#define HA_HEADERS_MAX_COUNT 100u
#define HA_ID_MAX 32u
#define HA_URL_MAX 1024u
#define HA_DISCARD_MAX (1024u * 1024u)

struct ha_req {
  struct MHD_Connection *conn;
  int tls;                     /* arrived on the TLS listener */
  char method[8];
  char url[HA_URL_MAX + 1];    /* path only, as received (decoded by MHD) */
  const ha_route_t *route;     /* NULL: no such resource */
  const char *label;           /* metrics / log label */
  ha_family_t family;          /* shape of its error answers */
  char id[HA_ID_MAX + 1];      /* "{id}" segment, validated */
  char id2[HA_ID_MAX + 1];     /* second "{id}" segment */
  hardened_bool_t operator_ok; /* client certificate from the operator CA */
  char client[160];            /* certificate subject, for the log */
  struct timespec t0;
  unsigned status;             /* answered status; 0 until queued */
  size_t resp_len;
  /* body */
  char *body;
  size_t body_len;
  uint64_t body_seen;
  ha_upload_t *upload;
  int started;                 /* the first call has run */
  /* An answer decided while the body still arrives: libmicrohttpd takes
   * it only once the body is in, so it waits here while the rest is read
   * and dropped (up to HA_DISCARD_MAX bytes, then the connection closes). */
  struct MHD_Response *deferred;
  uint64_t discarded;
  int defer;                   /* a body will follow: answer after it */
  int nhdr;                    /* headers for the reply (ha_reply_header) */
  char hdr_name[4][32];
  char hdr_val[4][256];
  /* A batched attestation parked in the batching window: the connection
   * is suspended until the job is answered (ha_req_wait_batch). */
  ha_batch_job_t *batch_job;
  int suspended;
};

struct ha_agent {
  ha_config_t cfg;
  ha_rot_t rot;
  ha_tpm_t tpm;
  ha_chip_t chip;               /* the chip's certificates and endorsement */
  attest_source_t src;          /* where evidence comes from */
  ha_batch_t *batch;            /* the batching window */
  ha_metrics_t metrics;
  ha_tasks_t *tasks;
  struct MHD_Daemon *http;
  struct MHD_Daemon *https;
  uint16_t http_port, https_port;
  char *tls_cert, *tls_key, *operator_ca; /* PEM, loaded at start */
  time_t started;
  char uuid[37];
  pthread_mutex_t log_lock;
  pthread_mutex_t inflight_lock;
  unsigned inflight;            /* requests between first call and completion */
};

/* ---- replies (http.c) ---------------------------------------------------- */

/**
 * The len bytes at p parsed as one JSON object (nesting at most 8 deep,
 * nothing after it), for the caller to put; NULL when p is NULL or is not
 * exactly that.
 */
json_object *ha_json_object_body(const char *p, size_t len);

/** Queue obj (consumed) as the JSON answer with status. */
void ha_reply_json(ha_req_t *r, unsigned status, json_object *obj);

/** Queue len bytes of buf (copied) with the content type. */
void ha_reply_bytes(ha_req_t *r, unsigned status, const char *ctype,
                    const void *buf, size_t len);

/** The same with buf (malloc'd) handed over: freed once sent. */
void ha_reply_take(ha_req_t *r, unsigned status, const char *ctype, char *buf,
                   size_t len);

/**
 * The same with a batched evidence document given as pieces (taken):
 * sent from the batch's shared document without copying it.
 */
void ha_reply_pieces(ha_req_t *r, unsigned status, const char *ctype,
                     ha_evpiece_t *doc);

/**
 * Queue an error in the shape of the route's family. msgid names the
 * Redfish Base message ("ResourceNotFound", NULL: "GeneralError"); param
 * names the offending parameter (may be NULL).
 */
__attribute__((format(printf, 5, 6))) void ha_reply_error(
    ha_req_t *r, unsigned status, const char *msgid, const char *param,
    const char *fmt, ...);

/** Add a response header to the next reply (Location, Retry-After). */
void ha_reply_header(ha_req_t *r, const char *name, const char *value);

/**
 * Park r in the batching window with nonce and mask: the connection is
 * suspended (holding no server thread) until the window's quote is made,
 * then the route's handler runs again with r->batch_job answered.
 * 0 when no job could be made (out of memory).
 */
int ha_req_wait_batch(ha_agent_t *a, ha_req_t *r, const uint8_t *nonce,
                      size_t len, uint32_t mask);

/** Query parameter name, or NULL; duplicates were refused before. */
const char *ha_query(ha_req_t *r, const char *name);

/**
 * The operator gate, second look: re-reads the peer certificate right
 * before an operator action and traps unless both looks agree.
 */
void ha_operator_recheck(ha_agent_t *a, ha_req_t *r);

/* ---- the server (http.c) ------------------------------------------------- */

int ha_server_start(ha_agent_t *a);
/** Stop accepting, let in-flight requests finish (up to grace_s), stop. */
void ha_server_stop(ha_agent_t *a, unsigned grace_s);

/* ---- route table (routes.c) ---------------------------------------------- */

const ha_route_t *ha_route_find(const char *url, ha_req_t *r);
ha_family_t ha_family_of(const char *url);

#endif /* HOST_AGENT_AGENT_H */
