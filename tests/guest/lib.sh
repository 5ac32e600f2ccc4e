# Helpers for guest tests: boot a compute brick on the test initramfs, run
# one guest script (tests/guest/rootfs/NAME.sh) and check what it printed.
# Results are TAP lines; the runner counts them.

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
QEMU=${QEMU:-$SRCDIR/build/qemu/qemu-system-aarch64}
GUEST=$SRCDIR/build/guest
LOGDIR=${LOGDIR:-$SRCDIR/build/test-logs}
# Generous: TCG on a loaded 2-core machine; a boot normally takes seconds.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
mkdir -p "$LOGDIR"

FACTS=""

# boot LABEL GUEST_SCRIPT QEMU_ARGS...: boot, run the script, keep its output
# (the lines between the guest's markers) in $FACTS.
boot() {
    label=$1 script=$2
    shift 2
    log=$LOGDIR/$label.log
    timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -machine dredbox-compute \
        -nographic -nodefaults -serial stdio -no-reboot \
        -kernel "$GUEST/Image" -initrd "$GUEST/initramfs.gz" \
        -append "console=ttyAMA0 loglevel=4 dredbox.test=$script" \
        "$@" < /dev/null > "$log" 2>&1
    rc=$?
    FACTS=$(sed -n "/^DREDBOX-TEST-BEGIN $script/,/^DREDBOX-TEST-END/p" \
            "$log" | tr -d '\r')
    if [ -z "$FACTS" ]; then
        echo "# $label: no guest output (QEMU rc=$rc), see $log"
        tail -n 20 "$log" | sed 's/^/#   /'
    fi
}

fact() {    # fact KEY: value the guest printed as KEY=value
    echo "$FACTS" | sed -n "s/^$1=//p" | head -n1
}

# check DESCRIPTION KEY EXPECTED
check() {
    got=$(fact "$2")
    if [ "$got" = "$3" ]; then
        echo "ok - $1"
    else
        echo "not ok - $1: $2 is '$got', expected '$3'"
    fi
}

# check_guest_ok DESCRIPTION: the guest script exited 0
check_guest_ok() {
    if echo "$FACTS" | grep -q "^DREDBOX-TEST-END .* rc=0$"; then
        echo "ok - $1"
    else
        echo "not ok - $1: guest script failed or did not finish"
    fi
}
