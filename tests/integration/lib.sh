# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for integration tests: assertions that print what they
# expected, a per-test temporary directory, and cleanup on exit.
# Each script is one meson test; it exits 0 only if every check passed.

set -u
: "${BUILDDIR:?BUILDDIR must point at the meson build directory}"
: "${SRCDIR:?SRCDIR must point at the source tree}"
HEPCTL="$BUILDDIR/cli/hepctl"
T=$(mktemp -d "/tmp/hep-test-$$-XXXXXX")
# hostendpointd runs as its own user: it must reach the test's datastore.
chmod 711 "$T"
FAILED=0
CHECKS=0
CLEANUP_HOOKS=()

on_exit() {
        local rc=$?
        for hook in "${CLEANUP_HOOKS[@]}"; do
                eval "$hook" || true
        done
        rm -rf "$T"
        if [ "$FAILED" -ne 0 ]; then
                echo "FAILED: $FAILED of $CHECKS checks"
                exit 1
        fi
        echo "ok: $CHECKS checks"
        exit "$rc"
}
trap on_exit EXIT

fail() {
        FAILED=$((FAILED + 1))
        echo "not ok - $*" >&2
}

pass() {
        echo "ok - $*"
}

# run CMD...: runs a command, capturing stdout, stderr and the exit code
# in $OUT, $ERR and $RC.
run() {
        OUT=$("$@" 2>"$T/.stderr")
        RC=$?
        ERR=$(cat "$T/.stderr")
}

expect_rc() {
        CHECKS=$((CHECKS + 1))
        if [ "$RC" -eq "$1" ]; then pass "$2 (exit $RC)"; else fail "$2: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"; fi
}

expect_out() {
        CHECKS=$((CHECKS + 1))
        if [ "$OUT" = "$1" ]; then pass "$2"; else fail "$2: stdout was:
$OUT
--- expected:
$1"; fi
}

expect_err() {
        CHECKS=$((CHECKS + 1))
        if [ "$ERR" = "$1" ]; then pass "$2"; else fail "$2: stderr was:
$ERR
--- expected:
$1"; fi
}

expect_out_contains() {
        CHECKS=$((CHECKS + 1))
        case "$OUT" in *"$1"*) pass "$2" ;; *) fail "$2: stdout does not contain '$1':
$OUT" ;; esac
}

expect_err_contains() {
        CHECKS=$((CHECKS + 1))
        case "$ERR" in *"$1"*) pass "$2" ;; *) fail "$2: stderr does not contain '$1':
$ERR" ;; esac
}

expect_true() {
        CHECKS=$((CHECKS + 1))
        if eval "$1"; then pass "$2"; else fail "$2 ($1)"; fi
}

# Poll until a command succeeds (no fixed sleeps), up to $2 seconds.
wait_for() {
        local cond="$1" timeout="${2:-5}" i=0
        while ! eval "$cond"; do
                i=$((i + 1))
                if [ "$i" -gt $((timeout * 50)) ]; then return 1; fi
                sleep 0.02
        done
}
