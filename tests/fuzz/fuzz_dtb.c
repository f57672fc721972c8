/*
 * libFuzzer target for the device-tree handoff: arbitrary blobs as the
 * base tree (fdt_check_full, then every edit the handoff makes) and as a
 * handoff to read the log location back from and to shrink the log of.
 *
 * Besides the sanitizers, the target traps when an invariant breaks: a
 * build that succeeds yields a packed tree that passes fdt_check_full,
 * fits the size bound, reads back the log location it was given and,
 * with its log shrunk in place, equals the build with the smaller log; a
 * failed build leaves no bytes behind; errors are only the documented ones.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "bootchain/handoff.h"
#include "fuzz.h"

static int documented(rot_error_t err) {
  return err == ROT_ERROR_HANDOFF_BAD_DTB || err == ROT_ERROR_HANDOFF_FDT ||
         err == ROT_ERROR_HANDOFF_NO_PLATFORM_BUS ||
         err == ROT_ERROR_HANDOFF_BAD_LOG_REGION;
}

static void one_build(const uint8_t *base, size_t size,
                      const bc_handoff_info_t *info) {
  size_t cap = bc_handoff_max_size(size, info);
  CHECK(cap > size);
  uint8_t *out = malloc(cap);
  CHECK(out != NULL);
  memset(out, 0x5a, cap);
  size_t out_len = 1;
  rot_error_t err = bc_handoff_build(base, size, info, out, cap, &out_len);
  if (err == ROT_OK) {
    CHECK(out_len > 0 && out_len <= cap);
    CHECK(fdt_check_full(out, out_len) == 0);
    CHECK(fdt_totalsize(out) == out_len);
    uint64_t addr = 0;
    uint32_t len = 0;
    CHECK(bc_handoff_log_location(out, out_len, &addr, &len) == ROT_OK);
    CHECK(addr == info->log_addr && len == info->log_size);
    /* Shrunk in place, it is the tree a build with the smaller log makes. */
    bc_handoff_info_t small = *info;
    small.log_size = info->log_size / 2u + 1u;
    uint8_t *fresh = malloc(cap);
    CHECK(fresh != NULL);
    size_t fresh_len = 0;
    CHECK(bc_handoff_build(base, size, &small, fresh, cap, &fresh_len) == ROT_OK);
    CHECK(bc_handoff_set_log_size(out, out_len, small.log_size) == ROT_OK);
    CHECK(fresh_len == out_len && memcmp(fresh, out, out_len) == 0);
    free(fresh);
  } else {
    CHECK(documented(err));
    CHECK(out_len == 0);
    for (size_t i = 0; i < cap; i++) {
      CHECK(out[i] == 0);
    }
  }
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* libfdt expects the tree 8-byte aligned, as a loaded file would be. */
  uint8_t *base = malloc(size > 0 ? size : 1);
  if (base == NULL) {
    return 0;
  }
  memcpy(base, data, size);

  static const char *const versions[] = {"opensbi 1.1", "u-boot 2023.01"};
  static const bc_handoff_str_t strs[] = {{"rot,lifecycle", "dev"}};
  static const bc_handoff_u64_t u64s[] = {{"rot,svn-floor", 7}};
  bc_handoff_info_t info;
  memset(&info, 0, sizeof(info));
  info.log_addr = BC_HANDOFF_LOG_ADDR;
  info.log_size = 69;
  info.boot_slot = "hypervisor-a";
  info.image_versions = versions;
  info.image_version_count = 2;
  info.chosen_strs = strs;
  info.chosen_str_count = 1;
  info.chosen_u64s = u64s;
  info.chosen_u64_count = 1;
  one_build(base, size, &info);

  /* A second placement taken from the input, so the RAM and overlap
   * checks see addresses other than the default. */
  if (size >= 8) {
    uint64_t a = 0;
    for (int i = 0; i < 8; i++) {
      a = (a << 8) | data[size - 8 + (size_t)i];
    }
    info.log_addr = a & ~(uint64_t)(BC_HANDOFF_PAGE - 1u) &
                    0x0000ffffffffffffull;
    info.log_size = (uint32_t)(a % BC_HANDOFF_LOG_MAX) + 1u;
    info.boot_slot = NULL;
    info.image_version_count = 0;
    one_build(base, size, &info);
  }

  /* The input itself as a handoff. */
  uint64_t addr;
  uint32_t len;
  rot_error_t err = bc_handoff_log_location(base, size, &addr, &len);
  CHECK(err == ROT_OK || err == ROT_ERROR_HANDOFF_BAD_DTB);
  if (err == ROT_OK) {
    CHECK(len > 0);
    /* Shrinking its log reads back as the new size, at the same place. */
    uint32_t want = len / 2u + 1u;
    CHECK(bc_handoff_set_log_size(base, size, want) == ROT_OK);
    uint64_t addr2;
    uint32_t len2;
    CHECK(bc_handoff_log_location(base, size, &addr2, &len2) == ROT_OK);
    CHECK(addr2 == addr && len2 == want);
  } else {
    /* Refused as the reader refuses it, and left untouched. */
    CHECK(bc_handoff_set_log_size(base, size, 1) == ROT_ERROR_HANDOFF_BAD_DTB);
    CHECK(memcmp(base, data, size) == 0);
  }
  free(base);
  return 0;
}
