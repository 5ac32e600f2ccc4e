#!/bin/sh
# Timing mode (-machine dredbox-compute,timing=on, docs/timing.md): the
# guest's clock is modelled, and a dependent load costs the latency of
# where it is served from.  A pointer chase in a stock Debian guest
# measures, with clock_gettime, the configured figures:
#  - a buffer that fits the L1 data cache: the L1 hit latency;
#  - 64 MiB of local DRAM: the DRAM latency;
#  - 64 MiB on a CPU-less node of memory-brick memory: the RMC, the
#    fabric of the node's latency class and the brick's DRAM; changing
#    the class (and a figure, by machine property) changes it;
# each within 10% (the loop, the L2 hits of a 64 MiB chase and the timer
# tick are not in the figure).  A streaming copy (memcpy) on the remote
# node runs at the link's bandwidth, about 45% of a local copy, as on the
# prototype; a bandwidth set by machine property changes it.  The same run on a loaded host measures
# exactly the same (the issue asks for 2%: the model is deterministic).  QMP reports the figures and the counts per
# destination.  One vCPU (t-timing-smp runs two side by side).  Timing
# off is today's machine: the A53's 62.5 MHz timer, no timing model.
. "$(dirname "$0")/lib.sh"
plan 26

# The default figures (docs/timing.md), in picoseconds; the link's
# bandwidth in MB/s (membw's unit): 1536 MiB/s.
L1=3000 DRAM=100000 RMC=536000 TRAY=20000 LINK_MBS=1611

pool_start 1:1G
seg=$(pool_tool -c rack alloc 512M --brick 1)
pool_tool -c rack grant "$seg" brick-a --writable

# The plugin of the tools under test (the sanitizer build's under
# make check-sanitize; by default the machine loads build/tools').
PLUGIN=$TOOLS_BUILD/plugins/libdredbox-mem.so

# timed LABEL CLASS [MACHINE-OPTIONS]: the chase on a brick with a
# remote node of latency class CLASS; QMP's view in $TIMING.
timed() {
    boot_bg "$1" chase -m 1536M -smp 1 -no-shutdown \
        -machine "timing=on,timing-plugin=$PLUGIN${3:+,$3}" \
        -object memory-backend-ram,id=local,size=1G \
        -object "memory-backend-remote,id=far,size=512M,pool=$POOL/pool.json,segment=$seg,client=brick-a,latency-class=$2" \
        -numa node,nodeid=0,cpus=0,memdev=local \
        -numa node,nodeid=1,memdev=far
    TIMING=""
    if wait_step measured; then
        TIMING=$(qmp '{"execute": "query-dredbox-timing"}')
        qmp '{"execute": "quit"}' > /dev/null
    fi
    boot_wait
}
dest() {    # dest NAME FIELD: a destination's count in $TIMING
    echo "$TIMING" | jq -r ".return.destinations[] |
        select(.destination == \"$1\") | .\"$2\""
}

timed timing tray-local
check_guest_ok "the chase ran in timing mode"
check "the generic timer ticks every nanosecond" CNTFRQ 1000000000
within "a chase in the L1 measures the L1 latency" 10 "$(fact L1_PS)" $L1
within "a chase in local DRAM measures the DRAM latency" 10 \
    "$(fact LOCAL_PS)" $DRAM
within "a chase on a tray-local node measures RMC + fabric + DRAM" 10 \
    "$(fact REMOTE_PS)" $((RMC + TRAY + DRAM))
check_value "QMP: the tray-local latency in use" \
    "$(dest tray-local latency-ns)" $(((RMC + TRAY + DRAM) / 1000))
check_value "QMP: nothing was charged to classes the brick does not use" \
    "$(dest rack-local accesses) $(dest inter-rack accesses)" "0 0"
within "a streaming copy on the remote node runs at the link's bandwidth" \
    10 "$(fact BW_NODE1_COPY)" $LINK_MBS
within "remote streaming is 45% of local, as on the prototype (percent)" 10 \
    "$(awk -v r="$(fact BW_NODE1_COPY)" -v l="$(fact BW_NODE0_COPY)" \
        'BEGIN { if (r && l) printf "%.1f", 100 * r / l }')" 45
check_value "QMP: the prefetcher fetched the remote copy's lines ahead" \
    "$(dest tray-local prefetched | awk '{ print ($1 > 100000) }')" 1
check_value "QMP: and they queued for the link" \
    "$(dest tray-local queue-ns | awk '{ print ($1 > 0) }')" 1
l1=$(fact L1_PS) local=$(fact LOCAL_PS) remote=$(fact REMOTE_PS)

# The same run with the host's CPUs busy: the same modelled figures, to
# the picosecond.  The guest is deterministic (icount, and the machine
# seeds the device tree's kaslr-seed and rng-seed), and nothing from the
# host reaches it while it chases, so the host's load changes nothing.
hog_start
timed timing-loaded tray-local
hog_stop
check_value "loaded host: the same L1 latency ($l1 ps)" "$(fact L1_PS)" "$l1"
check_value "loaded host: the same DRAM latency ($local ps)" \
    "$(fact LOCAL_PS)" "$local"
check_value "loaded host: the same remote latency ($remote ps)" \
    "$(fact REMOTE_PS)" "$remote"

# Another class, and figures set by machine property.
timed timing-far inter-rack timing-inter-rack-ns=2000,timing-link-bandwidth=1G
within "an inter-rack node at 2000 ns of fabric measures that" 10 \
    "$(fact REMOTE_PS)" $((RMC + 2000000 + DRAM))
within "a link of 1 GiB/s streams at that (MB/s)" 10 \
    "$(fact BW_NODE1_COPY)" 1074
check_value "QMP: the link's bandwidth in use" \
    "$(echo "$TIMING" | jq -r '.return."link-bandwidth"')" 1073741824

# virtio-mem memory is charged by the memory brick it comes from: the
# device plugs 512 MiB of an inter-rack brick at boot, and a chase on
# it (user pages come from the movable memory it onlines) measures RMC +
# inter-rack fabric + DRAM.
APPEND=memhp_default_state=online_movable
boot_bg timing-vmem vmem-chase -m 1G,maxmem=2G -smp 1 -no-shutdown \
    -machine "timing=on,timing-plugin=$PLUGIN" \
    -object "memory-backend-remote,id=vm0,size=512M,pool=$POOL/memd.sock,on-demand=on,brick=1,latency-class=inter-rack" \
    -device virtio-mem-pci,id=vmem0,memdev=vm0,requested-size=512M,block-size=128M
TIMING=""
if wait_step measured; then
    TIMING=$(qmp '{"execute": "query-dredbox-timing"}')
    qmp '{"execute": "quit"}' > /dev/null
fi
boot_wait
APPEND=""
check_guest_ok "a chase ran on virtio-mem memory"
within "a chase on inter-rack virtio-mem memory measures RMC + fabric + DRAM" \
    10 "$(fact VMEM_PS)" $((RMC + 1000000 + DRAM))
check_value "QMP: its misses were charged inter-rack, not local" \
    "$(dest inter-rack l2-misses | awk '{ print ($1 > 1000000) }')" 1

# Timing off: today's brick.
boot_bg timing-off chase -no-shutdown
if wait_step measured; then
    off=$(qmp '{"execute": "query-dredbox-timing"}' | jq -r .error.desc)
    qmp '{"execute": "quit"}' > /dev/null
fi
boot_wait
check_guest_ok "timing off: the chase runs"
check "timing off: the A53's own 62.5 MHz timer" CNTFRQ 62500000
check_value "timing off: QMP says so" "$off" \
    "timing is off (-machine dredbox-compute,timing=on turns it on)"

# Refusals, each within a minute (a QEMU that accepted would run on).
err=$(timeout 60 "$QEMU" -machine dredbox-compute,timing=on -icount shift=1 \
    -nographic -nodefaults 2>&1)
check_value "timing=on refuses a user -icount" "$err" \
    "qemu-system-aarch64: dredbox-compute: timing=on sets up -icount itself; drop the -icount option"
err=$(timeout 60 "$QEMU" -machine dredbox-compute,timing=on,timing-plugin=/nonexistent.so \
    -nographic -nodefaults 2>&1 | head -n 1)
check_value "timing=on without its plugin says so" "$err" \
    "qemu-system-aarch64: dredbox-compute: timing=on needs the dredbox-mem plugin (timing-plugin=PATH): Could not load plugin /nonexistent.so: /nonexistent.so: cannot open shared object file: No such file or directory"
err=$(timeout 60 "$QEMU" -nographic -nodefaults \
    -machine "dredbox-compute,timing=on,timing-plugin=$PLUGIN" \
    -plugin "$PLUGIN,mode=count" 2>&1 | head -n 1)
check_value "timing=on refuses the plugin loaded twice" "$err" \
    "dredbox-mem: loaded twice (timing=on loads it already)"
pool_tool -c rack free "$seg"
pool_stop
