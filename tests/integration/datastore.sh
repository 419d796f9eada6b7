#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The directory datastore against an unlucky admin, with traffic probes
# and the Manager's State and LastError on a private bus: files written in
# place (read only once closed), a file replaced by a directory or a FIFO,
# a permission fixed, symbolic links to ".", and the directory itself
# removed (rm -rf), re-created with other files, moved away and back.
# Nothing the datastore says is ever enforced less while that happens.
#
#   +-------------------+  eth0  +-------------------------------+
#   | hep-<pid>-peer    |--------| hep-<pid>-host: hostendpointd |
#   | 10.77.0.2         |  veth  | 10.77.0.1  tcp 8080 8081      |
#   +-------------------+        +-------------------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-daemon.sh"
. "$(dirname "$0")/lib-bus.sh"
netns_require
for tool in dbus-daemon busctl mkfifo unshare mount; do
        command -v "$tool" >/dev/null || { echo "skipping: $tool is not installed"; exit 77; }
done

topo_two_hosts
for p in 8080 8081; do serve_tcp host "$p"; done
bus_start

HEP='apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: eth0-hep, labels: {web: ""}}
spec: {node: node1, interfaceName: eth0}'
# policy PORT: ingress to PORT only, in block style: cut after its
# "- action: Allow" line, it would allow everything.
policy() {
        printf '%s\n' 'apiVersion: projectcalico.org/v3' 'kind: GlobalNetworkPolicy' 'metadata: {name: web}' \
                'spec:' '  selector: has(web)' '  ingress:' '  - action: Allow' '    protocol: TCP' \
                "    destination: {ports: [$1]}" '  egress:' '  - action: Allow'
}
PROFILE='apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: unrelated}
spec: {}'

state() { prop "$BUS_ROOT" Manager State; }
last_error() { prop "$BUS_ROOT" Manager LastError; }
# enforcing PORT: PORT passes and the other one is blocked (control and check).
enforcing() {
        local other=8081
        [ "$1" = 8081 ] && other=8080
        expect_pass "$2: tcp $1 passes" probe_tcp peer 10.77.0.1 "$1"
        expect_blocked "$2: tcp $other is blocked" probe_tcp peer 10.77.0.1 "$other"
}
# no_withdrawal DESC: since the log line $KEPT, the HEP was never withdrawn.
KEPT=0
no_withdrawal() {
        expect_true '! tail -n +$((KEPT + 1)) "$DAEMON_LOG" | grep -q "withdrawn"' "$1: the HEP was never withdrawn"
}

put_resource hep.yaml <<<"$HEP"
policy 8080 | put_resource policy.yaml
start_daemon --bus "$BUS"
enforcing 8080 "at start"
expect_true '[ "$(state)" = running ]' "State is running"

echo "# 4. files written in place are read only once closed"
mark=$(log_lines)
exec 7>"$DS/hep.yaml"                   # truncated, nothing written yet
exec 8>"$DS/policy.yaml"                # truncated, then half written:
policy 8081 | head -7 >&8               # ... "  - action: Allow" (allow all)
before=$(commits)
put_resource other.yaml <<<"$PROFILE"   # another change: a refresh
expect_true 'wait_commits $((before + 1))' "the other change is committed"
enforcing 8080 "while two files are half written"
no_withdrawal "while two files are half written"
expect_true 'wait_log_since "$mark" "open for writing for 5 s" 10' "a file open for writing that long is reported"
expect_true '[[ "$(last_error)" == *"open for writing for"* ]] && [ "$(state)" = degraded ]' \
        "and the Manager says so (State degraded, LastError)"
enforcing 8080 "still"
printf '%s\n' "$HEP" >&7
exec 7>&-
policy 8081 | tail -n +8 >&8
exec 8>&-
expect_true 'wait_for "probe_tcp peer 10.77.0.1 8081" 5' "once both are closed, their final content is applied"
enforcing 8081 "after the writes"
no_withdrawal "after the writes"
expect_true 'wait_for "[ \"\$(state)\" = running ]"' "State is running again"

echo "# 5. a file replaced by a directory or a FIFO keeps its resources"
rm "$DS/hep.yaml"
mkdir "$DS/hep.yaml"
expect_true 'wait_log "hep.yaml: now a directory, not a file that can be read"' "reported with what it is now"
enforcing 8081 "replaced by a directory"
no_withdrawal "replaced by a directory"
expect_true '[[ "$(last_error)" == *"hep.yaml: now a directory"* ]]' "LastError says so"
rmdir "$DS/hep.yaml"
mkfifo "$DS/hep.yaml"
expect_true 'wait_log "hep.yaml: now a named pipe"' "a FIFO: reported, not opened"
enforcing 8081 "replaced by a FIFO"
rm "$DS/hep.yaml"
put_resource hep.yaml <<<"$HEP"
expect_true 'wait_for "[ \"\$(state)\" = running ]"' "a file again: running"
mark=$(log_lines)
rm "$DS/hep.yaml"
expect_true 'wait_log_since "$mark" "eth0-hep. withdrawn"' "deleting the file still withdraws its HEP"
expect_pass "and traffic is no longer filtered" probe_tcp peer 10.77.0.1 8080
put_resource hep.yaml <<<"$HEP"
expect_true 'wait_for "! probe_tcp peer 10.77.0.1 8080"' "put back: enforced again"
KEPT=$(log_lines)

echo "# 6. a permission fixed is noticed"
mark=$(log_lines)
chmod 000 "$DS/policy.yaml"
policy 8080 >"$DS/policy.yaml"          # in place, as root can
expect_true 'wait_log_since "$mark" "policy.yaml: cannot open: Permission denied"' "the daemon cannot read it, and says so"
enforcing 8081 "unreadable"
chmod 644 "$DS/policy.yaml"
expect_true 'wait_for "probe_tcp peer 10.77.0.1 8080" 5' "chmod 644: the edit is applied"
enforcing 8080 "readable again"

echo "# 8. two symbolic links to \".\": no hang, the rest enforced"
ln -s . "$DS/loop1"
ln -s . "$DS/loop2"
before=$(commits)
policy 8081 | put_resource policy.yaml
expect_true 'wait_commits $((before + 1)) 5' "the next change is committed promptly"
enforcing 8081 "with the links"
expect_true 'wait_log "loop2: a symbolic link to a directory, not followed"' "each link is reported"
expect_true '[[ "$(last_error)" == *"not followed"* ]]' "in LastError too"
rm "$DS/loop1" "$DS/loop2"
expect_true 'wait_for "[ \"\$(state)\" = running ]"' "links removed: running"
# hepctl -f DIR -R walks the same way; a bind mount of the directory inside
# itself (in a mount namespace of its own) is read once.
mkdir -p "$T/in/sub"
cp "$DS/hep.yaml" "$T/in/"
mkdir "$T/out"
run unshare -m sh -c 'mount --bind "$1" "$1/sub" && exec "$2" --datastore "dir:$3" create -f "$1" -R' sh "$T/in" "$HEPCTL" "$T/out"
expect_rc 0 "hepctl create -f DIR -R with a bind mount loop"
expect_err_contains "$T/in/sub: the same directory as one read already (a bind mount?), not read again" "says what it skipped"
expect_out "Successfully created 1 'HostEndpoint' resource(s)" "and reads each file once"

echo "# 7. the directory removed: nothing loosens; re-created: converges"
rm -rf "$DS"
expect_true 'wait_for "[ \"\$(state)\" = degraded ]"' "State degraded"
expect_true '[[ "$(last_error)" == *"the datastore directory is gone"* ]]' "LastError says why"
expect_true 'wait_log "the datastore directory is gone"' "and so does the log"
sleep 1 # well past the grace period for deletions
enforcing 8081 "the directory gone"
no_withdrawal "the directory gone"
mkdir "$DS"
put_resource hep.yaml <<<"$HEP"
policy 8080 | put_resource policy.yaml
expect_true 'wait_for "[ \"\$(state)\" = running ]" 5' "re-created: running"
expect_true 'wait_for "probe_tcp peer 10.77.0.1 8080" 5' "its content is applied"
enforcing 8080 "re-created"

mv "$DS" "$DS.away"
expect_true 'wait_for "[ \"\$(state)\" = degraded ]"' "moved away: degraded"
enforcing 8080 "moved away"
mv "$DS.away" "$DS"
expect_true 'wait_for "[ \"\$(state)\" = running ]" 5' "moved back: running"
policy 8081 | put_resource policy.yaml
expect_true 'wait_for "probe_tcp peer 10.77.0.1 8081" 5' "and watched again: a change is applied"
enforcing 8081 "moved back"
no_withdrawal "at the end"

echo "# 13. LastError quotes a file's content only if anyone may read the file"
mark=$(log_lines)
printf '%s\n' 'apiVersion: projectcalico.org/v3' 'kind: Profile' 'metadata: {name: secret}' \
        'spec: {labelsToApply: {"s3cr3t value": x}}' >"$DS/.secret.yaml"
chgrp "$DAEMON_USER" "$DS/.secret.yaml"
chmod 640 "$DS/.secret.yaml"
mv "$DS/.secret.yaml" "$DS/secret.yaml"
expect_true 'wait_for "[ \"\$(state)\" = degraded ]"' "a broken file only root and the daemon may read: degraded"
expect_true '[[ "$(last_error)" == "$DS/secret.yaml:4:"*": cannot be used; the details are in the log (the file is not world-readable)" ]]' \
        "LastError names the file, line, column and field ($(last_error))"
expect_true '[[ "$(last_error)" != *s3cr3t* ]]' "but not the value, which anyone on the bus could read"
expect_true 'wait_log_since "$mark" "secret.yaml:4:.*s3cr3t value"' "the log (root's) has the whole message"
chmod 644 "$DS/secret.yaml"
expect_true 'wait_for "[[ \"\$(last_error)\" == *s3cr3t* ]]"' "once the file is world-readable, LastError quotes it too"
rm "$DS/secret.yaml"
expect_true 'wait_for "[ \"\$(state)\" = running ]" 5' "removed: running again"
