# rot/: the security chip firmware.
# Portable core: freestanding C11, no libc, no malloc, no OS calls.
rot-core-srcs := \
	rot/src/error.c \
	rot/src/util.c \
	rot/src/crypto.c \
	rot/src/policy.c \
	rot/src/image.c \
	rot/src/otp.c \
	rot/src/flash.c \
	rot/src/gate.c \
	rot/src/audit.c \
	rot/src/update.c \
	rot/src/mailbox.c \
	rot/src/server.c \
	rot/src/dice.c \
	rot/src/identity.c \
	rot/src/server_identity.c

# Host port: mbedTLS crypto backend, files, file-backed OTP, argument parsing.
rot-host-srcs := \
	rot/port/host/crypto_mbedtls.c \
	rot/port/host/file.c \
	rot/port/host/keydir.c \
	rot/port/host/flash_file.c \
	rot/port/host/mbox_client.c \
	rot/port/host/parse.c \
	rot/port/host/trap.c \
	rot/port/host/cert_mbedtls.c

rot-cflags := -Irot/include -Irot/port/host/include

# Tools (one main each).
rot-bins := rotctl rotd
rotctl-srcs := rot/tools/rotctl.c rot/tools/rotctl_mbox.c rot/tools/rotctl_identity.c
rotd-srcs := rot/tools/rotd.c
