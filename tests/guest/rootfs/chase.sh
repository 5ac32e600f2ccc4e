# Pointer-chase latencies and streaming copies in the guest's own clock
# (docs/timing.md): a chase in a buffer that fits the L1 data cache,
# 64 MiB of local DRAM, and 64 MiB on the remote node 1 if the brick has
# one; then memcpy over 16 MiB on each node (membw: BW_NODE<n>_COPY).
# Then waits for the host to read the counters (DREDBOX-STEP measured)
# before powering off.
set -e -o pipefail    # errors are fatal (docs/testing.md)
chase L1 -1 8 1600000
chase LOCAL 0 65536 1000000
nodes=0
if [ -d /sys/devices/system/node/node1 ]; then
    chase REMOTE 1 65536 200000
    nodes="0 1"
fi
membw 16 3 $nodes
echo "DREDBOX-STEP measured"
