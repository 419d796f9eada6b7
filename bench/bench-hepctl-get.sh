#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end `hepctl get heps -l SELECTOR` over a directory datastore of
# 10,000 HostEndpoint files (one resource per file, as hepctl writes them):
# process start, reading and validating every file, selecting, printing.
# Seven runs; prints each, the median and the spread. Target: <= 300 ms.
# Usage: bench/bench-hepctl-get.sh [BUILDDIR]
set -eu
BUILD=${1:-build}
HEPCTL="$BUILD/cli/hepctl"
[ -x "$HEPCTL" ] || { echo "build first: meson setup $BUILD && ninja -C $BUILD" >&2; exit 1; }
DS=$(mktemp -d /tmp/hep-bench-XXXXXX)
trap 'rm -rf "$DS"' EXIT

for i in $(seq 0 9999); do
        role=web; [ $((i % 3)) -eq 0 ] && role=db
        printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: host%d.eth0\n  labels:\n    role: %s\n    zone: zone-%d\nspec:\n  node: host%d\n  interfaceName: eth0\n  expectedIPs:\n  - 10.%d.%d.%d\n  profiles:\n  - base\n' \
                "$i" "$role" $((i % 16)) "$i" $((i >> 16)) $(((i >> 8) & 255)) $((i & 255)) > "$DS/hostendpoint-host$i.eth0.yaml"
done
SEL="role == 'db' && zone in {'zone-1','zone-2'}"
times=()
for run in 1 2 3 4 5 6 7; do
        start=$(date +%s%N)
        n=$("$HEPCTL" --datastore "dir:$DS" get heps -l "$SEL" | grep -c host)
        end=$(date +%s%N)
        ms=$(((end - start) / 1000000))
        times+=("$ms")
        echo "run $run: $ms ms ($n endpoints selected)"
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "hepctl get heps -l \"$SEL\" over 10000 files: median ${sorted[3]} ms, min ${sorted[0]}, max ${sorted[6]} (target <= 300 ms)"
