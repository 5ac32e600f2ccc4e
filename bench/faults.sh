#!/bin/sh
# Faults on the emulated default rack (docs/reliability.md), measured:
# compute brick 0 holds 256 MiB of RMC-path memory, a guest process 32
# MiB of it.  Each round:
#  - the cable at the compute brick's end is cut: the times from the cut
#    (the fabric's line in RUN/faults.log) to the RMC's link going down
#    (polled over QMP) and to the SDM controller seeing it (its line in
#    the log); what a process that touches the memory then gets (its exit
#    status); repaired, the time to the link up again, and the bytes the
#    holding process lost;
#  - the cable at the memory brick's end is cut: the times to the
#    controller's re-route (its line in the log) and to the link up
#    again, without a repair; the bytes lost;
#  - the pool is killed with SIGKILL: the time dredbox-rack restart pool
#    takes until the pool serves again (it reads its journal), and the
#    bytes lost.
# Last, once, memory brick 0 (DRAM) fails and is repaired: the bytes lost.
#
#   bench/faults.sh [ROUNDS]      (default 5)
#   bench/faults.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"

table() {
    awk "$BENCH_AWK"'
    { add($1, $2) }
    function line(k, what) {
        printf "| %s | %d | %d | %d | %d |\n", what, med(k), min(k),
               max(k), n(k)
    }
    END {
        print "| fault | median (ms) | min | max | rounds |"
        print "|---|---:|---:|---:|---:|"
        line("cut-link-down-ms", "cable cut at the compute brick: the RMC link down")
        line("cut-controller-ms", "cable cut: the controller sees it")
        line("repair-link-up-ms", "cable mended: the RMC link up")
        line("reroute-controller-ms", "cable cut at the memory brick: the controller sees it")
        line("reroute-ms", "cable cut at the memory brick: re-routed")
        line("reroute-link-up-ms", "cable cut at the memory brick: the RMC link up again")
        line("pool-restart-ms", "pool killed: restarted and serving again")
        print ""
        print "| what the guest saw | per round |"
        print "|---|---|"
        printf "| a process touching the memory behind a cut cable: exit status | %s (%d of %d rounds) |\n",
               min("cut-touch-rc") == max("cut-touch-rc") ? min("cut-touch-rc") : "varies",
               n("cut-touch-rc"), n("cut-link-down-ms")
        printf "| bytes lost by the holding process, cable cut and mended | %d (max) |\n",
               max("cut-lost-bytes")
        printf "| bytes lost by the holding process, re-routed | %d (max) |\n",
               max("reroute-lost-bytes")
        printf "| bytes lost by the holding process, pool killed and restarted | %d (max) |\n",
               max("pool-lost-bytes")
        printf "| bytes lost by the holding process, DRAM memory brick failed | %d of %d |\n",
               max("brick-lost-bytes"), max("held-bytes")
    }'
}

bench_start faults "$@"
rounds=${1:-5}
rack_up bench-faults
LOG=$RUN/faults.log

ns() { date +%s%N; }
link_up() {
    qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}' |
        jq ".return.ports[$1][\"link-up\"]"
}
alloc() { "$CTL" --json status | jq -r ".allocations[0] | $1"; }
# logged_ms PATTERN SINCE_NS: ms from SINCE_NS to the first line of the
# fault log after it that matches PATTERN (waits for it, 30 s at most).
logged_ms() {
    i=0
    while :; do
        t=$(grep "$1" "$LOG" | tail -n1 | cut -d' ' -f1)
        if [ -n "$t" ]; then
            at=$(date -d "$t" +%s%N)
            if [ "$at" -ge "$(( $2 / 1000000 * 1000000 ))" ]; then
                echo $(( (at - $2) / 1000000 ))
                return
            fi
        fi
        i=$((i + 1))
        [ $i -lt 1500 ] || { echo "bench: no '$1' in $LOG" >&2; exit 1; }
        sleep 0.02
    done
}
# until_ms SINCE_NS COMMAND...: ms from SINCE_NS until COMMAND succeeds.
until_ms() {
    since=$1
    shift
    wait_for 30 "$@" || { echo "bench: timed out: $*" >&2; exit 1; }
    echo $(( ($(ns) - since) / 1000000 ))
}
verified() {    # pages of holder A that still read back as written
    brick_run "$RUN" 0 "n=\$(grep -c TOUCH_VERIFIED /tmp/a); kill -USR1 \$(cat /tmp/a.pid); while [ \$(grep -c TOUCH_VERIFIED /tmp/a) -le \$n ]; do sleep 0.1; done; grep TOUCH_VERIFIED /tmp/a | tail -n1"
    fact TOUCH_VERIFIED
}

brick_run "$RUN" 0 "cat /sys/bus/platform/drivers/dredbox-rmc/*rmc*/nodes/tray-local"
node=$(echo "$FACTS" | head -n1)
"$CTL" attach --brick 0 --size 256M --path rmc
cp=$(alloc '."compute-port"')
m=$(alloc .memory)
brick_run "$RUN" 0 "numa-touch $node 32 hold > /tmp/a & echo \$! > /tmp/a.pid; while ! grep -q TOUCH_VERIFIED /tmp/a; do sleep 0.2; done; cat /tmp/a"
guest_facts hold
pages=$(fact TOUCH_PAGES)
result held-bytes $((pages * 4096))

r=0
while [ $r -lt "$rounds" ]; do
    r=$((r + 1))
    echo "# round $r"
    # Cut at the compute brick's end; process B touches its pages there
    # (new pages would be zeroed by the kernel: docs/reliability.md).
    brick_run "$RUN" 0 "rm -f /tmp/b.rc; (numa-touch $node 4 hold > /tmp/b; echo B_RC=\$? > /tmp/b.rc) & sleep 0.1; while ! grep -q TOUCH_VERIFIED /tmp/b; do sleep 0.1; done; pidof numa-touch | tr ' ' '\n' | sort -n | tail -n1 > /tmp/b.pid"
    t0=$(ns)
    "$RACK" fail cable "compute0.port$cp"
    result cut-link-down-ms "$(until_ms "$t0" [ "$(link_up "$cp")" = false ])"
    result cut-controller-ms "$(logged_ms "Z sdm sees compute0.port$cp down" "$t0")"
    brick_run "$RUN" 0 "kill -USR1 \$(cat /tmp/b.pid); while [ ! -e /tmp/b.rc ]; do sleep 0.1; done; cat /tmp/b.rc"
    result cut-touch-rc "$(fact B_RC)"
    t0=$(ns)
    "$RACK" repair cable "compute0.port$cp"
    result repair-link-up-ms "$(until_ms "$t0" [ "$(link_up "$cp")" = true ])"
    result cut-lost-bytes $(( (pages - $(verified)) * 4096 ))

    # Cut at the memory brick's end: the controller re-routes.
    mp=$(alloc '."memory-port"')
    t0=$(ns)
    "$RACK" fail cable "memory$m.port$mp"
    result reroute-controller-ms "$(logged_ms "Z sdm sees memory$m.port$mp down" "$t0")"
    result reroute-ms "$(logged_ms "Z sdm re-routed allocation" "$t0")"
    result reroute-link-up-ms "$(until_ms "$t0" [ "$(link_up "$cp")" = true ])"
    result reroute-lost-bytes $(( (pages - $(verified)) * 4096 ))
    "$RACK" repair cable "memory$m.port$mp"

    # The pool is killed; restarted, it serves again from its journal.
    "$RACK" kill pool > /dev/null
    t0=$(ns)
    "$RACK" restart pool > /dev/null
    result pool-restart-ms $(( ($(ns) - t0) / 1000000 ))
    result pool-lost-bytes $(( (pages - $(verified)) * 4096 ))
done

# A DRAM memory brick fails: what it held is lost.
"$RACK" fail memory-brick "$m"
"$RACK" repair memory-brick "$m"
wait_for 30 [ "$(link_up "$cp")" = true ]
result brick-lost-bytes $(( (pages - $(verified)) * 4096 ))
echo "# the fault log:"
sed 's/^/#   /' "$LOG"
bench_end
