#!/bin/sh
# Memory from memory bricks, as Debian's stock kernel sees it:
#  - a CPU-less NUMA node backed by a memory-brick segment has the
#    segment's size and its latency class's distance; memory bound to it
#    is written and read back intact, and the host finds what the guest
#    wrote in the segment;
#  - a virtio-mem device on the pool grows the running guest when the host
#    raises requested-size (no further than the pool can give) and
#    shrinks it again, the pool's accounting following every step; its
#    memory goes into the CPU-less node the device names, at that node's
#    distance (dredbox-memory-nodes, docs/guest-kernel.md), and leaves it
#    empty again;
#  - the memory-access plugin, reading the machine's published memory map,
#    puts every access to the remote node and to the device on the memory
#    brick behind it (docs/tracing.md), none on local DRAM.
. "$(dirname "$0")/lib.sh"
plan 28

PLUGIN=$TOOLS_BUILD/plugins/libdredbox-mem.so
MAP=$LOGDIR/remote-memory.map
counts=$LOGDIR/remote-memory.counts
# count RANGE: the plugin in count mode on RANGE, with the memory map
count() {
    rm -f "$counts"
    echo "-machine memory-map=$MAP -plugin $PLUGIN,mode=count,map=$MAP,range=$1,out=$counts"
}
line() {    # line PREFIX: the plugin's counts for PREFIX
    grep "^$1 loads=" "$counts" 2> /dev/null | sed "s/^$1 //"
}

pool_start 0:512M 1:1G
# The rack leases a segment of brick 1 and lets brick-a use it.
seg=$(pool_tool -c rack alloc 512M --brick 1)
pool_tool -c rack grant "$seg" brick-a --writable
# shellcheck disable=SC2046
boot_bg remote-node remote-node -m 1536M $(count 0x140000000-0x160000000) \
    -object memory-backend-ram,id=local,size=1G \
    -object "memory-backend-remote,id=far,size=512M,pool=$POOL/pool.json,segment=$seg,client=brick-a,latency-class=inter-rack" \
    -numa node,nodeid=0,cpus=0-3,memdev=local \
    -numa node,nodeid=1,memdev=far
if wait_step touched; then
    tag=$(sed -n 's/^TOUCH_TAG=//p' "$log" | tr -d '\r')
    # Every page the guest wrote is in the memory brick, seen from the host.
    found=$(pool_tool -c rack read "$seg" |
            grep -a -o "dredbox-touch $tag [0-9]*" | sort -u | wc -l)
    check_value "host finds the guest's 16384 pages in the segment" \
        "$found" 16384
    qmp '{"execute": "quit"}' > /dev/null
fi
boot_wait
check "remote node has the segment's 512 MiB" NODE1_BYTES 536870912
check "remote node is CPU-less" NODE1_CPUS ""
check "inter-rack latency class is distance 50" NODE0_DISTANCE "10 50"
check "64 MiB bound to the remote node lands there" TOUCH_ON_NODE 16384
check "and reads back what was written" TOUCH_VERIFIED 16384
check_value "the plugin puts the node's accesses on memory brick 1" \
    "$(line kind=remote-node | grep -vc 'loads=0 stores=0')/$(line kind=remote-node)" \
    "1/$(line brick=1)"
check_value "none on local DRAM" "$(line kind=local)" \
    "loads=0 stores=0 bytes=0"
check_value "the rack's lease outlives the brick" "$(pool_used 1)" 536870912
pool_tool -c rack free "$seg"
check_value "and is freed by its owner" "$(pool_used 1)" 0

# Brick 0 has 512 MiB: asking for 768 MiB gets what the pool has.
APPEND=memhp_default_state=online_movable
boot_bg virtio-mem virtio-mem-resize -m 512M,maxmem=2G \
    -object memory-backend-ram,id=dram,size=512M \
    -numa node,nodeid=0,cpus=0-3,memdev=dram -numa node,nodeid=1 \
    -numa dist,src=0,dst=1,val=30 \
    -object "memory-backend-remote,id=vm0,size=1G,pool=$POOL/memd.sock,on-demand=on,brick=0,latency-class=rack-local" \
    -device virtio-mem-pci,id=vmem0,memdev=vm0,node=1,requested-size=0,block-size=128M
vmem_size() {
    qmp '{"execute": "qom-get", "arguments": {"path": "vmem0", "property": "size"}}' |
        jq .return
}
if wait_step grow; then
    check_value "no pool memory before the guest plugs any" "$(pool_used 0)" 0
    qmp '{"execute": "qom-set", "arguments": {"path": "vmem0", "property": "requested-size", "value": 805306368}}' > /dev/null
fi
if wait_step shrink; then
    check_value "device plugged what the pool had" "$(vmem_size)" 536870912
    check_value "pool brick 0 is full" "$(pool_used 0)" 536870912
    qmp '{"execute": "qom-set", "arguments": {"path": "vmem0", "property": "requested-size", "value": 0}}' > /dev/null
fi
boot_wait
check_guest_ok "guest followed the resizes"
check "virtio_mem driver bound" VIRTIO_MEM_DRIVER 1
check "MemTotal grew by 512 MiB" GROWN_KB 524288
check "the new memory holds 600 MiB of data" FILLED_MIB 600
check "the memory is in node 1, nowhere else" GROWN_NODE1_BYTES 536870912
check "node 0 keeps its own 512 MiB" GROWN_NODE0_BYTES 536870912
check "node 1 is CPU-less" GROWN_NODE1_CPUS ""
check "at the rack-local distance from node 0" GROWN_NODE0_DISTANCE "10 30"
check "dredbox-memory-nodes placed the device" MEMORY_NODES_LOG \
    "0x4000000000-0x403fffffff: node 1"
check "MemTotal shrank back" SHRUNK_KB 0
check "node 1 is empty again" SHRUNK_NODE1_BLOCKS 0
check_value "unplugged memory returned to the pool" "$(pool_used 0)" 0

# The plugin on a short boot of its own (it slows every access down):
# 256 MiB plugged at boot into node 1, 16 MiB of it touched.
# shellcheck disable=SC2046
boot vmem-count vmem-touch -m 512M,maxmem=1G \
    $(count 0x4000000000-0x4010000000) \
    -object memory-backend-ram,id=dram,size=512M \
    -numa node,nodeid=0,cpus=0-3,memdev=dram -numa node,nodeid=1 \
    -numa dist,src=0,dst=1,val=30 \
    -object "memory-backend-remote,id=vm0,size=256M,pool=$POOL/memd.sock,on-demand=on,brick=0" \
    -device virtio-mem-pci,id=vmem0,memdev=vm0,node=1,requested-size=256M,block-size=128M
check "16 MiB bound to the device's node land there" TOUCH_ON_NODE 4096
check_value "the plugin puts the device's accesses on memory brick 0" \
    "$(line kind=virtio-mem | grep -vc 'loads=0 stores=0')/$(line kind=virtio-mem)" \
    "1/$(line brick=0)"
check_value "and the pool has it back" "$(pool_used 0)" 0
pool_stop
