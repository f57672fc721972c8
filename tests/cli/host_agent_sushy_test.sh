#!/usr/bin/env bash
# A Redfish client session against the host agent with Debian's
# python3-sushy (the library OpenStack Ironic uses): read the service,
# list the firmware inventory, push a signed image with the operator's
# client certificate and follow its task to completion; the same push
# without the certificate is refused. Runs Debian's /usr/bin/python3: the
# package is installed for it, not for another python3 earlier on PATH.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tap_tmpdir

if ! /usr/bin/python3 -c "import sushy" 2>/dev/null; then
  not_ok "python3-sushy is installed" "run scripts/deps.sh"
  tap_exit
fi

# shellcheck source=tests/lib/stack.sh
. tests/lib/stack.sh
stack_up

/usr/bin/python3 - "https://127.0.0.1:$https" "$S" <<'EOF'
import sys
import sushy
from sushy import auth, connector, exceptions, taskmonitor

url, d = sys.argv[1], sys.argv[2]
ca = d + "/pki/tls-ca.crt"
cert = (d + "/pki/operator.crt", d + "/pki/operator.key")
image = d + "/opensbi-1.2.0.img"

def check(name, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        print("#   " + str(detail).replace("\n", "\n#   "))

# Authentication is the TLS client certificate; the agent has no
# SessionService, so sushy is told to use (empty) basic auth.
def session(with_cert):
    conn = connector.Connector(url, verify=ca)
    # Only this CA: no CA bundle from the environment overrides it.
    conn._session.trust_env = False
    if with_cert:
        conn._session.cert = cert
    return sushy.Sushy(url, connector=conn, auth=auth.BasicAuth("", "")), conn

root, conn = session(True)
check("sushy reads the service root", root.redfish_version == "1.17.0", root.redfish_version)
system = root.get_system()
check("sushy reads Systems/1 (the single system)", system.identity == "1" and system.power_state is None,
      (system.identity, system.power_state))
us = root.get_update_service()
check("sushy reads the UpdateService", us.identity == "UpdateService")
inv = us.firmware_inventory
members = {m.identity: m for m in inv.get_members()}
check("sushy lists the firmware inventory (one member per region)",
      len(members) == 10 and "opensbi-a" in members, sorted(members))
a = members["opensbi-a"]
check("inventory member through sushy: version, updateable, status",
      a.version == "1.1.0" and a.updateable is True and str(a.status.state).lower().endswith("enabled"),
      (a.version, a.updateable, a.status.state))

push_uri = us.json["MultipartHttpPushUri"]

def push(c):
    with open(image, "rb") as f:
        return c.post(path=push_uri, files={
            "UpdateParameters": (None, '{"@Redfish.OperationApplyTime": "Immediate"}', "application/json"),
            "UpdateFile": ("opensbi-1.2.0.img", f, "application/octet-stream")})

# Without the client certificate: refused, nothing staged.
_, anon = session(False)
try:
    push(anon)
    check("push without the client certificate is refused", False, "accepted")
except exceptions.AccessError as e:
    check("push without the client certificate is refused", e.status_code == 403, e)
check("the refused push staged nothing",
      us.firmware_inventory.get_member(
          "/redfish/v1/UpdateService/FirmwareInventory/opensbi-b").status.state is not None and
      str(us.firmware_inventory.get_member(
          "/redfish/v1/UpdateService/FirmwareInventory/opensbi-b").status.state).lower().endswith("absent"))

# With it: 202, a task monitor sushy polls to completion.
resp = push(conn)
check("push with the client certificate is accepted (202)", resp.status_code == 202, resp.status_code)
# (root.get_task_monitor would load sushy's bundled message registries,
# which Debian's package does not ship; the monitor itself needs none.)
monitor = taskmonitor.TaskMonitor(conn, resp.headers["Location"],
                                  redfish_version=root.redfish_version, registries={})
monitor.wait(60)
task = monitor.get_task()
check("sushy's task monitor follows the task to Completed",
      str(task.task_state).lower().endswith("completed") and task.percent_complete == 100,
      (task.task_state, task.percent_complete, [m.message for m in task.messages]))
b = us.firmware_inventory.get_member("/redfish/v1/UpdateService/FirmwareInventory/opensbi-b")
check("the inventory shows the pushed image in the other slot", b.version == "1.2.0", b.version)
EOF
tap_exit
