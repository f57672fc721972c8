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
	rot/src/server.c

# Host port: crypto backends (mbedTLS, libcrypto, the run-time choice),
# files, file-backed OTP, argument parsing.
rot-host-srcs := \
	rot/port/host/crypto_mbedtls.c \
	rot/port/host/crypto_openssl.c \
	rot/port/host/crypto_select.c \
	rot/port/host/file.c \
	rot/port/host/keydir.c \
	rot/port/host/flash_file.c \
	rot/port/host/mbox_client.c \
	rot/port/host/parse.c \
	rot/port/host/trap.c

rot-cflags := -Irot/include -Irot/port/host/include

# Tools (one main each).
rot-bins := rotctl rotd
rotctl-srcs := rot/tools/rotctl.c rot/tools/rotctl_mbox.c
rotd-srcs := rot/tools/rotd.c
