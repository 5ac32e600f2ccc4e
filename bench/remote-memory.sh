#!/bin/sh
# Guest memory bandwidth on a compute brick, measured side by side:
#  1. the remote node (memory-backend-remote, a memory-brick segment) vs
#     local DRAM, in the same guest and run;
#  2. the same layout with the remote node on memory-backend-file,share=on
#     (what plain QEMU offers for shared memory), same binary, same run;
#  3. stock QEMU `virt` (same binary, 4 Cortex-A53, the same RAM and NUMA
#     layout, node 1 on memory-backend-file,share=on): the baseline.
# Boots of the three are interleaved.  The table gives the median copy
# bandwidth over the boots (each boot's figure is membw's median of nine
# rounds) and the ratios.
#
#   bench/remote-memory.sh [REPEATS]      (default 3 boots per layout)
#   bench/remote-memory.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"

table() {
    awk "$BENCH_AWK"'
    { add($1 " local", $2); add($1 " remote", $3) }
    function line(k, what) {
        printf "| %s | %.0f | %.0f | %d |\n", what, med(k " local"),
               med(k " remote"), n(k " local")
    }
    END {
        print "| machine, node 1 backend | local MB/s | remote MB/s | boots |"
        print "|---|---:|---:|---:|"
        line("remote", "dredbox-compute, memory-backend-remote")
        line("file", "dredbox-compute, memory-backend-file,share=on")
        line("virt", "virt, memory-backend-file,share=on")
        print ""
        print "| ratio (median copy bandwidth) | measured |"
        print "|---|---:|"
        printf "| remote node / local DRAM (memory-backend-remote) | %.2f |\n",
               med("remote remote") / med("remote local")
        printf "| memory-backend-remote / memory-backend-file (remote node) | %.2f |\n",
               med("remote remote") / med("file remote")
        printf "| dredbox-compute / virt, remote node (memory-backend-remote / file) | %.2f |\n",
               med("remote remote") / med("virt remote")
        printf "| dredbox-compute / virt, local DRAM | %.2f |\n",
               med("remote local") / med("virt local")
    }'
}

bench_start remote-memory "$@"
repeats=${1:-3}
pool_start 0:1G
shm=$(mktemp -d /dev/shm/dredbox-bench-XXXXXX)
BENCH_ON_EXIT='rm -rf "$shm"'

file="memory-backend-file,id=far,size=512M,mem-path=$shm/far,share=on"
i=0
while [ $i -lt "$repeats" ]; do
    # shellcheck disable=SC2046
    membw_boot remote $(membw_layout \
        "memory-backend-remote,id=far,size=512M,pool=$POOL/memd.sock")
    # shellcheck disable=SC2046
    membw_boot file $(membw_layout "$file")
    rm -f "$shm/far"
    # boot's -machine dredbox-compute is overridden by the later one.
    # shellcheck disable=SC2046
    membw_boot virt $(membw_layout "$file") -machine virt -cpu cortex-a53 -smp 4
    rm -f "$shm/far"
    i=$((i + 1))
done
bench_end
