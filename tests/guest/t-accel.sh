#!/bin/sh
# The accelerator brick on the default rack (its engines slowed to 64 MiB/s
# so that a job lasts long enough to be interrupted): the SDM controller
# gives compute brick 0 an accelerator; from the stock Debian guest a
# 64 MiB copy and a CRC32C over remote memory are right, checked from the
# host against the pool's own bytes and a reference CRC32C; bad
# descriptors are refused; the accelerator killed in the middle of a job
# makes the guest's job fail (not hang), and once restarted it serves
# again; detach and a failed attach leave nothing behind.
. "$(dirname "$0")/lib.sh"
plan 32

POOLTOOL=$TOOLS_BUILD/memory-brick/dredbox-pool
CRC=$TOOLS_BUILD/tests/unit/crc32c-ref
sed 's/^accelerator 0 tray=1$/accelerator 0 tray=1 rate=64/' \
    "$SRCDIR/racks/default.rack" > "$LOGDIR/accel.rack"
rack_up accel "$LOGDIR/accel.rack"
check_value "the rack comes up with its accelerator" \
    "$(grep -c '^accel0 *up' "$LOGDIR/accel-up.log")" 1

guest() {    # guest COMMAND: run on brick 0; what it printed in $FACTS
    brick_run "$RUN" 0 "$1"
}
rc() {
    echo "$FACTS" | sed -n 's/^rc=//p'
}
rmc() {    # rmc JQ: about brick 0's RMC
    qmp_at "$RUN/brick0.qmp" '{"execute": "query-dredbox-rmc"}' |
        jq -c ".return | $1"
}
host_read() {    # host_read SEGMENT OFFSET LENGTH: the pool's bytes
    "$POOLTOOL" -a -p "$RUN/pool/pool.json" read "$1" "$2" "$3"
}
rung_since() {    # rung_since COUNT: brick 0's RMC rang more than COUNT
    [ "$(rmc '.ports[0].doorbell.doorbells')" != "$1" ]
}
# long_job: start a 4-second job on brick 0 (its output, then rc=, in
# /tmp/job); return once its doorbell has reached the accelerator.
long_job() {
    rung=$(rmc '.ports[0].doorbell.doorbells')
    guest "(dredbox-accel -t 60 crc32c 0x10000 250M > /tmp/job 2>&1; echo rc=\$? >> /tmp/job) & true"
    wait_for 30 rung_since "$rung"
}
queue_closing() {    # the queue header's closing word (offset 24) is set
    [ "$(host_read "$seg" 24 4 | od -An -tu4 | tr -d ' ')" = 1 ]
}

guest "dredbox-accel -w 0 info"
check_value "without an accelerator the guest tool says so" \
    "$(echo "$FACTS" | grep -c 'no RMC port has an accelerator')$(rc)" 11

"$CTL" attach --brick 0 --accelerator > "$LOGDIR/accel-attach.log" 2>&1
check_value "dredboxctl attach --accelerator succeeds" "$?" 0
seg=$(sed -n 's/.*queue segment \([0-9]*\).*/\1/p' "$LOGDIR/accel-attach.log")
check_value "two circuits: brick to memory, accelerator to memory" \
    "$(circuits)" 2
check_value "the RMC's doorbell reaches the accelerator" \
    "$(rmc '.ports[0].doorbell | [.segment, .connected]')" "[$seg,true]"
check_value "status: pool, RMC and accelerator agree with the controller" \
    "$("$CTL" --json status | jq -c '[.segments[] | [.pool, .rmc, .accelerator]]')" \
    "[[true,true,true]]"

# 64 MiB written by the guest CPU, copied and checksummed by the accelerator.
guest "dredbox-accel pattern 0x10000 64M 7 && dredbox-accel copy 0x10000 0x4010000 64M && dredbox-accel crc32c 0x4010000 64M"
check_value "the guest's 64 MiB copy and CRC32C complete" "$(rc)" 0
crc=$(echo "$FACTS" | sed -n 's/^crc32c=//p')
# Two failed reads would be two equal empty files: each must succeed.
host_read "$seg" $((0x10000)) $((64 << 20)) > "$LOGDIR/accel-src.bin" &&
    host_read "$seg" $((0x4010000)) $((64 << 20)) > "$LOGDIR/accel-dst.bin"
check_value "the copy is byte for byte the source, as the pool holds it" \
    "$?/$(cmp "$LOGDIR/accel-src.bin" "$LOGDIR/accel-dst.bin" && echo same)" 0/same
check_value "the source is the guest's pattern, not zeros" \
    "$(cmp -s "$LOGDIR/accel-src.bin" /dev/zero; echo $?)" 1
check_value "the CRC32C is the host's reference CRC32C" \
    "$("$CRC" "$LOGDIR/accel-dst.bin")" "$crc"
rm -f "$LOGDIR/accel-src.bin" "$LOGDIR/accel-dst.bin"

guest "dredbox-accel fill 0x8010000 4096 0x1122334455667788 && dredbox-accel cpu-crc32c 0x4010000 64M"
check_value "fill writes the 64-bit value" \
    "$(host_read "$seg" $((0x8010000 + 4088)) 8 | od -An -tx8 | tr -d ' ')" \
    1122334455667788
check_value "the guest CPU's CRC32C agrees" \
    "$(echo "$FACTS" | sed -n 's/^crc32c=//p')" "$crc"

guest "dredbox-accel copy 0x10000 0 4096"
check_value "a copy into the queue itself is refused" \
    "$(echo "$FACTS" | grep -c 'reaches into the queue itself')$(rc)" 11
guest "dredbox-accel crc32c 0x10000 1G"
check_value "a range past the segment is refused" \
    "$(echo "$FACTS" | grep -c 'outside the shared segment')$(rc)" 11
guest "dredbox-accel copy 0x10000 0x10100 4096"
check_value "overlapping source and destination are refused" \
    "$(echo "$FACTS" | grep -c 'overlap')$(rc)" 11

# The accelerator dies in the middle of a 4-second job.
long_job
kill -9 "$(cat "$RUN/accel0.pid")"
t0=$(date +%s)
guest "while ! grep -q rc= /tmp/job; do sleep 0.2; done; cat /tmp/job"
check_value "the guest's job fails: the accelerator went away" \
    "$(echo "$FACTS" | grep -c 'the accelerator went away')" 1
check_value "at once, not after the job's 60 s timeout" \
    "$(( $(date +%s) - t0 < 20 ))" 1
check_value "the RMC reports the engine gone" \
    "$(rmc '.ports[0].doorbell.connected')" false
check_value "and status shows the mismatch" \
    "$("$CTL" status | grep -c MISMATCH)" 1

"$RACK" restart accel0 > /dev/null
guest "dredbox-accel crc32c 0x4010000 64M"
check_value "restarted, the accelerator serves again (RMC reconnected)" \
    "$(echo "$FACTS" | sed -n 's/^crc32c=//p')" "$crc"

err=$("$CTL" attach --brick 1 --accelerator 2>&1)
check_value "the only accelerator port is taken" "$err" \
    "dredboxctl: no accelerator brick has a free port"

# Detach while a 4-second job runs: the brick's agent closes the queue,
# new jobs are refused, the running one finishes, then the accelerator
# goes (docs/accelerator.md, "Detach").
long_job
"$CTL" detach --brick 0 > "$LOGDIR/accel-detach.log" 2>&1 &
detach_pid=$!
wait_for 30 queue_closing
guest "dredbox-accel -w 0 crc32c 0x10000 4096"
check_value "meanwhile a new job is refused: the queue is being released" \
    "$(echo "$FACTS" | grep -c 'the queue is being released')$(rc)" 11
wait "$detach_pid"
check_value "detach succeeds once the running job is done" "$?" 0
guest "cat /tmp/job"
check_value "which finished with its result" \
    "$(echo "$FACTS" | grep -c '^crc32c=')$(echo "$FACTS" | sed -n 's/^rc=//p' | head -n1)" 10
check_value "and leaves no circuit" "$(circuits)" 0
check_value "no pool memory" "$(rack_pool_used)" 0
check_value "no RMC entry, segment or doorbell" \
    "$(rmc '[.ports[0].live.enabled, (.segments | length), .ports[0].doorbell]')" \
    "[false,0,null]"

# An accelerator that is down: the request fails and is rolled back.
kill -9 "$(cat "$RUN/accel0.pid")"
err=$("$CTL" attach --brick 0 --accelerator 2>&1)
check_value "attach with the accelerator down fails at the doorbell" \
    "$(echo "$err" | grep -c 'doorbell failed: compute brick 0: port 0: accelerator 0 did not answer')" 1
check_value "leaving no circuit" "$(circuits)" 0
check_value "no pool memory" "$(rack_pool_used)" 0
check_value "no RMC entry, segment or doorbell" \
    "$(rmc '[.ports[0].live.enabled, (.segments | length), .ports[0].doorbell]')" \
    "[false,0,null]"
check_value "and no allocation" \
    "$("$CTL" --json status | jq '.allocations | length')" 0
