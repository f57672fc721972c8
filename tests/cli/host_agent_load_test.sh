#!/usr/bin/env bash
# A bounded load on the host agent over loopback with wrk: about 10 s, 32
# connections, a mix of static Redfish documents, Keylime's agent info
# (through the serialised TPM owner), /healthz (rotd and the TPM) and
# /metrics. Every response must be a 2xx, no socket errors, and the
# agent's memory must stay flat. Speed is not asserted (make bench).
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir

tap_need wrk
# shellcheck source=tests/lib/stack.sh
. tests/lib/stack.sh
stack_up
PID=$(cat "$S/agent.pid")
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }

cat >"$T/mix.lua" <<'EOF'
local paths = {"/redfish/v1/", "/redfish/v1/Systems/1", "/version",
               "/v2.5/agent/info", "/healthz", "/metrics",
               "/redfish/v1/UpdateService"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
EOF

# A short warm-up, so the thread pools and allocator reach their size.
wrk -t2 -c32 -d2s -s "$T/mix.lua" "http://127.0.0.1:$http" >"$T/warm.out" 2>&1
rss0=$(rss_kb)
wrk -t2 -c32 -d10s --timeout 10s -s "$T/mix.lua" "http://127.0.0.1:$http" >"$T/wrk.out" 2>&1
rc=$?
rss1=$(rss_kb)
sed 's/^/# /' "$T/wrk.out"
total=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$T/wrk.out")
if [ $rc -eq 0 ] && [ -n "$total" ] && [ "$total" -gt 0 ]; then
  ok "wrk ran 10 s on 32 connections ($total requests)"
else
  not_ok "wrk ran" "$(cat "$T/wrk.out")"
fi
grep -q "Non-2xx or 3xx responses" "$T/wrk.out" &&
  not_ok "every response a 2xx" "$(grep Non-2xx "$T/wrk.out")" || ok "every response a 2xx"
grep -q "Socket errors" "$T/wrk.out" &&
  not_ok "no socket errors" "$(grep 'Socket errors' "$T/wrk.out")" || ok "no socket errors"
kill -0 "$PID" 2>/dev/null && ok "the agent is up after the load" || not_ok "the agent is up after the load"
[ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss1 - rss0)) -lt 16384 ] &&
  ok "memory flat under load (RSS ${rss0} -> ${rss1} KiB)" ||
  not_ok "memory flat under load" "RSS ${rss0:-?} -> ${rss1:-?} KiB"
curl -s "http://127.0.0.1:$http/metrics" >"$T/metrics"
n=$(awk '/^hostagent_http_requests_total\{/ && $1 ~ /code="200"/ {s += $2} END {print s + 0}' "$T/metrics")
bad=$(awk '/^hostagent_http_requests_total\{/ && $1 !~ /code="200"/ {s += $2} END {print s + 0}' "$T/metrics")
[ "$n" -ge "$total" ] && [ "$bad" -eq 0 ] &&
  ok "the agent counted the load in /metrics ($n answered 200, $bad otherwise)" ||
  not_ok "metrics count the load" "200: $n, other: $bad, wrk: $total"
tap_exit
