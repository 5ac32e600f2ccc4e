#!/bin/sh
# The memory-access plugin (plugins/dredbox-mem.c): a static
# guest program makes a known number of stores through RMC port 0 to
# memory brick 0, then, after the RMC is reprogrammed, through port 1 to
# memory brick 1, then loads from local DRAM.  In count mode, restricted
# to those address ranges, the plugin's counts are exactly those numbers
# per port, per brick and local; in trace mode every access is in the
# trace with the brick and offset the RMC translated it to, before and
# after the reprogram (read back with dredbox-trace).  Two processes
# storing to the same memory: filtered by thread ID or by page-table
# base, set through the control socket while the guest runs, the counts
# are exactly one process's pattern.  A full disk stops the trace, not
# the guest; bad arguments are refused with a clear message.
. "$(dirname "$0")/lib.sh"
plan 46

PLUGIN=$TOOLS_BUILD/plugins/libdredbox-mem.so
LOCAL=$((0x100000000 + (768 << 20)))    # local DRAM above mem=768M
pool_start 0:1G 1:1G
seg0=$(pool_tool -c rack alloc 128M --brick 0)
seg1=$(pool_tool -c rack alloc 128M --brick 1)
pool_tool -c rack grant "$seg0" brick0 --writable
pool_tool -c rack grant "$seg1" brick0 --writable
table=$LOGDIR/trace.rmc-table
counts=$LOGDIR/trace.counts
trace=$LOGDIR/trace.bin
CTL=$LOGDIR/trace.ctl
rm -f "$counts" "$trace"
ctl() {    # ctl REQUEST: the plugin's reply on its control socket
    echo "$1" | socat -t 5 - "UNIX-CONNECT:$CTL"
}
RANGES="range=0x40000000-0x40100000,range=$LOCAL-$((LOCAL + (1 << 20)))"
APPEND="mem=768M dredbox.count=0:0x100000:1:0x200000:1000:500:700:$LOCAL"
run() {    # run LABEL PLUGIN_ARGS: the pattern under the plugin
    console_open "$1"    # rmc-count.sh powers off when told
    boot_bg "$1" rmc-count -machine "pool=$POOL/memd.sock" -S \
        -global "dredbox-rmc.table=$table" -plugin "$PLUGIN,rmc=$table,$2"
    CONSOLE_IN=/dev/null
    qmp "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg0}}" \
        "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg1}}" \
        '{"execute": "cont"}' > /dev/null
}
run trace-count "mode=count,$RANGES,ctl=$CTL,out=$counts"
if wait_step counted; then
    check_value "counts can be read while the brick runs" \
        "$(ctl '{"cmd": "counts"}' | jq -c '.counts[] | select(.port == 0)')/$(kill -0 "$BG_PID" && echo running)" \
        '{"port":0,"brick":0,"loads":0,"stores":1000,"bytes":8000}/running'
    refusal() {    # refusal REQUEST: the control socket's error for it
        ctl "$1" | jq -r 'if .ok then "accepted" else .error end'
    }
    check_value "the control socket refuses bad requests, saying why" \
        "$(refusal '{"cmd": "filter", "pid": 1, "ttbr": 4096}')
$(refusal '{"cmd": "filter", "pid": "one"}')
$(refusal '{"cmd": "filter", "ttbr": 4097}')
$(refusal '{"cmd": "rewind"}')
$(refusal '{"cmd": "cmo"}')
$(refusal 'counts please')" \
        "filter takes pid or ttbr, not both
member \"pid\" must be an integer
\"ttbr\" is out of range (pid: a thread ID; ttbr: a page-table base, 2-byte aligned, below 2^48)
unknown cmd 'rewind' (counts, filter, threads, cmo)
the cache-maintenance check is off (cmo=on)
malformed JSON request"
fi
console_say go
boot_wait
check "the guest program ran" COUNT_DONE 1
check_guest_ok "and its script ended well"
line() {    # line PREFIX: the plugin's counts for PREFIX
    grep "^$1 loads=" "$counts" 2> /dev/null | sed "s/^$1 //"
}
check_value "port 0: the 1000 stores before the reprogram, to brick 0" \
    "$(line "port=0 brick=0")" "loads=0 stores=1000 bytes=8000"
check_value "port 1: the 500 stores after it, to brick 1" \
    "$(line "port=1 brick=1")" "loads=0 stores=500 bytes=4000"
check_value "per brick: brick 0" "$(line brick=0)" "loads=0 stores=1000 bytes=8000"
check_value "per brick: brick 1" "$(line brick=1)" "loads=0 stores=500 bytes=4000"
check_value "local DRAM: the 700 loads" "$(line kind=local)" \
    "loads=700 stores=0 bytes=5600"
check_value "nothing else in those ranges" \
    "$(line kind=rmc-unmapped) $(line kind=other)" \
    "loads=0 stores=0 bytes=0 loads=0 stores=0 bytes=0"

run trace-trace "mode=trace,$RANGES,out=$trace"
wait_step counted && console_say go
boot_wait
check "traced, the guest program ran" COUNT_DONE 1
check_guest_ok "traced, its script ended well"
TRACE=$TOOLS_BUILD/plugins/dredbox-trace
"$TRACE" csv "$trace" > "$LOGDIR/trace.csv" || rm -f "$LOGDIR/trace.csv"
rows() {    # rows AWK_CONDITION: how many CSV rows match (no CSV: no count)
    if [ -s "$LOGDIR/trace.csv" ]; then
        awk -F, "NR > 1 && ($1)" "$LOGDIR/trace.csv" | wc -l
    else
        echo "no trace CSV"
    fi
}
check_value "trace: 1000 stores to brick 0 through port 0" \
    "$(rows '$5 == "rmc" && $6 == 0 && $7 == 0 && $10 == "store" && $9 == 8')" 1000
check_value "trace: 500 stores to brick 1 through port 1 after the reprogram" \
    "$(rows '$5 == "rmc" && $6 == 1 && $7 == 1 && $10 == "store"')" 500
check_value "trace: 700 local loads" "$(rows '$5 == "local" && $10 == "load"')" 700
check_value "and nothing else" "$(rows 1)" 2200
check_value "brick 0's offsets are the RMC's translation (0x100000 up)" \
    "$(rows '$7 == "0" && $8 !~ /^0x1[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]$/')/$(awk -F, '$7 == "0" { print $8; exit }' "$LOGDIR/trace.csv")" \
    0/0x100000
check_value "brick 1's offsets after the reprogram (0x200000 up)" \
    "$(rows '$7 == "1" && $8 !~ /^0x2[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]$/')/$(awk -F, '$7 == "1" { print $8; exit }' "$LOGDIR/trace.csv")" \
    0/0x200000
check_value "every access has its physical and virtual address" \
    "$(rows '$4 == "0x0" || $3 == "0x0"')" 0
check_value "the brick-0 stores come before the brick-1 ones" \
    "$(awk -F, 'NR > 1 && $7 == "0" { last0 = NR } NR > 1 && $7 == "1" && !first1 { first1 = NR } END { print (last0 < first1) }' "$LOGDIR/trace.csv")" 1
"$TRACE" summary "$trace" > "$LOGDIR/trace.summary"
check_value "the summary counts per brick" \
    "$(grep -c '^brick 0 *loads=0 stores=1000 bytes=8000$\|^brick 1 *loads=0 stores=500 bytes=4000$' "$LOGDIR/trace.summary")" 2
asid=$(awk -F, 'NR == 2 { print $11 }' "$LOGDIR/trace.csv")
check_value "every access has the program's address space (ASID)" \
    "$(rows "\$11 != \"$asid\"")" 0
check_value "and names the hottest remote page" \
    "$(grep -A1 '^hottest' "$LOGDIR/trace.summary" | tail -n1 | awk '{ print $1, $2 }')" "0 0x100000"
check_value "split by that address space, the trace keeps all 2200" \
    "$("$TRACE" summary --asid "$asid" "$trace" | head -n1)" \
    "2200 accesses (one in 1 traced) in asid $asid, of 2200 in the trace"
rm -rf "$LOGDIR/trace-plots"
"$TRACE" plot "$trace" "$LOGDIR/trace-plots" > /dev/null
check_value "the reader draws the trace's plots (PNG)" \
    "$(for p in remote-fraction reuse-distance bricks; do
           head -c 4 "$LOGDIR/trace-plots/$p.png" | tail -c 3; echo; done)" \
    "$(printf 'PNG\nPNG\nPNG')"

# One process: another stores to the same memory all the while.
LOCAL_RANGE="range=$LOCAL-$((LOCAL + (1 << 20)))"
console_open trace-process
count_args=$APPEND
APPEND="mem=768M dredbox.pattern=$LOCAL:1000:700:3"
boot_bg trace-process mem-pattern -smp 2 \
    -plugin "$PLUGIN,mode=count,$LOCAL_RANGE,ctl=$CTL"
CONSOLE_IN=/dev/null
APPEND=$count_args
local_counts() {    # "LOADS STORES" to local DRAM so far
    ctl '{"cmd": "counts"}' |
        jq -r '.counts[] | select(.kind == "local") | "\(.loads) \(.stores)"'
}
round() {    # round N FILTER: the reply to the filter, what a round added
    printf '%s ' "$(ctl "{\"cmd\": \"filter\", $2}")"
    before=$(local_counts)
    console_say go
    wait_step "round-$1"
    after=$(local_counts)
    set -- $before $after
    echo "$(($3 - $1)) $(($4 - $2))"
}
if wait_step ready; then
    pid=$(sed -n 's/^DREDBOX-STEP ready pid=\([0-9]*\).*/\1/p' "$log")
    check_value "filtered by thread ID: exactly the pattern's 700 loads and 1000 stores" \
        "$(round 1 "\"pid\": $pid")" '{"ok":true} 700 1000'
    threads=$(ctl '{"cmd": "threads"}')
    ttbr=$(echo "$threads" | jq ".threads[] | select(.pid == $pid) | .ttbr")
    noise=$(sed -n 's/^NOISE_PID=\([0-9]*\).*/\1/p' "$log")
    check_value "the plugin saw both processes' page tables, and they differ" \
        "$(echo "$threads" | jq "[.threads[] | select(.pid == $pid or .pid == $noise) | .ttbr] | unique | map(select(. > 0)) | length")" 2
    check_value "filtered by page-table base: exactly the pattern again" \
        "$(round 2 "\"ttbr\": $ttbr")" '{"ok":true} 700 1000'
    ctl '{"cmd": "filter"}' > /dev/null
    # Unfiltered, the other process (storing without end) counts too:
    # the stores grow with no round running (a minute at most).
    stores() { local_counts | cut -d' ' -f2; }
    start=$(stores) now=$(stores) i=0
    while [ "${now:-0}" -le "${start:-0}" ] && [ $i -lt 600 ]; do
        sleep 0.1
        now=$(stores) i=$((i + 1))
    done
    check_value "unfiltered, the other process's stores count too" \
        "$((${now:-0} > ${start:-0}))" 1
    console_say go     # the last round, then the guest powers off
fi
console_close
boot_wait
check "the pattern ran to its end" PATTERN_RC 0
check_guest_ok "and its script ended well, the other process still there"

# A full disk: the trace stops, the guest runs on.
run trace-full "mode=trace,out=/dev/full"
wait_step counted && console_say go
boot_wait
check "with a full disk, the guest program still ran" COUNT_DONE 1
check_guest_ok "with a full disk, its script ended well"
check_value "and the plugin said it stopped tracing" \
    "$(grep -c 'dredbox-mem: cannot write the trace (No space left on device): tracing stopped, the guest runs on' "$LOGDIR/trace-full.log")" 1
pool_stop
"$TRACE" summary /etc/hostname > /dev/null 2>&1
check_value "the reader refuses what is not a trace" "$?" 1

bad() {    # bad ARGS EXPECTED: QEMU refuses the plugin with EXPECTED
    out=$(timeout 60 "$QEMU" -machine dredbox-compute -display none \
          -plugin "$PLUGIN,$1" 2>&1)
    check_value "plugin refuses '$1'" "$(echo "$out" | grep -c "$2")" 1
}
bad "mode=histogram" "dredbox-mem: mode must be count or trace, not 'histogram'"
bad "mode=trace" "trace mode needs out=FILE"
bad "mode=count,sample=0" "sample must be a positive number, not '0'"
bad "mode=count,range=9-3" "range must be START-END (END above START)"
bad "mode=count,colour=red" "unknown argument 'colour=red'"
bad "mode=count,pid=12,ttbr=0x1000" "pid=THREAD_ID or ttbr=PAGE_TABLE_BASE (one of them, once), not 'ttbr=0x1000'"
bad "mode=count,ttbr=0x1001" "not 'ttbr=0x1001'"
bad "mode=count,ctl=/nonexistent/ctl" "dredbox-mem: ctl: "
bad "mode=trace,out=/dev/null,rmc=/dev/null,cmo=on" "cmo=on goes with mode=count, not mode=trace"
bad "mode=count,cmo=on" "cmo=on follows the RMC's table: it needs rmc=TABLE"
bad "mode=count,cmo=yes" "cmo must be on or off, not 'yes'"
