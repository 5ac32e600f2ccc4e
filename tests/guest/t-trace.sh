#!/bin/sh
# The memory-access plugin (target-arm/plugins/dredbox-mem.c) in count
# mode: a static guest program makes a known number of stores through RMC
# port 0 to memory brick 0, then, after the RMC is reprogrammed, through
# port 1 to memory brick 1, then loads from local DRAM; the plugin's
# counts, restricted to those address ranges, are exactly those numbers,
# per port, per brick and local.  Bad plugin arguments are refused with a
# clear message.
. "$(dirname "$0")/lib.sh"

PLUGIN=$SRCDIR/build/tools/target-arm/plugins/libdredbox-mem.so
LOCAL=$((0x100000000 + (768 << 20)))    # local DRAM above mem=768M
pool_start 0:1G 1:1G
seg0=$(pool_tool -c rack alloc 128M --brick 0)
seg1=$(pool_tool -c rack alloc 128M --brick 1)
pool_tool -c rack grant "$seg0" brick0 --writable
pool_tool -c rack grant "$seg1" brick0 --writable
table=$LOGDIR/trace.rmc-table
counts=$LOGDIR/trace.counts
rm -f "$counts"
APPEND="mem=768M dredbox.count=0:0x100000:1:0x200000:1000:500:700:$LOCAL"
boot_bg trace rmc-count -machine "pool=$POOL/memd.sock" -S \
    -global "dredbox-rmc.table=$table" \
    -plugin "$PLUGIN,mode=count,rmc=$table,range=0x40000000-0x40100000,range=$LOCAL-$((LOCAL + (1 << 20))),out=$counts"
qmp "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg0}}" \
    "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg1}}" \
    '{"execute": "cont"}' > /dev/null
boot_wait
pool_stop
check "the guest program ran" COUNT_DONE 1
line() {    # line PREFIX: the plugin's counts for PREFIX
    grep "^$1 loads=" "$counts" 2> /dev/null | sed "s/^$1 //"
}
check_value "port 0: the 1000 stores before the reprogram, to brick 0" \
    "$(line "port=0 brick=0")" "loads=0 stores=1000 bytes=8000"
check_value "port 1: the 500 stores after it, to brick 1" \
    "$(line "port=1 brick=1")" "loads=0 stores=500 bytes=4000"
check_value "per brick: brick 0" "$(line brick=0)" "loads=0 stores=1000 bytes=8000"
check_value "per brick: brick 1" "$(line brick=1)" "loads=0 stores=500 bytes=4000"
check_value "local DRAM: the 700 loads" "$(line kind=local)" \
    "loads=700 stores=0 bytes=5600"
check_value "nothing else in those ranges" \
    "$(line kind=rmc-unmapped) $(line kind=other)" \
    "loads=0 stores=0 bytes=0 loads=0 stores=0 bytes=0"

bad() {    # bad ARGS EXPECTED: QEMU refuses the plugin with EXPECTED
    out=$(timeout 60 "$QEMU" -machine dredbox-compute -display none \
          -plugin "$PLUGIN,$1" 2>&1)
    check_value "plugin refuses '$1'" "$(echo "$out" | grep -c "$2")" 1
}
bad "mode=trace" "dredbox-mem: mode must be count, not 'trace'"
bad "mode=count,sample=0" "sample must be a positive number, not '0'"
bad "mode=count,range=9-3" "range must be START-END (END above START)"
bad "mode=count,colour=red" "unknown argument 'colour=red'"
