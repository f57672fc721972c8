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
$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) $(OPT_CFLAGS) -MMD -MP -c $< -o $@

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
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) $(CMOCKA_CFLAGS) -Itests/unit/common -MMD -MP -c $< -o $@

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
# Proves the core needs nothing from a hosted environment: compiled for
# RISC-V with -ffreestanding -nostdlib, partially linked, sizes printed.
# -msave-restore: prologues and epilogues call libgcc's shared register
# save/restore millicode (__riscv_save_N, __riscv_restore_N) instead of
# spelling the stores out in every function, as size-built rv32 firmware
# does; that millicode is linked in from libgcc below, so it is counted.
# -fstack-usage: a frame size per function, for the stack figure.
FS_CFLAGS := -std=c11 -Os -ffreestanding -nostdlib -fno-builtin \
	-fno-tree-loop-distribute-patterns -march=rv32imc -mabi=ilp32 -msave-restore \
	-fstack-usage $(WARN) -Irot/include
# Symbols a freestanding C compiler may call on its own (struct copies).
FS_ALLOWED_UNDEF := memcpy memset memmove memcmp
# libgcc of the same multilib: only the members the core calls are pulled
# in (the save/restore millicode). Recursive: the cross compiler may not
# be installed before deps.sh ran.
FS_LIBGCC = $(shell $(CROSS)gcc -march=rv32imc -mabi=ilp32 -print-libgcc-file-name)

# (The Makefile is a prerequisite: a change of FS_CFLAGS rebuilds them.)
$(BUILD)/riscv/%.o: %.c Makefile | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CROSS)gcc $(FS_CFLAGS) -MMD -MP -c $< -o $@

fs-core-objs = $(patsubst %.c,$(BUILD)/riscv/%.o,$(rot-core-srcs))
fs-nocrypto-objs = $(patsubst %.c,$(BUILD)/riscv/%.o,$(filter-out rot/src/crypto.c,$(rot-core-srcs)))

$(BUILD)/riscv/rot_core.o: $(fs-core-objs)
	$(CROSS)gcc $(FS_CFLAGS) -r -o $@ $^ $(FS_LIBGCC)

# Everything but the crypto glue (rot/src/crypto.c), sized against the
# goal for a chip whose crypto is a hardware block.
$(BUILD)/riscv/rot_core_nocrypto.o: $(fs-nocrypto-objs)
	$(CROSS)gcc $(FS_CFLAGS) -r -o $@ $^ $(FS_LIBGCC)

# The whole chip (verifier, gate, update engine, audit log, mailbox server,
# boot ROM stage and DICE identity, the crypto glue, libgcc's save/restore
# millicode) must fit this much code; the build fails over it. 33.6 KB
# today, 1.2 KB of headroom: host-only code (reply decoders, request
# builders, names, the signer, fuse provisioning) is in rot/client, never
# here. The goal below is printed, met or not, with the gap.
FS_TEXT_BUDGET ?= 34816
FS_NOCRYPTO_GOAL ?= 24576
# The verify path whose stack depth is printed: the BOOT command from the
# mailbox down to the last signature check (the handler is called through
# the authorisation table, so that edge is named), and the ROM stage.
FS_STACK_ROOTS := rot_server_handle rot_identity_boot
FS_STACK_EDGES := dispatch:h_boot rot_server_handle:h_boot

freestanding: $(BUILD)/riscv/rot_core.o $(BUILD)/riscv/rot_core_nocrypto.o
	@echo "rot core (riscv32, -ffreestanding -nostdlib, -Os):"
	@$(CROSS)size $<
	@echo "freestanding: per object (text, rodata included):"
	@for o in $(fs-core-objs); do \
	  printf '  %6d  %s\n' "$$($(CROSS)size $$o | awk 'NR==2 {print $$1}')" "$${o#$(BUILD)/riscv/}"; \
	done | sort -rn
	@text=$$($(CROSS)size $(BUILD)/riscv/rot_core_nocrypto.o | awk 'NR==2 {print $$1}'); \
	echo "freestanding: core without crypto: text $$text of a $(FS_NOCRYPTO_GOAL)-byte goal ($$( [ "$$text" -le $(FS_NOCRYPTO_GOAL) ] && echo met || echo "not met: $$((text - $(FS_NOCRYPTO_GOAL))) over"))"
	@text=$$($(CROSS)size $< | awk 'NR==2 {print $$1}'); \
	echo "freestanding: text $$text of $(FS_TEXT_BUDGET) bytes budgeted"; \
	if [ "$$text" -gt $(FS_TEXT_BUDGET) ]; then \
	  echo "freestanding: the chip's code is over its budget by $$((text - $(FS_TEXT_BUDGET))) bytes"; exit 1; fi
	@undef=$$($(CROSS)nm -u $< | awk '{print $$2}' | grep -vxE '$(subst $(space),|,$(FS_ALLOWED_UNDEF))' || true); \
	if [ -n "$$undef" ]; then echo "freestanding: core needs symbols a chip does not have: $$undef"; exit 1; fi; \
	echo "freestanding: no undefined symbols outside {$(FS_ALLOWED_UNDEF)}"
	@for r in $(FS_STACK_ROOTS); do \
	  bash scripts/fs_stack.sh $(CROSS)objdump $< $(BUILD)/riscv/rot/src $$r $(FS_STACK_EDGES) || exit 1; \
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
