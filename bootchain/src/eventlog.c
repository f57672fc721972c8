/*
 * TCG crypto-agile event log: writer, strict parser, replayer, and the
 * event data encoders of the PCR plan. No allocation and no libc, so the
 * same code can run on a chip and in the attestation verifier.
 */
#include "bootchain/eventlog.h"

#include "rot/util.h"

const uint8_t bc_log_spec_id_signature[BC_LOG_SPEC_ID_SIGNATURE_LEN] = {
    'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ',
    'E', 'v', 'e', 'n', 't', '0', '3', 0};

/* 89d9ef9a-9269-41e9-8b60-aca381743b41 in EFI_GUID byte order. */
const uint8_t bc_ev_vendor_guid[BC_EV_GUID_LEN] = {
    0x9a, 0xef, 0xd9, 0x89, 0x69, 0x92, 0xe9, 0x41,
    0x8b, 0x60, 0xac, 0xa3, 0x81, 0x74, 0x3b, 0x41};

/* TCG_EfiSpecIDEventStruct: fixed part before the algorithm array. */
#define SPEC_ID_FIXED 28u /* signature 16, class 4, 4 x u8, count 4 */
#define SPEC_VERSION_MAJOR 2u
#define SPEC_VERSION_MINOR 0u
#define SPEC_ERRATA 2u
#define UINTN_SIZE_U64 2u
#define UINTN_SIZE_U32 1u
#define SEPARATOR_DATA_LEN 4u
#define S_CRTM_VERSION_MAX 63u

uint16_t bc_log_alg_size(uint16_t alg) {
  switch (alg) {
    case BC_ALG_SHA1:
      return 20u;
    case BC_ALG_SHA256:
      return 32u;
    case BC_ALG_SHA384:
      return 48u;
    case BC_ALG_SHA512:
      return 64u;
    default:
      return 0u;
  }
}

const char *bc_log_alg_name(uint16_t alg) {
  switch (alg) {
    case BC_ALG_SHA1:
      return "sha1";
    case BC_ALG_SHA256:
      return "sha256";
    case BC_ALG_SHA384:
      return "sha384";
    case BC_ALG_SHA512:
      return "sha512";
    default:
      return NULL;
  }
}

const char *bc_log_event_type_name(uint32_t type) {
  switch (type) {
#define NAME_(t) \
  case BC_##t:   \
    return #t;
    NAME_(EV_PREBOOT_CERT)
    NAME_(EV_POST_CODE)
    NAME_(EV_NO_ACTION)
    NAME_(EV_SEPARATOR)
    NAME_(EV_ACTION)
    NAME_(EV_EVENT_TAG)
    NAME_(EV_S_CRTM_CONTENTS)
    NAME_(EV_S_CRTM_VERSION)
    NAME_(EV_CPU_MICROCODE)
    NAME_(EV_PLATFORM_CONFIG_FLAGS)
    NAME_(EV_TABLE_OF_DEVICES)
    NAME_(EV_COMPACT_HASH)
    NAME_(EV_IPL)
    NAME_(EV_IPL_PARTITION_DATA)
    NAME_(EV_NONHOST_CODE)
    NAME_(EV_NONHOST_CONFIG)
    NAME_(EV_NONHOST_INFO)
    NAME_(EV_OMIT_BOOT_DEVICE_EVENTS)
    NAME_(EV_EFI_VARIABLE_DRIVER_CONFIG)
    NAME_(EV_EFI_VARIABLE_BOOT)
    NAME_(EV_EFI_BOOT_SERVICES_APPLICATION)
    NAME_(EV_EFI_BOOT_SERVICES_DRIVER)
    NAME_(EV_EFI_RUNTIME_SERVICES_DRIVER)
    NAME_(EV_EFI_GPT_EVENT)
    NAME_(EV_EFI_ACTION)
    NAME_(EV_EFI_PLATFORM_FIRMWARE_BLOB)
    NAME_(EV_EFI_HANDOFF_TABLES)
    NAME_(EV_EFI_PLATFORM_FIRMWARE_BLOB2)
    NAME_(EV_EFI_HANDOFF_TABLES2)
    NAME_(EV_EFI_VARIABLE_BOOT2)
    NAME_(EV_EFI_HCRTM_EVENT)
    NAME_(EV_EFI_VARIABLE_AUTHORITY)
#undef NAME_
    default:
      return NULL;
  }
}

int bc_log_type_is_data_bound(uint32_t type) {
  switch (type) {
    case BC_EV_SEPARATOR:
    case BC_EV_S_CRTM_VERSION:
    case BC_EV_PLATFORM_CONFIG_FLAGS:
    case BC_EV_EVENT_TAG:
    case BC_EV_EFI_ACTION:
    case BC_EV_EFI_VARIABLE_DRIVER_CONFIG:
      return 1;
    default:
      return 0;
  }
}

int bc_log_type_is_pfp_data_bound(uint32_t type) {
  switch (type) {
    case BC_EV_SEPARATOR:
    case BC_EV_S_CRTM_VERSION:
    case BC_EV_EFI_ACTION:
    case BC_EV_EFI_VARIABLE_DRIVER_CONFIG:
    case BC_EV_EFI_GPT_EVENT:
      return 1;
    default:
      return 0;
  }
}

int bc_log_event_is_data_bound(const bc_log_header_t *h,
                               const bc_log_event_t *ev) {
  if (h == NULL || ev == NULL || ev->type == BC_EV_NO_ACTION) {
    return 0;
  }
  return h->mode == BC_LOG_FIRMWARE ? bc_log_type_is_pfp_data_bound(ev->type)
                                    : bc_log_type_is_data_bound(ev->type);
}

/* The crypto port names hashes by their TPM algorithm id. */
static int alg_hashable(uint16_t alg) {
  return rot_hash_len((rot_hash_alg_t)alg) != 0 &&
         rot_hash_len((rot_hash_alg_t)alg) == bc_log_alg_size(alg);
}

/* ---- Writer -------------------------------------------------------------- */

rot_error_t bc_log_init(bc_log_writer_t *w, uint8_t *buf, size_t cap,
                        const uint16_t *algs, size_t nalgs) {
  if (w == NULL || buf == NULL || algs == NULL || nalgs == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (nalgs > BC_LOG_MAX_BANKS) {
    return ROT_ERROR_UNSUPPORTED;
  }
  for (size_t i = 0; i < nalgs; i++) {
    if (bc_log_alg_size(algs[i]) == 0) {
      return ROT_ERROR_UNSUPPORTED;
    }
    for (size_t j = 0; j < i; j++) {
      if (algs[j] == algs[i]) {
        return ROT_ERROR_INVALID_ARGUMENT;
      }
    }
  }
  if (cap > BC_LOG_MAX_SIZE) {
    cap = BC_LOG_MAX_SIZE;
  }
  size_t spec_len = SPEC_ID_FIXED + 4u * nalgs + 1u;
  size_t total = BC_LOG_PCCLIENT_HDR_LEN + spec_len;
  if (total > cap) {
    return ROT_ERROR_EVENTLOG_FULL;
  }

  rot_memset(w, 0, sizeof(*w));
  w->buf = buf;
  w->cap = cap;
  w->bank_count = (uint32_t)nalgs;
  for (size_t i = 0; i < nalgs; i++) {
    w->banks[i].alg = algs[i];
    w->banks[i].size = bc_log_alg_size(algs[i]);
  }

  uint8_t *p = buf;
  rot_memset(p, 0, total);
  rot_st32(p + 0, 0);                /* PCRIndex */
  rot_st32(p + 4, BC_EV_NO_ACTION);  /* EventType */
  /* p + 8: 20 zero digest bytes */
  rot_st32(p + 28, (uint32_t)spec_len);
  p += BC_LOG_PCCLIENT_HDR_LEN;
  rot_memcpy(p, bc_log_spec_id_signature, BC_LOG_SPEC_ID_SIGNATURE_LEN);
  rot_st32(p + 16, 0); /* platformClass: client */
  p[20] = SPEC_VERSION_MINOR;
  p[21] = SPEC_VERSION_MAJOR;
  p[22] = SPEC_ERRATA;
  p[23] = UINTN_SIZE_U64;
  rot_st32(p + 24, (uint32_t)nalgs);
  p += SPEC_ID_FIXED;
  for (size_t i = 0; i < nalgs; i++) {
    rot_st16(p, w->banks[i].alg);
    rot_st16(p + 2, w->banks[i].size);
    p += 4;
  }
  *p = 0; /* vendorInfoSize */
  w->len = total;
  return ROT_OK;
}

size_t bc_log_record_size(const bc_log_writer_t *w, size_t data_len) {
  /* pcrIndex, eventType, digests.count | per bank: algId, digest | size */
  size_t n = 12u + 4u;
  for (uint32_t i = 0; i < w->bank_count; i++) {
    n += 2u + w->banks[i].size;
  }
  return data_len > SIZE_MAX - n ? SIZE_MAX : n + data_len;
}

/* Bytes of a record with this writer's banks and dlen bytes of data, or 0
 * when it cannot fit the log limits at all. */
static size_t record_len(const bc_log_writer_t *w, size_t dlen) {
  size_t n = bc_log_record_size(w, 0);
  if (dlen > BC_LOG_MAX_SIZE - n) {
    return 0;
  }
  return n + dlen;
}

/* Validate an append; *rec_len gets the size of the record to write. */
static rot_error_t begin_record(const bc_log_writer_t *w, uint32_t pcr,
                                uint32_t type, const void *data, size_t dlen,
                                size_t *rec_len) {
  if (w == NULL || w->buf == NULL || w->bank_count == 0 ||
      w->bank_count > BC_LOG_MAX_BANKS || (data == NULL && dlen != 0) ||
      pcr >= BC_LOG_PCR_COUNT || type == BC_EV_NO_ACTION) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (w->event_count >= BC_LOG_MAX_EVENTS) {
    return ROT_ERROR_EVENTLOG_FULL;
  }
  size_t n = record_len(w, dlen);
  if (n == 0 || w->len > w->cap || n > w->cap - w->len) {
    return ROT_ERROR_EVENTLOG_FULL;
  }
  *rec_len = n;
  return ROT_OK;
}

/* Write a record whose room begin_record has checked. */
static void put_record(bc_log_writer_t *w, uint32_t pcr, uint32_t type,
                       const bc_log_digests_t *d, const void *data,
                       size_t dlen, size_t n) {
  uint8_t *p = w->buf + w->len;
  rot_st32(p, pcr);
  rot_st32(p + 4, type);
  rot_st32(p + 8, w->bank_count);
  p += 12;
  for (uint32_t i = 0; i < w->bank_count; i++) {
    rot_st16(p, w->banks[i].alg);
    rot_memcpy(p + 2, d->value[i], w->banks[i].size);
    p += 2u + w->banks[i].size;
  }
  rot_st32(p, (uint32_t)dlen);
  if (dlen != 0) {
    rot_memcpy(p + 4, data, dlen);
  }
  w->len += n;
  w->event_count++;
}

rot_error_t bc_log_append_digests(bc_log_writer_t *w, uint32_t pcr,
                                  uint32_t type, const bc_log_digests_t *d,
                                  const void *data, size_t data_len) {
  size_t n = 0;
  if (d == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(begin_record(w, pcr, type, data, data_len, &n));
  put_record(w, pcr, type, d, data, data_len, n);
  return ROT_OK;
}

/* Hash src in every bank of the writer. */
static rot_error_t hash_banks(const rot_crypto_t *c, const bc_log_bank_t *banks,
                              uint32_t count, const void *src, size_t len,
                              bc_log_digests_t *d) {
  for (uint32_t i = 0; i < count; i++) {
    if (!alg_hashable(banks[i].alg)) {
      return ROT_ERROR_UNSUPPORTED;
    }
    ROT_TRY(rot_hash(c, (rot_hash_alg_t)banks[i].alg, src, len, d->value[i],
                     BC_LOG_MAX_DIGEST));
  }
  return ROT_OK;
}

rot_error_t bc_log_measure(bc_log_writer_t *w, const rot_crypto_t *c,
                           uint32_t pcr, uint32_t type, const void *measured,
                           size_t mlen, const void *data, size_t dlen,
                           bc_log_digests_t *out) {
  size_t n = 0;
  if (c == NULL || (measured == NULL && mlen != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(begin_record(w, pcr, type, data, dlen, &n));
  bc_log_digests_t d;
  rot_memset(&d, 0, sizeof(d));
  ROT_TRY(hash_banks(c, w->banks, w->bank_count, measured, mlen, &d));
  put_record(w, pcr, type, &d, data, dlen, n);
  if (out != NULL) {
    rot_memcpy(out, &d, sizeof(d));
  }
  return ROT_OK;
}

rot_error_t bc_log_append_data(bc_log_writer_t *w, const rot_crypto_t *c,
                               uint32_t pcr, uint32_t type, const void *data,
                               size_t len, bc_log_digests_t *out) {
  return bc_log_measure(w, c, pcr, type, data, len, data, len, out);
}

rot_error_t bc_log_separator(bc_log_writer_t *w, const rot_crypto_t *c,
                             uint32_t pcr, bc_log_digests_t *out) {
  static const uint8_t sep[SEPARATOR_DATA_LEN] = {0, 0, 0, 0};
  return bc_log_append_data(w, c, pcr, BC_EV_SEPARATOR, sep, sizeof(sep), out);
}

rot_error_t bc_log_s_crtm_version(bc_log_writer_t *w, const rot_crypto_t *c,
                                  const char *version, bc_log_digests_t *out) {
  if (version == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t ucs2[2u * (S_CRTM_VERSION_MAX + 1u)];
  size_t n = 0;
  while (version[n] != '\0') {
    uint8_t ch = (uint8_t)version[n];
    if (n >= S_CRTM_VERSION_MAX || ch < 0x20u || ch > 0x7eu) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    ucs2[2u * n] = ch;
    ucs2[2u * n + 1u] = 0;
    n++;
  }
  if (n == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ucs2[2u * n] = 0;
  ucs2[2u * n + 1u] = 0;
  return bc_log_append_data(w, c, 0, BC_EV_S_CRTM_VERSION, ucs2, 2u * (n + 1u),
                            out);
}

/* ---- Parser -------------------------------------------------------------- */

/* Is [off, off + n) inside a buffer of size bytes? Written so it cannot
 * overflow. */
static int fits(size_t size, size_t off, size_t n) {
  return !(n > size || off > size - n);
}

/*
 * Event data whose layout the PFP fixes must hold its structure: shorter
 * is malformed in any mode (as tpm2_eventlog treats it); in strict mode
 * the structure must also account for every byte.
 */
static rot_error_t check_typed_data(uint32_t mode, uint32_t type,
                                    const uint8_t *d, size_t n) {
  int strict = mode != BC_LOG_FIRMWARE;
  switch (type) {
    case BC_EV_EFI_VARIABLE_DRIVER_CONFIG:
    case BC_EV_EFI_VARIABLE_BOOT:
    case BC_EV_EFI_VARIABLE_BOOT2:
    case BC_EV_EFI_VARIABLE_AUTHORITY: {
      if (n < BC_EV_VARIABLE_FIXED) {
        return ROT_ERROR_EVENTLOG_BAD_EVENT;
      }
      uint64_t chars = rot_ld64(d + 16);
      uint64_t vlen = rot_ld64(d + 24);
      uint64_t rest = n - BC_EV_VARIABLE_FIXED;
      /* chars <= rest / 2 first, so 2 * chars cannot wrap. */
      if (chars > rest / 2u || vlen > rest - 2u * chars ||
          (strict && vlen != rest - 2u * chars)) {
        return ROT_ERROR_EVENTLOG_BAD_EVENT;
      }
      return ROT_OK;
    }
    case BC_EV_EFI_PLATFORM_FIRMWARE_BLOB:
      return n < BC_EV_BLOB_LEN || (strict && n != BC_EV_BLOB_LEN)
                 ? ROT_ERROR_EVENTLOG_BAD_EVENT
                 : ROT_OK;
    case BC_EV_EFI_PLATFORM_FIRMWARE_BLOB2: {
      /* u8 description size | description | u64 base | u64 length */
      if (n < 1u) {
        return ROT_ERROR_EVENTLOG_BAD_EVENT;
      }
      size_t need = 1u + (size_t)d[0] + BC_EV_BLOB_LEN;
      return n < need || (strict && n != need) ? ROT_ERROR_EVENTLOG_BAD_EVENT
                                               : ROT_OK;
    }
    case BC_EV_POST_CODE: {
      /* A UEFI_PLATFORM_FIRMWARE_BLOB or a short description, never empty
       * and never more than a description needs. */
      if (n == 0 || n > BC_EV_POST_CODE_MAX) {
        return ROT_ERROR_EVENTLOG_BAD_EVENT;
      }
      if (!strict || n == BC_EV_BLOB_LEN) {
        return ROT_OK;
      }
      for (size_t i = 0; i < n; i++) {
        if (d[i] < 0x20u || d[i] > 0x7eu) {
          return ROT_ERROR_EVENTLOG_BAD_EVENT;
        }
      }
      return ROT_OK;
    }
    case BC_EV_EFI_BOOT_SERVICES_APPLICATION:
    case BC_EV_EFI_BOOT_SERVICES_DRIVER:
    case BC_EV_EFI_RUNTIME_SERVICES_DRIVER: {
      if (n < BC_EV_IMAGE_LOAD_LEN) {
        return ROT_ERROR_EVENTLOG_BAD_EVENT;
      }
      uint64_t path = rot_ld64(d + 24);
      uint64_t rest = n - BC_EV_IMAGE_LOAD_LEN;
      return path > rest || (strict && path != rest)
                 ? ROT_ERROR_EVENTLOG_BAD_EVENT
                 : ROT_OK;
    }
    default:
      return ROT_OK;
  }
}

/* The first record is a Spec ID Event03 header (not necessarily a valid
 * one): PCR 0, EV_NO_ACTION, and the signature where the data starts. */
static int looks_like_spec_id(const uint8_t *buf, size_t len) {
  return fits(len, 0, BC_LOG_PCCLIENT_HDR_LEN + BC_LOG_SPEC_ID_SIGNATURE_LEN) &&
         rot_ld32(buf) == 0 && rot_ld32(buf + 4) == BC_EV_NO_ACTION &&
         rot_memeq(buf + BC_LOG_PCCLIENT_HDR_LEN, bc_log_spec_id_signature,
                   BC_LOG_SPEC_ID_SIGNATURE_LEN);
}

static rot_error_t parse_header(const uint8_t *buf, size_t len,
                                bc_log_header_t *h) {
  if (!fits(len, 0, BC_LOG_PCCLIENT_HDR_LEN)) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  if (rot_ld32(buf) != 0 || rot_ld32(buf + 4) != BC_EV_NO_ACTION ||
      !rot_is_zero(buf + 8, 20)) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  size_t spec_len = rot_ld32(buf + 28);
  if (!fits(len, BC_LOG_PCCLIENT_HDR_LEN, spec_len) ||
      spec_len < SPEC_ID_FIXED + 4u + 1u) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  const uint8_t *s = buf + BC_LOG_PCCLIENT_HDR_LEN;
  if (!rot_memeq(s, bc_log_spec_id_signature, BC_LOG_SPEC_ID_SIGNATURE_LEN)) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  h->platform_class = rot_ld32(s + 16);
  h->spec_version_minor = s[20];
  h->spec_version_major = s[21];
  h->spec_errata = s[22];
  h->uintn_size = s[23];
  if (h->spec_version_major != SPEC_VERSION_MAJOR ||
      h->spec_version_minor != SPEC_VERSION_MINOR ||
      (h->uintn_size != UINTN_SIZE_U32 && h->uintn_size != UINTN_SIZE_U64)) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  uint32_t count = rot_ld32(s + 24);
  if (count == 0 || count > BC_LOG_MAX_BANKS) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  /* count <= 4, so this cannot overflow; +1 for vendorInfoSize. */
  size_t off = SPEC_ID_FIXED;
  if (!fits(spec_len, off, 4u * count + 1u)) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  h->bank_count = count;
  for (uint32_t i = 0; i < count; i++) {
    uint16_t alg = rot_ld16(s + off);
    uint16_t size = rot_ld16(s + off + 2);
    if (bc_log_alg_size(alg) == 0 || bc_log_alg_size(alg) != size) {
      return ROT_ERROR_EVENTLOG_BAD_HEADER;
    }
    for (uint32_t j = 0; j < i; j++) {
      if (h->banks[j].alg == alg) {
        return ROT_ERROR_EVENTLOG_BAD_HEADER;
      }
    }
    h->banks[i].alg = alg;
    h->banks[i].size = size;
    off += 4;
  }
  h->vendor_info_size = s[off];
  off += 1;
  /* The vendor info must end exactly where EventSize says the data does. */
  if (spec_len - off != h->vendor_info_size) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  h->vendor_info = s + off;
  h->header_len = BC_LOG_PCCLIENT_HDR_LEN + spec_len;
  return ROT_OK;
}

/* Parse the record at off; on success fills ev (without index/offset). */
static rot_error_t parse_record(const uint8_t *buf, size_t len, size_t off,
                                const bc_log_header_t *h, bc_log_event_t *ev) {
  size_t p = off;
  if (!fits(len, p, 8)) {
    return ROT_ERROR_EVENTLOG_TRUNCATED;
  }
  ev->pcr = rot_ld32(buf + p);
  ev->type = rot_ld32(buf + p + 4);
  if (ev->pcr >= BC_LOG_PCR_COUNT) {
    return ROT_ERROR_EVENTLOG_BAD_PCR;
  }
  if (ev->type == BC_EV_NO_ACTION && h->mode != BC_LOG_FIRMWARE) {
    return ROT_ERROR_EVENTLOG_NO_ACTION;
  }
  p += 8;
  if (!fits(len, p, 4)) {
    return ROT_ERROR_EVENTLOG_TRUNCATED;
  }
  uint32_t count = rot_ld32(buf + p);
  /* Firmware logs may carry fewer digests than the header declares (read
   * with a warning); never more, and never none. */
  if (count != h->bank_count &&
      (h->mode != BC_LOG_FIRMWARE || count == 0 || count > h->bank_count)) {
    return ROT_ERROR_EVENTLOG_BAD_DIGESTS;
  }
  ev->digest_count = count;
  p += 4;
  /* ev->digests[] starts all NULL: a repeated algorithm finds its slot set. */
  for (uint32_t i = 0; i < count; i++) {
    if (!fits(len, p, 2)) {
      return ROT_ERROR_EVENTLOG_TRUNCATED;
    }
    uint16_t alg = rot_ld16(buf + p);
    uint32_t bank = h->bank_count;
    for (uint32_t j = 0; j < h->bank_count; j++) {
      if (h->banks[j].alg == alg) {
        bank = j;
      }
    }
    if (bank == h->bank_count || ev->digests[bank] != NULL) {
      return ROT_ERROR_EVENTLOG_BAD_DIGESTS;
    }
    p += 2;
    if (!fits(len, p, h->banks[bank].size)) {
      return ROT_ERROR_EVENTLOG_TRUNCATED;
    }
    ev->digests[bank] = buf + p;
    p += h->banks[bank].size;
  }
  if (!fits(len, p, 4)) {
    return ROT_ERROR_EVENTLOG_TRUNCATED;
  }
  uint32_t dlen = rot_ld32(buf + p);
  p += 4;
  if (!fits(len, p, dlen)) {
    return ROT_ERROR_EVENTLOG_TRUNCATED;
  }
  ev->data_len = dlen;
  ev->data = buf + p;
  p += dlen;
  ev->record_len = p - off;
  return check_typed_data(h->mode, ev->type, ev->data, ev->data_len);
}

/* A TCG 1.2 TCG_PCClientPCREvent: u32 PCRIndex | u32 EventType |
 * u8 digest[20] | u32 EventSize | Event[EventSize]. */
static rot_error_t parse_sha1_record(const uint8_t *buf, size_t len,
                                     size_t off, const bc_log_header_t *h,
                                     bc_log_event_t *ev) {
  if (!fits(len, off, BC_LOG_PCCLIENT_HDR_LEN)) {
    return ROT_ERROR_EVENTLOG_TRUNCATED;
  }
  ev->pcr = rot_ld32(buf + off);
  ev->type = rot_ld32(buf + off + 4);
  if (ev->pcr >= BC_LOG_PCR_COUNT) {
    return ROT_ERROR_EVENTLOG_BAD_PCR;
  }
  ev->digests[0] = buf + off + 8;
  ev->digest_count = 1;
  uint32_t dlen = rot_ld32(buf + off + 28);
  size_t p = off + BC_LOG_PCCLIENT_HDR_LEN;
  if (!fits(len, p, dlen)) {
    return ROT_ERROR_EVENTLOG_TRUNCATED;
  }
  ev->data_len = dlen;
  ev->data = buf + p;
  ev->record_len = BC_LOG_PCCLIENT_HDR_LEN + (size_t)dlen;
  return check_typed_data(h->mode, ev->type, ev->data, ev->data_len);
}

/*
 * What EV_NO_ACTION records mean for the replay: a StartupLocality event
 * (PFP) sets PCR 0's initial value, so it must come before anything is
 * extended into PCR 0, once, on PCR 0, with a TPM locality. Other
 * EV_NO_ACTION records are information only.
 */
static rot_error_t note_record(bc_log_header_t *h, const bc_log_event_t *ev,
                               int *pcr0_extended) {
  if (ev->digest_count < h->bank_count) {
    h->warnings |= BC_LOG_WARN_MISSING_DIGESTS;
    h->short_events++;
  }
  if (ev->type != BC_EV_NO_ACTION) {
    if (ev->pcr == 0) {
      *pcr0_extended = 1;
    }
    return ROT_OK;
  }
  h->warnings |= BC_LOG_WARN_NO_ACTION;
  h->no_action_events++;
  static const char kSig[] = BC_LOG_STARTUP_LOCALITY_SIGNATURE;
  if (ev->data_len < sizeof(kSig) || !rot_memeq(ev->data, kSig, sizeof(kSig))) {
    return ROT_OK;
  }
  if (ev->data_len != BC_LOG_STARTUP_LOCALITY_LEN || ev->pcr != 0 ||
      *pcr0_extended || h->has_startup_locality ||
      ev->data[sizeof(kSig)] > BC_LOG_MAX_LOCALITY) {
    return ROT_ERROR_EVENTLOG_BAD_EVENT;
  }
  h->has_startup_locality = 1;
  h->startup_locality = ev->data[sizeof(kSig)];
  return ROT_OK;
}

/* The header in the given mode: a Spec ID Event03 header, or (firmware
 * mode, when the log does not start with one) the implied header of a TCG
 * 1.2 SHA-1 log. */
static rot_error_t parse_header_mode(const uint8_t *buf, size_t len,
                                     uint32_t mode, bc_log_header_t *h) {
  h->mode = mode;
  if (mode == BC_LOG_FIRMWARE && !looks_like_spec_id(buf, len)) {
    if (!fits(len, 0, BC_LOG_PCCLIENT_HDR_LEN)) {
      return ROT_ERROR_EVENTLOG_BAD_HEADER;
    }
    h->format = BC_LOG_FORMAT_SHA1;
    h->bank_count = 1;
    h->banks[0].alg = BC_ALG_SHA1;
    h->banks[0].size = bc_log_alg_size(BC_ALG_SHA1);
    h->header_len = 0;
    return ROT_OK;
  }
  h->format = BC_LOG_FORMAT_AGILE;
  return parse_header(buf, len, h);
}

rot_error_t bc_log_parse_mode(const uint8_t *buf, size_t len, uint32_t mode,
                              bc_log_header_t *hdr, bc_log_visit_fn visit,
                              void *ctx) {
  if ((buf == NULL && len != 0) ||
      (mode != BC_LOG_STRICT && mode != BC_LOG_FIRMWARE)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len > BC_LOG_MAX_SIZE) {
    return ROT_ERROR_EVENTLOG_TOO_LARGE;
  }
  bc_log_header_t h;
  rot_memset(&h, 0, sizeof(h));
  if (buf == NULL) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  ROT_TRY(parse_header_mode(buf, len, mode, &h));
  if (hdr != NULL) {
    rot_memcpy(hdr, &h, sizeof(h));
  }

  size_t off = h.header_len;
  uint32_t index = 0;
  int pcr0_extended = 0;
  while (off < len) {
    if (index >= BC_LOG_MAX_EVENTS) {
      return ROT_ERROR_EVENTLOG_TOO_LARGE;
    }
    bc_log_event_t ev;
    rot_memset(&ev, 0, sizeof(ev));
    ROT_TRY(h.format == BC_LOG_FORMAT_SHA1
                ? parse_sha1_record(buf, len, off, &h, &ev)
                : parse_record(buf, len, off, &h, &ev));
    ROT_TRY(note_record(&h, &ev, &pcr0_extended));
    ev.index = index;
    ev.offset = off;
    h.event_count = index + 1u;
    if (visit != NULL) {
      ROT_TRY(visit(ctx, &h, &ev));
    }
    off += ev.record_len;
    index++;
  }
  if (hdr != NULL) {
    rot_memcpy(hdr, &h, sizeof(h));
  }
  return ROT_OK;
}

rot_error_t bc_log_parse(const uint8_t *buf, size_t len, bc_log_header_t *hdr,
                         bc_log_visit_fn visit, void *ctx) {
  return bc_log_parse_mode(buf, len, BC_LOG_STRICT, hdr, visit, ctx);
}

/* ---- Replay and checks --------------------------------------------------- */

typedef struct replay_ctx {
  const rot_crypto_t *c;
  bc_log_replay_t *r;
} replay_ctx_t;

static rot_error_t replay_visit(void *vctx, const bc_log_header_t *h,
                                const bc_log_event_t *ev) {
  replay_ctx_t *rc = vctx;
  const rot_crypto_t *c = rc->c;
  if (ev->type == BC_EV_NO_ACTION) {
    /* Never extended (PFP). A StartupLocality event comes before any PCR 0
     * extend (the parser made sure), so PCR 0 is still its reset value. */
    static const char kSig[] = BC_LOG_STARTUP_LOCALITY_SIGNATURE;
    if (h->has_startup_locality && ev->pcr == 0 &&
        ev->data_len == BC_LOG_STARTUP_LOCALITY_LEN &&
        rot_memeq(ev->data, kSig, sizeof(kSig))) {
      for (uint32_t i = 0; i < h->bank_count; i++) {
        bc_log_pcr_bank_t *b = &rc->r->banks[i];
        rot_memset(b->pcr[0], 0, sizeof(b->pcr[0]));
        b->pcr[0][b->size - 1u] = h->startup_locality;
      }
    }
    return ROT_OK;
  }
  for (uint32_t i = 0; i < h->bank_count; i++) {
    bc_log_pcr_bank_t *b = &rc->r->banks[i];
    if (ev->digests[i] == NULL) {
      /* A PCR this bank cannot follow: no value at all beats a wrong one. */
      b->incomplete = 1;
      b->replayed = HARDENED_FALSE;
      rot_memset(b->pcr, 0, sizeof(b->pcr));
    }
    if (b->replayed != HARDENED_TRUE) {
      continue;
    }
    uint8_t *pcr = b->pcr[ev->pcr];
    rot_hash_ctx_t hc;
    ROT_TRY(c->hash_start(c, &hc, (rot_hash_alg_t)b->alg));
    rot_error_t err = c->hash_update(c, &hc, pcr, b->size);
    if (err == ROT_OK) {
      err = c->hash_update(c, &hc, ev->digests[i], b->size);
    }
    if (err != ROT_OK) {
      rot_wipe(&hc, sizeof(hc));
      return err;
    }
    ROT_TRY(c->hash_finish(c, &hc, pcr, BC_LOG_MAX_DIGEST));
  }
  rc->r->extended_mask |= 1u << ev->pcr;
  return ROT_OK;
}

rot_error_t bc_log_replay_mode(const uint8_t *buf, size_t len, uint32_t mode,
                               const rot_crypto_t *c, bc_log_replay_t *out) {
  if (c == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  /* Banks are only known after the header: parse it first on its own. */
  bc_log_header_t h;
  rot_memset(&h, 0, sizeof(h));
  if ((buf == NULL && len != 0) ||
      (mode != BC_LOG_STRICT && mode != BC_LOG_FIRMWARE)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len > BC_LOG_MAX_SIZE) {
    return ROT_ERROR_EVENTLOG_TOO_LARGE;
  }
  if (buf == NULL) {
    return ROT_ERROR_EVENTLOG_BAD_HEADER;
  }
  ROT_TRY(parse_header_mode(buf, len, mode, &h));
  for (uint32_t i = 0; i < h.bank_count; i++) {
    out->banks[i].alg = h.banks[i].alg;
    out->banks[i].size = h.banks[i].size;
    out->banks[i].replayed =
        alg_hashable(h.banks[i].alg) ? HARDENED_TRUE : HARDENED_FALSE;
  }
  replay_ctx_t rc = {.c = c, .r = out};
  rot_error_t err =
      bc_log_parse_mode(buf, len, mode, &out->header, replay_visit, &rc);
  if (err != ROT_OK) {
    /* Never leave half-replayed PCRs that a caller might compare. */
    bc_log_header_t keep = out->header;
    rot_memset(out, 0, sizeof(*out));
    out->header = keep;
    return err;
  }
  return ROT_OK;
}

rot_error_t bc_log_replay(const uint8_t *buf, size_t len,
                          const rot_crypto_t *c, bc_log_replay_t *out) {
  return bc_log_replay_mode(buf, len, BC_LOG_STRICT, c, out);
}

rot_error_t bc_log_check_event_banks(const rot_crypto_t *c,
                                     const bc_log_header_t *h,
                                     const bc_log_event_t *ev,
                                     uint32_t *checked, uint32_t *unchecked) {
  uint32_t ok_mask = 0;
  uint32_t skipped = 0;
  if (checked != NULL) {
    *checked = 0;
  }
  if (unchecked != NULL) {
    *unchecked = 0;
  }
  if (c == NULL || h == NULL || ev == NULL ||
      h->bank_count > BC_LOG_MAX_BANKS) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (!bc_log_event_is_data_bound(h, ev)) {
    return ROT_OK;
  }
  if (ev->type == BC_EV_SEPARATOR && ev->data_len != SEPARATOR_DATA_LEN) {
    return ROT_ERROR_EVENTLOG_BAD_EVENT;
  }
  for (uint32_t i = 0; i < h->bank_count; i++) {
    if (!alg_hashable(h->banks[i].alg) || ev->digests[i] == NULL) {
      skipped |= 1u << i;
      continue;
    }
    uint8_t want[BC_LOG_MAX_DIGEST];
    ROT_TRY(rot_hash(c, (rot_hash_alg_t)h->banks[i].alg, ev->data,
                     ev->data_len, want, sizeof(want)));
    if (!rot_memeq(want, ev->digests[i], h->banks[i].size)) {
      return ROT_ERROR_EVENTLOG_BAD_EVENT;
    }
    ok_mask |= 1u << i;
  }
  if (checked != NULL) {
    *checked = ok_mask;
  }
  if (unchecked != NULL) {
    *unchecked = skipped;
  }
  return skipped != 0 ? ROT_ERROR_EVENTLOG_UNCHECKED : ROT_OK;
}

rot_error_t bc_log_check_event(const rot_crypto_t *c, const bc_log_header_t *h,
                               const bc_log_event_t *ev) {
  return bc_log_check_event_banks(c, h, ev, NULL, NULL);
}

typedef struct check_ctx {
  const rot_crypto_t *c;
  int unchecked;
} check_ctx_t;

static rot_error_t check_visit(void *vctx, const bc_log_header_t *h,
                               const bc_log_event_t *ev) {
  check_ctx_t *cc = vctx;
  rot_error_t err = bc_log_check_event(cc->c, h, ev);
  if (err == ROT_ERROR_EVENTLOG_UNCHECKED) {
    cc->unchecked = 1;
    return ROT_OK;
  }
  return err;
}

rot_error_t bc_log_check(const uint8_t *buf, size_t len,
                         const rot_crypto_t *c) {
  if (c == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  check_ctx_t cc = {.c = c, .unchecked = 0};
  ROT_TRY(bc_log_parse(buf, len, NULL, check_visit, &cc));
  return cc.unchecked ? ROT_ERROR_EVENTLOG_UNCHECKED : ROT_OK;
}

/* ---- Event data encoders ------------------------------------------------- */

void bc_ev_blob_encode(uint8_t out[BC_EV_BLOB_LEN], uint64_t base,
                       uint64_t length) {
  rot_st64(out, base);
  rot_st64(out + 8, length);
}

void bc_ev_image_load_encode(uint8_t out[BC_EV_IMAGE_LOAD_LEN],
                             uint64_t location, uint64_t length,
                             uint64_t link_address) {
  rot_st64(out, location);
  rot_st64(out + 8, length);
  rot_st64(out + 16, link_address);
  rot_st64(out + 24, 0);
}

void bc_ev_platform_config_encode(uint8_t out[BC_EV_PLATFORM_CONFIG_LEN],
                                  uint32_t lifecycle, uint32_t locked_mask) {
  rot_memcpy(out, BC_EV_PLATFORM_CONFIG_MAGIC, 4);
  rot_st32(out + 4, BC_EV_PLATFORM_CONFIG_VERSION);
  rot_st32(out + 8, lifecycle);
  rot_st32(out + 12, locked_mask);
}

rot_error_t bc_ev_boot_config_encode(uint8_t *out, size_t cap,
                                     uint32_t boot_slot,
                                     const bc_ev_boot_image_t *images,
                                     uint32_t count, size_t *out_len) {
  if (out == NULL || images == NULL || out_len == NULL || count == 0 ||
      count > BC_EV_BOOT_CONFIG_MAX_IMAGES) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t n = BC_EV_BOOT_CONFIG_FIXED + (size_t)count * BC_EV_BOOT_CONFIG_IMAGE;
  if (n > cap) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  rot_st32(out, BC_EV_TAG_BOOT_CONFIG);
  rot_st32(out + 4, (uint32_t)(n - 8u));
  rot_st32(out + 8, BC_EV_BOOT_CONFIG_VERSION);
  rot_st32(out + 12, boot_slot);
  rot_st32(out + 16, count);
  uint8_t *p = out + BC_EV_BOOT_CONFIG_FIXED;
  for (uint32_t i = 0; i < count; i++) {
    rot_st32(p, images[i].image_type);
    rot_st32(p + 4, images[i].svn);
    rot_st16(p + 8, images[i].ver_major);
    rot_st16(p + 10, images[i].ver_minor);
    rot_st16(p + 12, images[i].ver_patch);
    rot_st16(p + 14, 0);
    p += BC_EV_BOOT_CONFIG_IMAGE;
  }
  *out_len = n;
  return ROT_OK;
}

rot_error_t bc_ev_variable_encode(uint8_t *out, size_t cap, const char *name,
                                  const void *value, size_t value_len,
                                  size_t *out_len) {
  if (out == NULL || name == NULL || out_len == NULL ||
      (value == NULL && value_len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t chars = 0;
  while (name[chars] != '\0') {
    uint8_t ch = (uint8_t)name[chars];
    if (chars >= BC_EV_VAR_MAX_NAME || ch < 0x21u || ch > 0x7eu) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    chars++;
  }
  if (chars == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t head = BC_EV_VARIABLE_FIXED + 2u * chars;
  if (head > cap || value_len > cap - head) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  rot_memcpy(out, bc_ev_vendor_guid, BC_EV_GUID_LEN);
  rot_st64(out + 16, chars);
  rot_st64(out + 24, value_len);
  for (size_t i = 0; i < chars; i++) {
    rot_st16(out + BC_EV_VARIABLE_FIXED + 2u * i, (uint16_t)(uint8_t)name[i]);
  }
  if (value_len != 0) {
    rot_memcpy(out + head, value, value_len);
  }
  *out_len = head + value_len;
  return ROT_OK;
}

rot_error_t bc_ev_variable_decode(const uint8_t *data, size_t len,
                                  bc_ev_variable_t *out) {
  if (data == NULL || out == NULL || len < BC_EV_VARIABLE_FIXED) {
    return ROT_ERROR_EVENTLOG_BAD_EVENT;
  }
  uint64_t chars = rot_ld64(data + 16);
  uint64_t vlen = rot_ld64(data + 24);
  uint64_t rest = len - BC_EV_VARIABLE_FIXED;
  /* chars <= rest / 2 first, so 2 * chars cannot wrap. */
  if (chars > rest / 2u || vlen != rest - 2u * chars) {
    return ROT_ERROR_EVENTLOG_BAD_EVENT;
  }
  out->guid = data;
  out->name = data + BC_EV_VARIABLE_FIXED;
  out->name_chars = chars;
  out->value = data + BC_EV_VARIABLE_FIXED + 2u * (size_t)chars;
  out->value_len = vlen;
  return ROT_OK;
}

int bc_ev_variable_is(const bc_ev_variable_t *v, const char *name) {
  if (v == NULL || name == NULL ||
      !rot_memeq(v->guid, bc_ev_vendor_guid, BC_EV_GUID_LEN)) {
    return 0;
  }
  uint64_t i = 0;
  for (; name[i] != '\0'; i++) {
    if (i >= v->name_chars ||
        rot_ld16(v->name + 2u * i) != (uint16_t)(uint8_t)name[i]) {
      return 0;
    }
  }
  return i == v->name_chars;
}
