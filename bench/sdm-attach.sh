#!/bin/sh
# End-to-end attach latency on the emulated default rack: from
# `dredboxctl attach --brick 0 --size 512M` to the memory being online in
# the guest (the controller acknowledges only once the guest has plugged
# it), and the matching detach; median and spread over N rounds.
# docs/benchmarks.md keeps results.
#
#   bench/sdm-attach.sh [ROUNDS]      (default 10)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
RACK=$SRCDIR/controller/rack/dredbox-rack
CTL=$SRCDIR/build/tools/controller/sdm/dredboxctl
export DREDBOX_RUN="$SRCDIR/build/bench-logs/sdm-rack"
rounds=${1:-10}
mkdir -p "$SRCDIR/build/bench-logs"
"$RACK" down > /dev/null 2>&1
trap '"$RACK" down > /dev/null 2>&1' EXIT
"$RACK" up > /dev/null

ms() { echo $(($(date +%s%N) / 1000000)); }
: > "$DREDBOX_RUN/attach.ms"
: > "$DREDBOX_RUN/detach.ms"
i=0
while [ $i -lt "$rounds" ]; do
    t0=$(ms)
    "$CTL" attach --brick 0 --size 512M > /dev/null
    t1=$(ms)
    "$CTL" detach --brick 0 > /dev/null
    t2=$(ms)
    echo $((t1 - t0)) >> "$DREDBOX_RUN/attach.ms"
    echo $((t2 - t1)) >> "$DREDBOX_RUN/detach.ms"
    i=$((i + 1))
done
stats() {    # median, min, max of a column of numbers
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        printf "%8d %8d %8d\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
printf '%-8s %8s %8s %8s   (ms, %d rounds)\n' "" median min max "$rounds"
printf '%-8s %s\n' attach "$(stats "$DREDBOX_RUN/attach.ms")"
printf '%-8s %s\n' detach "$(stats "$DREDBOX_RUN/detach.ms")"
