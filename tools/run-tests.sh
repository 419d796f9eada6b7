#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what is needed, builds hostendpoint twice (warnings as errors;
# then with AddressSanitizer + UndefinedBehaviorSanitizer) and runs every
# test in both builds; then the unit tests and fuzz corpora in a third,
# clang's, with the fuzzers' instrumentation. Ends with one line:
# "N passed, N failed, N skipped".
# Usage (as root, from anywhere): tools/run-tests.sh
set -u
cd "$(dirname "$0")/.."
tools/install-deps.sh || exit 1

status=0
build() { # dir, meson options...
        dir=$1
        shift
        if [ ! -d "$dir" ]; then
                meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
        fi
        ninja -C "$dir" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; return 1; }
}

# Tests share the kernel (namespaces, nftables): one suite at a time.
run_suite() { # dir, label, meson test options...
        dir=$1
        echo "== $2"
        shift 2
        meson test -C "$dir" --print-errorlogs --num-processes 1 "$@" || status=1
}

if build build-ci -Dwerror_all=true -Dbuildtype=debugoptimized; then
        run_suite build-ci "tests (gcc, -Werror)"
else
        echo "build-ci failed to build"
        status=1
fi
if build build-asan -Dwerror_all=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
        -Dc_args=-fno-sanitize-recover=all; then
        # The Debian packages are built from the source tree, not from this
        # build: build-ci's run has checked them.
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                run_suite build-asan "tests (ASan+UBSan)" --no-suite debian
else
        echo "build-asan failed to build"
        status=1
fi

# clang's UBSan sees what gcc's does not (NULL + 0), and libFuzzer's
# instrumentation of the whole library must keep building: the unit tests
# and the fuzz corpora once more, in the fuzzers' build.
if CC=clang build build-clang -Dwerror_all=true -Dfuzzers=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug -Dc_args=-fno-sanitize-recover=all; then
        echo "== unit tests and fuzz corpora (clang, ASan+UBSan, libFuzzer instrumentation)"
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                meson test -C build-clang --print-errorlogs --num-processes 1 --suite unit --suite fuzz || status=1
else
        echo "build-clang failed to build"
        status=1
fi

python3 - build-ci build-asan build-clang <<'PY'
import json, os, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for d in sys.argv[1:]:
    path = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        counts["failed"] += 1          # a build that could not run its tests
        continue
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            counts["passed"] += 1
        elif r == "SKIP":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
print("%(passed)d passed, %(failed)d failed, %(skipped)d skipped" % counts)
sys.exit(1 if counts["failed"] else 0)
PY
rc=$?
[ "$status" -eq 0 ] || rc=1
exit $rc
