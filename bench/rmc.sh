#!/bin/sh
# What the Remote Memory Controller costs a guest, measured in one run:
# bandwidth through an RMC window onto a memory-brick segment vs local
# DRAM (same loops, interleaved rounds), and the time from a commit that
# reprograms an entry to the first access through it.
# docs/benchmarks.md keeps results.
#
#   bench/rmc.sh [ROUNDS]      (default 7)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/tests/guest/lib.sh"
LOGDIR=$SRCDIR/build/bench-logs
mkdir -p "$LOGDIR"
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
pool_stop
for k in BW_LOCAL_WRITE BW_LOCAL_READ BW_DEVMEM_WRITE BW_DEVMEM_READ \
         BW_RMC_WRITE BW_RMC_READ REPROGRAM_US; do
    [ -n "$(fact $k)" ] || { echo "bench: no $k, see $log" >&2; exit 1; }
done
row() { printf '%-36s %11s %11s\n' "$1" "$2" "$3"; }
row "" "write MB/s" "read MB/s"
row "RMC window (/dev/mem)" "$(fact BW_RMC_WRITE)" "$(fact BW_RMC_READ)"
row "local DRAM (/dev/mem)" "$(fact BW_DEVMEM_WRITE)" "$(fact BW_DEVMEM_READ)"
row "local DRAM (ordinary process memory)" "$(fact BW_LOCAL_WRITE)" \
    "$(fact BW_LOCAL_READ)"
awk -v dw="$(fact BW_DEVMEM_WRITE)" -v dr="$(fact BW_DEVMEM_READ)" \
    -v rw="$(fact BW_RMC_WRITE)" -v rr="$(fact BW_RMC_READ)" 'BEGIN {
    printf "RMC/local DRAM, same mapping: write %.2f, read %.2f\n",
           rw / dw, rr / dr }'
echo "reprogram (commit to first access): $(fact REPROGRAM_US) us"
