# Helpers for guest tests: boot a compute brick on the test initramfs, run
# one guest script (tests/guest/rootfs/NAME.sh) and check what it printed.
# Results are TAP lines; the runner counts them.

# Test scripts live in tests/guest/; others that source this set SRCDIR.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
QEMU=${QEMU:-$SRCDIR/build/qemu/qemu-system-aarch64}
# The rack tools' build (make check-sanitize points it at build/tools-sanitize).
TOOLS_BUILD=${DREDBOX_TOOLS_BUILD:-$SRCDIR/build/tools}
GUEST=$SRCDIR/build/guest
LOGDIR=${LOGDIR:-$SRCDIR/build/test-logs}
# Generous: TCG on a loaded 2-core machine; a boot normally takes seconds.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
mkdir -p "$LOGDIR"

FACTS=""
APPEND=""    # extra kernel command line
CONSOLE_IN=/dev/null    # what the brick's console reads (e.g. a FIFO)

# plan N: the test makes N checks (the TAP plan, printed first);
# tests/guest/run.sh counts a missing plan, or fewer results than
# planned, as failures.
plan() {
    echo "1..$1"
}

# However the test ends (its last line, exit, or the runner's timeout
# sending SIGTERM), what it started goes with it: the background brick,
# its pool, its rack (its logs stay in RUN.logs), a busy loop loading
# the host (hog_start).
BG_PID="" POOL_PID="" RACK_RUN="" HOG_PID=""
cleanup() {
    [ -z "$BG_PID" ] || kill "$BG_PID" 2> /dev/null
    [ -z "$HOG_PID" ] || kill "$HOG_PID" 2> /dev/null
    if [ -n "$POOL_PID" ]; then
        kill "$POOL_PID" 2> /dev/null
        rm -rf "$POOL"
    fi
    if [ -n "$RACK_RUN" ]; then
        # What the rack's processes printed stays, for a failure's reader.
        rm -rf "$RACK_RUN.logs"
        mkdir -p "$RACK_RUN.logs"
        cp "$RACK_RUN"/*.log "$RACK_RUN"/*.out "$RACK_RUN.logs" 2> /dev/null
        DREDBOX_RUN=$RACK_RUN "$RACK" down > /dev/null 2>&1
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# boot_bg LABEL GUEST_SCRIPT QEMU_ARGS...: boot in the background with a
# QMP socket at $LOGDIR/LABEL.qmp; drive it with wait_step and qmp, then
# collect it with boot_wait.
boot_bg() {
    label=$1 script=$2
    shift 2
    log=$LOGDIR/$label.log
    rm -f "$LOGDIR/$label.qmp"
    timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -machine dredbox-compute \
        -nographic -nodefaults -serial stdio -no-reboot \
        -qmp "unix:$LOGDIR/$label.qmp,server=on,wait=off" \
        -kernel "$GUEST/Image" -initrd "$GUEST/initramfs-test.gz" \
        -append "console=ttyAMA0 loglevel=4 dredbox.test=$script $APPEND" \
        "$@" < "$CONSOLE_IN" > "$log" 2>&1 &
    BG_PID=$!
    # QMP is up before the guest runs (it may be waiting for us: -S).
    while [ ! -S "$LOGDIR/$label.qmp" ] && kill -0 "$BG_PID" 2> /dev/null; do
        sleep 0.1
    done
}

# hog_start / hog_stop: a busy loop on the host while a test measures
# that timing mode does not care (docs/timing.md, Determinism).
hog_start() {
    sh -c 'while :; do :; done' &
    HOG_PID=$!
}
hog_stop() {
    kill "$HOG_PID"
    HOG_PID=""
}

# console_open LABEL: the console of the next boot_bg reads a FIFO
# ($LOGDIR/LABEL.in) that console_say WORDS writes a line to, until
# console_close.  The guest reads it on its stdin (t-trace starts the
# rounds of a program that way; rmc-driver.sh powers off when told).
console_open() {
    CONSOLE_IN=$LOGDIR/$1.in
    rm -f "$CONSOLE_IN"
    mkfifo "$CONSOLE_IN"
    exec 7<> "$CONSOLE_IN"
}
console_say() {
    echo "$*" >&7
}
console_close() {
    exec 7>&-
}

# wait_step NAME: until the guest prints "DREDBOX-STEP NAME" (0) or QEMU
# is gone (1, and a failed check).
wait_step() {
    while ! grep -q "^DREDBOX-STEP $1" "$log"; do
        if ! kill -0 "$BG_PID" 2> /dev/null; then
            echo "not ok - guest never reached step '$1', see $log"
            return 1
        fi
        sleep 1
    done
}

# qmp COMMAND_JSON...: run commands on the background brick's QMP socket;
# prints the replies (one per line, events dropped).
qmp() {
    qmp_at "$LOGDIR/$label.qmp" "$@"
}

qmp_at() {    # qmp_at SOCKET COMMAND_JSON...
    sock=$1
    shift
    { echo '{"execute": "qmp_capabilities"}'; for c in "$@"; do
        echo "$c"; done; } |
        socat -t 5 - "UNIX-CONNECT:$sock" |
        grep -v '"QMP"\|"event"' | tail -n +2
}

# brick_run RUN ID COMMAND: run a shell command on a rack brick's console;
# its output (what it printed, then "rc=N") goes to $FACTS.
brick_run() {
    n=$$$(date +%N)
    con=$1/brick$2.log
    start=$(($(wc -c < "$con") + 1))
    # The markers are printed from pieces, so the echoed command line
    # (which the terminal may wrap) never matches them.
    {
        printf "printf '%%s-%%s\\\\n' DREDBOX BEGIN%s; %s; printf '%%s-%%s rc=%%s\\\\n' DREDBOX END%s \$?\n" \
            "$n" "$3" "$n"
        i=0
        while ! tail -c +"$start" "$con" | grep -q "^DREDBOX-END$n rc=" &&
              [ $i -lt 1200 ]; do
            sleep 0.1
            i=$((i + 1))
        done
    } | socat - "UNIX-CONNECT:$1/brick$2.console" > /dev/null
    FACTS=$(tail -c +"$start" "$con" | tr -d '\r' |
            sed -n "/^DREDBOX-BEGIN$n\$/,/^DREDBOX-END$n rc=/p" |
            sed '1d;s/^DREDBOX-END[0-9]* //')
}

boot_wait() {    # wait for the background brick; its output in $FACTS
    wait "$BG_PID"
    rc=$?
    BG_PID=""
    FACTS=$(sed -n "/^DREDBOX-TEST-BEGIN $script/,/^DREDBOX-TEST-END/p" \
            "$log" | tr -d '\r')
    if [ -z "$FACTS" ]; then
        echo "# $label: no guest output (QEMU rc=$rc), see $log"
        tail -n 20 "$log" | sed 's/^/#   /'
    fi
}

# boot LABEL GUEST_SCRIPT QEMU_ARGS...: boot, run the script, keep its output
# (the lines between the guest's markers) in $FACTS.
boot() {
    boot_bg "$@"
    boot_wait
}

# pool_start SPEC...: a memory pool (dredbox-memd) of these bricks for
# this test, in $POOL; pool_stop ends it.
pool_start() {
    POOL=$(mktemp -d "${TMPDIR:-/tmp}/dredbox-pool-XXXXXX")
    args=""
    for b in "$@"; do
        args="$args --brick $b"
    done
    # shellcheck disable=SC2086
    "$TOOLS/dredbox-memd" --dir "$POOL" $args > "$POOL/memd.log" 2>&1 &
    POOL_PID=$!
    i=0
    while [ ! -f "$POOL/pool.json" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ ! -f "$POOL/pool.json" ]; then
        echo "not ok - memory pool did not start:"
        sed 's/^/#   /' "$POOL/memd.log"
        return 1
    fi
}

pool_stop() {
    kill "$POOL_PID" && wait "$POOL_PID"
    rm -rf "$POOL"
    POOL_PID=""
}

TOOLS=$TOOLS_BUILD/memory-brick
pool_tool() {    # dredbox-pool on this test's pool
    "$TOOLS/dredbox-pool" -p "$POOL/memd.sock" "$@"
}

# pool_used BRICK: bytes allocated in a memory brick, as the pool says.
pool_used() {
    pool_tool --json query | jq ".bricks[] | select(.id == $1) | .used"
}

# check_value DESCRIPTION GOT EXPECTED: a host-side check.  An empty
# EXPECTED proves nothing (two failed commands print the same nothing):
# it fails.
check_value() {
    if [ -z "$3" ]; then
        echo "not ok - $1: got '$2', expected nothing (an empty expected value is never a pass)"
    elif [ "$2" = "$3" ]; then
        echo "ok - $1"
    else
        echo "not ok - $1: got '$2', expected '$3'"
    fi
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, polled every 0.1 s,
# at most SECONDS; its status is the last try's.
wait_for() {
    limit=$(($1 * 10))
    shift
    i=0
    until "$@"; do
        i=$((i + 1))
        [ $i -lt "$limit" ] || return 1
        sleep 0.1
    done
}

# within DESC PERCENT GOT EXPECTED: |GOT - EXPECTED| <= PERCENT% of EXPECTED
within() {
    if [ -z "$3" ] || [ -z "$4" ]; then
        echo "not ok - $1: got '$3', expected '$4' +-$2%"
    elif awk -v g="$3" -v e="$4" -v p="$2" \
           'BEGIN { d = g - e; if (d < 0) d = -d; exit !(d * 100 <= e * p) }'; then
        echo "ok - $1 ($3, expected $4 +-$2%)"
    else
        echo "not ok - $1: got $3, expected $4 +-$2%"
    fi
}

fact() {    # fact KEY: value the guest printed as KEY=value
    echo "$FACTS" | sed -n "s/^$1=//p" | head -n1
}

has_fact() {    # has_fact KEY: the guest printed KEY=, even if empty
    echo "$FACTS" | grep -q "^$1="
}

# check DESCRIPTION KEY EXPECTED: the guest printed KEY=EXPECTED.  A key
# it never printed fails, whatever EXPECTED is (also "").
check() {
    got=$(fact "$2")
    if ! has_fact "$2"; then
        echo "not ok - $1: the guest never printed $2 (expected '$3')"
    elif [ "$got" = "$3" ]; then
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

# Rack tests.  rack_up NAME [RACKFILE]: bring a rack up in $RUN =
# $LOGDIR/NAME-rack (what dredbox-rack printed in $LOGDIR/NAME-up.log,
# its status is rack_up's) and take it down when the test exits.
RACK=$SRCDIR/launcher/dredbox-rack
CTL=$TOOLS_BUILD/sdm-controller/dredboxctl
rack_up() {
    export DREDBOX_RUN="$LOGDIR/$1-rack" DREDBOX_STATE="$LOGDIR/$1-state"
    RUN=$DREDBOX_RUN
    "$RACK" down > /dev/null 2>&1
    RACK_RUN=$RUN
    "$RACK" up ${2:+"$2"} > "$LOGDIR/$1-up.log" 2>&1
}

# attach_detach ARGS...: "ok" if an attach with ARGS and then a detach of
# what it made both succeed, else what went wrong
attach_detach() {
    made=$("$CTL" --json attach --brick 0 "$@" 2>&1) ||
        { echo "attach: $made"; return; }
    id=$(echo "$made" | jq .allocation.id)
    out=$("$CTL" detach --brick 0 --allocation "$id" 2>&1) ||
        { echo "detach: $out"; return; }
    echo ok
}

# rack_operations NAME: what every shipped rack supports, on the rack up
# in $RUN: its compute brick 0 gets memory on the default path
# (virtio-mem), on the RMC path and an accelerator's queue, each attached
# and detached through dredboxctl, and then nothing is leased and no
# circuit is left (4 checks)
rack_operations() {
    check_value "$1: brick 0 attaches and detaches virtio-mem memory" \
        "$(attach_detach --size 256M)" ok
    # The RMC path's last step is brick 0's agent: its guest must be up.
    check_value "$1: brick 0 attaches and detaches RMC-path memory" \
        "$(wait_for 60 "$RACK" exec 0 -- pidof dredbox-agent > /dev/null &&
           attach_detach --size 256M --path rmc)" ok
    check_value "$1: brick 0 attaches and detaches an accelerator" \
        "$(attach_detach --accelerator)" ok
    check_value "$1: then nothing is leased and no circuit is left" \
        "$(rack_pool_used) $(circuits)" "0 0"
}

circuits() {    # optical circuits the rack's fabric holds
    printf '%s\n' '{"cmd":"query"}' |
        socat -t 5 - "UNIX-CONNECT:$RUN/fabric.sock" | jq '.circuits | length'
}

rack_pool_used() {    # bytes the rack's pool has lent, all bricks
    "$TOOLS_BUILD/memory-brick/dredbox-pool" \
        -p "$RUN/pool/pool.json" --json query | jq '[.bricks[].used] | add'
}
