/*
 * Shared fixture for the update engine suites: the real gate and update
 * engine over an in-memory NOR flash and OTP (provisioned, device secret
 * fused), real crypto, a fake clock, and helpers that sign and send images.
 */
#ifndef TEST_UPDATE_FIXTURE_H
#define TEST_UPDATE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "ram_flash.h"
#include "rot/update.h"

#define HV ROT_IMAGE_TYPE_HYPERVISOR
#define PAYLOAD_LEN 1500u
#define CHUNK 700u

typedef struct fixture {
  ram_flash_t flash;
  ram_otp_t otp;
  int otp_drop; /* when set, OTP programs silently do nothing */
  rot_otp_port_t otp_port;
  rot_gate_t gate;
  rot_update_t up;
  uint8_t scratch[64 * 1024];
} fixture_t;

/* The fake clock every fixture's engine reads (seconds). */
extern uint64_t g_now;

/** A chip reset: gate and engine start again over the same flash and OTP. */
void reboot(fixture_t *f);
/** cmocka setup/teardown: a provisioned device with blank flash. */
int setup(void **state);
int teardown(void **state);
/** A signed image of type with svn (caller frees). */
uint8_t *make_image(uint32_t type, uint32_t svn, size_t *len);
/** BEGIN, every CHUNK, FINISH. */
rot_error_t send_image(fixture_t *f, uint32_t type, const uint8_t *img,
                       size_t len);
/** Stage, activate, trial-boot, confirm an image of type and svn. */
void install_type(fixture_t *f, uint32_t type, uint32_t svn);
/** The same for a hypervisor image. */
void install(fixture_t *f, uint32_t svn);
/** The OTP floor of a type. */
uint32_t floor_of(fixture_t *f, uint32_t type);

#endif
