#!/bin/sh
# How bringing up a rack scales: time from `dredbox-rack up` to every
# compute brick's Linux shell, for racks of 1, 2 and 4 compute bricks
# (each with one memory brick), measured one after the other in one run.
# docs/benchmarks.md keeps results.
#
#   bench/rack-boot.sh [REPEATS]      (default 2 per size)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
RACK=$SRCDIR/controller/rack/dredbox-rack
export DREDBOX_RUN="$SRCDIR/build/bench-logs/rack"
repeats=${1:-2}
mkdir -p "$SRCDIR/build/bench-logs"
rackfile=$SRCDIR/build/bench-logs/bench.rack
trap '"$RACK" down > /dev/null 2>&1' EXIT

printf '%-15s %12s %14s\n' "compute bricks" "up (s)" "per brick (s)"
for n in 1 2 4; do
    {
        echo "rack bench$n"
        i=0
        while [ $i -lt $n ]; do
            echo "compute $i ram=512M ports=1"
            echo "memory $i size=1G"
            i=$((i + 1))
        done
        echo "electrical-switch"
    } > "$rackfile"
    total=0
    r=0
    while [ $r -lt "$repeats" ]; do
        "$RACK" down > /dev/null 2>&1
        t0=$(date +%s%N)
        "$RACK" up "$rackfile" > /dev/null
        t1=$(date +%s%N)
        total=$((total + (t1 - t0) / 1000000))
        r=$((r + 1))
    done
    "$RACK" down > /dev/null
    awk -v n=$n -v ms=$total -v r="$repeats" 'BEGIN {
        printf "%-15d %12.1f %14.1f\n", n, ms / r / 1000, ms / r / 1000 / n }'
done
