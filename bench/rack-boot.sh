#!/bin/sh
# How bringing up a rack scales, with its baselines, in one run: for 1, 2
# and 4 compute bricks (512 MiB, 4 vCPUs each), the time
#  - from `dredbox-rack up` to every compute brick's Linux shell (pool,
#    fabric, SDM controller and one memory brick per compute brick);
#  - to start the same dredbox-compute bricks on their own (no pool,
#    fabric, controller, virtio-mem, NIC or agent channel) and reach every
#    shell;
#  - the same with stock QEMU `virt` machines (same binary, 4 Cortex-A53,
#    512 MiB, same kernel and initramfs).
# The three are interleaved for each size; medians over the repeats.
#
#   bench/rack-boot.sh [REPEATS]      (default 2 per size)
#   bench/rack-boot.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"

table() {
    awk "$BENCH_AWK"'
    { add($1 " " $2, $3 / 1000); sizes[$2] = 1 }
    END {
        print "| compute bricks | rack up (s) | per brick (s) | bricks alone (s) | virt alone (s) | rack / bricks alone | bricks alone / virt | repeats |"
        print "|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (b = 1; b <= 64; b++) {
            if (!(b in sizes)) continue
            r = med("rack " b); a = med("alone " b); v = med("virt " b)
            printf "| %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %d |\n",
                   b, r, r / b, a, v, r / a, a / v, n("rack " b)
        }
    }'
}

bench_start rack-boot "$@"
repeats=${1:-2}
rackfile=$LOGDIR/bench-rack-boot.rack
export DREDBOX_RUN="$LOGDIR/bench-rack-boot-rack"
ms() { echo $(($(date +%s%N) / 1000000)); }

# alone N QEMU-ARGS...: start N bricks on their own with these machine
# arguments; ALONE_MS is how long until every one shows its shell.
ALONE_PIDS=""
BENCH_ON_EXIT='[ -z "$ALONE_PIDS" ] || kill $ALONE_PIDS 2> /dev/null || true'
alone() {
    n=$1
    shift
    t0=$(ms)
    i=0
    while [ $i -lt "$n" ]; do
        con=$LOGDIR/bench-rack-boot-alone$i.log
        : > "$con"
        "$QEMU" "$@" -smp 4 -m 512M -nodefaults -display none \
            -serial "file:$con" -no-reboot \
            -kernel "$GUEST/Image" -initrd "$GUEST/initramfs.gz" \
            -append "console=ttyAMA0 loglevel=4" < /dev/null \
            > "$LOGDIR/bench-rack-boot-alone$i.out" 2>&1 &
        ALONE_PIDS="$ALONE_PIDS $!"
        i=$((i + 1))
    done
    i=0
    while [ $i -lt "$n" ]; do
        con=$LOGDIR/bench-rack-boot-alone$i.log
        w=0
        until grep -q "Type 'poweroff -f'" "$con"; do
            w=$((w + 1))
            if [ $w -gt $((BOOT_TIMEOUT * 10)) ]; then
                echo "bench: brick $i alone ($*) did not boot, see $con" >&2
                exit 1
            fi
            sleep 0.1
        done
        i=$((i + 1))
    done
    t1=$(ms)
    # shellcheck disable=SC2086
    kill $ALONE_PIDS
    # shellcheck disable=SC2086
    wait $ALONE_PIDS || true
    ALONE_PIDS=""
    ALONE_MS=$((t1 - t0))
}

for n in 1 2 4; do
    {
        echo "rack bench$n"
        i=0
        while [ $i -lt $n ]; do
            echo "compute $i ram=512M ports=1"
            echo "memory $i size=1G"
            i=$((i + 1))
        done
        echo "electrical-switch"
    } > "$rackfile"
    r=0
    while [ $r -lt "$repeats" ]; do
        "$RACK" down > /dev/null 2>&1 || true
        t0=$(ms)
        rack_up bench-rack-boot "$rackfile"
        t1=$(ms)
        "$RACK" down > /dev/null
        result "rack $n $((t1 - t0))"
        alone "$n" -machine dredbox-compute
        result "alone $n $ALONE_MS"
        alone "$n" -machine virt -cpu cortex-a53
        result "virt $n $ALONE_MS"
        r=$((r + 1))
    done
done
bench_end
