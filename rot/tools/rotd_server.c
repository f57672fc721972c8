/*
 * rotd's glue to the core: the flash and OTP files the chip runs on, the
 * roles a peer's uid holds, and each frame handed to the core's mailbox
 * server (rot/server.h), which holds every rule: who may send what, what
 * BOOT means, when regions lock, how long a session lives.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rot/error.h"
#include "rot/otp.h"
#include "rot_client/names.h"
#include "rot_host/cert_mbedtls.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"
#include "rotd.h"

static uint64_t wall_now(void) { return (uint64_t)time(NULL); }

int rotd_session_open(const rotd_t *d) {
  return d->update.session.open == HARDENED_TRUE;
}

/* The roles a uid holds: the transport's one decision about a peer. */
static uint32_t roles_of(const rotd_t *d, uid_t uid) {
  static const uint32_t kRoles[3] = {ROT_ROLE_READER | ROT_ROLE_OPERATOR,
                                     ROT_ROLE_READER | ROT_ROLE_BOOT,
                                     ROT_ROLE_READER};
  if (uid == 0 || uid == geteuid()) {
    return ROT_ROLE_ALL;
  }
  uint32_t roles = 0;
  for (size_t k = 0; k < 3; k++) {
    for (size_t i = 0; i < d->n_allow[k]; i++) {
      if (d->allow[k][i] == uid) {
        roles |= kRoles[k];
      }
    }
  }
  return roles;
}

rot_error_t rotd_admit(rotd_t *d, client_t *slot, uint32_t open_total,
                       uint32_t open_same) {
  slot->roles = roles_of(d, slot->uid);
  rot_peer_t peer = {slot->id, (uint32_t)slot->uid, (uint32_t)slot->pid,
                     slot->roles};
  return rot_server_admit(&d->server, &peer, open_total, open_same);
}

void rotd_serve_frame(rotd_t *d, client_t *c, size_t len) {
  if (c->refuse != ROT_OK) {
    /* Refused at the door (no role, or over a limit): one reply that
     * says why, then the connection goes. */
    uint16_t cmd = 0;
    uint32_t seq = 0;
    rot_mbox_peek(d->rx, len, &cmd, &seq);
    fprintf(stderr, "rotd: refused peer uid %u pid %d: %s\n", (unsigned)c->uid,
            (int)c->pid, rot_error_name(c->refuse));
    size_t n = 0;
    if (rot_mbox_frame_encode(d->tx, sizeof(d->tx), cmd, ROT_MBOX_FLAG_RESPONSE,
                              seq, (uint32_t)c->refuse, NULL, 0, &n) == ROT_OK &&
        rotd_send_reply(d, c, n)) {
      rotd_drop_client(d, c);
    }
    return;
  }
  rot_peer_t peer = {c->id, (uint32_t)c->uid, (uint32_t)c->pid, c->roles};
  rotd_send_reply(d, c,
             rot_server_handle(&d->server, &peer, d->rx, len, d->tx,
                               sizeof(d->tx)));
}

/* Runs before any frame of a round is served, so a chunk that arrives
 * after the deadline finds the session gone whatever the tick. */
void rotd_expire_session(rotd_t *d) {
  if (rot_server_tick(&d->server)) {
    fprintf(stderr, "rotd: update session idle for more than %" PRIu64
                    " s: aborted\n", d->idle_timeout);
  }
}

static int fail_start(const char *what, const char *obj, rot_error_t err,
                      const char *hint) {
  fprintf(stderr, "rotd: %s %s: %s (%s)%s%s\n", what, obj, rot_error_str(err),
          rot_error_name(err), hint != NULL ? "; " : "",
          hint != NULL ? hint : "");
  return EXIT_FAIL;
}

/* A device file open to others: say so and how to fix it; never fix it. */
static int fail_private(const char *what, const char *path, unsigned mode) {
  char advice[4400];
  fprintf(stderr, "rotd: %s %s: %s (%s)\n", what, path,
          rot_file_private_advice(advice, sizeof(advice), path, mode),
          rot_error_name(ROT_ERROR_IO_PERMISSIONS));
  return EXIT_FAIL;
}

static uint32_t largest_image_region(const rot_flash_layout_t *l) {
  uint32_t max = 0;
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    if (rot_flash_region_is_image(&l->regions[i]) && l->regions[i].size > max) {
      max = l->regions[i].size;
    }
  }
  return max;
}

int rotd_start_chip(rotd_t *d, const char *flash_path, const char *otp_path) {
  /* The OTP first: it is never created, so a wrong path leaves no
   * 128 MiB flash file behind. */
  rot_error_t err = rot_otp_file_open_locked(&d->otp, otp_path, 0, ROT_LOCK_DAEMON);
  if (err == ROT_ERROR_IO_OPEN) {
    return fail_start("otp", otp_path, err,
                      "provision it first with 'rotctl otp provision'");
  }
  if (err == ROT_ERROR_IO_PERMISSIONS) {
    return fail_private("otp", otp_path, d->otp.mode);
  }
  if (err != ROT_OK) {
    return fail_start("otp", otp_path, err, NULL);
  }
  rot_policy_t pol;
  err = rot_otp_policy(&d->otp.port, &pol);
  if (err != ROT_OK) {
    return fail_start("otp", otp_path, err,
                      err == ROT_ERROR_OTP_NOT_PROVISIONED
                          ? "provision it first with 'rotctl otp provision'"
                          : NULL);
  }
  err = rot_flash_file_open(&d->flash, flash_path, d->layout->flash_size,
                            d->layout->erase_size, 1);
  if (err == ROT_ERROR_IO_PERMISSIONS) {
    return fail_private("flash", flash_path, d->flash.mode);
  }
  if (err != ROT_OK) {
    return fail_start("flash", flash_path, err, NULL);
  }
  const rot_crypto_t *crypto = NULL;
  err = rot_host_crypto_get(&crypto);
  if (err != ROT_OK) {
    return fail_start("crypto", "backend", err, NULL);
  }
  err = rot_gate_init(&d->gate, &d->flash.port, d->layout, rot_audit_gate_hook,
                      &d->audit);
  if (err != ROT_OK) {
    return fail_start("flash", flash_path, err, NULL);
  }
  err = rot_audit_init(&d->audit, &d->gate, crypto, wall_now);
  if (err != ROT_OK) {
    return fail_start("audit log in", flash_path, err, NULL);
  }
  uint32_t scratch_len = largest_image_region(d->layout);
  d->scratch = malloc(scratch_len);
  if (d->scratch == NULL) {
    return fail_start("scratch", "buffer", ROT_ERROR_BUFFER_TOO_SMALL, NULL);
  }
  err = rot_update_init(&d->update, &d->gate, &d->otp.port, crypto, &d->audit,
                        rotd_mono_now, d->scratch, scratch_len);
  if (err == ROT_ERROR_OTP_NO_DEVICE_SECRET) {
    return fail_start("OTP", otp_path, err,
                      "the update state is authenticated with a key derived "
                      "from it; provision a fresh OTP file with "
                      "'rotctl otp provision'");
  }
  if (err != ROT_OK) {
    return fail_start("update state in", flash_path, err, NULL);
  }
  for (uint32_t i = 0; i < 2; i++) {
    if (d->update.state_rejected & (1u << i)) {
      fprintf(stderr,
              "rotd: warning: %s: update state copy %u refused (%s): a torn "
              "write or a record this chip never wrote; the other copy "
              "stands and no fuse moved on its word\n",
              flash_path, i, rot_error_name(ROT_ERROR_UPDATE_STATE_FORGED));
    }
  }
  err = rot_server_init(&d->server, &d->gate, &d->update, &d->audit,
                        &d->otp.port, crypto, d->idle_timeout);
  if (err != ROT_OK) {
    return fail_start("mailbox server for", flash_path, err, NULL);
  }
  rot_server_set_cert(&d->server, rot_host_cert());
  err = rot_audit_append(&d->audit, ROT_AUDIT_DAEMON_START, ROT_OK, 0, 0);
  if (err != ROT_OK) {
    return fail_start("audit log in", flash_path, err, NULL);
  }
  return EXIT_OK;
}

void rotd_stop_chip(rotd_t *d) {
  if (rotd_session_open(d)) {
    rot_update_abort(&d->update, ROT_ERROR_MAILBOX_CLOSED);
  }
  rot_otp_file_close(&d->otp);
  rot_flash_file_close(&d->flash);
  free(d->scratch);
  d->scratch = NULL;
}
