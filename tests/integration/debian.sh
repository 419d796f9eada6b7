#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian packaging (debian/): dpkg-buildpackage -us -uc -b builds
# hostendpoint, hostendpoint-dev, hostendpoint-connman (the ConnMan
# plugin, for the exact ConnMan it is built with) and cockpit-hostendpoint
# (the Cockpit page) from a copy of the source tree, with
# the build-time tests of debian/rules; lintian finds no error and no
# warning; the packages, unpacked and configured with dpkg in a root of
# the test's own (their maintainer scripts run outside a chroot, with
# DPKG_ROOT set, and a stand-in for systemctl so that nothing reaches the
# host's systemd), put every file where Debian expects it, mark the
# settings file a conffile, create the system user, enable the unit, and
# leave the settings on removal but not on purge. The installed unit is
# checked as tests/integration/unit.sh checks the built one.
# Needs dpkg-buildpackage, debhelper, fakeroot and lintian
# (tools/install-deps.sh installs them) and the Build-Depends.
. "$(dirname "$0")/lib.sh"
for tool in dpkg-buildpackage dh fakeroot lintian; do
        command -v "$tool" >/dev/null ||
                { echo "skipping: $tool is not installed (tools/install-deps.sh installs it)"; exit 77; }
done

# The source tree as git has it (committed, plus new files not ignored),
# else the whole tree without meson build directories.
SRC="$T/src/hostendpoint"
mkdir -p "$SRC"
if git -C "$SRCDIR" rev-parse --show-toplevel >/dev/null 2>&1; then
        (cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
                tar -cf - --null -T -) | tar -xf - -C "$SRC"
else
        tar -cf - -C "$SRCDIR" --exclude-tag-all=meson-private --exclude=.git . | tar -xf - -C "$SRC"
fi
expect_true "[ -x '$SRC/debian/rules' ] && [ -f '$SRC/meson.build' ]" "the source tree is copied, debian/ included"
expect_true "[ ! -e '$SRC/obj-'* ] && [ -z \"\$(find '$SRC' -name meson-private)\" ]" "and no build directory with it"

# Build as a package build runs, tests included (override_dh_auto_test:
# the unit and fuzz suites).
start=$(date +%s)
(cd "$SRC" && LC_ALL=C.UTF-8 dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1
RC=$?
OUT=$(tail -n 40 "$T/build.log") ERR=""
expect_rc 0 "dpkg-buildpackage -us -uc -b builds the packages (in $(($(date +%s) - start)) s)"
expect_true "grep -q 'meson test --suite unit --suite fuzz' '$T/build.log'" "the build ran the unit and fuzz suites"
expect_true "grep -q '^Ok: *[1-9]' '$T/build.log' && grep -q '^Fail: *0' '$T/build.log'" "and they passed"

VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRCDIR/meson.build")
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
DEB="$T/src/hostendpoint_${VERSION}_$ARCH.deb"
DEV="$T/src/hostendpoint-dev_${VERSION}_$ARCH.deb"
CONNMAN_DEB="$T/src/hostendpoint-connman_${VERSION}_$ARCH.deb"
COCKPIT_DEB="$T/src/cockpit-hostendpoint_${VERSION}_all.deb"
CHANGES="$T/src/hostendpoint_${VERSION}_$ARCH.changes"
for f in "$DEB" "$DEV" "$CONNMAN_DEB" "$COCKPIT_DEB" "$CHANGES"; do
        expect_true "[ -f '$f' ]" "${f##*/} is built (the package's version is meson's, $VERSION)"
done
[ -f "$DEB" ] && [ -f "$DEV" ] && [ -f "$CONNMAN_DEB" ] && [ -f "$COCKPIT_DEB" ] && [ -f "$CHANGES" ] || exit 1

# lintian, as a Debian maintainer runs it before an upload.
run lintian --info "$CHANGES"
printf '%s\n' "$OUT" | sed 's/^/  lintian: /'
expect_true "! printf '%s\\n' \"\$OUT\" | grep -q '^[EW]: '" "lintian reports no error and no warning"
expect_true "[ \"\$RC\" -eq 0 ]" "lintian exits 0 (it exited $RC)"

# Binary package metadata.
expect_true "dpkg-deb -f '$DEV' Depends | grep -qF 'hostendpoint (= $VERSION)'" \
        "hostendpoint-dev depends on hostendpoint of the same version"
CONNMAN_VERSION=$(pkg-config --modversion connman)
expect_true "dpkg-deb -f '$CONNMAN_DEB' Depends | grep -qF 'hostendpoint (= $VERSION)'" \
        "hostendpoint-connman depends on hostendpoint of the same version"
expect_true "dpkg-deb -f '$CONNMAN_DEB' Depends | grep -qF 'connman (>= $CONNMAN_VERSION), connman (<< $CONNMAN_VERSION+~)'" \
        "and on exactly the ConnMan it was built for ($CONNMAN_VERSION, any Debian revision)"
run dpkg-deb -c "$CONNMAN_DEB"
expect_true "printf '%s\\n' \"\$OUT\" | grep -q ' ./usr/lib/$MA/connman/plugins/hostendpoint-connman.so\$'" \
        "hostendpoint-connman holds the shim, in ConnMan's plugin directory"
expect_true "[ \"\$(printf '%s\\n' \"\$OUT\" | grep -c '\\.so\$')\" = 1 ]" "and no other library"
expect_true "dpkg-deb -f '$COCKPIT_DEB' Depends | grep -qF 'cockpit-bridge' && dpkg-deb -f '$COCKPIT_DEB' Depends | grep -qF 'hostendpoint (>= $VERSION)'" \
        "cockpit-hostendpoint depends on Cockpit's bridge and on hostendpoint"
run dpkg-deb -c "$COCKPIT_DEB"
expect_true "[ \"\$(printf '%s\\n' \"\$OUT\" | grep -c ' ./usr/share/cockpit/hostendpoint/[^/]\\+\$')\" = 4 ]" \
        "cockpit-hostendpoint holds the page's four files, in /usr/share/cockpit/hostendpoint"
expect_true "dpkg-deb -f '$DEB' Depends | grep -q 'systemd-sysusers'" \
        "hostendpoint depends on a systemd-sysusers (dh_installsysusers)"
run dpkg-deb -I "$DEB" conffiles
expect_out "/etc/hostendpoint/hostendpoint.conf" "the one conffile is /etc/hostendpoint/hostendpoint.conf"

# Maintainer scripts, as debhelper wrote them.
mkdir "$T/control"
dpkg-deb -e "$DEB" "$T/control"
C="$T/control"
expect_true "grep -qF 'systemd-sysusers \${DPKG_ROOT:+--root=\"\$DPKG_ROOT\"} hostendpoint.conf' '$C/postinst'" \
        "postinst creates the system user from the installed sysusers.d file"
expect_true "grep -q \"deb-systemd-helper enable 'hostendpointd.service'\" '$C/postinst'" "postinst enables the unit"
expect_true "grep -q 'deb-systemd-invoke \$_dh_action .hostendpointd.service' '$C/postinst' && grep -q '_dh_action=restart' '$C/postinst'" \
        "postinst starts it on install and restarts it on upgrade"
expect_true "[ \$(grep -n 'systemd-sysusers' '$C/postinst' | cut -d: -f1) -lt \$(grep -n 'deb-systemd-invoke' '$C/postinst' | cut -d: -f1) ]" \
        "the user exists before the unit is started"
expect_true "grep -q \"deb-systemd-invoke stop 'hostendpointd.service'\" '$C/prerm' && grep -q '\"\$1\" = remove' '$C/prerm'" \
        "prerm stops the unit on removal (its rules stay in force)"
expect_true "grep -q \"deb-systemd-helper purge 'hostendpointd.service'\" '$C/postrm'" "postrm forgets the unit on purge"

# Install into a root of our own. dpkg runs the maintainer scripts on
# the host with DPKG_ROOT set; systemctl is a stand-in that only logs
# (postinst's daemon-reload), and a policy-rc.d in that root tells
# deb-systemd-invoke to start and stop nothing.
ROOT="$T/root"
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/var/lib/dpkg/triggers" \
        "$ROOT/usr/sbin" "$ROOT/etc" "$T/stubs"
: >"$ROOT/var/lib/dpkg/status"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
printf '#!/bin/sh\necho "systemctl $*" >>"%s"\n' "$T/systemctl.log" >"$T/stubs/systemctl"
chmod 755 "$ROOT/usr/sbin/policy-rc.d" "$T/stubs/systemctl"
: >"$T/systemctl.log"
dpkg_root() {
        run env PATH="$T/stubs:$PATH" dpkg --root="$ROOT" --log=/dev/null --force-not-root \
                --force-script-chrootless --force-depends "$@"
}
dpkg_root --install "$DEB" "$DEV" "$CONNMAN_DEB" "$COCKPIT_DEB"
expect_rc 0 "dpkg installs the four packages in a root of the test's own"
run dpkg-query --root="$ROOT" -W -f='${Package} ${Status}\n' cockpit-hostendpoint hostendpoint hostendpoint-connman hostendpoint-dev
expect_out "cockpit-hostendpoint install ok installed
hostendpoint install ok installed
hostendpoint-connman install ok installed
hostendpoint-dev install ok installed" "and all are configured"

for f in /usr/sbin/hostendpointd /usr/bin/hepctl "/usr/lib/$MA/hostendpoint/hostendpoint.so" \
        /lib/systemd/system/hostendpointd.service /usr/lib/sysusers.d/hostendpoint.conf \
        /usr/share/dbus-1/system.d/org.projectcalico.HostEndpoint1.conf \
        /usr/share/dbus-1/interfaces/org.projectcalico.HostEndpoint1.xml \
        /usr/lib/NetworkManager/dispatcher.d/pre-up.d/50-hostendpoint \
        /etc/hostendpoint/hostendpoint.conf \
        /usr/share/man/man8/hostendpointd.8.gz /usr/share/man/man8/hepctl.8.gz \
        /usr/share/man/man5/hostendpoint.conf.5.gz /usr/share/man/man7/hostendpoint-dbus.7.gz \
        /usr/share/bash-completion/completions/hepctl /usr/share/bash-completion/completions/hostendpointd \
        /usr/share/doc/hostendpoint/README.md /usr/share/doc/hostendpoint/copyright \
        /usr/share/doc/hostendpoint/changelog.gz /usr/share/doc/hostendpoint/examples/hostendpoint.yaml \
        /usr/include/hostendpoint/plugin.h "/usr/lib/$MA/pkgconfig/hostendpoint.pc" \
        "/usr/lib/$MA/connman/plugins/hostendpoint-connman.so" \
        /usr/share/cockpit/hostendpoint/manifest.json /usr/share/cockpit/hostendpoint/index.html \
        /usr/share/cockpit/hostendpoint/hostendpoint.js /usr/share/cockpit/hostendpoint/hostendpoint.css; do
        expect_true "[ -f '$ROOT$f' ]" "$f is installed"
done
for f in /usr/sbin/hostendpointd /usr/bin/hepctl /usr/lib/NetworkManager/dispatcher.d/pre-up.d/50-hostendpoint; do
        expect_true "[ -x '$ROOT$f' ]" "$f is executable"
done
expect_true "[ -d '$ROOT/etc/hostendpoint/resources.d' ] && [ -z \"\$(ls -A '$ROOT/etc/hostendpoint/resources.d')\" ]" \
        "/etc/hostendpoint/resources.d/ is installed, empty"
expect_true "[ \"\$(readlink '$ROOT/usr/share/bash-completion/completions/hostendpointd')\" = hepctl ]" \
        "hostendpointd's completion is hepctl's"
run dpkg-query --root="$ROOT" -L hostendpoint-dev
expect_true "! printf '%s\\n' \"\$OUT\" | grep -Eq '^/(usr/(s?bin|share/man)|etc)/'" "hostendpoint-dev holds no program, page or setting"
run dpkg-query --root="$ROOT" -L hostendpoint
expect_true "! printf '%s\\n' \"\$OUT\" | grep -Eq '^/usr/include|pkgconfig'" "hostendpoint holds no header or .pc"
plugindir=$(sed -n 's/^plugindir=//p' "$ROOT/usr/lib/$MA/pkgconfig/hostendpoint.pc")
expect_true "[ -n '$plugindir' ] && [ -f '$ROOT$plugindir/hostendpoint.so' ]" "the .pc's plugindir ($plugindir) holds the plugin"
run "$ROOT/usr/sbin/hostendpointd" --help
expect_out_contains "/etc/hostendpoint/hostendpoint.conf" "the installed daemon reads /etc/hostendpoint/hostendpoint.conf"
expect_out_contains "dir:/etc/hostendpoint/resources.d" "and uses /etc/hostendpoint/resources.d as its datastore"

run dpkg-query --root="$ROOT" -W -f='${Conffiles}' hostendpoint
expect_out_contains "/etc/hostendpoint/hostendpoint.conf " "dpkg records /etc/hostendpoint/hostendpoint.conf as a conffile"
expect_true "grep -q '^hostendpoint:x:[0-9]*:[0-9]*:hostendpoint daemon:/nonexistent:/usr/sbin/nologin\$' '$ROOT/etc/passwd'" \
        "postinst created the system user hostendpoint (systemd-sysusers)"
expect_true "grep -q '^hostendpoint:x:' '$ROOT/etc/group'" "and its group"
WANTS="$ROOT/etc/systemd/system/multi-user.target.wants/hostendpointd.service"
expect_true "[ \"\$(readlink '$WANTS')\" = /lib/systemd/system/hostendpointd.service ]" \
        "postinst enabled the unit (multi-user.target.wants)"
expect_true "! grep -qE ' (start|restart|stop) ' '$T/systemctl.log'" "and the host's systemd was asked to start nothing"

# The installed unit, as unit.sh checks the built one: systemd accepts it
# (its ExecStart pointed at the installed daemon, and the man pages of
# Documentation= looked up among those installed) and its sandbox scores
# 2.0 or lower.
if command -v systemd-analyze >/dev/null; then
        UNIT="$ROOT/lib/systemd/system/hostendpointd.service"
        mkdir "$T/unit"
        sed "s|^ExecStart=/|ExecStart=$ROOT/|" "$UNIT" >"$T/unit/hostendpointd.service"
        expect_true "grep -qx 'ExecStart=/usr/sbin/hostendpointd' '$UNIT'" "the unit starts /usr/sbin/hostendpointd"
        verify_man=yes
        command -v man >/dev/null || { verify_man=no; echo "man is not installed: Documentation= is not checked by systemd-analyze"; }
        run env MANPATH="$ROOT/usr/share/man" systemd-analyze verify --man="$verify_man" "$T/unit/hostendpointd.service"
        expect_rc 0 "systemd-analyze verify accepts the installed unit"
        expect_err "" "and has nothing to say about it"
        run systemd-analyze security --offline=true --threshold=20 "$UNIT"
        score=$(printf '%s\n' "$OUT" | sed -n 's/.*Overall exposure level for hostendpointd.service: \([0-9.]*\).*/\1/p')
        expect_rc 0 "its exposure score is at most 2.0 (it is $score)"
        expect_true '[ -n "$score" ]' "systemd-analyze printed a score"
else
        echo "systemd-analyze is not installed: the installed unit is not verified"
fi
# Every Documentation= of the unit is installed.
for doc in $(sed -n 's/^Documentation=//p' "$ROOT/lib/systemd/system/hostendpointd.service"); do
        case $doc in
        man:*) page=${doc#man:} name=${page%(*} section=${page#*(} section=${section%)}
                expect_true "[ -f '$ROOT/usr/share/man/man$section/$name.$section.gz' ]" "Documentation=$doc is installed" ;;
        file://*) expect_true "[ -f '$ROOT${doc#file://}' ]" "Documentation=$doc is installed" ;;
        *) expect_true false "Documentation=$doc is a man: page or a file" ;;
        esac
done

# Removal keeps the settings (a conffile), purge does not; neither asks
# the host's systemd to stop anything.
dpkg_root --remove cockpit-hostendpoint hostendpoint-connman hostendpoint-dev hostendpoint
expect_rc 0 "dpkg removes the four packages"
expect_true "[ ! -e '$ROOT/usr/sbin/hostendpointd' ] && [ ! -e '$ROOT/usr/include/hostendpoint/plugin.h' ] && [ ! -e '$ROOT/usr/lib/$MA/connman/plugins/hostendpoint-connman.so' ] && [ ! -e '$ROOT/usr/share/cockpit/hostendpoint' ]" \
        "their programs, header, plugins and page are gone"
expect_true "[ -f '$ROOT/etc/hostendpoint/hostendpoint.conf' ]" "the settings file stays after removal"
dpkg_root --purge hostendpoint
expect_rc 0 "dpkg purges hostendpoint"
expect_true "[ ! -e '$ROOT/etc/hostendpoint/hostendpoint.conf' ]" "purge removes the settings file"
expect_true "[ ! -L '$WANTS' ]" "purge removes the unit's enablement"
expect_true "! grep -qE ' (start|restart|stop) ' '$T/systemctl.log'" "the host's systemd was asked to start or stop nothing"
