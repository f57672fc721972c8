/*
 * rotctl's update family: update (stage a signed image through rotd),
 * activate, confirm and revert. The chip verifies; rotctl only carries
 * the bytes and reports the verdict.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Chunk requests kept in flight by `update` (see the loop). */
#define CHUNKS_IN_FLIGHT 4u

#include "rot/error.h"
#include "rot/flash.h"
#include "rot/image.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot/update.h"
#include "rot_client/names.h"
#include "rot_client/mbox_requests.h"
#include "rot_host/file.h"
#include "rot_client/mbox_client.h"
#include "rotctl.h"

/* ---- update ------------------------------------------------------------------------- */

#define SOCKET_HELP \
  "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Redrawn only when the shown percentage changes. */
static void progress(const char *target, size_t done, size_t total,
                     int *last_pct) {
  int pct = total == 0 ? 100 : (int)((done * 100u) / total);
  if (pct == *last_pct) {
    return;
  }
  *last_pct = pct;
  enum { WIDTH = 32 };
  int fill = pct * WIDTH / 100;
  fprintf(stderr, "\rupdate %s [%.*s%*s] %3d%% %zu/%zu KiB", target, fill,
          "################################", WIDTH - fill, "", pct,
          (done + 1023u) / 1024u, (total + 1023u) / 1024u);
  fflush(stderr);
}

/* Best effort: a session left open would hold the slot until it expires. */
static void abort_quietly(rotctl_t *c) {
  rot_error_t status;
  const uint8_t *r;
  uint32_t rl;
  rot_error_t err = rot_mbox_call(&c->cl, ROT_MBOX_CMD_UPDATE_ABORT, NULL, 0,
                                  &status, &r, &rl);
  (void)err;
}

static int activate_type(rotctl_t *c, uint32_t type,
                         rot_mbox_type_state_t *out);

/*
 * The image is streamed from the file, never held whole: each chunk is
 * read straight into the request frame being built, so a 16 MiB image
 * costs one copy out of the page cache (as cp does) rather than a fresh
 * 16 MiB buffer (its page faults are most of the cost on some hosts), a
 * second copy into the frame, and a pass to find its type.
 */
static int cmd_update(rotctl_t *c) {
  int rc = EXIT_OK;
  const char *path = c->o.operands[0];
  int fd = -1;
  size_t len = 0;
  rot_error_t err = rot_file_open_read(path, MAX_IMAGE_FILE, &fd, &len);
  if (err != ROT_OK) {
    return fail_rot("update", path, "cannot read", err);
  }
  uint32_t type = c->o.type;
  if (!c->o.has_type) {
    uint8_t hb[ROT_IMAGE_HEADER_SIZE];
    size_t hn = len < sizeof(hb) ? len : sizeof(hb);
    rot_image_header_t h;
    err = rot_file_pread(fd, hb, hn, 0);
    if (err != ROT_OK) {
      close(fd);
      return fail_rot("update", path, "cannot read", err);
    }
    err = rot_image_header_parse(hb, hn, &h);
    if (err != ROT_OK) {
      close(fd);
      return fail("update", NULL, "%s: not a signed image: %s (%s)", path,
                  rot_error_name(err), rot_error_str(err));
    }
    type = h.image_type;
  }
  c->hint_type = type;
  double t0 = now_s();
  int tty = isatty(STDERR_FILENO);
  int last_pct = -1;
  rot_mbox_begin_resp_t begin;
  rot_mbox_image_info_t info;
  rot_mbox_type_state_t tstate;
  uint8_t req[ROT_MBOX_BEGIN_REQ_SIZE];
  size_t req_len = 0;
  const uint8_t *r;
  uint32_t rl;
  rot_mbox_begin_req_t b = {type, (uint32_t)len};
  char what[512];
  const char *target = "?";
  snprintf(what, sizeof(what), "%s: refused by the chip", path);
  rc = EXIT_FAIL;
  if (len > UINT32_MAX) {
    fail_rot("update", NULL, path, ROT_ERROR_UPDATE_TOO_LARGE);
    goto out;
  }
  if (rot_mbox_begin_req_encode(&b, req, sizeof(req), &req_len) != ROT_OK) {
    goto out;
  }
  if (rotctl_call(c, ROT_MBOX_CMD_UPDATE_BEGIN, req, (uint32_t)req_len, what, &r, &rl) != EXIT_OK) {
    goto out;
  }
  err = rot_mbox_begin_resp_decode(r, rl, &begin);
  if (err != ROT_OK) {
    rotctl_bad_reply(c, ROT_MBOX_CMD_UPDATE_BEGIN, err);
    abort_quietly(c);
    goto out;
  }
  target = region_name(begin.region);
  /* Chunks are pipelined: up to CHUNKS_IN_FLIGHT requests wait in the
   * socket, so the chip never waits for this process between two chunks
   * (the chip still handles them one at a time, in order, each programmed
   * and read back before the next). The first refusal stops the sending;
   * the replies to chunks still in flight are skipped by the ABORT call
   * (the chip refuses them: the session ended with the refusal). */
  uint32_t seqs[CHUNKS_IN_FLIGHT];
  size_t sent = 0, done = 0;
  unsigned head = 0, inflight = 0;
  while (done < len) {
    while (inflight < CHUNKS_IN_FLIGHT && sent < len) {
      size_t n = len - sent < begin.chunk_max ? len - sent : begin.chunk_max;
      uint8_t *p = rot_mbox_client_payload(&c->cl);
      if (p == NULL || n > ROT_MBOX_MAX_PAYLOAD - ROT_MBOX_CHUNK_REQ_FIXED) {
        abort_quietly(c);
        goto out;
      }
      /* Read where the request carries it: encoding copies nothing. */
      rot_mbox_chunk_req_t ch = {(uint32_t)sent, (uint32_t)n,
                                 p + ROT_MBOX_CHUNK_REQ_FIXED};
      err = rot_file_pread(fd, p + ROT_MBOX_CHUNK_REQ_FIXED, n, sent);
      if (err != ROT_OK) {
        if (tty) {
          fputc('\n', stderr);
        }
        fail_rot("update", path, "cannot read", err);
        abort_quietly(c);
        goto out;
      }
      size_t pl = 0;
      if (rot_mbox_chunk_req_encode(&ch, p, ROT_MBOX_MAX_PAYLOAD, &pl) != ROT_OK ||
          rotctl_send(c, ROT_MBOX_CMD_UPDATE_CHUNK, p, (uint32_t)pl,
                      &seqs[(head + inflight) % CHUNKS_IN_FLIGHT]) != EXIT_OK) {
        abort_quietly(c);
        goto out;
      }
      sent += n;
      inflight++;
    }
    if (rotctl_receive(c, ROT_MBOX_CMD_UPDATE_CHUNK, seqs[head], what, NULL,
                       NULL) != EXIT_OK) {
      if (tty) {
        fputc('\n', stderr);
      }
      abort_quietly(c);
      goto out;
    }
    head = (head + 1u) % CHUNKS_IN_FLIGHT;
    inflight--;
    done += len - done < begin.chunk_max ? len - done : begin.chunk_max;
    if (tty) {
      progress(target, done, len, &last_pct);
    }
  }
  if (tty) {
    fputc('\n', stderr);
  }
  if (rotctl_call(c, ROT_MBOX_CMD_UPDATE_FINISH, NULL, 0, what, &r, &rl) !=
      EXIT_OK) {
    goto out;
  }
  err = rot_mbox_image_info_decode(r, rl, &info);
  if (err != ROT_OK) {
    rotctl_bad_reply(c, ROT_MBOX_CMD_UPDATE_FINISH, err);
    goto out;
  }
  double secs = now_s() - t0;
  if (c->o.activate && activate_type(c, type, &tstate) != EXIT_OK) {
    goto out;
  }
  rc = EXIT_OK;
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_str(&j, "file", path);
    jw_str(&j, "result", "verified");
    jw_u64(&j, "bytes", len);
    jw_u64(&j, "milliseconds", (uint64_t)(secs * 1000.0));
    jw_info(&j, "image", &info);
    if (c->o.activate) {
      jw_type_state(&j, "activated", &tstate);
    }
    jw_close(&j, '}');
  } else {
    printf("%s: staged %zu bytes into %s in %.2f s, verified: %s ", path, len,
           target, secs, type_name(info.image_type));
    print_version(&info);
    printf(" svn %u key %u%s\n", info.svn, info.key_index,
           c->o.activate ? ", activated for a trial boot" : "");
  }
out:
  close(fd);
  return rc;
}

/* ---- activate / confirm / revert -------------------------------------------------- */

static int type_call(rotctl_t *c, uint16_t command, uint32_t type,
                     rot_mbox_type_state_t *out) {
  rot_mbox_type_req_t t = {type};
  rot_mbox_confirm_req_t q = {type, c->o.without_trial ? ROT_CONFIRM_WITHOUT_TRIAL : 0u};
  uint8_t req[ROT_MBOX_CONFIRM_REQ_SIZE];
  size_t n = 0;
  rot_error_t e = command == ROT_MBOX_CMD_CONFIRM
                      ? rot_mbox_confirm_req_encode(&q, req, sizeof(req), &n)
                      : rot_mbox_type_req_encode(&t, req, sizeof(req), &n);
  if (e != ROT_OK) {
    return EXIT_FAIL;
  }
  c->hint_type = type;
  char what[64];
  snprintf(what, sizeof(what), "%s refused", type_name(type));
  const uint8_t *r;
  uint32_t rl;
  int rc = rotctl_call(c, command, req, (uint32_t)n, what, &r, &rl);
  if (rc != EXIT_OK) {
    return rc;
  }
  rot_error_t err = rot_mbox_type_state_decode(r, rl, out);
  return err == ROT_OK ? EXIT_OK : rotctl_bad_reply(c, command, err);
}

static int activate_type(rotctl_t *c, uint32_t type,
                         rot_mbox_type_state_t *out) {
  return type_call(c, ROT_MBOX_CMD_ACTIVATE, type, out);
}

/*
 * No --type: the one type in the state the step needs (staged for
 * activate, on trial for confirm and revert), or a clear error.
 */
static int pick_type(rotctl_t *c, uint16_t command, uint32_t *type) {
  rot_mbox_status_t st;
  int rc = rotctl_get_status(c, &st);
  if (rc != EXIT_OK) {
    return rc;
  }
  int staged = command == ROT_MBOX_CMD_ACTIVATE;
  const char *state = staged ? "a staged image" : "an image on trial";
  uint32_t found = 0;
  char names[128] = "";
  for (uint32_t i = 0; i < st.type_count; i++) {
    const rot_mbox_type_state_t *t = &st.types[i];
    if ((staged ? t->staged : t->pending) == ROT_SLOT_NONE) {
      continue;
    }
    if (found++ == 0) {
      *type = t->image_type;
    }
    size_t used = strlen(names);
    snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
             type_name(t->image_type));
  }
  if (found == 0) {
    return fail(c->cmd->full, NULL, "no image type has %s; give --type TYPE", state);
  }
  if (found > 1) {
    return fail(c->cmd->full, NULL, "several types have %s (%s); give --type TYPE", state,
                names);
  }
  return EXIT_OK;
}

static int type_command(rotctl_t *c, uint16_t command) {
  int rc = EXIT_OK;
  uint32_t type = c->o.type;
  rot_mbox_type_state_t t;
  rc = EXIT_OK;
  if (!c->o.has_type) {
    /* Revert without a trial means "back to the other slot": too big a
     * step to guess the type for, so only a trial is ever picked. */
    rc = pick_type(c, command, &type);
  }
  if (rc == EXIT_OK) {
    rc = type_call(c, command, type, &t);
  }
  if (rc != EXIT_OK) {
    return rc;
  }
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_str(&j, "command", c->cmd->full);
    jw_type_state(&j, "state", &t);
    jw_close(&j, '}');
    return EXIT_OK;
  }
  const char *tn = type_name(type);
  if (command == ROT_MBOX_CMD_ACTIVATE) {
    printf("%s: slot %s activated for a trial boot (%u attempts)\n", tn,
           slot_name(t.pending), t.attempts_left);
  } else if (command == ROT_MBOX_CMD_CONFIRM) {
    printf("%s: slot %s confirmed%s; SVN floor %u\n", tn, slot_name(t.active),
           c->o.without_trial ? " without a trial boot" : "", t.svn_floor);
  } else {
    printf("%s: active slot %s, no trial pending\n", tn, slot_name(t.active));
  }
  return EXIT_OK;
}

static int cmd_activate(rotctl_t *c) {
  return type_command(c, ROT_MBOX_CMD_ACTIVATE);
}

static int cmd_confirm(rotctl_t *c) {
  return type_command(c, ROT_MBOX_CMD_CONFIRM);
}

static int cmd_revert(rotctl_t *c) {
  return type_command(c, ROT_MBOX_CMD_REVERT);
}

/* ---- the family ------------------------------------------------------------------ */

#define TYPE_HELP(extra)                                                     \
  extra "\noptions:\n" SOCKET_HELP                                           \
  "  --type TYPE     rot, opensbi, hypervisor or dtb\n"                      \
  "  --json          machine-readable output\n"

const command_t rotctl_update_commands[] = {
    {"update", cmd_update,
     "[--socket PATH] [--type TYPE] [--activate] [--json] IMAGE",
     "Stage a signed image into the inactive slot; the chip verifies it "
     "there.",
     "The active image is never touched; a refused image leaves everything\n"
     "as it was and the reason is printed. A progress bar is drawn on stderr\n"
     "when it is a terminal; one summary line is printed either way.\n"
     "\noptions:\n" SOCKET_HELP
     "  --type TYPE     stage into this type's slot (default: the type named\n"
     "                  in the image header; the chip refuses a mismatch)\n"
     "  --activate      also select the image for a trial boot\n"
     "  --json          machine-readable result on stdout\n",
     O_DAEMON | O_JSON | O_TYPE | O_ACTIVATE, 1, "one IMAGE", NULL, "update"},
    {"activate", cmd_activate, "[--socket PATH] [--type TYPE] [--json]",
     "Select the staged image for a trial boot.",
     TYPE_HELP("Without --type: the only type with a staged image.\n"),
     O_DAEMON | O_JSON | O_TYPE, 0, NULL, NULL, "activate"},
    {"confirm", cmd_confirm,
     "[--socket PATH] [--type TYPE] [--without-trial] [--json]",
     "Make the image on trial permanent and raise the SVN floor to it.",
     "Only after its trial boot (bootchain boot, or rotctl boot): the floor\n"
     "can never go down again, so the chip refuses to confirm an image no\n"
     "boot decision has chosen (ROT_ERROR_UPDATE_NOT_TRIED).\n"
     "Without --type: the only type with an image on trial.\n"
     "\noptions:\n" SOCKET_HELP
     "  --type TYPE      rot, opensbi, hypervisor, dtb or recovery\n"
     "  --without-trial  confirm even though it never booted: the operator's\n"
     "                   override, recorded as confirm-untried in the audit log\n"
     "  --json           machine-readable output\n",
     O_DAEMON | O_JSON | O_TYPE | O_WITHOUT_TRIAL, 0, NULL, NULL, "confirm"},
    {"revert", cmd_revert, "[--socket PATH] [--type TYPE] [--json]",
     "Cancel a trial, or go back to the other slot (never below the floor).",
     TYPE_HELP("Without --type: the only type with an image on trial (going\n"
               "back to the other slot with no trial pending needs --type).\n"),
     O_DAEMON | O_JSON | O_TYPE, 0, NULL, NULL, "revert"},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL},
};
