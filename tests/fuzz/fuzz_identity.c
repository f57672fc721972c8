/*
 * libFuzzer target for the identity commands' inputs from outside the
 * chip: the ENDORSE request parser (and the statement built from what it
 * accepts), and the certificate reader IDENTITY_STORE runs on a DeviceID
 * certificate handed in by the host.
 *
 * Invariants: an accepted ENDORSE request is exactly 48 bytes and a
 * TPM2B_PUBLIC whose size covers every byte after it, the statement holds
 * the label, the EK hash and SHA-384 of those bytes; the certificate
 * reader either refuses with ROT_ERROR_IDENTITY_BAD_CERT or returns a
 * P-384 point, never anything else.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "rot/dice.h"
#include "rot_host/cert_mbedtls.h"
#include "rot_host/crypto_mbedtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const rot_crypto_t *c = rot_host_crypto();
  CHECK(c != NULL);
  rot_dice_endorse_req_t r;
  if (rot_dice_endorse_req_parse(data, size, &r) == ROT_OK) {
    CHECK(size >= ROT_DICE_ENDORSE_REQ_MIN && size <= ROT_DICE_ENDORSE_REQ_MAX);
    CHECK(r.ek_cert_sha384 == data);
    CHECK(r.ak_public == data + ROT_SHA384_LEN);
    CHECK(r.ak_public_len == size - ROT_SHA384_LEN);
    CHECK(((size_t)r.ak_public[0] << 8 | r.ak_public[1]) == r.ak_public_len - 2u);
    uint8_t st[ROT_DICE_STATEMENT_LEN];
    CHECK(rot_dice_endorse_statement(c, &r, st) == ROT_OK);
    CHECK(memcmp(st, ROT_DICE_ENDORSE_LABEL, ROT_DICE_ENDORSE_LABEL_LEN) == 0);
    CHECK(st[ROT_DICE_ENDORSE_LABEL_LEN] == 0);
    CHECK(memcmp(st + ROT_DICE_ENDORSE_LABEL_LEN + 1, data, ROT_SHA384_LEN) == 0);
  }

  const rot_cert_port_t *cp = rot_host_cert();
  uint8_t pub[ROT_P384_PUBKEY_LEN];
  rot_error_t err = cp->cert_pubkey(cp, data, size, pub);
  CHECK(err == ROT_OK || err == ROT_ERROR_IDENTITY_BAD_CERT ||
        (err == ROT_ERROR_INVALID_ARGUMENT && data == NULL));
  if (err == ROT_OK) {
    /* A key the verifier accepts as a curve point. */
    uint8_t sig[ROT_P384_SIG_LEN] = {0};
    sig[47] = 1;
    sig[95] = 1;
    uint8_t digest[ROT_SHA384_LEN] = {0};
    rot_error_t v = rot_ecdsa_p384_verify(c, pub, digest, sizeof(digest), sig);
    CHECK(v == ROT_ERROR_CRYPTO_BAD_SIGNATURE);
  }
  return 0;
}
