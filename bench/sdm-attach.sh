#!/bin/sh
# End-to-end attach latency on the emulated default rack, in one run:
#  - through the SDM controller: from `dredboxctl attach --brick 0
#    --size 512M` to its answer (the controller acknowledges only once the
#    guest has plugged the memory), and the matching detach;
#  - bare, without the controller: `qom-set requested-size` on the same
#    brick's virtio-mem device over QMP, until the guest has plugged it
#    (or unplugged it again), timed to the QMP event that reports the
#    device's final size.
# Rounds alternate between the two; medians and spread over the rounds.
#
#   bench/sdm-attach.sh [ROUNDS]      (default 10)
#   bench/sdm-attach.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"

table() {
    awk "$BENCH_AWK"'
    { add($1, $2) }
    function line(k, what) {
        printf "| %s | %d | %d | %d | %d |\n", what, med(k), min(k),
               max(k), n(k)
    }
    END {
        print "| 512 MiB | median (ms) | min | max | rounds |"
        print "|---|---:|---:|---:|---:|"
        line("attach-ctl", "attach, `dredboxctl` (controller)")
        line("attach-bare", "attach, bare `qom-set requested-size`")
        line("detach-ctl", "detach, `dredboxctl` (controller)")
        line("detach-bare", "detach, bare `qom-set requested-size`")
        print ""
        print "| controller / bare (median) | measured | controller overhead (ms) |"
        print "|---|---:|---:|"
        printf "| attach | %.2f | %d |\n", med("attach-ctl") / med("attach-bare"),
               med("attach-ctl") - med("attach-bare")
        printf "| detach | %.2f | %d |\n", med("detach-ctl") / med("detach-bare"),
               med("detach-ctl") - med("detach-bare")
    }'
}

bench_start sdm-attach "$@"
rounds=${1:-10}
size=$((512 << 20))
rack_up bench-sdm-attach

ms() { echo $(($(date +%s%N) / 1000000)); }

# bare_resize DEVICE SIZE: set the brick's virtio-mem DEVICE to SIZE over
# QMP; prints the milliseconds from the start of the request to the
# MEMORY_DEVICE_SIZE_CHANGE event that reports SIZE.  QEMU throttles
# that event to one a second per device, but each keeps the time of the
# change it reports, so the time is exact.  The QMP session goes to
# $LOGDIR/bench-sdm-attach-qmp.log.
bare_resize() {
    flag=$LOGDIR/bench-sdm-attach.done
    rm -f "$flag"
    t0=$(date +%s%N)
    {
        echo '{"execute": "qmp_capabilities"}'
        echo "{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"$1\", \"property\": \"requested-size\", \"value\": $2}}"
        i=0
        while [ ! -e "$flag" ] && [ $i -lt 1200 ]; do
            sleep 0.1
            i=$((i + 1))
        done
    } | socat -t 1 - "UNIX-CONNECT:$RUN/brick0.qmp" |
        tee -a "$LOGDIR/bench-sdm-attach-qmp.log" | {
        # Line by line as the events come (awk may read ahead).
        while read -r line; do
            case $line in
            *'"MEMORY_DEVICE_SIZE_CHANGE"'*"\"size\": $2"[,}]*) ;;
            *) continue ;;
            esac
            case $line in
            *"\"id\": \"$1\""*)
                s=$(echo "$line" | sed 's/.*"seconds": *\([0-9]*\).*/\1/')
                us=$(echo "$line" | sed 's/.*"microseconds": *\([0-9]*\).*/\1/')
                echo $(((s * 1000000 + us - t0 / 1000) / 1000))
                touch "$flag"
                break ;;
            esac
        done
        cat > /dev/null
    }
    rm -f "$flag"
}

i=0
while [ $i -lt "$rounds" ]; do
    t0=$(ms)
    out=$("$CTL" attach --brick 0 --size 512M)
    t1=$(ms)
    "$CTL" detach --brick 0 > /dev/null
    t2=$(ms)
    echo "$out"
    result "attach-ctl $((t1 - t0))"
    result "detach-ctl $((t2 - t1))"
    # The bare rounds use the memory brick the controller picked.
    mem=$(echo "$out" | sed -n 's/.* of memory brick \([0-9]*\) .*/\1/p')
    a=$(bare_resize "vmem-m$mem" $size)
    d=$(bare_resize "vmem-m$mem" 0)
    if [ -z "$a" ] || [ -z "$d" ]; then
        echo "bench: vmem-m$mem never reported its size (attach '$a', detach '$d')" >&2
        exit 1
    fi
    result "attach-bare $a"
    result "detach-bare $d"
    i=$((i + 1))
done
bench_end
