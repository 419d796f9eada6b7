# SPDX-License-Identifier: GPL-2.0-or-later
# A private D-Bus system bus, for the demo and the tests (sourced): a real
# dbus-daemon with a system-bus configuration (default deny, as Debian's
# system.conf) that includes hostendpoint's shipped bus policy, listening
# on a socket in a directory of the caller's. It never touches the host's
# own system bus.
#
#   private_bus_start DIR SRCDIR [POLICY...]
#                                  sets PRIVATE_BUS (the address) and PRIVATE_BUS_PID;
#                                  each POLICY file is included too (another
#                                  daemon's, e.g. ConnMan's connman.conf)
#   private_bus_stop               stops it (by PID)

private_bus_start() {
        local dir=$1 src=$2 i extra="" f
        shift 2
        for f in "$@"; do
                extra="$extra  <include>$f</include>
"
        done
        PRIVATE_BUS="unix:path=$dir/system_bus_socket"
        mkdir -p "$dir"
        cat >"$dir/system.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$PRIVATE_BUS</listen>
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
  <include>$src/dbus/org.projectcalico.HostEndpoint1.conf</include>
$extra</busconfig>
CONF
        rm -f "$dir/system_bus_socket"
        dbus-daemon --config-file="$dir/system.conf" --nofork 2>>"$dir/log" &
        PRIVATE_BUS_PID=$!
        for i in $(seq 1 250); do
                busctl --address="$PRIVATE_BUS" list >/dev/null 2>&1 && return 0
                kill -0 "$PRIVATE_BUS_PID" 2>/dev/null || break
                sleep 0.02
        done
        echo "dbus-daemon did not start: $(cat "$dir/log")" >&2
        return 1
}

private_bus_stop() {
        if [ -n "${PRIVATE_BUS_PID:-}" ]; then
                kill "$PRIVATE_BUS_PID" 2>/dev/null
                wait "$PRIVATE_BUS_PID" 2>/dev/null
        fi
        PRIVATE_BUS_PID=
}
