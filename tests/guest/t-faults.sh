#!/bin/sh
# Faults on purpose (docs/reliability.md): on the default rack, compute
# brick 0 holds RMC-path memory that two guest processes use.  The cable
# of its RMC port is cut: the RMC's link goes down, the fault is logged,
# the controller shows the allocation degraded and why; the process that
# touches the memory gets SIGBUS and the stock Debian kernel carries on.
# With every port of the brick dark, a new request is refused with the
# reason.  The controller hears the RMC's link change and fault from the
# brick, and from the brick's agent, which the guest's driver told the
# range it lost.  Repaired, the link comes back by itself and the other
# process finds every byte it wrote.  A cut at the memory brick's end
# is re-routed by the controller over a spare port.  Then the memory brick itself
# fails: it is DRAM, so after the repair that process reads zeroes.
# A page of the memory brick is poisoned: the process reading it
# gets SIGBUS.  The pool is killed and restarted under the memory.  On
# memory of the brick on the virtio-mem path, a process reading a
# poisoned page gets SIGBUS, and so does one touching it while the memory
# brick fails again.  Last, the memory brick fails for good: the
# guest gives up the memory it can no longer reach, and the controller
# frees it.
. "$(dirname "$0")/lib.sh"
plan 53

rack_up faults
check_value "the rack comes up" "$(grep -c '^brick0 *up' "$LOGDIR/faults-up.log")" 1

link_up() {    # link_up PORT: brick 0's RMC says the port's link is up
    qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}' |
        jq ".return.ports[$1][\"link-up\"]"
}
alloc() {    # alloc FILTER: of the controller's only allocation
    "$CTL" --json status | jq -r ".allocations[0] | $1"
}

brick_run "$RUN" 0 "cat /sys/bus/platform/drivers/dredbox-rmc/*rmc*/nodes/tray-local"
node=$(echo "$FACTS" | head -n1)
"$CTL" attach --brick 0 --size 256M --path rmc > "$LOGDIR/faults-attach.log" 2>&1
cp=$(alloc '."compute-port"')
m=$(alloc .memory)
other=$((1 - cp))
# Holder A keeps 32 MiB for the end; holder B touches its 8 MiB on the
# cut link, its exit status in /tmp/b.rc.
brick_run "$RUN" 0 "(numa-touch $node 32 hold > /tmp/a &); (numa-touch $node 8 hold > /tmp/b; echo B_RC=\$? > /tmp/b.rc) & while ! grep -q TOUCH_VERIFIED /tmp/a || ! grep -q TOUCH_VERIFIED /tmp/b; do sleep 0.2; done; cat /tmp/a"
check_value "two processes hold RMC-path memory in node $node" \
    "$(fact TOUCH_ON_NODE) $(fact TOUCH_VERIFIED) $(link_up "$cp")" "8192 8192 true"

out=$("$RACK" fail cable "compute0.port$cp" 2>&1)
check_value "dredbox-rack fail cable cuts it and says so" \
    "$?/$(echo "$out" | grep -c "Z fabric cut cable compute0.port$cp (optical port $cp)$")" 0/1
wait_for 10 [ "$(link_up "$cp")" = false ]
check_value "the RMC's link goes down" "$(link_up "$cp")" false
check_value "the cut and the circuit it took down are in RUN/faults.log" \
    "$(grep -c "fabric cut cable compute0.port$cp\|fabric circuit .*compute0.port$cp.* down" "$RUN/faults.log")" 2
check_value "the controller shows the allocation degraded, and why" \
    "$(alloc .degraded)" "compute0.port$cp: optical port $cp is dark: its cable is cut"
check_value "so does dredboxctl status" \
    "$("$CTL" status | grep -c "DEGRADED: compute0.port$cp: optical port $cp is dark")" 1
check_value "dredbox-rack status lists it" \
    "$("$RACK" status | grep -c "^FAULT *optical port $cp is dark: its cable is cut$")" 1
"$RACK" view "$LOGDIR/faults-view.svg" > /dev/null
check_value "dredbox-rack view draws the cut circuit and the dark port red" \
    "$(grep -c "DOWN: optical port $cp is dark: its cable is cut\|port $cp: optical port $cp is dark: its cable is cut" "$LOGDIR/faults-view.svg") $(grep -c 'stroke="red"' "$LOGDIR/faults-view.svg" | sed 's/^[1-9][0-9]*$/red/')" \
    "2 red"
check_value "and its log, and the rack's fault log when it saw it" \
    "$(grep -c "compute0.port$cp down: optical port $cp is dark: its cable is cut" "$RUN/sdm.out") $(grep -c "Z sdm sees compute0.port$cp down: optical port $cp is dark: its cable is cut$" "$RUN/faults.log")" "1 1"

# B reads its pages again: a synchronous external abort, SIGBUS (7).
brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch | tr ' ' '\n' | sort -n | tail -n1); while [ ! -e /tmp/b.rc ]; do sleep 0.2; done; cat /tmp/b.rc"
check_value "the process touching the lost memory gets SIGBUS" "$(fact B_RC)" 135
check_value "the controller heard the brick's link go down and the fault, as they happened" \
    "$(grep -c "Z sdm hears allocation $(alloc .id) (brick0's RMC port $cp): \(link down\|read fault (no-link) at 0x[0-9a-f]*\)$" "$RUN/faults.log")" 2
agent_heard() {    # agent_heard WHAT: the controller logged it from brick 0's agent
    grep -c "Z sdm hears from brick0's agent: allocation $(alloc .id) (brick0's RMC port $cp): $1$" "$RUN/faults.log"
}
wait_for 10 [ "$(agent_heard "no-link fault at 0x[0-9a-f]*")" = 1 ]
check_value "the agent told the controller the range lost and the fault" \
    "$(agent_heard "memory brick $m range 0x[0-9a-f]*-0x[0-9a-f]* unreachable: link down")/$(agent_heard "no-link fault at 0x[0-9a-f]*")" 1/1
brick_run "$RUN" 0 "echo LOST=\$(dmesg | grep -c 'dredbox-rmc.*port $cp: memory brick $m range 0x[0-9a-f]*-0x[0-9a-f]* unreachable: link down'); echo FAULT=\$(dmesg | grep -c 'dredbox-rmc.*port $cp: no-link fault at 0x[0-9a-f]*, in memory brick $m range')"
check_value "which the guest's driver reported, with the range" "$(fact LOST)/$(fact FAULT)" 1/1
brick_run "$RUN" 0 "pidof numa-touch | wc -w; echo KERNEL=\$(uname -r)"
check_value "the kernel and the other process carry on" \
    "$(echo "$FACTS" | head -n1)/$(fact KERNEL | grep -c .)/$(grep -c 'Kernel panic\|Internal error' "$RUN/brick0.log")" "1/1/0"

# Every port of brick 0 dark: the other one by a failed switch port.
"$RACK" fail switch-port "$other" > /dev/null
err=$("$CTL" attach --brick 0 --size 128M --path rmc 2>&1)
check_value "a new request is refused with what is down" \
    "$err" "dredboxctl: compute brick 0 has no free memory port (port $cp: optical port $cp is dark: its cable is cut, port $other: optical port $other is dark: the switch port failed)"
check_value "and leaves nothing behind" "$(circuits) $(rack_pool_used)" "1 268435456"

"$RACK" repair switch-port "$other" > /dev/null
out=$("$RACK" repair cable "compute0.port$cp" 2>&1)
check_value "dredbox-rack repair cable restores it" \
    "$?/$(echo "$out" | grep -c "fabric circuit .*compute0.port$cp.* up$")" 0/1
wait_for 10 [ "$(link_up "$cp")" = true ]
check_value "the RMC's link comes back up" "$(link_up "$cp")" true
check_value "the allocation is no longer degraded" "$(alloc .degraded)" null

brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch); while [ \$(grep -c TOUCH_VERIFIED /tmp/a) -lt 2 ]; do sleep 0.2; done; grep TOUCH_VERIFIED /tmp/a | tail -n1"
check_value "the other process finds every byte it wrote" "$(fact TOUCH_VERIFIED)" 8192

# The cable at the memory brick's end is cut.  The brick has a spare
# port: the controller re-routes the circuit over it, and the data, which
# never left the brick, serves again without a repair.
mp=$(alloc '."memory-port"')
"$RACK" fail cable "memory$m.port$mp" > /dev/null
wait_for 30 [ "$(alloc '."memory-port"')" != "$mp" ]
check_value "the controller re-routes the allocation over the memory brick's spare port" \
    "$(alloc '."memory-port"')" "$((1 - mp))"
wait_for 10 [ "$(link_up "$cp")" = true ]
check_value "the RMC's link is back and the allocation is not degraded" \
    "$(link_up "$cp") $(alloc .degraded)" "true null"
check_value "the fault log has the re-route, and why" \
    "$(grep -c "Z sdm re-routed allocation [0-9]*: circuit compute0.port$cp - memory$m.port$((1 - mp)) (memory$m.port$mp: optical port [0-9]* is dark: its cable is cut)$" "$RUN/faults.log")" 1
brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch); while [ \$(grep -c TOUCH_VERIFIED /tmp/a) -lt 3 ]; do sleep 0.2; done; grep TOUCH_VERIFIED /tmp/a | tail -n1"
check_value "the process finds every byte it wrote" "$(fact TOUCH_VERIFIED)" 8192
"$RACK" repair cable "memory$m.port$mp" > /dev/null

# The memory brick fails.  It is DRAM: what it held is lost with its power.
out=$("$RACK" fail memory-brick "$m" 2>&1)
check_value "dredbox-rack fail memory-brick: the pool and the fabric say so" \
    "$?/$(echo "$out" | grep -c "Z pool failed memory brick $m (dram): the contents of its segments are lost$\|Z fabric memory$m down: its optical ports are dark$")" 0/2
wait_for 10 [ "$(link_up "$cp")" = false ]
check_value "its circuits go down: the RMC's link too" "$(link_up "$cp")" false
check_value "the controller shows the allocation degraded, and why" \
    "$(alloc .degraded | grep -c "^memory$m.port[0-9]*: optical port [0-9]* is dark: its brick is down$")" 1
err=$("$CTL" attach --brick 0 --size 128M --path rmc --memory "$m" 2>&1)
check_value "a request for its memory is refused: it is down" \
    "$err" "dredboxctl: no memory brick has 128 MiB free (memory brick $m is down)"
"$RACK" repair memory-brick "$m" > "$LOGDIR/faults-repair.log" 2>&1
wait_for 10 [ "$(link_up "$cp")" = true ]
check_value "repaired, it serves again: link up, not degraded" \
    "$(link_up "$cp") $(alloc .degraded)" "true null"
brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch); while [ \$(grep -c TOUCH_VERIFIED /tmp/a) -lt 4 ]; do sleep 0.2; done; grep TOUCH_VERIFIED /tmp/a | tail -n1"
check_value "what the process held there is gone (reads zeroes), the process is not" \
    "$(fact TOUCH_VERIFIED)" 0

# A page of the memory brick is poisoned: holder C's page 5, found in
# the brick by the header numa-touch writes on each page.
brick_run "$RUN" 0 "(numa-touch $node 8 hold > /tmp/c; echo C_RC=\$? > /tmp/c.rc) & while ! grep -q TOUCH_VERIFIED /tmp/c; do sleep 0.2; done; cat /tmp/c"
tag=$(fact TOUCH_TAG)
seg=$(alloc .segment)
pool="$TOOLS_BUILD/memory-brick/dredbox-pool -p $RUN/pool/pool.json"
at=$($pool --admin read "$seg" | grep -boa "dredbox-touch $tag 000005" | cut -d: -f1)
base=$($pool --json query | jq ".segments[] | select(.id == $seg) | .offset")
out=$("$RACK" fail page "$m" $((base + at)) 2>&1)
check_value "dredbox-rack fail page poisons it in the brick that holds it" \
    "$(echo "$out" | grep -c "Z rack poisoned page $(printf 0x%x $((base + at))) of memory brick $m (segment $seg offset $(printf 0x%x "$at")): brick0$")" 1
check_value "its RMC lists it, and the pool keeps it" \
    "$(qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}' | jq -c ".return.segments[0].poisoned") $($pool --json query | jq -c ".bricks[] | select(.id == $m) | .poisoned")" "[$at] [$((base + at))]"
brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch | tr ' ' '\n' | sort -n | tail -n1); while [ ! -e /tmp/c.rc ]; do sleep 0.2; done; cat /tmp/c.rc; echo ALIVE=yes"
check_value "the process reading the poisoned page gets SIGBUS, the kernel carries on" \
    "$(fact C_RC) $(fact ALIVE) $(grep -c 'Kernel panic\|Internal error' "$RUN/brick0.log")" "135 yes 0"
wait_for 10 [ "$(agent_heard "poisoned fault at 0x[0-9a-f]*")" = 1 ]
check_value "the agent told the controller" \
    "$(agent_heard "poisoned fault at 0x[0-9a-f]*")" 1
"$RACK" repair page "$m" $((base + at)) > /dev/null
check_value "dredbox-rack repair page clears it" \
    "$(qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}' | jq -c ".return.segments[0].poisoned") $($pool --json query | jq -c ".bricks[] | select(.id == $m) | .poisoned")" "[] []"

# The pool is killed (SIGKILL) and restarted: the bricks keep their
# memory meanwhile, and it comes back with every lease as it was.
brick_run "$RUN" 0 "kill \$(pidof numa-touch); (numa-touch $node 16 hold > /tmp/d &); while ! grep -q TOUCH_VERIFIED /tmp/d; do sleep 0.2; done; cat /tmp/d"
leases=$($pool --json query | jq -c .segments)
"$RACK" kill pool > /dev/null
check_value "dredbox-rack kill pool: it is down, and the log says so" \
    "$("$RACK" status | grep -c '^pool *DEAD')/$(grep -c 'Z rack killed pool (pid [0-9]*)$' "$RUN/faults.log")" 1/1
err=$("$CTL" attach --brick 0 --size 128M --path rmc 2>&1)
vmem_err=$(timeout 30 "$CTL" attach --brick 0 --size 128M 2>&1)
check_value "meanwhile a request on either path is refused at once, saying why, and leaves nothing" \
    "$?/$(printf '%s\n' "$err" "$vmem_err" | grep -c 'nothing was attached: cannot reach the memory pool')/$(circuits)" "1/2/1"
brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch); while [ \$(grep -c TOUCH_VERIFIED /tmp/d) -lt 2 ]; do sleep 0.2; done; grep TOUCH_VERIFIED /tmp/d | tail -n1"
check_value "and the brick's memory is untouched" "$(fact TOUCH_VERIFIED)" 4096
"$RACK" restart pool > /dev/null
check_value "dredbox-rack restart pool: every lease is back as it was" \
    "$($pool --json query | jq -c .segments)" "$leases"
out=$("$CTL" attach --brick 0 --size 128M --path rmc 2>&1) &&
    "$CTL" detach --brick 0 --allocation "$(echo "$out" | sed -n 's/^allocation \([0-9]*\):.*/\1/p')" > /dev/null
rc=$?
brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch); while [ \$(grep -c TOUCH_VERIFIED /tmp/d) -lt 3 ]; do sleep 0.2; done; grep TOUCH_VERIFIED /tmp/d | tail -n1"
check_value "the bricks use it again at once, and the memory is still intact" \
    "$rc/$(fact TOUCH_VERIFIED)" 0/4096

# Memory of the same brick on the default virtio-mem path, which QEMU
# maps directly: while the brick is down, it faults too.
brick_run "$RUN" 0 "kill \$(pidof numa-touch)"
id=$(alloc .id)
out=$("$CTL" attach --brick 0 --size 128M --memory "$m" 2>&1)
vid=$(echo "$out" | sed -n 's/^allocation \([0-9]*\):.*/\1/p')
vnode=$(qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-memory-map"}' |
    jq ".return[] | select(.kind == \"virtio-mem\" and .brick == $m) | .node")
brick_run "$RUN" 0 "(numa-touch $vnode 16 hold > /tmp/v; echo V_RC=\$? > /tmp/v.rc) & while ! grep -q TOUCH_VERIFIED /tmp/v; do sleep 0.2; done; cat /tmp/v"
check_value "a process holds virtio-mem memory of memory brick $m (node $vnode)" \
    "$(fact TOUCH_ON_NODE) $(fact TOUCH_VERIFIED)" "4096 4096"

# A page of it is poisoned: holder W's page 5, found in the brick as
# above.  QEMU refuses it where it maps it: W gets SIGBUS, V carries on.
brick_run "$RUN" 0 "(numa-touch $vnode 8 hold > /tmp/w; echo W_RC=\$? > /tmp/w.rc) & while ! grep -q TOUCH_VERIFIED /tmp/w; do sleep 0.2; done; cat /tmp/w"
tag=$(fact TOUCH_TAG)
wseg="" at=""
for sg in $($pool --json query | jq ".segments[] | select(.brick == $m) | .id"); do
    at=$($pool --admin read "$sg" | grep -boa "dredbox-touch $tag 000005" | cut -d: -f1)
    [ -z "$at" ] || { wseg=$sg; break; }
done
base=$($pool --json query | jq ".segments[] | select(.id == ${wseg:-0}) | .offset")
out=$("$RACK" fail page "$m" $((base + at)) 2>&1)
check_value "dredbox-rack fail page poisons it where brick 0 maps it on the virtio-mem path" \
    "$(echo "$out" | grep -c "Z rack poisoned page $(printf 0x%x $((base + at))) of memory brick $m (segment $wseg offset $(printf 0x%x "$at")): brick0$")" 1
brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch | tr ' ' '\n' | sort -n | tail -n1); while [ ! -e /tmp/w.rc ]; do sleep 0.2; done; cat /tmp/w.rc; kill -USR1 \$(pidof numa-touch); while [ \$(grep -c TOUCH_VERIFIED /tmp/v) -lt 2 ]; do sleep 0.2; done; grep TOUCH_VERIFIED /tmp/v | tail -n1; echo ALIVE=yes"
check_value "the process reading the poisoned page gets SIGBUS, the other one and the kernel carry on" \
    "$(fact W_RC) $(fact TOUCH_VERIFIED) $(fact ALIVE) $(grep -c 'Kernel panic\|Internal error' "$RUN/brick0.log")" "135 4096 yes 0"
out=$("$RACK" repair page "$m" $((base + at)) 2>&1)
check_value "dredbox-rack repair page clears it there" \
    "$(echo "$out" | grep -c "Z rack unpoisoned page $(printf 0x%x $((base + at))) of memory brick $m (segment $wseg offset $(printf 0x%x "$at")): brick0$")/$($pool --json query | jq -c ".bricks[] | select(.id == $m) | .poisoned")" "1/[]"
"$RACK" fail memory-brick "$m" > /dev/null
wait_for 10 [ "$(link_up "$cp")" = false ]
brick_run "$RUN" 0 "kill -USR1 \$(pidof numa-touch); while [ ! -e /tmp/v.rc ]; do sleep 0.2; done; cat /tmp/v.rc; echo ALIVE=yes"
check_value "with the brick down, touching it is SIGBUS, and the kernel carries on" \
    "$(fact V_RC) $(fact ALIVE) $(grep -c 'Kernel panic\|Internal error' "$RUN/brick0.log")" "135 yes 0"
check_value "the controller shows that allocation degraded" \
    "$("$CTL" --json status | jq -r ".allocations[] | select(.id == $vid) | .degraded" | grep -c "memory brick $m is down\|its brick is down")" 1
err=$("$CTL" detach --brick 0 --allocation "$vid" 2>&1)
check_value "a detach of it is refused while the brick is down: the guest would have to touch it" \
    "$?/$err/$(grep -c 'Internal error' "$RUN/brick0.log")" \
    "1/dredboxctl: nothing was detached: memory brick $m is down, and the guest cannot give back virtio-mem memory it cannot reach; detach it after the repair/0"
"$RACK" repair memory-brick "$m" > /dev/null
"$CTL" detach --brick 0 --allocation "$vid" > "$LOGDIR/faults-vmem-detach.log" 2>&1
check_value "repaired, the guest gives that memory back" "$?" 0

# The memory brick fails for good.  Nothing in the guest uses the memory
# any more: the guest gives it up, and the controller frees it.
"$RACK" fail memory-brick "$m" > /dev/null
wait_for 10 [ "$(link_up "$cp")" = false ]
brick_run "$RUN" 0 "cd /sys/bus/platform/drivers/dredbox-rmc/*rmc* && echo $cp > detach && echo GAVE_UP=yes"
check_value "the guest gives up the memory it can no longer reach" \
    "$(fact GAVE_UP)/$(grep -c 'Kernel panic\|Internal error' "$RUN/brick0.log")" yes/0
wait_for 15 [ "$(rack_pool_used)" = 0 ]
check_value "the controller frees it: no allocation, circuit or lease is left" \
    "$("$CTL" --json status | jq '.allocations | length')/$(circuits)/$(rack_pool_used)" "0/0/0"
# The agent's line names the allocation unless reconcile, which looks
# every 5 s, found the range given up and freed it first.
check_value "the fault log says the guest gave it up, and it was freed" \
    "$(grep -c "Z sdm hears from brick0's agent: \(allocation $id (\)\?brick0's RMC port $cp)\?: memory brick $m range 0x[0-9a-f]*-0x[0-9a-f]* given up by the guest$\|Z sdm freed allocation $id: brick0's guest gave it up$" "$RUN/faults.log")" 2
"$RACK" repair memory-brick "$m" > /dev/null
check_value "the fault log says when each fault and repair happened" \
    "$(sed -n 's/^[0-9-]*T[0-9:.]*Z fabric \(cut\|restored\|failed\|repaired\) .*/\1/p' "$RUN/faults.log" | tr '\n' ' ')" \
    "cut failed repaired restored cut restored "
