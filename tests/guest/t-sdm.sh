#!/bin/sh
# The SDM controller on the default rack: dredboxctl attach grows a running
# stock Debian guest's MemTotal by 512 MiB, in the CPU-less NUMA node of the
# memory brick it comes from, at the distance of their circuit's class;
# detach shrinks it back, and status agrees with the bricks, the pool and
# where the guest has the memory.  Requests that cannot be met
# (no memory, no free port, brick down) fail cleanly and leave no circuit
# or memory behind.  The controller killed with SIGKILL in the middle of a
# stream of requests comes back with every acknowledged allocation, still
# consistent with the bricks and the pool; so does the switch fabric.
. "$(dirname "$0")/lib.sh"
plan 47

rack_up sdm
check_value "the rack comes up with its controller" \
    "$(grep -c '^sdm *up' "$LOGDIR/sdm-up.log")" 1

memtotal() {    # memtotal BRICK: its guest's MemTotal in kB
    brick_run "$RUN" "$1" "sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo"
    echo "$FACTS" | head -n1
}
consistent() {    # every compute/memory pair: controller = brick = pool
    "$CTL" status > "$LOGDIR/sdm-status.log" 2>&1 &&
        ! grep -q MISMATCH "$LOGDIR/sdm-status.log" && echo yes
}

# where MEMORY NODE: compute brick 0's node for memory brick MEMORY, and
# where its guest has that memory, as status says: "[NODE,[GUEST...]]"
where() {
    "$CTL" --json status |
        jq -c ".bricks[] | select(.compute == 0 and .memory == $1) |
               [.node, .\"guest-nodes\"]"
}

before=$(memtotal 0)
"$CTL" attach --brick 0 --size 512M > "$LOGDIR/sdm-attach.log" 2>&1
check_value "attach 512M succeeds" "$?" 0
check_value "from memory brick 0 into node 1, tray-local" \
    "$(sed -n 's/.*memory brick \([0-9]*\) .*(port [0-9]*, \(.*\))$/\1 \2/p' \
       "$LOGDIR/sdm-attach.log")" "0 tray-local, node 1"
# The reply comes once the memory is online: no waiting for it here.
check_value "brick 0's MemTotal grew by 512 MiB" \
    "$(($(memtotal 0) - before))" 524288
brick_run "$RUN" 0 numa-facts
check "all of it in node 1" NODE1_BYTES 536870912
check "which has no CPUs" NODE1_CPUS ""
check "node 0 sees memory brick 0 at 20, brick 1 at 30, the classes after" \
    NODE0_DISTANCE "10 20 30 20 30 50"
check_value "status agrees with the bricks and the pool" "$(consistent)" yes
check_value "status: the device's node is where the guest has the memory" \
    "$(where 0)" "[1,[1]]"
check_value "the pool lent 512 MiB" "$(rack_pool_used)" 536870912
check_value "one circuit carries it" "$(circuits)" 1

"$CTL" detach --brick 0 > /dev/null 2>&1
check_value "detach succeeds" "$?" 0
check_value "brick 0's MemTotal is back" "$(($(memtotal 0) - before))" 0
check_value "the pool has it back" "$(rack_pool_used)" 0
check_value "and the circuit is gone" "$(circuits)" 0
check_value "status: node 1 holds none of it" "$(where 0)" "[1,[]]"

# The rack-local memory brick: its own node, farther away.
"$CTL" attach --brick 0 --size 256M --memory 1 > "$LOGDIR/sdm-attach.log" 2>&1
check_value "attach from memory brick 1 goes into node 2, rack-local" \
    "$(sed -n 's/.*memory brick \([0-9]*\) .*(port [0-9]*, \(.*\))$/\1 \2/p' \
       "$LOGDIR/sdm-attach.log")" "1 rack-local, node 2"
brick_run "$RUN" 0 numa-facts
check "node 2 has it" NODE2_BYTES 268435456
# Linux lists online nodes only: node 1, empty again, is offline.
check "node 2 is 30 from every other online node" NODE2_DISTANCE \
    "30 10 30 30 50"
check_value "status agrees" "$(where 1) $(consistent)" "[2,[2]] yes"
"$CTL" detach --brick 0 > /dev/null 2>&1
check_value "detach empties node 2" "$(where 1) $(rack_pool_used)" "[2,[]] 0"
err=$("$CTL" attach --brick 0 --size 128M --memory 7 2>&1)
check_value "a memory brick the rack does not have is refused" "$err" \
    "dredboxctl: the rack has no memory brick 7"

err=$("$CTL" attach --brick 0 --size 100G 2>&1)
check_value "too much memory is refused" "$err" \
    "dredboxctl: no memory brick has 102400 MiB free"
older=$("$CTL" --json attach --brick 0 --size 128M | jq .allocation.id)
newer=$("$CTL" --json attach --brick 0 --size 128M | jq .allocation.id)
err=$("$CTL" attach --brick 0 --size 128M 2>&1)
check_value "a third allocation finds no free port" "$err" \
    "dredboxctl: compute brick 0 has no free memory port"
check_value "refusals leave only the two circuits" "$(circuits)" 2
check_value "and only their memory" "$(rack_pool_used)" 268435456

kill -9 "$(cat "$RUN/brick1.pid")"
err=$("$CTL" attach --brick 1 --size 128M 2>&1)
check_value "a dead brick's request fails" \
    "$(echo "$err" | grep -c "memory online failed: compute brick 1")" 1
check_value "and its circuit is rolled back" "$(circuits)" 2
check_value "nothing was lent for it" "$(rack_pool_used)" 268435456

# SIGKILL the controller in the middle of a stream of requests: detach
# brick 0's older allocation, attach 256 MiB in its place, six times; so
# an acknowledged attach outlives the next request.  What was
# acknowledged goes to $acks, a line per request: "detach RC ID" or
# "attach RC ID SIZE" (RC 0: acknowledged; ID and SIZE from the reply);
# the two allocations above are its first lines.
acks=$LOGDIR/sdm-acks.log
printf 'attach 0 %s 134217728\n' "$older" "$newer" > "$acks"
(
    i=0
    while [ $i -lt 6 ]; do
        "$CTL" detach --brick 0 --allocation "$older" > /dev/null 2>&1
        echo "detach $? $older" >> "$acks"
        out=$("$CTL" --json attach --brick 0 --size 256M 2> /dev/null)
        rc=$?
        echo "attach $rc $(echo "$out" | jq -r '.allocation | "\(.id) \(.size)"' 2> /dev/null)" >> "$acks"
        if [ $rc = 0 ]; then
            older=$newer newer=$(echo "$out" | jq .allocation.id)
        fi
        i=$((i + 1))
    done
) &
stream=$!
# Once an attach of the stream is acknowledged (the detach before it
# too), the rest still to come.
i=0
until [ "$(grep -c '^attach 0 ' "$acks")" -gt 2 ] || [ $i -ge 1200 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -9 "$(cat "$RUN/sdm.pid")"
wait $stream
"$RACK" restart sdm > /dev/null
i=0
until "$CTL" status > /dev/null 2>&1 || [ $i -ge 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
sed 's/^/# /' "$acks"
acked=$(($(grep -c '^[a-z]* 0 ' "$acks") - 2))
check_value "the controller died in the middle of the stream (some requests acknowledged, not all 12)" \
    "$([ "$acked" -ge 2 ] && [ "$acked" -lt 12 ] && echo yes)" yes
"$CTL" --json status | jq -r '.allocations[] | "\(.id) \(.size)"' \
    > "$LOGDIR/sdm-after.log"
# "KEPT WANTED GONE DETACHED": the acknowledged allocations still there
# with their size, the acknowledged detaches still done.  The request in
# flight when the controller died may or may not have happened.
# shellcheck disable=SC2046
set -- $(awk '
    FILENAME == ARGV[1] { have[$1] = $2; next }
    $1 == "attach" && $2 == 0 { want[$3] = $4 }
    $1 == "detach" && $2 == 0 { delete want[$3]; gone[$3] = 1 }
    $1 == "detach" && $2 != 0 { delete want[$3] }
    END {
        # An ID or size that is not a number (a reply not read) counts
        # against.
        for (id in want) {
            n++
            if (id ~ /^[0-9]+$/ && want[id] ~ /^[0-9]+$/ &&
                have[id] == want[id])
                k++
        }
        for (id in gone) { d++; if (id ~ /^[0-9]+$/ && !(id in have)) g++ }
        printf "%d %d %d %d\n", k, n, g, d
    }' "$LOGDIR/sdm-after.log" "$acks") 0 1 0 1
check_value "after a restart every acknowledged allocation is there, at its size" \
    "$1/$2" "$2/$2"
check_value "and no acknowledged detach (there is one at least) is undone" \
    "$3/$4" "$(($4 > 0 ? $4 : 1))/$4"
# Brick 1 is dead: only brick 0's pairs can be consistent.
"$CTL" status > "$LOGDIR/sdm-status.log" 2>&1
check_value "after a restart every allocation matches brick 0" \
    "$(grep -c '^0 .*consistent' "$LOGDIR/sdm-status.log")" 2
allocated=$("$CTL" --json status | jq '[.allocations[].size] | add // 0')
check_value "and the pool lends exactly what the controller recorded" \
    "$(rack_pool_used)" "$allocated"
check_value "one circuit per allocation" "$(circuits)" \
    "$("$CTL" --json status | jq '.allocations | length')"
check_value "the graph has one edge per allocation" \
    "$("$CTL" --json graph | jq '.edges | length')" \
    "$("$CTL" --json status | jq '.allocations | length')"

# The fabric crashes and comes back: an optical switch's circuits outlive
# its control software, and nothing the bricks hold is lost.
n=$(circuits)
mem=$(memtotal 0)
allocs=$("$CTL" --json status | jq '.allocations | length')
"$RACK" kill fabric > /dev/null
# Nothing is detached while the fabric cannot take the circuit down.
err=$("$CTL" detach --brick 0 2>&1)
check_value "a detach while the fabric is dead changes nothing, and says why" \
    "$(echo "$err" | grep -c "^dredboxctl: nothing was detached: cannot reach the switch fabric at $RUN/fabric.sock")/$(memtotal 0)/$("$CTL" --json status | jq '.allocations | length')" \
    "1/$mem/$allocs"
"$RACK" restart fabric > /dev/null
check_value "a restarted fabric has every circuit back, up" \
    "$(printf '%s\n' '{"cmd":"query"}' |
       socat -t 5 - "UNIX-CONNECT:$RUN/fabric.sock" |
       jq '[.circuits[] | select(.state == "up")] | length')" "$n"
"$CTL" status > "$LOGDIR/sdm-status.log" 2>&1
check_value "the controller still finds brick 0's allocations consistent" \
    "$(grep -c '^0 .*consistent' "$LOGDIR/sdm-status.log")" 2
check_value "and brick 0 kept its memory" "$(memtotal 0)" "$mem"
"$CTL" detach --brick 0 > /dev/null 2>&1
check_value "a restored circuit is torn down by a detach" \
    "$?/$(circuits)" "0/$((n - 1))"
# How many allocations are left depends on where the kill landed: the
# detach in flight then is finished at the restart, or never began.
check_value "plan-power: the memory bricks that hold nothing can be off" \
    "$("$CTL" --json plan-power | jq -c '."powered-down"')" \
    "$("$CTL" --json status | jq -c '[0, 1] - [.allocations[].memory]')"
err=$("$CTL" attach --brick 0 --size 100M 2>&1)
check_value "sizes are checked" "$err" \
    "dredboxctl: size must be a positive multiple of 128 MiB"
err=$(printf '%s\n' '{"cmd":"reboot"}' | socat -t 5 - "UNIX-CONNECT:$RUN/sdm.sock")
check_value "unknown requests get a clear error" \
    "$(echo "$err" | jq -r .error)" \
    'unknown command "reboot" (attach, detach, status, graph, plan-power, register, reconcile)'

# Garbage on every control socket of the live rack: each line refused,
# every daemon still up, and the rack exactly as it was.
FUZZ=$TOOLS_BUILD/tests/unit/control-fuzz
before="$(circuits) $(rack_pool_used) $("$CTL" --json status | jq -c '.allocations')"
fuzzed=""
: > "$LOGDIR/sdm-fuzz.log"
for target in "pool $RUN/pool/memd.sock" "fabric $RUN/fabric.sock" \
              "sdm $RUN/sdm.sock" "accel $RUN/accel0-ctl.sock"; do
    # shellcheck disable=SC2086
    "$FUZZ" $target 1000 >> "$LOGDIR/sdm-fuzz.log" 2>&1 &&
        fuzzed="$fuzzed ${target%% *}"
done
check_value "every control socket refuses 1000 hostile lines and still answers" \
    "$fuzzed" " pool fabric sdm accel"
grep '^#\|control-fuzz:' "$LOGDIR/sdm-fuzz.log"
check_value "and garbage changed nothing: circuits, pool, allocations" \
    "$(circuits) $(rack_pool_used) $("$CTL" --json status | jq -c '.allocations')" \
    "$before"
"$CTL" status > "$LOGDIR/sdm-status.log" 2>&1
check_value "status still answers and is consistent for brick 0" \
    "$?/$(grep -c '^0 .*MISMATCH' "$LOGDIR/sdm-status.log")" 0/0
