#!/usr/bin/env bash
# Code per object of the linked freestanding core, from the linker's map:
# the input sections each object contributes to the image's read-only
# output sections (.text, .rodata: scripts/fs_chip.ld), after
# --gc-sections and linker relaxation, so the rows (alignment included)
# add up to the image's text figure.
#
#   fs_objects.sh MAP
#
# Prints "  BYTES  OBJECT" per object, largest first.
set -euo pipefail
awk '
  function hex(s,    i, n) {
    s = tolower(s); sub(/^0x/, "", s); n = 0
    for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return n
  }
  /^Linker script and memory map/ { on = 1; next }
  !on { next }
  # An output section starts in column 0.
  /^[^ ]/ { out = $1; want = (out ~ /^\.(text|rodata)$/); pend = 0; next }
  !want { next }
  # An input section: " .name ADDR SIZE FILE", or its name alone on one
  # line and "ADDR SIZE FILE" on the next.
  /^ \.[^ ]+$/ { pend = 1; next }
  /^ \.[^ ]+ +0x[0-9a-f]+ +0x[0-9a-f]+ / { add($3, $4); pend = 0; next }
  pend && /^ +0x[0-9a-f]+ +0x[0-9a-f]+ / { add($2, $3); pend = 0; next }
  /^ \*fill\* +0x[0-9a-f]+ +0x[0-9a-f]+/ { sum["(alignment)"] += hex($3); next }
  { pend = 0 }
  function add(sz, f,    n, p) {
    if (f ~ /libgcc\.a/) f = "libgcc (save/restore millicode)"
    else { n = split(f, p, "/"); f = (n >= 3 ? p[n - 2] "/" p[n - 1] "/" : "") p[n] }
    sum[f] += hex(sz)
  }
  END { for (f in sum) if (sum[f] > 0) printf "  %6d  %s\n", sum[f], f }
' "$1" | sort -rn
