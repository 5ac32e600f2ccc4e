#!/bin/sh
# The RMC driver's cache maintenance, as the hardware needs it: the
# emulator has no caches, so the memory-access plugin (cmo=on) follows
# each line of an RMC window and sees the guest's cleans (DC CVAC and
# kin).  A detach cleans every line of the range to the point of
# coherency before the entry is cleared: no dirty line could be written
# back to a window that maps nothing.  An entry the host clears under a
# guest that wrote the range shows dirty lines: the check can fail.  At
# the guest's next access there, the driver notices that its entry went,
# and says so once.
. "$(dirname "$0")/lib.sh"
plan 8

PLUGIN=$TOOLS_BUILD/plugins/libdredbox-mem.so
pool_start 0:1G 1:1G
seg=$(pool_tool -c rack alloc 128M --brick 1)
pool_tool -c rack grant "$seg" brick0 --writable
table=$LOGDIR/rmc-cache.rmc-table
CTL=$LOGDIR/rmc-cache.ctl
ctl() {    # ctl REQUEST: the plugin's reply on its control socket
    echo "$1" | socat -t 5 - "UNIX-CONNECT:$CTL"
}
LINES=$((128 << 20 >> 6))
APPEND="memhp_default_state=online_movable dredbox.drv=1:0:8000000"
console_open rmc-cache
boot_bg rmc-cache rmc-cache \
    -machine "pool=$POOL/memd.sock,rmc-numa=on" -m 1G,maxmem=2G -S \
    -global "dredbox-rmc.table=$table" \
    -plugin "$PLUGIN,mode=count,rmc=$table,cmo=on,ctl=$CTL,range=0-1"
CONSOLE_IN=/dev/null
qmp "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg}}" \
    '{"execute": "dredbox-rmc-connect", "arguments": {"port": 0, "brick": 1}}' \
    '{"execute": "cont"}' > /dev/null
clears() {    # the plugin's clears so far, as [[LINES, CLEAN, DIRTY]...]
    ctl '{"cmd": "cmo"}' | jq -c '[.clears[] | [.lines, .clean, .dirty]]'
}
if wait_step detached; then
    cmo=$(ctl '{"cmd": "cmo"}')
    check_value "the plugin saw the guest's cleans, at least one per line of the range" \
        "$(echo "$cmo" | jq -c ".cleans >= $LINES")" true
    check_value "detach: every line of the 128 MiB cleaned before the entry went, none dirty" \
        "$(clears)" "[[$LINES,$LINES,0]]"
    console_say go
fi
if wait_step held; then
    qmp '{"execute": "dredbox-rmc-clear-entry", "arguments": {"port": 0}}' \
        > "$LOGDIR/rmc-cache.clear"
    w=0
    until [ "$(clears | jq length)" = 2 ] || [ $w -ge 100 ]; do
        sleep 0.1
        w=$((w + 1))
    done
    second=$(clears | jq -c '.[1]')
    check_value "an entry cleared under written memory: the plugin sees dirty lines" \
        "$(echo "$second" | jq -c '[.[0], .[2] > 1000, .[1] < .[0]]')" \
        "[$LINES,true,true]"
    console_say go
    wait_step lost
fi
kill "$BG_PID" 2> /dev/null
wait "$BG_PID" 2> /dev/null
FACTS=$(tr -d '\r' < "$LOGDIR/rmc-cache.log")
check "the guest wrote the range's pages (all but 16 MiB)" CACHE_TOUCHED \
    $(((128 - 16) * 256))
check "and detached it" CACHE_DETACHED yes
check "the driver noticed, once, that its entry was taken away under its memory" \
    CACHE_LOST 1
check_value "no Oops, BUG, WARNING or call trace before the host's clear" \
    "$(sed -n '1,/DREDBOX-STEP held/p' "$LOGDIR/rmc-cache.log" | grep -cE 'Oops|(^|[^A-Za-z_])BUG[: ]|WARNING:|Call trace')" 0
check_value "the pool lent nothing more" "$(pool_used 1)" 134217728
pool_stop
