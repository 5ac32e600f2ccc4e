#!/bin/sh
# Memory on the RMC path on the default rack: `dredboxctl attach --path
# rmc` has the controller lease a segment, set up the circuit, attach the
# segment to the brick's RMC and ask the brick's SDM agent to hot-add it
# with the dredbox-rmc driver; the stock Debian guest's node for the
# latency class grows, a program binds 64 MiB there with mbind, detach
# removes it.  Twenty times, with nothing left in the guest, the pool or
# the RMC.  Detach while a process uses the memory, and a request to a
# dead brick, fail or succeed cleanly; a detach the guest cannot finish
# (pinned pages) is given up by its agent in time, and nothing changes.  A memory brick registered while
# the rack runs serves the RMC path at once.
. "$(dirname "$0")/lib.sh"
plan 31

rack_up rmc-path
check_value "the rack comes up" "$(grep -c '^brick0 *up' "$LOGDIR/rmc-path-up.log")" 1

rmc_state() {    # live entries and attached segments of brick 0's RMC
    qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}' |
        jq -c '.return | [([.ports[] | select(.live.enabled)] | length), (.segments | length)]'
}
node_kb() {    # node_kb NODE: its MemTotal in kB (0 when offline)
    brick_run "$RUN" 0 "cat /sys/devices/system/node/node$1/meminfo 2> /dev/null | sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p'"
    echo "$FACTS" | head -n1 | sed 's/^rc=.*/0/'
}

brick_run "$RUN" 0 "cat /sys/bus/platform/drivers/dredbox-rmc/*rmc*/nodes/tray-local"
node=$(echo "$FACTS" | head -n1)
check_value "the brick's driver has a tray-local node after the memory bricks' 2" "$node" 3
total0=$(brick_run "$RUN" 0 "sed -n 's/MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo"; echo "$FACTS" | head -n1)

ok=0 i=0
while [ $i -lt 20 ]; do
    out=$("$CTL" attach --brick 0 --size 512M --path rmc 2>&1) || break
    echo "$out" | grep -q tray-local || break
    [ "$(node_kb "$node")" = 524288 ] || break
    brick_run "$RUN" 0 "numa-touch $node 64"
    [ "$(fact TOUCH_ON_NODE)" = 16384 ] && [ "$(fact TOUCH_VERIFIED)" = 16384 ] || break
    "$CTL" detach --brick 0 > /dev/null 2>&1 || break
    [ "$(node_kb "$node")" = 0 ] || break
    [ "$(rack_pool_used)" = 0 ] || break
    [ "$(rmc_state)" = "[0,0]" ] || break
    i=$((i + 1))
done
check_value "20 rounds: attach 512 MiB into node $node, mbind 64 MiB, detach" "$i" 20
[ $i = 20 ] || echo "# round $i: $out; node $(node_kb "$node") kB, pool $(rack_pool_used), RMC $(rmc_state)"
check_value "the guest's MemTotal is back where it was" \
    "$(brick_run "$RUN" 0 "sed -n 's/MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo"; echo "$FACTS" | head -n1)" "$total0"

# The agent trusts the controller's channel no more than any input:
# numbers that wrap, trailing junk, prefixes and lines without an ID are
# refused one by one, and it still answers afterwards.
agent_replies() {    # agent_replies N LINE...: its first N replies
    out=$LOGDIR/rmc-path-agent.out
    n=$1
    shift
    : > "$out"
    # shut-none: QEMU drops the channel's client when it half-closes.
    printf '%s\n' "$@" |
        timeout 30 socat -t 30 - "UNIX-CONNECT:$RUN/brick0.agent,shut-none" \
        > "$out" &
    pid=$!
    i=0
    while [ "$(wc -l < "$out")" -lt "$n" ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill $pid 2> /dev/null
    wait $pid 2> /dev/null
    cat "$out"
}
agent_replies 7 "11 attach 4294967296 0 0 8000000 tray-local" \
    "12 detach 0 1000 junk" "13 detach 1x 1000" "junk status" \
    "14 attach 0 0 0x0 8000000 tray-local" "15 reboot" "16 status" \
    > "$LOGDIR/rmc-path-agent.log"
check_value "the agent refuses a port that wraps at 2^32" \
    "$(sed -n 1p "$LOGDIR/rmc-path-agent.log")" \
    "11 error attach takes PORT BRICK OFFSET_HEX SIZE_HEX CLASS"
check_value "and trailing junk, and a number with junk after it" \
    "$(sed -n 2,3p "$LOGDIR/rmc-path-agent.log" | tr '\n' '/')" \
    "12 error detach takes PORT TIMEOUT_MS/13 error detach takes PORT TIMEOUT_MS/"
check_value "a line without an ID gets an error under ID 0" \
    "$(sed -n 4p "$LOGDIR/rmc-path-agent.log")" \
    "0 error a request is ID REQUEST"
check_value "a 0x prefix and an unknown request are refused" \
    "$(sed -n 5,6p "$LOGDIR/rmc-path-agent.log" | cut -d' ' -f1-2 | tr '\n' '/')" \
    "14 error/15 error/"
check_value "and the agent still answers" \
    "$(sed -n 7p "$LOGDIR/rmc-path-agent.log" | cut -d' ' -f1-2)" "16 ok"
check_value "nothing was attached by it" "$(rmc_state)" "[0,0]"

# Detach while a process holds 64 MiB there: migrated away or refused.
"$CTL" attach --brick 0 --size 256M --path rmc > /dev/null
brick_run "$RUN" 0 "(numa-touch $node 64 hold > /tmp/hold &) ; while ! grep -q TOUCH_VERIFIED /tmp/hold; do sleep 0.2; done; grep TOUCH_ON_NODE /tmp/hold"
check_value "a process holds memory in the node" "$(fact TOUCH_ON_NODE)" 16384
if "$CTL" detach --brick 0 > "$LOGDIR/rmc-path-detach.log" 2>&1; then
    check_value "detach in use: the memory was migrated, nothing left" \
        "$(node_kb "$node") $(rack_pool_used) $(rmc_state)" "0 0 [0,0]"
else
    check_value "detach in use: refused with the guest's reason" \
        "$(grep -c 'memory still in use\|Device or resource busy' "$LOGDIR/rmc-path-detach.log")" 1
    "$CTL" detach --brick 0 > /dev/null 2>&1
fi
brick_run "$RUN" 0 "ps | grep -q '[n]uma-touch' && echo holder-alive; kill \$(pidof numa-touch); echo still-here"
check_value "the process and the guest carry on" \
    "$(echo "$FACTS" | grep -c 'holder-alive\|still-here')" 2

# Detach while a process pins pages there (spliced into a pipe, as a
# device's DMA would hold them): the guest cannot let go.  Its agent gives
# up at the deadline the controller gave it, before the controller stops
# waiting, and the memory stays: controller, guest, RMC and pool agree.
"$CTL" attach --brick 0 --size 256M --path rmc > /dev/null
brick_run "$RUN" 0 "(numa-touch $node 16 pin > /tmp/pin &) ; while ! grep -q TOUCH_VERIFIED /tmp/pin; do sleep 0.2; done; grep TOUCH_ON_NODE /tmp/pin"
check_value "a process pins memory in the node" "$(fact TOUCH_ON_NODE)" 4096
err=$("$CTL" detach --brick 0 2>&1)
check_value "its detach fails: the agent gave up at the controller's deadline" \
    "$?/$(echo "$err" | grep -c 'detach: not done in 20000 ms (the guest still uses the memory), nothing changed')" 1/1
check_value "and nothing changed: guest, RMC, pool and controller agree" \
    "$(node_kb "$node") $(rmc_state) $(rack_pool_used) $("$CTL" status | grep -c MISMATCH)" \
    "262144 [1,1] 268435456 0"
brick_run "$RUN" 0 "kill \$(pidof numa-touch)"
"$CTL" detach --brick 0 > /dev/null 2>&1
check_value "once the pages are let go, detach takes it all back" \
    "$?/$(node_kb "$node") $(rmc_state) $(rack_pool_used)" "0/0 [0,0] 0"

# A memory brick joins the running rack (registration, S11) and serves
# the RMC path at once; it is in the rack file for a controller restart.
"$CTL" register "memory 2 tray=0 size=512M ports=1" \
    "cable memory2 optical:13 latency=tray-local" > /dev/null 2>&1
check_value "a memory brick registers with the running rack" "$?" 0
check_value "the pool has it" \
    "$("$TOOLS_BUILD/memory-brick/dredbox-pool" -p "$RUN/pool/pool.json" --json query | jq '.bricks[] | select(.id == 2) | .size')" \
    536870912
out=$("$CTL" attach --brick 0 --size 512M --path rmc 2>&1)
check_value "a request it fits best lands on it" \
    "$(echo "$out" | grep -c 'of memory brick 2 for compute brick 0')" 1
check_value "and the guest's node grows" "$(node_kb "$node")" 524288
check_value "status: pool, RMC and guest agree with the controller" \
    "$("$CTL" status | grep -c MISMATCH) $("$CTL" --json status | jq -c '[.segments[] | [.pool, .rmc, .guest]]')" \
    "0 [[true,true,true]]"
"$CTL" detach --brick 0 > /dev/null 2>&1
check_value "detach gives it back" "$(node_kb "$node") $(rack_pool_used)" "0 0"
err=$("$CTL" register "compute 5" 2>&1)
check_value "a compute brick cannot join that way" "$err" \
    "dredboxctl: only memory bricks join a running rack (compute brick 5 needs its own process: dredbox-rack up)"
check_value "the registration is in the rack file" \
    "$(grep -c '^memory 2 tray=0 size=512M ports=1$' "$RUN/rack")" 1

# A brick that dies holding RMC-path memory: detach needs --force.
"$CTL" attach --brick 1 --size 256M --path rmc > /dev/null
kill -9 "$(cat "$RUN/brick1.pid")"
err=$("$CTL" detach --brick 1 2>&1)
check_value "detach from a dead brick is refused without --force" \
    "$(echo "$err" | grep -c 'the guest keeps the memory (detach --force takes it anyway)')" 1
check_value "and the memory stays leased" "$(rack_pool_used)" 268435456
"$CTL" detach --brick 1 --force > /dev/null 2>&1
check_value "detach --force gives it back" "$?/$(rack_pool_used)" 0/0
err=$("$CTL" attach --brick 1 --size 256M --path rmc 2>&1)
check_value "a request for a dead brick fails" "$?" 1
check_value "and leaves no memory leased" "$(rack_pool_used)" 0
check_value "and no allocation" \
    "$("$CTL" --json status | jq '.allocations | length')" 0
