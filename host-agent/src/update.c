/* Firmware push and its tasks (see update.h). */
#define _GNU_SOURCE
#include "update.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot/image.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot_client/mbox_requests.h"
#include "rot_client/names.h"
#include "tasks.h"

#define PARAMS_MAX 4096u
/* Multipart framing around the image: boundaries, part headers, params. */
#define MULTIPART_SLACK (64u * 1024u)

struct ha_upload {
  ha_agent_t *agent;
  ha_req_t *req; /* the request streaming it (until the task takes over) */
  struct MHD_PostProcessor *pp;
  uint64_t max_image;
  /* The reply to give when parsing stopped (status 0: none yet). */
  unsigned err_status;
  const char *err_msgid;
  char err_msg[320];
  /* UpdateParameters part. */
  char params[PARAMS_MAX + 1];
  size_t params_len;
  /* UpdateFile part. */
  int file_seen;
  int file_done; /* a second UpdateFile part is refused */
  uint8_t head[ROT_IMAGE_HEADER_SIZE];
  size_t head_len;
  rot_image_header_t header;
  uint32_t total;     /* expected image length, from the header */
  int session_open;   /* UPDATE_BEGIN answered OK */
  uint32_t chunk_max;
  uint8_t *chunk;     /* chunk_max bytes after the 8-byte CHUNK head */
  size_t chunk_fill;
  uint32_t sent;      /* bytes rotd acknowledged */
  uint64_t received;  /* file bytes received */
  uint32_t region, slot;
};

/* ---- failing --------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static void up_fail(ha_upload_t *u,
                                                          unsigned status,
                                                          const char *msgid,
                                                          const char *fmt, ...) {
  if (u->err_status != 0) {
    return; /* the first reason wins */
  }
  u->err_status = status;
  u->err_msgid = msgid;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(u->err_msg, sizeof(u->err_msg), fmt, ap);
  va_end(ap);
}

/* A refusal from rotd: its reason, in the status a client can act on. */
static void up_fail_rot(ha_agent_t *a, ha_upload_t *u, const char *step,
                        rot_error_t transport, rot_error_t status) {
  if (transport != ROT_OK) {
    if (ha_rot_is_transport(transport)) {
      ha_metrics_rotd_unavailable(&a->metrics);
      up_fail(u, 503, "ServiceTemporarilyUnavailable",
              "rotd is not answering (%s): %s", step, rot_error_str(transport));
    } else {
      up_fail(u, 502, "GeneralError", "rotd %s: %s (%s)", step,
              rot_error_str(transport), rot_error_name(transport));
    }
    return;
  }
  unsigned code = 400;
  const char *msgid = "GeneralError";
  uint32_t mod = rot_error_module(status);
  if (status == ROT_ERROR_MAILBOX_UNAUTHORIZED || mod == ROT_MOD_GATE) {
    code = 403;
    msgid = "InsufficientPrivilege";
  } else if (mod == ROT_MOD_UPDATE) {
    code = 409;
    msgid = "ResourceInUse";
  }
  up_fail(u, code, msgid, "the chip refused %s: %s (%s)", step,
          rot_error_str(status), rot_error_name(status));
}

/* ---- streaming into rotd --------------------------------------------------- */

static int send_chunk(ha_agent_t *a, ha_upload_t *u) {
  if (u->chunk_fill == 0) {
    return 1;
  }
  uint8_t *req = u->chunk; /* the 8-byte head sits just before the data */
  rot_mbox_chunk_req_t c = {.offset = u->sent, .length = (uint32_t)u->chunk_fill,
                            .data = req + ROT_MBOX_CHUNK_REQ_FIXED};
  size_t req_len = 0;
  rot_error_t err = rot_mbox_chunk_req_encode(
      &c, req, ROT_MBOX_CHUNK_REQ_FIXED + u->chunk_max, &req_len);
  if (err != ROT_OK) {
    up_fail(u, 500, "InternalError", "chunk encode: %s", rot_error_str(err));
    return 0;
  }
  uint8_t out[ROT_MBOX_CHUNK_RESP_SIZE];
  size_t out_len = 0;
  rot_error_t status;
  err = ha_rot_call(&a->rot, ROT_MBOX_CMD_UPDATE_CHUNK, req, (uint32_t)req_len, 0,
                    &status, out, sizeof(out), &out_len);
  if (err != ROT_OK || status != ROT_OK) {
    up_fail_rot(a, u, "UPDATE_CHUNK", err, status);
    return 0;
  }
  rot_mbox_chunk_resp_t resp;
  if (rot_mbox_chunk_resp_decode(out, out_len, &resp) != ROT_OK ||
      resp.written != u->sent + u->chunk_fill) {
    up_fail(u, 502, "GeneralError", "rotd acknowledged an unexpected length");
    return 0;
  }
  ha_metrics_update_bytes(&a->metrics, u->chunk_fill);
  u->sent = resp.written;
  u->chunk_fill = 0;
  return 1;
}

static int open_session(ha_agent_t *a, ha_upload_t *u) {
  rot_error_t err = rot_image_header_parse(u->head, sizeof(u->head), &u->header);
  if (err != ROT_OK) {
    up_fail(u, 400, "PropertyValueFormatError",
            "UpdateFile is not a signed image: %s (%s)", rot_error_str(err),
            rot_error_name(err));
    return 0;
  }
  size_t total = rot_image_expected_len(&u->header);
  if (total == 0 || total > u->max_image || total > UINT32_MAX) {
    up_fail(u, 413, "GeneralError",
            "image of %zu bytes; this agent accepts at most %" PRIu64, total,
            u->max_image);
    return 0;
  }
  u->total = (uint32_t)total;
  /* The gate's second look, right before the first command that writes. */
  ha_operator_recheck(a, u->req);
  rot_mbox_begin_req_t b = {.image_type = u->header.image_type,
                            .total_len = u->total};
  uint8_t req[ROT_MBOX_BEGIN_REQ_SIZE];
  size_t req_len = 0;
  if (rot_mbox_begin_req_encode(&b, req, sizeof(req), &req_len) != ROT_OK) {
    up_fail(u, 500, "InternalError", "begin encode");
    return 0;
  }
  uint8_t out[ROT_MBOX_BEGIN_RESP_SIZE];
  size_t out_len = 0;
  rot_error_t status;
  err = ha_rot_call(&a->rot, ROT_MBOX_CMD_UPDATE_BEGIN, req, (uint32_t)req_len, 1,
                    &status, out, sizeof(out), &out_len);
  if (err != ROT_OK || status != ROT_OK) {
    up_fail_rot(a, u, "UPDATE_BEGIN", err, status);
    return 0;
  }
  rot_mbox_begin_resp_t resp;
  if (rot_mbox_begin_resp_decode(out, out_len, &resp) != ROT_OK ||
      resp.chunk_max == 0 || resp.chunk_max > ROT_MBOX_CHUNK_DATA_MAX) {
    up_fail(u, 502, "GeneralError", "rotd gave a malformed UPDATE_BEGIN reply");
    return 0;
  }
  u->session_open = 1;
  u->region = resp.region;
  u->slot = resp.slot;
  u->chunk_max = resp.chunk_max;
  u->chunk = malloc(ROT_MBOX_CHUNK_REQ_FIXED + (size_t)u->chunk_max);
  if (u->chunk == NULL) {
    up_fail(u, 500, "InternalError", "out of memory");
    return 0;
  }
  /* The header bytes are the image's first bytes. */
  memcpy(u->chunk + ROT_MBOX_CHUNK_REQ_FIXED, u->head, sizeof(u->head));
  u->chunk_fill = sizeof(u->head);
  return 1;
}

static int file_bytes(ha_agent_t *a, ha_upload_t *u, const uint8_t *p, size_t n) {
  u->received += n;
  if (u->received > u->max_image) {
    up_fail(u, 413, "GeneralError", "UpdateFile over %" PRIu64 " bytes",
            u->max_image);
    return 0;
  }
  if (!u->session_open) {
    size_t take = sizeof(u->head) - u->head_len;
    if (take > n) {
      take = n;
    }
    memcpy(u->head + u->head_len, p, take);
    u->head_len += take;
    p += take;
    n -= take;
    if (u->head_len < sizeof(u->head)) {
      return 1;
    }
    if (!open_session(a, u)) {
      return 0;
    }
  }
  if (u->received > u->total) {
    up_fail(u, 400, "PropertyValueFormatError",
            "UpdateFile has bytes after the image's %" PRIu32 " (trailing data)",
            u->total);
    return 0;
  }
  while (n > 0) {
    size_t room = u->chunk_max - u->chunk_fill;
    size_t take = n < room ? n : room;
    memcpy(u->chunk + ROT_MBOX_CHUNK_REQ_FIXED + u->chunk_fill, p, take);
    u->chunk_fill += take;
    p += take;
    n -= take;
    if (u->chunk_fill == u->chunk_max && !send_chunk(a, u)) {
      return 0;
    }
  }
  return 1;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *filename,
                               const char *content_type,
                               const char *transfer_encoding, const char *data,
                               uint64_t off, size_t size) {
  (void)kind;
  (void)filename;
  (void)content_type;
  (void)transfer_encoding;
  ha_upload_t *u = cls;
  if (u->err_status != 0) {
    return MHD_NO;
  }
  if (strcmp(key, "UpdateParameters") == 0) {
    if (u->params_len + size > PARAMS_MAX) {
      up_fail(u, 413, "GeneralError", "UpdateParameters over %u bytes", PARAMS_MAX);
      return MHD_NO;
    }
    memcpy(u->params + u->params_len, data, size);
    u->params_len += size;
    u->params[u->params_len] = '\0';
    return MHD_YES;
  }
  if (strcmp(key, "UpdateFile") == 0) {
    if (u->file_done || (u->file_seen && off == 0 && u->received != 0)) {
      up_fail(u, 400, "PropertyValueFormatError", "more than one UpdateFile part");
      return MHD_NO;
    }
    u->file_seen = 1;
    return size == 0 || file_bytes(u->agent, u, (const uint8_t *)data, size) ? MHD_YES
                                                                         : MHD_NO;
  }
  /* Other parts (Oem...) are not ours: skipped, within the size limit. */
  if (u->file_seen) {
    u->file_done = 1;
  }
  return MHD_YES;
}

/* ---- the request --------------------------------------------------------------- */

void ha_upload_begin(ha_agent_t *a, ha_req_t *r, uint64_t content_length) {
  if (content_length > a->cfg.max_image + MULTIPART_SLACK) {
    ha_reply_error(r, 413, "GeneralError", NULL,
                   "body of %" PRIu64 " bytes; images up to %" PRIu64
                   " bytes are accepted", content_length, a->cfg.max_image);
    return;
  }
  ha_upload_t *u = calloc(1, sizeof(*u));
  if (u == NULL) {
    ha_reply_error(r, 500, "InternalError", NULL, "out of memory");
    return;
  }
  u->max_image = a->cfg.max_image;
  u->agent = a;
  u->req = r;
  if (!ha_rot_update_claim(&a->rot)) {
    free(u);
    ha_metrics_update(&a->metrics, HA_UPDATE_REFUSED_BUSY);
    ha_reply_header(r, "Retry-After", "5");
    ha_reply_error(r, 409, "ResourceInUse", NULL,
                   "another firmware update is in progress");
    return;
  }
  r->upload = u;
  u->pp = MHD_create_post_processor(r->conn, 65536, on_part, u);
  if (u->pp == NULL) {
    ha_reply_error(r, 415, "GeneralError", NULL,
                   "expected a multipart/form-data body with an UpdateFile part");
    return;
  }
  ha_metrics_update(&a->metrics, HA_UPDATE_STARTED);
}

void ha_upload_feed(ha_agent_t *a, ha_req_t *r, const char *data, size_t n) {
  ha_upload_t *u = r->upload;
  if (u == NULL || u->pp == NULL) {
    return;
  }
  if (r->body_seen > a->cfg.max_image + MULTIPART_SLACK) {
    up_fail(u, 413, "GeneralError", "body over %" PRIu64 " bytes",
            a->cfg.max_image + MULTIPART_SLACK);
  } else {
    if (MHD_post_process(u->pp, data, n) != MHD_YES && u->err_status == 0) {
      up_fail(u, 400, "GeneralError", "malformed multipart/form-data body");
    }
  }
  if (u->err_status != 0) {
    ha_reply_error(r, u->err_status, u->err_msgid, NULL, "%s", u->err_msg);
  }
}

typedef struct worker_arg {
  ha_agent_t *a;
  ha_upload_t *u;
  unsigned task_id;
} worker_arg_t;


static void free_upload(ha_upload_t *u) {
  if (u->pp != NULL) {
    /* Anything still buffered is dropped: the iterator refuses it. */
    if (u->err_status == 0) {
      up_fail(u, 400, "GeneralError", "request abandoned");
    }
    MHD_destroy_post_processor(u->pp);
  }
  free(u->chunk);
  free(u);
}

static void *worker(void *p) {
  worker_arg_t *w = p;
  ha_agent_t *a = w->a;
  ha_upload_t *u = w->u;
  int activate = 0;
  pthread_mutex_lock(&a->tasks->lock);
  for (size_t i = 0; i < TASKS_MAX; i++) {
    if (a->tasks->t[i].id == w->task_id) {
      activate = a->tasks->t[i].activate;
    }
  }
  pthread_mutex_unlock(&a->tasks->lock);

  uint8_t out[ROT_MBOX_IMAGE_INFO_SIZE + ROT_MBOX_TYPE_STATE_SIZE];
  size_t out_len = 0;
  rot_error_t status;
  rot_error_t err = ha_rot_call(&a->rot, ROT_MBOX_CMD_UPDATE_FINISH, NULL, 0, 0,
                                &status, out, sizeof(out), &out_len);
  rot_mbox_image_info_t info;
  if (err != ROT_OK || status != ROT_OK) {
    rot_error_t why = err != ROT_OK ? err : status;
    ha_task_set(a, w->task_id, TASK_EXCEPTION, 100, NULL,
             "the chip did not stage the image: %s (%s)", rot_error_str(why),
             rot_error_name(why));
    ha_metrics_update(&a->metrics, HA_UPDATE_FAILED);
  } else if (rot_mbox_image_info_decode(out, out_len, &info) != ROT_OK) {
    ha_task_set(a, w->task_id, TASK_EXCEPTION, 100, NULL,
             "rotd gave a malformed UPDATE_FINISH reply");
    ha_metrics_update(&a->metrics, HA_UPDATE_FAILED);
  } else if (!activate) {
    ha_task_set(a, w->task_id, TASK_COMPLETED, 100, &info,
             "verified and staged: %s %u.%u.%u (SVN %" PRIu32 ")",
             rot_image_type_name(info.image_type), info.ver_major,
             info.ver_minor, info.ver_patch, info.svn);
    ha_metrics_update(&a->metrics, HA_UPDATE_STAGED);
  } else {
    ha_task_set(a, w->task_id, TASK_RUNNING, 90, &info, "staged; activating");
    rot_mbox_type_req_t t = {.image_type = info.image_type};
    uint8_t req[ROT_MBOX_TYPE_REQ_SIZE];
    size_t req_len = 0;
    err = rot_mbox_type_req_encode(&t, req, sizeof(req), &req_len);
    if (err == ROT_OK) {
      err = ha_rot_call(&a->rot, ROT_MBOX_CMD_ACTIVATE, req, (uint32_t)req_len, 0,
                        &status, out, sizeof(out), &out_len);
    }
    if (err != ROT_OK || status != ROT_OK) {
      rot_error_t why = err != ROT_OK ? err : status;
      ha_task_set(a, w->task_id, TASK_EXCEPTION, 100, NULL,
               "staged, but the chip refused to activate it: %s (%s)",
               rot_error_str(why), rot_error_name(why));
      ha_metrics_update(&a->metrics, HA_UPDATE_FAILED);
    } else {
      ha_task_set(a, w->task_id, TASK_COMPLETED, 100, &info,
               "verified, staged and activated: %s %u.%u.%u (SVN %" PRIu32
               ") boots on trial at the next reset",
               rot_image_type_name(info.image_type), info.ver_major,
               info.ver_minor, info.ver_patch, info.svn);
      ha_metrics_update(&a->metrics, HA_UPDATE_STAGED);
    }
  }
  free_upload(u);
  ha_rot_update_release(&a->rot);
  pthread_mutex_lock(&a->tasks->lock);
  a->tasks->workers--;
  pthread_mutex_unlock(&a->tasks->lock);
  free(w);
  return NULL;
}

/* UpdateParameters: Targets (empty, or naming this service's inventory) and
 * @Redfish.OperationApplyTime (Immediate: stage; OnReset: also activate). */
static int parse_params(ha_req_t *r, ha_upload_t *u, int *activate) {
  *activate = 0;
  if (u->params_len == 0) {
    return 1;
  }
  json_object *o = ha_json_object_body(u->params, u->params_len);
  if (o == NULL) {
    ha_reply_error(r, 400, "MalformedJSON", "UpdateParameters",
                   "UpdateParameters is not a JSON object");
    return 0;
  }
  int ok = 1;
  json_object_object_foreach(o, k, v) {
    if (strcmp(k, "Targets") == 0) {
      if (!json_object_is_type(v, json_type_array)) {
        ha_reply_error(r, 400, "PropertyValueTypeError", "Targets",
                       "Targets must be an array");
        ok = 0;
        break;
      }
    } else if (strcmp(k, "@Redfish.OperationApplyTime") == 0) {
      const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
      if (strcmp(s, "Immediate") == 0) {
        *activate = 0;
      } else if (strcmp(s, "OnReset") == 0) {
        *activate = 1;
      } else {
        ha_reply_error(r, 400, "PropertyValueNotInList",
                       "@Redfish.OperationApplyTime",
                       "@Redfish.OperationApplyTime: Immediate (stage) or "
                       "OnReset (stage and activate for the next boot)");
        ok = 0;
        break;
      }
    } else if (strncmp(k, "Oem", 3) != 0) {
      ha_reply_error(r, 400, "PropertyUnknown", k,
                     "UpdateParameters: unknown property");
      ok = 0;
      break;
    }
  }
  json_object_put(o);
  return ok;
}

void ha_upload_end(ha_agent_t *a, ha_req_t *r) {
  ha_upload_t *u = r->upload;
  if (u == NULL || u->pp == NULL) {
    ha_reply_error(r, 400, "GeneralError", NULL, "no body");
    return;
  }
  /* Whatever the post processor still holds comes out now. */
  MHD_destroy_post_processor(u->pp);
  u->pp = NULL;
  if (u->err_status == 0 && !u->file_seen) {
    up_fail(u, 400, "ActionParameterMissing", "no UpdateFile part in the body");
  }
  if (u->err_status == 0 && u->received < u->total) {
    up_fail(u, 400, "PropertyValueFormatError",
            "UpdateFile truncated: %" PRIu64 " of %" PRIu32 " bytes", u->received,
            u->total);
  }
  if (u->err_status == 0 && !u->session_open) {
    up_fail(u, 400, "PropertyValueFormatError",
            "UpdateFile shorter than an image header (%zu bytes)", u->head_len);
  }
  if (u->err_status == 0) {
    send_chunk(a, u);
  }
  if (u->err_status != 0) {
    ha_reply_error(r, u->err_status, u->err_msgid, NULL, "%s", u->err_msg);
    return;
  }
  int activate = 0;
  if (!parse_params(r, u, &activate)) {
    return;
  }
  ha_operator_recheck(a, r);
  pthread_mutex_lock(&a->tasks->lock);
  ha_task_t *t = ha_task_new(a->tasks);
  json_object *body = NULL;
  unsigned id = 0;
  if (t != NULL) {
    t->image_type = u->header.image_type;
    t->total_len = u->total;
    t->region = u->region;
    t->slot = u->slot;
    t->activate = activate;
    snprintf(t->message, sizeof(t->message), "received %" PRIu32 " bytes; verifying",
             u->total);
    t->percent = 50;
    id = t->id;
    body = ha_task_json(t);
    a->tasks->workers++;
  }
  pthread_mutex_unlock(&a->tasks->lock);
  if (t == NULL) {
    ha_reply_error(r, 503, "ServiceTemporarilyUnavailable", NULL,
                   "too many tasks running");
    return;
  }
  worker_arg_t *w = malloc(sizeof(*w));
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (w == NULL) {
    pthread_attr_destroy(&attr);
    json_object_put(body);
    pthread_mutex_lock(&a->tasks->lock);
    a->tasks->workers--;
    pthread_mutex_unlock(&a->tasks->lock);
    ha_task_set(a, id, TASK_EXCEPTION, 100, NULL, "out of memory");
    ha_reply_error(r, 500, "InternalError", NULL, "out of memory");
    return;
  }
  *w = (worker_arg_t){a, u, id};
  u->req = NULL;
  r->upload = NULL; /* the task owns the session and the slot now */
  if (pthread_create(&th, &attr, worker, w) != 0) {
    r->upload = u;
    free(w);
    pthread_mutex_lock(&a->tasks->lock);
    a->tasks->workers--;
    pthread_mutex_unlock(&a->tasks->lock);
    ha_task_set(a, id, TASK_EXCEPTION, 100, NULL, "cannot start the task");
    json_object_put(body);
    pthread_attr_destroy(&attr);
    ha_reply_error(r, 500, "InternalError", NULL, "cannot start the task");
    return;
  }
  pthread_attr_destroy(&attr);
  char loc[96];
  snprintf(loc, sizeof(loc), "/redfish/v1/TaskService/Tasks/%u/Monitor", id);
  ha_reply_header(r, "Location", loc);
  ha_reply_header(r, "Retry-After", "1");
  ha_reply_json(r, 202, body);
}

void ha_upload_release(ha_agent_t *a, ha_req_t *r, int completed) {
  (void)completed;
  ha_upload_t *u = r->upload;
  r->upload = NULL;
  if (u->session_open) {
    uint8_t out[4];
    size_t out_len = 0;
    rot_error_t status;
    rot_error_t err = ha_rot_call(&a->rot, ROT_MBOX_CMD_UPDATE_ABORT, NULL, 0, 0,
                                  &status, out, sizeof(out), &out_len);
    (void)err; /* a dead connection aborts the session in rotd too */
  }
  if (u->pp != NULL || u->err_status != 0 || u->session_open) {
    ha_metrics_update(&a->metrics, HA_UPDATE_FAILED);
  }
  free_upload(u);
  ha_rot_update_release(&a->rot);
}
