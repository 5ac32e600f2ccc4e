# The RMC driver (guest-kernel-patches/dredbox-rmc): attach a memory-brick
# range through RMC port 0 into the rack-local CPU-less node, use it with
# mbind, detach; 20 times.  Then detach while a process holds memory there.
# The host passes dredbox.drv=BRICK:BRICK_OFFSET_HEX:SIZE_HEX.
set -- $(sed -n "s/.*dredbox\.drv=\([^ ]*\).*/\1/p" /proc/cmdline | tr : " ")
brick=$1 off=$2 size=$3
modprobe dredbox-rmc && echo DRV_LOADED=yes
d=$(ls -d /sys/bus/platform/drivers/dredbox-rmc/*rmc* | head -n1)
node=$(sed -n 's/^rack-local=//p' "$d/nodes")
echo "DRV_NODES=$(tr '\n' ' ' < "$d/nodes")"
echo "DRV_NODE_CPUS=$(cat /sys/devices/system/node/node$node/cpulist)"
echo "DRV_DISTANCE=$(cat /sys/devices/system/node/node$node/distance)"
memtotal() {    # the node's memory in kB; an empty node may go offline
    f=/sys/devices/system/node/node$node/meminfo
    if [ -e "$f" ]; then
        sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' "$f"
    else
        echo 0
    fi
}
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
echo "DRV_NOT_ATTACHED=$(why detach 0)"
why attach "0 $brick $off $size rack-local" > /dev/null
echo "DRV_TWICE=$(why attach "0 $brick $off $size rack-local")"
why detach 0 > /dev/null
i=0
while [ $i -lt 20 ]; do
    echo "0 $brick $off $size rack-local" > "$d/attach" || break
    [ $i = 0 ] && echo "DRV_NODE_ATTACHED=$(memtotal)"
    numa-touch "$node" 64 > /tmp/touch
    grep -q '^TOUCH_ON_NODE=16384$' /tmp/touch || { cat /tmp/touch; break; }
    grep -q '^TOUCH_VERIFIED=16384$' /tmp/touch || { cat /tmp/touch; break; }
    echo 0 > "$d/detach" || break
    [ "$(memtotal)" = "$before" ] || break
    i=$((i + 1))
done
echo "DRV_ROUNDS=$i"
echo "DRV_PORTS_AFTER=$(head -n1 "$d/ports")"

# Detach while memory is in use: migrated away, or refused; never a crash.
echo "0 $brick $off $size rack-local" > "$d/attach"
numa-touch "$node" 64 hold > /tmp/hold &
holder=$!
while ! grep -q TOUCH_VERIFIED /tmp/hold; do sleep 0.2; done
if echo 0 > "$d/detach" 2> /tmp/err; then
    echo DRV_INUSE=detached
else
    echo "DRV_INUSE=refused: $(cat /tmp/err)"
fi
kill -0 "$holder" && echo DRV_HOLDER_ALIVE=yes
kill "$holder"
wait "$holder" 2> /dev/null
echo 0 > "$d/detach" 2> /dev/null
echo "DRV_PORTS_END=$(head -n1 "$d/ports")"
echo "DRV_NODE_END=$(memtotal)"
echo "DREDBOX-STEP done"
sleep 5
dmesg | grep -i "dredbox-rmc\|BUG\|Oops" | tail -n 5
