# Program the RMC from user space and write through its window; the host
# passes dredbox.rmc=BRICK:BRICK_ADDR:MIB:TAG and finds the pages in the
# brick.  Then touch the window just past the entry.
set -e -o pipefail    # errors are fatal (docs/testing.md)
set -- $(sed -n 's/.*dredbox\.rmc=\([^ ]*\).*/\1/p' /proc/cmdline | tr : ' ')
rmc-tool map 0 "$1" "$2" "$3" | grep -v FAULTS
rmc-tool write "$4" "$3" | grep WRITTEN
rmc-tool verify "$4" "$3" | grep VERIFIED
rmc-tool touch $(($3 << 20))
