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
      libyaml-dev libnftables-dev libnl-3-dev libnl-route-3-dev libdbus-1-dev libcap-ng-dev
      libcurl4-openssl-dev libjson-c-dev etcd-server etcd-client openssl
      nftables iproute2 iputils-ping netcat-openbsd socat iperf3 ethtool
      dbus dbus-bin libglib2.0-bin systemd valgrind man-db bash-completion
      dpkg-dev debhelper fakeroot lintian"
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
        echo "Installing:$missing"
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The user hostendpointd runs as, as the package creates it.
systemd-sysusers "$(cd "$(dirname "$0")/.." && pwd)/packaging/sysusers.d/hostendpoint.conf"
