# Two vCPUs at once, on the remote nodes 1 and 2 (docs/timing.md,
# "Several vCPUs"): a pointer chase on each, then a streaming copy on
# each.  Each pair runs on vCPUs 0 and 1 and measures together
# (BENCH_GO, guest/tools/bench-lib.h).  Whether the two nodes
# share a link is the host's choice of memory bricks behind them.  Then
# waits for the host to read the counters (DREDBOX-STEP measured).
set -e -o pipefail    # errors are fatal (docs/testing.md)

# pair COMMAND: COMMAND with each @ replaced by 1 on vCPU 0 and by 2 on
# vCPU 1, measuring together; prints what both printed.
pair() {
    rm -f /tmp/go /tmp/go.*
    # shellcheck disable=SC2046
    BENCH_GO=/tmp/go taskset -c 0 $(echo "$@" | sed 's/@/1/g') > /tmp/go.1 &
    one=$!
    # shellcheck disable=SC2046
    BENCH_GO=/tmp/go taskset -c 1 $(echo "$@" | sed 's/@/2/g') > /tmp/go.2 &
    two=$!
    until [ "$(ls /tmp/go.ready.* 2> /dev/null | wc -l)" = 2 ]; do
        kill -0 "$one" && kill -0 "$two"    # neither failed early
        sleep 0.01
    done
    touch /tmp/go
    wait "$one"
    wait "$two"
    cat /tmp/go.1 /tmp/go.2
}

pair chase CHASE@ @ 65536 200000
pair membw 16 5 @
echo "DREDBOX-STEP measured"
