/* Shared fixture for the update engine suites (see update_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_keys.h"
#include "update_fixture.h"
#include "rot_client/otp_provision.h"

uint64_t g_now;
static uint64_t fake_now(void) { return g_now; }

static rot_error_t otp_read_(const rot_otp_port_t *p, uint32_t off, void *buf,
                             uint32_t len) {
  fixture_t *f = p->state;
  return f->otp.port.read(&f->otp.port, off, buf, len);
}

static rot_error_t otp_program_(const rot_otp_port_t *p, uint32_t off,
                                const void *buf, uint32_t len) {
  fixture_t *f = p->state;
  if (f->otp_drop) {
    return ROT_OK; /* a fuse that does not blow: caught by read-back */
  }
  return f->otp.port.program(&f->otp.port, off, buf, len);
}

void reboot(fixture_t *f) {
  assert_int_equal(rot_gate_init(&f->gate, &f->flash.port, &ram_layout_small,
                                 NULL, NULL),
                   ROT_OK);
  assert_int_equal(rot_update_init(&f->up, &f->gate, &f->otp_port, test_crypto(),
                                   NULL, fake_now, f->scratch, sizeof(f->scratch)),
                   ROT_OK);
}

int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  ram_flash_init(&f->flash, &ram_layout_small);
  ram_otp_init(&f->otp);
  f->otp_port.read = otp_read_;
  f->otp_port.program = otp_program_;
  f->otp_port.state = f;
  assert_int_equal(rot_otp_provision(&f->otp.port, test_keys()->policy.root_key_hash),
                   ROT_OK);
  uint8_t uds[ROT_OTP_UDS_LEN];
  memset(uds, 0x3c, sizeof(uds));
  assert_int_equal(rot_otp_write_uds(&f->otp.port, uds), ROT_OK);
  g_now = 1000;
  reboot(f);
  *state = f;
  return 0;
}

int teardown(void **state) {
  fixture_t *f = *state;
  ram_flash_free(&f->flash);
  free(f);
  return 0;
}

uint8_t *make_image(uint32_t type, uint32_t svn, size_t *len) {
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(type);
  h.svn = svn;
  h.ver_major = (uint16_t)svn;
  uint8_t *payload = test_payload(PAYLOAD_LEN + svn);
  uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len, k->signer.priv,
                                 payload, PAYLOAD_LEN + svn, len);
  free(payload);
  return img;
}

rot_error_t send_image(fixture_t *f, uint32_t type, const uint8_t *img,
                              size_t len) {
  ROT_TRY(rot_update_begin(&f->up, type, (uint32_t)len));
  for (size_t off = 0; off < len; off += CHUNK) {
    size_t n = len - off < CHUNK ? len - off : CHUNK;
    ROT_TRY(rot_update_chunk(&f->up, (uint32_t)off, img + off, (uint32_t)n));
  }
  rot_verified_image_t v;
  return rot_update_finish(&f->up, &v);
}

/* Stage, activate, trial boot, confirm: the image becomes the confirmed one. */
void install_type(fixture_t *f, uint32_t type, uint32_t svn) {
  size_t len;
  uint8_t *img = make_image(type, svn, &len);
  assert_int_equal(send_image(f, type, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, type), ROT_OK);
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, type, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_TRIAL);
  rot_verified_image_t v;
  assert_int_equal(rot_update_confirm(&f->up, type, &v), ROT_OK);
  assert_int_equal(v.svn, svn);
  free(img);
}

void install(fixture_t *f, uint32_t svn) { install_type(f, HV, svn); }

uint32_t floor_of(fixture_t *f, uint32_t type) {
  rot_policy_t p;
  assert_int_equal(rot_otp_policy(&f->otp.port, &p), ROT_OK);
  return p.svn_floor[type];
}

