#!/usr/bin/env bash
# The host agent's batching window holds requests without holding server
# threads (scripts/stack.sh in a private directory, agent with a single
# pool thread and a long window): four batched requests sent together
# share one quote; while batched requests wait, the same one-thread
# listener answers other requests; SIGTERM with requests waiting answers
# them before the agent stops.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir

S=$T/stack
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  bash "$ROOT/scripts/stack.sh" stop "$S" >/dev/null 2>&1
}

if [ ! -f "$BUILD/riscv/rot_core.o" ]; then
  not_ok "the RoT firmware is built" "missing $BUILD/riscv/rot_core.o (run make freestanding)"
  tap_exit
fi
# One pool thread, and a window long enough that only its size closes it
# (or its timer, after the checks below that need it open).
if ! STACK_AGENT_ARGS="--threads 1 --batch-window 2000 --batch-max 4" \
  bash scripts/stack.sh start "$S" "$BUILD" >"$T/stack.out" 2>&1; then
  not_ok "stack starts" "$(cat "$T/stack.out")"
  tap_exit
fi
ok "stack starts (agent with one pool thread, 2 s window of at most 4)"
H=http://127.0.0.1:$(sed -n 's/^http=//p' "$S/ports")

# batched I: one batched request in the background, answer in $T/bI.json.
batched() {
  curl -s -o "$T/b$1.json" -w '%{http_code}' --max-time 60 \
    "$H/v1/attestation?nonce=$(openssl rand -hex 32)&batch=1" >"$T/c$1" 2>/dev/null &
  PIDS+=($!)
}
# size_of I: the batch size in answer I ("" when there is none).
size_of() {
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['batch']['size'])" "$T/b$1.json" 2>/dev/null
}

# ---- four requests, one thread, one quote ---------------------------------------
for i in 1 2 3 4; do batched "$i"; done
for p in "${PIDS[@]}"; do wait "$p"; done
PIDS=()
all=1
for i in 1 2 3 4; do
  [ "$(cat "$T/c$i")" = 200 ] && [ "$(size_of "$i")" = 4 ] || all=0
done
quotes=$(python3 -c "import json,sys; print(len({json.load(open(f))['quote']['attest'] for f in sys.argv[1:]}))" \
  "$T"/b[1-4].json 2>/dev/null)
if [ $all = 1 ] && [ "$quotes" = 1 ]; then
  ok "four batched requests on a one-thread pool share one quote (batch size 4)"
else
  not_ok "four batched requests on a one-thread pool share one quote" \
    "codes $(cat "$T"/c[1-4] | tr '\n' ' ') sizes $(for i in 1 2 3 4; do size_of $i; done | tr '\n' ' ') quotes $quotes"
fi

# ---- the thread is free while requests wait -------------------------------------
batched 5
batched 6
# Both join the window (which now waits for two more, or 2 s).
sleep 0.5
code=$(curl -s -o "$T/h.json" -w '%{http_code}' --max-time 1.2 "$H/healthz" 2>/dev/null)
waiting=0
kill -0 "${PIDS[0]}" 2>/dev/null && kill -0 "${PIDS[1]}" 2>/dev/null && waiting=1
if [ "$code" = 200 ] && [ $waiting = 1 ]; then
  ok "the one pool thread answers /healthz while two batched requests wait"
else
  not_ok "the one pool thread answers /healthz while two batched requests wait" \
    "healthz code $code, batched still waiting: $waiting"
fi

# ---- SIGTERM answers the waiting requests ------------------------------------------
apid=$(tr -dc '0-9' <"$S/agent.pid")
kill -TERM "$apid"
for p in "${PIDS[@]}"; do wait "$p"; done
PIDS=()
for _ in $(seq 200); do kill -0 "$apid" 2>/dev/null || break; sleep 0.05; done
if [ "$(cat "$T/c5")" = 200 ] && [ "$(cat "$T/c6")" = 200 ] &&
  [ "$(size_of 5)" = 2 ] && [ "$(size_of 6)" = 2 ] && ! kill -0 "$apid" 2>/dev/null &&
  grep -q "host-agent: stopped" "$S/agent.log"; then
  ok "SIGTERM: the two waiting requests get their evidence (one quote), then the agent stops"
else
  not_ok "SIGTERM: the two waiting requests get their evidence, then the agent stops" \
    "codes $(cat "$T/c5") $(cat "$T/c6") sizes $(size_of 5) $(size_of 6)" "$(tail -3 "$S/agent.log")"
fi
tap_exit
