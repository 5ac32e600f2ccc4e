#!/bin/sh
# Chaos (docs/reliability.md, "The chaos test"): two compute bricks hold
# checksummed data on the RMC path, one on a DRAM memory brick and one on
# a persistent one, while a seeded random sequence of at least 30 faults
# and repairs of every kind (cables cut, switch ports failed, memory
# bricks failed, pages poisoned, the controller, the fabric, the pool and
# the accelerator killed with SIGKILL) runs, interleaved with attach and
# detach requests and reads of the data.  After every step the
# controller's view must agree with what is broken, and only what was
# killed may be down; data on memory that is reachable must read back,
# except on a DRAM brick that failed since it was written.  In the end,
# all repaired: controller, fabric, pool and bricks agree, no lease is
# lost or doubled, nothing crashed, and detaching gives everything back.
#
# The seed is printed; DREDBOX_CHAOS_SEED=N replays a sequence.
. "$(dirname "$0")/lib.sh"
plan 16

SEED=${DREDBOX_CHAOS_SEED:-$(($(date +%s) % 100000))}
echo "# chaos seed $SEED (replay: DREDBOX_CHAOS_SEED=$SEED tests/guest/run.sh tests/guest/t-chaos.sh)"
MIN_FAULTS=${DREDBOX_CHAOS_FAULTS:-30}    # faults and repairs, at least
HOLD_MIB=32
HOLD_PAGES=$((HOLD_MIB * 256))

cat > "$LOGDIR/chaos.rack" <<'RACKFILE'
rack chaos
compute 0 tray=0 cpus=2 ram=512M ports=3
compute 1 tray=0 cpus=2 ram=512M ports=3
memory 0 tray=0 size=2G class=dram ports=3
memory 1 tray=1 size=2G class=persistent ports=3
accelerator 0 tray=1
optical-switch ports=16 reconfigure-ms=25
electrical-switch
cable compute0.port0 optical:0 latency=tray-local
cable compute0.port1 optical:1 latency=tray-local
cable compute0.port2 optical:2 latency=tray-local
cable compute1.port0 optical:3 latency=tray-local
cable compute1.port1 optical:4 latency=tray-local
cable compute1.port2 optical:5 latency=tray-local
cable memory0.port0 optical:8 latency=tray-local
cable memory0.port1 optical:9 latency=tray-local
cable memory0.port2 optical:10 latency=tray-local
cable memory1.port0 optical:11 latency=rack-local
cable memory1.port1 optical:12 latency=rack-local
cable memory1.port2 optical:13 latency=rack-local
cable accelerator0 optical:14 latency=rack-local
RACKFILE
rm -rf "$LOGDIR/chaos-state"    # the persistent brick starts empty
rack_up chaos "$LOGDIR/chaos.rack"
check_value "the chaos rack comes up" \
    "$(grep -c '^brick[01] *up' "$LOGDIR/chaos-up.log")" 2
ACTIONS=$LOGDIR/chaos-actions.log
: > "$ACTIONS"

# The sequence's random numbers, from the seed alone: rnd N sets R to
# the next one modulo N.
RANDF=$LOGDIR/chaos-random
awk -v s="$SEED" 'BEGIN { srand(s); for (i = 0; i < 5000; i++)
                          print int(rand() * 1000000) }' > "$RANDF"
RI=0
rnd() {
    RI=$((RI + 1))
    R=$(($(sed -n "${RI}p" "$RANDF") % $1))
}
pick() {    # pick WORDS...: PICKED is one of them, at random
    rnd $#
    shift "$R"
    PICKED=$1
}

# The model of what is broken: active faults as tokens
# (cable:ENDPOINT, switch-port:P, memory-brick:M, page:H:M:OFFSET,
# kill:NAME), and the optical port of each cabled endpoint.
ACTIVE=""
port_of() {    # port_of ENDPOINT: its optical port
    sed -n "s/^cable $1 optical:\([0-9]*\) .*/\1/p" "$LOGDIR/chaos.rack"
}
endpoint_at() {    # endpoint_at P: the endpoint cabled to optical port P
    sed -n "s/^cable \([^ ]*\) optical:$1 .*/\1/p" "$LOGDIR/chaos.rack"
}
active() {    # active TOKEN
    case " $ACTIVE " in *" $1 "*) return 0 ;; esac
    return 1
}
dark() {    # dark P: optical port P is dark, as the model says
    e=$(endpoint_at "$1")
    active "switch-port:$1" || active "cable:$e" ||
        case $e in
        memory*) active "memory-brick:$(echo "$e" | sed 's/memory\([0-9]*\).*/\1/')" ;;
        *) false ;;
        esac
}
killed() {    # killed NAME: the sequence killed it and it is not back
    active "kill:$1"
}

# The holders: H0 on compute brick 0 with memory of DRAM brick 0, H1 on
# compute brick 1 with memory of persistent brick 1, each a numa-touch
# that wrote HOLD_MIB MiB and reads it again on SIGUSR1.  LOST: holders
# whose DRAM brick failed since they wrote.
ERRORS=$LOGDIR/chaos-errors.log
: > "$ERRORS"
err() {    # err CHECK WHAT: a failure, counted against check CHECK
    echo "$1: step $STEP: $2" >> "$ERRORS"
    echo "# step $STEP: $1: $2"
}
errors() {    # errors CHECK: its failures, or "none"
    n=$(grep -c "^$1:" "$ERRORS")
    [ "$n" = 0 ] && echo none || { echo "$n, the first: $(grep "^$1:" "$ERRORS" | head -n1)"; }
}
STEP=0
LOST=""
# Holder H lives on compute brick H; it is ready for SIGUSR1 once it
# says "touched".  Its output file is removed first: a background job's
# redirection truncates the file only once the job runs, and until then
# the old holder's lines would be read as the new one's.
holder_start() {    # holder_start H: a new holder H writes its data
    brick_run "$RUN" "$1" "kill \$(cat /tmp/h$1.pid 2> /dev/null) 2> /dev/null; rm -f /tmp/h$1; (numa-touch \$(cat /sys/bus/platform/drivers/dredbox-rmc/*rmc*/nodes/$(holder_class "$1")) $HOLD_MIB hold > /tmp/h$1 2>&1 & echo \$! > /tmp/h$1.pid); while ! grep -q 'DREDBOX-STEP touched' /tmp/h$1 && kill -0 \$(cat /tmp/h$1.pid); do sleep 0.2; done; cat /tmp/h$1"
}
holder_class() {    # H0 is tray-local (same tray), H1 rack-local
    [ "$1" = 0 ] && echo tray-local || echo rack-local
}
# holder_verify H: the holder reads all it wrote again; VERIFIED is how
# many pages held, ALIVE yes if it survived.
holder_verify() {
    brick_run "$RUN" "$1" "n=\$(grep -c TOUCH_VERIFIED /tmp/h$1); kill -USR1 \$(cat /tmp/h$1.pid); while [ \$(grep -c TOUCH_VERIFIED /tmp/h$1) -le \$n ] && kill -0 \$(cat /tmp/h$1.pid); do sleep 0.1; done; grep TOUCH_VERIFIED /tmp/h$1 | tail -n1; kill -0 \$(cat /tmp/h$1.pid) && echo ALIVE=yes"
    VERIFIED=$(fact TOUCH_VERIFIED)
    ALIVE=$(fact ALIVE)
}

STATUS=""
ctl_status() {    # the controller's status as JSON in STATUS, or fail
    STATUS=$("$CTL" --json status 2> /dev/null)
}
alloc_of() {    # alloc_of ID FILTER: of allocation ID in STATUS
    echo "$STATUS" | jq -r ".allocations[] | select(.id == $1) | $2"
}
# affected H: the model says holder H's memory is out of reach (ports
# as the controller last placed it, after any re-route)
affected() {
    cp=$(eval echo "\$HPORT$1") mp=$(eval echo "\$HMPORT$1")
    dark "$(port_of "compute$1.port$cp")" ||
        dark "$(port_of "memory$1.port$mp")" || active "memory-brick:$1"
}
poisoned() {    # poisoned H: a page of holder H is poisoned
    case " $ACTIVE " in *" page:$1:"*) return 0 ;; esac
    return 1
}
# agree: the controller shows each holder degraded exactly when the
# model says it is out of reach; re-routes move HMPORT.  A controller
# started while the fabric or the pool was dead cannot tell: it must say
# every allocation may be, until it has heard from that one (BLIND_FABRIC,
# BLIND_POOL).
BLIND_FABRIC="" BLIND_POOL=""
agree() {
    ctl_status || return 1
    for h in 0 1; do
        id=$(eval echo "\$HALLOC$h")
        eval "HPORT$h=\$(alloc_of $id '.\"compute-port\"')"
        eval "HMPORT$h=\$(alloc_of $id '.\"memory-port\"')"
        d=$(alloc_of "$id" .degraded)
        if [ -n "$BLIND_FABRIC$BLIND_POOL" ] || affected "$h"; then
            [ "$d" != null ] || return 1
        else
            [ "$d" = null ] || return 1
        fi
    done
}
link_up() {    # link_up H: holder H's RMC port has its link up
    [ "$(qmp_at "$RUN/brick$1.qmp" '{"execute": "query-dredbox-rmc"}' |
         jq ".return.ports[$(eval echo "\$HPORT$1")][\"link-up\"]")" = true ]
}

for h in 0 1; do
    "$CTL" attach --brick "$h" --memory "$h" --size 128M --path rmc \
        >> "$ACTIONS" 2>&1
    eval "HALLOC$h=\$(sed -n 's/^allocation \([0-9]*\): .* for compute brick $h .*/\1/p' \"\$ACTIONS\" | tail -n1)"
    holder_start "$h"
    eval "HSTART$h=\"\$(fact TOUCH_VERIFIED)\""
done
ctl_status
for h in 0 1; do
    id=$(eval echo "\$HALLOC$h")
    eval "HSEG$h=\$(alloc_of $id .segment)"
    eval "HPORT$h=\$(alloc_of $id '.\"compute-port\"')"
    eval "HMPORT$h=\$(alloc_of $id '.\"memory-port\"')"
done
check_value "two holders wrote $HOLD_MIB MiB each, on DRAM brick 0 and persistent brick 1" \
    "$HSTART0 $HSTART1 $(alloc_of "$HALLOC0" .memory) $(alloc_of "$HALLOC1" .memory)" \
    "$HOLD_PAGES $HOLD_PAGES 0 1"

# Steps.  Each records what it did in $ACTIONS and any failure in $ERRORS.
act() {    # act WHAT COMMAND...: a fault or repair that must work
    echo "step $STEP: $1" >> "$ACTIONS"
    echo "# step $STEP: $1"
    shift
    if ! out=$("$@" 2>&1); then
        err actions "$* failed: $out"
    fi
    echo "$out" >> "$ACTIONS"
}

EXTRAS=""    # extra allocations: "ID:BRICK"
NFAULTS=0
KINDS="cable switch-port memory-brick page kill-sdm kill-fabric kill-pool kill-accel0"
KINDS_SEEN=""
fault() {    # fault KIND: inject one, if the rack's state allows
    case $1 in
    cable|switch-port) killed fabric && return 1 ;;
    memory-brick) { killed fabric || killed pool; } && return 1 ;;
    page) killed pool && return 1 ;;    # the pool says whose page it is
    esac
    case $1 in
    cable)
        # shellcheck disable=SC2046 # one word per endpoint
        pick $(sed -n 's/^cable \([^ ]*\) .*/\1/p' "$LOGDIR/chaos.rack")
        active "cable:$PICKED" && return 1
        act "cut cable $PICKED" "$RACK" fail cable "$PICKED"
        ACTIVE="$ACTIVE cable:$PICKED" ;;
    switch-port)
        # shellcheck disable=SC2046 # one word per port
        pick $(sed -n 's/^cable [^ ]* optical:\([0-9]*\) .*/\1/p' "$LOGDIR/chaos.rack")
        active "switch-port:$PICKED" && return 1
        act "fail switch port $PICKED" "$RACK" fail switch-port "$PICKED"
        ACTIVE="$ACTIVE switch-port:$PICKED" ;;
    memory-brick)
        pick 0 1
        active "memory-brick:$PICKED" && return 1
        act "fail memory brick $PICKED" "$RACK" fail memory-brick "$PICKED"
        ACTIVE="$ACTIVE memory-brick:$PICKED"
        # DRAM brick 0 loses what H0 wrote
        [ "$PICKED" = 1 ] || LOST=0 ;;
    page)
        pick 0 1
        h=$PICKED
        rnd $((128 * 256))    # a page of its 128 MiB segment
        off=$(($(eval echo "\$HSEGOFF$h") + R * 4096))
        act "poison page $off of memory brick $h (holder $h)" \
            "$RACK" fail page "$h" "$off"
        ACTIVE="$ACTIVE page:$h:$h:$off" ;;
    kill-*)
        name=${1#kill-}
        killed "$name" && return 1
        act "kill $name" "$RACK" kill "$name"
        ACTIVE="$ACTIVE kill:$name" ;;
    esac
    NFAULTS=$((NFAULTS + 1))
    case " $KINDS_SEEN " in *" $1 "*) ;; *) KINDS_SEEN="$KINDS_SEEN $1" ;; esac
}
repair() {    # repair TOKEN
    case $1 in
    cable:*|switch-port:*) killed fabric && return 1 ;;
    memory-brick:*) { killed fabric || killed pool; } && return 1 ;;
    page:*) killed pool && return 1 ;;
    esac
    case $1 in
    cable:*) act "mend cable ${1#*:}" "$RACK" repair cable "${1#*:}" ;;
    switch-port:*) act "repair switch port ${1#*:}" "$RACK" repair switch-port "${1#*:}" ;;
    memory-brick:*) act "repair memory brick ${1#*:}" "$RACK" repair memory-brick "${1#*:}" ;;
    page:*)    # page:H:M:OFFSET
        m=${1#page:*:} off=${1##*:}
        m=${m%%:*}
        act "unpoison page $off of memory brick $m" "$RACK" repair page "$m" "$off" ;;
    kill:*)
        act "restart ${1#kill:}" "$RACK" restart "${1#kill:}" ;;
    esac
    ACTIVE=$(echo " $ACTIVE " | sed "s/ $1 / /;s/^ *//;s/ *$//")
    if [ "$1" = kill:sdm ]; then
        BLIND_FABRIC=$(! killed fabric || echo yes)
        BLIND_POOL=$(! killed pool || echo yes)
    fi
    killed fabric || BLIND_FABRIC=""
    killed pool || BLIND_POOL=""
    NFAULTS=$((NFAULTS + 1))
}
# An extra allocation, on the RMC path (a memory brick other than the
# holder's, so the holder's node keeps only its own memory) or the
# virtio-mem path; refused is fine when it says why.
attach() {
    pick 0 1
    b=$PICKED
    pick rmc virtio-mem
    path=$PICKED
    if [ "$path" = rmc ]; then
        m=$((1 - b))
    else
        pick 0 1
        m=$PICKED
    fi
    echo "step $STEP: attach 128 MiB of memory brick $m to compute brick $b on the $path path" >> "$ACTIONS"
    echo "# step $STEP: attach 128 MiB of memory brick $m to compute brick $b ($path)"
    out=$(timeout 120 "$CTL" attach --brick "$b" --memory "$m" --size 128M \
          --path "$path" 2>&1)
    rc=$?
    echo "$out" >> "$ACTIONS"
    case $rc/$out in
    0/allocation\ *) EXTRAS="$EXTRAS $(echo "$out" | sed 's/^allocation \([0-9]*\):.*/\1/'):$b" ;;
    1/dredboxctl:\ ?*) ;;
    *) err requests "attach: rc $rc: $out" ;;
    esac
}
detach() {
    [ -n "$EXTRAS" ] || return 1
    pick $EXTRAS
    id=${PICKED%:*} b=${PICKED#*:}
    echo "step $STEP: detach allocation $id from compute brick $b" >> "$ACTIONS"
    echo "# step $STEP: detach allocation $id of compute brick $b"
    out=$(timeout 120 "$CTL" detach --brick "$b" --allocation "$id" 2>&1)
    rc=$?
    echo "$out" >> "$ACTIONS"
    case $rc/$out in
    0/detached) EXTRAS=$(echo " $EXTRAS " | sed "s/ $PICKED / /;s/^ *//;s/ *$//") ;;
    1/dredboxctl:\ ?*) ;;
    *) err requests "detach $id: rc $rc: $out" ;;
    esac
}
# verify: each holder the model says is reachable and not poisoned
# reads all it wrote, or nothing if its DRAM brick failed since (then a
# new holder writes again).  Reachable holders must not die.
verify() {
    echo "step $STEP: verify" >> "$ACTIONS"
    for h in 0 1; do
        if affected "$h" || poisoned "$h"; then
            continue
        fi
        wait_for 10 link_up "$h" ||
            err data "holder $h: the RMC's link stays down, the rack says it is reachable"
        holder_verify "$h"
        want=$HOLD_PAGES
        [ "$LOST" != "$h" ] || want=0
        echo "holder $h: $VERIFIED of $HOLD_PAGES pages, alive: ${ALIVE:-no}" >> "$ACTIONS"
        if [ "$VERIFIED/$ALIVE" != "$want/yes" ]; then
            err data "holder $h read $VERIFIED pages back intact (alive: ${ALIVE:-no}), expected $want"
        fi
        if [ "$LOST" = "$h" ]; then
            LOST=""
            holder_start "$h"
            if [ "$(fact TOUCH_VERIFIED)" != "$HOLD_PAGES" ]; then
                brick_run "$RUN" "$h" "dmesg | tail -n 5"
                err data "holder $h could not write again; the kernel said: $(echo "$FACTS" | tr '\n' ' ')"
            fi
        fi
    done
}
# After each step: the controller (when it runs) agrees with the model
# within 15 s, and only what was killed is down.
after_step() {
    if ! killed sdm && ! wait_for 15 agree; then
        err controller "the controller disagrees with [$ACTIVE]: $(echo "$STATUS" | jq -c '[.allocations[] | {id, "compute-port", "memory-port", degraded}]')"
    fi
    dead=$("$RACK" status 2> /dev/null | awk '$2 == "DEAD" { print $1 }' | sort | tr '\n' ' ')
    want=$(for t in $ACTIVE; do
               case $t in kill:*) echo "${t#kill:}" ;; esac
           done | sort | tr '\n' ' ')
    [ "$dead" = "$want" ] || err processes "down: '$dead', killed: '$want'"
}

for h in 0 1; do
    eval "HSEGOFF$h=\$(\"\$TOOLS_BUILD/memory-brick/dredbox-pool\" -p \"\$RUN/pool/pool.json\" --json query | jq \".segments[] | select(.id == \$HSEG$h) | .offset\")"
done

# The first faults go through every kind, in an order the seed picks.
FIRST=""
for k in $KINDS; do
    rnd 1000
    FIRST="$FIRST $R:$k"
done
FIRST=$(echo "$FIRST" | tr ' ' '\n' | sort -n | sed 's/^[0-9]*://' | tr '\n' ' ')
while [ "$NFAULTS" -lt "$MIN_FAULTS" ]; do
    STEP=$((STEP + 1))
    rnd 10
    n_active=$(echo $ACTIVE | wc -w)
    if [ -n "$FIRST" ] && [ "$R" -lt 5 ]; then
        # shellcheck disable=SC2086
        set -- $FIRST
        k=$1
        shift
        # one the rack's state does not allow now comes again later
        fault "$k" || set -- "$@" "$k"
        FIRST="$*"
    elif [ "$R" -lt 4 ] && [ "$n_active" -lt 3 ]; then
        pick $KINDS
        fault "$PICKED" || verify
    elif [ "$R" -lt 6 ] && [ "$n_active" -gt 0 ]; then
        pick $ACTIVE
        repair "$PICKED" || verify
    elif [ "$R" = 6 ]; then
        attach
    elif [ "$R" = 7 ]; then
        detach || attach
    else
        verify
    fi
    after_step
done
# Everything repaired and restarted, the daemons first.
for t in $ACTIVE; do
    case $t in kill:*) STEP=$((STEP + 1)); repair "$t"; after_step ;; esac
done
for t in $ACTIVE; do
    STEP=$((STEP + 1))
    repair "$t"
    after_step
done
STEP=$((STEP + 1))
verify
after_step
echo "# $STEP steps, $NFAULTS faults and repairs; extras left: $EXTRAS"

check_value "at least $MIN_FAULTS faults and repairs of every kind" \
    "$([ "$NFAULTS" -ge "$MIN_FAULTS" ] && echo enough) $(echo $KINDS_SEEN | tr ' ' '\n' | sort | tr '\n' ' ')" \
    "enough $(echo $KINDS | tr ' ' '\n' | sort | tr '\n' ' ')"
check_value "every fault, repair, kill and restart was done" "$(errors actions)" none
check_value "the fault log has each of them" \
    "$(grep -c ' fabric \(cut\|restored\|failed\|repaired\) \| pool \(failed\|repaired\) memory brick\| rack \(poisoned\|unpoisoned\|killed\|restarted\) ' "$RUN/faults.log")" \
    "$(grep -c '^step [0-9]*: \(cut\|mend\|fail\|repair\|poison\|unpoison\|kill\|restart\) ' "$ACTIONS")"
check_value "after every step the controller showed degraded exactly what was out of reach" \
    "$(errors controller)" none
check_value "only what the sequence killed was ever down" "$(errors processes)" none
check_value "attach and detach either worked or said why" "$(errors requests)" none
check_value "reachable data read back intact at every step (zeroes only after its DRAM brick failed)" \
    "$(errors data)" none

# All repaired: every part of the rack agrees.
out=$("$RACK" status)
check_value "dredbox-rack status: everything up, no fault in effect" \
    "$?/$(echo "$out" | grep -c 'DEAD\|^FAULT')" 0/0
ctl_status
check_value "the controller: nothing degraded, every allocation and brick consistent" \
    "$(echo "$STATUS" | jq -c '[([.allocations[] | select(.degraded)] | length),
        ([.segments[] | select((.pool and .rmc and .guest) | not)] | length),
        ([.bricks[] | select(.controller != .brick or .brick != .pool)] | length)]')" \
    "[0,0,0]"
leases=$("$TOOLS_BUILD/memory-brick/dredbox-pool" -p "$RUN/pool/pool.json" --json query)
check_value "the pool: each controller allocation is one lease of its own, no lease is lost, none overlaps another" \
    "$(echo "$leases" | jq -c '[.segments[] | select(.owner | startswith("sdm-a")) | [(.owner | ltrimstr("sdm-a") | tonumber), .id]] | sort') $(echo "$leases" | jq '[.segments | group_by(.brick)[] | sort_by(.offset) | . as $s | range(1; length) | select($s[. - 1].offset + $s[. - 1].size > $s[.].offset)] | length')" \
    "$(echo "$STATUS" | jq -c '[.allocations[] | select(.segment) | [.id, .segment]] | sort') 0"
check_value "the fabric: its circuits are the controller's allocations'" \
    "$(printf '%s\n' '{"cmd":"query"}' | socat -t 5 - "UNIX-CONNECT:$RUN/fabric.sock" |
        jq -c '[.circuits[] | select(.state == "up") | [.a.endpoint, .b.endpoint] | sort] | sort')" \
    "$(echo "$STATUS" | jq -c '[.allocations[] | ["compute\(.compute).port\(."compute-port")", "memory\(.memory).port\(."memory-port")"] | sort] | sort')"

for h in 0 1; do
    holder_verify "$h"
    eval "HEND$h=\"\$VERIFIED \$ALIVE\""
done
check_value "in the end every holder reads back all it wrote; the persistent brick lost nothing" \
    "$HEND0 / $HEND1" "$HOLD_PAGES yes / $HOLD_PAGES yes"
check_value "no kernel panicked, no daemon or QEMU crashed" \
    "$(cat "$RUN"/brick*.log | grep -c 'Kernel panic\|Internal error\|Oops') $(cat "$RUN"/*.out | grep -c 'Assertion\|Segmentation\|core dumped\|Sanitizer\|runtime error')" \
    "0 0"

brick_run "$RUN" 0 "kill \$(cat /tmp/h0.pid)"
brick_run "$RUN" 1 "kill \$(cat /tmp/h1.pid)"
for a in $EXTRAS "$HALLOC0:0" "$HALLOC1:1"; do
    "$CTL" detach --brick "${a#*:}" --allocation "${a%:*}" >> "$ACTIONS" 2>&1 ||
        echo "# detach $a failed: $(tail -n1 "$ACTIONS")"
done
check_value "detaching everything gives it all back" \
    "$(circuits)/$(rack_pool_used)/$("$CTL" --json status | jq '.allocations | length')" "0/0/0"
