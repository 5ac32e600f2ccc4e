# Program the RMC from user space and write through its window; the host
# passes dredbox.rmc=BRICK:BRICK_ADDR:MIB and finds the pages in the brick.
args=$(sed -n 's/.*dredbox\.rmc=\([^ ]*\).*/\1/p' /proc/cmdline | tr : ' ')
# shellcheck disable=SC2086
rmc-poke $args
