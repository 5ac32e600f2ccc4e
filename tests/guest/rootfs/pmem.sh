# Persistent memory (-machine dredbox-compute,pmem=ID; docs/compute-brick.md)
# as Linux's of_pmem gives it: dredbox.pmem=write:TAG makes a filesystem
# on /dev/pmem0 and leaves TAG in a file there and 4 MiB of random bytes
# in another; dredbox.pmem=read prints what the first says and the
# second's MD5.  Debian 6.1 has no DAX: a plain ext2.
set -e -o pipefail    # errors are fatal (docs/testing.md)
arg=$(sed -n 's/.*dredbox\.pmem=\([^ ]*\).*/\1/p' /proc/cmdline)
# The region's driver probes at boot; its disk shows up a moment later.
wait_pmem0() {
    i=0
    while [ ! -b /dev/pmem0 ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
}
wait_pmem0
echo "PMEM_BYTES=$(blockdev --getsize64 /dev/pmem0)"
mkdir -p /mnt/pmem

# fsdax: put the region's namespace in fsdax mode, its struct pages on
# the device itself (what "ndctl create-namespace -m fsdax" does, through
# sysfs), if the kernel can (ZONE_DEVICE: Debian 6.12, not 6.1); else
# leave it as it was.  The mode is written to the memory too: the next
# boot finds it.
fsdax() {
    nd=/sys/bus/nd/devices
    [ -e $nd/region0/pfn_seed ] || return 1
    pfn=$(cat $nd/region0/pfn_seed)
    echo namespace0.0 > /sys/bus/nd/drivers/nd_pmem/unbind || return 1
    if cat /proc/sys/kernel/random/uuid > "$nd/$pfn/uuid" &&
       echo pmem > "$nd/$pfn/mode" &&
       echo namespace0.0 > "$nd/$pfn/namespace" &&
       echo "$pfn" > /sys/bus/nd/drivers/nd_pmem/bind 2> /dev/null; then
        wait_pmem0
        return 0
    fi
    echo > "$nd/$pfn/namespace" 2> /dev/null || true
    echo namespace0.0 > /sys/bus/nd/drivers/nd_pmem/bind
    wait_pmem0
    return 1
}

# DAX (loads and stores straight to the memory, no page cache) where the
# kernel has it (FS_DAX), else a plain mount.
mount_pmem() {
    if mount -t ext2 -o "dax$1" /dev/pmem0 /mnt/pmem 2> /dev/null; then
        echo "PMEM_DAX=yes"
    else
        echo "PMEM_DAX=no"
        mount -t ext2 ${1:+-o "${1#,}"} /dev/pmem0 /mnt/pmem
    fi
}

case $arg in
write:*)
    if fsdax; then
        echo "PMEM_MODE=fsdax"
    else
        echo "PMEM_MODE=raw"
    fi
    mke2fs -b 4096 /dev/pmem0 > /dev/null
    mount_pmem ""
    echo "${arg#write:}" > /mnt/pmem/tag
    dd if=/dev/urandom of=/mnt/pmem/data bs=64k count=64 2> /dev/null
    echo "PMEM_SUM=$(md5sum < /mnt/pmem/data)"
    umount /mnt/pmem
    echo "PMEM_WRITTEN=1"
    ;;
read)
    mount_pmem ",ro"
    echo "PMEM_TAG=$(cat /mnt/pmem/tag)"
    echo "PMEM_SUM=$(md5sum < /mnt/pmem/data)"
    umount /mnt/pmem
    ;;
*)
    echo "pmem.sh: dredbox.pmem=write:TAG or read, not '$arg'"
    exit 1
    ;;
esac
