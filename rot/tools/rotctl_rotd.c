/*
 * rotctl's connection to rotd: connected on a command's first call,
 * closed by the dispatcher when the command returns, so a command is only
 * its requests and its output.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rot/flash.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot_client/names.h"
#include "rot_client/parse.h"
#include "rotctl.h"

/* Connect to c->o.socket; the one-line error when that fails. */
static int connect_rotd(rotctl_t *c) {
  const char *cmd = c->cmd->full;
  const char *socket = c->o.socket;
  rot_error_t err = rot_mbox_client_connect(&c->cl, socket, 0);
  if (err == ROT_ERROR_HOST_PEER_UID) {
    return fail(cmd, NULL,
                "refusing rotd at %s: it runs as uid %u, not as root or as "
                "you (uid %u); if uid %u is rotd's user, set %s=%u (%s)",
                socket, (unsigned)c->cl.peer_uid, (unsigned)geteuid(),
                (unsigned)c->cl.peer_uid, ROT_MBOX_DAEMON_UID_ENV,
                (unsigned)c->cl.peer_uid, rot_error_name(err));
  }
  const char *uid_env = getenv(ROT_MBOX_DAEMON_UID_ENV);
  if (err == ROT_ERROR_INVALID_ARGUMENT && uid_env != NULL &&
      uid_env[0] != '\0' &&
      rot_parse_uint(uid_env, ROT_PARSE_DEC, ROT_MBOX_UID_UNKNOWN - 1u,
                     &(uint64_t){0}) != ROT_OK) {
    return fail(cmd, NULL, "%s=%s: not a user id; set it to rotd's numeric "
                "uid or unset it (%s)",
                ROT_MBOX_DAEMON_UID_ENV, uid_env, rot_error_name(err));
  }
  if (err == ROT_ERROR_MAILBOX_CONNECT) {
    char advice[1024];
    return fail_rot_hint(cmd, NULL,
                         rot_mbox_connect_advice(advice, sizeof(advice), socket,
                                                 c->cl.sys_errno),
                         err, NULL);
  }
  if (err != ROT_OK) {
    return fail(cmd, NULL, "cannot connect to rotd at %s: %s (%s)", socket,
                rot_error_str(err), rot_error_name(err));
  }
  c->connected = 1;
  return EXIT_OK;
}

/*
 * What to do after a refusal, when the code alone does not say: which
 * regions are locked and how the lock ends; the step a confirm misses.
 * NULL when there is nothing to add.
 */
static const char *refusal_hint(rotctl_t *c, rot_error_t status, char *buf,
                                size_t cap) {
  const char *tn = c->hint_type != 0 ? type_name(c->hint_type) : "TYPE";
  if (status == ROT_ERROR_GATE_LOCKED) {
    rot_error_t st_status = ROT_ERROR_INTERNAL;
    const uint8_t *r = NULL;
    uint32_t rl = 0;
    rot_mbox_status_t st;
    size_t used = (size_t)snprintf(buf, cap, "locked now:");
    if (rot_mbox_call(&c->cl, ROT_MBOX_CMD_STATUS, NULL, 0, &st_status, &r,
                      &rl) == ROT_OK &&
        st_status == ROT_OK && rot_mbox_status_decode(r, rl, &st) == ROT_OK) {
      for (uint32_t i = 0; i < ROT_RGN_COUNT && used < cap; i++) {
        if ((st.locked_mask & (1u << i)) != 0) {
          used += (size_t)snprintf(buf + used, cap - used, " %s",
                                   region_name(i));
        }
      }
    }
    if (used < cap) {
      snprintf(buf + used, cap - used,
               " (a boot decision locks every boot region until the chip "
               "resets); run 'rotctl reset' or restart rotd, then retry");
    }
    return buf;
  }
  if (status == ROT_ERROR_UPDATE_NOT_TRIED) {
    snprintf(buf, cap,
             "boot it first (bootchain boot, or rotctl boot --type %s), check "
             "it came up, then confirm; to confirm it untried anyway: rotctl "
             "confirm --type %s --without-trial (recorded in the audit log)",
             tn, tn);
    return buf;
  }
  if (status == ROT_ERROR_POLICY_NOT_CONFIRMED) {
    snprintf(buf, cap, "a lifecycle transition burns a fuse and cannot be "
             "undone: add --confirm to go ahead");
    return buf;
  }
  return NULL;
}

int rotctl_send(rotctl_t *c, uint16_t command, const uint8_t *req,
                uint32_t req_len, uint32_t *seq) {
  if (!c->connected) {
    int rc = connect_rotd(c);
    if (rc != EXIT_OK) {
      return rc;
    }
  }
  rot_error_t err = rot_mbox_send(&c->cl, command, req, req_len, seq);
  if (err != ROT_OK) {
    return fail(c->cmd->full, NULL, "%s: no answer from rotd at %s: %s (%s)",
                rot_mbox_command_name(command), c->o.socket,
                rot_error_name(err), rot_error_str(err));
  }
  return EXIT_OK;
}

int rotctl_receive(rotctl_t *c, uint16_t command, uint32_t seq,
                   const char *what, const uint8_t **reply,
                   uint32_t *reply_len) {
  rot_error_t status = ROT_ERROR_INTERNAL;
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  rot_error_t err = rot_mbox_receive(&c->cl, command, seq, &status, &r, &rl);
  if (err != ROT_OK) {
    return fail(c->cmd->full, NULL, "%s: no answer from rotd at %s: %s (%s)",
                rot_mbox_command_name(command), c->o.socket,
                rot_error_name(err), rot_error_str(err));
  }
  if (status != ROT_OK) {
    char hint[512];
    return fail_rot_hint(c->cmd->full, NULL, what != NULL ? what : "refused",
                         status, refusal_hint(c, status, hint, sizeof(hint)));
  }
  if (reply != NULL) {
    *reply = r;
    *reply_len = rl;
  }
  return EXIT_OK;
}

int rotctl_call(rotctl_t *c, uint16_t command, const uint8_t *req,
                uint32_t req_len, const char *what, const uint8_t **reply,
                uint32_t *reply_len) {
  uint32_t seq = 0;
  int rc = rotctl_send(c, command, req, req_len, &seq);
  if (rc != EXIT_OK) {
    return rc;
  }
  return rotctl_receive(c, command, seq, what, reply, reply_len);
}

int rotctl_bad_reply(const rotctl_t *c, uint16_t command, rot_error_t err) {
  return fail(c->cmd->full, NULL, "malformed %s reply from rotd: %s (%s)",
              rot_mbox_command_name(command), rot_error_name(err),
              rot_error_str(err));
}

void rotctl_disconnect(rotctl_t *c) {
  if (c->connected) {
    rot_mbox_client_close(&c->cl);
    c->connected = 0;
  }
}

int rotctl_get_status(rotctl_t *c, rot_mbox_status_t *st) {
  const uint8_t *r;
  uint32_t rl;
  int rc = rotctl_call(c, ROT_MBOX_CMD_STATUS, NULL, 0, "status", &r, &rl);
  if (rc != EXIT_OK) {
    return rc;
  }
  rot_error_t err = rot_mbox_status_decode(r, rl, st);
  return err == ROT_OK ? EXIT_OK
                       : rotctl_bad_reply(c, ROT_MBOX_CMD_STATUS, err);
}
