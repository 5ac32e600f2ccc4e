#!/bin/sh
# Fetch the Debian arm64 kernel of a suite for a compute brick's kernel=
# (docs/your-software.md) and print the path of its vmlinuz, unpacked
# from the package once into $DREDBOX_CACHE/kernels/PACKAGE_VERSION/:
#
#   scripts/debian-kernel.sh [SUITE]    default bookworm-backports (6.12)
#
# Only the kernel: its modules are not in the brick's initramfs, which was
# built for the kernel `make guest` fetched (docs/your-software.md says
# what loads and what does not).
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DREDBOX_CACHE:-$HOME/.cache/dredbox}/kernels
suite=${1:-bookworm-backports}
pkg=$(apt-cache depends "linux-image-arm64:arm64/$suite" 2> /dev/null |
      sed -n 's/.*Depends: \(linux-image-[^:]*\).*/\1/p' | head -n1)
[ -n "$pkg" ] || { echo "debian-kernel: no arm64 kernel in $suite" >&2; exit 1; }
deb=$("$SRCDIR/scripts/fetch-deb.sh" "$pkg:arm64")
out=$CACHE/$(basename "$deb" .deb)
if [ ! -f "$out/vmlinuz" ]; then
    mkdir -p "$out"
    dpkg-deb --fsys-tarfile "$deb" |
        tar -xO --wildcards './boot/vmlinuz-*' > "$out/vmlinuz.tmp"
    mv "$out/vmlinuz.tmp" "$out/vmlinuz"
fi
echo "$out/vmlinuz"
