#!/usr/bin/env bash
# A project-managed software TPM (swtpm), provisioned like a real one.
#
#   scripts/swtpm.sh start DIR    provision on first use, serve, print the TCTI
#   scripts/swtpm.sh stop DIR     stop it and remove its sockets
#   scripts/swtpm.sh status DIR   exit 0 when it is running, 1 when not
#   scripts/swtpm.sh tcti DIR     print the TCTI string for DIR
#
# DIR holds everything: ca/ (a swtpm-localca CA standing in for the TPM
# manufacturer), state/ (the TPM's NV state: SHA-256 and SHA-384 PCR banks,
# EK and platform certificates), the three config files, tpm.sock and
# tpm.sock.ctrl (tpm2-tss's swtpm TCTI expects the control socket at the data
# socket's path plus ".ctrl"), swtpm.pid, swtpm.log and setup.log.
#
# Provisioning runs only once per DIR (about a second); later starts only
# launch the daemon. start is idempotent: when it already runs it prints the
# TCTI again. On any failure nothing is left running.
set -u

START_TIMEOUT_S=${SWTPM_START_TIMEOUT:-5}
STOP_TIMEOUT_S=${SWTPM_STOP_TIMEOUT:-5}
# sun_path is 108 bytes including the terminating NUL.
SUN_PATH_MAX=107

prog=swtpm.sh

usage() {
  cat <<EOF
usage: $prog start|stop|status|tcti DIR

  start DIR   provision DIR on first use (CA in DIR/ca, TPM state in
              DIR/state, banks sha256+sha384, EK and platform certificates),
              start swtpm on DIR/tpm.sock and print its TCTI string
              (swtpm:path=DIR/tpm.sock); prints the same if it already runs
  stop DIR    stop the swtpm serving DIR and remove its sockets
  status DIR  exit 0 if the swtpm for DIR is running, 1 if not
  tcti DIR    print the TCTI string for DIR

Environment: SWTPM_START_TIMEOUT, SWTPM_STOP_TIMEOUT (seconds, default 5).
EOF
}

die() {
  echo "$prog: $*" >&2
  exit 1
}

# abs_dir DIR [create]: absolute, symlink-free path of DIR.
abs_dir() {
  if [ "${2:-}" = create ]; then
    mkdir -p -- "$1" || die "cannot create directory $1"
  fi
  [ -d "$1" ] || die "no such directory: $1"
  (cd -- "$1" && pwd -P)
}

# alive PID: the process exists and is not a zombie (an exited daemon is
# reparented to PID 1, which may take a while to reap it).
alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# pid of the swtpm serving $D, or nothing. The pid file alone is not enough:
# after a crash its number may belong to some other process by now.
running_pid() {
  local pid comm
  [ -f "$D/swtpm.pid" ] || return 1
  pid=$(tr -dc '0-9' <"$D/swtpm.pid")
  [ -n "$pid" ] || return 1
  alive "$pid" || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [ "$comm" = swtpm ] || return 1
  grep -qzF -- "$D/tpm.sock" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# pids of every live swtpm serving $D, found by the socket path on its
# command line: covers a daemon whose pid file is missing or not written yet.
dir_pids() {
  local p
  for p in $(pgrep -x swtpm 2>/dev/null); do
    alive "$p" && grep -qzF -- "path=$D/tpm.sock" "/proc/$p/cmdline" 2>/dev/null &&
      echo "$p"
  done
}

# The control channel answers "get capabilities" without touching TPM state.
answers() {
  [ -S "$D/tpm.sock" ] && [ -S "$D/tpm.sock.ctrl" ] &&
    swtpm_ioctl --unix "$D/tpm.sock.ctrl" -c >/dev/null 2>&1
}

# stop_pid PID: SIGTERM, wait (bounded), then SIGKILL and wait again.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < STOP_TIMEOUT_S * 20; i++)); do
    alive "$pid" || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 40; i++)); do
    alive "$pid" || return 0
    sleep 0.05
  done
  return 1
}

cleanup_files() {
  rm -f -- "$D/tpm.sock" "$D/tpm.sock.ctrl" "$D/swtpm.pid"
}

write_configs() {
  mkdir -p -- "$D/ca" || die "cannot create $D/ca"
  cat >"$D/swtpm-localca.conf" <<EOF
statedir = $D/ca
signingkey = $D/ca/signkey.pem
issuercert = $D/ca/issuercert.pem
certserial = $D/ca/certserial
EOF
  cat >"$D/swtpm-localca.options" <<EOF
--platform-manufacturer RoT-Project
--platform-version 2.1
--platform-model QEMU
EOF
  cat >"$D/swtpm_setup.conf" <<EOF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $D/swtpm-localca.conf
create_certs_tool_options = $D/swtpm-localca.options
EOF
}

provisioned() {
  [ -s "$D/state/tpm2-00.permall" ] && [ -f "$D/state/.provisioned" ]
}

provision() {
  write_configs
  mkdir -p -- "$D/state" || die "cannot create $D/state"
  rm -f -- "$D/state/.provisioned"
  if ! swtpm_setup --tpm2 --tpmstate "$D/state" --config "$D/swtpm_setup.conf" \
    --create-ek-cert --create-platform-cert --pcr-banks sha256,sha384 \
    --overwrite >"$D/setup.log" 2>&1; then
    echo "$prog: swtpm_setup failed for $D/state; its output:" >&2
    sed 's/^/  /' "$D/setup.log" >&2
    exit 1
  fi
  # Marks a complete run: a setup cut short leaves state that must be redone.
  : >"$D/state/.provisioned"
}

cmd_start() {
  local pid i out
  for tool in swtpm swtpm_setup swtpm_ioctl swtpm_localca flock; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run scripts/deps.sh)"
  done
  [ ${#D} -le $((SUN_PATH_MAX - 14)) ] ||
    die "directory path too long for a Unix socket (max $((SUN_PATH_MAX - 14)) bytes): $D"

  # Serialises concurrent start/stop on the same DIR.
  exec 9>"$D/.lock" || die "cannot open $D/.lock"
  flock -w 30 9 || die "timed out waiting for the lock on $D"

  if pid=$(running_pid); then
    for ((i = 0; i < START_TIMEOUT_S * 20; i++)); do
      answers && { echo "swtpm:path=$D/tpm.sock"; return 0; }
      sleep 0.05
    done
    die "swtpm (pid $pid) runs for $D but does not answer on $D/tpm.sock.ctrl"
  fi
  # A swtpm on our socket that the pid file does not name is a leftover:
  # replace it rather than fight over the state directory's lock.
  for pid in $(dir_pids); do
    stop_pid "$pid"
  done
  cleanup_files
  provisioned || provision

  if ! out=$(swtpm socket --tpm2 --tpmstate dir="$D/state" \
    --server type=unixio,path="$D/tpm.sock" \
    --ctrl type=unixio,path="$D/tpm.sock.ctrl" \
    --flags startup-clear --daemon --pid file="$D/swtpm.pid" \
    --log file="$D/swtpm.log",truncate 2>&1 9>&-); then
    cleanup_files
    echo "$prog: swtpm failed to start for $D${out:+: $out}" >&2
    if [ -s "$D/swtpm.log" ]; then
      echo "$prog: last lines of $D/swtpm.log:" >&2
      tail -n 5 "$D/swtpm.log" | sed 's/^/  /' >&2
    fi
    exit 1
  fi

  for ((i = 0; i < START_TIMEOUT_S * 20; i++)); do
    if answers; then
      if running_pid >/dev/null; then
        echo "swtpm:path=$D/tpm.sock"
        return 0
      fi
    fi
    sleep 0.05
  done
  for pid in $(dir_pids); do
    stop_pid "$pid"
  done
  cleanup_files
  die "swtpm did not answer on $D/tpm.sock.ctrl within ${START_TIMEOUT_S}s (see $D/swtpm.log)"
}

cmd_stop() {
  local pid
  exec 9>"$D/.lock" || die "cannot open $D/.lock"
  flock -w 30 9 || die "timed out waiting for the lock on $D"
  for pid in $(dir_pids); do
    stop_pid "$pid" || die "swtpm (pid $pid) did not exit"
  done
  cleanup_files
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    echo "running (pid $pid): swtpm:path=$D/tpm.sock"
    return 0
  fi
  echo "not running"
  return 1
}

case "${1:-}" in
-h | --help | help)
  usage
  exit 0
  ;;
start | stop | status | tcti) ;;
"")
  usage >&2
  exit 2
  ;;
*)
  echo "$prog: unknown command: $1" >&2
  usage >&2
  exit 2
  ;;
esac
[ $# -eq 2 ] || {
  echo "$prog: $1 needs exactly one DIR" >&2
  usage >&2
  exit 2
}

case "$1" in
start)
  D=$(abs_dir "$2" create) || exit 1
  cmd_start
  ;;
stop)
  # Nothing to stop in a directory that is already gone.
  [ -d "$2" ] || exit 0
  D=$(abs_dir "$2") || exit 1
  cmd_stop
  ;;
status)
  [ -d "$2" ] || { echo "not running"; exit 1; }
  D=$(abs_dir "$2") || exit 1
  cmd_status
  ;;
tcti)
  D=$(realpath -m -- "$2") || exit 1
  echo "swtpm:path=$D/tpm.sock"
  ;;
esac
