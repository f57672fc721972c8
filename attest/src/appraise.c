/*
 * Appraisal of the event log against reference values and the PCR plan
 * (docs/pcr-plan.md, docs/evidence.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attest/verify.h"
#include "rot_client/names.h"
#include "bootchain/eventlog.h"
#include "bootchain/measure.h"
#include "rot/policy.h"
#include "rot_host/crypto_mbedtls.h"

#define MAX_PER_PCR 8u

/* The plan's record types per PCR, in order (0-terminated). */
static const uint32_t plan[8][MAX_PER_PCR] = {
    {BC_EV_S_CRTM_VERSION, BC_EV_EFI_PLATFORM_FIRMWARE_BLOB, BC_EV_SEPARATOR},
    {BC_EV_PLATFORM_CONFIG_FLAGS, BC_EV_TABLE_OF_DEVICES, BC_EV_SEPARATOR},
    {BC_EV_SEPARATOR},
    {BC_EV_SEPARATOR},
    {BC_EV_EFI_BOOT_SERVICES_APPLICATION, BC_EV_SEPARATOR},
    {BC_EV_EVENT_TAG, BC_EV_SEPARATOR},
    {BC_EV_SEPARATOR},
    {BC_EV_EFI_VARIABLE_DRIVER_CONFIG, BC_EV_EFI_VARIABLE_DRIVER_CONFIG,
     BC_EV_EFI_VARIABLE_DRIVER_CONFIG, BC_EV_EFI_VARIABLE_DRIVER_CONFIG,
     BC_EV_EFI_VARIABLE_DRIVER_CONFIG, BC_EV_SEPARATOR},
};
static const char *const pcr7_vars[5] = {
    BC_EV_VAR_LIFECYCLE, BC_EV_VAR_ROOT_KEY_HASH, BC_EV_VAR_SIGNER_KEYS,
    BC_EV_VAR_REVOKED_KEYS, BC_EV_VAR_SVN_FLOORS};

typedef struct appraisal {
  const attest_policy_t *p;
  const rot_crypto_t *c;
  uint32_t seen[8];
  const attest_ref_image_t *booted[ROT_IMAGE_TYPE_SLOTS];
  uint32_t revoked;
  int have_signers, have_revoked, have_config;
  uint32_t signer_key[ROT_IMAGE_TYPE_SLOTS];
  uint32_t signer_set; /* bit t: the SignerKeys variable names type t */
  char why[256];
  char svn_why[256];
  int svn_bad;
  uint32_t pcr0_contents; /* 1: PCR 0 carries the RoT firmware's contents */
  const char *crtm_version; /* the accepted S-CRTM version the log names */
} appraisal_t;

static rot_error_t fail(appraisal_t *a, const bc_log_event_t *ev,
                        const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static rot_error_t fail(appraisal_t *a, const bc_log_event_t *ev,
                        const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const char *tn = bc_log_event_type_name(ev->type);
  snprintf(a->why, sizeof(a->why), "event %u (PCR %u, %s): %s", ev->index,
           ev->pcr, tn != NULL ? tn : "unknown type", msg);
  return ROT_ERROR_EVENTLOG_BAD_EVENT;
}

/* Is the event's data s as UCS-2LE with a terminating NUL? */
static int ucs2_is(const bc_log_event_t *ev, const char *s) {
  size_t n = strlen(s);
  if (ev->data_len != 2 * n + 2) {
    return 0;
  }
  for (size_t i = 0; i <= n; i++) {
    char ch = i < n ? s[i] : '\0';
    if (ev->data[2 * i] != (uint8_t)ch || ev->data[2 * i + 1] != 0) {
      return 0;
    }
  }
  return 1;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* The S-CRTM version a chip that booted RoT firmware r measures. */
static int is_rot_version(const attest_ref_image_t *r, const char *version) {
  char want[sizeof(((attest_policy_t *)0)->rot_firmware[0])];
  snprintf(want, sizeof(want), BC_RTM_ROT_VERSION_FMT, r->ver_major,
           r->ver_minor, r->ver_patch, r->svn);
  return version != NULL && strcmp(want, version) == 0;
}

/* The allowed image of type whose payload digests are this record's (and,
 * given a version, whose S-CRTM version it is: two RoT firmware images
 * may carry the same payload under different versions). */
static const attest_ref_image_t *match_image(const appraisal_t *a,
                                             const bc_log_header_t *h,
                                             const bc_log_event_t *ev,
                                             uint32_t type,
                                             const char *version) {
  for (uint32_t i = 0; i < a->p->nimages; i++) {
    const attest_ref_image_t *r = &a->p->images[i];
    if (r->type != type || (version != NULL && !is_rot_version(r, version))) {
      continue;
    }
    int all = h->bank_count > 0;
    for (uint32_t b = 0; b < h->bank_count; b++) {
      const uint8_t *want = h->banks[b].alg == 0x000b   ? r->sha256
                            : h->banks[b].alg == 0x000c ? r->sha384
                                                        : NULL;
      if (want == NULL || ev->digests[b] == NULL ||
          rot_ct_equal(want, ev->digests[b], h->banks[b].size) !=
              HARDENED_TRUE) {
        all = 0;
      }
    }
    if (all) {
      return r;
    }
  }
  return NULL;
}

static rot_error_t check_var(appraisal_t *a, const bc_log_event_t *ev,
                             const char *name) {
  bc_ev_variable_t v;
  if (bc_ev_variable_decode(ev->data, ev->data_len, &v) != ROT_OK ||
      !bc_ev_variable_is(&v, name)) {
    return fail(a, ev, "not the policy variable %s", name);
  }
  if (strcmp(name, BC_EV_VAR_LIFECYCLE) == 0) {
    if (v.value_len != 4 || le32(v.value) >= 32 ||
        !(a->p->lifecycles & (1u << le32(v.value)))) {
      return fail(a, ev, "lifecycle %s not allowed by the policy",
                  v.value_len == 4 ? rot_lifecycle_name(le32(v.value)) : "?");
    }
  } else if (strcmp(name, BC_EV_VAR_ROOT_KEY_HASH) == 0) {
    if (v.value_len != ROT_SHA384_LEN ||
        rot_ct_equal(v.value, a->p->root_key_sha384, ROT_SHA384_LEN) !=
            HARDENED_TRUE) {
      return fail(a, ev, "root key hash is not the key manifest's root");
    }
  } else if (strcmp(name, BC_EV_VAR_SIGNER_KEYS) == 0) {
    if (v.value_len < 4 || le32(v.value) > 8 ||
        v.value_len != 4u + 8u * le32(v.value)) {
      return fail(a, ev, "malformed signer list");
    }
    for (uint32_t i = 0; i < le32(v.value); i++) {
      uint32_t t = le32(v.value + 4 + 8 * i);
      uint32_t k = le32(v.value + 8 + 8 * i);
      if (t >= ROT_IMAGE_TYPE_SLOTS || k >= 32 ||
          !(a->p->signers[t] & (1u << k))) {
        return fail(a, ev, "%s image signed by key %u, which the policy "
                           "does not allow for it",
                    t < ROT_IMAGE_TYPE_SLOTS ? rot_image_type_name(t) : "?", k);
      }
      a->signer_key[t] = k;
      a->signer_set |= 1u << t;
    }
    a->have_signers = 1;
  } else if (strcmp(name, BC_EV_VAR_REVOKED_KEYS) == 0) {
    if (v.value_len != 4) {
      return fail(a, ev, "malformed revocation bitmap");
    }
    a->revoked = le32(v.value);
    a->have_revoked = 1;
  } else if (v.value_len != 4u * ROT_IMAGE_TYPE_SLOTS) {
    return fail(a, ev, "malformed SVN floors");
  }
  return ROT_OK;
}

static rot_error_t check_boot_config(appraisal_t *a, const bc_log_event_t *ev) {
  const uint8_t *d = ev->data;
  uint32_t n;
  if (ev->data_len < BC_EV_BOOT_CONFIG_FIXED || le32(d) != BC_EV_TAG_BOOT_CONFIG ||
      le32(d + 4) != ev->data_len - 8 || le32(d + 8) != BC_EV_BOOT_CONFIG_VERSION ||
      (n = le32(d + 16)) == 0 || n > BC_EV_BOOT_CONFIG_MAX_IMAGES ||
      ev->data_len != BC_EV_BOOT_CONFIG_FIXED + n * BC_EV_BOOT_CONFIG_IMAGE) {
    return fail(a, ev, "malformed boot configuration");
  }
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *im = d + BC_EV_BOOT_CONFIG_FIXED + i * BC_EV_BOOT_CONFIG_IMAGE;
    uint32_t t = le32(im), svn = le32(im + 4);
    uint16_t ma = (uint16_t)(im[8] | im[9] << 8);
    uint16_t mi = (uint16_t)(im[10] | im[11] << 8);
    uint16_t pa = (uint16_t)(im[12] | im[13] << 8);
    const attest_ref_image_t *r =
        t < ROT_IMAGE_TYPE_SLOTS ? a->booted[t] : NULL;
    if (r == NULL || r->svn != svn || r->ver_major != ma ||
        r->ver_minor != mi || r->ver_patch != pa) {
      return fail(a, ev, "booted %s %u.%u.%u (svn %u) is not the measured "
                         "reference image",
                  t < ROT_IMAGE_TYPE_SLOTS ? rot_image_type_name(t) : "?", ma,
                  mi, pa, svn);
    }
    if (svn < a->p->svn_floor[t] && !a->svn_bad) {
      a->svn_bad = 1;
      snprintf(a->svn_why, sizeof(a->svn_why),
               "%s svn %u is below the policy floor %u",
               rot_image_type_name(t), svn, a->p->svn_floor[t]);
    }
  }
  a->have_config = 1;
  return ROT_OK;
}

static rot_error_t visit(void *ctx, const bc_log_header_t *h,
                         const bc_log_event_t *ev) {
  appraisal_t *a = ctx;
  if (ev->pcr >= 8) {
    return fail(a, ev, "the plan measures nothing into PCR %u", ev->pcr);
  }
  uint32_t pos = a->seen[ev->pcr]++;
  /* PCR 0 may carry the RoT firmware's contents right after the S-CRTM
   * version (a chip that booted RoT firmware measures it there). */
  if (ev->pcr == 0 && pos == 1 && ev->type == BC_EV_S_CRTM_CONTENTS) {
    if (match_image(a, h, ev, ROT_IMAGE_TYPE_ROT, NULL) == NULL) {
      return fail(a, ev, "RoT firmware digest matches no reference image");
    }
    /* With several accepted RoT firmware versions, the S-CRTM version
     * (the event before) and these contents must name the same image. */
    const attest_ref_image_t *r =
        match_image(a, h, ev, ROT_IMAGE_TYPE_ROT, a->crtm_version);
    if (r == NULL) {
      return fail(a, ev, "the S-CRTM version \"%s\" is not this RoT "
                         "firmware's (its digest is a reference image of "
                         "another version)",
                  a->crtm_version != NULL ? a->crtm_version : "?");
    }
    a->booted[ROT_IMAGE_TYPE_ROT] = r;
    a->pcr0_contents = 1;
    return ROT_OK;
  }
  if (ev->pcr == 0) {
    pos -= a->pcr0_contents;
  }
  if (pos >= MAX_PER_PCR || plan[ev->pcr][pos] != ev->type) {
    const char *want = pos < MAX_PER_PCR && plan[ev->pcr][pos] != 0
                           ? bc_log_event_type_name(plan[ev->pcr][pos])
                           : "no further event";
    return fail(a, ev, "out of plan: expected %s here (dropped, reordered "
                       "or extra event)",
                want != NULL ? want : "?");
  }
  if (bc_log_event_is_data_bound(h, ev) &&
      bc_log_check_event(a->c, h, ev) != ROT_OK) {
    return fail(a, ev, "digest is not the hash of the event data");
  }
  switch (ev->type) {
  case BC_EV_S_CRTM_VERSION: {
    uint32_t n = a->p->nrot_firmware < ATTEST_REF_MAX_IMAGES
                     ? a->p->nrot_firmware
                     : ATTEST_REF_MAX_IMAGES;
    for (uint32_t i = 0; i < n && a->crtm_version == NULL; i++) {
      if (ucs2_is(ev, a->p->rot_firmware[i])) {
        a->crtm_version = a->p->rot_firmware[i];
      }
    }
    if (a->crtm_version == NULL) {
      return fail(a, ev, "RoT firmware version is none of the %u the policy "
                         "accepts (rot_firmware%s%s%s)",
                  n, n > 0 ? ": \"" : "", n > 0 ? a->p->rot_firmware[0] : "",
                  n > 1 ? "\", ..." : n > 0 ? "\"" : "");
    }
    break;
  }
  case BC_EV_EFI_PLATFORM_FIRMWARE_BLOB:
  case BC_EV_EFI_BOOT_SERVICES_APPLICATION: {
    uint32_t t = ev->type == BC_EV_EFI_PLATFORM_FIRMWARE_BLOB
                     ? ROT_IMAGE_TYPE_OPENSBI
                     : ROT_IMAGE_TYPE_HYPERVISOR;
    const attest_ref_image_t *r = match_image(a, h, ev, t, NULL);
    if (r == NULL) {
      return fail(a, ev, "%s digest matches no reference image",
                  rot_image_type_name(t));
    }
    a->booted[t] = r;
    break;
  }
  case BC_EV_PLATFORM_CONFIG_FLAGS:
    if (ev->data_len != BC_EV_PLATFORM_CONFIG_LEN ||
        memcmp(ev->data, BC_EV_PLATFORM_CONFIG_MAGIC, 4) != 0 ||
        le32(ev->data + 8) >= 32 ||
        !(a->p->lifecycles & (1u << le32(ev->data + 8)))) {
      return fail(a, ev, "platform configuration malformed or lifecycle not "
                         "allowed");
    }
    break;
  case BC_EV_EVENT_TAG:
    return check_boot_config(a, ev);
  case BC_EV_EFI_VARIABLE_DRIVER_CONFIG:
    return check_var(a, ev, pcr7_vars[pos]);
  default:
    break; /* separators (data-bound, checked above); the DTB (below) */
  }
  return ROT_OK;
}

void attest_appraise_log(const attest_policy_t *p, const uint8_t *log,
                         size_t len, attest_check_t *events,
                         attest_check_t *svn) {
  appraisal_t a;
  memset(&a, 0, sizeof(a));
  a.p = p;
  a.c = rot_host_crypto();
  events->status = ATTEST_FAIL;
  svn->status = ATTEST_FAIL;
  snprintf(svn->reason, sizeof(svn->reason),
           "not checked: the log's events did not pass");
  rot_error_t err = bc_log_parse(log, len, NULL, visit, &a);
  if (err == ROT_OK) {
    for (uint32_t pcr = 0; pcr < 8 && err == ROT_OK; pcr++) {
      uint32_t want = 0;
      while (want < MAX_PER_PCR && plan[pcr][want] != 0) {
        want++;
      }
      if (pcr == 0) {
        want += a.pcr0_contents;
      }
      if (a.seen[pcr] != want) {
        snprintf(a.why, sizeof(a.why),
                 "PCR %u has %u of the plan's %u events (dropped events)",
                 pcr, a.seen[pcr], want);
        err = ROT_ERROR_EVENTLOG_BAD_EVENT;
      }
    }
  }
  /* Cross-checks: the signer of each booted image, and no revoked key. */
  for (uint32_t t = 0; err == ROT_OK && t < ROT_IMAGE_TYPE_SLOTS; t++) {
    if (a.booted[t] == NULL) {
      continue;
    }
    /* The plan records the signers of the host's images; the RoT
     * firmware's is checked when recorded. */
    int required = t != ROT_IMAGE_TYPE_ROT;
    if ((required && !(a.signer_set & (1u << t))) ||
        ((a.signer_set & (1u << t)) &&
         a.signer_key[t] != a.booted[t]->key_index)) {
      snprintf(a.why, sizeof(a.why),
               "%s: the signer the chip recorded is not the reference "
               "image's key %u", rot_image_type_name(t),
               a.booted[t]->key_index);
      err = ROT_ERROR_EVENTLOG_BAD_EVENT;
    } else if (a.revoked & (1u << a.signer_key[t])) {
      snprintf(a.why, sizeof(a.why), "%s: signer key %u is revoked",
               rot_image_type_name(t), a.signer_key[t]);
      err = ROT_ERROR_EVENTLOG_BAD_EVENT;
    }
  }
  if (err != ROT_OK) {
    if (a.why[0] == '\0') {
      snprintf(a.why, sizeof(a.why), "event log malformed: %s (%s)",
               rot_error_str(err), rot_error_name(err));
    }
    snprintf(events->reason, sizeof(events->reason), "%s", a.why);
    return;
  }
  events->status = ATTEST_PASS;
  snprintf(events->reason, sizeof(events->reason),
           "every event is the plan's and matches the reference values "
           "(opensbi %u.%u.%u, hypervisor %u.%u.%u; the DTB is checked for "
           "place only: it is built per boot)",
           a.booted[ROT_IMAGE_TYPE_OPENSBI]->ver_major,
           a.booted[ROT_IMAGE_TYPE_OPENSBI]->ver_minor,
           a.booted[ROT_IMAGE_TYPE_OPENSBI]->ver_patch,
           a.booted[ROT_IMAGE_TYPE_HYPERVISOR]->ver_major,
           a.booted[ROT_IMAGE_TYPE_HYPERVISOR]->ver_minor,
           a.booted[ROT_IMAGE_TYPE_HYPERVISOR]->ver_patch);
  if (a.svn_bad) {
    snprintf(svn->reason, sizeof(svn->reason), "%s", a.svn_why);
  } else if (!a.have_config) {
    snprintf(svn->reason, sizeof(svn->reason), "no boot configuration event");
  } else {
    svn->status = ATTEST_PASS;
    snprintf(svn->reason, sizeof(svn->reason),
             "every booted image is at or above its SVN floor");
  }
}
