# SPDX-License-Identifier: GPL-2.0-or-later
# A private system bus for a test, after lib.sh (tools/private-bus.sh: a
# real dbus-daemon with the bus policy file we ship), on a socket under
# $T, and the clients' helpers. Stopped by its PID at exit. A build
# without libdbus (-Ddbus=disabled) has no bus face: such tests skip.
[ "${HEP_DBUS:-1}" = 1 ] || { echo "skipping: built without D-Bus"; exit 77; }

BUS_DIR="$T/bus"
BUS_SOCKET="$BUS_DIR/system_bus_socket"
BUS="unix:path=$BUS_SOCKET"
BUS_NAME=org.projectcalico.HostEndpoint1
BUS_ROOT=/org/projectcalico/HostEndpoint1
mkdir -p "$BUS_DIR"
# Non-root clients (setpriv --reuid=nobody) must reach the socket.
chmod 711 "$T"
chmod 755 "$BUS_DIR"

. "$SRCDIR/tools/private-bus.sh"
CLEANUP_HOOKS+=("private_bus_stop")

# bus_start [POLICY...]: starts the bus daemon (with other daemons' bus
# policy files too) and waits until it answers.
bus_start() {
        private_bus_start "$BUS_DIR" "$SRCDIR" "$@" || { fail "the private bus did not start"; exit 1; }
        BUS=$PRIVATE_BUS
}

bus_stop() { private_bus_stop; }

# The service's tools, on the test's bus.
bctl() { busctl --address="$BUS" "$@"; }
# json_get EXPR: evaluates a Python expression on the JSON document on
# stdin (bound to d) and prints the result (JSON unless a string).
json_get() {
        /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}
# prop PATH INTERFACE PROPERTY: the value (strings bare, others as JSON).
prop() {
        bctl get-property "$BUS_NAME" "$1" "$BUS_NAME.$2" "$3" --json=short | json_get 'd["data"]'
}
# manager_call METHOD SIGNATURE ARGS...: busctl's call, on the Manager.
manager_call() { bctl call "$BUS_NAME" "$BUS_ROOT" "$BUS_NAME.Manager" "$@"; }
# send_call PATH INTERFACE.METHOD ARGS...: dbus-send, which prints error
# names ("Error org.projectcalico.HostEndpoint1.Error.NotFound: ...").
send_call() {
        local path=$1 method=$2
        shift 2
        dbus-send --bus="$BUS" --print-reply --dest="$BUS_NAME" "$path" "$method" "$@"
}
# endpoint_path NAME: the object path of a HostEndpoint (escaped as systemd does).
endpoint_path() {
        /usr/bin/python3 -c '
import sys
n = sys.argv[1]
print("'"$BUS_ROOT"'/endpoint/" + ("".join(c if c.isascii() and c.isalnum() else "_%02x" % ord(c) for c in n) or "_"))' "$1"
}
