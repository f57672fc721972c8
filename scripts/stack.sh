#!/usr/bin/env bash
# A whole dev host in one command: dev keys and CAs, a provisioned OTP,
# swtpm, rotd with installed images, a measured boot's event log, and the
# host agent on loopback.
#
#   scripts/stack.sh start DIR [BUILD]   bring it up (BUILD: build dir, default build)
#   scripts/stack.sh stop DIR            stop everything start started
#   scripts/stack.sh status DIR          say what runs; exit 0 when all of it does
#
# DIR holds everything: keys/ (image signing hierarchy), otp.bin, flash.bin,
# pki/ (TLS: a dev CA and the agent's server certificate; the operator CA and
# one operator client certificate), tpm/ (swtpm), boot/ (bootchain's
# measurement: eventlog.bin), agent.conf (the agent's configuration file),
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
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
UBOOT=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin

usage() {
  sed -n '2,19s/^# \{0,1\}//p' "$0"
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

# ---- dev PKI ---------------------------------------------------------------
# Made with openssl here. When the project's keys/ tooling issues the
# operator CA, this is the one function to switch over.
make_pki() {
  local P=$D/pki
  [ -f "$P/operator.crt" ] && return 0
  mkdir -p "$P" && chmod 700 "$P"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  {
    # TLS CA and the agent's server certificate (loopback names).
    openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=rot-stack dev TLS CA" \
      -keyout "$P/tls-ca.key" -out "$P/tls-ca.crt" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
      openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$P/server.key" -out "$P/server.csr" &&
      openssl x509 -req -in "$P/server.csr" -CA "$P/tls-ca.crt" -CAkey "$P/tls-ca.key" \
        -CAcreateserial -days 825 -out "$P/server.crt" -extfile <(printf '%s\n' \
          "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
          "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature") &&
      # Operator CA and one operator's client certificate.
      openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=rot-stack dev operator CA" \
        -keyout "$P/operator-ca.key" -out "$P/operator-ca.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
      openssl req "${ec[@]}" -subj "/CN=dev operator" -keyout "$P/operator.key" -out "$P/operator.csr" &&
      openssl x509 -req -in "$P/operator.csr" -CA "$P/operator-ca.crt" -CAkey "$P/operator-ca.key" \
        -CAcreateserial -days 825 -out "$P/operator.crt" -extfile <(printf '%s\n' \
          "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature")
  } >"$D/pki.log" 2>&1 || die "dev PKI: openssl failed (see $D/pki.log)"
  chmod 600 "$P"/*.key
  rm -f "$P"/*.csr
}

# ---- the chip and its images ---------------------------------------------------
rotctl() { (cd "$D" && "$BIN/rotctl" --socket "$D/rotd.sock" "$@") >>"$D/install.log" 2>&1; }

make_images() {
  [ -f "$D/otp.bin" ] && return 0
  [ -f "$OPENSBI" ] || die "$OPENSBI is missing (package opensbi)"
  [ -f "$UBOOT" ] || die "$UBOOT is missing (package u-boot-qemu)"
  (cd "$D" && "$BIN/rotctl" keygen --out keys &&
    "$BIN/rotctl" sign --keys keys --type opensbi --svn 1 --version 1.1.0 "$OPENSBI" opensbi-1.1.0.img &&
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
    rotctl update --activate opensbi-1.1.0.img && rotctl boot --type opensbi &&
      rotctl confirm --type opensbi && rotctl reset &&
      rotctl update --activate payload.img && rotctl confirm --type hypervisor ||
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
  # shellcheck disable=SC2086 # STACK_AGENT_ARGS is a list of flags
  "$BIN/host-agent" --config "$D/agent.conf" ${STACK_AGENT_ARGS:-} \
    >"$D/agent.out" 2>>"$D/agent.log" </dev/null &
  echo $! >"$D/agent.pid"
  for _ in $(seq 200); do
    [ -s "$D/ports" ] && break
    kill -0 "$(cat "$D/agent.pid")" 2>/dev/null || die "host-agent exited: $(tail -3 "$D/agent.log")"
    sleep 0.025
  done
  [ -s "$D/ports" ] || die "host-agent did not write $D/ports"
}

cmd_start() {
  BIN=$ROOT/${1:-build}/bin
  for t in rotctl rotd bootchain host-agent; do
    [ -x "$BIN/$t" ] || die "$BIN/$t is missing (run make)"
  done
  make_pki
  make_images
  TCTI=$(bash "$ROOT/scripts/swtpm.sh" start "$D/tpm") || die "swtpm did not start"
  start_rotd
  measure
  start_agent
  # shellcheck disable=SC1091
  . "$D/ports"
  echo "stack: up in $D"
  echo "  http  http://127.0.0.1:${http}  (read-only)"
  echo "  https https://127.0.0.1:${https}  (operator: --cert $D/pki/operator.crt --key $D/pki/operator.key)"
  echo "  try:  curl -s http://127.0.0.1:${http}/healthz"
  echo "        curl -s --cacert $D/pki/tls-ca.crt https://127.0.0.1:${https}/redfish/v1/UpdateService/FirmwareInventory"
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
