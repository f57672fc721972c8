/*
 * Names for the chip's codes (see rot_client/names.h). Host only: the
 * error list's reasons and every name table stay out of the chip build.
 */
#include "rot_client/names.h"

#include <stddef.h>
#include <string.h>

#include "rot/audit.h"
#include "rot/mailbox.h"
#include "rot/policy.h"
#include "rot/update.h"
#include "rot/util.h"

/* ---- errors (generated from ROT_ERROR_LIST) ------------------------------- */

const char *rot_error_str(rot_error_t err) {
  switch (err) {
    case ROT_OK:
      return "ok";
#define ROT_ERROR_STR_(name, mod, num, text) \
  case name:                                 \
    return text;
      ROT_ERROR_LIST(ROT_ERROR_STR_)
#undef ROT_ERROR_STR_
  }
  return "unknown error";
}

const char *rot_error_name(rot_error_t err) {
  switch (err) {
    case ROT_OK:
      return "ROT_OK";
#define ROT_ERROR_NAME_(name, mod, num, text) \
  case name:                                  \
    return #name;
      ROT_ERROR_LIST(ROT_ERROR_NAME_)
#undef ROT_ERROR_NAME_
  }
  return "ROT_ERROR_UNKNOWN";
}

/* ---- image types and lifecycle ------------------------------------------- */

static const char *const kTypeNames[ROT_IMAGE_TYPE_MAX + 1] = {
    [ROT_IMAGE_TYPE_ROT] = "rot",
    [ROT_IMAGE_TYPE_OPENSBI] = "opensbi",
    [ROT_IMAGE_TYPE_HYPERVISOR] = "hypervisor",
    [ROT_IMAGE_TYPE_DTB] = "dtb",
    [ROT_IMAGE_TYPE_RECOVERY] = "recovery",
};


const char *rot_image_type_name(uint32_t image_type) {
  if (image_type < ROT_IMAGE_TYPE_MIN || image_type > ROT_IMAGE_TYPE_MAX) {
    return NULL;
  }
  return kTypeNames[image_type];
}

uint32_t rot_image_type_from_name(const char *name) {
  if (name == NULL) {
    return 0;
  }
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    if (strcmp(name, kTypeNames[t]) == 0) {
      return t;
    }
  }
  return 0;
}

const char *rot_lifecycle_name(uint32_t lc) {
  switch (lc) {
    case ROT_LIFECYCLE_BLANK:
      return "blank";
    case ROT_LIFECYCLE_DEV:
      return "dev";
    case ROT_LIFECYCLE_PROD:
      return "production";
    case ROT_LIFECYCLE_DECOMMISSIONED:
      return "decommissioned";
    default:
      return "invalid";
  }
}

/* ---- boot reasons and audit events ---------------------------------------- */

const char *rot_boot_reason_name(uint32_t reason) {
  switch (reason) {
    case ROT_BOOT_ACTIVE:
      return "active";
    case ROT_BOOT_TRIAL:
      return "trial";
    case ROT_BOOT_FALLBACK_OTHER:
      return "fallback";
    case ROT_BOOT_RECOVERY:
      return "recovery";
    case ROT_BOOT_NONE:
      return "none";
    default:
      return "invalid";
  }
}

const char *rot_audit_event_name(uint32_t event) {
  switch (event) {
    case ROT_AUDIT_GATE_DENY:
      return "gate-deny";
    case ROT_AUDIT_GATE_LOCK:
      return "gate-lock";
    case ROT_AUDIT_GATE_WINDOW:
      return "gate-window";
    case ROT_AUDIT_HOST_READ:
      return "host-read";
    case ROT_AUDIT_UPDATE_BEGIN:
      return "update-begin";
    case ROT_AUDIT_UPDATE_FINISH:
      return "update-finish";
    case ROT_AUDIT_UPDATE_ABORT:
      return "update-abort";
    case ROT_AUDIT_ACTIVATE:
      return "activate";
    case ROT_AUDIT_CONFIRM:
      return "confirm";
    case ROT_AUDIT_REVERT:
      return "revert";
    case ROT_AUDIT_FLOOR_RAISED:
      return "floor-raised";
    case ROT_AUDIT_BOOT:
      return "boot";
    case ROT_AUDIT_TRIAL_EXPIRED:
      return "trial-expired";
    case ROT_AUDIT_STATE_REJECTED:
      return "state-rejected";
    case ROT_AUDIT_FLOOR_REFUSED:
      return "floor-refused";
    case ROT_AUDIT_COMMAND_REFUSED:
      return "command-refused";
    case ROT_AUDIT_RESET:
      return "reset";
    case ROT_AUDIT_DAEMON_START:
      return "daemon-start";
    case ROT_AUDIT_PEER_REFUSED:
      return "peer-refused";
    case ROT_AUDIT_CONFIRM_UNTRIED:
      return "confirm-untried";
    case ROT_AUDIT_LIFECYCLE_REQUEST:
      return "lifecycle-request";
    case ROT_AUDIT_LIFECYCLE:
      return "lifecycle";
    default:
      return "unknown";
  }
}

/* ---- mailbox commands ------------------------------------------------------ */

typedef struct cmd_name {
  uint32_t cmd;
  const char *name;
} cmd_name_t;

static const cmd_name_t kCommandNames[] = {
    {ROT_MBOX_CMD_STATUS, "status"},
    {ROT_MBOX_CMD_INVENTORY, "inventory"},
    {ROT_MBOX_CMD_READ_REGION, "read-region"},
    {ROT_MBOX_CMD_UPDATE_BEGIN, "update-begin"},
    {ROT_MBOX_CMD_UPDATE_CHUNK, "update-chunk"},
    {ROT_MBOX_CMD_UPDATE_FINISH, "update-finish"},
    {ROT_MBOX_CMD_UPDATE_ABORT, "update-abort"},
    {ROT_MBOX_CMD_ACTIVATE, "activate"},
    {ROT_MBOX_CMD_CONFIRM, "confirm"},
    {ROT_MBOX_CMD_REVERT, "revert"},
    {ROT_MBOX_CMD_BOOT, "boot"},
    {ROT_MBOX_CMD_AUDIT_READ, "audit-read"},
    {ROT_MBOX_CMD_AUDIT_VERIFY, "audit-verify"},
    {ROT_MBOX_CMD_LOCK, "lock"},
    {ROT_MBOX_CMD_RESET, "reset"},
    {ROT_MBOX_CMD_IDENTITY, "identity"},
    {ROT_MBOX_CMD_ENDORSE, "endorse"},
    {ROT_MBOX_CMD_IDENTITY_CSR, "identity-csr"},
    {ROT_MBOX_CMD_IDENTITY_STORE, "identity-store"},
    {ROT_MBOX_CMD_LIFECYCLE, "lifecycle"},
};

const char *rot_mbox_command_name(uint32_t cmd) {
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kCommandNames); i++) {
    if (kCommandNames[i].cmd == cmd) {
      return kCommandNames[i].name;
    }
  }
  return "unknown";
}


/* ---- flash regions --------------------------------------------------------- */

int rot_flash_region_by_name(const rot_flash_layout_t *l, const char *name) {
  if (l == NULL || name == NULL) {
    return -1;
  }
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    if (strcmp(l->regions[i].name, name) == 0) {
      return (int)i;
    }
  }
  return -1;
}
