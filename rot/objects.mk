# rot/: the security chip firmware.
# Portable core: freestanding C11, no libc, no malloc, no OS calls.
rot-core-srcs := \
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

# Host port: mbedTLS crypto backend, files, file-backed OTP, argument parsing.
rot-host-srcs := \
	rot/port/host/crypto_mbedtls.c \
	rot/port/host/file.c \
	rot/port/host/keydir.c \
	rot/port/host/flash_file.c \
	rot/port/host/mbox_client.c \
	rot/port/host/parse.c \
	rot/port/host/trap.c

# Host library for tools: names of the chip's codes (never in the chip).
rot-client-srcs := \
	rot/client/names.c \
	rot/client/image_sign.c \
	rot/client/mbox_requests.c

rot-cflags := -Irot/include -Irot/port/host/include -Irot/client/include

# Tools (one main each).
rot-bins := rotctl rotd
# rotctl: one file per command family (rotctl.h), plus the shared parser,
# output writer and rotd connection.
rotctl-srcs := rot/tools/rotctl_main.c rot/tools/rotctl_opts.c \
	rot/tools/rotctl_out.c rot/tools/rotctl_rotd.c \
	rot/tools/rotctl_image.c rot/tools/rotctl_otp.c \
	rot/tools/rotctl_update.c rot/tools/rotctl_daemon.c
rotctl-cflags = $(JSONC_CFLAGS)
rotctl-libs = $(JSONC_LIBS)
rotd-srcs := rot/tools/rotd_main.c rot/tools/rotd_transport.c \
	rot/tools/rotd_server.c
