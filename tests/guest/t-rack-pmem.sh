#!/bin/sh
# Persistent memory in a rack (docs/rack.md, "Persistent memory"): a
# compute line's pmem=memory1:256M gives the brick /dev/pmem0 on a segment
# of persistent memory brick 1 leased to brick0-pmem.  What the guest
# writes there is back after `dredbox-rack down` and `up`; the SDM
# controller places only the rest of brick 1; a rack file that no longer
# says what the segment is stops the next up and loses nothing.
. "$(dirname "$0")/lib.sh"
plan 12

rackfile=$LOGDIR/rack-pmem.rack
rm -rf "$LOGDIR/rack-pmem-state"
write_rack() {    # write_rack SIZE: brick 0 with SIZE of memory brick 1
    cat > "$rackfile" << EOT
rack pmem
compute 0 cpus=1 ram=512M ports=1 pmem=memory1:$1
memory 0 size=1G
memory 1 size=1G class=persistent
optical-switch ports=4
electrical-switch
cable compute0.port0 optical:0 latency=tray-local
cable memory0 optical:1 latency=tray-local
cable memory1 optical:2 latency=rack-local
EOT
}
lease() {    # the memory brick and MiB the pool leases to brick0-pmem
    "$TOOLS_BUILD/memory-brick/dredbox-pool" -p "$RUN/pool/pool.json" \
        query | awk '$5 == "brick0-pmem" { print $2, $4 }'
}
segment_file() {    # how many segment files of brick0-pmem the state has
    find "$LOGDIR/rack-pmem-state" -name 'seg-*@brick0-pmem' | wc -l
}
# of_pmem may probe after the shell is up
pmem0='i=0; while [ ! -b /dev/pmem0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done'

write_rack 256M
rack_up rack-pmem "$rackfile"
check_value "a rack with pmem= comes up" "$?" 0
check_value "the pool leases 256 MiB of memory brick 1 to brick0-pmem" \
    "$(lease)" "1 256"
tag=rack-pmem-$$-$(date +%s)
brick_run "$RUN" 0 "$pmem0; blockdev --getsize64 /dev/pmem0 &&
    mke2fs -b 4096 /dev/pmem0 > /dev/null && mkdir -p /mnt/pmem &&
    mount /dev/pmem0 /mnt/pmem && echo $tag > /mnt/pmem/tag &&
    umount /mnt/pmem"
check_value "brick 0 has the 256 MiB as /dev/pmem0 and writes a file there" \
    "$(echo "$FACTS" | tr '\n' ' ')" "268435456 rc=0 "
check_value "the controller places only the other 768 MiB of brick 1" \
    "$(printf '%s\n' '{"cmd":"graph"}' |
       socat -t 5 - "UNIX-CONNECT:$RUN/sdm.sock" |
       jq '.vertices[] | select(.brick == "memory" and .id == 1) | .size')" \
    805306368

"$RACK" down > /dev/null 2>&1
check_value "after down, the segment is a file in the state directory" \
    "$(segment_file)" 1
rack_up rack-pmem "$rackfile"
check_value "the rack comes up again" "$?" 0
check_value "with the same lease" "$(lease)" "1 256"
brick_run "$RUN" 0 "$pmem0; mkdir -p /mnt/pmem && mount -o ro /dev/pmem0 /mnt/pmem &&
    cat /mnt/pmem/tag && umount /mnt/pmem"
check_value "and brick 0 reads its file back" \
    "$(echo "$FACTS" | tr '\n' ' ')" "$tag rc=0 "

"$RACK" down > /dev/null 2>&1
write_rack 512M
rack_up rack-pmem "$rackfile"
check_value "a rack file that says another size stops the up" "$?" 1
check_value "naming the segment and how to drop it" \
    "$(grep -c "compute brick 0's persistent memory is segment [0-9]*, 256 MiB on memory brick 1, but the rack file says 512 MiB on memory brick 1: .* -c brick0-pmem free [0-9]*'" \
       "$LOGDIR/rack-pmem-up.log")" 1
check_value "before any compute brick started" \
    "$(find "$RUN" -name 'brick*.pid' | wc -l)" 0
"$RACK" down > /dev/null 2>&1
check_value "and the contents are still there" "$(segment_file)" 1
