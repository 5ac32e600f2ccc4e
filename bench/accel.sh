#!/bin/sh
# The accelerator brick from a compute brick's guest, in one run on the
# emulated default rack: copy and CRC32C offloaded vs the same work by the
# guest CPU on the same remote memory (and on local DRAM, both buffers
# touched before timing, for reference), and submission-to-completion
# latency of small (64-byte CRC32C) jobs.  `dredbox-accel bench` runs
# ROUNDS times; the table gives the median of each figure over the rounds.
#
#   bench/accel.sh [ROUNDS [LEN]]      (default 3 rounds of 64M; the
#                                       queue segment is 256M)
#   bench/accel.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"

KEYS="copy-offload-mibs copy-cpu-mibs copy-cpu-local-mibs copy-ratio
      crc32c-offload-mibs crc32c-cpu-mibs crc32c-cpu-local-mibs crc32c-ratio
      small-job-us-median small-job-us-p90 small-job-us-min"

table() {
    awk "$BENCH_AWK"'
    $1 == "len" { len = $2 / 1048576; next }
    { add($1, $2) }
    function row(op) {
        printf "| %s | %.0f | %.0f | %.0f | %.1f |\n", op,
               med(op "-offload-mibs"), med(op "-cpu-mibs"),
               med(op "-cpu-local-mibs"), med(op "-ratio")
    }
    END {
        printf "| %d MiB, median of %d rounds | offload MiB/s | CPU, remote MiB/s | CPU, local MiB/s | offload / CPU remote |\n",
               len, n("copy-ratio")
        print "|---|---:|---:|---:|---:|"
        row("copy")
        row("crc32c")
        print ""
        printf "Small jobs (64-byte CRC32C), submission to completion seen by the guest, medians over the rounds: median %.0f us, p90 %.0f us, min %.0f us.\n",
               med("small-job-us-median"), med("small-job-us-p90"),
               med("small-job-us-min")
    }'
}

bench_start accel "$@"
rounds=${1:-3}
len=${2:-64M}
rack_up bench-accel
"$CTL" attach --brick 0 --accelerator
r=0
while [ $r -lt "$rounds" ]; do
    brick_run "$RUN" 0 "dredbox-accel bench $len"
    guest_facts "round $r"
    for k in bench-len $KEYS; do
        [ -n "$(fact "$k")" ] || { echo "bench: no $k" >&2; exit 1; }
    done
    [ $r -gt 0 ] || result "len $(fact bench-len)"
    for k in $KEYS; do
        result "$k $(fact "$k")"
    done
    r=$((r + 1))
done
bench_end
