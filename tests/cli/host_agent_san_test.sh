#!/usr/bin/env bash
# The host agent's start and stop under ASan+UBSan (the sanitizer build,
# $BUILD/san/bin/host-agent), against a real swtpm and rotd (the dev stack
# in a private directory): with both up, with the TPM and rotd frozen while
# it starts (SIGSTOP: a TPM or chip that does not answer yet), and with
# each absent. Every start must write its ports file, answer requests
# (503 for what is away), stop cleanly on SIGTERM with exit status 0, and
# leave no sanitizer report (leaks included) on its stderr. A death at
# start is reported with the signal and the agent's stderr.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
SAN_AGENT=$ROOT/$BUILD/san/bin/host-agent
ROUNDS=${HOST_AGENT_SAN_ROUNDS:-3}
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir

if [ ! -x "$SAN_AGENT" ]; then
  not_ok "the sanitizer build of the agent is built" "missing $SAN_AGENT (make test builds it)"
  tap_exit
fi

# shellcheck source=tests/lib/stack.sh
. tests/lib/stack.sh
stack_up
# A frozen daemon must be thawed before anything stops it.
cleanup() {
  [ -n "${FROZEN:-}" ] && kill -CONT "$FROZEN" 2>/dev/null
  [ -n "${PID:-}" ] && kill -KILL "$PID" 2>/dev/null
  bash "$ROOT/scripts/stack.sh" stop "$S" >/dev/null 2>&1
}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1
sed "s#^ports-file = .*#ports-file = $T/ports#" "$S/agent.conf" >"$T/agent.conf"

# run_agent NAME: start the sanitizer build, wait for its ports file, ask
# a few endpoints (what is away answers 503), stop it, judge.
run_agent() {
  local name=$1 code st u
  rm -f "$T/ports"
  : >"$T/agent.err"
  "$SAN_AGENT" --config "$T/agent.conf" --conn-timeout 3 >/dev/null 2>"$T/agent.err" </dev/null &
  PID=$!
  for _ in $(seq 600); do
    [ -s "$T/ports" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "${FROZEN:-}" ] && { kill -CONT "$FROZEN" 2>/dev/null; FROZEN=; }
  if [ ! -s "$T/ports" ]; then
    kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
    wait "$PID"
    st=$?
    not_ok "$name: the agent starts and writes its ports file" \
      "$( [ "$st" -gt 128 ] && echo "killed by signal $((st - 128)) ($(kill -l $((st - 128))))" || echo "exit status $st")" \
      "$(tail -n 40 "$T/agent.err")"
    PID=
    return
  fi
  # shellcheck disable=SC1091
  . "$T/ports"
  local bad=
  for u in /healthz "/v1/attestation?nonce=$(openssl rand -hex 16)" /redfish/v1/ComponentIntegrity/RoT \
    /redfish/v1/ComponentIntegrity/RoT/Certificates/Alias /redfish/v1/ComponentIntegrity/TPM/Certificates/EK \
    /redfish/v1/UpdateService/FirmwareInventory; do
    code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http$u")
    case $code in 200 | 503) ;; *) bad="$bad $u:$code" ;; esac
  done
  kill -TERM "$PID"
  wait "$PID"
  st=$?
  PID=
  if [ "$st" = 0 ] && [ -z "$bad" ] && ! grep -q "ERROR: \|runtime error" "$T/agent.err"; then
    ok "$name: starts, answers, stops with status 0, no sanitizer report"
  else
    not_ok "$name: starts, answers, stops with status 0, no sanitizer report" \
      "exit status $st; answers other than 200/503:${bad:- none}" "$(grep -v '^host-agent: 127' "$T/agent.err" | tail -n 40)"
  fi
}

TPM_PID=$(cat "$S/tpm/swtpm.pid")
ROTD_PID=$(cat "$S/rotd.pid")
for r in $(seq "$ROUNDS"); do
  run_agent "round $r, TPM and rotd up"
  FROZEN=$TPM_PID
  kill -STOP "$FROZEN"
  run_agent "round $r, TPM frozen while the agent starts"
  FROZEN=$ROTD_PID
  kill -STOP "$FROZEN"
  run_agent "round $r, rotd frozen while the agent starts"
done

bash scripts/swtpm.sh stop "$S/tpm" >/dev/null 2>&1
run_agent "TPM absent"
bash scripts/swtpm.sh start "$S/tpm" >/dev/null 2>&1 || not_ok "swtpm restarts"
kill -TERM "$ROTD_PID"
for _ in $(seq 100); do kill -0 "$ROTD_PID" 2>/dev/null || break; sleep 0.05; done
run_agent "rotd absent"

tap_exit
