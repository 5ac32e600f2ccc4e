#!/bin/sh
# QEMU from $DREDBOX_QEMU_BUILD (build/qemu-sanitize) with the sanitizer
# options of tests/run-sanitize.sh but no leak report: QEMU does not free
# everything at exit (upstream's CI runs it with detect_leaks=0 too).
# The guest tests and dredbox-rack run it as $QEMU.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    exec "$DREDBOX_QEMU_BUILD/qemu-system-aarch64" "$@"
