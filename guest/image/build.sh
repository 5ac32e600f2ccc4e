#!/bin/sh
# Build what a compute brick boots ("make guest"; make run, the rack and
# the tests boot it):
#   build/guest/Image         Debian's stock arm64 kernel (unmodified)
#   build/guest/initramfs.gz  busybox-static, modules from the same kernel
#                             package, our kernel modules (guest/kernel/,
#                             Kbuild) and our software (guest/meson.build,
#                             cross-built in build/guest-software): the SDM
#                             agent, the accelerator library's tool and the
#                             brick's small tools; /init (guest/image/init)
# The .debs are downloaded with apt (make deps added the arm64
# architecture; nothing is installed on the host) and cached in
# $DREDBOX_CACHE/debs (scripts/fetch-deb.sh).  The tests add their scripts on top
# (tests/guest/prepare.sh).
set -eu
PATH=$PATH:/usr/sbin:/sbin

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$SRCDIR/build/guest
SOFTWARE=$SRCDIR/build/guest-software
# Modules the brick uses, loaded at boot in this order:
# dredbox-memory-nodes before virtio_mem (docs/guest-kernel.md).
MODULES="virtio_mmio virtio_pci virtio_blk virtio_net virtio_console
virtio_rng dredbox-memory-nodes virtio_mem of_pmem nd_pmem crc32c_generic
ext4 9pnet_virtio 9p"

"$SRCDIR/scripts/host-deps.sh" --check
mkdir -p "$OUT"

# Our software, cross-built (ninja rebuilds what changed)
[ -f "$SOFTWARE/build.ninja" ] ||
    meson setup --cross-file "$SRCDIR/guest/aarch64-linux-gnu.ini" \
        "$SOFTWARE" "$SRCDIR/guest" > /dev/null
ninja -C "$SOFTWARE" > /dev/null
PROGRAMS="dredbox-agent dredbox-accel brick-id chase hashtable kvm-run
mem-pattern membw numa-facts numa-touch rmc-bench rmc-count rmc-tool"

# The kernel the "linux-image-arm64" metapackage points at, unless pinned.
KPKG=${DREDBOX_KERNEL_PKG:-$(apt-cache depends linux-image-arm64:arm64 |
                            sed -n 's/.*Depends: \(linux-image-[^:]*\).*/\1/p' |
                            head -n1)}
[ -n "$KPKG" ] || { echo "guest image: no arm64 kernel package found" >&2; exit 1; }

kdeb=$("$SRCDIR/scripts/fetch-deb.sh" "$KPKG:arm64")
bdeb=$("$SRCDIR/scripts/fetch-deb.sh" busybox-static:arm64)

stamp="$(basename "$kdeb") $(basename "$bdeb") $(cd "$SRCDIR" &&
        # shellcheck disable=SC2046,SC2086
        cat guest/image/* guest/kernel/build.sh guest/kernel/*/* \
            include/dredbox/*.h $(printf "$SOFTWARE/%s " $PROGRAMS) |
        sha256sum | cut -c1-16)"
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ]; then
    exit 0
fi
echo "guest image: building guest image from $(basename "$kdeb")"

work=$OUT/work
rm -rf "$work"
mkdir -p "$work/kernel" "$work/busybox" "$work/root"
dpkg-deb -x "$kdeb" "$work/kernel"
dpkg-deb -x "$bdeb" "$work/busybox"
kver=$(ls "$work/kernel/lib/modules")
cp "$work/kernel/boot/vmlinuz-$kver" "$OUT/Image"
echo "$kver" > "$OUT/kernel-version"

root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" \
         "$root/dev" "$root/tmp" "$root/mnt" "$root/dredbox/bin" \
         "$root/lib/modules/$kver"
cp "$work/busybox/bin/busybox" "$root/bin/busybox"

# Modules and everything they depend on, with a modules.dep for modprobe.
depmod -b "$work/kernel" "$kver"
kmods=$work/kernel/lib/modules/$kver
boot_modules=""    # /etc/modules: what this kernel does not have built in
for m in $MODULES; do
    pat=$(echo "$m" | sed 's/[-_]/[-_]/g')
    if grep -qE "(^|/)$pat\.ko$" "$kmods/modules.builtin"; then
        continue    # e.g. virtio_pci in 6.12
    fi
    boot_modules="$boot_modules $m"
    [ ! -d "$SRCDIR/guest/kernel/$m" ] || continue   # ours: below
    line=$(grep -E "(^|/)$pat\.ko(\.xz)?:" "$kmods/modules.dep") ||
        { echo "guest image: module $m not in $KPKG" >&2; exit 1; }
    for f in $(echo "$line" | tr -d ':'); do
        mkdir -p "$root/lib/modules/$kver/$(dirname "$f")"
        cp "$kmods/$f" "$root/lib/modules/$kver/$f"
    done
done
# Ours (guest/kernel/), with the load order a full system needs.
"$SRCDIR/guest/kernel/build.sh" "$kver" "$root/lib/modules/$kver/extra"
mkdir -p "$root/etc/modprobe.d"
cp "$SRCDIR"/guest/kernel/*/*.conf "$root/etc/modprobe.d/"
cp "$kmods"/modules.builtin* "$kmods"/modules.order "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"
echo "$boot_modules" | tr ' ' '\n' | sed '/^$/d' > "$root/etc/modules"

install -m 0755 "$SRCDIR/guest/image/init" "$root/init"
for p in $PROGRAMS; do
    install -m 0755 "$SOFTWARE/$p" "$root/dredbox/bin/$p"
done

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT/initramfs.gz"
rm -rf "$work"
echo "$stamp" > "$OUT/stamp"
echo "guest image: $OUT/Image ($kver) and $OUT/initramfs.gz ready"
