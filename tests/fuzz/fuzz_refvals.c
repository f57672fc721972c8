/*
 * libFuzzer target for the reference-value (policy) parser.
 *
 * Invariant: a policy that parses encodes again, and the encoding parses
 * to the same policy (field by field, as one struct).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/refvals.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static attest_policy_t p, q;
  char detail[256];
  if (attest_refvals_decode((const char *)data, size, &p, detail,
                            sizeof(detail)) != ROT_OK) {
    return 0;
  }
  CHECK(p.nbanks >= 1 && p.nbanks <= 2 && p.pcr_mask != 0 &&
        p.nimages >= 1 && p.nimages <= ATTEST_REF_MAX_IMAGES);
  char *json = NULL;
  CHECK(attest_refvals_encode(&p, &json) == ROT_OK);
  CHECK(attest_refvals_decode(json, strlen(json), &q, detail,
                              sizeof(detail)) == ROT_OK);
  /* Floors of types without a signer are not written; compare the rest. */
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    if (p.signers[t] == 0) {
      p.svn_floor[t] = 0;
    }
  }
  CHECK(memcmp(&p, &q, sizeof(p)) == 0);
  free(json);
  return 0;
}
