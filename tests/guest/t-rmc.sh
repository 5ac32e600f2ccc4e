#!/bin/sh
# The Remote Memory Controller seen from a stock Debian guest: a static
# program maps /dev/mem, programs a NetPort entry for a pool segment and
# writes through the low window; the host finds every page in the memory
# brick at the translated offset.  An access no entry holds kills the
# program with SIGBUS, is counted, and QEMU carries on.
. "$(dirname "$0")/lib.sh"
plan 11

pool_start 0:1G 1:1G
# The rack leases brick 1's second 256 MiB to brick0 (the first 256 MiB
# go to someone else), attaches it to the RMC and connects port 0.
other=$(pool_tool -c other alloc 256M --brick 1)
seg=$(pool_tool -c rack alloc 256M --brick 1)
pool_tool -c rack grant "$seg" brick0 --writable
# Pages land 16 MiB into the segment: brick address 256 + 16 MiB.
tag=$(printf %08x $$)
APPEND="dredbox.rmc=1:$(((256 + 16) << 20)):64:$tag"
boot_bg rmc rmc-poke -machine "pool=$POOL/memd.sock" -S
qmp "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg}}" \
    '{"execute": "dredbox-rmc-connect", "arguments": {"port": 0, "brick": 1}}' \
    '{"execute": "cont"}' > /dev/null
boot_wait
check "guest finds the RMC" RMC_ID 434d5244
check "entry committed" RMC_COMMIT_STATUS 0
check "64 MiB written through the window" RMC_WRITTEN 16384
check "and read back" RMC_VERIFIED 16384
check "unmapped access is a bus error (SIGBUS)" RMC_TOUCH_SIGNAL 7
check "and is counted by the RMC" RMC_UNMAPPED_FAULTS 1
check_guest_ok "guest kept running after the fault"

bytes=$LOGDIR/rmc.bytes
region() {    # the segment's bytes [$1 MiB, +$2 MiB) in $bytes
    pool_tool -c rack read "$seg" "$(($1 << 20))" "$(($2 << 20))" > "$bytes"
}
# tagged: pages of ours in $bytes, or why there is nothing to count (a
# failed read must not count as "no page").
tagged() {
    grep -a -o "dredbox-rmc $tag [0-9]*" "$bytes" | sort -u | wc -l
}
failed="pool_tool read failed"
check_value "all 16384 pages are in the brick at the translated offset" \
    "$(region 16 64 && tagged || echo "$failed")" 16384
check_value "page 0 is first" \
    "$(region 16 1 && head -c 27 "$bytes" | tr -d '\0' || echo "$failed")" \
    "dredbox-rmc $tag 000000"
check_value "nothing landed outside the range" \
    "$(region 0 16 && tagged || echo "$failed")" 0
check_value "nor in the other client's segment" \
    "$(pool_tool -c other read "$other" > "$bytes" && tagged || echo "$failed")" 0
rm -f "$bytes"
pool_stop
