#!/usr/bin/env python3
"""Hostile evidence and policy for tests/cli/attest_test.sh.

  attest_mutate.py evidence IN OUT OP [ARGS...]
  attest_mutate.py policy IN OUT OP [ARGS...]

Evidence ops edit one part the way an attacker (or a broken host) would;
the quote parts come from files a real TPM made (tpm2-tools) when the op
splices them in.
"""
import base64
import hashlib
import json
import struct
import sys


def b64(data):
    return base64.b64encode(data).decode()


def unb64(s):
    return base64.b64decode(s)


def records(log):
    """Split a crypto-agile log (header + TCG_PCR_EVENT2) into raw parts."""
    hsize = struct.unpack_from("<I", log, 28)[0]
    head_len = 32 + hsize
    nalg = struct.unpack_from("<I", log, 32 + 24)[0]
    sizes = {}
    for i in range(nalg):
        alg, size = struct.unpack_from("<HH", log, 32 + 28 + 4 * i)
        sizes[alg] = size
    out, off = [], head_len
    while off < len(log):
        start = off
        off += 8
        count = struct.unpack_from("<I", log, off)[0]
        off += 4
        for _ in range(count):
            alg = struct.unpack_from("<H", log, off)[0]
            off += 2 + sizes[alg]
        esize = struct.unpack_from("<I", log, off)[0]
        off += 4 + esize
        out.append(bytearray(log[start:off]))
    return bytes(log[:head_len]), out


def alg_sizes(log):
    """The digest size of each bank the log header names."""
    nalg = struct.unpack_from("<I", log, 32 + 24)[0]
    return dict(struct.unpack_from("<HH", log, 32 + 28 + 4 * i) for i in range(nalg))


def rebuild(rec, sizes, data=None, digests=None):
    """rec with its event data replaced (its digests then recomputed, as a
    data-bound event's are) or its digests replaced ({alg: bytes})."""
    pcr, etype, count = struct.unpack_from("<III", rec, 0)
    off, old = 12, {}
    for _ in range(count):
        alg = struct.unpack_from("<H", rec, off)[0]
        old[alg] = bytes(rec[off + 2:off + 2 + sizes[alg]])
        off += 2 + sizes[alg]
    esize = struct.unpack_from("<I", rec, off)[0]
    if data is None:
        data = bytes(rec[off + 4:off + 4 + esize])
    else:
        names = {0x000b: "sha256", 0x000c: "sha384"}
        digests = {alg: hashlib.new(names[alg], data).digest() for alg in old}
    digests = digests or old
    out = struct.pack("<III", pcr, etype, count)
    for alg in old:
        out += struct.pack("<H", alg) + digests[alg]
    return bytearray(out + struct.pack("<I", len(data)) + data)


def pcr0_event(recs, etype):
    """Index of PCR 0's first event of etype."""
    return [i for i, r in enumerate(recs) if struct.unpack_from("<II", r, 0) == (0, etype)][0]


def main():
    kind, src, dst, op = sys.argv[1:5]
    args = sys.argv[5:]
    doc = json.load(open(src))
    if kind == "evidence":
        q = doc["quote"]
        if op == "splice":  # attest sig pcrs [akpub akpem]
            q["attest"] = b64(open(args[0], "rb").read())
            q["signature"] = b64(open(args[1], "rb").read())
            if len(args) > 2 and args[2] != "-":
                q["pcrs"] = b64(open(args[2], "rb").read())
            if len(args) > 3:
                doc["ak"]["public"] = b64(open(args[3], "rb").read())
                doc["ak"]["pem"] = open(args[4]).read()
        elif op == "pcrs-byte":  # OFFSET VALUE: one byte of the PCR file (OFFSET < 0: from the end)
            pcrs = bytearray(unb64(q["pcrs"]))
            pcrs[int(args[0], 0)] = int(args[1], 0)
            q["pcrs"] = b64(pcrs)
        elif op == "log":
            head, recs = records(unb64(doc["event_log"]))
            how = args[0]
            if how == "drop-last":
                recs = recs[:-1]
            elif how == "swap-pcr7":
                idx = [i for i, r in enumerate(recs)
                       if struct.unpack_from("<I", r, 0)[0] == 7]
                recs[idx[0]], recs[idx[1]] = recs[idx[1]], recs[idx[0]]
            elif how == "extra":
                recs.append(recs[-1])
            elif how.startswith("pcr="):
                struct.pack_into("<I", recs[0], 0, int(how[4:], 0))
            elif how == "truncate":
                recs[-1] = recs[-1][:-3]
            elif how.startswith("rot-version="):  # the S-CRTM version event names other RoT firmware
                log = unb64(doc["event_log"])
                i = pcr0_event(recs, 0x8)
                recs[i] = rebuild(recs[i], alg_sizes(log),
                                  data=(how[12:] + "\0").encode("utf-16-le"))
            elif how.startswith("rot-contents="):  # SHA256HEX,SHA384HEX: other RoT firmware measured
                log = unb64(doc["event_log"])
                d256, d384 = (bytes.fromhex(h) for h in how[13:].split(","))
                i = pcr0_event(recs, 0x7)
                recs[i] = rebuild(recs[i], alg_sizes(log), digests={0x000b: d256, 0x000c: d384})
            doc["event_log"] = b64(head + b"".join(recs))
        elif op == "ak-attr-clear":  # clear a TPMA_OBJECT bit in the AK
            pub = bytearray(unb64(doc["ak"]["public"]))
            attrs = struct.unpack_from(">I", pub, 6)[0]
            struct.pack_into(">I", pub, 6, attrs & ~int(args[0], 0))
            doc["ak"]["public"] = b64(bytes(pub))
        elif op == "batch-sibling":
            p = doc["batch"]["path"]
            p[0] = ("%064x" % (int(p[0], 16) ^ 1))
        elif op == "batch-quote-from":
            other = json.load(open(args[0]))
            doc["quote"] = other["quote"]
        elif op == "dice":  # deviceid.der alias.der endorsement.der
            doc["dice"] = {"deviceid": b64(open(args[0], "rb").read()),
                           "alias": b64(open(args[1], "rb").read())}
            doc["ak_endorsement"] = b64(open(args[2], "rb").read())
        else:
            sys.exit("unknown evidence op " + op)
    else:
        if op == "signers":  # TYPE KEY
            doc["signers"][args[0]] = [int(args[1])]
        elif op == "floor":  # TYPE SVN
            doc["svn_floors"][args[0]] = int(args[1])
        else:
            sys.exit("unknown policy op " + op)
    json.dump(doc, open(dst, "w"), indent=1)


if __name__ == "__main__":
    main()
