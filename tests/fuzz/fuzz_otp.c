/*
 * libFuzzer target for the OTP fuse image as the chip reads it: the policy
 * decoder (root key hash, revoked keys, SVN floors, lifecycle), the
 * file-backed OTP the host port loads it from, and the fuse operations,
 * each of which decodes the field it is about to program (the UDS and its
 * marker included).
 *
 * Input: the first ROT_OTP_SIZE bytes are the fuse image (a shorter input
 * is padded with zeros, as blank fuses read); the bytes after it are up to
 * MAX_OPS operations of three bytes (op, a, b), applied in turn.
 *
 * The target traps when:
 *  - rot_otp_decode disagrees with the model of the layout below (which
 *    images it accepts, which error it gives, any field of the policy),
 *    returns a policy out of bounds, or leaves a refused policy non-zero;
 *  - rot_otp_policy over the RAM or the file port decodes another policy;
 *  - the file loader opens a file that is not exactly ROT_OTP_SIZE bytes;
 *  - an operation gives another verdict than its contract, clears a bit,
 *    touches a byte outside its field, or on success leaves the field
 *    decoding to anything but what was asked;
 *  - the same operations on the file port leave other bytes than on RAM.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ram_flash.h"
#include "rot/otp.h"
#include "rot_client/otp_provision.h"
#include "rot/policy.h"
#include "rot_host/file.h"
#include "fuzz.h"

#define MAX_OPS 16u
#define FLOOR_MAX (ROT_OTP_FLOOR_BYTES * 8u)

/* ---- the model: the fuse map as otp.h describes it -------------------- */

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static int zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) {
      return 0;
    }
  }
  return 1;
}

/* Thermometer: k bits set means exactly the lowest k bits, so the field is
 * the canonical encoding of its own bit count. */
static int model_thermo(const uint8_t *p, size_t len, uint32_t *count) {
  uint32_t n = 0;
  for (size_t i = 0; i < len; i++) {
    n += (uint32_t)__builtin_popcount(p[i]);
  }
  for (size_t i = 0; i < len; i++) {
    uint32_t left = n > 8u * i ? n - 8u * (uint32_t)i : 0u;
    uint8_t want = left >= 8u ? 0xffu : (uint8_t)((1u << left) - 1u);
    if (p[i] != want) {
      return 0;
    }
  }
  *count = n;
  return 1;
}

/* Lifecycle raw words 0, 1, 3, 7 are states 0..3; anything else is not. */
static int model_lifecycle(uint32_t raw, uint32_t *lc) {
  static const uint32_t kRaw[] = {0x0, 0x1, 0x3, 0x7};
  for (uint32_t i = 0; i < 4; i++) {
    if (raw == kRaw[i]) {
      *lc = i;
      return 1;
    }
  }
  return 0;
}

/*
 * What decoding raw must give. When an image is both unprovisioned (zero
 * root hash) and corrupt, either error is a correct answer: *alt holds
 * the second one (else it equals the return).
 */
static rot_error_t model_decode(const uint8_t *raw, rot_policy_t *p,
                                rot_error_t *alt) {
  memset(p, 0, sizeof(*p));
  *alt = ROT_OK;
  uint32_t magic = le32(raw + ROT_OTP_OFF_MAGIC);
  uint32_t version = raw[ROT_OTP_OFF_VERSION] | raw[ROT_OTP_OFF_VERSION + 1] << 8;
  if (magic != ROT_OTP_MAGIC || version != ROT_OTP_VERSION) {
    /* Some bits of the magic and version and nothing else: a provisioning
     * cut in its last burn. */
    int partial = (magic & ~(uint32_t)ROT_OTP_MAGIC) == 0 &&
                  (version & ~(uint32_t)ROT_OTP_VERSION) == 0;
    return *alt = partial ? ROT_ERROR_OTP_NOT_PROVISIONED
                          : ROT_ERROR_OTP_BAD_LAYOUT;
  }
  int corrupt = !model_lifecycle(le32(raw + ROT_OTP_OFF_LIFECYCLE),
                                 &p->lifecycle);
  if (!corrupt && p->lifecycle == ROT_LIFECYCLE_BLANK) {
    /* The magic over a blank lifecycle: no state provisioning leaves. */
    memset(p, 0, sizeof(*p));
    return *alt = ROT_ERROR_OTP_LIFECYCLE_BLANK;
  }
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    corrupt |= !model_thermo(raw + ROT_OTP_OFF_FLOORS + t * ROT_OTP_FLOOR_BYTES,
                             ROT_OTP_FLOOR_BYTES, &p->svn_floor[t]);
  }
  int blank = zero(raw + ROT_OTP_OFF_ROOT_HASH, ROT_SHA384_LEN);
  memcpy(p->root_key_hash, raw + ROT_OTP_OFF_ROOT_HASH, ROT_SHA384_LEN);
  p->revoked_keys = le32(raw + ROT_OTP_OFF_REVOKED);
  if (corrupt || blank) {
    memset(p, 0, sizeof(*p));
    *alt = blank ? ROT_ERROR_OTP_NOT_PROVISIONED : ROT_ERROR_OTP_CORRUPT;
    return corrupt ? ROT_ERROR_OTP_CORRUPT : ROT_ERROR_OTP_NOT_PROVISIONED;
  }
  return ROT_OK;
}

static int policy_eq(const rot_policy_t *a, const rot_policy_t *b) {
  if (memcmp(a->root_key_hash, b->root_key_hash, ROT_SHA384_LEN) != 0 ||
      a->revoked_keys != b->revoked_keys || a->lifecycle != b->lifecycle) {
    return 0;
  }
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    if (a->svn_floor[t] != b->svn_floor[t]) {
      return 0;
    }
  }
  return 1;
}

static int policy_zero(const rot_policy_t *p) {
  static const rot_policy_t z;
  return policy_eq(p, &z);
}

/* The decoder against the model, and the port readers against both. */
static void check_decode(const uint8_t raw[ROT_OTP_SIZE],
                         const rot_otp_port_t *port) {
  rot_policy_t want, got, via_port;
  rot_error_t alt;
  rot_error_t expect = model_decode(raw, &want, &alt);
  memset(&got, 0xa5, sizeof(got));
  rot_error_t err = rot_otp_decode(raw, &got);
  CHECK(err == expect || err == alt);
  if (err == ROT_OK) {
    CHECK(policy_eq(&got, &want));
    CHECK(got.lifecycle >= ROT_LIFECYCLE_DEV &&
          got.lifecycle <= ROT_LIFECYCLE_DECOMMISSIONED);
    CHECK(!zero(got.root_key_hash, ROT_SHA384_LEN));
    for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
      CHECK(got.svn_floor[t] <= FLOOR_MAX && got.svn_floor[t] <= ROT_SVN_MAX);
    }
  } else {
    CHECK(policy_zero(&got)); /* nothing half-decoded to act on */
  }
  if (port != NULL) {
    memset(&via_port, 0x5a, sizeof(via_port));
    CHECK(rot_otp_policy(port, &via_port) == err);
    CHECK(policy_eq(&via_port, &got));
  }
}

/* ---- the operations ------------------------------------------------------- */

typedef struct span {
  uint32_t off, len;
} span_t;

static void fill(uint8_t *out, size_t n, uint8_t a, uint8_t b) {
  for (size_t i = 0; i < n; i++) {
    out[i] = (uint8_t)(a + b * i) ^ (uint8_t)(i * 0x3bu);
  }
}

/*
 * Apply one operation to port; check its verdict and effect against the
 * image before (old) and after (now, read back by the caller's reader).
 */
static void apply(const rot_otp_port_t *port, const uint8_t *op,
                  const uint8_t old[ROT_OTP_SIZE],
                  uint8_t now[ROT_OTP_SIZE]) {
  uint8_t a = op[1], b = op[2];
  rot_error_t err;
  span_t field;
  uint8_t secret[ROT_SHA384_LEN];
  uint32_t before;
  switch (op[0] % 5u) {
    case 0: { /* revoke a key index, some out of range */
      uint32_t k = a % 40u;
      field = (span_t){ROT_OTP_OFF_REVOKED, 4};
      err = rot_otp_revoke_key(port, k);
      CHECK(port->read(port, 0, now, ROT_OTP_SIZE) == ROT_OK);
      if (k >= ROT_MAX_KEY_INDEX) {
        CHECK(err == ROT_ERROR_INVALID_ARGUMENT);
      } else {
        CHECK(err == ROT_OK);
        CHECK(le32(now + ROT_OTP_OFF_REVOKED) ==
              (le32(old + ROT_OTP_OFF_REVOKED) | 1u << k));
      }
      break;
    }
    case 1: { /* raise a floor: types 0..9, SVNs 0..511 */
      uint32_t t = a % 10u;
      uint32_t svn = b | (uint32_t)(op[0] & 0x80u) << 1;
      field = (span_t){ROT_OTP_OFF_FLOORS + (t % ROT_IMAGE_TYPE_SLOTS) *
                                               ROT_OTP_FLOOR_BYTES,
                       ROT_OTP_FLOOR_BYTES};
      err = rot_otp_raise_floor(port, t, svn);
      CHECK(port->read(port, 0, now, ROT_OTP_SIZE) == ROT_OK);
      int valid = model_thermo(old + field.off, field.len, &before);
      uint32_t after;
      if (t >= ROT_IMAGE_TYPE_SLOTS || svn > FLOOR_MAX) {
        CHECK(err == ROT_ERROR_INVALID_ARGUMENT ||
              err == ROT_ERROR_OTP_COUNTER_EXHAUSTED);
        CHECK(t < ROT_IMAGE_TYPE_SLOTS || err == ROT_ERROR_INVALID_ARGUMENT);
      } else if (!valid) {
        CHECK(err == ROT_ERROR_OTP_CORRUPT);
      } else {
        CHECK(err == ROT_OK);
        CHECK(model_thermo(now + field.off, field.len, &after));
        CHECK(after == (svn > before ? svn : before)); /* never lowers */
      }
      break;
    }
    case 2: { /* advance the lifecycle, state 4 out of range */
      uint32_t lc = a % 5u;
      field = (span_t){ROT_OTP_OFF_LIFECYCLE, 4};
      err = rot_otp_set_lifecycle(port, lc);
      CHECK(port->read(port, 0, now, ROT_OTP_SIZE) == ROT_OK);
      if (lc > ROT_LIFECYCLE_DECOMMISSIONED) {
        CHECK(err == ROT_ERROR_INVALID_ARGUMENT);
      } else if (!model_lifecycle(le32(old + field.off), &before)) {
        CHECK(err == ROT_ERROR_OTP_CORRUPT);
      } else if (lc < before) {
        CHECK(err == ROT_ERROR_OTP_ALREADY_SET); /* only forward */
      } else {
        uint32_t after;
        CHECK(err == ROT_OK);
        CHECK(model_lifecycle(le32(now + field.off), &after) && after == lc);
      }
      break;
    }
    case 3: { /* the UDS: once, secret then marker */
      field = (span_t){ROT_OTP_OFF_UDS, ROT_OTP_UDS_LEN + 4};
      if (a == 0 && b == 0) {
        memset(secret, 0, sizeof(secret));
      } else {
        fill(secret, ROT_OTP_UDS_LEN, a, b);
        secret[0] |= 1u;
      }
      err = rot_otp_write_uds(port, secret);
      CHECK(port->read(port, 0, now, ROT_OTP_SIZE) == ROT_OK);
      /* A burn a cut interrupted (only bits of this very secret, no
       * complete marker) is completed; anything else is refused. */
      int resumable = 1;
      for (uint32_t k = 0; k < ROT_OTP_UDS_LEN; k++) {
        resumable &= (old[ROT_OTP_OFF_UDS + k] & (uint8_t)~secret[k]) == 0;
      }
      uint32_t mark = le32(old + ROT_OTP_OFF_UDS_WRITTEN);
      resumable &= (mark & ~ROT_OTP_UDS_WRITTEN) == 0 &&
                   mark != ROT_OTP_UDS_WRITTEN;
      if (zero(secret, ROT_OTP_UDS_LEN)) {
        CHECK(err == ROT_ERROR_INVALID_ARGUMENT);
      } else if (!resumable) {
        CHECK(err == ROT_ERROR_OTP_ALREADY_SET);
      } else {
        CHECK(err == ROT_OK);
        CHECK(memcmp(now + ROT_OTP_OFF_UDS, secret, ROT_OTP_UDS_LEN) == 0);
        CHECK(le32(now + ROT_OTP_OFF_UDS_WRITTEN) == ROT_OTP_UDS_WRITTEN);
      }
      break;
    }
    default: { /* provision a blank device */
      field = (span_t){0, ROT_OTP_OFF_REVOKED};
      if (a == 0 && b == 0) {
        memset(secret, 0, sizeof(secret));
      } else {
        fill(secret, ROT_SHA384_LEN, a, b);
        secret[0] |= 1u;
      }
      err = rot_otp_provision(port, secret);
      CHECK(port->read(port, 0, now, ROT_OTP_SIZE) == ROT_OK);
      /* A provisioning a cut interrupted (only bits of this very one,
       * magic not complete) is completed; anything else is refused. */
      uint8_t want[ROT_OTP_OFF_REVOKED];
      memset(want, 0, sizeof(want));
      want[ROT_OTP_OFF_MAGIC] = (uint8_t)ROT_OTP_MAGIC;
      want[ROT_OTP_OFF_MAGIC + 1] = (uint8_t)(ROT_OTP_MAGIC >> 8);
      want[ROT_OTP_OFF_MAGIC + 2] = (uint8_t)(ROT_OTP_MAGIC >> 16);
      want[ROT_OTP_OFF_MAGIC + 3] = (uint8_t)(ROT_OTP_MAGIC >> 24);
      want[ROT_OTP_OFF_VERSION] = (uint8_t)ROT_OTP_VERSION;
      want[ROT_OTP_OFF_VERSION + 1] = (uint8_t)(ROT_OTP_VERSION >> 8);
      want[ROT_OTP_OFF_LIFECYCLE] = (uint8_t)ROT_OTP_LC_RAW_DEV;
      memcpy(want + ROT_OTP_OFF_ROOT_HASH, secret, ROT_SHA384_LEN);
      int resumable = memcmp(old, want, 8) != 0;
      for (uint32_t k = 0; k < sizeof(want); k++) {
        resumable &= (old[k] & (uint8_t)~want[k]) == 0;
      }
      if (zero(secret, ROT_SHA384_LEN)) {
        CHECK(err == ROT_ERROR_INVALID_ARGUMENT);
      } else if (!resumable) {
        CHECK(err == ROT_ERROR_OTP_ALREADY_SET);
      } else {
        rot_policy_t p;
        CHECK(err == ROT_OK);
        rot_error_t d = rot_otp_decode(now, &p);
        /* Floors burnt before provisioning may still be corrupt. */
        CHECK(d == ROT_OK || d == ROT_ERROR_OTP_CORRUPT);
        if (d == ROT_OK) {
          CHECK(memcmp(p.root_key_hash, secret, ROT_SHA384_LEN) == 0);
          CHECK(p.lifecycle == ROT_LIFECYCLE_DEV);
        }
      }
      break;
    }
  }
  /* Fuses only blow, only in the field named, and a refusal blows none. */
  for (uint32_t i = 0; i < ROT_OTP_SIZE; i++) {
    CHECK((now[i] & old[i]) == old[i]);
    if (err != ROT_OK || i < field.off || i - field.off >= field.len) {
      CHECK(now[i] == old[i]);
    }
  }
}

/* ---- the file port, on a memory file ------------------------------------ */

static int g_fd = -1;
static char g_path[64];

/* Make the OTP file hold exactly data[0, n). */
static void file_set(const uint8_t *data, size_t n) {
  if (g_fd < 0) {
    g_fd = memfd_create("fuzz-otp", MFD_CLOEXEC);
    CHECK(g_fd >= 0);
    /* A memory file starts 0777; the OTP loader refuses what group or
     * others can reach, as it must for the device secret. */
    CHECK(fchmod(g_fd, 0600) == 0);
    (void)snprintf(g_path, sizeof(g_path), "/proc/self/fd/%d", g_fd);
  }
  CHECK(ftruncate(g_fd, 0) == 0);
  CHECK(n == 0 || pwrite(g_fd, data, n, 0) == (ssize_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t raw[ROT_OTP_SIZE];
  memset(raw, 0, sizeof(raw));
  memcpy(raw, data, size < ROT_OTP_SIZE ? size : ROT_OTP_SIZE);

  /* The thermometer decoder on its own, over any length. */
  uint32_t n_model = 0, n_real = 0;
  int valid = model_thermo(data, size, &n_model);
  rot_error_t terr = rot_otp_thermo_decode(data, size, &n_real);
  CHECK(terr == (valid ? ROT_OK : ROT_ERROR_OTP_CORRUPT));
  CHECK(!valid || n_real == n_model);

  /* The file loader takes exactly ROT_OTP_SIZE bytes, nothing else. */
  rot_otp_file_t file;
  if (size != ROT_OTP_SIZE) {
    file_set(data, size);
    CHECK(rot_otp_file_open(&file, g_path, 0) == ROT_ERROR_OTP_BAD_LAYOUT);
  }
  file_set(raw, sizeof(raw));
  CHECK(rot_otp_file_open(&file, g_path, 0) == ROT_OK);

  ram_otp_t ram;
  ram_otp_init(&ram);
  memcpy(ram.mem, raw, sizeof(raw));
  check_decode(raw, &ram.port);
  check_decode(raw, &file.port);

  /* The operations, on RAM (checked) and on the file (compared). */
  const uint8_t *ops = data + ROT_OTP_SIZE;
  size_t n_ops = size > ROT_OTP_SIZE ? (size - ROT_OTP_SIZE) / 3u : 0u;
  if (n_ops > MAX_OPS) {
    n_ops = MAX_OPS;
  }
  static uint8_t old[ROT_OTP_SIZE], now[ROT_OTP_SIZE], on_file[ROT_OTP_SIZE];
  for (size_t i = 0; i < n_ops; i++) {
    const uint8_t *op = ops + 3u * i;
    memcpy(old, ram.mem, sizeof(old));
    apply(&ram.port, op, old, now);
    CHECK(memcmp(now, ram.mem, sizeof(now)) == 0);
    check_decode(now, &ram.port);
    /* The file port gets the same call; its bytes must follow. */
    uint8_t file_now[ROT_OTP_SIZE];
    apply(&file.port, op, old, file_now);
    CHECK(file.port.read(&file.port, 0, on_file, ROT_OTP_SIZE) == ROT_OK);
    CHECK(memcmp(on_file, ram.mem, ROT_OTP_SIZE) == 0);
  }
  rot_otp_file_close(&file);
  return 0;
}
