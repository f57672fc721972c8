/*
 * Device-tree handoff with libfdt. See bootchain/handoff.h and
 * docs/handoff.md for the layout.
 *
 * The base tree is untrusted input: it is checked with fdt_check_full
 * before libfdt touches anything else, every cell count is bounded before
 * it sizes a read, and the output is checked again after packing.
 */
#include "bootchain/handoff.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#define LOG_NODE_PREFIX "tpm-event-log"
/* Tree format version the handoff accepts and writes (dtc and QEMU's). */
#define FDT_VERSION_WANTED 17

/* libfdt's status codes -> ours. Out of room is the caller's to fix. */
static rot_error_t fdt_status(int rc) {
  if (rc >= 0) {
    return ROT_OK;
  }
  return rc == -FDT_ERR_NOSPACE ? ROT_ERROR_BUFFER_TOO_SMALL
                                : ROT_ERROR_HANDOFF_FDT;
}

static uint64_t round_up_page(uint64_t v) {
  return (v + (BC_HANDOFF_PAGE - 1u)) & ~(uint64_t)(BC_HANDOFF_PAGE - 1u);
}

/* ---- info validation ---------------------------------------------------- */

static int name_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == ',' || c == '.' || c == '_' ||
         c == '+' || c == '?' || c == '#' || c == '-';
}

static int prop_name_ok(const char *name) {
  if (name == NULL) {
    return 0;
  }
  size_t n = strnlen(name, BC_HANDOFF_MAX_NAME + 1u);
  if (n == 0 || n > BC_HANDOFF_MAX_NAME) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!name_char_ok(name[i])) {
      return 0;
    }
  }
  return 1;
}

/* Non-NULL, printable ASCII, 0..BC_HANDOFF_MAX_VALUE bytes; *len = strlen. */
static int value_ok(const char *v, int allow_empty, size_t *len) {
  if (v == NULL) {
    return 0;
  }
  size_t n = strnlen(v, BC_HANDOFF_MAX_VALUE + 1u);
  if (n > BC_HANDOFF_MAX_VALUE || (n == 0 && !allow_empty)) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (v[i] < 0x20 || v[i] > 0x7e) {
      return 0;
    }
  }
  *len = n;
  return 1;
}

/* Collects every /chosen name the info writes, to refuse duplicates (a
 * second setprop would silently replace the first in the measured tree). */
typedef struct name_set {
  const char *names[2u + 2u * BC_HANDOFF_MAX_PROPS];
  size_t count;
} name_set_t;

static int name_set_add(name_set_t *set, const char *name) {
  for (size_t i = 0; i < set->count; i++) {
    if (strcmp(set->names[i], name) == 0) {
      return 0;
    }
  }
  set->names[set->count++] = name;
  return 1;
}

/* Validates info; *payload = bytes of property values and names it adds. */
static rot_error_t info_check(const bc_handoff_info_t *info, size_t *payload) {
  size_t total = 0;
  size_t n;
  name_set_t set;
  set.count = 0;

  if (info->log_size == 0 || info->log_size > BC_HANDOFF_LOG_MAX ||
      (info->log_addr & (BC_HANDOFF_PAGE - 1u)) != 0 ||
      info->log_addr > UINT64_MAX - BC_HANDOFF_LOG_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (info->image_version_count > BC_HANDOFF_MAX_PROPS ||
      info->chosen_str_count > BC_HANDOFF_MAX_PROPS ||
      info->chosen_u64_count > BC_HANDOFF_MAX_PROPS ||
      (info->image_version_count != 0 && info->image_versions == NULL) ||
      (info->chosen_str_count != 0 && info->chosen_strs == NULL) ||
      (info->chosen_u64_count != 0 && info->chosen_u64s == NULL)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (info->boot_slot != NULL) {
    if (!value_ok(info->boot_slot, 0, &n)) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    total += n + 1u;
    (void)name_set_add(&set, BC_HANDOFF_PROP_BOOT_SLOT);
  }
  if (info->image_version_count != 0) {
    for (size_t i = 0; i < info->image_version_count; i++) {
      /* An empty entry would read as two separators in the string list. */
      if (!value_ok(info->image_versions[i], 0, &n)) {
        return ROT_ERROR_INVALID_ARGUMENT;
      }
      total += n + 1u;
    }
    (void)name_set_add(&set, BC_HANDOFF_PROP_IMAGE_VERSIONS);
  }
  for (size_t i = 0; i < info->chosen_str_count; i++) {
    const bc_handoff_str_t *p = &info->chosen_strs[i];
    if (!prop_name_ok(p->name) || !value_ok(p->value, 1, &n) ||
        !name_set_add(&set, p->name)) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    total += n + 1u + BC_HANDOFF_MAX_NAME + 1u;
  }
  for (size_t i = 0; i < info->chosen_u64_count; i++) {
    const bc_handoff_u64_t *p = &info->chosen_u64s[i];
    if (!prop_name_ok(p->name) || !name_set_add(&set, p->name)) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    total += sizeof(uint64_t) + BC_HANDOFF_MAX_NAME + 1u;
  }
  *payload = total;
  return ROT_OK;
}

size_t bc_handoff_max_size(size_t base_len, const bc_handoff_info_t *info) {
  size_t payload;
  if (info == NULL || info_check(info, &payload) != ROT_OK) {
    return 0;
  }
  /* Per property: a 12-byte tag + header and up to 3 bytes of padding.
   * The fixed part covers the two new nodes, /chosen if it is missing,
   * their properties and every fixed name in the strings block. */
  size_t props = 2u + info->chosen_str_count + info->chosen_u64_count;
  size_t extra = 1024u + payload + props * 16u;
  if (base_len > SIZE_MAX - extra) {
    return 0;
  }
  return base_len + extra;
}

/* ---- reading cells -------------------------------------------------------- */

/* #address-cells / #size-cells of node, limited to what the handoff
 * encodes (1 or 2 cells, i.e. up to 64 bits). */
static rot_error_t node_cells(const void *fdt, int node, int *ac, int *sc) {
  int a = fdt_address_cells(fdt, node);
  int s = fdt_size_cells(fdt, node);
  if (a < 1 || a > 2 || s < 1 || s > 2) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  *ac = a;
  *sc = s;
  return ROT_OK;
}

static uint64_t read_cells(const uint8_t *p, int cells) {
  uint64_t v = 0;
  for (int i = 0; i < cells; i++) {
    v = (v << 32) | fdt32_ld((const fdt32_t *)(const void *)(p + 4 * i));
  }
  return v;
}

static void write_cells(uint8_t *p, int cells, uint64_t v) {
  for (int i = cells - 1; i >= 0; i--) {
    fdt32_t be = cpu_to_fdt32((uint32_t)v);
    memcpy(p + 4 * i, &be, sizeof(be));
    v >>= 32;
  }
}

static int fits_cells(uint64_t v, int cells) {
  return cells == 2 || v <= UINT32_MAX;
}

/* [a, a+alen) and [b, b+blen) share a byte; lengths may reach 2^64-1. */
static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
                          uint64_t blen) {
  if (alen == 0 || blen == 0) {
    return 0;
  }
  return a <= b ? b - a < alen : a - b < blen;
}

/* [a, a+alen) lies inside [b, b+blen). */
static int range_inside(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a >= b && a - b <= blen && alen <= blen - (a - b);
}

/* ---- placement checks ------------------------------------------------------ */

/* The log region must sit in one reg range of a device_type = "memory"
 * node at the root. */
static rot_error_t check_in_ram(const void *fdt, int root_ac, int root_sc,
                                uint64_t addr, uint64_t len) {
  int node;
  fdt_for_each_subnode(node, fdt, 0) {
    int plen;
    const char *type = fdt_getprop(fdt, node, "device_type", &plen);
    if (type == NULL || plen != (int)sizeof("memory") ||
        memcmp(type, "memory", sizeof("memory")) != 0) {
      continue;
    }
    const uint8_t *reg = fdt_getprop(fdt, node, "reg", &plen);
    int stride = 4 * (root_ac + root_sc);
    if (reg == NULL || plen <= 0 || plen % stride != 0) {
      continue;
    }
    for (int off = 0; off < plen; off += stride) {
      uint64_t base = read_cells(reg + off, root_ac);
      uint64_t size = read_cells(reg + off + 4 * root_ac, root_sc);
      if (range_inside(addr, len, base, size)) {
        return ROT_OK;
      }
    }
  }
  return ROT_ERROR_HANDOFF_BAD_LOG_REGION;
}

/* No overlap with /memreserve/ entries or with the reg of any
 * /reserved-memory child already present. */
static rot_error_t check_unreserved(const void *fdt, int resv, uint64_t addr,
                                    uint64_t len) {
  int n = fdt_num_mem_rsv(fdt);
  if (n < 0) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  for (int i = 0; i < n; i++) {
    uint64_t a;
    uint64_t s;
    if (fdt_get_mem_rsv(fdt, i, &a, &s) != 0) {
      return ROT_ERROR_HANDOFF_BAD_DTB;
    }
    if (ranges_overlap(addr, len, a, s)) {
      return ROT_ERROR_HANDOFF_BAD_LOG_REGION;
    }
  }
  if (resv < 0) {
    return ROT_OK;
  }
  int ac;
  int sc;
  ROT_TRY(node_cells(fdt, resv, &ac, &sc));
  int child;
  fdt_for_each_subnode(child, fdt, resv) {
    int plen;
    const uint8_t *reg = fdt_getprop(fdt, child, "reg", &plen);
    int stride = 4 * (ac + sc);
    if (reg == NULL) {
      continue; /* dynamically placed: the OS allocates it elsewhere */
    }
    if (plen <= 0 || plen % stride != 0) {
      return ROT_ERROR_HANDOFF_BAD_DTB;
    }
    for (int off = 0; off < plen; off += stride) {
      if (ranges_overlap(addr, len, read_cells(reg + off, ac),
                         read_cells(reg + off + 4 * ac, sc))) {
        return ROT_ERROR_HANDOFF_BAD_LOG_REGION;
      }
    }
  }
  return ROT_OK;
}

/* ---- edits ------------------------------------------------------------------ */

/* /reserved-memory with identity ranges (created with the root's cells if
 * missing) and its tpm-event-log child; *phandle names the child. */
static rot_error_t add_log_reservation(void *fdt, int root_ac, int root_sc,
                                       uint64_t addr, uint64_t len,
                                       uint32_t *phandle) {
  int resv = fdt_path_offset(fdt, "/reserved-memory");
  int ac;
  int sc;
  if (resv == -FDT_ERR_NOTFOUND) {
    resv = fdt_add_subnode(fdt, 0, "reserved-memory");
    ROT_TRY(fdt_status(resv));
    ROT_TRY(fdt_status(fdt_setprop_u32(fdt, resv, "#address-cells",
                                       (uint32_t)root_ac)));
    ROT_TRY(fdt_status(fdt_setprop_u32(fdt, resv, "#size-cells",
                                       (uint32_t)root_sc)));
    ROT_TRY(fdt_status(fdt_setprop_empty(fdt, resv, "ranges")));
    ac = root_ac;
    sc = root_sc;
  } else {
    ROT_TRY(resv < 0 ? ROT_ERROR_HANDOFF_BAD_DTB : ROT_OK);
    ROT_TRY(node_cells(fdt, resv, &ac, &sc));
    /* A translating ranges would move the log away from the address the
     * TPM node names. */
    int plen;
    if (fdt_getprop(fdt, resv, "ranges", &plen) != NULL && plen != 0) {
      return ROT_ERROR_HANDOFF_BAD_DTB;
    }
    if (plen == -FDT_ERR_NOTFOUND) {
      ROT_TRY(fdt_status(fdt_setprop_empty(fdt, resv, "ranges")));
    }
  }
  if (!fits_cells(addr, ac) || !fits_cells(len, sc)) {
    return ROT_ERROR_HANDOFF_BAD_LOG_REGION;
  }

  char name[sizeof(LOG_NODE_PREFIX) + 1u + 16u + 1u];
  (void)snprintf(name, sizeof(name), LOG_NODE_PREFIX "@%llx",
                 (unsigned long long)addr);
  int node = fdt_add_subnode(fdt, resv, name);
  ROT_TRY(fdt_status(node));

  uint8_t reg[16];
  write_cells(reg, ac, addr);
  write_cells(reg + 4 * ac, sc, len);
  ROT_TRY(fdt_status(fdt_setprop(fdt, node, "reg", reg, 4 * (ac + sc))));
  /* Linux must neither map nor allocate it: the log is read, not reused. */
  ROT_TRY(fdt_status(fdt_setprop_empty(fdt, node, "no-map")));

  uint32_t ph;
  ROT_TRY(fdt_status(fdt_generate_phandle(fdt, &ph)));
  ROT_TRY(fdt_status(fdt_setprop_u32(fdt, node, "phandle", ph)));
  *phandle = ph;
  return ROT_OK;
}

static rot_error_t add_tpm_node(void *fdt, uint64_t addr, uint32_t size,
                                uint32_t log_phandle) {
  /* One TPM node, or a reader could take another's log location. */
  int other = fdt_node_offset_by_compatible(fdt, -1, BC_HANDOFF_TPM_COMPATIBLE);
  if (other != -FDT_ERR_NOTFOUND) {
    return other >= 0 ? ROT_ERROR_HANDOFF_FDT : ROT_ERROR_HANDOFF_BAD_DTB;
  }
  int bus = fdt_node_offset_by_compatible(fdt, -1,
                                          BC_HANDOFF_PLATFORM_BUS_COMPATIBLE);
  if (bus == -FDT_ERR_NOTFOUND) {
    return ROT_ERROR_HANDOFF_NO_PLATFORM_BUS;
  }
  ROT_TRY(bus < 0 ? ROT_ERROR_HANDOFF_BAD_DTB : ROT_OK);
  int ac;
  int sc;
  ROT_TRY(node_cells(fdt, bus, &ac, &sc));

  int node = fdt_add_subnode(fdt, bus, BC_HANDOFF_TPM_NODE);
  ROT_TRY(fdt_status(node));
  ROT_TRY(fdt_status(fdt_setprop_string(fdt, node, "compatible",
                                        BC_HANDOFF_TPM_COMPATIBLE)));
  uint8_t reg[16];
  write_cells(reg, ac, 0);
  write_cells(reg + 4 * ac, sc, BC_HANDOFF_TPM_REG_SIZE);
  ROT_TRY(fdt_status(fdt_setprop(fdt, node, "reg", reg, 4 * (ac + sc))));
  ROT_TRY(fdt_status(fdt_setprop_u64(fdt, node, "linux,sml-base", addr)));
  ROT_TRY(fdt_status(fdt_setprop_u32(fdt, node, "linux,sml-size", size)));
  ROT_TRY(fdt_status(fdt_setprop_u32(fdt, node, "memory-region",
                                     log_phandle)));
  /* Nothing answers at this MMIO window (the measuring TPM is not given
   * to the guest): an enabled node would make Linux's tpm_tis probe fault
   * on the bus. The node only tells the payload where the log is. */
  ROT_TRY(fdt_status(fdt_setprop_string(fdt, node, "status", "disabled")));
  return ROT_OK;
}

static rot_error_t add_chosen(void *fdt, const bc_handoff_info_t *info) {
  int chosen = fdt_path_offset(fdt, "/chosen");
  if (chosen == -FDT_ERR_NOTFOUND) {
    chosen = fdt_add_subnode(fdt, 0, "chosen");
  }
  ROT_TRY(fdt_status(chosen));

  static const char *const seeds[] = {"rng-seed", "kaslr-seed"};
  for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    int rc = fdt_delprop(fdt, chosen, seeds[i]);
    if (rc != -FDT_ERR_NOTFOUND) {
      ROT_TRY(fdt_status(rc));
    }
  }

  if (info->boot_slot != NULL) {
    ROT_TRY(fdt_status(fdt_setprop_string(fdt, chosen,
                                          BC_HANDOFF_PROP_BOOT_SLOT,
                                          info->boot_slot)));
  }
  if (info->image_version_count != 0) {
    /* A base tree may already carry the name: start the list afresh. */
    ROT_TRY(fdt_status(fdt_setprop_string(fdt, chosen,
                                          BC_HANDOFF_PROP_IMAGE_VERSIONS,
                                          info->image_versions[0])));
    for (size_t i = 1; i < info->image_version_count; i++) {
      ROT_TRY(fdt_status(fdt_appendprop_string(
          fdt, chosen, BC_HANDOFF_PROP_IMAGE_VERSIONS,
          info->image_versions[i])));
    }
  }
  for (size_t i = 0; i < info->chosen_str_count; i++) {
    ROT_TRY(fdt_status(fdt_setprop_string(fdt, chosen,
                                          info->chosen_strs[i].name,
                                          info->chosen_strs[i].value)));
  }
  for (size_t i = 0; i < info->chosen_u64_count; i++) {
    ROT_TRY(fdt_status(fdt_setprop_u64(fdt, chosen,
                                       info->chosen_u64s[i].name,
                                       info->chosen_u64s[i].value)));
  }
  return ROT_OK;
}

/* ---- TPM nodes in the base ------------------------------------------------ */

/* Chips Linux binds as TPMs whose compatible names neither the TCG vendor
 * prefix nor a "tpm" token. */
static const char *const kTpmChips[] = {
    "google,cr50",        "infineon,slb9635tt", "infineon,slb9645tt",
    "infineon,slb9670",   "infineon,slb9673",   "nuvoton,npct501",
    "nuvoton,npct601",    "nuvoton,npct650",    "nuvoton,npct75x",
    "winbond,wpct301",    "atmel,at97sc3204t",  "st,st33zp24-i2c",
    "st,st33zp24-spi",
};

static int ascii_lower(int c) {
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* s[0..n) holds a token (split on ',', '-', '_', '/') naming a TPM:
 * "tpm", "tpm2", "ftpm", "vtpm", "vtpm20" in any case. "st,stpmic1" (a
 * power controller) has no such token. */
static int has_tpm_token(const char *s, size_t n) {
  static const char *const kTokens[] = {"tpm", "tpm2", "ftpm", "vtpm",
                                        "vtpm20"};
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && s[i] != ',' && s[i] != '-' && s[i] != '_' && s[i] != '/') {
      continue;
    }
    size_t len = i - start;
    for (size_t t = 0; t < sizeof(kTokens) / sizeof(kTokens[0]); t++) {
      size_t tl = strlen(kTokens[t]);
      size_t k = 0;
      while (k < tl && k < len &&
             ascii_lower((unsigned char)s[start + k]) == kTokens[t][k]) {
        k++;
      }
      if (tl == len && k == tl) {
        return 1;
      }
    }
    start = i + 1;
  }
  return 0;
}

/* One compatible entry (s[0..n), no NUL) that names a TPM. */
static int tpm_compatible(const char *s, size_t n) {
  if (n >= 4 && memcmp(s, "tcg,", 4) == 0) {
    return 1; /* the TCG's vendor prefix names nothing but TPMs */
  }
  for (size_t i = 0; i < sizeof(kTpmChips) / sizeof(kTpmChips[0]); i++) {
    if (strlen(kTpmChips[i]) == n && memcmp(kTpmChips[i], s, n) == 0) {
      return 1;
    }
  }
  return has_tpm_token(s, n);
}

/* A string-list value (compatible, device_type) with any entry naming a
 * TPM. Entries are split at NULs within len; an unterminated tail counts. */
static int tpm_string_list(const char *v, int len) {
  int start = 0;
  for (int i = 0; i <= len; i++) {
    if (i == len || v[i] == '\0') {
      if (i > start && tpm_compatible(v + start, (size_t)(i - start))) {
        return 1;
      }
      start = i + 1;
    }
  }
  return 0;
}

/*
 * 1 when node describes a TPM or an event log location: a property named
 * linux,sml-* (the log base, size, or the log itself), a compatible or
 * device_type naming a TPM, or the node name "tpm" / "tpm@...". A second
 * such node next to the one the handoff adds would let a reader (Linux
 * takes the first TPM it finds) pick up a log the chain never wrote.
 */
static int node_is_tpm(const void *fdt, int node) {
  int nlen;
  const char *name = fdt_get_name(fdt, node, &nlen);
  if (name != NULL && nlen >= 3 && memcmp(name, "tpm", 3) == 0 &&
      (nlen == 3 || name[3] == '@')) {
    return 1;
  }
  int prop;
  fdt_for_each_property_offset(prop, fdt, node) {
    const char *pname;
    int len;
    const char *v = fdt_getprop_by_offset(fdt, prop, &pname, &len);
    if (v == NULL || pname == NULL || len < 0) {
      return 1; /* unreadable: refuse rather than guess */
    }
    if (strncmp(pname, "linux,sml-", 10) == 0) {
      return 1;
    }
    if ((strcmp(pname, "compatible") == 0 ||
         strcmp(pname, "device_type") == 0) &&
        tpm_string_list(v, len)) {
      return 1;
    }
  }
  return 0;
}

/* Every node of the tree but except (-1: none) is free of TPM nodes and
 * log locations. The tree has passed fdt_check_full, so the walk ends. */
static int no_tpm_nodes(const void *fdt, int except) {
  int depth = 0;
  for (int node = 0; node >= 0; node = fdt_next_node(fdt, node, &depth)) {
    if (node != except && node_is_tpm(fdt, node)) {
      return 0;
    }
  }
  return 1;
}

/*
 * The header, read before any libfdt call. libfdt 1.6.1's fdt_check_full
 * dereferences NULL on some pre-v16 trees (whose nodes carry full paths),
 * so only the current format ever reaches it: version 17, readable by a
 * version 16 reader, exactly base_len bytes.
 */
static int header_ok(const void *fdt, size_t len) {
  if (len < sizeof(struct fdt_header) || len > INT_MAX) {
    return 0;
  }
  return fdt_magic(fdt) == FDT_MAGIC &&
         fdt_version(fdt) == FDT_VERSION_WANTED &&
         fdt_last_comp_version(fdt) <= FDT_VERSION_WANTED &&
         fdt_totalsize(fdt) == len;
}

/*
 * fdt_check_full checks each block lies inside the tree but not that they
 * are disjoint: a memory reservation map without its terminator runs on
 * into the structure block, and libfdt would then read structure bytes as
 * reservations. Require dtc's layout instead (header, map, structure,
 * strings, in that order, no overlap), which also keeps the opened tree
 * no larger than the base.
 */
static int layout_ok(const void *fdt) {
  int n = fdt_num_mem_rsv(fdt);
  if (n < 0) {
    return 0;
  }
  uint64_t rsv = fdt_off_mem_rsvmap(fdt);
  uint64_t rsv_end = rsv + ((uint64_t)n + 1u) * sizeof(struct fdt_reserve_entry);
  uint64_t st = fdt_off_dt_struct(fdt);
  uint64_t st_end = st + fdt_size_dt_struct(fdt);
  uint64_t str = fdt_off_dt_strings(fdt);
  uint64_t str_end = str + fdt_size_dt_strings(fdt);
  return rsv >= sizeof(struct fdt_header) && rsv_end <= st && st_end <= str &&
         str_end <= fdt_totalsize(fdt);
}

static rot_error_t build(const void *base, size_t base_len,
                         const bc_handoff_info_t *info, void *out, size_t cap,
                         size_t *out_len) {
  if (!header_ok(base, base_len) || fdt_check_full(base, base_len) != 0 ||
      !layout_ok(base)) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  /* docs/handoff.md promises one TPM node: the one added here. */
  if (!no_tpm_nodes(base, -1)) {
    return ROT_ERROR_HANDOFF_FDT;
  }
  int capi = cap > INT_MAX ? INT_MAX : (int)cap;
  ROT_TRY(fdt_status(fdt_open_into(base, out, capi)));

  int root_ac;
  int root_sc;
  ROT_TRY(node_cells(out, 0, &root_ac, &root_sc));
  uint64_t region = round_up_page(info->log_size);
  ROT_TRY(check_in_ram(out, root_ac, root_sc, info->log_addr, region));
  int resv = fdt_path_offset(out, "/reserved-memory");
  if (resv < 0 && resv != -FDT_ERR_NOTFOUND) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  ROT_TRY(check_unreserved(out, resv, info->log_addr, region));

  uint32_t phandle;
  ROT_TRY(add_log_reservation(out, root_ac, root_sc, info->log_addr, region,
                              &phandle));
  ROT_TRY(add_tpm_node(out, info->log_addr, info->log_size, phandle));
  ROT_TRY(add_chosen(out, info));

  ROT_TRY(fdt_status(fdt_pack(out)));
  size_t total = fdt_totalsize(out);
  if (total > cap || fdt_check_full(out, total) != 0) {
    return ROT_ERROR_HANDOFF_FDT;
  }
  *out_len = total;
  return ROT_OK;
}

rot_error_t bc_handoff_build(const void *base, size_t base_len,
                             const bc_handoff_info_t *info, void *out,
                             size_t cap, size_t *out_len) {
  size_t payload;
  if (base == NULL || info == NULL || out == NULL || out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out_len = 0;
  const uint8_t *b = base;
  const uint8_t *o = out;
  if (ranges_overlap((uintptr_t)b, base_len, (uintptr_t)o, cap)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(info_check(info, &payload));
  rot_error_t err = build(base, base_len, info, out, cap, out_len);
  if (err != ROT_OK) {
    /* Never leave a half-edited tree that could be mistaken for output. */
    memset(out, 0, cap);
  }
  return err;
}

/* ---- reading the handoff back ----------------------------------------------- */

/* Where a handoff tree's event log is described: the TPM node, the
 * reservation node its memory-region points at and that node's cell
 * counts, and the log's place as the TPM node gives it. */
typedef struct log_place {
  int tpm;
  int log;
  int ac;
  int sc;
  int rlen;
  uint64_t base;
  uint32_t size;
} log_place_t;

/* Read a handoff tree back (bc_handoff_log_location's checks) into *lp. */
static rot_error_t locate_log(const void *dtb, size_t len, log_place_t *lp) {
  /* A tree inside a larger buffer is fine here: only the header's own
   * size must fit. */
  if (len < sizeof(struct fdt_header) || len > INT_MAX ||
      !header_ok(dtb, fdt_totalsize(dtb)) || fdt_totalsize(dtb) > len ||
      fdt_check_full(dtb, len) != 0 || !layout_ok(dtb)) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  int tpm = fdt_node_offset_by_compatible(dtb, -1, BC_HANDOFF_TPM_COMPATIBLE);
  if (tpm < 0 || fdt_node_offset_by_compatible(
                     dtb, tpm, BC_HANDOFF_TPM_COMPATIBLE) != -FDT_ERR_NOTFOUND ||
      !no_tpm_nodes(dtb, tpm)) {
    return ROT_ERROR_HANDOFF_BAD_DTB; /* none, or ambiguous */
  }
  int blen;
  int slen;
  int plen;
  const void *b = fdt_getprop(dtb, tpm, "linux,sml-base", &blen);
  const void *s = fdt_getprop(dtb, tpm, "linux,sml-size", &slen);
  const void *p = fdt_getprop(dtb, tpm, "memory-region", &plen);
  if (b == NULL || blen != 8 || s == NULL || slen != 4 || p == NULL ||
      plen != 4) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  uint64_t base = fdt64_ld((const fdt64_t *)b);
  uint32_t sz = fdt32_ld((const fdt32_t *)s);

  /* The reservation must cover exactly the place the TPM node names. */
  int log = fdt_node_offset_by_phandle(dtb, fdt32_ld((const fdt32_t *)p));
  if (log < 0) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  int parent = fdt_parent_offset(dtb, log);
  int ac;
  int sc;
  if (parent < 0 || node_cells(dtb, parent, &ac, &sc) != ROT_OK) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  int rlen;
  const uint8_t *reg = fdt_getprop(dtb, log, "reg", &rlen);
  if (reg == NULL || rlen != 4 * (ac + sc)) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  if (sz == 0 || read_cells(reg, ac) != base ||
      read_cells(reg + 4 * ac, sc) < sz) {
    return ROT_ERROR_HANDOFF_BAD_DTB;
  }
  *lp = (log_place_t){.tpm = tpm, .log = log, .ac = ac, .sc = sc,
                      .rlen = rlen, .base = base, .size = sz};
  return ROT_OK;
}

rot_error_t bc_handoff_log_location(const void *dtb, size_t len,
                                    uint64_t *addr, uint32_t *size) {
  if (dtb == NULL || addr == NULL || size == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  log_place_t lp;
  ROT_TRY(locate_log(dtb, len, &lp));
  *addr = lp.base;
  *size = lp.size;
  return ROT_OK;
}

rot_error_t bc_handoff_set_log_size(void *dtb, size_t len, uint32_t log_size) {
  if (dtb == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  log_place_t lp;
  ROT_TRY(locate_log(dtb, len, &lp));
  if (log_size == 0 || log_size > lp.size) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t reg[16];
  write_cells(reg, lp.ac, lp.base);
  write_cells(reg + 4 * lp.ac, lp.sc, round_up_page(log_size));
  ROT_TRY(fdt_status(fdt_setprop_inplace(dtb, lp.log, "reg", reg, lp.rlen)));
  ROT_TRY(fdt_status(
      fdt_setprop_inplace_u32(dtb, lp.tpm, "linux,sml-size", log_size)));
  return ROT_OK;
}
