# The host resizes a virtio-mem device backed by a memory brick while we
# run: print how MemTotal and the NUMA nodes follow.  "DREDBOX-STEP x" lines tell the host
# when to act; each wait gives up after two minutes.
set -e -o pipefail    # errors are fatal (docs/testing.md)
memtotal() { sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo; }

# wait_mem OP KB: until MemTotal OP KB holds (fails after two minutes).
# MemTotal counts online memory only; the pool cannot give more than the
# host checks for, so there is nothing to let settle.
wait_mem() {
    i=0
    while ! [ "$(memtotal)" "$1" "$2" ]; do
        if [ $i -ge 120 ]; then
            echo "MemTotal is $(memtotal) kB, never $1 $2 kB"
            return 1
        fi
        sleep 1
        i=$((i + 1))
    done
}

base=$(memtotal)
# None bound is not fatal here: the host's check reports it.
bound=$(ls /sys/bus/virtio/drivers/virtio_mem | grep -c virtio || true)
echo "VIRTIO_MEM_DRIVER=$bound"
echo "DREDBOX-STEP grow"
wait_mem -ge $((base + 524288))
echo "GROWN_KB=$(($(memtotal) - base))"
numa-facts | sed 's/^/GROWN_/'
echo "MEMORY_NODES_LOG=$(dmesg | sed -n 's/.*dredbox-memory-nodes [^:]*: //p')"
# The new memory is usable: hold more in RAM than local DRAM has, free it.
# Node 1 first: by default the pages would fill node 0 first, and the
# kernel's own allocations, which cannot use node 1's movable memory,
# would then find no room (the OOM killer stops dd).
mkdir -p /fill
mount -t tmpfs -o size=700m,mpol=prefer:1 fill /fill
dd if=/dev/zero of=/fill/data bs=1M count=600 2>/dev/null
bytes=$(wc -c < /fill/data)
echo "FILLED_MIB=$((bytes >> 20))"
umount /fill
echo "DREDBOX-STEP shrink"
wait_mem -le "$base"
echo "SHRUNK_KB=$(($(memtotal) - base))"
# An empty node may go offline, and its sysfs directory with it.
node1_blocks() {
    find /sys/devices/system/node/node1/ -maxdepth 1 -name 'memory[0-9]*' \
        2> /dev/null | wc -l
}
# virtio-mem removes a block a moment after MemTotal lost it (offlined).
i=0
while [ "$(node1_blocks)" != 0 ] && [ $i -lt 120 ]; do
    sleep 1
    i=$((i + 1))
done
echo "SHRUNK_NODE1_BLOCKS=$(node1_blocks)"
