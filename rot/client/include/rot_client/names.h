/*
 * Names for the chip's codes: error names and reasons, image types,
 * lifecycle states, boot reasons, audit events, mailbox commands and flash
 * regions. Host tools print them; the chip carries only the codes, so
 * these live in the host library, never in the freestanding core.
 */
#ifndef ROT_CLIENT_NAMES_H
#define ROT_CLIENT_NAMES_H

#include <stdint.h>

#include "rot/error.h"
#include "rot/flash.h"

/** Short human-readable reason for a code ("unknown error" if not listed). */
const char *rot_error_str(rot_error_t err);

/** Symbolic name of a code, e.g. "ROT_ERROR_IMAGE_BAD_MAGIC". */
const char *rot_error_name(rot_error_t err);

/** Lower-case name of an image type ("opensbi"), or NULL. */
const char *rot_image_type_name(uint32_t image_type);

/** Type for a name, or 0 when unknown. */
uint32_t rot_image_type_from_name(const char *name);

/** Lower-case name of a lifecycle state. */
const char *rot_lifecycle_name(uint32_t lc);

/** Name of a boot reason (ROT_BOOT_*: "active", "trial", ...). */
const char *rot_boot_reason_name(uint32_t reason);

/** Short name of an audit event ("update-begin"). */
const char *rot_audit_event_name(uint32_t event);

/** Lower-case name of a mailbox command ("update-chunk"), or "unknown". */
const char *rot_mbox_command_name(uint32_t cmd);

/** Region id by name ("hypervisor-b"), or -1. */
int rot_flash_region_by_name(const rot_flash_layout_t *l, const char *name);

#endif /* ROT_CLIENT_NAMES_H */
