#!/usr/bin/env python3
"""Recompute a chip's DICE secrets from its OTP file and RoT firmware image,
following the derivation documented in docs/mailbox.md ("Identity"), for
tests that check those secrets never leave the chip and that the chip's
keys follow the documented derivation.

    dice_cdi.py OTP IMAGE LIFECYCLE [ALIAS_KEY_DER]

Prints "UDS CDI" in hex on stdout (nothing is written to disk unless
ALIAS_KEY_DER is given: the predicted Alias private key as a DER
ECPrivateKey, for openssl to derive its public key). LIFECYCLE is the
lifecycle number (1 dev, 2 production).
"""
import hashlib
import hmac
import struct
import sys

P384_N = int("ffffffffffffffffffffffffffffffffffffffffffffffff"
             "c7634d81f4372ddf581a0db248b0a77aecec196accc52973", 16)


def hkdf(salt, ikm, info, n):
    prk = hmac.new(salt, ikm, hashlib.sha384).digest()
    t, okm, i = b"", b"", 1
    while len(okm) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha384).digest()
        okm += t
        i += 1
    return okm[:n]


def main():
    otp = open(sys.argv[1], "rb").read()
    img = open(sys.argv[2], "rb").read()
    lifecycle = int(sys.argv[3])
    uds = otp[328:376]
    key_index, = struct.unpack_from("<I", img, 28)
    mlen, = struct.unpack_from("<I", img, 52)
    man = img[128:128 + mlen]
    count, = struct.unpack_from("<H", man, 6)
    pubs = [man[104 + 104 * i + 8:104 + 104 * i + 104] for i in range(count)
            if struct.unpack_from("<I", man, 104 + 104 * i)[0] == key_index]
    pad = lambda b: b + bytes(64 - len(b))
    config = bytearray(64)
    config[:19] = b"rot-stack lifecycle"
    struct.pack_into("<I", config, 32, lifecycle)
    mode = {2: 1, 1: 2}.get(lifecycle, 0)
    inputs = (pad(hashlib.sha384(img[:128 + mlen]).digest()) + bytes(config) +
              pad(hashlib.sha384(pubs[0]).digest()) + bytes([mode]) + bytes(64))
    cdi = hkdf(hashlib.sha384(inputs).digest(), uds, b"CDI_Attest", 48)
    if len(sys.argv) > 4:
        for ctr in range(16):
            d = hkdf(b"rot-stack dice key pair salt v1", cdi,
                     b"Key Pair" + bytes([ctr]), 48)
            if 0 < int.from_bytes(d, "big") < P384_N:
                break
        oid = bytes.fromhex("06052b81040022")  # secp384r1
        body = (bytes.fromhex("020101") + b"\x04\x30" + d + b"\xa0" +
                bytes([len(oid)]) + oid)
        with open(sys.argv[4], "wb") as f:
            f.write(b"\x30" + bytes([len(body)]) + body)
    print(uds.hex(), cdi.hex())


if __name__ == "__main__":
    main()
