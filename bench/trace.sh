#!/bin/sh
# What the memory-access plugin costs a memory-bound guest workload, in
# one run: guest copy bandwidth (membw, local and remote node) with no
# plugin, with dredbox-mem in count mode (without and with the memory map
# to look each RAM access up in), in trace mode with one access
# in 1000 traced (so that the trace of a boot fits on a disk), and in
# trace mode with every access traced to /dev/null (the plugin's whole
# cost without the disk's: a file would take ~20 GB); boots interleaved,
# means over the boots.  Then the trace's size per traced access.
#
#   bench/trace.sh [REPEATS]      (default 2 boots per configuration)
#   bench/trace.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"
PLUGIN=$TOOLS_BUILD/plugins/libdredbox-mem.so

table() {
    awk "$BENCH_AWK"'$1 == "records" { records = $2; bytes = $3; next }
    { add($1 " l", $2); add($1 " r", $3) }
    function row(k, what,   s) {
        s = k == "none" ? "" : sprintf("%.1fx / %.1fx", \
            med("none l") / med(k " l"), med("none r") / med(k " r"))
        printf "| %s | %.0f | %.0f | %s |\n", what, med(k " l"), med(k " r"), s
    }
    END {
        printf "| median of %d boots each | local MB/s | remote MB/s | slowdown (local / remote) |\n", n("none l")
        print "|---|---:|---:|---:|"
        row("none", "no plugin")
        row("count", "count")
        row("count-map", "count, with the memory map (map=)")
        row("trace", "trace, sample=1000")
        row("trace-all", "trace, every access")
        print ""
        printf "Trace of one boot at sample=1000: %d records in %d bytes, %d bytes per traced access.\n",
               records, bytes, (bytes - 32) / records
    }'
}

bench_start trace "$@"
repeats=${1:-2}
pool_start 0:1G
layout=$(membw_layout \
    "memory-backend-remote,id=far,size=512M,pool=$POOL/memd.sock,brick=0")
BENCH_ON_EXIT='rm -f "$LOGDIR/bench-trace.bin"'

i=0
while [ $i -lt "$repeats" ]; do
    # shellcheck disable=SC2086
    membw_boot none $layout
    # shellcheck disable=SC2086
    membw_boot count $layout \
        -plugin "$PLUGIN,mode=count,out=$LOGDIR/bench-trace.counts"
    # shellcheck disable=SC2086
    membw_boot count-map $layout -machine "memory-map=$LOGDIR/bench.map" \
        -plugin "$PLUGIN,mode=count,map=$LOGDIR/bench.map,out=$LOGDIR/bench-trace.counts"
    # shellcheck disable=SC2086
    membw_boot trace $layout \
        -plugin "$PLUGIN,mode=trace,sample=1000,out=$LOGDIR/bench-trace.bin"
    # shellcheck disable=SC2086
    membw_boot trace-all $layout -plugin "$PLUGIN,mode=trace,out=/dev/null"
    i=$((i + 1))
done
records=$("$TOOLS_BUILD/plugins/dredbox-trace" summary \
          "$LOGDIR/bench-trace.bin" | sed -n '1s/ accesses.*//p')
result "records $records $(stat -c %s "$LOGDIR/bench-trace.bin")"
bench_end
