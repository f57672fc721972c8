# rot/: the security chip firmware.
# Portable core: freestanding C11, no libc, no malloc, no OS calls.
rot-core-srcs := \
	rot/src/util.c \
	rot/src/wire.c \
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

# Host port: what the core needs from a host to run there (the crypto
# backends, mbedTLS and libcrypto, and the run-time choice between them;
# the file-backed flash and OTP, files, the trap).
rot-port-srcs := \
	rot/port/host/crypto_mbedtls.c \
	rot/port/host/crypto_openssl.c \
	rot/port/host/crypto_select.c \
	rot/port/host/file.c \
	rot/port/host/flash_file.c \
	rot/port/host/trap.c \
	rot/port/host/cert_mbedtls.c

# Host library for tools (rot_client/*.h): names of the chip's codes, the
# image signer, mailbox request builders, reply decoders and client, fuse
# provisioning, key directories, number parsing. Never in the chip.
rot-client-srcs := \
	rot/client/names.c \
	rot/client/image_sign.c \
	rot/client/mbox_requests.c \
	rot/client/mbox_replies.c \
	rot/client/otp_provision.c \
	rot/client/mbox_client.c \
	rot/client/keydir.c \
	rot/client/parse.c

# Include paths per layer: each sees only itself and the layers below, so
# a core file cannot include a host header, and no rot file can include a
# bootchain header (rot tools do not link bootchain either).
rot-core-cflags := -Irot/include
rot-port-cflags := $(rot-core-cflags) -Irot/port/host/include
rot-client-cflags := $(rot-port-cflags) -Irot/client/include
rot-cflags := $(rot-client-cflags)

# Tools (one main each).
rot-bins := rotctl rotd
# rotctl: one file per command family (rotctl.h), plus the shared parser,
# output writer and rotd connection.
rotctl-srcs := rot/tools/rotctl_main.c rot/tools/rotctl_opts.c \
	rot/tools/rotctl_out.c rot/tools/rotctl_rotd.c \
	rot/tools/rotctl_image.c rot/tools/rotctl_otp.c \
	rot/tools/rotctl_update.c rot/tools/rotctl_daemon.c \
	rot/tools/rotctl_identity.c
rotctl-cflags = $(JSONC_CFLAGS)
rotctl-libs = $(MBEDTLS_LIBS) $(OPENSSL_LIBS) $(JSONC_LIBS)
rotd-srcs := rot/tools/rotd_main.c rot/tools/rotd_transport.c \
	rot/tools/rotd_server.c
# What each tool links besides its objects (libraries in build/lib).
rotctl-stack := rot_client rot_port rot
rotd-stack := rot_client rot_port rot
rotd-libs = $(MBEDTLS_LIBS) $(OPENSSL_LIBS)
