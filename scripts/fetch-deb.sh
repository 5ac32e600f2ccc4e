#!/bin/sh
# Print the path of a Debian package's .deb, its candidate version
# downloaded with apt once and cached in $DREDBOX_CACHE/debs (nothing is
# installed; arm64 packages need `make deps`, which adds the architecture):
#
#   scripts/fetch-deb.sh PKG[:ARCH]
set -eu
CACHE=${DREDBOX_CACHE:-$HOME/.cache/dredbox}/debs
name=${1%:*}
ver=$(apt-cache policy "$1" | sed -n 's/ *Candidate: //p' | sed 's/^[0-9]*://')
case $ver in
'' | '(none)') echo "fetch-deb: apt knows no package $1" >&2; exit 1 ;;
esac
mkdir -p "$CACHE"
deb=$(ls "$CACHE/${name}_"*"${ver}_"*.deb 2> /dev/null | head -n1 || true)
if [ -z "$deb" ]; then
    (cd "$CACHE" && apt-get download -q "$1" >&2)
    deb=$(ls "$CACHE/${name}_"*"${ver}_"*.deb | head -n1)
fi
echo "$deb"
