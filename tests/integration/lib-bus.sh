# A private system bus for a test, after lib.sh: a real dbus-daemon with a
# system-bus configuration (default deny, as Debian's system.conf) that
# includes the bus policy file we ship, on a socket under $T. Stopped by
# its PID at exit.

BUS_DIR="$T/bus"
BUS_SOCKET="$BUS_DIR/system_bus_socket"
BUS="unix:path=$BUS_SOCKET"
BUS_PID=
BUS_NAME=org.projectcalico.HostEndpoint1
BUS_ROOT=/org/projectcalico/HostEndpoint1
mkdir -p "$BUS_DIR"
# Non-root clients (setpriv --reuid=nobody) must reach the socket.
chmod 711 "$T"
chmod 755 "$BUS_DIR"

cat >"$BUS_DIR/system.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$BUS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>$SRCDIR/dbus/org.projectcalico.HostEndpoint1.conf</include>
</busconfig>
EOF

_bus_cleanup() {
        if [ -n "$BUS_PID" ]; then
                kill "$BUS_PID" 2>/dev/null
                wait "$BUS_PID" 2>/dev/null
        fi
        BUS_PID=
}
CLEANUP_HOOKS+=("_bus_cleanup")

# bus_start: starts the bus daemon and waits for its socket.
bus_start() {
        rm -f "$BUS_SOCKET"
        dbus-daemon --config-file="$BUS_DIR/system.conf" --nofork 2>>"$BUS_DIR/log" &
        BUS_PID=$!
        wait_for '[ -S "$BUS_SOCKET" ] && busctl --address="$BUS" list >/dev/null 2>&1' 5 ||
                { fail "dbus-daemon did not start: $(cat "$BUS_DIR/log")"; exit 1; }
}

bus_stop() { _bus_cleanup; }

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
