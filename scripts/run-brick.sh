#!/bin/sh
# Boot one dReDBox compute brick on Debian's arm64 kernel with the test
# initramfs, console on this terminal, QMP on build/run/brick<ID>.qmp.
# Its memory: 1 GiB of local DRAM, a CPU-less 512 MiB node from memory
# brick 1 of a pool started here (rack-local distance), and a virtio-mem
# device that can grow the brick by up to 1 GiB from the pool at run time.
#
#   BRICK_ID=2 scripts/run-brick.sh [extra QEMU args]
#
# The brick's software, as a rack file's compute line gives it
# (docs/rack.md, "Software"), from the environment (make run-brick
# KERNEL=...):
#   KERNEL=PATH INITRD=PATH   instead of the built kernel and initramfs
#   APPEND=TEXT               added to the kernel command line
#   DISK=IMAGE                /dev/vda; its changes are dropped at exit
#                             (snapshot=on: a rack keeps them)
#   SHARE=DIR                 /share in the brick (virtio-9p)
#   UPLINK=on                 a NIC on QEMU's user-mode network
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
QEMU=$SRCDIR/build/qemu/qemu-system-aarch64
TOOLS=$SRCDIR/build/tools/memory-brick
GUEST=$SRCDIR/build/guest
ID=${BRICK_ID:-0}
RUN=$SRCDIR/build/run
POOL=$RUN/pool
mkdir -p "$RUN"

if [ ! -S "$POOL/memd.sock" ]; then
    rm -rf "$POOL"
    "$TOOLS/dredbox-memd" --dir "$POOL" --brick 0:2G --brick 1:2G \
        > "$RUN/memd.log" 2>&1 &
    memd=$!
    trap 'kill $memd 2>/dev/null' EXIT INT TERM
    while [ ! -f "$POOL/pool.json" ]; do
        kill -0 $memd || { cat "$RUN/memd.log"; exit 1; }
        sleep 0.1
    done
fi

cat <<EOM
dReDBox compute brick $ID: console below, QMP at $RUN/brick$ID.qmp
Memory pool: $POOL/pool.json ($TOOLS/dredbox-pool -p $POOL/pool.json query)
Grow the brick by 512 MiB of pool memory:
  printf '%s\\n' '{"execute":"qmp_capabilities"}' '{"execute":"qom-set","arguments":{"path":"vmem0","property":"requested-size","value":536870912}}' | socat - UNIX:$RUN/brick$ID.qmp
(Ctrl-A X quits QEMU; 'poweroff -f' in the guest stops the brick)
EOM
# shellcheck source=launcher/brick-devices.sh
. "$SRCDIR/launcher/brick-devices.sh"
devices=$(
    if [ -n "${DISK:-}" ]; then
        format=$("$SRCDIR/build/tools/launcher/dredbox-rack-check" \
                 --disk-format "$DISK") || exit 1
        disk_options "$DISK" "$format" snapshot=on
    fi
    [ -z "${SHARE:-}" ] || share_options "$SHARE"
    [ "${UPLINK:-off}" != on ] || uplink_options "$ID"
) || exit 1
while IFS= read -r arg; do
    [ -z "$arg" ] || set -- "$@" "$arg"
done << EOF
$devices
EOF
"$QEMU" -machine "dredbox-compute,brick-id=$ID" \
    -m 1536M,maxmem=3G \
    -object memory-backend-ram,id=local,size=1G \
    -object "memory-backend-remote,id=remote,size=512M,pool=$POOL/pool.json,brick=1,client=brick$ID" \
    -numa node,nodeid=0,cpus=0-3,memdev=local \
    -numa node,nodeid=1,memdev=remote \
    -object "memory-backend-remote,id=vm0,size=1G,pool=$POOL/pool.json,on-demand=on,client=brick$ID" \
    -device virtio-mem-pci,id=vmem0,memdev=vm0,requested-size=0,block-size=128M \
    -nographic -nodefaults -serial mon:stdio -no-reboot \
    -qmp "unix:$RUN/brick$ID.qmp,server=on,wait=off" \
    -kernel "${KERNEL:-$GUEST/Image}" -initrd "${INITRD:-$GUEST/initramfs.gz}" \
    -append "console=ttyAMA0 loglevel=4 memhp_default_state=online_movable${APPEND:+ $APPEND}" "$@"
