#!/bin/sh
# A rack in timing mode (docs/rack.md#timing-mode): `dredbox-rack up` of a
# rack file whose one compute brick says timing=on (overriding the rack's
# `timing off`) starts it with -machine ...,timing=on and the rack's
# figures (a fabric class, the link bandwidth), and QMP's
# query-dredbox-timing (which refuses a brick not in timing mode)
# reports them.  Memory attached on the RMC path is charged by the class
# of the circuit the fabric set up (both cables inter-rack here): a chase
# on the driver's node measures RMC + inter-rack fabric + DRAM, neither
# the local DRAM nor the rack-local figure an unknown circuit would get.  `down` takes it down.
. "$(dirname "$0")/lib.sh"
plan 9

rackfile=$LOGDIR/rack-timing.rack
cat > "$rackfile" << 'EOF'
rack timing
timing off rack-local-ns=50 link-bandwidth=1800M
compute 0 cpus=1 ram=512M ports=1 timing=on
memory 0 size=256M
optical-switch ports=2
electrical-switch
cable compute0.port0 optical:0 latency=inter-rack
cable memory0 optical:1 latency=inter-rack
EOF

rack_up rack-timing "$rackfile"
check_value "dredbox-rack up starts the timing brick" "$?" 0
# The -machine argument of the brick's QEMU, exactly.
check_value "its machine option has timing=on and the rack's figures" \
    "$(tr '\0' '\n' < "/proc/$(cat "$RUN/brick0.pid")/cmdline" |
       grep -A1 -x -- -machine | tail -n1)" \
    "dredbox-compute,brick-id=0,pool=pool,fabric=on,rmc-numa=on,timing=on,timing-rack-local-ns=50,timing-link-bandwidth=1887436800"
timing=$(qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-timing"}')
check_value "query-dredbox-timing answers: the brick is in timing mode" \
    "$(echo "$timing" | jq -r '.return | has("rack-local-ns")')" true
check_value "it uses the rack's figures (rack-local, 1800 MiB/s) and the default tray-local one" \
    "$(echo "$timing" | jq -c '.return |
        [."rack-local-ns", ."link-bandwidth", ."tray-local-ns"]')" \
    '[50,1887436800,20]'

# RMC-path memory, charged by its circuit's class.
out=$("$CTL" attach --brick 0 --size 128M --path rmc 2>&1)
check_value "an RMC-path attach on the timing brick succeeds, inter-rack" \
    "$(echo "$out" | grep -c inter-rack)" 1
brick_run "$RUN" 0 "cat /sys/bus/platform/drivers/dredbox-rmc/*rmc*/nodes/inter-rack"
node=$(echo "$FACTS" | head -n1)
brick_run "$RUN" 0 "chase RMC ${node:-none} 65536 20000"
# RMC 536 + inter-rack 1000 + DRAM 100 ns, within 10% (docs/timing.md)
got=$(fact RMC_PS)
check_value "a chase on the RMC node measures the inter-rack remote latency (1636 ns +-10%; got ${got:-nothing} ps)" \
    "$(awk -v g="$got" 'BEGIN { print (g != "" && g >= 1472400 && g <= 1799600) }')" 1
timing=$(qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-timing"}')
check_value "QMP charged those loads to inter-rack, none to rack-local" \
    "$(echo "$timing" | jq -c '[.return.destinations[] |
        select(.destination == "rack-local" or .destination == "inter-rack") |
        (."l2-misses" > 10000)]')" '[false,true]'
"$CTL" detach --brick 0 > /dev/null 2>&1
check_value "detach gives the memory back" "$?" 0

"$RACK" down > "$LOGDIR/rack-timing-down.log" 2>&1
check_value "dredbox-rack down succeeds" "$?" 0
RACK_RUN=""    # down already; nothing for cleanup to do
