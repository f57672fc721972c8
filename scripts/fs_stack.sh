#!/usr/bin/env bash
# Worst-case stack depth of a call chain of the freestanding core, from
# GCC's -fstack-usage files and the calls in the linked image (linked with
# --emit-relocs, so each call keeps its relocation).
#
#   fs_stack.sh OBJDUMP IMAGE SU_DIR ROOT [CALLER:CALLEE ...]
#
# SU_DIR: where the image's .su files are (for an LTO image, the folder it
# was linked into: the LTO stage writes IMAGE.ltransN.ltrans.su there).
#
# Walks the static call graph (call, tail and jal relocations; after linker
# relaxation most calls are a jal or a compressed jal/j) from ROOT
# and prints the deepest chain with the sum of its frames. Calls through a
# function pointer are not in the object's relocations: name them as
# CALLER:CALLEE (the mailbox server's handler table, for one). A tail call
# is counted as a call (its frame is added), so the figure errs high.
# Frames of the port (crypto backend, flash, OTP) come on top: they are the
# platform's. Recursion or a function without a -fstack-usage entry is an
# error, so the figure is never silently short.
set -euo pipefail
objdump=$1 obj=$2 sudir=$3 root=$4
shift 4
{
  # Frames: "file:line:col:name<TAB>bytes<TAB>static|dynamic[,bounded]".
  find "$sudir" -name '*.su' -exec cat {} + | awk -F'\t' '{
    n = split($1, p, ":"); print "F", p[n], $2, $3 }'
  # Calls: a relocation of a call instruction names its target.
  "$objdump" -dr "$obj" | awk '
    /^[0-9a-f]+ <[^>]+>:$/ { s = $2; gsub(/[<>:]/, "", s); if (s !~ /^\.L/) cur = s; next }
    /R_RISCV_(CALL|CALL_PLT|JAL|RVC_JUMP)[ \t]/ { t = $NF; sub(/\+0x[0-9a-f]+$/, "", t);
      if (t !~ /^\.L/) print "E", cur, t }'
  for e in "$@"; do echo "E ${e%%:*} ${e#*:}"; done
} | awk -v root="$root" '
  # -fstack-usage names a clone "f.isra" where the object has "f.isra.0",
  # and a static the LTO stage renamed "f.lto_priv.N" just "f" (statics
  # of one name in several files then share the largest frame: errs high).
  { for (i = 2; i <= 3; i++) { sub(/\.lto_priv\.[0-9]+$/, "", $i)
      if ($i ~ /\.(isra|constprop)\.[0-9]+$/) sub(/\.[0-9]+$/, "", $i) } }
  $1 == "F" { if (!($2 in frame) || $3 + 0 > frame[$2]) frame[$2] = $3 + 0;
              if ($4 ~ /dynamic/ && $4 !~ /bounded/) dyn[$2] = 1; next }
  $1 == "E" { if (!(($2, $3) in seen)) { seen[$2, $3] = 1; kids[$2] = kids[$2] " " $3 } }
  function depth(f,    n, k, i, d, best) {
    if (f in memo) return memo[f]
    if (f in busy) { print "fs_stack: recursion through " f > "/dev/stderr"; bad = 1; return 0 }
    if (!(f in frame)) {
      # Library helpers the core may call (memcpy and the like, the
      # save/restore millicode) use no frame of their own worth counting.
      if (f ~ /^(memcpy|memset|memmove|memcmp|__riscv_save_[0-9]+|__riscv_restore_[0-9]+)$/) { memo[f] = 0; return 0 }
      print "fs_stack: no stack usage for " f > "/dev/stderr"; bad = 1; return 0
    }
    if (f in dyn) { print "fs_stack: dynamic stack in " f > "/dev/stderr"; bad = 1 }
    busy[f] = 1; best = 0; next_[f] = ""
    n = split(kids[f], k, " ")
    for (i = 1; i <= n; i++) { d = depth(k[i]); if (d > best) { best = d; next_[f] = k[i] } }
    delete busy[f]
    memo[f] = frame[f] + best
    return memo[f]
  }
  END {
    total = depth(root)
    if (bad) exit 1
    chain = ""; f = root
    while (f != "") { chain = chain (chain == "" ? "" : " > ") f "(" frame[f] ")"; f = next_[f] }
    printf "freestanding: stack of %s: %d bytes (deepest chain: %s)\n", root, total, chain
  }'
