#!/bin/sh
# Build the compute brick's kernel modules (guest/kernel/*/) for
# the Debian arm64 kernel the guest boots, out of tree, with
# gcc-aarch64-linux-gnu and Debian's own headers and kbuild tools:
#
#   guest/kernel/build.sh KERNEL_VERSION OUT_DIR
#
# KERNEL_VERSION is e.g. 6.1.0-56-arm64; the .ko files land in OUT_DIR.
# The .debs are cached like the guest image's (scripts/fetch-deb.sh), the
# unpacked headers and the kernel's checkpatch.pl in build/guest-kernel.
# docs/guest-kernel.md.
set -eu
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
KVER=$1
OUT=$2
WORK=$SRCDIR/build/guest-kernel
ABI=${KVER%-arm64}                      # 6.1.0-56
SERIES=$(echo "$ABI" | cut -d. -f1-2)   # 6.1

mkdir -p "$OUT"
headers=$WORK/root/usr/src/linux-headers-$KVER
if [ ! -f "$headers/.dredbox-ready" ]; then
    rm -rf "$WORK"
    mkdir -p "$WORK/root"
    # Bookworm names its kbuild package by series (linux-kbuild-6.1),
    # bookworm-backports by ABI (linux-kbuild-6.12.95+deb12).
    kbuild=linux-kbuild-$ABI
    apt-cache policy "$kbuild" | grep -q 'Candidate: [0-9]' ||
        kbuild=linux-kbuild-$SERIES
    for p in "linux-headers-$KVER:arm64" "linux-headers-$ABI-common" \
             "$kbuild"; do
        dpkg-deb -x "$("$SRCDIR/scripts/fetch-deb.sh" "$p")" "$WORK/root"
    done
    # The headers name their common half by its installed path.
    sed -i "s|/usr/src/|$WORK/root/usr/src/|" "$headers/Makefile"
    touch "$headers/.dredbox-ready"
fi
# The kernel's own checkpatch.pl, which tests/docs/check-refs.sh runs
# --strict on these modules: Debian ships it only in linux-source's
# tarball (130 MB, cached with the other .debs; unpacked here once).
checkpatch=$WORK/checkpatch
if [ ! -f "$checkpatch/checkpatch.pl" ]; then
    rm -rf "$checkpatch.tmp"
    mkdir -p "$checkpatch.tmp"
    dpkg-deb --fsys-tarfile "$("$SRCDIR/scripts/fetch-deb.sh" "linux-source-$SERIES")" |
        tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
        tar -xJ -C "$checkpatch.tmp" --strip-components=2 --wildcards \
            '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
            '*/scripts/const_structs.checkpatch'
    mv "$checkpatch.tmp" "$checkpatch"
fi
for m in "$SRCDIR"/guest/kernel/*/Kbuild; do
    dir=$WORK/modules/$(basename "$(dirname "$m")")
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$(dirname "$m")"/* "$dir/"
    # No BTF for our modules: 6.12's headers would run pahole for it, and
    # nothing here reads it.
    make -s -C "$headers" M="$dir" ARCH=arm64 \
        CROSS_COMPILE=aarch64-linux-gnu- DREDBOX_INCLUDE="$SRCDIR/include" \
        CONFIG_DEBUG_INFO_BTF_MODULES= modules
    cp "$dir"/*.ko "$OUT/"
done
