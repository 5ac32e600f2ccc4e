# Benchmark (bench/rmc.sh): the RMC window vs local DRAM, and reprograms.
# The host passes dredbox.rmc=BRICK:BRICK_ADDR:MIB:ROUNDS:LOCAL_PHYS.
set -e -o pipefail    # errors are fatal (docs/testing.md)
args=$(sed -n "s/.*dredbox\.rmc=\([^ ]*\).*/\1/p" /proc/cmdline | tr : " ")
# shellcheck disable=SC2086
rmc-bench $args
