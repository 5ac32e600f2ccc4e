#!/bin/sh
# Every shipped rack file (racks/*.rack) supports what the docs say a
# rack does: it comes up with its controller, and its compute brick 0
# gets memory on the default path (virtio-mem), on the RMC path and an
# accelerator's queue, each attached and detached through dredboxctl;
# after that nothing is leased and no circuit is left.  A new rack file
# is checked by adding it to racks/.
. "$(dirname "$0")/lib.sh"
racks=$(ls "$SRCDIR"/racks/*.rack)
plan $(($(echo "$racks" | wc -l) * 5))

# attach_detach ARGS...: "ok" if an attach with ARGS and then a detach of
# what it made both succeed, else what went wrong
attach_detach() {
    made=$("$CTL" --json attach --brick 0 "$@" 2>&1) ||
        { echo "attach: $made"; return; }
    id=$(echo "$made" | jq .allocation.id)
    out=$("$CTL" detach --brick 0 --allocation "$id" 2>&1) ||
        { echo "detach: $out"; return; }
    echo ok
}

for rackfile in $racks; do
    name=$(basename "$rackfile" .rack)
    rack_up "racks-$name" "$rackfile"
    check_value "$name.rack comes up with its controller" \
        "$? $(grep -c '^sdm *up' "$LOGDIR/racks-$name-up.log")" "0 1"
    check_value "$name.rack: brick 0 attaches and detaches virtio-mem memory" \
        "$(attach_detach --size 256M)" ok
    # The RMC path's last step is brick 0's agent: its guest must be up.
    brick_run "$RUN" 0 "pidof dredbox-agent > /dev/null && echo AGENT=up"
    check_value "$name.rack: brick 0 attaches and detaches RMC-path memory" \
        "$(has_fact AGENT && attach_detach --size 256M --path rmc)" ok
    check_value "$name.rack: brick 0 attaches and detaches an accelerator" \
        "$(attach_detach --accelerator)" ok
    check_value "$name.rack: then nothing is leased and no circuit is left" \
        "$(rack_pool_used) $(circuits)" "0 0"
    "$RACK" down > /dev/null 2>&1
done
