#!/bin/sh
# What the Remote Memory Controller costs a guest, measured in one run:
# bandwidth through an RMC window onto a memory-brick segment vs local
# DRAM (same loops, interleaved rounds, medians computed by the guest),
# and the time from a commit that reprograms an entry to the first access
# through it.
#
#   bench/rmc.sh [ROUNDS]      (default 7)
#   bench/rmc.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"

KEYS="BW_LOCAL_WRITE BW_LOCAL_READ BW_DEVMEM_WRITE BW_DEVMEM_READ
      BW_RMC_WRITE BW_RMC_READ REPROGRAM_US"

table() {
    awk '{ v[$1] = $2 }
    function row(what, k) {
        printf "| %s | %d | %d |\n", what, v[k "_WRITE"], v[k "_READ"]
    }
    END {
        printf "| %d rounds, medians | write MB/s | read MB/s |\n", v["rounds"]
        print "|---|---:|---:|"
        row("RMC window (`/dev/mem`)", "BW_RMC")
        row("local DRAM (`/dev/mem`)", "BW_DEVMEM")
        row("local DRAM (process memory)", "BW_LOCAL")
        print ""
        print "| ratio | measured |"
        print "|---|---:|"
        printf "| RMC window / local DRAM, same mapping | write %.2f, read %.2f |\n",
               v["BW_RMC_WRITE"] / v["BW_DEVMEM_WRITE"],
               v["BW_RMC_READ"] / v["BW_DEVMEM_READ"]
        print ""
        printf "Reprogram, commit to first access: %d us median.\n",
               v["REPROGRAM_US"]
    }'
}

bench_start rmc "$@"
rounds=${1:-7}
pool_start 0:1G
seg=$(pool_tool -c rack alloc 128M --brick 0)
pool_tool -c rack grant "$seg" brick0 --writable
# The kernel uses 768 MiB of the 1 GiB of local DRAM; the rest at
# 4 GiB + 768 MiB is the like-for-like local reference.
APPEND="mem=768M dredbox.rmc=0:0:64:$rounds:$((0x100000000 + (768 << 20)))"
boot_bg bench-rmc rmc-bench -machine "pool=$POOL/memd.sock" -S
qmp "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg}}" \
    '{"execute": "dredbox-rmc-connect", "arguments": {"port": 0, "brick": 0}}' \
    '{"execute": "dredbox-rmc-connect", "arguments": {"port": 1, "brick": 0}}' \
    '{"execute": "cont"}' > /dev/null
boot_wait
guest_facts rmc-bench
result "rounds $rounds"
for k in $KEYS; do
    [ -n "$(fact $k)" ] || { echo "bench: no $k, see $log" >&2; exit 1; }
    result "$k $(fact $k)"
done
bench_end
