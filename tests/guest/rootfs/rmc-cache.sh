# The RMC driver's cache maintenance (t-rmc-cache): attach a memory-brick
# range through RMC port 0, write all of it, detach; the host's plugin
# saw which lines were cleaned before the entry went.  Then attach again
# and write it, and the host clears the entry under the guest: the
# plugin must see dirty lines then (its check can fail).
# The host passes dredbox.drv=BRICK:BRICK_OFFSET_HEX:SIZE_HEX.
set -e -o pipefail    # errors are fatal (docs/testing.md)
set -- $(sed -n "s/.*dredbox\.drv=\([^ ]*\).*/\1/p" /proc/cmdline | tr : " ")
brick=$1 off=$2 size=$3
mib=$((0x$size >> 20))
modprobe dredbox-rmc
d=$(ls -d /sys/bus/platform/drivers/dredbox-rmc/*rmc* | head -n1)
node=$(cat "$d/nodes/rack-local")
[ -n "$node" ]
. /dredbox/lib-mems.sh
host_says() {    # host_says STEP: tell the host, wait for its "go"
    echo "DREDBOX-STEP $1"
    read -r -t 120 _
}
echo "0 $brick $off $size rack-local" > "$d/attach"
wait_mems "$node"
# Every page of the range, as far as the kernel lets one process have it
numa-touch "$node" $((mib - 16)) > /tmp/touch
sed -n 's/^TOUCH_ON_NODE=/CACHE_TOUCHED=/p' /tmp/touch
echo 0 > "$d/detach"
echo CACHE_DETACHED=yes
host_says detached
echo "0 $brick $off $size rack-local" > "$d/attach"
wait_mems "$node"
numa-touch "$node" $((mib - 16)) hold > /tmp/hold &
holder=$!
until grep -q TOUCH_VERIFIED /tmp/hold; do sleep 0.2; done
# The host clears the entry and reads the plugin.  Then the holder reads
# its memory again: the RMC refuses it (SIGBUS) and raises its fault
# interrupt, at which the driver finds its entry gone.
host_says held
kill -USR1 "$holder"
wait "$holder" || true
w=0
until dmesg | grep -q "port 0: .* unreachable: its entry is no longer live" ||
      [ $w -ge 300 ]; do
    sleep 0.1
    w=$((w + 1))
done
echo "CACHE_LOST=$(dmesg | grep -c 'port 0: .* unreachable: its entry is no longer live')"
# The brick is stopped now: its memory is gone.
echo "DREDBOX-STEP lost"
