#!/bin/sh
# Build the Debian arm64 userland for compute bricks ("make image";
# docs/your-software.md):
#   build/image/debian.qcow2   a disk image with Debian's apt, systemd,
#                              numactl, the QEMU guest agent and
#                              IMAGE_PACKAGES, the kernel modules of the
#                              bricks' kernel, our SDM agent, tools and
#                              RMC module; a brick boots it with
#                              disk=... append="root=/dev/vda"
#                              (racks/debian.rack)
# In two steps, each run on a compute brick of ours (no arm64 code runs
# on the host):
#   base    debootstrap's first stage on the host (packages from the
#           Debian archive apt uses, cached), the image made with mke2fs,
#           then a brick boots it with init=/dredbox-first-boot for the
#           second stage.  Slow (15 to 20 minutes): cached in
#           $DREDBOX_CACHE/images by suite, packages and kernel.
#   ours    a copy-on-write layer on the base: a brick boots it with our
#           software in its shared folder and init=/share/install.
#           Seconds; redone when our software changes.
#
#   IMAGE_PACKAGES="perf gdb"  more Debian packages in the base
#   IMAGE_SUITE=bookworm       the Debian release
#   IMAGE_SIZE=4G              the root filesystem's size (sparse)
set -eu
PATH=$PATH:/usr/sbin:/sbin
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
GUEST=$SRCDIR/build/guest
OUT=$SRCDIR/build/image
QEMU=$SRCDIR/build/qemu/qemu-system-aarch64
QEMU_IMG=$SRCDIR/build/qemu/qemu-img
CACHE=${DREDBOX_CACHE:-$HOME/.cache/dredbox}
SUITE=${IMAGE_SUITE:-bookworm}
SIZE=${IMAGE_SIZE:-4G}
# What a brick's userland has beyond Debian's minimal base (apt, dpkg):
# systemd, the tools to look at NUMA memory and processes, the agent.
PACKAGES="systemd-sysv udev kmod iproute2 procps numactl qemu-guest-agent
ca-certificates ${IMAGE_PACKAGES:-}"
PACKAGES=$(echo $PACKAGES | tr ' ' '\n' | sort -u | tr '\n' ' ')
MIRROR=${IMAGE_MIRROR:-http://deb.debian.org/debian}
# Generous: the second stage takes 15 to 20 minutes under TCG.
FIRST_BOOT_TIMEOUT=${FIRST_BOOT_TIMEOUT:-3600}

"$SRCDIR/scripts/host-deps.sh" --check
for f in "$GUEST/Image" "$GUEST/initramfs.gz" "$QEMU" "$QEMU_IMG"; do
    [ -e "$f" ] || { echo "image: no $f: make all guest first" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] ||
    { echo "image: debootstrap needs root (sudo make image)" >&2; exit 1; }
kver=$(cat "$GUEST/kernel-version")
kdeb=$("$SRCDIR/scripts/fetch-deb.sh" "linux-image-$kver:arm64")
mkdir -p "$OUT" "$CACHE/images" "$CACHE/debootstrap"
work=$OUT/work
rm -rf "$work"
mkdir -p "$work"

# boot LOG DISK ARGS...: a brick on DISK (writes not flushed: a failed
# build is thrown away), its console in LOG
boot() {
    log=$1 disk=$2
    shift 2
    timeout -k 10 "$FIRST_BOOT_TIMEOUT" "$QEMU" -machine dredbox-compute \
        -smp 4 -m 2G -nographic -nodefaults -no-reboot \
        -serial "file:$log" -kernel "$GUEST/Image" \
        -initrd "$GUEST/initramfs.gz" \
        -drive "if=none,id=disk,file=$disk,cache=unsafe" \
        -device virtio-blk-pci,drive=disk "$@" > /dev/null 2>&1 || true
}

# The base: Debian, cached
# Its key: what goes into it; BASE_RECIPE counts changes to the steps
# below that change what they make.
BASE_RECIPE=1
key=$(printf '%s\n' "$BASE_RECIPE" "$SUITE" "$PACKAGES" "$(basename "$kdeb")" \
          "$SIZE" | cat - "$SRCDIR/guest/debian/first-boot" | sha256sum |
      cut -c1-16)
base=$CACHE/images/debian-$SUITE-$key.qcow2
if [ ! -f "$base" ]; then
    echo "image: Debian $SUITE with $PACKAGES (first stage, on the host)"
    root=$work/root
    # shellcheck disable=SC2086
    debootstrap --foreign --arch=arm64 --variant=minbase \
        --include="$(echo $PACKAGES | tr ' ' ,)" \
        --cache-dir="$CACHE/debootstrap" "$SUITE" "$root" "$MIRROR" \
        > "$work/debootstrap.log" 2>&1 ||
        { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
    # The bricks' kernel's modules: the image's kernel is theirs
    dpkg-deb --fsys-tarfile "$kdeb" |
        tar -x -C "$root" --wildcards './lib/modules/*'
    install -m 0755 "$SRCDIR/guest/debian/first-boot" "$root/dredbox-first-boot"
    mke2fs -q -t ext4 -L debian -d "$root" "$work/base.raw" "$SIZE" > /dev/null
    rm -rf "$root"
    echo "image: second stage, on a compute brick (15 to 20 minutes)"
    boot "$work/first-boot.log" "$work/base.raw" \
        -append "console=ttyAMA0 loglevel=4 panic=-1 root=/dev/vda init=/dredbox-first-boot"
    grep -q "^DREDBOX-FIRST-BOOT rc=0" "$work/first-boot.log" ||
        { echo "image: the second stage failed: $work/first-boot.log" >&2
          tail -n 20 "$work/first-boot.log" >&2; exit 1; }
    "$QEMU_IMG" convert -c -O qcow2 "$work/base.raw" "$base.tmp"
    mv "$base.tmp" "$base"
    rm -f "$work/base.raw"
fi

# Ours, on the base: redone when our software or the base changes
software=$SRCDIR/build/guest-software
PROGRAMS=$(grep -v '^#' "$SRCDIR/guest/programs")
payload=$work/share/payload
mkdir -p "$payload/bin" "$payload/modules" "$payload/modprobe.d" \
    "$payload/units"
for p in $PROGRAMS; do
    install -m 0755 "$software/$p" "$payload/bin/"
done
"$SRCDIR/guest/kernel/build.sh" "$kver" "$payload/modules" > /dev/null
cp "$SRCDIR"/guest/kernel/*/*.conf "$payload/modprobe.d/"
cp "$SRCDIR"/guest/debian/*.service "$SRCDIR"/guest/debian/*.rules \
    "$payload/units/"
echo "$kver" > "$payload/kernel-version"
echo "$PACKAGES" > "$payload/packages"
install -m 0755 "$SRCDIR/guest/debian/install" "$work/share/install"
stamp="$(basename "$base") $( (cd "$work/share" && find . -type f | sort |
                               xargs cat) | sha256sum | cut -c1-16)"
if [ -f "$OUT/debian.qcow2" ] && [ "$(cat "$OUT/stamp" 2> /dev/null)" = "$stamp" ]; then
    rm -rf "$work"
    exit 0
fi
echo "image: our software, on a compute brick"
"$QEMU_IMG" create -q -f qcow2 -F qcow2 -b "$base" "$work/debian.qcow2"
boot "$work/install.log" "$work/debian.qcow2" \
    -fsdev "local,id=share,security_model=none,path=$work/share" \
    -device virtio-9p-pci,fsdev=share,mount_tag=dredbox.share \
    -append "console=ttyAMA0 loglevel=4 panic=-1 root=/dev/vda init=/share/install"
grep -q "^DREDBOX-INSTALL rc=0" "$work/install.log" ||
    { echo "image: installing our software failed: $work/install.log" >&2
      tail -n 20 "$work/install.log" >&2; exit 1; }
mv "$work/debian.qcow2" "$OUT/debian.qcow2"
echo "$stamp" > "$OUT/stamp"
rm -rf "$work"
echo "image: $OUT/debian.qcow2 ready (on $base)"
