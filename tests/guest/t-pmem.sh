#!/bin/sh
# Persistent memory from a persistent memory brick: -machine
# dredbox-compute,pmem=ID maps a memory-backend-remote on the brick's
# segment as a pmem-region; Debian's stock kernel gives /dev/pmem0 of the
# segment's size, a guest makes a filesystem there and writes a file,
# the brick is powered off, and a second boot on the same segment reads
# the file back.  The host finds the file in the memory brick.  Where the
# kernel can (Debian 6.12: DREDBOX_KERNEL_PKG), the namespace is put in
# fsdax mode and both boots mount with DAX; Debian 6.1 cannot, and gets a
# plain ext2 (docs/compute-brick.md).  The memory-access plugin, with the
# machine's memory map, puts the second boot's accesses to it on the
# memory brick.
. "$(dirname "$0")/lib.sh"
plan 13

PLUGIN=$TOOLS_BUILD/plugins/libdredbox-mem.so
MAP=$LOGDIR/pmem.map
counts=$LOGDIR/pmem.counts
line() {    # line PREFIX: the plugin's counts for PREFIX
    grep "^$1 loads=" "$counts" 2> /dev/null | sed "s/^$1 //"
}

pool_start "0:512M:persistent:$LOGDIR/pmem-state"
seg=$(pool_tool -c rack alloc 256M --brick 0)
pool_tool -c rack grant "$seg" brick-a --writable
tag=pmem-$$-$(date +%s)
pmem_boot() {    # pmem_boot LABEL [QEMU-ARGS]: brick-a with the segment as pmem
    label=$1
    shift
    boot "$label" pmem -m 512M -machine pmem=pm "$@" \
        -object "memory-backend-remote,id=pm,size=256M,pool=$POOL/memd.sock,segment=$seg,client=brick-a"
}

APPEND="dredbox.pmem=write:$tag"
pmem_boot pmem-write
check "the guest has 256 MiB of persistent memory, /dev/pmem0" \
    PMEM_BYTES 268435456
check "it makes a filesystem there and writes a file" PMEM_WRITTEN 1
sum=$(fact PMEM_SUM)
check_guest_ok "the guest script ended well"
dax=no
[ "$(fact PMEM_MODE)" != fsdax ] || dax=yes
check "a DAX mount exactly where the kernel made the namespace fsdax" \
    PMEM_DAX "$dax"
check_value "the file is in the memory brick" \
    "$(pool_tool -c rack read "$seg" | grep -a -o -- "$tag" | wc -l)" 1

APPEND="dredbox.pmem=read"
rm -f "$counts"
pmem_boot pmem-read -machine memory-map="$MAP" \
    -plugin "$PLUGIN,mode=count,map=$MAP,range=0xe000000000-0xe010000000,out=$counts"
check "after a power cycle the file reads back" PMEM_TAG "$tag"
check "and 4 MiB of random bytes, byte for byte (their MD5)" PMEM_SUM "$sum"
check "with DAX again if the first boot had it" PMEM_DAX "$dax"
check_guest_ok "the second boot's script ended well"
check_value "the plugin counts the reads as persistent memory of brick 0" \
    "$(line kind=pmem | grep -vc 'loads=0 ')/$(line kind=pmem)" \
    "1/$(line brick=0)"
check_value "none as local DRAM" "$(line kind=local)" \
    "loads=0 stores=0 bytes=0"
check_value "the segment outlives the brick" "$(pool_used 0)" 268435456
pool_tool -c rack free "$seg"
check_value "and its owner frees it" "$(pool_used 0)" 0
