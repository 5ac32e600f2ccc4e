#!/bin/sh
# A rack in timing mode (docs/rack.md#timing-mode): `dredbox-rack up` of a
# rack file whose one compute brick says timing=on (overriding the rack's
# `timing off`) starts it with -machine ...,timing=on and the rack's
# figures (a fabric class, the link bandwidth), and QMP's
# query-dredbox-timing (which refuses a brick not in timing mode)
# reports them; `down` takes it down.
. "$(dirname "$0")/lib.sh"
plan 5

rackfile=$LOGDIR/rack-timing.rack
cat > "$rackfile" << 'EOF'
rack timing
timing off rack-local-ns=50 link-bandwidth=1800M
compute 0 cpus=1 ram=512M ports=1 timing=on
memory 0 size=256M
optical-switch ports=2
electrical-switch
cable compute0.port0 optical:0
cable memory0 optical:1
EOF

rack_up rack-timing "$rackfile"
check_value "dredbox-rack up starts the timing brick" "$?" 0
# The -machine argument of the brick's QEMU, exactly.
check_value "its machine option has timing=on and the rack's figures" \
    "$(tr '\0' '\n' < "/proc/$(cat "$RUN/brick0.pid")/cmdline" |
       grep -A1 -x -- -machine | tail -n1)" \
    "dredbox-compute,brick-id=0,pool=$RUN/pool/pool.json,fabric=on,rmc-numa=on,timing=on,timing-rack-local-ns=50,timing-link-bandwidth=1887436800"
timing=$(qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-timing"}')
check_value "query-dredbox-timing answers: the brick is in timing mode" \
    "$(echo "$timing" | jq -r '.return | has("rack-local-ns")')" true
check_value "it uses the rack's figures (rack-local, 1800 MiB/s) and the default tray-local one" \
    "$(echo "$timing" | jq -c '.return |
        [."rack-local-ns", ."link-bandwidth", ."tray-local-ns"]')" \
    '[50,1887436800,20]'

"$RACK" down > "$LOGDIR/rack-timing-down.log" 2>&1
check_value "dredbox-rack down succeeds" "$?" 0
RACK_RUN=""    # down already; nothing for cleanup to do
