#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hepctl built without libdbus (-Ddbus=disabled): `status` says why it
# cannot ask the daemon; the datastore commands work as ever (hepctl.sh
# runs in this build too).
. "$(dirname "$0")/lib.sh"

DS="$T/resources.d"
mkdir -p "$DS"

run "$HEPCTL" --datastore "dir:$DS" status
expect_rc 1 "status fails"
expect_err "hepctl was built without D-Bus support: status cannot ask hostendpointd" "status says hepctl has no D-Bus"
expect_out "" "status prints nothing on stdout"

run "$HEPCTL" --datastore "dir:$DS" create -f "$SRCDIR/packaging/examples/hostendpoint.yaml"
expect_rc 0 "create works without D-Bus"
chmod 000 "$DS"
run setpriv --reuid=nobody --regid=nogroup --clear-groups "$HEPCTL" --datastore "dir:$DS" get heps
chmod 755 "$DS"
expect_rc 1 "get on an unreadable datastore fails, with no daemon to ask"
expect_err_contains "failed to get resources: Permission denied" "and says why"
