#!/bin/sh
# The SDM controller's failure windows on the default rack, through its
# test hooks (DREDBOX_SDM_TEST_HOOKS=1, docs/controller.md): every step of
# an attach on each path (virtio-mem, RMC, accelerator) is made to fail,
# to kill the controller right after it, or to time out; every step of a
# detach to fail or to kill it.  After each, once reconcile has run: no
# circuit, lease, RMC segment or entry, or virtio-mem size that the
# database does not account for, and nothing left pending; the outcome is
# the one the window implies (rolled back, or kept where the guest took
# the memory); the same request again with the same key gets the first
# outcome and allocates nothing twice.  The pool killed after each step
# of an attach and of a detach, and restarted; then killed and restarted
# under one allocation of each path.  Each window has its own
# request key: the same key would get the first window's outcome.
# Requests at once: while an attach on brick 0 is held after a step,
# brick 1's attach and detach and a status are answered; a controller
# that is starting answers "busy", and dredboxctl asks again.  A segment
# of the controller's that brick 0's RMC holds with no allocation is
# detached by reconcile; one attached by hand is left alone.
. "$(dirname "$0")/lib.sh"
plan 29

export DREDBOX_SDM_TEST_HOOKS=1
rm -f "$LOGDIR/windows-replies.log" "$LOGDIR/windows-sdm.log" \
    "$LOGDIR/windows-reconcile.log"
rack_up windows
check_value "the rack comes up with its controller" \
    "$(grep -c '^sdm *up' "$LOGDIR/windows-up.log")" 1
# The RMC path's last step is brick 0's agent: its guest must be up.
brick_run "$RUN" 0 "pidof dredbox-agent > /dev/null && echo AGENT=up"
check "brick 0's agent runs" AGENT up

sdm() {    # sdm JSON: the controller's reply line (empty if it died)
    printf '%s\n' "$1" | socat -t 120 - "UNIX-CONNECT:$RUN/sdm.sock"
}
attach_req() {    # attach_req PATH KEY: an attach on PATH, as JSON
    case $1 in
    virtio-mem) r='{"cmd":"attach","brick":0,"size":"256M","memory":0}' ;;
    rmc) r='{"cmd":"attach","brick":0,"size":"256M","memory":0,"path":"rmc"}' ;;
    accelerator) r='{"cmd":"attach","brick":0,"accelerator":true}' ;;
    esac
    echo "$r" | jq -c --arg k "$2" '. + {key: $k}'
}
hooked() {    # hooked JSON STEP DO: JSON with the test hook
    echo "$1" | jq -c --arg s "$2" --arg d "$3" '. + {"test-hook": {step: $s, do: $d}}'
}
vmem_asks() {    # vmem_asks M: what brick 0's vmem-mM asks its guest for
    qmp_at "$RUN/brick0.qmp" "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"vmem-m$1\",\"property\":\"requested-size\"}}" |
        jq .return
}

# What the rack holds that the database does not account for ("" if
# nothing): circuits of the controller's, "sdm-aN" leases, brick 0's RMC
# segments and live entries, its virtio-mem sizes; allocations not settled.
unaccounted() {
    st=$("$CTL" --json status) || { echo "no status"; return; }
    fabric=$(printf '%s\n' '{"cmd":"query"}' |
             socat -t 5 - "UNIX-CONNECT:$RUN/fabric.sock")
    pool=$("$TOOLS_BUILD/memory-brick/dredbox-pool" -p "$RUN/pool/pool.json" --json query)
    rmc=$(qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}')
    echo "$st" | jq -r --argjson f "$fabric" --argjson p "$pool" \
        --argjson r "$rmc" --argjson v0 "$(vmem_asks 0)" \
        --argjson v1 "$(vmem_asks 1)" '
        .allocations as $a |
        [$a[] | select(.path != "virtio-mem")] as $seg |
        def differ(what; have; want):
            if have != want then "\(what): \(have), not \(want)" else empty end;
        [differ("unsettled"; [$a[] | select(.state) | .id]; []),
         differ("circuits"; [$f.circuits[] | select(.owner == "sdm")] | length;
                [$a[] | if .path == "accelerator" then 2 else 1 end] | add // 0),
         differ("leases"; [$p.segments[] | select(.owner | startswith("sdm-a")) | .owner] | sort;
                [$seg[] | "sdm-a\(.id)"] | sort),
         differ("RMC segments"; [$r.return.segments[].segment] | sort;
                [$seg[] | select(.compute == 0) | .segment] | sort),
         differ("RMC entries"; [$r.return.ports[] | select(.live.enabled)] | length;
                [$seg[] | select(.compute == 0)] | length),
         differ("vmem-m0"; $v0; [$a[] | select(.path == "virtio-mem" and .memory == 0) | .size] | add // 0),
         differ("vmem-m1"; $v1; [$a[] | select(.path == "virtio-mem" and .memory == 1) | .size] | add // 0)
        ] | join("; ")'
}

# Reconcile until nothing is pending or releasing (60 s at most).
converge() {
    i=0
    while [ $i -lt 60 ]; do
        "$CTL" reconcile >> "$LOGDIR/windows-reconcile.log" 2>&1
        [ "$("$CTL" --json status | jq '[.allocations[] | select(.state)] | length')" = 0 ] &&
            return 0
        sleep 1
        i=$((i + 1))
    done
    return 1
}
allocations() {    # the allocations' ids, on one line
    "$CTL" --json status | jq -c '[.allocations[].id]'
}
detach_all() {
    for id in $("$CTL" --json status | jq '.allocations[].id'); do
        "$CTL" detach --brick 0 --allocation "$id" > /dev/null 2>&1
    done
}
# The controller again, if the window killed it (its request got no
# reply); what the dead one said goes to windows-sdm.log.
revive() {
    if [ -z "$first" ]; then
        cat "$RUN/sdm.out" >> "$LOGDIR/windows-sdm.log"
        "$RACK" restart sdm > /dev/null
    fi
}
ok() {    # ok REPLY: whether REPLY is {"ok":true...}
    [ "$(echo "$1" | jq -r '.ok' 2> /dev/null)" = true ]
}

# attach_window PATH STEP DO EXPECT: an attach on PATH with STEP hooked
# to DO; EXPECT is "none" (rolled back), "kept" (committed) or "any"
# (either).  Prints nothing if all is as it should be, else what is not.
# DO "kill-pool" kills the pool after the step; it is restarted after the
# reply.
attach_window() {
    key=$(echo "attach-$1-$2-$3" | tr ' ' '_')
    first=$(sdm "$(hooked "$(attach_req "$1" "$key")" "$2" "$3")")
    echo "attach $1 $2 $3: ${first:-(no reply)}" >> "$LOGDIR/windows-replies.log"
    revive
    if [ "$3" = kill-pool ]; then
        "$RACK" restart pool > /dev/null
    fi
    converge || echo "never settled;"
    got=$(allocations)
    again=$(sdm "$(attach_req "$1" "$key")")
    why=$(unaccounted)
    [ -z "$why" ] || echo "$why;"
    case $4 in
    none) [ "$got" = "[]" ] || echo "allocations $got, not none;"
          ! ok "$again" || echo "the retry allocated: $again;" ;;
    kept) [ "$(echo "$got" | jq length)" = 1 ] || echo "allocations $got, not one;"
          [ "$(echo "$again" | jq -c .allocation.id)" = "$(echo "$got" | jq -c '.[0]')" ] ||
              echo "the retry said $again;" ;;
    any) [ "$(echo "$got" | jq length)" -le 1 ] || echo "allocations $got;" ;;
    esac
    # A first outcome that was known is the retry's, word for word.
    if [ -n "$first" ] && [ "$(echo "$first" | jq -r .code)" != pending ] &&
       [ "$first" != "$again" ]; then
        echo "first $first, then $again;"
    fi
    [ "$(allocations)" = "$got" ] || echo "the retry changed the allocations;"
    detach_all
    converge
    why=$(unaccounted)
    [ -z "$why" ] || echo "after the detach: $why;"
}

# detach_window PATH STEP DO EXPECT: the same for a detach of an
# allocation on PATH; EXPECT is "none" (released) or "kept".
detach_window() {
    key=$(echo "detach-$1-$2-$3" | tr ' ' '_')
    made=$(sdm "$(attach_req "$1" "made-$key")")
    ok "$made" || { echo "attach failed: $made;"; return; }
    id=$(echo "$made" | jq .allocation.id)
    req=$(jq -cn --argjson a "$id" --arg k "$key" \
          '{cmd: "detach", brick: 0, allocation: $a, key: $k}')
    first=$(sdm "$(hooked "$req" "$2" "$3")")
    echo "detach $1 $2 $3: ${first:-(no reply)}" >> "$LOGDIR/windows-replies.log"
    revive
    if [ "$3" = kill-pool ]; then
        "$RACK" restart pool > /dev/null
    fi
    converge || echo "never settled;"
    got=$(allocations)
    again=$(sdm "$req")
    why=$(unaccounted)
    [ -z "$why" ] || echo "$why;"
    case $4 in
    none) [ "$got" = "[]" ] || echo "allocations $got, not none;" ;;
    kept) [ "$got" = "[$id]" ] || echo "allocations $got, not [$id];" ;;
    esac
    if [ -n "$first" ] && [ "$(echo "$first" | jq -r .code)" != pending ] &&
       [ "$first" != "$again" ]; then
        echo "first $first, then $again;"
    elif { [ -z "$first" ] || [ "$(echo "$first" | jq -r .code)" = pending ]; } &&
         [ "$4" = none ] && ! ok "$again"; then
        echo "the retry of a finished detach said $again;"
    fi
    detach_all
    converge
    why=$(unaccounted)
    [ -z "$why" ] || echo "after the detach: $why;"
}

u=$(unaccounted)
check_value "before any window, the rack holds what the database says" \
    "${u:-nothing else}" "nothing else"

steps_of() {
    case $1 in
    virtio-mem) echo "optical circuit|memory online" ;;
    rmc) echo "pool segment|optical circuit|RMC link|RMC segment|memory online" ;;
    accelerator) echo "pool segment|optical circuit|accelerator circuit|RMC link|RMC segment|RMC entry|doorbell" ;;
    esac
}
undo_steps_of() {
    case $1 in
    virtio-mem) echo "guest|optical circuit" ;;
    rmc) echo "guest|RMC segment|optical circuit|pool segment" ;;
    accelerator) echo "guest|doorbell|RMC entry|RMC segment|accelerator circuit|optical circuit|pool segment" ;;
    esac
}
# run_windows KIND PATH DO: every step of PATH's KIND (attach, detach)
# hooked to DO; "PATH STEP: what is wrong" for each that went wrong.
run_windows() {
    IFS='|'
    # shellcheck disable=SC2046
    set -- "$1" "$2" "$3" $(if [ "$1" = attach ]; then steps_of "$2"; else undo_steps_of "$2"; fi)
    unset IFS
    kind=$1 path=$2 act=$3
    shift 3
    for step in "$@"; do
        expect=none
        # An attach the pool died under may or may not have happened; a
        # detach happens, once the pool is back.
        [ "$kind/$act" = attach/kill-pool ] && expect=any
        # RMC-path memory the guest took stays; a detach whose guest
        # refused (fail at "guest") keeps the allocation, but the RMC
        # path's guest did let go, and reconcile frees it.
        if [ "$kind" = attach ] && [ "$path/$step" = "rmc/memory online" ] &&
           [ "$act" != fail ]; then
            expect=kept
        elif [ "$kind" = detach ] && [ "$step/$act" = guest/fail ] &&
             [ "$path" != rmc ]; then
            expect=kept
        fi
        out=$("${kind}_window" "$path" "$step" "$act" "$expect")
        [ -z "$out" ] || echo "$path $step: $out"
    done
}

for kind in attach detach; do
    for path in virtio-mem rmc accelerator; do
        for act in fail kill; do
            out=$(run_windows "$kind" "$path" "$act")
            check_value "$kind on the $path path, $act at each step: nothing unaccounted, the outcome the window implies, kept for its key" \
                "${out:-none wrong}" "none wrong"
        done
    done
done
# A timeout: the guest's step may still go on, so the allocation stays
# pending until its agent says; a host step's is a failure.
out=$(attach_window rmc "memory online" time-out kept; for p in virtio-mem rmc accelerator; do
      attach_window "$p" "optical circuit" time-out none; done)
check_value "a timeout keeps RMC-path memory pending until the guest says, and fails a host step" \
    "${out:-none wrong}" "none wrong"
# The pool killed right after each step of an attach and of a detach on
# each path, and restarted after the reply: whatever the attach
# answered, nothing is left unaccounted, and the detach is done.  (The
# virtio-mem path's guest waits out its plug timeout once: its memory
# comes from the pool.)
for kind in attach detach; do
    for path in virtio-mem rmc accelerator; do
        out=$(run_windows "$kind" "$path" kill-pool)
        check_value "$kind on the $path path, the pool killed at each step: nothing unaccounted, kept for its key" \
            "${out:-none wrong}" "none wrong"
    done
done

# The pool killed and restarted under an allocation of each path: every
# one is still there, the same retry keys give the same ids, and nothing
# is unaccounted.
for path in virtio-mem rmc accelerator; do
    sdm "$(attach_req "$path" "pool-$path")" > "$LOGDIR/windows-pool-$path.json"
done
before=$(allocations)
"$RACK" kill pool > /dev/null 2>&1
"$RACK" restart pool > /dev/null 2>&1
converge
u=$(unaccounted)
check_value "after a pool restart, every allocation is there and accounted for" \
    "$(allocations) ${u:-nothing else}" "$before nothing else"
same=0
for path in virtio-mem rmc accelerator; do
    [ "$(sdm "$(attach_req "$path" "pool-$path")")" = "$(cat "$LOGDIR/windows-pool-$path.json")" ] &&
        same=$((same + 1))
done
check_value "and a retry of each attach gets its first reply" "$same" 3

# Requests at once: brick 0's attach held after its circuit step (the
# hook writes RUN/sdm-held and waits until it is gone).
detach_all
converge
held=$RUN/sdm-held
rm -f "$held"
sdm "$(hooked "$(attach_req virtio-mem held-0)" "optical circuit" hold)" \
    > "$LOGDIR/windows-held.json" &
held_pid=$!
wait_for 60 test -e "$held" || echo "brick 0's attach never reached its hold" >&2
one=$("$CTL" --json --timeout 60 attach --brick 1 --size 128M --memory 1 \
      --key held-1 | jq -c '[.ok, .allocation.compute]')
busy=$("$CTL" --json --timeout 60 status |
       jq -c '[.bricks[] | select(.compute == 0) | .busy] | unique')
gone=$("$CTL" --timeout 60 detach --brick 1 > /dev/null && echo detached)
still=$(cat "$held" 2> /dev/null)
check_value "while brick 0's attach is held, brick 1 attaches and detaches, and status says brick 0 is busy" \
    "$one $gone $busy held at: $still" "[true,1] detached [true] held at: optical circuit"
rm -f "$held"
wait "$held_pid"
converge
u=$(unaccounted)
check_value "brick 0's attach then finishes, and nothing is unaccounted" \
    "$(jq -c '[.ok, .allocation.compute]' "$LOGDIR/windows-held.json") ${u:-nothing else}" \
    "[true,0] nothing else"
detach_all
converge

# Starting, the controller holds before its reconcile while RUN/sdm-held
# is there: it answers "busy" meanwhile, and serves once it is gone.
touch "$held"
"$RACK" restart sdm > /dev/null 2>&1 &
restart_pid=$!
code=
i=0
while [ "$code" != busy ] && [ $i -lt 600 ]; do
    code=$(sdm '{"cmd":"status"}' 2> /dev/null | jq -r .code 2> /dev/null)
    [ "$code" = busy ] || sleep 0.1
    i=$((i + 1))
done
"$CTL" --json --timeout 60 status > "$LOGDIR/windows-busy-status.json" &
ctl_pid=$!
rm -f "$held"
wait "$restart_pid"
wait "$ctl_pid"
ctl_rc=$?
check_value "a starting controller answers busy, and dredboxctl asks again until it serves" \
    "$code $ctl_rc $(jq -c .ok "$LOGDIR/windows-busy-status.json")" "busy 0 true"

# Segments on brick 0's RMC that no allocation holds: one leased to an
# "sdm-aN" of this database (a rollback whose undo never ran), one
# attached by hand (another owner).
pool_cli() {
    "$TOOLS_BUILD/memory-brick/dredbox-pool" -p "$RUN/pool/pool.json" "$@"
}
rmc_attach() {    # rmc_attach OWNER: lease 128M to OWNER, attach it to brick 0
    s=$(pool_cli -c "$1" alloc 128M) &&
        pool_cli -c "$1" -w grant "$s" brick0 &&
        qmp_at "$RUN/brick0.qmp" "{\"execute\":\"dredbox-rmc-attach-segment\",\"arguments\":{\"segment\":$s}}" > /dev/null &&
        echo "$s"
}
rmc_segments() {    # brick 0's RMC's segments, as [S,...]
    qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}' |
        jq -c '[.return.segments[].segment]'
}
stray=$(rmc_attach sdm-a9999)
hand=$(rmc_attach by-hand)
seen=$(rmc_segments)
"$CTL" reconcile > "$LOGDIR/windows-stray.log" 2>&1
check_value "reconcile detaches a segment of the controller's from brick 0's RMC that no allocation holds, releases its lease, and leaves one attached by hand" \
    "$seen $(rmc_segments) $(grep -c "detached segment $stray of sdm-a9999" "$LOGDIR/windows-stray.log") $(pool_cli --json query | jq -c '[.segments[] | select(.owner == "sdm-a9999")]')" \
    "[$stray,$hand] [$hand] 1 []"
qmp_at "$RUN/brick0.qmp" "{\"execute\":\"dredbox-rmc-detach-segment\",\"arguments\":{\"segment\":$hand}}" > /dev/null
pool_cli -c by-hand free "$hand"
u=$(unaccounted)
check_value "once its owner takes that one back, nothing is unaccounted" \
    "$(rmc_segments) ${u:-nothing else}" "[] nothing else"
