#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd unit as built: systemd accepts it (systemd-analyze verify)
# and its sandbox keeps the exposure score at 2.0 or lower
# (systemd-analyze security --offline). Nothing is started.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || { echo "skipping: systemd-analyze is not installed"; exit 77; }

UNIT="$BUILDDIR/packaging/hostendpointd.service"
[ -f "$UNIT" ] || { echo "not built: $UNIT" >&2; exit 1; }
# verify checks that ExecStart exists: point it at the built daemon.
sed "s|^ExecStart=.*|ExecStart=$BUILDDIR/module/hostendpointd|" "$UNIT" >"$T/hostendpointd.service"

# verify also runs man on each man: page of Documentation=: the built
# pages stand in for the installed ones.
mkdir -p "$T/man/man5" "$T/man/man7" "$T/man/man8"
for page in "$BUILDDIR"/packaging/*.[578]; do
        ln -s "$page" "$T/man/man${page##*.}/"
done
verify_man=yes
command -v man >/dev/null || { verify_man=no; echo "man is not installed: Documentation= is not checked"; }
run env MANPATH="$T/man" systemd-analyze verify --man="$verify_man" "$T/hostendpointd.service"
expect_rc 0 "systemd-analyze verify accepts the unit"
expect_err "" "and has nothing to say about it"

run systemd-analyze security --offline=true --threshold=20 "$T/hostendpointd.service"
score=$(printf '%s\n' "$OUT" | sed -n 's/.*Overall exposure level for hostendpointd.service: \([0-9.]*\).*/\1/p')
expect_rc 0 "the exposure score is at most 2.0 (it is $score)"
expect_true '[ -n "$score" ]' "systemd-analyze printed a score"

for directive in User=hostendpoint CapabilityBoundingSet=CAP_NET_ADMIN "RestrictAddressFamilies=AF_UNIX AF_NETLINK" \
        SystemCallFilter=@system-service; do
        expect_true "grep -qxF '$directive' '$UNIT'" "the unit says $directive"
done
expect_true "grep -qx 'Documentation=man:hostendpointd(8).*' '$UNIT'" "the unit's documentation is hostendpointd(8) first"
expect_true "grep -Eq '^ReadWritePaths=-/.*/hostendpoint\$' '$UNIT'" "the datastore's directory may be written, and may be missing"
