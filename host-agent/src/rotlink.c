/* The shared, self-reconnecting rotd connection (see rotlink.h). */
#include "rotlink.h"
#include "rot_client/names.h"

#include <string.h>

rot_error_t ha_rot_init(ha_rot_t *r, const char *socket_path, int timeout_ms) {
  if (r == NULL || socket_path == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(r, 0, sizeof(*r));
  r->client.fd = -1;
  rot_error_t err = rot_mbox_socket_absolute(socket_path, r->socket,
                                             sizeof(r->socket));
  if (err != ROT_OK) {
    return err;
  }
  r->timeout_ms = timeout_ms;
  r->last_transport = ROT_ERROR_MAILBOX_CONNECT;
  if (pthread_mutex_init(&r->lock, NULL) != 0) {
    return ROT_ERROR_INTERNAL;
  }
  return ROT_OK;
}

static void drop(ha_rot_t *r) {
  if (r->connected) {
    rot_mbox_client_close(&r->client);
    r->connected = 0;
  }
}

void ha_rot_close(ha_rot_t *r) {
  if (r == NULL) {
    return;
  }
  pthread_mutex_lock(&r->lock);
  drop(r);
  pthread_mutex_unlock(&r->lock);
}

int ha_rot_is_transport(rot_error_t err) {
  return err == ROT_ERROR_MAILBOX_CONNECT || err == ROT_ERROR_MAILBOX_CLOSED ||
         err == ROT_ERROR_MAILBOX_TIMEOUT || err == ROT_ERROR_HOST_PEER_UID ||
         rot_error_module(err) == ROT_MOD_IO;
}

static rot_error_t ensure(ha_rot_t *r) {
  if (r->connected) {
    return ROT_OK;
  }
  rot_error_t err = rot_mbox_client_connect(&r->client, r->socket, r->timeout_ms);
  if (err == ROT_OK) {
    r->connected = 1;
  }
  return err;
}

static rot_error_t call_once(ha_rot_t *r, uint16_t cmd, const uint8_t *req,
                             uint32_t req_len, rot_error_t *status,
                             uint8_t *out, size_t cap, size_t *out_len) {
  rot_error_t err = ensure(r);
  if (err != ROT_OK) {
    return err;
  }
  const uint8_t *reply = NULL;
  uint32_t reply_len = 0;
  err = rot_mbox_call(&r->client, cmd, req, req_len, status, &reply, &reply_len);
  if (err != ROT_OK) {
    /* Whatever went wrong, the stream is no longer in step: start over. */
    drop(r);
    return err;
  }
  if (*status == ROT_OK) {
    if (reply_len > cap) {
      return ROT_ERROR_BUFFER_TOO_SMALL;
    }
    if (reply_len != 0) {
      memcpy(out, reply, reply_len);
    }
    *out_len = reply_len;
  } else {
    *out_len = 0;
  }
  return ROT_OK;
}

rot_error_t ha_rot_call(ha_rot_t *r, uint16_t cmd, const uint8_t *req,
                        uint32_t req_len, int retry, rot_error_t *status,
                        uint8_t *out, size_t cap, size_t *out_len) {
  if (r == NULL || status == NULL || out_len == NULL ||
      (out == NULL && cap != 0) || req_len > ROT_MBOX_MAX_PAYLOAD) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *status = ROT_ERROR_INTERNAL;
  *out_len = 0;
  pthread_mutex_lock(&r->lock);
  int was_connected = r->connected;
  rot_error_t err = call_once(r, cmd, req, req_len, status, out, cap, out_len);
  /* An idle connection rotd closed is only noticed on use: once more on a
   * fresh one, for requests that change nothing. */
  if (retry && was_connected && ha_rot_is_transport(err)) {
    err = call_once(r, cmd, req, req_len, status, out, cap, out_len);
  }
  r->last_transport = err;
  pthread_mutex_unlock(&r->lock);
  return err;
}

int ha_rot_update_claim(ha_rot_t *r) {
  pthread_mutex_lock(&r->lock);
  int ok = !r->update_busy;
  if (ok) {
    r->update_busy = 1;
  }
  pthread_mutex_unlock(&r->lock);
  return ok;
}

void ha_rot_update_release(ha_rot_t *r) {
  pthread_mutex_lock(&r->lock);
  r->update_busy = 0;
  pthread_mutex_unlock(&r->lock);
}

int ha_rot_probe(ha_rot_t *r) {
  uint8_t buf[ROT_MBOX_STATUS_FIXED + ROT_MBOX_MAX_TYPES * ROT_MBOX_TYPE_STATE_SIZE];
  size_t n = 0;
  rot_error_t status;
  rot_error_t err = ha_rot_call(r, ROT_MBOX_CMD_STATUS, NULL, 0, 1, &status,
                                buf, sizeof(buf), &n);
  return err == ROT_OK && status == ROT_OK;
}
