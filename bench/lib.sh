# Shared by every bench/*.sh (sourced after the script has set -eu):
# the guest-test helpers (boot, fact, pool_start, rack_up, ...), the log
# of each run and the table made from it.
#
# A benchmark script defines `table`, which reads the run's result lines
# ("KEY VALUE...", from `result`) on stdin and prints its Markdown table,
# then calls `bench_start NAME "$@"` and, at the end, `bench_end`.
# Everything the script prints while it runs (its raw output, the guest's
# facts, result lines, the table) also goes to a log that starts with the
# commit, the host CPU and the date, and that lands in
# bench/results/NAME-YYYYMMDD-HHMMSS.log when the run succeeds
# (a failed run's log stays in build/bench-logs/).
#
# `bench/NAME.sh --table LOG` prints the table again from LOG's result
# lines: bench/tables.sh regenerates docs/benchmarks.md that way.

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
LOGDIR=$SRCDIR/build/bench-logs
RESULTS=$SRCDIR/bench/results
. "$SRCDIR/tests/guest/lib.sh"

# Commands run on exit before the guest helpers' cleanup (a script's own
# temporary files).
BENCH_ON_EXIT=""
BENCH_LOG=""

# Awk functions for tables: add(KEY, VALUE) collects, then n(KEY),
# med(KEY) (median; of an even count, the mean of the middle two),
# min(KEY), max(KEY).
BENCH_AWK='
function add(k, v) { val[k, ++cnt[k]] = v }
function n(k) { return cnt[k] + 0 }
function sorted(k, a,   i, j, t) {
    for (i = 1; i <= cnt[k]; i++) {
        t = val[k, i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
}
function med(k,   a, m) {
    m = cnt[k]; sorted(k, a)
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function min(k,   a) { sorted(k, a); return a[1] }
function max(k,   a) { sorted(k, a); return a[cnt[k]] }
'

# result KEY VALUE...: one line of the run's data (what `table` reads).
result() {
    echo "result $*"
}

# results LOG: a log's result lines, without the prefix.
results() {
    sed -n 's/^result //p' "$1"
}

# guest_facts LABEL: what the guest printed, into the log.
guest_facts() {
    echo "$FACTS" | sed "s/^/guest $1: /"
}

# bench_start NAME ARGS...: with "--table LOG", print LOG's table and
# exit; else start the log of this run.
bench_start() {
    BENCH_NAME=$1
    shift
    if [ "${1-}" = --table ]; then
        [ -f "${2-}" ] || { echo "usage: $0 --table LOG" >&2; exit 2; }
        results "$2" | table
        exit 0
    fi
    mkdir -p "$LOGDIR" "$RESULTS"
    BENCH_STAMP=$(date -u +%Y%m%d-%H%M%S)
    BENCH_LOG=$LOGDIR/$BENCH_NAME-$BENCH_STAMP.log
    fifo=$LOGDIR/bench-$$.fifo
    rm -f "$fifo"
    mkfifo "$fifo"
    tee "$BENCH_LOG" < "$fifo" &
    BENCH_TEE=$!
    exec 3>&1 4>&2 > "$fifo" 2>&1
    rm -f "$fifo"
    trap bench_exit EXIT
    dirty=$(git -C "$SRCDIR" status --porcelain --untracked-files=no |
            awk '{ printf "%s%s", sep, $2; sep = " " }')
    echo "# bench: $BENCH_NAME"
    echo "# command: bench/$BENCH_NAME.sh $*"
    echo "# commit: $(git -C "$SRCDIR" describe --always --dirty)"
    [ -z "$dirty" ] || echo "# dirty: $dirty"
    echo "# host: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
                    head -n1), nproc $(nproc)"
    echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_end: the table of this run; the log goes to bench/results/.
bench_end() {
    echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    results "$BENCH_LOG" | table
    BENCH_DONE=1
}

bench_exit() {
    rc=$?
    eval "$BENCH_ON_EXIT"
    cleanup
    exec 1>&3 2>&4 3>&- 4>&-
    wait "$BENCH_TEE"
    if [ "${BENCH_DONE-}" = 1 ] && [ $rc = 0 ]; then
        mv "$BENCH_LOG" "$RESULTS/$BENCH_NAME-$BENCH_STAMP.log"
        echo "log: bench/results/$BENCH_NAME-$BENCH_STAMP.log"
    else
        echo "bench: failed (rc=$rc); log: $BENCH_LOG" >&2
        [ $rc != 0 ] || rc=1
    fi
    exit $rc
}

# membw_layout FAR_BACKEND: QEMU arguments of the membw benchmarks' brick:
# 1 GiB of local DRAM (node 0, all CPUs) and a CPU-less 512 MiB node 1 on
# FAR_BACKEND (a memory-backend-* with id=far).
membw_layout() {
    echo -m 1536M -object memory-backend-ram,id=local,size=1G \
        -object "$1" -numa node,nodeid=0,cpus=0-3,memdev=local \
        -numa node,nodeid=1,memdev=far
}

# membw_boot NAME QEMU_ARGS...: boot a brick that runs membw (node 0 and node
# 1, tests/guest/rootfs/membw.sh); record "NAME LOCAL REMOTE", its median
# copy bandwidths in MB/s.
membw_boot() {
    name=$1
    shift
    boot "bench-$BENCH_NAME-$name" membw "$@"
    guest_facts "$name"
    l=$(fact BW_NODE0_COPY) r=$(fact BW_NODE1_COPY)
    if [ -z "$l" ] || [ -z "$r" ]; then
        echo "bench: $name produced no result, see $log" >&2
        exit 1
    fi
    result "$name $l $r"
}
