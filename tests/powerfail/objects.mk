# tests/powerfail/: the deterministic power-fail simulator. It links the
# sanitizer build of the RoT library and lives outside $(BUILD)/test, which
# tests/run.sh treats as cmocka suites; make test runs its --quick mode
# through tests/cli/powerfail_test.sh.
#
#   make powerfail     every cut point of every scenario (>= 20,000)
powerfail-srcs := \
	tests/powerfail/sim.c \
	tests/powerfail/fixture.c \
	tests/powerfail/fuses.c \
	tests/powerfail/model.c \
	tests/powerfail/scenarios.c \
	tests/powerfail/check.c \
	tests/powerfail/powerfail.c

powerfail-bin := $(BUILD)/powerfail/powerfail

$(powerfail-bin): $(patsubst %.c,$(BUILD)/san/%.o,$(powerfail-srcs)) $(ROT_SAN_LIBS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(MBEDTLS_LIBS)

.PHONY: powerfail
powerfail: $(powerfail-bin)
	@$(powerfail-bin)

# make test runs the reduced set (tests/cli/powerfail_test.sh).
test: $(powerfail-bin)
