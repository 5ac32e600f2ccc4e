#!/bin/sh
# Overlay our files onto the upstream QEMU tree as symlinks, so that edits
# here are seen by the next build without copying.  Files we own live at the
# same path in both trees; stale links to removed files are dropped.
set -eu
SRC=$1
QSRC=$2
# The parts of our tree that live inside QEMU's layout.
DIRS="hw/dredbox include/hw/dredbox include/dredbox backends/remote-memory tests/qtest
configs/devices/aarch64-softmmu"
# Single files: our QAPI module.
FILES="qapi/dredbox.json"

for f in $FILES; do
    mkdir -p "$QSRC/$(dirname "$f")"
    ln -sfn "$SRC/$f" "$QSRC/$f"
done

for d in $DIRS; do
    [ -d "$SRC/$d" ] || continue
    (cd "$SRC" && find "$d" -type f) | while read -r f; do
        mkdir -p "$QSRC/$(dirname "$f")"
        ln -sfn "$SRC/$f" "$QSRC/$f"
    done
    [ -d "$QSRC/$d" ] && find "$QSRC/$d" -xtype l -delete
done
exit 0
