# SPDX-License-Identifier: GPL-2.0-or-later
# Starting and stopping hostendpointd in a test's "host" namespace, after
# lib.sh and lib-netns.sh. The daemon's stderr goes to $DAEMON_LOG; the
# process is stopped by its PID at exit.

HOSTENDPOINTD="$BUILDDIR/module/hostendpointd"
DAEMON_PID=
DAEMON_LOG="$T/daemon.log"
DS="$T/ds"
mkdir -p "$DS"
# As the package sets up /etc/hostendpoint/resources.d: the daemon's user
# reads and writes (D-Bus Apply) the datastore through its group.
DAEMON_USER=hostendpoint
if getent group "$DAEMON_USER" >/dev/null; then
        chgrp "$DAEMON_USER" "$DS"
        chmod 2775 "$DS"
fi

# A sanitizer report in the daemon's log fails the test, whatever else
# happened (in the ASan/UBSan build, CI's second run).
_daemon_check_sanitizers() {
        [ -s "$DAEMON_LOG" ] || return 0
        if grep -Eq "runtime error:|ERROR: (Address|Leak)Sanitizer" "$DAEMON_LOG"; then
                fail "hostendpointd's log has a sanitizer report:
$(grep -E -A20 "runtime error:|ERROR: (Address|Leak)Sanitizer" "$DAEMON_LOG" | head -40)"
        fi
}

_daemon_cleanup() {
        if [ -n "$DAEMON_PID" ]; then
                kill "$DAEMON_PID" 2>/dev/null
                wait "$DAEMON_PID" 2>/dev/null
        fi
        DAEMON_PID=
        _daemon_check_sanitizers
}
# Before the namespaces are deleted (hooks run in order, so go first).
CLEANUP_HOOKS=("_daemon_cleanup" "${CLEANUP_HOOKS[@]}")

# start_daemon [ARGS...]: starts it in the host namespace and waits until it
# says it is ready (the first ruleset is committed).
start_daemon() {
        _daemon_check_sanitizers
        : >"$DAEMON_LOG"
        ip netns exec "$(ns host)" "$HOSTENDPOINTD" --datastore "dir:$DS" --nodename node1 --bus none \
                --log-level debug "$@" 2>>"$DAEMON_LOG" &
        DAEMON_PID=$!
        if ! wait_for 'grep -q "Ready: the first ruleset is committed" "$DAEMON_LOG"' 10; then
                fail "hostendpointd did not become ready: $(cat "$DAEMON_LOG")"
                exit 1
        fi
}

# stop_daemon [SIGNAL]: stops it and waits for it to exit; $DAEMON_RC.
stop_daemon() {
        kill -"${1:-TERM}" "$DAEMON_PID"
        wait "$DAEMON_PID"
        DAEMON_RC=$?
        DAEMON_PID=
}

# log_lines: lines logged so far (to wait for a new one).
log_lines() { wc -l <"$DAEMON_LOG"; }

# wait_log PATTERN [TIMEOUT]: until the daemon logs a line matching it.
wait_log() {
        wait_for "grep -q -- \"$1\" \"$DAEMON_LOG\"" "${2:-5}" && return 0
        echo "--- daemon log (no line matching '$1'):" >&2
        tail -20 "$DAEMON_LOG" >&2
        return 1
}

# wait_log_since N PATTERN [SECONDS]: a line after the first N matches.
wait_log_since() {
        wait_for "tail -n +$(($1 + 1)) \"$DAEMON_LOG\" | grep -q -- \"$2\"" "${3:-5}" && return 0
        echo "--- daemon log since line $1 (no line matching '$2'):" >&2
        tail -n +$(($1 + 1)) "$DAEMON_LOG" | tail -20 >&2
        return 1
}

# wait_commits N: until at least N commits have been logged.
wait_commits() {
        wait_for "[ \$(grep -c 'Committed in' \"$DAEMON_LOG\") -ge $1 ]" "${2:-5}"
}

commits() { grep -c 'Committed in' "$DAEMON_LOG"; }

# put_resource FILE < YAML: writes a resource file the way an editor would
# not (atomically, like hepctl), so the daemon sees one complete change.
put_resource() {
        cat >"$DS/.tmp.$1"
        mv "$DS/.tmp.$1" "$DS/$1"
}

nft_host() { ip netns exec "$(ns host)" nft "$@"; }
