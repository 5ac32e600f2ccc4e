#!/bin/sh
# A compute brick's RMC has the rack file's ports= memory ports (1 to 32,
# docs/rack.md): with 32, its capability register says 32 (as the driver
# reports it), each port has 8 GiB of the high window instead of 16, and
# memory attached through port 31 works end to end.  A cable on a port the
# brick does not have stops `dredbox-rack up` before anything starts.
. "$(dirname "$0")/lib.sh"
plan 9

rackfile=$LOGDIR/rack-ports3.rack
cat > "$rackfile" << 'EOT'
rack ports
compute 0 cpus=1 ram=512M ports=3
memory 0 size=1G
optical-switch ports=4
electrical-switch
cable compute0.port3 optical:0 latency=tray-local
cable memory0 optical:1 latency=tray-local
EOT
rack_up rack-ports3 "$rackfile"
check_value "a cable on port 3 of a 3-port brick stops dredbox-rack up" \
    "$?" 1
check_value "naming the line and the ports the brick has" \
    "$(grep -c "rack-ports3.rack:6: compute0 has 3 ports (0 to 2)" \
       "$LOGDIR/rack-ports3-up.log")" 1
check_value "before any process started" \
    "$(find "$RUN" -name '*.pid' 2> /dev/null | wc -l)" 0

rackfile=$LOGDIR/rack-ports32.rack
cat > "$rackfile" << 'EOT'
rack ports
compute 0 cpus=1 ram=512M ports=32
memory 0 size=1G
optical-switch ports=2
electrical-switch
cable compute0.port31 optical:0 latency=tray-local
cable memory0 optical:1 latency=tray-local
EOT
rack_up rack-ports32 "$rackfile"
check_value "a rack with a 32-port compute brick comes up" "$?" 0
brick_run "$RUN" 0 "dmesg | sed -n 's/.*dredbox-rmc [^:]*: \([0-9]* ports of [0-9]* GiB\),.*/\1/p'"
check_value "its RMC has 32 ports of 8 GiB" "$(echo "$FACTS" | head -n1)" \
    "32 ports of 8 GiB"

out=$("$CTL" attach --brick 0 --size 256M --path rmc 2>&1)
check_value "RMC-path memory comes through port 31, the only one cabled" \
    "$(echo "$out" | sed -n 's/.*(port \([0-9]*\), .*/\1/p')" 31
# 512 GiB + 31 * 8 GiB; node 1 is memory brick 0's, 2 tray-local's.
brick_run "$RUN" 0 "cd /sys/bus/platform/drivers/dredbox-rmc/*rmc*/port31 && echo \$(cat link brick start size node)"
check_value "the driver hot-added it at 760 GiB, into the tray-local node" \
    "$(echo "$FACTS" | head -n1)" "up 0 0xbe00000000 268435456 2"
brick_run "$RUN" 0 "numa-touch 2 64"
check "and the guest uses it" TOUCH_VERIFIED 16384
"$CTL" detach --brick 0 > /dev/null 2>&1
check_value "detach gives it back" "$? $(rack_pool_used)" "0 0"
