#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what hostendpoint needs to build and test on Debian 12, from
# Debian's own packages: debian/control's Build-Depends among them, and
# what tests/integration/debian.sh builds and checks the package with.
# Safe to run again; quiet unless something fails.
set -e
if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps.sh: run as root (it calls apt-get)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
      libyaml-dev libnftables-dev libnftnl-dev libmnl-dev libnl-3-dev libnl-route-3-dev libnl-nf-3-dev libdbus-1-dev libcap-ng-dev
      libssl-dev libjson-c-dev etcd-server etcd-client openssl
      nftables iproute2 iputils-ping netcat-openbsd socat iperf3 ethtool
      dbus dbus-bin libglib2.0-bin systemd valgrind man-db bash-completion
      dpkg-dev debhelper fakeroot lintian
      connman connman-dev libglib2.0-dev network-manager
      cockpit-ws cockpit-bridge chromium chromium-driver"
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
        echo "Installing:$missing"
        apt-get update -qq
        # ConnMan is here for the shim (connman-dev) and its test, and
        # NetworkManager for the dispatcher hook's test; each test runs
        # the daemon in a namespace of its own: the packages must not
        # start one on this machine, where it would take over the network
        # interfaces. Cockpit and Chromium are for the Cockpit page's test,
        # which runs its own cockpit-ws on loopback: cockpit.socket must
        # not listen on this machine's port 9090 either. policy-rc.d
        # (Debian's switch for that) stops the postinst from starting
        # them, for this install only.
        rcd=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
                chmod 755 /usr/sbin/policy-rc.d
                rcd=1
        fi
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null || { [ -z "$rcd" ] || rm -f /usr/sbin/policy-rc.d; exit 1; }
        [ -z "$rcd" ] || rm -f /usr/sbin/policy-rc.d
        # ... nor start them at the next boot (only those installed now).
        # systemctl edits the unit links without a running systemd too
        # (a container, an image being built), where the postinst has
        # enabled them all the same; NetworkManager.service's disable
        # takes its dispatcher and wait-online units along (Also=).
        for p in connman:connman.service network-manager:NetworkManager.service cockpit-ws:cockpit.socket; do
                case " $missing " in *" ${p%%:*} "*) ;; *) continue ;; esac
                if systemctl -q is-enabled "${p#*:}" 2>/dev/null; then
                        systemctl -q --no-reload disable "${p#*:}"
                fi
        done
fi
# The user hostendpointd runs as, as the package creates it.
systemd-sysusers "$(cd "$(dirname "$0")/.." && pwd)/packaging/sysusers.d/hostendpoint.conf"
