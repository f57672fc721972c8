/*
 * Device-tree handoff: what the nodes carry, how hostile base trees and
 * bad requests are refused, and that the output is packed, valid and
 * deterministic. Base trees are built here with libfdt's sequential-write
 * API in the shape of QEMU's virt tree; the real build-time dump is used
 * too when the test runs from the test runner (ROT_BUILD set).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "bootchain/handoff.h"

#define OUT_CAP 65536u
#define LOG_ADDR BC_HANDOFF_LOG_ADDR

/* ---- base tree builder ------------------------------------------------- */

typedef struct base_opts {
  uint32_t root_ac;    /* #address-cells at the root */
  uint32_t root_sc;
  int no_memory;
  int no_bus;
  int no_chosen;
  int bus_has_tpm;     /* platform bus already has tpm@0 */
  int resv;            /* add /reserved-memory */
  int resv_ranges;     /* ... with a translating ranges */
  uint64_t resv_child; /* ... with a child at this address (0: none) */
  uint64_t memrsv;     /* a /memreserve/ entry at this address (0: none) */
  int version16;       /* write a version 16 header */
} base_opts_t;

static void put_cells(uint8_t *p, uint32_t cells, uint64_t v) {
  for (int i = (int)cells - 1; i >= 0; i--) {
    fdt32_t be = cpu_to_fdt32((uint32_t)v);
    memcpy(p + 4 * i, &be, 4);
    v >>= 32;
  }
}

static size_t make_base(const base_opts_t *o, uint8_t *buf, size_t cap) {
  uint32_t ac = o->root_ac ? o->root_ac : 2;
  uint32_t sc = o->root_sc ? o->root_sc : 2;
  uint8_t reg[32];
  assert_int_equal(fdt_create(buf, (int)cap), 0);
  if (o->memrsv != 0) {
    assert_int_equal(fdt_add_reservemap_entry(buf, o->memrsv, 0x1000), 0);
  }
  assert_int_equal(fdt_finish_reservemap(buf), 0);
  assert_int_equal(fdt_begin_node(buf, ""), 0);
  assert_int_equal(fdt_property_u32(buf, "#address-cells", ac), 0);
  assert_int_equal(fdt_property_u32(buf, "#size-cells", sc), 0);
  assert_int_equal(fdt_property_string(buf, "compatible", "riscv-virtio"), 0);

  if (!o->no_chosen) {
    static const uint8_t seed[32] = {1, 2, 3, 4};
    assert_int_equal(fdt_begin_node(buf, "chosen"), 0);
    assert_int_equal(fdt_property(buf, "rng-seed", seed, sizeof(seed)), 0);
    assert_int_equal(
        fdt_property_string(buf, "stdout-path", "/soc/serial@10000000"), 0);
    assert_int_equal(fdt_end_node(buf), 0);
  }
  if (!o->no_bus) {
    static const char compat[] = "qemu,platform\0simple-bus";
    uint32_t ranges[4] = {0, 0, cpu_to_fdt32(0x4000000),
                          cpu_to_fdt32(0x2000000)};
    assert_int_equal(fdt_begin_node(buf, "platform-bus@4000000"), 0);
    assert_int_equal(fdt_property_u32(buf, "#address-cells", 1), 0);
    assert_int_equal(fdt_property_u32(buf, "#size-cells", 1), 0);
    assert_int_equal(fdt_property(buf, "ranges", ranges, sizeof(ranges)), 0);
    assert_int_equal(fdt_property(buf, "compatible", compat, sizeof(compat)),
                     0);
    if (o->bus_has_tpm) {
      assert_int_equal(fdt_begin_node(buf, "tpm@0"), 0);
      assert_int_equal(fdt_end_node(buf), 0);
    }
    assert_int_equal(fdt_end_node(buf), 0);
  }
  if (!o->no_memory) {
    put_cells(reg, ac, 0x80000000u);
    put_cells(reg + 4 * ac, sc, 0x10000000u);
    assert_int_equal(fdt_begin_node(buf, "memory@80000000"), 0);
    assert_int_equal(fdt_property_string(buf, "device_type", "memory"), 0);
    assert_int_equal(fdt_property(buf, "reg", reg, 4 * (ac + sc)), 0);
    assert_int_equal(fdt_end_node(buf), 0);
  }
  if (o->resv) {
    assert_int_equal(fdt_begin_node(buf, "reserved-memory"), 0);
    assert_int_equal(fdt_property_u32(buf, "#address-cells", ac), 0);
    assert_int_equal(fdt_property_u32(buf, "#size-cells", sc), 0);
    if (o->resv_ranges) {
      uint32_t r[6] = {0, 0, 0, cpu_to_fdt32(0x80000000u), 0,
                       cpu_to_fdt32(0x1000000)};
      assert_int_equal(fdt_property(buf, "ranges", r, sizeof(r)), 0);
    } else {
      assert_int_equal(fdt_property(buf, "ranges", NULL, 0), 0);
    }
    if (o->resv_child != 0) {
      put_cells(reg, ac, o->resv_child);
      put_cells(reg + 4 * ac, sc, 0x10000);
      assert_int_equal(fdt_begin_node(buf, "mmode_resv0@80000000"), 0);
      assert_int_equal(fdt_property(buf, "reg", reg, 4 * (ac + sc)), 0);
      assert_int_equal(fdt_end_node(buf), 0);
    }
    assert_int_equal(fdt_end_node(buf), 0);
  }
  assert_int_equal(fdt_end_node(buf), 0);
  assert_int_equal(fdt_finish(buf), 0);
  if (o->version16) {
    fdt_set_version(buf, 16);
  }
  return fdt_totalsize(buf);
}

/* ---- fixture -------------------------------------------------------------- */

static const char *const versions[] = {"opensbi 1.1", "u-boot 2023.01"};
static const bc_handoff_str_t strs[] = {{"rot,lifecycle", "dev"}};
static const bc_handoff_u64_t u64s[] = {{"rot,svn-floor", 0x0000000100000002ull}};

static bc_handoff_info_t good_info(void) {
  bc_handoff_info_t i;
  memset(&i, 0, sizeof(i));
  i.log_addr = LOG_ADDR;
  i.log_size = 100;
  i.boot_slot = "hypervisor-a";
  i.image_versions = versions;
  i.image_version_count = 2;
  i.chosen_strs = strs;
  i.chosen_str_count = 1;
  i.chosen_u64s = u64s;
  i.chosen_u64_count = 1;
  return i;
}

typedef struct bufs {
  uint8_t base[8192];
  size_t base_len;
  uint8_t out[OUT_CAP];
  size_t out_len;
} bufs_t;

static bufs_t *new_bufs(const base_opts_t *o) {
  bufs_t *b = calloc(1, sizeof(*b));
  assert_non_null(b);
  base_opts_t def;
  memset(&def, 0, sizeof(def));
  b->base_len = make_base(o != NULL ? o : &def, b->base, sizeof(b->base));
  return b;
}

static rot_error_t build_with(bufs_t *b, const bc_handoff_info_t *info) {
  return bc_handoff_build(b->base, b->base_len, info, b->out, sizeof(b->out),
                          &b->out_len);
}

static const uint8_t *prop(const void *fdt, const char *path,
                           const char *name, int *len) {
  int node = fdt_path_offset(fdt, path);
  assert_true(node >= 0);
  return fdt_getprop(fdt, node, name, len);
}

static uint64_t be64_at(const uint8_t *p) {
  return fdt64_ld((const fdt64_t *)(const void *)p);
}

static uint32_t be32_at(const uint8_t *p) {
  return fdt32_ld((const fdt32_t *)(const void *)p);
}

static int all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) {
      return 0;
    }
  }
  return 1;
}

/* ---- bc_handoff_build: the result ------------------------------------------ */

static void handoff_test_build_ok_valid_and_packed(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  assert_int_equal(fdt_check_full(b->out, b->out_len), 0);
  assert_int_equal(fdt_totalsize(b->out), b->out_len);
  /* Packed: packing again changes nothing. */
  size_t before = b->out_len;
  assert_int_equal(fdt_pack(b->out), 0);
  assert_int_equal(fdt_totalsize(b->out), before);
  free(b);
}

static void handoff_test_build_ok_reserved_memory(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  int len;
  const uint8_t *p = prop(b->out, "/reserved-memory", "#address-cells", &len);
  assert_non_null(p);
  assert_int_equal(be32_at(p), 2);
  p = prop(b->out, "/reserved-memory", "#size-cells", &len);
  assert_int_equal(be32_at(p), 2);
  p = prop(b->out, "/reserved-memory", "ranges", &len);
  assert_non_null(p);
  assert_int_equal(len, 0);

  const char *node = "/reserved-memory/tpm-event-log@87f00000";
  p = prop(b->out, node, "reg", &len);
  assert_int_equal(len, 16);
  assert_int_equal(be64_at(p), LOG_ADDR);
  assert_int_equal(be64_at(p + 8), BC_HANDOFF_PAGE); /* 100 -> one page */
  p = prop(b->out, node, "no-map", &len);
  assert_non_null(p);
  assert_int_equal(len, 0);
  assert_int_not_equal(fdt_get_phandle(b->out, fdt_path_offset(b->out, node)),
                       0);
  free(b);
}

static void handoff_test_build_ok_tpm_node(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  const char *node = "/platform-bus@4000000/tpm@0";
  int len;
  const uint8_t *p = prop(b->out, node, "compatible", &len);
  assert_int_equal(len, sizeof(BC_HANDOFF_TPM_COMPATIBLE));
  assert_string_equal((const char *)p, "tcg,tpm-tis-mmio");
  p = prop(b->out, node, "reg", &len);
  assert_int_equal(len, 8); /* the bus has one address and one size cell */
  assert_int_equal(be32_at(p), 0);
  assert_int_equal(be32_at(p + 4), BC_HANDOFF_TPM_REG_SIZE);
  p = prop(b->out, node, "linux,sml-base", &len);
  assert_int_equal(len, 8);
  assert_int_equal(be64_at(p), LOG_ADDR);
  p = prop(b->out, node, "linux,sml-size", &len);
  assert_int_equal(len, 4);
  assert_int_equal(be32_at(p), 100);
  p = prop(b->out, node, "status", &len);
  assert_string_equal((const char *)p, "disabled");
  p = prop(b->out, node, "memory-region", &len);
  assert_int_equal(len, 4);
  int log = fdt_path_offset(b->out, "/reserved-memory/tpm-event-log@87f00000");
  assert_int_equal(fdt_node_offset_by_phandle(b->out, be32_at(p)), log);
  free(b);
}

static void handoff_test_build_ok_chosen(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  int len;
  const uint8_t *p = prop(b->out, "/chosen", "rot,boot-slot", &len);
  assert_int_equal(len, sizeof("hypervisor-a"));
  assert_string_equal((const char *)p, "hypervisor-a");
  static const char list[] = "opensbi 1.1\0u-boot 2023.01";
  p = prop(b->out, "/chosen", "rot,image-versions", &len);
  assert_int_equal(len, sizeof(list));
  assert_memory_equal(p, list, sizeof(list));
  p = prop(b->out, "/chosen", "rot,lifecycle", &len);
  assert_string_equal((const char *)p, "dev");
  p = prop(b->out, "/chosen", "rot,svn-floor", &len);
  assert_int_equal(len, 8);
  assert_int_equal(be64_at(p), 0x0000000100000002ull);
  /* Kept from the base. */
  p = prop(b->out, "/chosen", "stdout-path", &len);
  assert_string_equal((const char *)p, "/soc/serial@10000000");
  free(b);
}

static void handoff_test_build_removes_rng_seed(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  int len;
  assert_non_null(prop(b->base, "/chosen", "rng-seed", &len));
  assert_int_equal(build_with(b, &info), ROT_OK);
  assert_null(prop(b->out, "/chosen", "rng-seed", &len));
  assert_int_equal(len, -FDT_ERR_NOTFOUND);
  free(b);
}

static void handoff_test_build_creates_chosen(void **state) {
  (void)state;
  base_opts_t o = {.no_chosen = 1};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  int len;
  assert_string_equal((const char *)prop(b->out, "/chosen", "rot,boot-slot",
                                         &len),
                      "hypervisor-a");
  free(b);
}

static void handoff_test_build_optional_parts_omitted(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info;
  memset(&info, 0, sizeof(info));
  info.log_addr = LOG_ADDR;
  info.log_size = BC_HANDOFF_LOG_MAX;
  assert_int_equal(build_with(b, &info), ROT_OK);
  int len;
  assert_null(prop(b->out, "/chosen", "rot,boot-slot", &len));
  assert_null(prop(b->out, "/chosen", "rot,image-versions", &len));
  const uint8_t *p =
      prop(b->out, "/reserved-memory/tpm-event-log@87f00000", "reg", &len);
  assert_int_equal(be64_at(p + 8), BC_HANDOFF_LOG_MAX);
  free(b);
}

static void handoff_test_build_deterministic(void **state) {
  (void)state;
  bufs_t *a = new_bufs(NULL);
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(a, &info), ROT_OK);
  assert_int_equal(build_with(b, &info), ROT_OK);
  assert_int_equal(a->out_len, b->out_len);
  assert_memory_equal(a->out, b->out, a->out_len);
  info.boot_slot = "hypervisor-b";
  assert_int_equal(build_with(b, &info), ROT_OK);
  assert_true(a->out_len != b->out_len ||
              memcmp(a->out, b->out, a->out_len) != 0);
  free(a);
  free(b);
}

static void handoff_test_build_one_cell_root(void **state) {
  (void)state;
  base_opts_t o = {.root_ac = 1, .root_sc = 1};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  int len;
  const uint8_t *p = prop(b->out, "/reserved-memory", "#address-cells", &len);
  assert_int_equal(be32_at(p), 1);
  p = prop(b->out, "/reserved-memory/tpm-event-log@87f00000", "reg", &len);
  assert_int_equal(len, 8);
  assert_int_equal(be32_at(p), (uint32_t)LOG_ADDR);
  assert_int_equal(be32_at(p + 4), BC_HANDOFF_PAGE);
  free(b);
}

static void handoff_test_build_existing_reserved_memory_kept(void **state) {
  (void)state;
  base_opts_t o = {.resv = 1, .resv_child = 0x80000000u};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  assert_true(fdt_path_offset(b->out, "/reserved-memory/mmode_resv0@80000000") >= 0);
  assert_true(fdt_path_offset(b->out, "/reserved-memory/tpm-event-log@87f00000") >= 0);
  free(b);
}

static void handoff_test_build_image_versions_replace_base(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  uint8_t *tmp = malloc(OUT_CAP);
  assert_non_null(tmp);
  /* A base that already carries rot,image-versions. */
  assert_int_equal(fdt_open_into(b->base, tmp, OUT_CAP), 0);
  int chosen = fdt_path_offset(tmp, "/chosen");
  assert_int_equal(fdt_setprop_string(tmp, chosen, "rot,image-versions", "old"), 0);
  assert_int_equal(fdt_pack(tmp), 0);
  memcpy(b->base, tmp, fdt_totalsize(tmp));
  b->base_len = fdt_totalsize(tmp);
  free(tmp);
  assert_int_equal(build_with(b, &info), ROT_OK);
  int len;
  const uint8_t *p = prop(b->out, "/chosen", "rot,image-versions", &len);
  assert_int_equal(len, sizeof("opensbi 1.1\0u-boot 2023.01"));
  assert_string_equal((const char *)p, "opensbi 1.1");
  free(b);
}

static void handoff_test_build_real_virt_dtb(void **state) {
  (void)state;
  const char *dir = getenv("ROT_BUILD");
  char path[4096];
  /* "# skip NAME: REASON" is how tests/run.sh learns why (cmocka's skip()
   * takes none). */
  if (dir == NULL) {
    print_message("# skip %s: ROT_BUILD not set (tests/run.sh sets it)\n",
                  __func__);
    skip();
  }
  (void)snprintf(path, sizeof(path), "%s/dtb/virt.dtb", dir);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    print_message("# skip %s: no %s (make dumps it from QEMU)\n", __func__,
                  path);
    skip();
  }
  bufs_t *b = calloc(1, sizeof(*b));
  assert_non_null(b);
  b->base_len = fread(b->base, 1, sizeof(b->base), f);
  assert_int_equal(fclose(f), 0);
  assert_true(b->base_len > 0 && b->base_len < sizeof(b->base));
  /* The base has the empty platform bus the TPM node goes under. */
  int bus = fdt_node_offset_by_compatible(b->base, -1, "qemu,platform");
  assert_true(bus >= 0);
  assert_int_equal(fdt_first_subnode(b->base, bus), -FDT_ERR_NOTFOUND);

  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  assert_int_equal(fdt_check_full(b->out, b->out_len), 0);
  uint64_t addr;
  uint32_t size;
  assert_int_equal(bc_handoff_log_location(b->out, b->out_len, &addr, &size),
                   ROT_OK);
  assert_int_equal(addr, LOG_ADDR);
  assert_int_equal(size, 100);
  int len;
  assert_null(prop(b->out, "/chosen", "rng-seed", &len));
  free(b);
}

/* ---- bc_handoff_build: hostile base trees ----------------------------------- */

static void handoff_test_build_null_args(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  size_t n;
  assert_int_equal(bc_handoff_build(NULL, b->base_len, &info, b->out, OUT_CAP, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_handoff_build(b->base, b->base_len, NULL, b->out, OUT_CAP, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_handoff_build(b->base, b->base_len, &info, NULL, OUT_CAP, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_handoff_build(b->base, b->base_len, &info, b->out, OUT_CAP, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  free(b);
}

static void handoff_test_build_overlapping_buffers(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  size_t n;
  assert_int_equal(bc_handoff_build(b->base, b->base_len, &info, b->base + 8,
                                    sizeof(b->base) - 8, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  free(b);
}

static void handoff_test_build_garbage(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  memset(b->base, 0xa5, sizeof(b->base));
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_DTB);
  assert_int_equal(b->out_len, 0);
  b->base_len = 0;
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_DTB);
  free(b);
}

static void handoff_test_build_truncated(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  size_t full = b->base_len;
  for (size_t n = 0; n < full; n += (n < 64 ? 1 : 37)) {
    b->base_len = n;
    assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_DTB);
  }
  free(b);
}

static void handoff_test_build_trailing_bytes(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  b->base_len += 1;
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_DTB);
  free(b);
}

static void handoff_test_build_old_version(void **state) {
  (void)state;
  base_opts_t o = {.version16 = 1};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_DTB);
  free(b);
}

static void handoff_test_build_header_fields_hostile(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  static const uint32_t evil[] = {0, 1, 3, 0x7fffffff, 0x80000000u,
                                  0xfffffffcu, 0xffffffffu};
  uint8_t saved[40];
  memcpy(saved, b->base, sizeof(saved));
  /* Every header word after the magic: totalsize, offsets, sizes, ... */
  for (size_t w = 1; w < 10; w++) {
    for (size_t e = 0; e < sizeof(evil) / sizeof(evil[0]); e++) {
      memcpy(b->base, saved, sizeof(saved));
      fdt32_t v = cpu_to_fdt32(evil[e]);
      memcpy(b->base + 4 * w, &v, 4);
      rot_error_t err = build_with(b, &info);
      if (err == ROT_OK) {
        assert_int_equal(fdt_check_full(b->out, b->out_len), 0);
      } else {
        assert_true(err == ROT_ERROR_HANDOFF_BAD_DTB ||
                    err == ROT_ERROR_HANDOFF_NO_PLATFORM_BUS ||
                    err == ROT_ERROR_HANDOFF_BAD_LOG_REGION);
        assert_true(all_zero(b->out, 64));
      }
    }
  }
  free(b);
}

static void handoff_test_build_every_byte_flipped(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  size_t len = b->base_len;
  unsigned ok = 0;
  for (size_t i = 0; i < len; i++) {
    b->base[i] ^= 0xff;
    rot_error_t err = build_with(b, &info);
    if (err == ROT_OK) {
      ok++;
      assert_int_equal(fdt_check_full(b->out, b->out_len), 0);
    } else {
      assert_true(err == ROT_ERROR_HANDOFF_BAD_DTB ||
                  err == ROT_ERROR_HANDOFF_NO_PLATFORM_BUS ||
                  err == ROT_ERROR_HANDOFF_BAD_LOG_REGION ||
                  err == ROT_ERROR_HANDOFF_FDT);
    }
    b->base[i] ^= 0xff;
  }
  /* Flips inside string values leave a valid tree: some must pass. */
  assert_true(ok > 0);
  free(b);
}

static void handoff_test_build_no_platform_bus(void **state) {
  (void)state;
  base_opts_t o = {.no_bus = 1};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_NO_PLATFORM_BUS);
  free(b);
}

static void handoff_test_build_tpm_node_exists(void **state) {
  (void)state;
  base_opts_t o = {.bus_has_tpm = 1};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_FDT);
  free(b);
}

static void handoff_test_build_other_tpm_node(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  uint8_t *tmp = malloc(OUT_CAP);
  assert_non_null(tmp);
  /* A TPM node elsewhere (here: the bus itself claims to be one). */
  assert_int_equal(fdt_open_into(b->base, tmp, OUT_CAP), 0);
  int bus = fdt_node_offset_by_compatible(tmp, -1, "qemu,platform");
  assert_int_equal(fdt_appendprop_string(tmp, bus, "compatible", "tcg,tpm-tis-mmio"), 0);
  assert_int_equal(fdt_pack(tmp), 0);
  memcpy(b->base, tmp, fdt_totalsize(tmp));
  b->base_len = fdt_totalsize(tmp);
  free(tmp);
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_FDT);
  free(b);
}

/* A base with one extra node at path parent/name, set up by edit. */
static bufs_t *base_with_node(const char *parent, const char *name,
                              void (*edit)(void *fdt, int node)) {
  bufs_t *b = new_bufs(NULL);
  uint8_t *tmp = malloc(OUT_CAP);
  assert_non_null(tmp);
  assert_int_equal(fdt_open_into(b->base, tmp, OUT_CAP), 0);
  int p = fdt_path_offset(tmp, parent);
  assert_true(p >= 0);
  int node = fdt_add_subnode(tmp, p, name);
  assert_true(node >= 0);
  edit(tmp, node);
  assert_int_equal(fdt_pack(tmp), 0);
  assert_true(fdt_totalsize(tmp) <= sizeof(b->base));
  memcpy(b->base, tmp, fdt_totalsize(tmp));
  b->base_len = fdt_totalsize(tmp);
  free(tmp);
  return b;
}

static void decoy_spi(void *fdt, int n) {
  assert_int_equal(fdt_setprop_string(fdt, n, "compatible", "tcg,tpm_tis-spi"), 0);
  assert_int_equal(fdt_setprop_u64(fdt, n, "linux,sml-base", 0x80100000u), 0);
  assert_int_equal(fdt_setprop_u32(fdt, n, "linux,sml-size", 0x1000), 0);
}
static void decoy_i2c(void *fdt, int n) {
  static const char c[] = "infineon,slb9673\0tcg,tpm-tis-i2c";
  assert_int_equal(fdt_setprop(fdt, n, "compatible", c, sizeof(c)), 0);
}
static void decoy_ftpm(void *fdt, int n) {
  assert_int_equal(fdt_setprop_string(fdt, n, "compatible", "microsoft,ftpm"), 0);
  assert_int_equal(fdt_setprop_u64(fdt, n, "linux,sml-base", 0x80100000u), 0);
  assert_int_equal(fdt_setprop_u32(fdt, n, "linux,sml-size", 0x1000), 0);
}
static void decoy_cr50(void *fdt, int n) {
  assert_int_equal(fdt_setprop_string(fdt, n, "compatible", "google,cr50"), 0);
}
static void decoy_vtpm_device_type(void *fdt, int n) {
  assert_int_equal(fdt_setprop_string(fdt, n, "device_type", "IBM,vtpm"), 0);
}
static void decoy_sml_only(void *fdt, int n) {
  /* No compatible at all: the log location alone is enough to mislead. */
  assert_int_equal(fdt_setprop_u64(fdt, n, "linux,sml-base", 0x80100000u), 0);
  assert_int_equal(fdt_setprop_u32(fdt, n, "linux,sml-size", 0x1000), 0);
}
static void decoy_sml_log(void *fdt, int n) {
  static const uint8_t log[8] = {1, 2, 3, 4};
  assert_int_equal(fdt_setprop(fdt, n, "linux,sml-log", log, sizeof(log)), 0);
}
static void decoy_nothing(void *fdt, int n) {
  (void)fdt;
  (void)n;
}
static void not_a_tpm_pmic(void *fdt, int n) {
  assert_int_equal(fdt_setprop_string(fdt, n, "compatible", "st,stpmic1"), 0);
}

static void handoff_test_build_decoy_tpm_nodes_refused(void **state) {
  (void)state;
  static const struct {
    const char *parent, *name;
    void (*edit)(void *, int);
  } decoys[] = {
      {"/", "spi-tpm@0", decoy_spi},
      {"/platform-bus@4000000", "i2c-tpm@2e", decoy_i2c},
      {"/", "firmware-tpm", decoy_ftpm},
      {"/", "cr50", decoy_cr50},
      {"/", "vdevice", decoy_vtpm_device_type},
      {"/", "log-only", decoy_sml_only},
      {"/chosen", "inline-log", decoy_sml_log},
      {"/", "tpm", decoy_nothing},
      {"/", "tpm@10000", decoy_nothing},
  };
  bc_handoff_info_t info = good_info();
  for (size_t i = 0; i < sizeof(decoys) / sizeof(decoys[0]); i++) {
    bufs_t *b = base_with_node(decoys[i].parent, decoys[i].name, decoys[i].edit);
    memset(b->out, 0x5a, sizeof(b->out));
    assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_FDT);
    assert_int_equal(b->out_len, 0);
    assert_true(all_zero(b->out, sizeof(b->out)));
    free(b);
  }
}

static void handoff_test_build_decoy_sml_on_chosen_refused(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  uint8_t *tmp = malloc(OUT_CAP);
  assert_non_null(tmp);
  assert_int_equal(fdt_open_into(b->base, tmp, OUT_CAP), 0);
  int chosen = fdt_path_offset(tmp, "/chosen");
  assert_int_equal(fdt_setprop_u64(tmp, chosen, "linux,sml-base", 0x80100000u), 0);
  assert_int_equal(fdt_pack(tmp), 0);
  memcpy(b->base, tmp, fdt_totalsize(tmp));
  b->base_len = fdt_totalsize(tmp);
  free(tmp);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_FDT);
  free(b);
}

static void handoff_test_build_non_tpm_lookalike_accepted(void **state) {
  (void)state;
  /* "stpmic1" holds the letters t-p-m but is a power controller. */
  bufs_t *b = base_with_node("/", "pmic@0", not_a_tpm_pmic);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  free(b);
}

/* The read-back sees one TPM node only: a decoy added after the build
 * makes the handoff ambiguous. */
static void handoff_test_log_location_decoy_refused(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  uint64_t addr;
  uint32_t size;
  assert_int_equal(bc_handoff_log_location(b->out, b->out_len, &addr, &size), ROT_OK);
  uint8_t *tmp = malloc(OUT_CAP);
  assert_non_null(tmp);
  assert_int_equal(fdt_open_into(b->out, tmp, OUT_CAP), 0);
  int node = fdt_add_subnode(tmp, 0, "firmware-tpm");
  assert_true(node >= 0);
  decoy_ftpm(tmp, node);
  assert_int_equal(fdt_pack(tmp), 0);
  assert_int_equal(bc_handoff_log_location(tmp, fdt_totalsize(tmp), &addr, &size),
                   ROT_ERROR_HANDOFF_BAD_DTB);
  free(tmp);
  free(b);
}

static void handoff_test_build_bad_root_cells(void **state) {
  (void)state;
  base_opts_t o = {.root_ac = 3};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_DTB);
  free(b);
}

static void handoff_test_build_translating_reserved_ranges(void **state) {
  (void)state;
  base_opts_t o = {.resv = 1, .resv_ranges = 1};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_DTB);
  free(b);
}

/* ---- bc_handoff_build: where the log may go ----------------------------------- */

static void handoff_test_build_log_outside_ram(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  info.log_addr = 0x70000000u;
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_LOG_REGION);
  /* Starts in RAM, ends past it. */
  info.log_addr = 0x8ffff000u;
  info.log_size = 0x1001;
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_LOG_REGION);
  /* The last page of RAM is fine. */
  info.log_size = 0x1000;
  assert_int_equal(build_with(b, &info), ROT_OK);
  free(b);
}

static void handoff_test_build_log_no_memory_node(void **state) {
  (void)state;
  base_opts_t o = {.no_memory = 1};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_LOG_REGION);
  free(b);
}

static void handoff_test_build_log_above_4g_one_cell(void **state) {
  (void)state;
  base_opts_t o = {.root_ac = 1, .root_sc = 1};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  info.log_addr = 0x100000000ull;
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_LOG_REGION);
  free(b);
}

static void handoff_test_build_log_overlaps_memreserve(void **state) {
  (void)state;
  base_opts_t o = {.memrsv = LOG_ADDR + 0x1000};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  info.log_size = 0x1001; /* two pages: reaches the /memreserve/ entry */
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_LOG_REGION);
  info.log_size = 0x1000;
  assert_int_equal(build_with(b, &info), ROT_OK);
  free(b);
}

static void handoff_test_build_log_overlaps_reserved_child(void **state) {
  (void)state;
  base_opts_t o = {.resv = 1, .resv_child = LOG_ADDR - 0x8000};
  bufs_t *b = new_bufs(&o);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_ERROR_HANDOFF_BAD_LOG_REGION);
  free(b);
}

/* ---- bc_handoff_build: bad requests ----------------------------------------------- */

static void expect_bad_info(const bc_handoff_info_t *info) {
  bufs_t *b = new_bufs(NULL);
  assert_int_equal(build_with(b, info), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_handoff_max_size(b->base_len, info), 0);
  free(b);
}

static void handoff_test_build_bad_log_size(void **state) {
  (void)state;
  bc_handoff_info_t info = good_info();
  info.log_size = 0;
  expect_bad_info(&info);
  info.log_size = BC_HANDOFF_LOG_MAX + 1u;
  expect_bad_info(&info);
}

static void handoff_test_build_unaligned_log_addr(void **state) {
  (void)state;
  bc_handoff_info_t info = good_info();
  info.log_addr = LOG_ADDR + 0x10;
  expect_bad_info(&info);
  info.log_addr = UINT64_MAX & ~(uint64_t)0xfff;
  expect_bad_info(&info);
}

static void handoff_test_build_bad_names(void **state) {
  (void)state;
  static const char *const bad[] = {
      "", "has space", "slash/", "at@sign", "nul\x01",
      "a-name-that-is-longer-than-31-chars"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    bc_handoff_str_t s = {bad[i], "v"};
    bc_handoff_u64_t u = {bad[i], 1};
    bc_handoff_info_t info = good_info();
    info.chosen_strs = &s;
    expect_bad_info(&info);
    info = good_info();
    info.chosen_u64s = &u;
    expect_bad_info(&info);
  }
  bc_handoff_str_t null_name = {NULL, "v"};
  bc_handoff_info_t info = good_info();
  info.chosen_strs = &null_name;
  expect_bad_info(&info);
}

static void handoff_test_build_duplicate_names(void **state) {
  (void)state;
  bc_handoff_str_t two[2] = {{"x,a", "1"}, {"x,a", "2"}};
  bc_handoff_info_t info = good_info();
  info.chosen_strs = two;
  info.chosen_str_count = 2;
  expect_bad_info(&info);
  /* A string and a u64 of the same name. */
  bc_handoff_u64_t u = {"rot,lifecycle", 1};
  info = good_info();
  info.chosen_u64s = &u;
  expect_bad_info(&info);
  /* A caller pair shadowing the handoff's own property. */
  bc_handoff_str_t slot = {BC_HANDOFF_PROP_BOOT_SLOT, "x"};
  info = good_info();
  info.chosen_strs = &slot;
  expect_bad_info(&info);
}

static void handoff_test_build_bad_values(void **state) {
  (void)state;
  bc_handoff_info_t info = good_info();
  info.boot_slot = "";
  expect_bad_info(&info);
  info.boot_slot = "tab\there";
  expect_bad_info(&info);
  info.boot_slot = "\xc3\xa9";
  expect_bad_info(&info);
  static const char *const empty_entry[] = {"a", ""};
  info = good_info();
  info.image_versions = empty_entry;
  expect_bad_info(&info);
  static const char *const null_entry[] = {"a", NULL};
  info.image_versions = null_entry;
  expect_bad_info(&info);
  char *big = malloc(BC_HANDOFF_MAX_VALUE + 2u);
  assert_non_null(big);
  memset(big, 'v', BC_HANDOFF_MAX_VALUE + 1u);
  big[BC_HANDOFF_MAX_VALUE + 1u] = '\0';
  info = good_info();
  info.boot_slot = big;
  expect_bad_info(&info);
  free(big);
}

static void handoff_test_build_bad_counts(void **state) {
  (void)state;
  bc_handoff_info_t info = good_info();
  info.chosen_strs = NULL; /* count 1 */
  expect_bad_info(&info);
  info = good_info();
  info.image_version_count = BC_HANDOFF_MAX_PROPS + 1u;
  expect_bad_info(&info);
  info = good_info();
  info.chosen_u64_count = BC_HANDOFF_MAX_PROPS + 1u;
  expect_bad_info(&info);
}

static void handoff_test_build_buffer_too_small(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  size_t n = 99;
  /* Room for the base but not the additions, and not even the base. */
  assert_int_equal(bc_handoff_build(b->base, b->base_len, &info, b->out,
                                    b->base_len, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 0);
  assert_true(all_zero(b->out, b->base_len));
  assert_int_equal(bc_handoff_build(b->base, b->base_len, &info, b->out,
                                    b->base_len / 2, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(bc_handoff_build(b->base, b->base_len, &info, b->out, 0, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  free(b);
}

/* ---- bc_handoff_max_size ---------------------------------------------------------- */

static void handoff_test_max_size_is_enough(void **state) {
  (void)state;
  /* The largest request the limits allow. */
  static char values[BC_HANDOFF_MAX_PROPS][BC_HANDOFF_MAX_VALUE + 1u];
  static char names[2][BC_HANDOFF_MAX_PROPS][BC_HANDOFF_MAX_NAME + 1u];
  static const char *vlist[BC_HANDOFF_MAX_PROPS];
  static bc_handoff_str_t s[BC_HANDOFF_MAX_PROPS];
  static bc_handoff_u64_t u[BC_HANDOFF_MAX_PROPS];
  for (size_t i = 0; i < BC_HANDOFF_MAX_PROPS; i++) {
    memset(values[i], 'a' + (int)(i % 26), BC_HANDOFF_MAX_VALUE);
    values[i][BC_HANDOFF_MAX_VALUE] = '\0';
    for (int k = 0; k < 2; k++) {
      memset(names[k][i], 'n', BC_HANDOFF_MAX_NAME);
      names[k][i][BC_HANDOFF_MAX_NAME] = '\0';
      names[k][i][0] = (char)('a' + k);
      names[k][i][1] = (char)('a' + (int)(i % 26));
      names[k][i][2] = (char)('a' + (int)(i / 26));
    }
    vlist[i] = values[i];
    s[i].name = names[0][i];
    s[i].value = values[i];
    u[i].name = names[1][i];
    u[i].value = i;
  }
  bc_handoff_info_t info = good_info();
  info.boot_slot = values[0];
  info.image_versions = vlist;
  info.image_version_count = BC_HANDOFF_MAX_PROPS;
  info.chosen_strs = s;
  info.chosen_str_count = BC_HANDOFF_MAX_PROPS;
  info.chosen_u64s = u;
  info.chosen_u64_count = BC_HANDOFF_MAX_PROPS;

  bufs_t *b = new_bufs(NULL);
  size_t need = bc_handoff_max_size(b->base_len, &info);
  assert_true(need > b->base_len);
  uint8_t *out = malloc(need);
  assert_non_null(out);
  size_t n;
  assert_int_equal(bc_handoff_build(b->base, b->base_len, &info, out, need, &n),
                   ROT_OK);
  assert_true(n <= need);
  free(out);
  free(b);
}

static void handoff_test_max_size_bad_args(void **state) {
  (void)state;
  bc_handoff_info_t info = good_info();
  assert_int_equal(bc_handoff_max_size(100, NULL), 0);
  assert_int_equal(bc_handoff_max_size(SIZE_MAX - 10, &info), 0);
}

/* ---- bc_handoff_log_location ------------------------------------------------------ */

static void handoff_test_log_location_ok(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  info.log_size = 5000;
  assert_int_equal(build_with(b, &info), ROT_OK);
  uint64_t addr = 0;
  uint32_t size = 0;
  assert_int_equal(bc_handoff_log_location(b->out, b->out_len, &addr, &size),
                   ROT_OK);
  assert_int_equal(addr, LOG_ADDR);
  assert_int_equal(size, 5000);
  free(b);
}

static void handoff_test_log_location_no_tpm_node(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  uint64_t addr;
  uint32_t size;
  assert_int_equal(bc_handoff_log_location(b->base, b->base_len, &addr, &size),
                   ROT_ERROR_HANDOFF_BAD_DTB);
  assert_int_equal(bc_handoff_log_location(b->base, b->base_len - 1, &addr, &size),
                   ROT_ERROR_HANDOFF_BAD_DTB);
  assert_int_equal(bc_handoff_log_location(NULL, 0, &addr, &size),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_handoff_log_location(b->base, b->base_len, NULL, &size),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_handoff_log_location(b->base, b->base_len, &addr, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  free(b);
}

/* A built handoff (opened to OUT_CAP) with edit applied to it in place. */
static bufs_t *built_and_edited(void (*edit)(void *fdt, int tpm)) {
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  assert_int_equal(build_with(b, &info), ROT_OK);
  assert_int_equal(fdt_open_into(b->out, b->out, OUT_CAP), 0);
  int tpm = fdt_node_offset_by_compatible(b->out, -1, "tcg,tpm-tis-mmio");
  assert_true(tpm >= 0);
  edit(b->out, tpm);
  return b;
}

/* Edits a built handoff in place and expects the read-back to refuse it. */
static void expect_location_refused(void (*edit)(void *fdt, int tpm)) {
  bufs_t *b = built_and_edited(edit);
  uint64_t addr;
  uint32_t size;
  assert_int_equal(bc_handoff_log_location(b->out, OUT_CAP, &addr, &size),
                   ROT_ERROR_HANDOFF_BAD_DTB);
  free(b);
}

static void edit_base_moved(void *fdt, int tpm) {
  assert_int_equal(fdt_setprop_u64(fdt, tpm, "linux,sml-base", LOG_ADDR + 0x1000), 0);
}
static void edit_size_beyond_reservation(void *fdt, int tpm) {
  assert_int_equal(fdt_setprop_u32(fdt, tpm, "linux,sml-size", 0x1001), 0);
}
static void edit_size_zero(void *fdt, int tpm) {
  assert_int_equal(fdt_setprop_u32(fdt, tpm, "linux,sml-size", 0), 0);
}
static void edit_base_short(void *fdt, int tpm) {
  assert_int_equal(fdt_setprop_u32(fdt, tpm, "linux,sml-base", 0x87f00000u), 0);
}
static void edit_dangling_phandle(void *fdt, int tpm) {
  assert_int_equal(fdt_setprop_u32(fdt, tpm, "memory-region", 0x7777), 0);
}
static void edit_no_region(void *fdt, int tpm) {
  assert_int_equal(fdt_delprop(fdt, tpm, "memory-region"), 0);
}

static void edit_second_tpm(void *fdt, int tpm) {
  int bus = fdt_parent_offset(fdt, tpm);
  int other = fdt_add_subnode(fdt, bus, "tpm@10000");
  assert_true(other >= 0);
  assert_int_equal(fdt_setprop_string(fdt, other, "compatible", "tcg,tpm-tis-mmio"), 0);
}
static void edit_version_16(void *fdt, int tpm) {
  (void)tpm;
  fdt_set_version(fdt, 16);
}

static void handoff_test_log_location_inconsistent(void **state) {
  (void)state;
  expect_location_refused(edit_base_moved);
  expect_location_refused(edit_size_beyond_reservation);
  expect_location_refused(edit_size_zero);
  expect_location_refused(edit_base_short);
  expect_location_refused(edit_dangling_phandle);
  expect_location_refused(edit_no_region);
  expect_location_refused(edit_second_tpm);
  expect_location_refused(edit_version_16);
}

/* ---- bc_handoff_set_log_size --------------------------------------------- */

/* Built with the largest log, then shrunk: the bytes of a fresh build. */
static void expect_shrinks_to_fresh_build(const base_opts_t *o, uint32_t size) {
  bufs_t *big = new_bufs(o);
  bufs_t *fresh = new_bufs(o);
  bc_handoff_info_t info = good_info();
  info.log_size = BC_HANDOFF_LOG_MAX;
  assert_int_equal(build_with(big, &info), ROT_OK);
  info.log_size = size;
  assert_int_equal(build_with(fresh, &info), ROT_OK);
  assert_int_equal(bc_handoff_set_log_size(big->out, big->out_len, size), ROT_OK);
  assert_int_equal(big->out_len, fresh->out_len);
  assert_memory_equal(big->out, fresh->out, fresh->out_len);
  uint64_t addr = 0;
  uint32_t got = 0;
  assert_int_equal(bc_handoff_log_location(big->out, big->out_len, &addr, &got),
                   ROT_OK);
  assert_int_equal(addr, LOG_ADDR);
  assert_int_equal(got, size);
  free(big);
  free(fresh);
}

static void handoff_test_set_log_size_equals_fresh_build(void **state) {
  (void)state;
  static const uint32_t sizes[] = {1, 100, BC_HANDOFF_PAGE, BC_HANDOFF_PAGE + 1,
                                   5000, BC_HANDOFF_LOG_MAX};
  base_opts_t one_cell = {.root_ac = 1, .root_sc = 1};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    expect_shrinks_to_fresh_build(NULL, sizes[i]);
    expect_shrinks_to_fresh_build(&one_cell, sizes[i]);
  }
}

static void handoff_test_set_log_size_refusals(void **state) {
  (void)state;
  bufs_t *b = new_bufs(NULL);
  bc_handoff_info_t info = good_info();
  info.log_size = 5000;
  assert_int_equal(build_with(b, &info), ROT_OK);
  uint8_t *copy = malloc(b->out_len);
  assert_non_null(copy);
  memcpy(copy, b->out, b->out_len);
  assert_int_equal(bc_handoff_set_log_size(NULL, b->out_len, 100),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_handoff_set_log_size(b->out, b->out_len, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
  /* Growing: the reservation was checked for the smaller log only. */
  assert_int_equal(bc_handoff_set_log_size(b->out, b->out_len, 5001),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_handoff_set_log_size(b->out, 16, 100),
                   ROT_ERROR_HANDOFF_BAD_DTB);
  /* Refusals leave the tree as it was. */
  assert_memory_equal(b->out, copy, b->out_len);
  /* A tree the handoff did not make (no TPM node), and garbage. */
  assert_int_equal(bc_handoff_set_log_size(b->base, b->base_len, 100),
                   ROT_ERROR_HANDOFF_BAD_DTB);
  memset(copy, 0xa5, b->out_len);
  assert_int_equal(bc_handoff_set_log_size(copy, b->out_len, 100),
                   ROT_ERROR_HANDOFF_BAD_DTB);
  free(copy);
  free(b);
}

/* An inconsistent tree (the cases bc_handoff_log_location refuses) is not
 * written to. */
static void expect_set_refused(void (*edit)(void *fdt, int tpm)) {
  bufs_t *b = built_and_edited(edit);
  uint8_t *copy = malloc(OUT_CAP);
  assert_non_null(copy);
  memcpy(copy, b->out, OUT_CAP);
  assert_int_equal(bc_handoff_set_log_size(b->out, OUT_CAP, 1),
                   ROT_ERROR_HANDOFF_BAD_DTB);
  assert_memory_equal(b->out, copy, OUT_CAP);
  free(copy);
  free(b);
}

static void edit_base_moved(void *fdt, int tpm);
static void edit_size_beyond_reservation(void *fdt, int tpm);
static void edit_dangling_phandle(void *fdt, int tpm);
static void edit_second_tpm(void *fdt, int tpm);

static void handoff_test_set_log_size_inconsistent(void **state) {
  (void)state;
  expect_set_refused(edit_base_moved);
  expect_set_refused(edit_size_beyond_reservation);
  expect_set_refused(edit_dangling_phandle);
  expect_set_refused(edit_second_tpm);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(handoff_test_build_ok_valid_and_packed),
      cmocka_unit_test(handoff_test_build_ok_reserved_memory),
      cmocka_unit_test(handoff_test_build_ok_tpm_node),
      cmocka_unit_test(handoff_test_build_ok_chosen),
      cmocka_unit_test(handoff_test_build_removes_rng_seed),
      cmocka_unit_test(handoff_test_build_creates_chosen),
      cmocka_unit_test(handoff_test_build_optional_parts_omitted),
      cmocka_unit_test(handoff_test_build_deterministic),
      cmocka_unit_test(handoff_test_build_one_cell_root),
      cmocka_unit_test(handoff_test_build_existing_reserved_memory_kept),
      cmocka_unit_test(handoff_test_build_image_versions_replace_base),
      cmocka_unit_test(handoff_test_build_real_virt_dtb),
      cmocka_unit_test(handoff_test_build_null_args),
      cmocka_unit_test(handoff_test_build_overlapping_buffers),
      cmocka_unit_test(handoff_test_build_garbage),
      cmocka_unit_test(handoff_test_build_truncated),
      cmocka_unit_test(handoff_test_build_trailing_bytes),
      cmocka_unit_test(handoff_test_build_old_version),
      cmocka_unit_test(handoff_test_build_header_fields_hostile),
      cmocka_unit_test(handoff_test_build_every_byte_flipped),
      cmocka_unit_test(handoff_test_build_no_platform_bus),
      cmocka_unit_test(handoff_test_build_tpm_node_exists),
      cmocka_unit_test(handoff_test_build_other_tpm_node),
      cmocka_unit_test(handoff_test_build_decoy_tpm_nodes_refused),
      cmocka_unit_test(handoff_test_build_decoy_sml_on_chosen_refused),
      cmocka_unit_test(handoff_test_build_non_tpm_lookalike_accepted),
      cmocka_unit_test(handoff_test_log_location_decoy_refused),
      cmocka_unit_test(handoff_test_build_bad_root_cells),
      cmocka_unit_test(handoff_test_build_translating_reserved_ranges),
      cmocka_unit_test(handoff_test_build_log_outside_ram),
      cmocka_unit_test(handoff_test_build_log_no_memory_node),
      cmocka_unit_test(handoff_test_build_log_above_4g_one_cell),
      cmocka_unit_test(handoff_test_build_log_overlaps_memreserve),
      cmocka_unit_test(handoff_test_build_log_overlaps_reserved_child),
      cmocka_unit_test(handoff_test_build_bad_log_size),
      cmocka_unit_test(handoff_test_build_unaligned_log_addr),
      cmocka_unit_test(handoff_test_build_bad_names),
      cmocka_unit_test(handoff_test_build_duplicate_names),
      cmocka_unit_test(handoff_test_build_bad_values),
      cmocka_unit_test(handoff_test_build_bad_counts),
      cmocka_unit_test(handoff_test_build_buffer_too_small),
      cmocka_unit_test(handoff_test_max_size_is_enough),
      cmocka_unit_test(handoff_test_max_size_bad_args),
      cmocka_unit_test(handoff_test_log_location_ok),
      cmocka_unit_test(handoff_test_log_location_no_tpm_node),
      cmocka_unit_test(handoff_test_log_location_inconsistent),
      cmocka_unit_test(handoff_test_set_log_size_equals_fresh_build),
      cmocka_unit_test(handoff_test_set_log_size_refusals),
      cmocka_unit_test(handoff_test_set_log_size_inconsistent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
