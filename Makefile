# Top-level build. One small objects.mk per folder lists its sources;
# this file only knows how to turn them into objects, libraries and tools.
#
#   make            build everything into build/ (tools in build/bin/)
#   make test       every test (unit suites under ASan+UBSan, CLI, fuzz
#                   corpus replay, freestanding core build)
#   make demo       the main job on embedded defaults (run dir: build/run)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make bench      side-by-side performance figures (not a test)

BUILD ?= build
CC ?= cc
CLANG ?= clang
CROSS ?= riscv64-unknown-elf-
FUZZ_SECONDS ?= 60
# Default crypto backend of the host tools (rot_host_crypto()): openssl
# (libcrypto, faster) or mbedtls (the chip's). ROT_CRYPTO=... overrides it
# at run time. See README.
CRYPTO ?= openssl

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -g -D_DEFAULT_SOURCE -DROT_HOSTED $(WARN) \
	$(if $(filter mbedtls,$(CRYPTO)),-DROT_CRYPTO_DEFAULT_MBEDTLS)
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN_CFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -DROT_TEST_HOOKS \
	-fno-omit-frame-pointer

# Libraries. mbedTLS and libfdt ship no pkg-config file on Debian 12.
# Recursive (=) so pkg-config only runs once deps.sh has installed them.
MBEDTLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)
TSS2_LIBS = $(shell pkg-config --libs tss2-esys tss2-tctildr tss2-mu tss2-rc)
FDT_LIBS := -lfdt
OPENSSL_LIBS = $(shell pkg-config --libs libcrypto)
JSONC_CFLAGS = $(shell pkg-config --cflags json-c)
JSONC_LIBS = $(shell pkg-config --libs json-c)
# bootchain's log printer builds json-c documents: whatever links bootchain
# links json-c.
LINK_LIBS = -Wl,--as-needed $(TSS2_LIBS) $(FDT_LIBS) $(MBEDTLS_LIBS) $(OPENSSL_LIBS) $(JSONC_LIBS)

DEPS_STAMP := $(BUILD)/.deps-ok

# Everything of rot a hosted program may link (the core and its port need
# each other: the port supplies the core's trap).
ROT_LIBS := $(BUILD)/lib/librot_client.a $(BUILD)/lib/librot_port.a $(BUILD)/lib/librot.a
ROT_SAN_LIBS := $(BUILD)/san/librot_client.a $(BUILD)/san/librot_port.a $(BUILD)/san/librot.a
group = -Wl,--start-group $(1) -Wl,--end-group


include rot/objects.mk
include bootchain/objects.mk
include host-agent/objects.mk
include attest/objects.mk
include tests/objects.mk
include tests/powerfail/objects.mk

bins := $(rot-bins) $(bootchain-bins) $(host-agent-bins)
ALL_CFLAGS = $(BASE_CFLAGS) $(rot-cflags) $(bootchain-cflags)

.PHONY: all deps test freestanding layering demo fuzz bench clean install
# Keep the objects of test binaries: they are intermediate files to make,
# which would otherwise delete them and rebuild every test on each run.
.SECONDARY:
.DEFAULT_GOAL := all

all: $(addprefix $(BUILD)/bin/,$(bins))

# Install missing Debian packages once; re-run when the list changes.
$(DEPS_STAMP): scripts/deps.sh
	@bash scripts/deps.sh
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

# ---- optimised build (tools, demo, bench) --------------------------------
# An object is dated when its compile began, not when it ended: a source
# or header changed while it compiled (a checkout, a merge, an editor) is
# then newer than the object, and the next make compiles it again instead
# of keeping an object built from the old text.
compile_begin = @mkdir -p $(@D) && touch $@.t0
compile_date = @touch -r $@.t0 $@ && rm -f $@.t0

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	$(compile_begin)
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) $(OPT_CFLAGS) -MMD -MP -c $< -o $@
	$(compile_date)

# Per-layer include paths (rot/objects.mk): the core sees only rot/include,
# the port adds its own, the host library and the rot tools add
# rot_client; only bootchain and the tests see everything.
define layer_cflags
$$(BUILD)/obj/$(1)/%.o $$(BUILD)/san/$(1)/%.o: ALL_CFLAGS := $$(BASE_CFLAGS) $(2)
endef
$(eval $(call layer_cflags,rot/src,$(rot-core-cflags)))
$(eval $(call layer_cflags,rot/port,$(rot-port-cflags)))
$(eval $(call layer_cflags,rot/client,$(rot-client-cflags)))
$(eval $(call layer_cflags,rot/tools,$(rot-client-cflags)))

# Libraries: the core, the host port, the host library for tools, bootchain.
lib-rot-srcs = $(rot-core-srcs)
lib-rot_port-srcs = $(rot-port-srcs)
lib-rot_client-srcs = $(rot-client-srcs)
lib-bootchain-srcs = $(bootchain-lib-srcs)
libs := rot rot_port rot_client bootchain
define lib_rule
$$(BUILD)/lib/lib$(1).a: $$(patsubst %.c,$$(BUILD)/obj/%.o,$$(lib-$(1)-srcs))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
$$(BUILD)/san/lib$(1).a: $$(patsubst %.c,$$(BUILD)/san/%.o,$$(lib-$(1)-srcs))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(libs),$(eval $(call lib_rule,$(l))))

# One rule per tool: build/bin/<t> from <t>-srcs, linked with the
# libraries named in <t>-stack and nothing else (listed in objects.mk).
define tool_rule
$$(BUILD)/bin/$(1): $$(patsubst %.c,$$(BUILD)/obj/%.o,$$($(1)-srcs)) $$(foreach l,$$($(1)-stack),$$(BUILD)/lib/lib$$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$(OPT_CFLAGS) -o $$@ $$(filter %.o,$$^) $$(call group,$$(filter %.a,$$^)) $$($(1)-libs)
# A tool's own compiler flags (its libraries' include paths).
$$(patsubst %.c,$$(BUILD)/obj/%.o,$$($(1)-srcs)): TOOL_CFLAGS := $$($(1)-cflags)
endef
$(foreach t,$(bins),$(eval $(call tool_rule,$(t))))

# ---- sanitizer build (tests) ---------------------------------------------
$(BUILD)/san/%.o: %.c | $(DEPS_STAMP)
	$(compile_begin)
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) $(CMOCKA_CFLAGS) -Itests/unit/common -MMD -MP -c $< -o $@
	$(compile_date)

unit-common-objs = $(patsubst %.c,$(BUILD)/san/%.o,$(wildcard tests/unit/common/*.c))

$(BUILD)/test/%: $(BUILD)/san/tests/unit/%.o $(unit-common-objs) $(BUILD)/san/libbootchain.a $(ROT_SAN_LIBS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(CMOCKA_LIBS) $(LINK_LIBS)

# ---- layering ----------------------------------------------------------------
# The include paths are the layering: prove a core file cannot reach a host
# header and a rot tool cannot reach a bootchain one.
layering:
	@for probe in "$(rot-core-cflags)|rot_client/names.h" \
	    "$(rot-core-cflags)|rot_host/file.h" \
	    "$(rot-client-cflags)|bootchain/eventlog.h"; do \
	  flags=$${probe%%|*}; hdr=$${probe#*|}; \
	  if echo "#include \"$$hdr\"" | $(CC) $$flags -fsyntax-only -x c - 2>/dev/null; then \
	    echo "layering: $$hdr reachable with $$flags"; exit 1; fi; \
	done; \
	echo '#include "rot_client/names.h"' | $(CC) $(rot-client-cflags) -fsyntax-only -x c - || \
	  { echo "layering: the probe itself is broken"; exit 1; }; \
	echo "layering: core sees no host header, rot tools no bootchain header"

# ---- freestanding core (the chip build) -----------------------------------
# Proves the core needs nothing from a hosted environment and measures the
# code a chip's flash holds: compiled for RISC-V with -ffreestanding
# -nostdlib, then fully linked the way a chip image is: link-time
# optimisation across the core's files (-flto), linker relaxation on (a
# near call is one jal, not auipc+jalr), -ffunction-sections
# -fdata-sections with --gc-sections, so only what the chip's entry points
# reach is counted. Until this round the figure was a partial link (-r),
# which applies no relaxation and keeps every function: 32.9 KB where the
# linked image of the same code is 29.0 KB without LTO. The per-object
# table comes from the same objects linked without LTO (LTO merges them
# into one unit), so both figures are printed.
# -msave-restore: prologues and epilogues call libgcc's shared register
# save/restore millicode (__riscv_save_N, __riscv_restore_N) instead of
# spelling the stores out in every function, as size-built rv32 firmware
# does; that millicode is linked in from libgcc below, so it is counted
# (its .eh_frame is not: see the memory map below).
# -mtune=size: GCC's RISC-V tuning for code size (instruction costs that
# favour the shorter sequence), which -Os alone does not select.
# -fno-inline-small-functions -fno-partial-inlining: a small function is
# called, not copied into each caller (and no function is split to inline
# its head), as size-built firmware does; -Os alone still inlines both.
# -fstack-usage: a frame size per function, for the stack figure (the
# link writes the frames of the LTO image beside it).
# -ffat-lto-objects: each object also carries its machine code, for the
# per-object link and the relocatable payload (rot_core.o).
FS_CFLAGS := -std=c11 -Os -ffreestanding -nostdlib -fno-builtin \
	-fno-tree-loop-distribute-patterns -march=rv32imc -mabi=ilp32 -mtune=size -msave-restore \
	-fno-inline-small-functions -fno-partial-inlining \
	-ffunction-sections -fdata-sections -fstack-usage -flto -ffat-lto-objects \
	$(WARN) -Irot/include
# The only libc symbols a freestanding C compiler calls on its own (block
# copies and fills) are the core's own routines, counted in the image:
# rot_memcpy and rot_memset keep memcpy's and memset's contract (they
# return dst). memmove and memcmp the compiler never emits here; if it
# did, the link would fail on them rather than leave them uncounted.
# The image is linked with a chip's memory map (scripts/fs_chip.ld: code
# and constants in ROM, variables in RAM, unwind tables and .comment
# discarded, as a chip's own script does), not the toolchain's default
# script for a hosted ELF program, which kept libgcc's .eh_frame (248 B)
# in the figure though nothing on a chip unwinds.
FS_LD_SCRIPT := scripts/fs_chip.ld
FS_LDFLAGS := -T $(FS_LD_SCRIPT) -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,--emit-relocs \
	-Wl,--defsym=memcpy=rot_memcpy -Wl,--defsym=memset=rot_memset
# libgcc of the same multilib: only the members the core calls are pulled
# in (the save/restore millicode). Recursive: the cross compiler may not
# be installed before deps.sh ran.
FS_LIBGCC = $(shell $(CROSS)gcc -march=rv32imc -mabi=ilp32 -print-libgcc-file-name)

# (The Makefile is a prerequisite: a change of FS_CFLAGS rebuilds them.)
$(BUILD)/riscv/%.o: %.c Makefile | $(DEPS_STAMP)
	$(compile_begin)
	$(CROSS)gcc $(FS_CFLAGS) -MMD -MP -c $< -o $@
	$(compile_date)

fs-core-objs = $(patsubst %.c,$(BUILD)/riscv/%.o,$(rot-core-srcs))
fs-crypto-objs = $(BUILD)/riscv/rot/src/crypto.o
fs-nocrypto-objs = $(filter-out $(fs-crypto-objs),$(fs-core-objs))

# The chip's entry points, the roots of the link: every core function the
# chip's firmware loop calls. rotd is the host port of that loop (rot/tools/
# rotd_*.c: transport, sockets and files around the core), so the roots are
# the core symbols its objects leave undefined, recomputed on every build;
# the reset path (rot_server_init) runs the ROM stage, rot_identity_boot,
# named too. Everything else must be reachable from these, through calls
# or the tables (the mailbox server's handlers), or it is not counted.
fs-root-objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(rotd-srcs))
FS_ROM_ROOTS := rot_identity_boot
$(BUILD)/riscv/rot_core.roots: $(fs-root-objs) $(fs-core-objs)
	@{ nm -u $(fs-root-objs) | awk 'NF == 2 {print $$2}' | sort -u > $@.u; \
	  $(CROSS)nm -g --defined-only $(fs-core-objs) | awk 'NF == 3 {print $$3}' | sort -u > $@.d; \
	  { comm -12 $@.u $@.d; printf '%s\n' $(FS_ROM_ROOTS); } | sort -u; rm -f $@.u $@.d; } > $@.tmp
	@[ -s $@.tmp ] || { echo "freestanding: no roots found in $(fs-root-objs)"; exit 1; }
	@mv $@.tmp $@

fs_link = $(CROSS)gcc $(FS_CFLAGS) $(FS_LDFLAGS) -Wl,-e,rot_server_init \
	$$(sed 's/^/-Wl,-u,/' $(BUILD)/riscv/rot_core.roots) -Wl,-Map=$(basename $@).map

# The chip image: the whole core, crypto glue (rot/src/crypto.c) included.
# Every symbol must resolve (the link fails otherwise): the crypto backend
# and flash/OTP come in through the port structs, not by name. Linked in
# a folder of its own: the LTO stage's stack usage lands beside it.
$(BUILD)/riscv/image/rot_core.elf: $(fs-core-objs) $(BUILD)/riscv/rot_core.roots $(FS_LD_SCRIPT)
	@mkdir -p $(@D) && rm -f $(@D)/*.su
	$(fs_link) -o $@ $(fs-core-objs) $(FS_LIBGCC)

# Everything but the crypto glue, sized against the goal for a chip whose
# crypto is a hardware block: the glue's functions (the one-shot hash, the
# ECDSA checks) are then the only symbols left undefined.
$(BUILD)/riscv/nocrypto/rot_core.elf: $(fs-nocrypto-objs) $(fs-crypto-objs) $(BUILD)/riscv/rot_core.roots $(FS_LD_SCRIPT)
	@mkdir -p $(@D)
	$(fs_link) -Wl,--unresolved-symbols=ignore-all -o $@ $(fs-nocrypto-objs) $(FS_LIBGCC)

# The same image without LTO, for the per-object table.
$(BUILD)/riscv/nolto/rot_core.elf: $(fs-core-objs) $(BUILD)/riscv/rot_core.roots $(FS_LD_SCRIPT)
	@mkdir -p $(@D)
	$(fs_link) -fno-lto -o $@ $(fs-core-objs) $(FS_LIBGCC)

# The chip's firmware payload the tests and the demo sign and install (a
# relocatable link of the same objects, without their LTO bytecode).
$(BUILD)/riscv/rot_core.o: $(fs-core-objs)
	$(CROSS)gcc $(FS_CFLAGS) -fno-lto -r -o $@.tmp $^ $(FS_LIBGCC)
	$(CROSS)objcopy -R '.gnu.lto_*' $@.tmp $@ && rm -f $@.tmp

# The whole chip image (verifier, gate, update engine, audit log, mailbox
# server, boot ROM stage and DICE identity, the crypto glue, libgcc's
# save/restore millicode) must fit this much code; the build fails over
# it. FS_TEXT_BUDGET: the linked image (24,888 B) plus ~1 KB of headroom.
# Host-only code (reply decoders, request builders, names, the signer,
# fuse provisioning) is in rot/client, never here. The goal below (the
# core without the crypto glue, 24 KiB) is printed, met or not, with the
# gap.
FS_TEXT_BUDGET ?= 25920
FS_NOCRYPTO_GOAL ?= 24576
# The verify path whose stack depth is printed: the BOOT command from the
# mailbox down to the last signature check (the handler is called through
# the authorisation table, so that edge is named), and the ROM stage.
FS_STACK_ROOTS := rot_server_handle rot_identity_boot
FS_STACK_EDGES := dispatch:h_boot rot_server_handle:h_boot

# text: .text, .rodata and the other read-only sections `size` counts.
fs_text = $$($(CROSS)size $(1) | awk 'NR==2 {print $$1}')

fs-image := $(BUILD)/riscv/image/rot_core.elf
fs-nocrypto := $(BUILD)/riscv/nocrypto/rot_core.elf
fs-nolto := $(BUILD)/riscv/nolto/rot_core.elf
freestanding: $(fs-image) $(fs-nocrypto) $(fs-nolto) $(BUILD)/riscv/rot_core.o
	@echo "rot core (riscv32, -ffreestanding -nostdlib, -Os, linked with LTO, relaxation and --gc-sections):"
	@$(CROSS)size $<
	@echo "freestanding: roots: $$(tr '\n' ' ' < $(BUILD)/riscv/rot_core.roots)"
	@echo "freestanding: per object, linked without LTO (text $(call fs_text,$(fs-nolto)), rodata included):"
	@bash scripts/fs_objects.sh $(basename $(fs-nolto)).map
	@text=$(call fs_text,$(fs-nocrypto)); \
	echo "freestanding: core without crypto: text $$text of a $(FS_NOCRYPTO_GOAL)-byte goal ($$( [ "$$text" -le $(FS_NOCRYPTO_GOAL) ] && echo met || echo "not met: $$((text - $(FS_NOCRYPTO_GOAL))) over"))"
	@text=$(call fs_text,$<); \
	echo "freestanding: text $$text of $(FS_TEXT_BUDGET) bytes budgeted"; \
	if [ "$$text" -gt $(FS_TEXT_BUDGET) ]; then \
	  echo "freestanding: the chip's code is over its budget by $$((text - $(FS_TEXT_BUDGET))) bytes"; exit 1; fi
	@allowed=$$($(CROSS)nm -g --defined-only $(fs-crypto-objs) | awk 'NF == 3 {print $$3}'); \
	undef=$$($(CROSS)nm -u $(fs-nocrypto) | awk '{print $$2}' | grep -vxF "$$allowed" || true); \
	if [ -n "$$undef" ]; then echo "freestanding: core needs symbols a chip does not have: $$undef"; exit 1; fi; \
	echo "freestanding: the image links with no undefined symbol; without crypto, only the glue's: $$(echo $$allowed)"
	@for r in $(FS_STACK_ROOTS); do \
	  bash scripts/fs_stack.sh $(CROSS)objdump $< $(<D) $$r $(FS_STACK_EDGES) || exit 1; \
	done

space := $(subst ,, )

# ---- fuzzing --------------------------------------------------------------
# Targets that need flash or OTP use the unit tests' in-memory fakes.
FUZZ_CFLAGS := -std=c11 -g -O1 -D_DEFAULT_SOURCE -DROT_HOSTED \
	-fsanitize=fuzzer,address,undefined $(rot-cflags) $(bootchain-cflags) \
	$(host-agent-cflags) -Itests/unit/common

FUZZ_SRCS = $(rot-core-srcs) $(rot-port-srcs) $(rot-client-srcs) $(bootchain-lib-srcs) \
	$(host-agent-parse-srcs) tests/unit/common/ram_flash.c
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_SRCS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS) $(LINK_LIBS)

# Every target gets its run even when an earlier one finds a crash (its
# input is left as crash-* in the working directory); the failures are
# listed at the end.
fuzz: $(addprefix $(BUILD)/fuzz/,$(fuzz-targets))
	@bad=; for t in $(fuzz-targets); do \
	  mkdir -p $(BUILD)/fuzz-corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(BUILD)/fuzz-corpus/$$t tests/fuzz/corpus/$$t || bad="$$bad $$t"; \
	done; \
	if [ -n "$$bad" ]; then echo "fuzz: failed:$$bad"; exit 1; fi

# ---- install ----------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=]: the tools into PREFIX/bin, the
# project's swtpm script as rot-swtpm beside them, and the base device tree
# bootchain starts from into PREFIX/share/rot-stack.
PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/rot-stack
	install -m 0755 $(addprefix $(BUILD)/bin/,$(bins) attestctl) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 scripts/swtpm.sh $(DESTDIR)$(PREFIX)/bin/rot-swtpm
	install -m 0644 $(BUILD)/dtb/virt.dtb $(DESTDIR)$(PREFIX)/share/rot-stack/

# ---- the two commands ------------------------------------------------------
test: all layering $(BUILD)/riscv/rot_core.o $(unit-tests) $(addprefix $(BUILD)/fuzz/,$(fuzz-targets))
	@ROT_CRYPTO_DEFAULT=$(CRYPTO) bash tests/run.sh $(BUILD)

demo: all $(BUILD)/riscv/rot_core.o
	@bash scripts/demo.sh $(BUILD)

bench: all $(BUILD)/riscv/rot_core.o $(bench-bins)
	@BENCH_BACKEND_DEFAULT=$(CRYPTO) bash tests/bench/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
