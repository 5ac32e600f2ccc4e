#!/bin/sh
# Boot one dReDBox compute brick on Debian's arm64 kernel with the test
# initramfs, console on this terminal, QMP on build/run/brick<ID>.qmp.
# The brick gets 1 GiB of local DRAM and a CPU-less 512 MiB node at the
# rack-local distance so the NUMA layout of a brick with remote memory is
# visible ("numa-facts" in the guest prints it).
#
#   BRICK_ID=2 scripts/run-brick.sh [extra QEMU args]
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
QEMU=$SRCDIR/build/qemu/qemu-system-aarch64
GUEST=$SRCDIR/build/guest
ID=${BRICK_ID:-0}
RUN=$SRCDIR/build/run
mkdir -p "$RUN"

echo "dReDBox compute brick $ID: console below, QMP at $RUN/brick$ID.qmp"
echo "(Ctrl-A X quits QEMU; 'poweroff -f' in the guest stops the brick)"
exec "$QEMU" -machine "dredbox-compute,brick-id=$ID" \
    -m 1536M \
    -object memory-backend-ram,id=local,size=1G \
    -object memory-backend-ram,id=remote,size=512M \
    -numa node,nodeid=0,cpus=0-3,memdev=local \
    -numa node,nodeid=1,memdev=remote \
    -numa dist,src=0,dst=1,val=20 \
    -nographic -nodefaults -serial mon:stdio -no-reboot \
    -qmp "unix:$RUN/brick$ID.qmp,server=on,wait=off" \
    -kernel "$GUEST/Image" -initrd "$GUEST/initramfs.gz" \
    -append "console=ttyAMA0 loglevel=4" "$@"
