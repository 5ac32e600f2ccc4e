#!/bin/sh
# Guest memory bandwidth on a compute brick, measured side by side:
#  1. the remote node (memory-backend-remote, a memory-brick segment) vs
#     local DRAM, in the same guest and run;
#  2. the same layout with the remote node on memory-backend-file,share=on
#     (what plain QEMU offers for shared memory), same binary, same run.
# Prints a table and the two ratios; docs/benchmarks.md keeps results.
#
#   bench/remote-memory.sh [REPEATS]      (default 3 boots per layout)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/tests/guest/lib.sh"
LOGDIR=$SRCDIR/build/bench-logs
mkdir -p "$LOGDIR"
repeats=${1:-3}

pool_start 0:1G
shm=$(mktemp -d /dev/shm/dredbox-bench-XXXXXX)
trap 'rm -rf "$shm"; pool_stop' EXIT

layout() {    # layout REMOTE_BACKEND_OPTIONS
    echo -m 1536M -object memory-backend-ram,id=local,size=1G \
        -object "$1" -numa node,nodeid=0,cpus=0-3,memdev=local \
        -numa node,nodeid=1,memdev=far
}

# run NAME BACKEND: boot once, append "NAME local remote" (copy MB/s).
run() {
    # shellcheck disable=SC2046
    boot "bench-$1" membw $(layout "$2")
    l=$(fact BW_NODE0_COPY) r=$(fact BW_NODE1_COPY)
    if [ -z "$l" ] || [ -z "$r" ]; then
        echo "bench: $1 produced no result, see $LOGDIR/bench-$1.log" >&2
        exit 1
    fi
    echo "$1 $l $r" >> "$LOGDIR/results"
}

: > "$LOGDIR/results"
i=0
while [ $i -lt "$repeats" ]; do
    run remote "memory-backend-remote,id=far,size=512M,pool=$POOL/memd.sock"
    run file "memory-backend-file,id=far,size=512M,mem-path=$shm/far,share=on"
    i=$((i + 1))
done

awk '
{ loc[$1] += $2; rem[$1] += $3; n[$1]++ }
END {
    printf "%-30s %12s %12s\n", "remote node on", "local MB/s", "remote MB/s"
    printf "%-30s %12.0f %12.0f\n", "memory-backend-remote",
        loc["remote"] / n["remote"], rem["remote"] / n["remote"]
    printf "%-30s %12.0f %12.0f\n", "memory-backend-file,share=on",
        loc["file"] / n["file"], rem["file"] / n["file"]
    printf "remote/local bandwidth (memory-backend-remote): %.2f\n",
        rem["remote"] / loc["remote"]
    printf "memory-backend-remote/memory-backend-file (remote node): %.2f\n",
        rem["remote"] / rem["file"]
}' "$LOGDIR/results"
