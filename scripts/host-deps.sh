#!/bin/sh
# Install the host packages the build, the tools and the tests need, and
# let apt fetch arm64 packages (the guests' kernels).  Idempotent: does
# nothing when everything is already present.  `make deps` runs it, and
# so does the first `make`, `make run` or `make check`.
#
#   scripts/host-deps.sh           install what is missing (as root)
#   scripts/host-deps.sh --check   only say what is missing (exit 1)
set -eu
check=0
[ "${1:-}" != --check ] || check=1

SRC_LIST=/etc/apt/sources.list.d/dredbox.sources

# Debian packages needed on the (bookworm) host.  meson comes from
# bookworm-backports because QEMU 10 needs meson >= 1.5.  The last line is
# what the tests, benchmarks and the rack launcher run on the host: jq,
# pgrep (procps), socat, timeout and the rest of coreutils, cmp
# (diffutils), gnuplot (dredbox-trace plot), Graphviz (dredbox-rack view),
# dt-schema (the RMC's device-tree binding checked, tests/docs).
# libslirp-dev: the user-mode network of a compute brick's uplink;
# debootstrap: the bricks' Debian image (make image).
PKGS="build-essential git ninja-build pkg-config python3 python3-venv
python3-pycotap python3-tomli libglib2.0-dev libpixman-1-dev libfdt-dev
libcapstone-dev libslirp-dev libcmocka-dev libjson-glib-dev libsqlite3-dev sqlite3 ccache
flex bison dpkg-dev devscripts gcc-aarch64-linux-gnu libc6-dev-arm64-cross
cpio xz-utils zstd gzip kmod ipxe-qemu debootstrap
jq procps socat coreutils diffutils gnuplot-nox graphviz dt-schema"

need=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        need="$need $p"
done
meson_ok=0
if command -v meson >/dev/null 2>&1; then
    v=$(meson --version)
    if dpkg --compare-versions "$v" ge 1.5; then meson_ok=1; fi
fi
src_ok=0
[ -f "$SRC_LIST" ] && src_ok=1
arm64_ok=0
dpkg --print-foreign-architectures | grep -qx arm64 && arm64_ok=1

if [ -z "$need" ] && [ $meson_ok = 1 ] && [ $src_ok = 1 ] &&
   [ $arm64_ok = 1 ]; then
    exit 0
fi

if [ $check = 1 ] || [ "$(id -u)" != 0 ]; then
    [ -z "$need" ] || echo "host-deps: missing packages:$need" >&2
    [ $meson_ok = 1 ] || echo "host-deps: meson >= 1.5 (bookworm-backports) missing" >&2
    [ $src_ok = 1 ] || echo "host-deps: $SRC_LIST (backports, trixie sources) missing" >&2
    [ $arm64_ok = 1 ] || echo "host-deps: dpkg does not know the arm64 architecture" >&2
    echo "host-deps: run 'make deps' (as root) once, then retry" >&2
    exit 1
fi

[ $arm64_ok = 1 ] || dpkg --add-architecture arm64

if [ $src_ok = 0 ]; then
    # backports for meson; trixie deb-src for the pristine QEMU 10.0 source.
    cat > "$SRC_LIST" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PKGS
apt-get install -y -q --no-install-recommends -t bookworm-backports meson
