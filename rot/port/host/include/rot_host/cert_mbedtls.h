/* mbedTLS 2.28 backend of the certificate port (rot/cert.h), host only. */
#ifndef ROT_HOST_CERT_MBEDTLS_H
#define ROT_HOST_CERT_MBEDTLS_H

#include "rot/cert.h"

/** The process-wide instance (stateless; certificate signatures are
 * deterministic, the OS RNG only blinds the computation). */
const rot_cert_port_t *rot_host_cert(void);

#endif
