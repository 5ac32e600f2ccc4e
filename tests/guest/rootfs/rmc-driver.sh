# The RMC driver (guest/kernel/dredbox-rmc): attach a memory-brick
# range through RMC port 0 into the rack-local CPU-less node, use it with
# mbind, detach; 20 times.  Then detach while a process holds memory
# there, and attach with commits that take time or never complete.
# The host passes dredbox.drv=BRICK:BRICK_OFFSET_HEX:SIZE_HEX.
set -e -o pipefail    # errors are fatal (docs/testing.md)
status=0    # a failed step the script goes on after, to say more
KERNEL_ERRORS='Oops|(^|[^A-Za-z_])BUG[: ]|WARNING:|Call trace'
set -- $(sed -n "s/.*dredbox\.drv=\([^ ]*\).*/\1/p" /proc/cmdline | tr : " ")
brick=$1 off=$2 size=$3
irq_enable() { rmc-tool id | sed -n 's/^RMC_IRQ_ENABLE=//p'; }
echo "DRV_IRQ_ENABLE_BEFORE=$(irq_enable)"
modprobe dredbox-rmc
echo DRV_LOADED=yes
d=$(ls -d /sys/bus/platform/drivers/dredbox-rmc/*rmc* | head -n1)
# It claims its register page: /dev/mem may not map it, its regs file may
base=0x$(basename /proc/device-tree/rmc@* | cut -d@ -f2)
if devmem "$base" 32 > /dev/null 2>&1; then
    echo "DRV_DEVMEM=mapped"
else
    echo "DRV_DEVMEM=refused"
fi
echo "DRV_REGS_ID=$(rmc-tool id | sed -n 's/^RMC_ID=//p')"
node=$(cat "$d/nodes/rack-local")
[ -n "$node" ]
nodes=$(for c in tray-local rack-local inter-rack; do
    printf '%s=%s ' "$c" "$(cat "$d/nodes/$c")"; done)
echo "DRV_NODES=$nodes"
cpus=$(cat "/sys/devices/system/node/node$node/cpulist")
echo "DRV_NODE_CPUS=$cpus"
distance=$(cat "/sys/devices/system/node/node$node/distance")
echo "DRV_DISTANCE=$distance"
memtotal() {    # the node's memory in kB; an empty node may go offline
    f=/sys/devices/system/node/node$node/meminfo
    if [ -e "$f" ]; then
        sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' "$f"
    else
        echo 0
    fi
}
. /dredbox/lib-mems.sh
before=$(memtotal)
echo "DRV_NODE_BEFORE=$before"

# Refusals: each leaves nothing behind (the host checks the RMC).
why() {    # why ATTR VALUE: the error writing VALUE to ATTR, or "ok"
    if echo "$2" > "$d/$1" 2> /tmp/err; then echo ok; else
        sed 's/.*: //' /tmp/err; fi
}
echo "DRV_NO_LINK=$(why attach "1 $brick $off $size rack-local")"
echo "DRV_BAD_SIZE=$(why attach "0 $brick $off 0x6400000 rack-local")"
echo "DRV_BAD_CLASS=$(why attach "0 $brick $off $size next-door")"
echo "DRV_JUNK=$(why attach "0 $brick $off $size rack-local extra")"
echo "DRV_OVERFLOW=$(why attach "0 4294967297 $off $size rack-local")"
# Port 2's entry the host made live over QMP: not the driver's to replace
echo "DRV_LIVE=$(why attach "2 $brick $off $size rack-local")"
echo "DRV_NOT_ATTACHED=$(why detach 0)"
# Memory that would not come online movable could not be detached again
online=/sys/devices/system/memory/auto_online_blocks
echo offline > "$online"
echo "DRV_OFFLINE=$(why attach "0 $brick $off $size rack-local")"
echo online_kernel > "$online"
echo "DRV_UNMOVABLE=$(why attach "0 $brick $off $size rack-local")"
echo online_movable > "$online"
echo "DRV_UNMOVABLE_NODE=$(memtotal)"
echo "0 $brick $off $size rack-local" > "$d/attach"
echo "DRV_TWICE=$(why attach "0 $brick $off $size rack-local")"
# Each class node's memory is a tier of its own: DRAM's is tier 4
tiers=""
for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
    tiers="$tiers $(basename "$t"):$(cat "$t/nodelist")"
done
echo "DRV_TIERS=${tiers# }"
# With demotion on, a process bound to node 0 that wants more than node 0
# has free makes reclaim demote its cold pages to the remote tier, where
# they keep their contents.
demoted() { awk '/^pgdemote_(kswapd|direct) / { s += $2 } END { print s + 0 }' /proc/vmstat; }
echo 1 > /sys/kernel/mm/numa/demotion_enabled
was=$(demoted)
free0=$(sed -n 's/.*MemFree: *\([0-9]*\) kB/\1/p' /sys/devices/system/node/node0/meminfo)
numa-touch 0 $((free0 / 1024 + 64)) > /tmp/demote || cat /tmp/demote
echo 0 > /sys/kernel/mm/numa/demotion_enabled
pages=$(sed -n 's/^TOUCH_PAGES=//p' /tmp/demote)
on0=$(sed -n 's/^TOUCH_ON_NODE=//p' /tmp/demote)
verified=$(sed -n 's/^TOUCH_VERIFIED=//p' /tmp/demote)
echo "DRV_DEMOTED=$([ "$(demoted)" -gt "$was" ] && echo yes) $([ "${on0:-0}" -lt "${pages:-0}" ] && echo some-off-node-0) $([ -n "$pages" ] && [ "$verified" = "$pages" ] && echo intact)"
echo 0 > "$d/detach"
# Offlining can meet a page the kernel still holds for a moment (a
# per-CPU LRU batch) and say EBUSY: try again, three times at most, as an
# agent would.
detach_port0() {
    for try in 1 2 3; do
        echo 0 > "$d/detach" 2> /tmp/detach-err && return 0
        grep -q 'busy' /tmp/detach-err || break
        echo "# detach busy, try $try"
        sleep 1
    done
    cat /tmp/detach-err
    return 1
}

# The host flaps port 1's link from now on: interrupts in the middle of
# each hot-add and removal
echo "DREDBOX-STEP rounds"
i=0
while [ $i -lt 20 ]; do
    echo "0 $brick $off $size rack-local" > "$d/attach" || break
    if [ $i = 0 ]; then
        echo "DRV_NODE_ATTACHED=$(memtotal)"
    fi
    wait_mems "$node" || { echo "node $node never joined the allowed nodes"; break; }
    numa-touch "$node" 64 > /tmp/touch || { cat /tmp/touch; break; }
    grep -q '^TOUCH_ON_NODE=16384$' /tmp/touch || { cat /tmp/touch; break; }
    grep -q '^TOUCH_VERIFIED=16384$' /tmp/touch || { cat /tmp/touch; break; }
    detach_port0 || break
    [ "$(memtotal)" = "$before" ] || break
    i=$((i + 1))
done
echo "DRV_ROUNDS=$i"
[ $i = 20 ] || status=1
echo "DRV_PORT0_AFTER=$(echo $(cat "$d"/port0/link "$d"/port0/size))"

# Detach while memory is in use: migrated away, or refused; never a crash.
echo "0 $brick $off $size rack-local" > "$d/attach"
wait_mems "$node"
numa-touch "$node" 64 hold > /tmp/hold &
holder=$!
i=0
while ! grep -q TOUCH_VERIFIED /tmp/hold; do    # two minutes at most
    kill -0 "$holder" && [ $i -lt 600 ] || { cat /tmp/hold; exit 1; }
    sleep 0.2
    i=$((i + 1))
done
if echo 0 > "$d/detach" 2> /tmp/err; then
    inuse=detached
else
    inuse="refused: $(cat /tmp/err)"
fi
echo "DRV_INUSE=$inuse"
if kill -0 "$holder"; then
    echo DRV_HOLDER_ALIVE=yes
fi
kill "$holder"
wait "$holder" || true    # it died of our SIGTERM: a non-zero status
# Refused while in use: detach now that nothing holds the memory.
if [ "$inuse" != detached ]; then
    echo 0 > "$d/detach"
fi

# Commits that take time: the host makes the RMC's commits take 2 s
# (the driver waits up to 5 s for them), then never complete (it waits
# its default second), then complete at once again.
host_says() {    # host_says STEP: tell the host, wait for its "go"
    echo "DREDBOX-STEP $1"
    read -r -t 60 _
}
timeout_ms=/sys/module/dredbox_rmc/parameters/commit_timeout_ms
echo 5000 > "$timeout_ms"
host_says slow-commits
committing() {    # port 0's commit is under way (STATUS.COMMITTING)
    st=$(rmc-tool id | sed -n 's/^RMC_PORT0_STATUS=//p')
    [ $((st & 0x20)) -ne 0 ]
}
if echo "0 $brick $off $size rack-local" > "$d/attach" 2> /tmp/err &&
   wait_mems "$node" && numa-touch "$node" 64 > /tmp/touch &&
   grep -q '^TOUCH_VERIFIED=16384$' /tmp/touch; then
    # The detach holds the driver's lock while it waits for the clear's
    # commit; reading the port's files meanwhile does not wait for it.
    rm -f /tmp/detached
    (echo 0 > "$d/detach"; echo "rc=$?" > /tmp/detached) &
    i=0
    until committing || [ $i -ge 1000 ]; do
        i=$((i + 1))
    done
    cat "$d"/port0/* > /dev/null
    if [ $i -ge 1000 ]; then
        echo "DRV_READ_DURING_DETACH=the detach's commit was never seen"
    elif [ -e /tmp/detached ]; then
        echo "DRV_READ_DURING_DETACH=waited for the detach"
    else
        echo DRV_READ_DURING_DETACH=answered
    fi
    wait
    echo "DRV_SLOW=$(cat /tmp/detached)"
else
    echo "DRV_SLOW=$(cat /tmp/err /tmp/touch)"
fi
echo 1000 > "$timeout_ms"
host_says stuck-commits
echo "DRV_STUCK=$(why attach "0 $brick $off $size rack-local")"
echo "DRV_STUCK_NODE=$(memtotal)"
echo "DRV_STUCK_AGAIN=$(why attach "0 $brick $off $size rack-local")"
host_says commits-back
echo "DRV_BACK=$(why attach "0 $brick $off $size rack-local")"
detach_port0

echo "DRV_PORT0_END=$(echo $(cat "$d"/port0/link "$d"/port0/size "$d"/port0/node))"
echo "DRV_NODE_END=$(memtotal)"
rmmod dredbox-rmc
echo "DRV_IRQ_ENABLE_AFTER=$(irq_enable)"
echo "DREDBOX-STEP done"
# The host reads the RMC, then says "go" on the console (two minutes at
# most) and the brick may power off.
if ! read -r -t 120 _; then
    echo "no word from the host"
    status=1
fi
# The whole kernel log, not its tail: an Oops early on counts as much.
dmesg > /tmp/dmesg
grep -E "$KERNEL_ERRORS" /tmp/dmesg | sed 's/^/DRV_KERNEL_ERROR: /' || true
errors=$(grep -c -E "$KERNEL_ERRORS" /tmp/dmesg || true)
echo "DRV_KERNEL_ERRORS=$errors"
[ "$errors" = 0 ] || status=1
exit "$status"
