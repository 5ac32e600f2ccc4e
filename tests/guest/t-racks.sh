#!/bin/sh
# Every shipped rack file (racks/*.rack) supports what the docs say a
# rack does: it comes up with its controller, and its compute brick 0
# gets memory on the default path (virtio-mem), on the RMC path and an
# accelerator's queue, each attached and detached through dredboxctl;
# after that nothing is leased and no circuit is left.  A new rack file
# is checked by adding it to racks/.  racks/debian.rack boots the image of
# `make image`: t-debian checks it the same way (make check-image).
. "$(dirname "$0")/lib.sh"
racks=$(ls "$SRCDIR"/racks/*.rack | grep -v '/debian\.rack$')
plan $(($(echo "$racks" | wc -l) * 5))

for rackfile in $racks; do
    name=$(basename "$rackfile" .rack)
    rack_up "racks-$name" "$rackfile"
    check_value "$name.rack comes up with its controller" \
        "$? $(grep -c '^sdm *up' "$LOGDIR/racks-$name-up.log")" "0 1"
    rack_operations "$name.rack"
    "$RACK" down > /dev/null 2>&1
done
