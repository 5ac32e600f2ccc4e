#!/bin/sh
# The default rack from one command: both compute bricks boot Debian's
# stock kernel and ping each other over the electrical switch; optical
# circuits from both compute bricks to memory brick 1 let brick 0 write
# through its RMC window what brick 1 then reads; tearing brick 0's
# circuit down makes its next access a bus error while QEMU stays up; a
# brick that dies is reported and the rest keep running; `down` leaves
# no process, socket or shared memory behind.
. "$(dirname "$0")/lib.sh"
plan 22

rack_up rack
check_value "dredbox-rack up brings the default rack up" "$?" 0
check_value "two compute bricks running" \
    "$(grep -c '^brick[0-9] *up' "$LOGDIR/rack-up.log")" 2
# Without timing= in the rack file, the machine option has no timing.
check_value "brick 0's machine option has no timing" \
    "$(tr '\0' '\n' < "/proc/$(cat "$RUN/brick0.pid")/cmdline" |
       grep -A1 -x -- -machine | tail -n1)" \
    "dredbox-compute,brick-id=0,pool=pool,fabric=on,rmc-numa=on"
check_value "with one session with the pool, as brick0, for its RMC and devices" \
    "$(tr '\0' '\n' < "/proc/$(cat "$RUN/brick0.pid")/cmdline" |
       grep -A1 -x -- -object | grep -c '^dredbox-pool')/$(tr '\0' '\n' \
       < "/proc/$(cat "$RUN/brick0.pid")/cmdline" | grep -A1 -x -- -object |
       grep '^dredbox-pool')" \
    "1/dredbox-pool,id=pool,path=$RUN/pool/pool.json,client=brick0"
# Its RMC has the rack file's ports=2 (the driver reads RMC_CAP).
brick_run "$RUN" 0 "dmesg | sed -n 's/.*dredbox-rmc [^:]*: \([0-9]* ports of [0-9]* GiB\),.*/\1/p'"
check_value "brick 0's RMC has the rack's 2 ports, 16 GiB each" \
    "$(echo "$FACTS" | head -n1)" "2 ports of 16 GiB"

brick_run "$RUN" 0 "ping -c 3 -W 5 10.0.0.11 | grep -o '[0-9]* packets received'"
check_value "brick 0 pings brick 1" "$(echo "$FACTS" | head -n1)" \
    "3 packets received"
brick_run "$RUN" 1 "ping -c 3 -W 5 10.0.0.10 | grep -o '[0-9]* packets received'"
check_value "brick 1 pings brick 0" "$(echo "$FACTS" | head -n1)" \
    "3 packets received"

# The rack (as the controller will) leases memory brick 1's first 256 MiB
# to both compute bricks and sets up a circuit from each to it.
pool() { "$TOOLS_BUILD/memory-brick/dredbox-pool" \
             -p "$RUN/pool/pool.json" "$@"; }
fabric() { printf '%s\n' "$@" | socat -t 5 - "UNIX-CONNECT:$RUN/fabric.sock"; }
seg=$(pool -c rack alloc 256M --brick 1)
pool -c rack grant "$seg" brick0 --writable
pool -c rack grant "$seg" brick1 --writable
fabric '{"cmd":"connect","a":"compute0.port0","b":"memory1.port0"}' \
       '{"cmd":"connect","a":"compute1.port0","b":"memory1.port1"}' > /dev/null
i=0
until [ "$(fabric '{"cmd":"query"}' | jq '[.circuits[] | select(.state == "up")] | length')" = 2 ] ||
      [ $i -ge 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
check_value "two circuits up after the reconfiguration time" \
    "$(fabric '{"cmd":"query"}' | jq -c '[.circuits[].state]')" '["up","up"]'
for b in 0 1; do
    qmp_at "$RUN/brick$b.qmp" "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg}}" > /dev/null
done
check_value "brick 0's RMC port 0 reaches memory brick 1" \
    "$(qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}' |
       jq -c '.return.ports[0] | [."link-up", ."linked-brick"]')" '[true,1]'

tag=$(printf %08x $$)
brick_run "$RUN" 0 "rmc-tool map 0 1 0 64 && rmc-tool write $tag 64"
check "brick 0 maps memory brick 1" RMC_COMMIT_STATUS 0
check "brick 0 writes 64 MiB through its RMC" RMC_WRITTEN 16384
brick_run "$RUN" 1 "rmc-tool map 0 1 0 64 && rmc-tool verify $tag 64"
check "brick 1 reads all of it through its own RMC" RMC_VERIFIED 16384

fabric '{"cmd":"disconnect","port":"compute0.port0"}' > /dev/null
brick_run "$RUN" 0 "rmc-tool touch 4096"
check "after teardown brick 0's access is a bus error" RMC_TOUCH_SIGNAL 7
check "counted on port 0" RMC_PORT0_FAULTS 1
brick_run "$RUN" 0 "echo still-here"
check_value "brick 0's guest and QEMU carry on" "$(echo "$FACTS" | head -n1)" \
    still-here

brick1=$(cat "$RUN/brick1.pid")
kill -9 "$brick1"
i=0
while kill -0 "$brick1" 2> /dev/null && [ $i -lt 100 ]; do    # until it is gone
    sleep 0.1
    i=$((i + 1))
done
"$RACK" status > "$LOGDIR/rack-status.log" 2>&1
check_value "status reports the dead brick and fails" "$?" 1
check_value "brick 1 is reported DEAD" \
    "$(grep -c '^brick1 *DEAD' "$LOGDIR/rack-status.log")" 1
# brick 0, pool, fabric, controller, accelerator 0
check_value "the rest keep running" \
    "$(grep -c ' up (pid' "$LOGDIR/rack-status.log")" 5

# The pool's segments (memory-brick/store.c) are files
# /dev/shm/dredbox-rack-N/brickB-segS for DRAM bricks, memfds
# dredbox-brickB-segS for hugepage ones: the pool holds each, the bricks
# map theirs.  segments /proc/PID...: "INODE NAME" of each segment these
# processes hold open or mapped, unlinked or not.
segments() {
    for p in "$@"; do
        for f in "$p"/fd/*; do
            l=$(readlink "$f" 2> /dev/null)
            case $l in
            /memfd:dredbox-brick* | /dev/shm/dredbox-*/brick*-seg*)
                echo "$(stat -L -c %i "$f") ${l% (deleted)}" ;;
            esac
        done
        awk '$6 ~ /^\/memfd:dredbox-brick|^\/dev\/shm\/dredbox-[^\/]*\/brick[0-9]*-seg/ {
            print $5, $6 }' "$p"/maps
    done 2> /dev/null | sort -u
}
segments "/proc/$(cat "$RUN/memd.pid")" > "$LOGDIR/rack-segments.log"
"$RACK" down > "$LOGDIR/rack-down.log" 2>&1
check_value "dredbox-rack down succeeds" "$?" 0
# pgrep's status: 1 is "no process matched"; a missing pgrep is 127.
check_value "no process of the rack is left" \
    "$(pgrep -f "$RUN/" > /dev/null; echo $?)" 1
check_value "no socket or file is left" "$(ls -A "$RUN" 2> /dev/null | wc -l)" 0
# Every process on the host: none holds or maps what the pool held.
segments /proc/[0-9]* > "$LOGDIR/rack-segments-after.log"
check_value "the pool's shared memory is gone with it: no process holds or maps a segment" \
    "$([ -s "$LOGDIR/rack-segments.log" ] &&
       grep -c -x -F -f "$LOGDIR/rack-segments.log" "$LOGDIR/rack-segments-after.log")" 0
RACK_RUN=""    # down already; nothing for cleanup to do
