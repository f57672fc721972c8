#!/usr/bin/env bash
# A whole dev host in one command: dev keys and CAs, a provisioned OTP,
# swtpm, rotd with installed images, a measured boot's event log, and the
# host agent on loopback.
#
#   scripts/stack.sh start DIR [BUILD]   bring it up (BUILD: build dir, default build)
#   scripts/stack.sh stop DIR            stop everything start started
#   scripts/stack.sh status DIR          say what runs; exit 0 when all of it does
#
# DIR holds everything: keys/ (the dev hierarchy of keys/dev-hierarchy.sh:
# image signing keys, manufacturer CA, operator CA), pki/ (the agent's TLS
# files by role: tls-ca.crt and operator-ca.crt, the operator CA that issues
# both server.crt and the operator's operator.crt), otp.bin, flash.bin,
# tpm/ (swtpm), boot/ (bootchain's
# measurement: eventlog.bin), trust/ and refvals.json (what a verifier of
# this host trusts; see attestation below), agent.conf (the agent's configuration file),
# *.log, *.pid, and ports: the agent's ports,
# chosen free by the kernel ("http=N" and "https=N" lines).
#
# STACK_AGENT_ARGS: extra host-agent flags (e.g. "--conn-timeout 2").
# First start on a fresh DIR takes a few seconds (keys, images, TPM
# provisioning); later starts reuse what is there.
set -u
prog=stack.sh
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
# shellcheck source=tests/lib/rot_firmware.sh
. "$ROOT/tests/lib/rot_firmware.sh"
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin

usage() {
  sed -n '2,21s/^# \{0,1\}//p' "$0"
}

die() {
  echo "$prog: $*" >&2
  exit 1
}

abs() { mkdir -p -- "$1" && (cd -- "$1" && pwd -P); }

# pid_alive FILE NAME: the pid in FILE runs the program NAME.
pid_alive() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

# ---- dev keys and PKI ----------------------------------------------------------
# The project's dev hierarchy (keys/dev-hierarchy.sh): image signing keys,
# the manufacturer CA, and the operator CA with the agent's server
# certificate and one operator's client certificate. pki/ names them by
# their role for the agent and for clients.
make_keys() {
  [ -f "$D/pki/operator.crt" ] && return 0
  ROTCTL=$BIN/rotctl bash "$ROOT/keys/dev-hierarchy.sh" "$D/keys" >"$D/keys.log" 2>&1 ||
    die "keys/dev-hierarchy.sh failed (see $D/keys.log)"
  mkdir -p "$D/pki" && chmod 700 "$D/pki"
  local o=../keys/operator
  ln -sf "$o/ca.pem" "$D/pki/tls-ca.crt"
  ln -sf "$o/ca.pem" "$D/pki/operator-ca.crt"
  ln -sf "$o/ca.key.pem" "$D/pki/operator-ca.key"
  ln -sf "$o/agent.pem" "$D/pki/server.crt"
  ln -sf "$o/agent.key.pem" "$D/pki/server.key"
  ln -sf "$o/client.pem" "$D/pki/operator.crt"
  ln -sf "$o/client.key.pem" "$D/pki/operator.key"
}

# ---- the chip and its images ---------------------------------------------------
rotctl() { (cd "$D" && "$BIN/rotctl" --socket "$D/rotd.sock" "$@") >>"$D/install.log" 2>&1; }

make_images() {
  [ -f "$D/otp.bin" ] && return 0
  [ -f "$OPENSBI" ] || die "$OPENSBI is missing (package opensbi)"
  [ -f "$UBOOT" ] || die "$UBOOT is missing (package u-boot-qemu)"
  (cd "$D" && "$BIN/rotctl" sign --keys keys --type opensbi --svn 1 --version 1.1.0 "$OPENSBI" opensbi-1.1.0.img &&
    "$BIN/rotctl" sign --keys keys --type opensbi --svn 2 --version 1.2.0 "$OPENSBI" opensbi-1.2.0.img &&
    "$BIN/rotctl" sign --keys keys --type hypervisor --svn 1 --version 2023.1.0 "$UBOOT" payload.img &&
    "$BIN/rotctl" otp provision --keys keys --otp otp.bin) >>"$D/install.log" 2>&1 ||
    die "keys and images: rotctl failed (see $D/install.log)"
}

start_rotd() {
  if pid_alive "$D/rotd.pid" rotd; then
    return 0
  fi
  local fresh=0
  [ -f "$D/flash.bin" ] || fresh=1
  "$BIN/rotd" --flash "$D/flash.bin" --otp "$D/otp.bin" --socket "$D/rotd.sock" \
    --daemon --pid "$D/rotd.pid" --log "$D/rotd.log" 2>>"$D/rotd.log" || die "rotd did not start (see $D/rotd.log)"
  if [ "$fresh" = 1 ]; then
    # A chip without RoT firmware serves recovery commands only: install
    # the chip's own firmware (the freestanding core build, `make
    # freestanding`) as RoT firmware 1.0.0 first (tests/lib/rot_firmware.sh),
    # then its DICE identity: the chip signs a CSR, the dev manufacturer CA
    # issues the DeviceID certificate.
    [ -f "$ROTFW" ] || die "no RoT firmware at $ROTFW (make freestanding)"
    ROTCTL=$BIN/rotctl ROT_SOCKET=$D/rotd.sock install_rot_firmware "$D/keys" "$ROTFW" "$D" \
      2>>"$D/install.log" &&
      rotctl identity csr --out deviceid.csr &&
      (cd "$D" && bash "$ROOT/keys/issue-deviceid.sh" keys/manufacturer deviceid.csr deviceid-issued.der) >>"$D/install.log" 2>&1 &&
      rotctl identity store deviceid-issued.der ||
      die "installing the RoT firmware and its identity failed (see $D/install.log)"
  fi
  if [ "$fresh" = 1 ]; then
    # Confirm only after a trial boot: activate both, let the chip take its
    # boot decision, confirm, then reset so updates are accepted again.
    rotctl update --activate opensbi-1.1.0.img && rotctl update --activate payload.img &&
      rotctl boot --type opensbi && rotctl boot --type hypervisor &&
      rotctl confirm --type opensbi && rotctl confirm --type hypervisor && rotctl reset ||
      die "installing the images through rotd failed (see $D/install.log)"
  fi
}

# A measured boot without the host CPU: the event log and PCRs the agent
# serves. The boot decision locks the boot regions until the chip resets;
# the reset afterwards lets updates through again.
measure() {
  [ -f "$D/boot/eventlog.bin" ] && return 0
  (cd "$D" && ROT_SOCKET="$D/rotd.sock" "$BIN/bootchain" measure --socket "$D/rotd.sock" \
    --tcti "$TCTI" --out boot) >>"$D/install.log" 2>&1 ||
    die "bootchain measure failed (see $D/install.log)"
  rotctl reset || die "chip reset after the measurement failed"
}

# The attestation key (ECC P-256, restricted signing, persisted at
# 0x81000002) that signs the agent's quotes, and what a verifier of this
# host trusts: trust/ (the swtpm CA that issued the EK certificate, the
# manufacturer CA of the chip's DICE identity) and refvals.json (reference
# values derived from the signed images installed).
attestation() {
  if ! "$BIN/attestctl" ak show --tcti "$TCTI" >/dev/null 2>&1; then
    "$BIN/attestctl" ak create --tcti "$TCTI" >>"$D/install.log" 2>&1 ||
      die "attestctl ak create failed (see $D/install.log)"
  fi
  mkdir -p "$D/trust"
  cp "$D/tpm/ca/swtpm-localca-rootca-cert.pem" "$D/trust/tpm-ca.pem" &&
    cp "$D/tpm/ca/issuercert.pem" "$D/trust/tpm-intermediate.pem" &&
    cp "$D/keys/manufacturer/ca.pem" "$D/trust/dice-ca.pem" ||
    die "cannot copy the TPM and manufacturer CAs into $D/trust"
  [ -s "$D/refvals.json" ] ||
    (cd "$D" && "$BIN/attestctl" refvals --keys keys $(ls rot-*.img 2>/dev/null) opensbi-1.1.0.img payload.img >refvals.json.tmp &&
      mv refvals.json.tmp refvals.json) 2>>"$D/install.log" ||
    die "attestctl refvals failed (see $D/install.log)"
}

start_agent() {
  if pid_alive "$D/agent.pid" host-agent; then
    return 0
  fi
  rm -f "$D/ports"
  cat >"$D/agent.conf" <<CONF
# host-agent configuration written by scripts/stack.sh
http = 127.0.0.1:0
https = 127.0.0.1:0
rotd-socket = $D/rotd.sock
tcti = $TCTI
eventlog = $D/boot/eventlog.bin
tls-cert = $D/pki/server.crt
tls-key = $D/pki/server.key
operator-ca = $D/pki/operator-ca.crt
ports-file = $D/ports
CONF
  local pid
  # shellcheck disable=SC2086 # STACK_AGENT_ARGS is a list of flags
  "$BIN/host-agent" --config "$D/agent.conf" ${STACK_AGENT_ARGS:-} \
    >"$D/agent.out" 2>>"$D/agent.log" </dev/null &
  pid=$!
  echo "$pid" >"$D/agent.pid"
  for _ in $(seq 200); do
    [ -s "$D/ports" ] && break
    kill -0 "$pid" 2>/dev/null || agent_died "$pid"
    sleep 0.025
  done
  [ -s "$D/ports" ] ||
    die "host-agent (still running) did not write $D/ports within about 5 s; the end of its stderr:
$(tail -n 20 "$D/agent.log" | sed 's/^/  /')"
}

# agent_died PID: the agent (a child of this shell) ended before writing
# its ports file. Says how it ended (exit status, or the signal and whether
# it left a core) and what it wrote to stderr, so a crash at start leaves
# evidence in the test's output.
agent_died() {
  local st how
  wait "$1"
  st=$?
  if [ "$st" -gt 128 ]; then
    how="was killed by signal $((st - 128)) (SIG$(kill -l $((st - 128)) 2>/dev/null))"
    [ "$ROOT/core" -nt "$D/agent.pid" ] && how="$how, dumping a core ($ROOT/core)"
  else
    how="exited with status $st"
  fi
  echo "$prog: host-agent $how before writing $D/ports; the end of its stderr ($D/agent.log):" >&2
  tail -n 20 "$D/agent.log" | sed 's/^/  /' >&2
  exit 1
}

cmd_start() {
  BIN=$ROOT/${1:-build}/bin
  ROTFW=$ROOT/${1:-build}/riscv/rot_core.o
  for t in rotctl rotd bootchain host-agent attestctl; do
    [ -x "$BIN/$t" ] || die "$BIN/$t is missing (run make)"
  done
  make_keys
  make_images
  # A swtpm that was not running starts with its PCRs cleared (startup
  # clear): the host rebooted, so the boot is measured again; an event log
  # kept from an earlier start would no longer match the PCRs.
  local tpm_fresh=0
  bash "$ROOT/scripts/swtpm.sh" status "$D/tpm" >/dev/null 2>&1 || tpm_fresh=1
  TCTI=$(bash "$ROOT/scripts/swtpm.sh" start "$D/tpm") || die "swtpm did not start"
  start_rotd
  [ "$tpm_fresh" = 0 ] || rm -f "$D/boot/eventlog.bin"
  measure
  attestation
  start_agent
  # shellcheck disable=SC1091
  . "$D/ports"
  echo "stack: up in $D"
  echo "  http  http://127.0.0.1:${http}  (read-only)"
  echo "  https https://127.0.0.1:${https}  (operator: --cert $D/pki/operator.crt --key $D/pki/operator.key)"
  echo "  try:  curl -s http://127.0.0.1:${http}/healthz"
  echo "        curl -s --cacert $D/pki/tls-ca.crt https://127.0.0.1:${https}/redfish/v1/UpdateService/FirmwareInventory"
  echo "        curl -s \"http://127.0.0.1:${http}/v1/attestation?nonce=\$(openssl rand -hex 32)\""
}

stop_pidfile() {
  local f=$1 name=$2 pid
  pid_alive "$f" "$name" || { rm -f "$f"; return 0; }
  pid=$(tr -dc '0-9' <"$f")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$f"
}

cmd_stop() {
  stop_pidfile "$D/agent.pid" host-agent
  stop_pidfile "$D/rotd.pid" rotd
  bash "$ROOT/scripts/swtpm.sh" stop "$D/tpm" >/dev/null 2>&1
  echo "stack: stopped ($D)"
}

cmd_status() {
  local rc=0
  if pid_alive "$D/agent.pid" host-agent; then
    echo "host-agent: running, $(tr '\n' ' ' <"$D/ports" 2>/dev/null)"
  else
    echo "host-agent: stopped"; rc=1
  fi
  if pid_alive "$D/rotd.pid" rotd; then echo "rotd: running"; else echo "rotd: stopped"; rc=1; fi
  if bash "$ROOT/scripts/swtpm.sh" status "$D/tpm" >/dev/null 2>&1; then
    echo "swtpm: running"
  else
    echo "swtpm: stopped"; rc=1
  fi
  return $rc
}

[ $# -ge 2 ] || { usage >&2; exit 2; }
case $1 in
  start) D=$(abs "$2") || die "cannot use $2"; cmd_start "${3:-build}" ;;
  stop) [ -d "$2" ] || die "no such directory: $2"; D=$(abs "$2"); cmd_stop ;;
  status) [ -d "$2" ] || die "no such directory: $2"; D=$(abs "$2"); cmd_status ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
