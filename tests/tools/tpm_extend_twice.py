#!/usr/bin/env python3
"""A TPM that someone else extends mid-boot, for tests/cli/boot_e2e_test.sh.

Runs under tpm2-tss's command TCTI ("cmd:python3 tpm_extend_twice.py SOCK N"):
reads raw TPM 2.0 commands on stdin, forwards each to the swtpm data socket
SOCK and writes the response to stdout. The Nth TPM2_PCR_Extend (N >= 1) is
sent to the TPM twice, the first response dropped: to the caller it looks
like one extend, but the PCR moved two steps, as if another process had
extended it in between.
"""
import os
import socket
import struct
import sys

TPM_CC_PCR_EXTEND = 0x00000182
HEADER = 10  # tag u16, size u32, command or response code u32
MAX_MESSAGE = 1 << 16


def read_exact(read, n):
    buf = b""
    while len(buf) < n:
        chunk = read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_message(read):
    head = read_exact(read, HEADER)
    if head is None:
        return None
    size = struct.unpack(">I", head[2:6])[0]
    if size < HEADER or size > MAX_MESSAGE:
        raise SystemExit("tpm_extend_twice: bad message size %d" % size)
    body = read_exact(read, size - HEADER)
    if body is None:
        raise SystemExit("tpm_extend_twice: message cut short")
    return head + body


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: tpm_extend_twice.py SWTPM_SOCKET N")
    path, nth = sys.argv[1], int(sys.argv[2])
    tpm = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tpm.connect(path)
    extends = 0

    def transact(cmd):
        tpm.sendall(cmd)
        resp = read_message(tpm.recv)
        if resp is None:
            raise SystemExit("tpm_extend_twice: the TPM closed the socket")
        return resp

    while True:
        cmd = read_message(lambda n: os.read(0, n))
        if cmd is None:
            return
        if struct.unpack(">I", cmd[6:10])[0] == TPM_CC_PCR_EXTEND:
            extends += 1
            if extends == nth:
                transact(cmd)  # the extend nobody logged
        resp = transact(cmd)
        view = memoryview(resp)
        while view:
            view = view[os.write(1, view):]


if __name__ == "__main__":
    main()
