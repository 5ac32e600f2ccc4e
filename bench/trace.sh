#!/bin/sh
# What the memory-access plugin costs a memory-bound guest workload, in
# one run: guest copy bandwidth (membw, local and remote node) with no
# plugin, with dredbox-mem in count mode, in trace mode with one access
# in 1000 traced (so that the trace of a boot fits on a disk), and in
# trace mode with every access traced to /dev/null (the plugin's whole
# cost without the disk's: a file would take ~20 GB); boots interleaved.
# Then the trace's size per traced access.
# docs/benchmarks.md keeps results.
#
#   bench/trace.sh [REPEATS]      (default 2 boots per configuration)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/tests/guest/lib.sh"
LOGDIR=$SRCDIR/build/bench-logs
mkdir -p "$LOGDIR"
repeats=${1:-2}
PLUGIN=$SRCDIR/build/tools/target-arm/plugins/libdredbox-mem.so

pool_start 0:1G
trap 'pool_stop' EXIT
layout="-m 1536M -object memory-backend-ram,id=local,size=1G
 -object memory-backend-remote,id=far,size=512M,pool=$POOL/memd.sock,brick=0
 -numa node,nodeid=0,cpus=0-3,memdev=local -numa node,nodeid=1,memdev=far"

run() {    # run NAME [PLUGIN ARGS]: append "NAME local remote" (copy MB/s)
    name=$1
    shift
    # shellcheck disable=SC2086
    boot "bench-trace-$name" membw $layout "$@"
    l=$(fact BW_NODE0_COPY) r=$(fact BW_NODE1_COPY)
    if [ -z "$l" ] || [ -z "$r" ]; then
        echo "bench: $name produced no result, see $log" >&2
        exit 1
    fi
    echo "$name $l $r" >> "$LOGDIR/trace-results"
}

: > "$LOGDIR/trace-results"
i=0
while [ $i -lt "$repeats" ]; do
    run none
    run count -plugin "$PLUGIN,mode=count,out=$LOGDIR/bench-trace.counts"
    run trace -plugin "$PLUGIN,mode=trace,sample=1000,out=$LOGDIR/bench-trace.bin"
    run trace-all -plugin "$PLUGIN,mode=trace,out=/dev/null"
    i=$((i + 1))
done
awk '{ l[$1] += $2; r[$1] += $3; n[$1]++ }
END {
    printf "%-22s %14s %14s\n", "", "local MB/s", "remote MB/s"
    printf "%-22s %14.0f %14.0f\n", "no plugin", l["none"] / n["none"], r["none"] / n["none"]
    printf "%-22s %14.0f %14.0f\n", "dredbox-mem count", l["count"] / n["count"], r["count"] / n["count"]
    printf "%-22s %14.0f %14.0f\n", "trace, sample=1000", l["trace"] / n["trace"], r["trace"] / n["trace"]
    printf "%-22s %14.0f %14.0f\n", "trace, every access", l["trace-all"] / n["trace-all"], r["trace-all"] / n["trace-all"]
    printf "slowdown (no plugin / count): local %.1fx, remote %.1fx\n",
           l["none"] / l["count"], r["none"] / r["count"]
    printf "slowdown (no plugin / trace): local %.1fx, remote %.1fx\n",
           l["none"] / l["trace"], r["none"] / r["trace"]
    printf "slowdown (no plugin / trace every access): local %.1fx, remote %.1fx\n",
           l["none"] / l["trace-all"], r["none"] / r["trace-all"]
}' "$LOGDIR/trace-results"
records=$("$SRCDIR/build/tools/controller/trace/dredbox-trace" summary \
          "$LOGDIR/bench-trace.bin" | sed -n '1s/ accesses.*//p')
bytes=$(stat -c %s "$LOGDIR/bench-trace.bin")
echo "trace: $records accesses in $bytes bytes: $(( (bytes - 32) / records )) bytes per traced access"
rm -f "$LOGDIR/bench-trace.bin"
