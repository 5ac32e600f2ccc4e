#!/bin/sh
# The accelerator brick from a compute brick's guest, in one run on the
# emulated default rack: copy and CRC32C offloaded vs the same work by the
# guest CPU on the same remote memory (and on local DRAM for reference),
# and submission-to-completion latency of small (64-byte CRC32C) jobs.
# docs/benchmarks.md keeps results.
#
#   bench/accel.sh [LEN]      (default 64M; the queue segment is 256M)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/tests/guest/lib.sh"
RACK=$SRCDIR/controller/rack/dredbox-rack
CTL=$SRCDIR/build/tools/controller/sdm/dredboxctl
export DREDBOX_RUN="$SRCDIR/build/bench-logs/accel-rack"
len=${1:-64M}
mkdir -p "$SRCDIR/build/bench-logs"
"$RACK" down > /dev/null 2>&1
trap '"$RACK" down > /dev/null 2>&1' EXIT
"$RACK" up > /dev/null
"$CTL" attach --brick 0 --accelerator > /dev/null
brick_run "$DREDBOX_RUN" 0 "dredbox-accel bench $len"
for k in copy-offload-mibs copy-cpu-mibs copy-cpu-local-mibs copy-ratio \
         crc32c-offload-mibs crc32c-cpu-mibs crc32c-cpu-local-mibs \
         crc32c-ratio small-job-us-median small-job-us-p90 small-job-us-min; do
    [ -n "$(fact $k)" ] || { echo "bench: no $k: $FACTS" >&2; exit 1; }
done
row() { printf '%-8s %15s %15s %17s %14s\n' "$@"; }
echo "$(fact bench-len) bytes per job, from brick 0's guest"
row "" "offload MiB/s" "CPU MiB/s" "CPU local MiB/s" "offload / CPU"
row copy "$(fact copy-offload-mibs)" "$(fact copy-cpu-mibs)" \
    "$(fact copy-cpu-local-mibs)" "$(fact copy-ratio)"
row crc32c "$(fact crc32c-offload-mibs)" "$(fact crc32c-cpu-mibs)" \
    "$(fact crc32c-cpu-local-mibs)" "$(fact crc32c-ratio)"
echo "small job (64-byte CRC32C) submission to completion:" \
    "median $(fact small-job-us-median) us, p90 $(fact small-job-us-p90) us," \
    "min $(fact small-job-us-min) us"
