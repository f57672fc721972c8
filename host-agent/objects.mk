# host-agent/: the host's HTTP API (Redfish, Keylime pull agent, native
# endpoints), libmicrohttpd with GnuTLS for TLS and client certificates,
# json-c for every document.
HOST_AGENT_PKGS := libmicrohttpd json-c gnutls

# The request and configuration parsers, also built into the fuzzers.
host-agent-parse-srcs := host-agent/src/params.c

host-agent-bins := host-agent
host-agent-srcs := \
	$(host-agent-parse-srcs) \
	host-agent/src/main.c \
	host-agent/src/config.c \
	host-agent/src/http.c \
	host-agent/src/routes.c \
	host-agent/src/redfish.c \
	host-agent/src/native.c \
	host-agent/src/update.c \
	host-agent/src/tasks.c \
	host-agent/src/rotlink.c \
	host-agent/src/tpmown.c \
	host-agent/src/chipid.c \
	host-agent/src/identity.c \
	host-agent/src/integrity.c \
	host-agent/src/batch.c \
	host-agent/src/metrics.c

# Headers: its own, and the libraries' from the system include path
# (<microhttpd.h>, <gnutls/gnutls.h>, <json-c/json.h>).
host-agent-cflags := -Ihost-agent/src -Iattest/include
host-agent-stack := attest bootchain rot_client rot_port rot
host-agent-libs = $(LINK_LIBS) -lpthread $(shell pkg-config --libs $(HOST_AGENT_PKGS))
