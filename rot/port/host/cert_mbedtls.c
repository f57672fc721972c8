/*
 * Certificate port on mbedTLS 2.28: X.509 v3 certificates and PKCS#10
 * requests for the chip's DICE keys, and the subject key of a certificate
 * handed in from outside.
 */
#include "rot_host/cert_mbedtls.h"

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <string.h>
#include <sys/random.h>

/* Randomness for mbedTLS's side-channel blinding only: with
 * MBEDTLS_ECDSA_DETERMINISTIC the signature itself follows RFC 6979. */
static int os_rng(void *ctx, unsigned char *out, size_t len) {
  (void)ctx;
  while (len > 0) {
    ssize_t n = getrandom(out, len, 0);
    if (n <= 0) {
      return -1;
    }
    out += n;
    len -= (size_t)n;
  }
  return 0;
}

/* A P-384 pk context from a public key and, optionally, its private half. */
static int load_key(mbedtls_pk_context *pk, const uint8_t *priv,
                    const uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  int rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc != 0) {
    return rc;
  }
  mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  sec1[0] = 0x04;
  memcpy(sec1 + 1, pub, ROT_P384_PUBKEY_LEN);
  rc = mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP384R1);
  if (rc == 0) {
    rc = mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, sec1, sizeof(sec1));
  }
  if (rc == 0) {
    rc = mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q);
  }
  if (rc == 0 && priv != NULL) {
    rc = mbedtls_mpi_read_binary(&ec->d, priv, ROT_P384_SCALAR_LEN);
    if (rc == 0) {
      rc = mbedtls_ecp_check_privkey(&ec->grp, &ec->d);
    }
  }
  return rc;
}

/* mbedTLS writes DER at the end of the buffer: move it to the front. */
static rot_error_t finish_der(int n, uint8_t *out, size_t cap, size_t *out_len) {
  if (n == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  if (n <= 0 || (size_t)n > cap) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  memmove(out, out + cap - (size_t)n, (size_t)n);
  *out_len = (size_t)n;
  return ROT_OK;
}

static rot_error_t cert_write(const rot_cert_port_t *p, const rot_cert_spec_t *s,
                              uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  if (s == NULL || s->subject_pub == NULL || s->subject_name == NULL ||
      s->issuer_priv == NULL || s->issuer_pub == NULL || s->issuer_name == NULL ||
      s->serial == NULL || s->serial_len == 0 || s->serial_len > 20 ||
      (s->tcbinfo == NULL && s->tcbinfo_len != 0) || out == NULL ||
      out_len == NULL || cap == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  mbedtls_pk_context subject, issuer;
  mbedtls_x509write_cert crt;
  mbedtls_mpi serial;
  mbedtls_pk_init(&subject);
  mbedtls_pk_init(&issuer);
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi_init(&serial);
  int rc = load_key(&subject, NULL, s->subject_pub);
  if (rc == 0) {
    rc = load_key(&issuer, s->issuer_priv, s->issuer_pub);
  }
  if (rc == 0) {
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA384);
    mbedtls_x509write_crt_set_subject_key(&crt, &subject);
    mbedtls_x509write_crt_set_issuer_key(&crt, &issuer);
    rc = mbedtls_mpi_read_binary(&serial, s->serial, s->serial_len);
  }
  if (rc == 0) {
    rc = mbedtls_x509write_crt_set_serial(&crt, &serial);
  }
  if (rc == 0) {
    rc = mbedtls_x509write_crt_set_subject_name(&crt, s->subject_name);
  }
  if (rc == 0) {
    rc = mbedtls_x509write_crt_set_issuer_name(&crt, s->issuer_name);
  }
  if (rc == 0) {
    /* A fixed window: the chip has no trusted clock, and the same inputs
     * must give the same certificate at every reset (RFC 5280 4.1.2.5:
     * 99991231235959Z means no well-defined expiry). */
    rc = mbedtls_x509write_crt_set_validity(&crt, "20240101000000",
                                            "99991231235959");
  }
  if (rc == 0) {
    rc = mbedtls_x509write_crt_set_basic_constraints(&crt, s->is_ca ? 1 : 0,
                                                     s->is_ca ? 1 : -1);
  }
  if (rc == 0) {
    rc = mbedtls_x509write_crt_set_key_usage(
        &crt, s->is_ca ? (MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_DIGITAL_SIGNATURE)
                       : MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
  }
  if (rc == 0) {
    rc = mbedtls_x509write_crt_set_subject_key_identifier(&crt);
  }
  if (rc == 0) {
    rc = mbedtls_x509write_crt_set_authority_key_identifier(&crt);
  }
  if (rc == 0 && s->tcbinfo != NULL) {
    static const char kOid[] = "\x67\x81\x05\x05\x04\x01"; /* 2.23.133.5.4.1 */
    rc = mbedtls_x509write_crt_set_extension(&crt, kOid, sizeof(kOid) - 1u, 0,
                                             s->tcbinfo, s->tcbinfo_len);
  }
  rot_error_t err = ROT_ERROR_CRYPTO_FAILED;
  if (rc == 0) {
    err = finish_der(mbedtls_x509write_crt_der(&crt, out, cap, os_rng, NULL),
                     out, cap, out_len);
  }
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&crt);
  mbedtls_pk_free(&subject);
  mbedtls_pk_free(&issuer); /* zeroises the private scalar */
  return err;
}

static rot_error_t csr_write(const rot_cert_port_t *p,
                             const uint8_t priv[ROT_P384_SCALAR_LEN],
                             const uint8_t pub[ROT_P384_PUBKEY_LEN],
                             const char *name, uint8_t *out, size_t cap,
                             size_t *out_len) {
  (void)p;
  if (priv == NULL || pub == NULL || name == NULL || out == NULL ||
      out_len == NULL || cap == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  mbedtls_pk_context key;
  mbedtls_x509write_csr csr;
  mbedtls_pk_init(&key);
  mbedtls_x509write_csr_init(&csr);
  int rc = load_key(&key, priv, pub);
  if (rc == 0) {
    mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA384);
    mbedtls_x509write_csr_set_key(&csr, &key);
    rc = mbedtls_x509write_csr_set_subject_name(&csr, name);
  }
  rot_error_t err = ROT_ERROR_CRYPTO_FAILED;
  if (rc == 0) {
    err = finish_der(mbedtls_x509write_csr_der(&csr, out, cap, os_rng, NULL),
                     out, cap, out_len);
  }
  mbedtls_x509write_csr_free(&csr);
  mbedtls_pk_free(&key);
  return err;
}

static rot_error_t cert_pubkey(const rot_cert_port_t *p, const uint8_t *der,
                               size_t len, uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  (void)p;
  if ((der == NULL && len != 0) || pub == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len == 0 || len > ROT_CERT_MAX) {
    return ROT_ERROR_IDENTITY_BAD_CERT;
  }
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  rot_error_t err = ROT_ERROR_IDENTITY_BAD_CERT;
  /* Exactly one certificate, nothing after it. */
  if (mbedtls_x509_crt_parse_der(&crt, der, len) == 0 && crt.next == NULL &&
      crt.raw.len == len && mbedtls_pk_get_type(&crt.pk) == MBEDTLS_PK_ECKEY &&
      mbedtls_pk_ec(crt.pk)->grp.id == MBEDTLS_ECP_DP_SECP384R1) {
    uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
    size_t n = 0;
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(crt.pk);
    if (mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q,
                                       MBEDTLS_ECP_PF_UNCOMPRESSED, &n, sec1,
                                       sizeof(sec1)) == 0 &&
        n == sizeof(sec1)) {
      memcpy(pub, sec1 + 1, ROT_P384_PUBKEY_LEN);
      err = ROT_OK;
    }
  }
  mbedtls_x509_crt_free(&crt);
  return err;
}

static const rot_cert_port_t kCert = {
    .cert_write = cert_write,
    .csr_write = csr_write,
    .cert_pubkey = cert_pubkey,
    .state = NULL,
};

const rot_cert_port_t *rot_host_cert(void) { return &kCert; }
