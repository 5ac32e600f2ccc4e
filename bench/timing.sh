#!/bin/sh
# Timing mode (-machine dredbox-compute,timing=on, docs/timing.md), side
# by side in one run; nothing is asserted:
#  1. host-time overhead: the same brick (1 vCPU, 1 GiB local node 0,
#     512 MiB tray-local remote node 1) boots and runs the same workload
#     (tests/guest/rootfs/hashtable.sh: a 1M-key hash table built and
#     probed on node 0, then on node 1) with timing on and off,
#     interleaved, REPEATS boots each; host seconds from QEMU's start
#     to its exit, medians and their ratio (issue 16 aims at <= 5x); the
#     same with 4 vCPUs (the brick's default; timing mode runs them in
#     lockstep rounds), and the hash table's guest times there;
#  2. the paper table: the dReDBox prototype's published figures next to
#     what timing mode measures for the same kind of thing, from
#     tests/guest/rootfs/chase.sh (64 MiB pointer chases, membw copies)
#     on a tray-local and a rack-local node, and the figures QMP
#     (query-dredbox-timing) says are in use;
#  3. end to end: the hash table with its memory local, on a tray-local,
#     a rack-local and an inter-rack node, in the guest's own clock, and
#     the ratios to local.  Timing mode is deterministic, so one boot per
#     class is enough (the local run repeats in every boot: the table
#     says whether it measured the same each time).
#
#   bench/timing.sh [REPEATS]      (default 3 boots per mode for 1.)
#   bench/timing.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"

table() {
    awk "$BENCH_AWK"'
    $1 == "host" { add("host " $2, $3) }
    $1 == "host4" { add("host4 " $2, $3) }
    $1 == "app4" { add("total4 " $2, $3) }
    $1 == "app" { add("build " $2, $3); add("probe " $2, $4)
                  add("total " $2, $5) }
    $1 == "app-off" { add("off " $2, $3) }
    $1 == "chase" { add("local " $2, $3); add("remote " $2, $4)
                    add("bw0 " $2, $5); add("bw1 " $2, $6) }
    $1 == "figures" { rmc = $2; dram = $3; tray = $4; rack = $5
                      inter = $6; link = $7; dbw = $8 }
    function ms(ns) { return sprintf("%.1f", ns / 1e6) }
    function app(c, what,   off) {
        if (!n("total " c)) return
        off = n("off " c) ? sprintf("%s (%s - %s)", ms(med("off " c)),
                                    ms(min("off " c)), ms(max("off " c))) : "-"
        printf "| %s | %s | %s | %s | %.2f | %s |\n", what,
               ms(med("build " c)), ms(med("probe " c)),
               ms(med("total " c)), med("total " c) / med("total local"), off
    }
    END {
        print "| host time, boot + hashtable.sh, 1 vCPU | timing off (s) | timing on (s) | on / off | boots each |"
        print "|---|---:|---:|---:|---:|"
        printf "| median | %.1f | %.1f | %.2f | %d |\n", med("host off"),
               med("host on"), med("host on") / med("host off"),
               n("host on")
        printf "| min - max | %.1f - %.1f | %.1f - %.1f | | |\n",
               min("host off"), max("host off"), min("host on"),
               max("host on")
        if (n("host4 on"))
            printf "| median, 4 vCPUs (3 idle) | %.1f | %.1f | %.2f | %d |\n",
                   med("host4 off"), med("host4 on"),
                   med("host4 on") / med("host4 off"), n("host4 on")
        print ""
        print "| published figure (dReDBox prototype) | published | timing mode | how the emulator measures it |"
        print "|---|---:|---:|---|"
        printf "| remote round trip, 134 cycles (read at 250 MHz) | 536 ns | %d ns | `rmc-ns`, the RMC figure in use (QMP) |\n", rmc
        printf "| | | %.0f ns | 64 MiB chase on a tray-local node minus the same chase in local DRAM |\n",
               (med("remote tray-local") - med("local tray-local")) / 1000
        printf "| REMAP: remote cache-line access | < 750 ns | %.0f ns | 64 MiB chase, tray-local node |\n",
               med("remote tray-local") / 1000
        printf "| | | %.0f ns | 64 MiB chase, rack-local node |\n",
               med("remote rack-local") / 1000
        printf "| remote streaming throughput / local | about 45%% | %.1f%% | `memcpy` of 16 MiB (membw): tray-local node 1 / local node 0 (%.0f / %.0f MB/s) |\n",
               100 * med("bw1 tray-local") / med("bw0 tray-local"),
               med("bw1 tray-local"), med("bw0 tray-local")
        print ""
        printf "Figures in use (`query-dredbox-timing`): DRAM %d ns, RMC %d ns, fabric %d / %d / %d ns (tray-local / rack-local / inter-rack), link %.2f GiB/s, DRAM %.2f GiB/s; local DRAM chase %.1f ns.\n",
               dram, rmc, tray, rack, inter, link / 2^30, dbw / 2^30,
               med("local tray-local") / 1000
        print ""
        print "| hashtable, 1M keys, 32 MiB table, 1 vCPU | build (ms) | probe (ms) | total (ms) | total / local | timing off: total (ms), median (min - max) |"
        print "|---|---:|---:|---:|---:|---:|"
        app("local", "local DRAM (node 0)")
        app("tray-local", "remote node, tray-local")
        app("rack-local", "remote node, rack-local")
        app("inter-rack", "remote node, inter-rack")
        print ""
        printf "Timing on, the local run (total) in all %d boots: %.3f ms to %.3f ms; the %s-local run in its %d boots: %.3f ms to %.3f ms.\n",
               n("total local"), min("total local") / 1e6,
               max("total local") / 1e6, "tray", n("total tray-local"),
               min("total tray-local") / 1e6, max("total tray-local") / 1e6
        if (n("total4 local"))
            printf "On 4 vCPUs (lockstep, 3 idle) the same runs took %.3f ms (local) and %.3f ms (tray-local) of guest time.\n",
                   med("total4 local") / 1e6, med("total4 tray-local") / 1e6
    }'
}

bench_start timing "$@"
repeats=${1:-3}
pool_start 1:1G
seg=$(pool_tool -c rack alloc 512M --brick 1)
pool_tool -c rack grant "$seg" brick-a --writable

# layout CLASS [CPUS]: QEMU arguments of the brick: CPUS vCPUs (1),
# 1 GiB of local DRAM (node 0) and a 512 MiB node 1 on the pool's
# segment, of latency class CLASS.
layout() {
    echo -m 1536M -smp "${2:-1}" \
        -object memory-backend-ram,id=local,size=1G \
        -object "memory-backend-remote,id=far,size=512M,pool=$POOL/pool.json,segment=$seg,client=brick-a,latency-class=$1" \
        -numa "node,nodeid=0,cpus=0-$((${2:-1} - 1)),memdev=local" \
        -numa node,nodeid=1,memdev=far
}

# app MODE CLASS [CPUS]: boot with timing=MODE, run hashtable.sh, record
# the host seconds (with CLASS tray-local: the overhead comparison) and
# the guest's times.
app() {
    t0=$(date +%s.%N)
    # shellcheck disable=SC2046
    boot "bench-timing-app-$1-$2${3:+-smp$3}" hashtable $(layout "$2" "${3:-1}") \
        -machine "timing=$1"
    t1=$(date +%s.%N)
    guest_facts "app $1 $2${3:+ smp$3}"
    if [ -z "$(fact LOCAL_NS)" ] || [ -z "$(fact REMOTE_NS)" ]; then
        # shellcheck disable=SC2154    # boot's QEMU log
        echo "bench: app $1 $2 produced no result, see $log" >&2
        exit 1
    fi
    if [ -n "${3:-}" ]; then
        result host4 "$1" "$(awk -v a="$t0" -v b="$t1" \
                                 'BEGIN { printf "%.2f", b - a }')"
        if [ "$1" = on ]; then
            result app4 local "$(fact LOCAL_NS)"
            result app4 "$2" "$(fact REMOTE_NS)"
        fi
        return
    fi
    if [ "$2" = tray-local ]; then
        result host "$1" "$(awk -v a="$t0" -v b="$t1" \
                                'BEGIN { printf "%.2f", b - a }')"
    fi
    if [ "$1" = on ]; then
        result app local "$(fact LOCAL_BUILD_NS)" "$(fact LOCAL_PROBE_NS)" \
            "$(fact LOCAL_NS)"
        result app "$2" "$(fact REMOTE_BUILD_NS)" "$(fact REMOTE_PROBE_NS)" \
            "$(fact REMOTE_NS)"
    else
        result app-off local "$(fact LOCAL_NS)"
        result app-off "$2" "$(fact REMOTE_NS)"
    fi
}

# chase CLASS: chase.sh in timing mode on a node of class CLASS; the
# figures in use from QMP while the brick waits.
chase() {
    # shellcheck disable=SC2046
    boot_bg "bench-timing-chase-$1" chase $(layout "$1") -no-shutdown \
        -machine timing=on
    timing=""
    if wait_step measured; then
        timing=$(qmp '{"execute": "query-dredbox-timing"}')
        qmp '{"execute": "quit"}' > /dev/null
    fi
    boot_wait
    guest_facts "chase $1"
    if [ -z "$(fact REMOTE_PS)" ] || [ -z "$(fact BW_NODE1_COPY)" ] ||
       [ -z "$timing" ]; then
        echo "bench: chase $1 produced no result, see $log" >&2
        exit 1
    fi
    echo "qmp chase $1: $timing"
    result chase "$1" "$(fact LOCAL_PS)" "$(fact REMOTE_PS)" \
        "$(fact BW_NODE0_COPY)" "$(fact BW_NODE1_COPY)"
    result figures "$(echo "$timing" | jq -r '.return |
        [."rmc-ns", ."dram-ns", ."tray-local-ns", ."rack-local-ns",
         ."inter-rack-ns", ."link-bandwidth", ."dram-bandwidth"] |
        map(tostring) | join(" ")')"
}

# 1. Overhead, interleaved (and the tray-local and timing-off rows of 3.).
i=0
while [ $i -lt "$repeats" ]; do
    app off tray-local
    app on tray-local
    app off tray-local 4
    app on tray-local 4
    i=$((i + 1))
done
# 2. The paper table.
chase tray-local
chase rack-local
# 3. The other classes.
app on rack-local
app on inter-rack
pool_tool -c rack free "$seg"
bench_end
