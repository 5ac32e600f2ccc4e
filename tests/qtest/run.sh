#!/bin/sh
# Build and run the qtests that cover the dReDBox machine and devices:
# ours (tests/qtest/dredbox-*-test.c) plus upstream's generic qom-test and
# device-introspect-test, which walk every machine and device we build.
# DREDBOX_QEMU_BUILD and DREDBOX_TOOLS_BUILD choose the build directories
# (default build/qemu and build/tools; make check-sanitize sets both);
# DREDBOX_TIMEOUT_MULTIPLIER scales the tests' timeouts.
set -eu
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
B=${DREDBOX_QEMU_BUILD:-$SRCDIR/build/qemu}
TOOLS_BUILD=${DREDBOX_TOOLS_BUILD:-$SRCDIR/build/tools}

# Under ASan (make check-sanitize), as in upstream's CI: no leak reports,
# QEMU does not free everything at exit.
if [ -n "${ASAN_OPTIONS:-}" ]; then
    export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
fi

# The remote-memory qtests run a real pool daemon.
ninja -C "$TOOLS_BUILD" > /dev/null
export DREDBOX_MEMD="$TOOLS_BUILD/memory-brick/dredbox-memd"

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
meson test -C "$B" --no-rebuild --print-errorlogs \
    -t "${DREDBOX_TIMEOUT_MULTIPLIER:-1}" $names
