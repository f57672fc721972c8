/* Identity command handlers of the mailbox server (private to server.c). */
#ifndef ROT_SERVER_IDENTITY_H
#define ROT_SERVER_IDENTITY_H

#include "rot/server.h"

rot_error_t rot_server_h_identity(rot_server_t *s, const rot_peer_t *p,
                                  const uint8_t *req, uint32_t req_len,
                                  uint8_t *out, size_t cap, size_t *out_len);
rot_error_t rot_server_h_endorse(rot_server_t *s, const rot_peer_t *p,
                                 const uint8_t *req, uint32_t req_len,
                                 uint8_t *out, size_t cap, size_t *out_len);
rot_error_t rot_server_h_identity_csr(rot_server_t *s, const rot_peer_t *p,
                                      const uint8_t *req, uint32_t req_len,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len);
rot_error_t rot_server_h_identity_store(rot_server_t *s, const rot_peer_t *p,
                                        const uint8_t *req, uint32_t req_len,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len);

/**
 * Append an audit record when the server has a log; a refusal stands
 * whether or not it could be recorded (server.c).
 */
void rot_server_record(rot_server_t *s, uint32_t event, rot_error_t status,
                       uint32_t arg0, uint32_t arg1);

/** The image info of a verified image, as replies carry it (server.c). */
void rot_server_info_from_verified(const rot_verified_image_t *v,
                                   uint32_t region, uint32_t image_len,
                                   rot_mbox_image_info_t *out);

/**
 * BOOT for type rot: the ROM stage's verdict at this reset (which slot,
 * why, what it verified), as a BOOT reply. Decides nothing, locks nothing.
 */
rot_error_t rot_server_rom_verdict(rot_server_t *s, uint8_t *out, size_t cap,
                                   size_t *out_len);

/** The ROM stage's verdict into a STATUS reply (the rom_* fields). */
void rot_server_rom_status(const rot_server_t *s, rot_mbox_status_t *st);

/**
 * The recovery-only rule of the boot ROM stage: with no measured RoT
 * firmware (in any lifecycle but decommissioned), may this command run?
 * ROT_OK, or ROT_ERROR_BOOT_RECOVERY_ONLY.
 */
rot_error_t rot_server_recovery_check(const rot_server_t *s, uint16_t cmd,
                                      const uint8_t *req, uint32_t req_len);

#endif
