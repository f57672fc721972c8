#!/usr/bin/env python3
"""Keylime's quote check, written independently of the agent and attest/.

    keylime_quote_check.py RESPONSE.json AK.pem NONCE MASK

RESPONSE is an answer of GET /v2.x/quotes/{identity,integrity}. Checks,
as Keylime's verifier does: the quote string "r<TPMS_ATTEST>:<TPMT_SIGNATURE>:
<PCRs>" (base64 each); the TPMS_ATTEST is a TPM-generated quote whose
extraData is the nonce's bytes; the ECDSA signature verifies with the AK;
the PCR blob (tpm2-tools' layout: TPML_PCR_SELECTION then TPML_DIGEST
lists, C structs, little-endian) selects exactly MASK in the hash_alg bank
and its values hash (with the signature's hash) to the quote's pcrDigest. Prints one line per failure;
exit 0 only when every check passes.
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ALGS = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}
TPM_GENERATED = 0xFF544347
TPM_ST_ATTEST_QUOTE = 0x8018
TPM_ALG_ECDSA = 0x0018


class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        if self.o + n > len(self.b):
            raise ValueError("truncated")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def tpm2b(self):
        return self.take(self.u16())


def main():
    resp, ak_pem, nonce, mask = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4], 16)
    doc = json.load(open(resp))
    res = doc["results"]
    fails = []
    q = res["quote"]
    if not q.startswith("r") or q.count(":") != 2:
        print("quote: not r<attest>:<sig>:<pcrs>")
        return 1
    attest, sig, pcrs = (base64.b64decode(x, validate=True) for x in q[1:].split(":"))
    alg_id = ALGS[res["hash_alg"]]

    # TPMS_ATTEST
    r = Reader(attest)
    if r.u32() != TPM_GENERATED:
        fails.append("magic is not TPM_GENERATED_VALUE")
    if r.u16() != TPM_ST_ATTEST_QUOTE:
        fails.append("type is not TPM_ST_ATTEST_QUOTE")
    r.tpm2b()  # qualifiedSigner
    extra = r.tpm2b()
    if extra != nonce.encode():
        fails.append(f"extraData {extra!r} is not the nonce {nonce!r}")
    r.take(8 + 4 + 4 + 1)  # clockInfo
    r.take(8)  # firmwareVersion
    quoted = {}
    for _ in range(r.u32()):
        h, n = r.u16(), r.u8()
        bits = int.from_bytes(r.take(n), "little")
        quoted[h] = bits
    digest = r.tpm2b()
    if r.o != len(attest):
        fails.append("trailing bytes after TPMS_QUOTE_INFO")
    if quoted != {alg_id: mask}:
        fails.append(f"quoted selection {quoted} is not {res['hash_alg']}:{mask:#x}")

    # TPMT_SIGNATURE (ECDSA) with the AK
    s = Reader(sig)
    if s.u16() != TPM_ALG_ECDSA or res["sign_alg"] != "ecdsa":
        fails.append("signature is not ECDSA")
    sh = s.u16()
    rr, ss = s.tpm2b(), s.tpm2b()
    key = serialization.load_pem_public_key(open(ak_pem, "rb").read())
    try:
        key.verify(encode_dss_signature(int.from_bytes(rr, "big"), int.from_bytes(ss, "big")),
                   attest, ec.ECDSA({0x000B: hashes.SHA256(), 0x000C: hashes.SHA384()}[sh]))
    except Exception:
        fails.append("the AK's signature does not verify over the TPMS_ATTEST")

    # PCR blob: TPML_PCR_SELECTION (count, 16 x {hash, sizeofSelect,
    # pcrSelect[4], pad}), then the number of TPML_DIGEST, each {count,
    # 8 x {size, buffer[64]}}.
    if len(pcrs) < 132 + 4:
        fails.append("PCR blob shorter than its selection")
        print("\n".join(fails))
        return 1
    count = struct.unpack_from("<I", pcrs, 0)[0]
    sel = []
    for i in range(count):
        h, n = struct.unpack_from("<HB", pcrs, 4 + 8 * i)
        bits = int.from_bytes(pcrs[4 + 8 * i + 3:4 + 8 * i + 3 + n], "little")
        sel.append((h, bits))
    nlists = struct.unpack_from("<I", pcrs, 132)[0]
    if len(pcrs) != 136 + nlists * 532:
        fails.append("PCR blob length does not match its lists")
    values = []
    for l in range(nlists):
        base = 136 + 532 * l
        for i in range(struct.unpack_from("<I", pcrs, base)[0]):
            size = struct.unpack_from("<H", pcrs, base + 4 + 66 * i)[0]
            values.append(pcrs[base + 6 + 66 * i:base + 6 + 66 * i + size])
    if sel != [(alg_id, mask)]:
        fails.append(f"PCR blob selects {sel}, not {res['hash_alg']}:{mask:#x}")
    if len(values) != bin(mask).count("1"):
        fails.append(f"PCR blob holds {len(values)} values for {bin(mask).count('1')} PCRs")
    # pcrDigest is made with the signing scheme's hash, not the bank's.
    dfn = {0x000B: hashlib.sha256, 0x000C: hashlib.sha384}.get(sh)
    if dfn is None or dfn(b"".join(values)).digest() != digest:
        fails.append("the PCR values do not hash to the quote's pcrDigest")
    if fails:
        print("\n".join(fails))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
