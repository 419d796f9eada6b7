# SPDX-License-Identifier: GPL-2.0-or-later
# Mount points on the host, for tests that run another program's daemon
# (connmand, NetworkManager, systemd-networkd) in a mount namespace of its own with the
# test's directories bound over the fixed paths it uses (after lib.sh).
# A mount needs its mount point on the host: mkdir_host makes the missing
# ones (an empty directory is harmless), and they are removed at exit,
# after the namespaces, and only if still empty.

_HOST_DIRS_CREATED=()

# mkdir_host DIR: makes DIR and its missing parents on the host.
mkdir_host() {
        local d=$1 missing=()
        while [ ! -d "$d" ]; do
                missing=("$d" "${missing[@]}")
                d=$(dirname "$d")
        done
        for d in "${missing[@]}"; do
                mkdir "$d" || { CHECKS=$((CHECKS + 1)); fail "cannot create mount point $d"; exit 1; }
                _HOST_DIRS_CREATED+=("$d")
        done
}

# Newest first. A mount on one in a dying namespace may keep it busy a
# moment (EBUSY): retried for up to 2 s.
_host_dirs_cleanup() {
        local d i
        for ((i = ${#_HOST_DIRS_CREATED[@]} - 1; i >= 0; i--)); do
                d=${_HOST_DIRS_CREATED[i]}
                wait_for "rmdir '$d' 2>/dev/null || [ ! -d '$d' ] || [ -n \"\$(ls -A '$d')\" ]" 2 ||
                        echo "# could not remove $d, which this test created" >&2
        done
        return 0
}
CLEANUP_HOOKS+=("_host_dirs_cleanup")
