/*
 * Redfish resources (DMTF DSP0266; schema names as published in the DMTF
 * schema bundle): the service root, the one ComputerSystem, the
 * UpdateService with a SoftwareInventory member per image region of the
 * chip. The TaskService and the push itself live in update.c.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot_client/names.h"

#define REDFISH_VERSION "1.17.0"

static json_object *odata_link(const char *path) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "@odata.id", json_object_new_string(path));
  return o;
}

static json_object *resource(const char *path, const char *type, const char *id,
                             const char *name) {
  json_object *o = odata_link(path);
  json_object_object_add(o, "@odata.type", json_object_new_string(type));
  if (id != NULL) {
    json_object_object_add(o, "Id", json_object_new_string(id));
  }
  json_object_object_add(o, "Name", json_object_new_string(name));
  return o;
}

static json_object *status_obj(const char *state, const char *health) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "State", json_object_new_string(state));
  if (health != NULL) {
    json_object_object_add(o, "Health", json_object_new_string(health));
  }
  return o;
}

json_object *rf_link(const char *path) { return odata_link(path); }

json_object *rf_resource(const char *path, const char *type, const char *id,
                         const char *name) {
  return resource(path, type, id, name);
}

json_object *rf_status(const char *state, const char *health) {
  return status_obj(state, health);
}

int ha_rot_query(ha_agent_t *a, ha_req_t *r, uint16_t cmd, uint8_t *out,
                 size_t cap, size_t *out_len) {
  rot_error_t status;
  rot_error_t err = ha_rot_call(&a->rot, cmd, NULL, 0, 1, &status, out, cap, out_len);
  if (err != ROT_OK) {
    if (ha_rot_is_transport(err)) {
      ha_metrics_rotd_unavailable(&a->metrics);
      ha_reply_header(r, "Retry-After", "5");
      ha_reply_error(r, 503, "ServiceTemporarilyUnavailable", NULL,
                     "the security chip (rotd) is not answering: %s",
                     rot_error_str(err));
    } else {
      ha_reply_error(r, 502, "InternalError", NULL, "rotd: %s (%s)",
                     rot_error_str(err), rot_error_name(err));
    }
    return 0;
  }
  if (status != ROT_OK) {
    ha_reply_error(r, 502, "InternalError", NULL, "rotd refused %s: %s (%s)",
                   rot_mbox_command_name(cmd), rot_error_str(status),
                   rot_error_name(status));
    return 0;
  }
  return 1;
}

void rf_get_odata_root(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  json_object *o = json_object_new_object();
  json_object_object_add(o, "v1", json_object_new_string("/redfish/v1/"));
  ha_reply_json(r, 200, o);
}

void rf_get_service_root(ha_agent_t *a, ha_req_t *r) {
  json_object *o = resource("/redfish/v1", "#ServiceRoot.v1_15_0.ServiceRoot",
                            "RootService", "Host agent");
  json_object_object_add(o, "RedfishVersion", json_object_new_string(REDFISH_VERSION));
  json_object_object_add(o, "UUID", json_object_new_string(a->uuid));
  json_object_object_add(o, "Product", json_object_new_string("rot-stack host agent"));
  json_object_object_add(o, "Systems", odata_link("/redfish/v1/Systems"));
  json_object_object_add(o, "UpdateService", odata_link("/redfish/v1/UpdateService"));
  json_object_object_add(o, "TaskService", odata_link("/redfish/v1/TaskService"));
  json_object_object_add(o, "ComponentIntegrity",
                         odata_link("/redfish/v1/ComponentIntegrity"));
  ha_reply_json(r, 200, o);
}

void rf_get_systems(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  json_object *o = resource("/redfish/v1/Systems",
                            "#ComputerSystemCollection.ComputerSystemCollection",
                            NULL, "Computer Systems");
  json_object *m = json_object_new_array();
  json_object_array_add(m, odata_link("/redfish/v1/Systems/1"));
  json_object_object_add(o, "Members@odata.count", json_object_new_int(1));
  json_object_object_add(o, "Members", m);
  ha_reply_json(r, 200, o);
}

static const char *const kResetTypes[] = {"On", "ForceOff", "GracefulShutdown",
                                          "ForceRestart", "GracefulRestart"};
#define RESET_TYPES (sizeof(kResetTypes) / sizeof(kResetTypes[0]))

void rf_get_system(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  json_object *o = resource("/redfish/v1/Systems/1",
                            "#ComputerSystem.v1_20_0.ComputerSystem", "1", "Host");
  json_object_object_add(o, "SystemType", json_object_new_string("Physical"));
  /* Power is the card controller's to report; until it is there the state
   * is unknown, which Redfish spells null. */
  json_object_object_add(o, "PowerState", NULL);
  json_object_object_add(o, "Status", status_obj("Enabled", "OK"));
  json_object *boot = json_object_new_object();
  json_object_object_add(boot, "BootSourceOverrideEnabled",
                         json_object_new_string("Disabled"));
  json_object_object_add(boot, "BootSourceOverrideTarget", json_object_new_string("None"));
  json_object *allowed = json_object_new_array();
  json_object_array_add(allowed, json_object_new_string("None"));
  json_object_object_add(boot, "BootSourceOverrideTarget@Redfish.AllowableValues", allowed);
  json_object_object_add(o, "Boot", boot);
  /* The TPM the ComponentIntegrity member "TPM" points at
   * (TargetComponentURI /redfish/v1/Systems/1#/TrustedModules/0). */
  json_object *tms = json_object_new_array();
  json_object *tm = json_object_new_object();
  json_object_object_add(tm, "InterfaceType", json_object_new_string("TPM2_0"));
  json_object_object_add(tm, "Status", status_obj("Enabled", NULL));
  json_object_array_add(tms, tm);
  json_object_object_add(o, "TrustedModules", tms);
  json_object *actions = json_object_new_object();
  json_object *reset = json_object_new_object();
  json_object_object_add(reset, "target",
                         json_object_new_string(
                             "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"));
  json_object *types = json_object_new_array();
  for (size_t i = 0; i < RESET_TYPES; i++) {
    json_object_array_add(types, json_object_new_string(kResetTypes[i]));
  }
  json_object_object_add(reset, "ResetType@Redfish.AllowableValues", types);
  json_object_object_add(actions, "#ComputerSystem.Reset", reset);
  json_object_object_add(o, "Actions", actions);
  json_object *oem = json_object_new_object();
  json_object *rs = json_object_new_object();
  json_object_object_add(rs, "PowerControl",
                         json_object_new_string("unavailable: no card controller"));
  json_object_object_add(oem, "RotStack", rs);
  json_object_object_add(o, "Oem", oem);
  ha_reply_json(r, 200, o);
}

void rf_post_reset(ha_agent_t *a, ha_req_t *r) {
  json_object *o = ha_json_object_body(r->body, r->body_len);
  if (o == NULL) {
    ha_reply_error(r, 400, "MalformedJSON", NULL,
                   "the body must be a JSON object with ResetType");
    return;
  }
  json_object *rt = NULL;
  if (!json_object_object_get_ex(o, "ResetType", &rt)) {
    json_object_put(o);
    ha_reply_error(r, 400, "ActionParameterMissing", "ResetType",
                   "ResetType is required");
    return;
  }
  const char *v = json_object_is_type(rt, json_type_string) ? json_object_get_string(rt) : "";
  size_t i = 0;
  while (i < RESET_TYPES && strcmp(v, kResetTypes[i]) != 0) {
    i++;
  }
  if (i == RESET_TYPES) {
    json_object_put(o);
    ha_reply_error(r, 400, "ActionParameterValueNotInList", "ResetType",
                   "ResetType must be one of On, ForceOff, GracefulShutdown, "
                   "ForceRestart, GracefulRestart");
    return;
  }
  json_object_put(o);
  ha_operator_recheck(a, r);
  ha_reply_error(r, 501, "ActionNotSupported", NULL,
                 "%s not performed: power control needs the card controller, "
                 "which this host does not have yet", kResetTypes[i]);
}

void rf_get_update_service(ha_agent_t *a, ha_req_t *r) {
  json_object *o = resource("/redfish/v1/UpdateService",
                            "#UpdateService.v1_11_0.UpdateService", "UpdateService",
                            "Update Service");
  json_object_object_add(o, "ServiceEnabled", json_object_new_boolean(1));
  json_object_object_add(o, "Status", status_obj("Enabled", "OK"));
  json_object_object_add(o, "FirmwareInventory",
                         odata_link("/redfish/v1/UpdateService/FirmwareInventory"));
  json_object_object_add(o, "MultipartHttpPushUri",
                         json_object_new_string("/redfish/v1/UpdateService/upload"));
  json_object_object_add(o, "MaxImageSizeBytes", json_object_new_int64((int64_t)a->cfg.max_image));
  /* The apply times UpdateParameters takes (no standard property lists
   * them for the multipart push, so they are Oem). */
  json_object *times = json_object_new_array();
  json_object_array_add(times, json_object_new_string("Immediate"));
  json_object_array_add(times, json_object_new_string("OnReset"));
  json_object *rs = json_object_new_object();
  json_object_object_add(rs, "OperationApplyTime@Redfish.AllowableValues", times);
  json_object *oem = json_object_new_object();
  json_object_object_add(oem, "RotStack", rs);
  json_object_object_add(o, "Oem", oem);
  /* No SimpleUpdate: the agent does not fetch images from elsewhere. */
  json_object_object_add(o, "Actions", json_object_new_object());
  ha_reply_json(r, 200, o);
}

#define INV_BUF (ROT_MBOX_INVENTORY_FIXED + ROT_MBOX_INVENTORY_MAX * ROT_MBOX_INVENTORY_ENTRY_SIZE)
#define STATUS_BUF (ROT_MBOX_STATUS_FIXED + ROT_MBOX_MAX_TYPES * ROT_MBOX_TYPE_STATE_SIZE)

static int read_inventory(ha_agent_t *a, ha_req_t *r, rot_mbox_inventory_t *inv) {
  uint8_t *buf = malloc(INV_BUF);
  size_t n = 0;
  if (buf == NULL) {
    ha_reply_error(r, 500, "InternalError", NULL, "out of memory");
    return 0;
  }
  int ok = ha_rot_query(a, r, ROT_MBOX_CMD_INVENTORY, buf, INV_BUF, &n);
  if (ok && rot_mbox_inventory_decode(buf, n, inv) != ROT_OK) {
    ha_reply_error(r, 502, "InternalError", NULL, "rotd sent a malformed inventory");
    ok = 0;
  }
  free(buf);
  return ok;
}

static int is_image_region(const rot_mbox_inventory_entry_t *e) {
  return e->kind == 1 || e->kind == 2; /* slot or recovery */
}

static void hex(char *out, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    sprintf(out + 2 * i, "%02x", p[i]);
  }
}

static json_object *member_json(const rot_mbox_inventory_entry_t *e,
                                const rot_mbox_status_t *st) {
  char path[128];
  snprintf(path, sizeof(path), "/redfish/v1/UpdateService/FirmwareInventory/%s", e->name);
  const char *tn = rot_image_type_name(e->region_type);
  char name[80];
  const char *slot = e->slot == 0 ? "A" : e->slot == 1 ? "B" : "-";
  snprintf(name, sizeof(name), "%s image, slot %s", tn != NULL ? tn : "unknown", slot);
  json_object *o = resource(path, "#SoftwareInventory.v1_10_0.SoftwareInventory",
                            e->name, name);
  int verified = (e->flags & ROT_MBOX_INV_VERIFIED) != 0;
  int empty = (e->flags & ROT_MBOX_INV_EMPTY) != 0;
  int has_header = verified || (e->flags & ROT_MBOX_INV_HEADER) != 0;
  int active = (e->flags & ROT_MBOX_INV_ACTIVE) != 0;
  if (has_header) {
    char v[32];
    snprintf(v, sizeof(v), "%u.%u.%u", e->info.ver_major, e->info.ver_minor,
             e->info.ver_patch);
    json_object_object_add(o, "Version", json_object_new_string(v));
  } else {
    json_object_object_add(o, "Version", NULL);
  }
  json_object_object_add(o, "SoftwareId", json_object_new_string(tn != NULL ? tn : "unknown"));
  json_object_object_add(o, "Updateable", json_object_new_boolean(1));
  const char *state = empty ? "Absent" : active ? "Enabled" : "StandbySpare";
  const char *health = empty ? NULL : verified ? "OK" : "Critical";
  json_object_object_add(o, "Status", status_obj(state, health));
  json_object *rs = json_object_new_object();
  json_object_object_add(rs, "Region", json_object_new_int(e->region));
  json_object_object_add(rs, "Slot", json_object_new_string(
      e->slot == 0 ? "A" : e->slot == 1 ? "B" : "none"));
  json_object_object_add(rs, "ImageType", json_object_new_string(tn != NULL ? tn : "unknown"));
  json_object_object_add(rs, "Active", json_object_new_boolean(active));
  json_object_object_add(rs, "Pending", json_object_new_boolean((e->flags & ROT_MBOX_INV_PENDING) != 0));
  json_object_object_add(rs, "Staged", json_object_new_boolean((e->flags & ROT_MBOX_INV_STAGED) != 0));
  json_object_object_add(rs, "Locked", json_object_new_boolean((e->flags & ROT_MBOX_INV_LOCKED) != 0));
  json_object_object_add(rs, "Verified", json_object_new_boolean(verified));
  json_object_object_add(rs, "Verification", json_object_new_string(
      empty ? "empty" : rot_error_name((rot_error_t)e->status)));
  if (has_header) {
    json_object_object_add(rs, "SVN", json_object_new_int64(e->info.svn));
    json_object_object_add(rs, "SignerKeyIndex", json_object_new_int64(e->info.key_index));
    json_object_object_add(rs, "ImageBytes", json_object_new_int64(e->info.image_len));
    char d[2 * ROT_SHA384_LEN + 1];
    hex(d, e->info.payload_digest, ROT_SHA384_LEN);
    json_object_object_add(rs, "PayloadSHA384", json_object_new_string(d));
    if (verified) {
      hex(d, e->info.signed_digest, ROT_SHA384_LEN);
      json_object_object_add(rs, "SignedDigestSHA384", json_object_new_string(d));
    }
  }
  if (st != NULL) {
    for (uint32_t i = 0; i < st->type_count; i++) {
      if (st->types[i].image_type == e->region_type) {
        json_object_object_add(rs, "SVNFloor", json_object_new_int64(st->types[i].svn_floor));
      }
    }
  }
  json_object *oem = json_object_new_object();
  json_object_object_add(oem, "RotStack", rs);
  json_object_object_add(o, "Oem", oem);
  return o;
}

void rf_get_fw_inventory(ha_agent_t *a, ha_req_t *r) {
  rot_mbox_inventory_t *inv = malloc(sizeof(*inv));
  if (inv == NULL) {
    ha_reply_error(r, 500, "InternalError", NULL, "out of memory");
    return;
  }
  if (!read_inventory(a, r, inv)) {
    free(inv);
    return;
  }
  json_object *o = resource("/redfish/v1/UpdateService/FirmwareInventory",
                            "#SoftwareInventoryCollection.SoftwareInventoryCollection",
                            NULL, "Firmware Inventory");
  json_object *m = json_object_new_array();
  int n = 0;
  for (uint32_t i = 0; i < inv->count; i++) {
    if (!is_image_region(&inv->entries[i])) {
      continue;
    }
    char path[128];
    snprintf(path, sizeof(path), "/redfish/v1/UpdateService/FirmwareInventory/%s",
             inv->entries[i].name);
    json_object_array_add(m, odata_link(path));
    n++;
  }
  free(inv);
  json_object_object_add(o, "Members@odata.count", json_object_new_int(n));
  json_object_object_add(o, "Members", m);
  ha_reply_json(r, 200, o);
}

void rf_get_fw_member(ha_agent_t *a, ha_req_t *r) {
  rot_mbox_inventory_t *inv = malloc(sizeof(*inv));
  if (inv == NULL) {
    ha_reply_error(r, 500, "InternalError", NULL, "out of memory");
    return;
  }
  if (!read_inventory(a, r, inv)) {
    free(inv);
    return;
  }
  const rot_mbox_inventory_entry_t *e = NULL;
  for (uint32_t i = 0; i < inv->count; i++) {
    if (is_image_region(&inv->entries[i]) && strcmp(inv->entries[i].name, r->id) == 0) {
      e = &inv->entries[i];
    }
  }
  if (e == NULL) {
    free(inv);
    ha_reply_error(r, 404, "ResourceNotFound", NULL,
                   "no firmware inventory member '%s'", r->id);
    return;
  }
  uint8_t sbuf[STATUS_BUF];
  size_t sn = 0;
  rot_mbox_status_t st;
  if (!ha_rot_query(a, r, ROT_MBOX_CMD_STATUS, sbuf, sizeof(sbuf), &sn)) {
    free(inv);
    return;
  }
  int have_st = rot_mbox_status_decode(sbuf, sn, &st) == ROT_OK;
  json_object *o = member_json(e, have_st ? &st : NULL);
  free(inv);
  ha_reply_json(r, 200, o);
}
