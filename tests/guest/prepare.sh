#!/bin/sh
# The test image: the brick's image (guest/image/build.sh, make guest) with
# the guest tests' scripts (tests/guest/rootfs/*.sh) in /dredbox on top.
# Linux unpacks concatenated initramfs archives in order, so the scripts
# are one more compressed cpio archive after the brick's own:
#   build/guest/initramfs-test.gz
# A brick booted with dredbox.test=NAME runs /dredbox/NAME.sh
# (guest/image/init).
set -eu
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$SRCDIR/build/guest

[ -f "$OUT/initramfs.gz" ] ||
    { echo "tests/guest/prepare.sh: no brick image: make guest" >&2; exit 1; }
work=$OUT/test-root
rm -rf "$work"
mkdir -p "$work/dredbox"
cp "$SRCDIR"/tests/guest/rootfs/*.sh "$work/dredbox/"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT/tests.cpio.gz"
cat "$OUT/initramfs.gz" "$OUT/tests.cpio.gz" > "$OUT/initramfs-test.gz"
rm -rf "$work"
