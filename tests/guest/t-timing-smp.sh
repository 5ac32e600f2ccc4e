#!/bin/sh
# Timing mode with several vCPUs (docs/timing.md, "Several vCPUs"): each
# vCPU's time is its own, and vCPUs whose memory comes over one link
# share its bandwidth.  A brick with 2 vCPUs and two remote NUMA nodes
# runs, on both vCPUs at once, a pointer chase on each node, then a
# streaming copy on each (rootfs/side-by-side.sh):
#  - each chase measures the remote latency, as a chase alone does (were
#    the vCPUs' work added up on one clock, timing-quantum-ns=0, they
#    would measure 1.5 to 2 times that);
#  - with both nodes on one memory brick the copies share its link: each
#    runs at half the link's bandwidth;
#  - with the nodes on two memory bricks (two links) each runs at the
#    full bandwidth of its own.
# Within 10% of the figures; QMP reports the quantum that bounds the
# vCPUs' skew.  The one-link pair again, with the host's CPUs busy,
# measures exactly the same: the vCPUs' turns do not depend on the host.
. "$(dirname "$0")/lib.sh"
plan 12

# The default figures (docs/timing.md): ps, and the link in MB/s.
RMC=536000 TRAY=20000 DRAM=100000 LINK_MBS=1611

pool_start 1:1G 2:1G
near=$(pool_tool -c rack alloc 256M --brick 1)
also_near=$(pool_tool -c rack alloc 256M --brick 1)
other=$(pool_tool -c rack alloc 256M --brick 2)
for seg in "$near" "$also_near" "$other"; do
    pool_tool -c rack grant "$seg" brick-a --writable
done
PLUGIN=$TOOLS_BUILD/plugins/libdredbox-mem.so

# side LABEL SEGMENT1 SEGMENT2: the pairs on a 2-vCPU brick whose nodes 1
# and 2 are those segments; QMP's view in $TIMING.
side() {
    boot_bg "$1" side-by-side -m 1536M -smp 2 -no-shutdown \
        -machine "timing=on,timing-plugin=$PLUGIN" \
        -object memory-backend-ram,id=local,size=1G \
        -object "memory-backend-remote,id=n1,size=256M,pool=$POOL/pool.json,segment=$2,client=brick-a,latency-class=tray-local" \
        -object "memory-backend-remote,id=n2,size=256M,pool=$POOL/pool.json,segment=$3,client=brick-a,latency-class=tray-local" \
        -numa node,nodeid=0,cpus=0-1,memdev=local \
        -numa node,nodeid=1,memdev=n1 -numa node,nodeid=2,memdev=n2
    TIMING=""
    if wait_step measured; then
        TIMING=$(qmp '{"execute": "query-dredbox-timing"}')
        qmp '{"execute": "quit"}' > /dev/null
    fi
    boot_wait
}

side timing-one-link "$near" "$also_near"
check_guest_ok "both vCPUs ran the pairs (one link)"
within "a chase on vCPU 0 measures the remote latency while vCPU 1 chases" \
    10 "$(fact CHASE1_PS)" $((RMC + TRAY + DRAM))
within "and so does the chase on vCPU 1" 10 \
    "$(fact CHASE2_PS)" $((RMC + TRAY + DRAM))
within "one link: the copy on vCPU 0 gets half its bandwidth (MB/s)" 10 \
    "$(fact BW_NODE1_COPY)" $((LINK_MBS / 2))
within "one link: and the copy on vCPU 1 the other half" 10 \
    "$(fact BW_NODE2_COPY)" $((LINK_MBS / 2))
check_value "QMP: the vCPUs' skew is bounded by a 10 us quantum" \
    "$(echo "$TIMING" | jq -r '.return."quantum-ns"')" 10000
check_value "QMP: the copies queued for the link" \
    "$(echo "$TIMING" | jq -r '.return.destinations[] |
        select(.destination == "tray-local") | ."queue-ns" > 0')" true

figures="$(fact CHASE1_PS) $(fact CHASE2_PS) $(fact BW_NODE1_COPY) $(fact BW_NODE2_COPY)"

hog_start
side timing-one-link-loaded "$near" "$also_near"
hog_stop
check_guest_ok "both vCPUs ran the pairs again, on a loaded host"
check_value "loaded host: the same chases and copies ($figures)" \
    "$(fact CHASE1_PS) $(fact CHASE2_PS) $(fact BW_NODE1_COPY) $(fact BW_NODE2_COPY)" \
    "$figures"

side timing-two-links "$near" "$other"
check_guest_ok "both vCPUs ran the pairs (two links)"
within "two links: the copy on vCPU 0 gets its link's bandwidth" 10 \
    "$(fact BW_NODE1_COPY)" $LINK_MBS
within "two links: and the copy on vCPU 1 its own" 10 \
    "$(fact BW_NODE2_COPY)" $LINK_MBS

for seg in "$near" "$also_near" "$other"; do
    pool_tool -c rack free "$seg"
done
pool_stop
