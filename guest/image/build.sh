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
ext4"
# Modules init loads only for a device that needs them: a shared folder.
DEMAND_MODULES="9pnet_virtio 9p"

"$SRCDIR/scripts/host-deps.sh" --check
mkdir -p "$OUT"

# Our software, cross-built (ninja rebuilds what changed)
[ -f "$SOFTWARE/build.ninja" ] ||
    meson setup --cross-file "$SRCDIR/guest/aarch64-linux-gnu.ini" \
        "$SOFTWARE" "$SRCDIR/guest" > /dev/null
ninja -C "$SOFTWARE" > /dev/null
PROGRAMS=$(grep -v '^#' "$SRCDIR/guest/programs")

# The kernel the "linux-image-arm64" metapackage points at, unless pinned.
KPKG=${DREDBOX_KERNEL_PKG:-$(apt-cache depends linux-image-arm64:arm64 |
                            sed -n 's/.*Depends: \(linux-image-[^:]*\).*/\1/p' |
                            head -n1)}
[ -n "$KPKG" ] || { echo "guest image: no arm64 kernel package found" >&2; exit 1; }

kdeb=$("$SRCDIR/scripts/fetch-deb.sh" "$KPKG:arm64")
bdeb=$("$SRCDIR/scripts/fetch-deb.sh" busybox-static:arm64)
# The QEMU guest agent, Debian's, with every library it needs: the host
# runs commands and copies files through it (dredbox-rack exec and cp).
qga_debs=$(apt-cache depends --recurse --no-recommends --no-suggests \
               --no-conflicts --no-breaks --no-replaces --no-enhances \
               --no-pre-depends \
               qemu-guest-agent:arm64 | grep "^[^ ].*:arm64$" | sort -u |
           while read -r p; do "$SRCDIR/scripts/fetch-deb.sh" "$p"; done)
[ -n "$qga_debs" ] || { echo "guest image: no qemu-guest-agent:arm64" >&2; exit 1; }

stamp="$(basename "$kdeb") $(basename "$bdeb") $(echo "$qga_debs" |
        xargs -n1 basename | sha256sum | cut -c1-16) $(cd "$SRCDIR" &&
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
for m in $MODULES $DEMAND_MODULES; do
    pat=$(echo "$m" | sed 's/[-_]/[-_]/g')
    if grep -qE "(^|/)$pat\.ko$" "$kmods/modules.builtin"; then
        continue    # e.g. virtio_pci in 6.12
    fi
    case " $DEMAND_MODULES " in
    *" $m "*) ;;
    *) boot_modules="$boot_modules $m" ;;
    esac
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

# qemu-ga and the shared libraries it loads, no more (the loader finds
# them in Debian's multiarch folder)
mkdir -p "$work/qga" "$root/usr/sbin" "$root/lib/aarch64-linux-gnu"
for d in $qga_debs; do
    dpkg-deb -x "$d" "$work/qga"
done
cp "$work/qga/usr/sbin/qemu-ga" "$root/usr/sbin/"
cp -L "$work/qga/lib/ld-linux-aarch64.so.1" "$root/lib/"
todo=$work/qga/usr/sbin/qemu-ga
while [ -n "$todo" ]; do
    set -- $todo
    elf=$1
    shift
    todo=$*
    for lib in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [ ! -e "$root/lib/aarch64-linux-gnu/$lib" ] || continue
        path=$(find "$work/qga/lib/aarch64-linux-gnu" \
                    "$work/qga/usr/lib/aarch64-linux-gnu" -maxdepth 1 \
                    -name "$lib" | head -n1)
        [ -n "$path" ] ||
            { echo "guest image: qemu-ga needs $lib: not found" >&2; exit 1; }
        cp -L "$path" "$root/lib/aarch64-linux-gnu/$lib"
        todo="$todo $path"
    done
done
install -m 0755 "$SRCDIR/guest/image/init" "$root/init"
for p in $PROGRAMS; do
    install -m 0755 "$SOFTWARE/$p" "$root/dredbox/bin/$p"
done

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT/initramfs.gz"
rm -rf "$work"
echo "$stamp" > "$OUT/stamp"
echo "guest image: $OUT/Image ($kver) and $OUT/initramfs.gz ready"
