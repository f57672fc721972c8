/*
 * libFuzzer target for the chip's command layer (rot_server_handle): a
 * sequence of frames from peers of every role against a device with a
 * confirmed image in hypervisor-a and a staged one in hypervisor-b, and
 * confirmed RoT firmware in rot-a (without it the chip would serve
 * recovery commands only).
 *
 * Input: records of [peer byte][u16 LE length][frame bytes]. The peer
 * byte's low two bits pick the role (reader, operator, boot path, none),
 * bit 2 the connection (1 or 2); bit 3 lets time pass before the frame.
 *
 * After every frame the model checks:
 *   - a reply frame always comes back, well formed, for the command and
 *     sequence number the request carried (0 when unreadable);
 *   - a refused request changed neither the flash (the audit log aside)
 *     nor the OTP;
 *   - a peer without the operator role never changed an image region;
 *   - an image region only changes while an update session is open on it;
 *   - the OTP only ever gains bits, and no floor passes the highest SVN
 *     of an image that was ever signed for the device.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ram_flash.h"
#include "rot/server.h"
#include "rot/util.h"
#include "rot_client/image_sign.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_client/mbox_replies.h"
#include "rot_client/otp_provision.h"
#include "fuzz.h"

#define HV ROT_IMAGE_TYPE_HYPERVISOR
#define MAX_SVN 2u

static const rot_flash_layout_t *const kLayout = &ram_layout_small;

static struct {
  int ready;
  const rot_crypto_t *crypto;
  ram_flash_t flash;
  ram_otp_t otp;
  uint8_t *flash0; /* the prepared device */
  uint8_t otp0[ROT_OTP_SIZE];
  uint8_t *before;
  uint8_t otp_before[ROT_OTP_SIZE];
  rot_gate_t gate;
  rot_audit_t audit;
  rot_update_t up;
  rot_server_t server;
  uint8_t scratch[64 * 1024];
  uint8_t reply[ROT_MBOX_MAX_FRAME];
  uint64_t clock;
} g;

/* The device right after its first reset: flash, OTP and every layer's
 * state. Each input starts from a copy, so the reset (and the ROM stage's
 * key derivation, by far its costliest part) runs once, not per input;
 * every pointer in these structs points into g, so the copies are whole. */
static struct {
  uint8_t *flash;
  uint8_t otp[ROT_OTP_SIZE];
  rot_gate_t gate;
  rot_audit_t audit;
  rot_update_t up;
  rot_server_t server;
} booted;

static uint64_t now(void) { return g.clock; }

static void boot_device(void) {
  CHECK(rot_gate_init(&g.gate, &g.flash.port, kLayout, rot_audit_gate_hook,
                      &g.audit) == ROT_OK);
  CHECK(rot_audit_init(&g.audit, &g.gate, g.crypto, now) == ROT_OK);
  CHECK(rot_update_init(&g.up, &g.gate, &g.otp.port, g.crypto, &g.audit, now,
                        g.scratch, sizeof(g.scratch)) == ROT_OK);
  CHECK(rot_server_init(&g.server, &g.gate, &g.up, &g.audit, &g.otp.port,
                        g.crypto, 30) == ROT_OK);
}

static void send_image(uint32_t type, const uint8_t *img, size_t len) {
  CHECK(rot_update_begin(&g.up, type, (uint32_t)len) == ROT_OK);
  CHECK(rot_update_chunk(&g.up, 0, img, (uint32_t)len) == ROT_OK);
  rot_verified_image_t v;
  CHECK(rot_update_finish(&g.up, &v) == ROT_OK);
}

/* Keys, a provisioned OTP, v1 confirmed in A and v2 staged in B. */
static void prepare(void) {
  g.crypto = rot_host_crypto();
  CHECK(g.crypto != NULL);
  ram_flash_init(&g.flash, kLayout);
  ram_otp_init(&g.otp);
  uint8_t root_priv[ROT_P384_SCALAR_LEN], root_pub[ROT_P384_PUBKEY_LEN];
  rot_manifest_entry_t e;
  memset(&e, 0, sizeof(e));
  uint8_t signer_priv[ROT_P384_SCALAR_LEN];
  CHECK(rot_host_p384_keygen(root_priv, root_pub) == ROT_OK);
  CHECK(rot_host_p384_keygen(signer_priv, e.pub) == ROT_OK);
  e.allowed_types = 1u << HV | 1u << ROT_IMAGE_TYPE_ROT;
  uint8_t manifest[ROT_MANIFEST_MAX_SIZE];
  size_t mlen = 0;
  CHECK(rot_manifest_build(g.crypto, root_priv, &e, 1, manifest,
                           sizeof(manifest), &mlen) == ROT_OK);
  uint8_t root_hash[ROT_SHA384_LEN];
  CHECK(rot_hash(g.crypto, ROT_HASH_SHA384, root_pub, sizeof(root_pub),
                 root_hash, sizeof(root_hash)) == ROT_OK);
  CHECK(rot_otp_provision(&g.otp.port, root_hash) == ROT_OK);
  uint8_t uds[ROT_OTP_UDS_LEN];
  memset(uds, 0x42, sizeof(uds));
  CHECK(rot_otp_write_uds(&g.otp.port, uds) == ROT_OK);
  boot_device();
  static uint8_t img[4096];
  uint8_t payload[600];
  /* svn 0: the RoT firmware (svn 1); then the hypervisor's svn 1, 2. */
  for (uint32_t svn = 0; svn <= MAX_SVN; svn++) {
    uint32_t type = svn == 0 ? ROT_IMAGE_TYPE_ROT : HV;
    rot_image_header_t h;
    memset(&h, 0, sizeof(h));
    h.image_type = type;
    h.svn = svn == 0 ? 1u : svn;
    h.ver_major = (uint16_t)h.svn;
    h.load_addr = rot_image_region(type)->base;
    h.entry_point = h.load_addr;
    memset(payload, (int)svn, sizeof(payload));
    size_t len = 0;
    CHECK(rot_image_sign(g.crypto, &h, manifest, mlen, signer_priv, payload,
                         sizeof(payload), img, sizeof(img), &len) == ROT_OK);
    send_image(type, img, len);
    if (svn <= 1) {
      rot_verified_image_t v;
      rot_boot_decision_t d;
      CHECK(rot_update_activate(&g.up, type) == ROT_OK);
      CHECK(rot_boot_decide(&g.up, type, &d) == ROT_OK);
      CHECK(rot_update_confirm(&g.up, type, &v) == ROT_OK);
    }
  }
  g.flash0 = malloc(kLayout->flash_size);
  g.before = malloc(kLayout->flash_size);
  CHECK(g.flash0 != NULL && g.before != NULL);
  memcpy(g.flash0, g.flash.mem, kLayout->flash_size);
  memcpy(g.otp0, g.otp.mem, ROT_OTP_SIZE);
  g.ready = 1;
}

static int region_changed(uint32_t r) {
  const rot_flash_region_t *reg = &kLayout->regions[r];
  return memcmp(g.before + reg->off, g.flash.mem + reg->off, reg->size) != 0;
}

static void check_effects(const rot_peer_t *peer, rot_error_t status,
                          uint32_t session_before) {
  uint32_t session_after = g.up.session.open == HARDENED_TRUE
                               ? g.up.session.region
                               : ROT_RGN_COUNT;
  for (uint32_t r = 0; r < ROT_RGN_COUNT; r++) {
    if (r == ROT_RGN_AUDIT || !region_changed(r)) {
      continue;
    }
    CHECK(status == ROT_OK); /* a refusal leaves no trace */
    if (rot_flash_region_is_image(&kLayout->regions[r])) {
      CHECK((peer->roles & ROT_ROLE_OPERATOR) != 0);
      CHECK(r == session_before || r == session_after);
    }
  }
  if (status != ROT_OK) {
    CHECK(memcmp(g.otp_before, g.otp.mem, ROT_OTP_SIZE) == 0);
  }
  for (uint32_t i = 0; i < ROT_OTP_SIZE; i++) {
    CHECK((g.otp.mem[i] & g.otp_before[i]) == g.otp_before[i]);
  }
  rot_policy_t pol;
  CHECK(rot_otp_policy(&g.otp.port, &pol) == ROT_OK);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    CHECK(pol.svn_floor[t] <= MAX_SVN);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g.ready) {
    prepare();
  }
  if (booted.flash == NULL) {
    memcpy(g.flash.mem, g.flash0, kLayout->flash_size);
    memcpy(g.otp.mem, g.otp0, ROT_OTP_SIZE);
    g.clock = 1000;
    boot_device();
    booted.flash = malloc(kLayout->flash_size);
    CHECK(booted.flash != NULL);
    memcpy(booted.flash, g.flash.mem, kLayout->flash_size);
    memcpy(booted.otp, g.otp.mem, ROT_OTP_SIZE);
    booted.gate = g.gate;
    booted.audit = g.audit;
    booted.up = g.up;
    booted.server = g.server;
  }
  memcpy(g.flash.mem, booted.flash, kLayout->flash_size);
  memcpy(g.otp.mem, booted.otp, ROT_OTP_SIZE);
  g.clock = 1000;
  g.gate = booted.gate;
  g.audit = booted.audit;
  g.up = booted.up;
  g.server = booted.server;
  size_t pos = 0;
  for (int frames = 0; frames < 64 && size - pos >= 3; frames++) {
    uint8_t sel = data[pos];
    size_t len = (size_t)data[pos + 1] | ((size_t)data[pos + 2] << 8);
    pos += 3;
    if (len > size - pos) {
      len = size - pos;
    }
    static const uint32_t kRoles[4] = {ROT_ROLE_READER,
                                       ROT_ROLE_READER | ROT_ROLE_OPERATOR,
                                       ROT_ROLE_READER | ROT_ROLE_BOOT, 0};
    rot_peer_t peer = {1u + ((sel >> 2) & 1u), 1000u + (sel & 3u), 1,
                       kRoles[sel & 3u]};
    if (sel & 8u) {
      g.clock += 31;
      (void)rot_server_tick(&g.server);
    }
    memcpy(g.before, g.flash.mem, kLayout->flash_size);
    memcpy(g.otp_before, g.otp.mem, ROT_OTP_SIZE);
    uint32_t session_before = g.up.session.open == HARDENED_TRUE
                                  ? g.up.session.region
                                  : ROT_RGN_COUNT;
    uint16_t cmd = 0;
    uint32_t seq = 0;
    rot_mbox_peek(data + pos, len, &cmd, &seq);
    size_t n = rot_server_handle(&g.server, &peer, data + pos, len, g.reply,
                                 sizeof(g.reply));
    CHECK(n >= ROT_MBOX_HEADER_SIZE);
    rot_mbox_header_t h;
    const uint8_t *payload = NULL;
    CHECK(rot_mbox_frame_decode(g.reply, n, &h, &payload) == ROT_OK);
    CHECK(rot_mbox_reply_check(&h, cmd, seq) == ROT_OK);
    check_effects(&peer, (rot_error_t)h.status, session_before);
    pos += len;
    if (sel & 16u) {
      rot_server_disconnect(&g.server, peer.conn);
    }
  }
  return 0;
}
