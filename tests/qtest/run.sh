#!/bin/sh
# Build and run the qtests that cover the dReDBox machine and devices:
# ours (tests/qtest/dredbox-*-test.c) plus upstream's generic qom-test and
# device-introspect-test, which walk every machine and device we build.
set -eu
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
B=$SRCDIR/build/qemu

# The remote-memory qtests run a real pool daemon.
ninja -C "$SRCDIR/build/tools" > /dev/null
export DREDBOX_MEMD="$SRCDIR/build/tools/controller/memd/dredbox-memd"

tests="qom-test device-introspect-test"
for f in "$SRCDIR"/tests/qtest/dredbox-*-test.c; do
    tests="$(basename "$f" .c) $tests"
done

targets="qemu-system-aarch64"
for t in $tests; do
    targets="$targets tests/qtest/$t"
done
# shellcheck disable=SC2086
ninja -C "$B" $targets > "$B/qtest-build.log" || {
    tail -n 40 "$B/qtest-build.log"; exit 1; }

names=""
for t in $tests; do
    names="$names qtest-aarch64/$t"
done
# shellcheck disable=SC2086
meson test -C "$B" --no-rebuild --print-errorlogs $names
