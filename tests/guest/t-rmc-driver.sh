#!/bin/sh
# The compute brick's RMC driver (guest/kernel/dredbox-rmc) on
# Debian's stock kernel, with rmc-numa=on: it finds the CPU-less node of
# each latency class, hot-adds a memory-brick range reached through RMC
# port 0 into the rack-local node, a program binds 64 MiB there with
# mbind, detach removes it; 20 times with nothing left over in the guest,
# the pool or the RMC table.  Detach while a process holds memory there
# migrates it away (or would refuse); the guest carries on.  Bad requests
# are refused and leave nothing behind; a port whose entry the host made
# live over QMP is refused and stays live; memory that would not come
# online movable is refused; the rack-local node is a memory tier of its
# own, to which reclaim demotes pages from node 0; with commits that take
# 2 s (the port's files answering while a detach waits for one)
# the driver waits for them, with commits that never complete it gives up
# after its timeout, adds no memory and keeps the port out of use until
# the RMC completes them; rmmod leaves IRQ_ENABLE as modprobe found it.
. "$(dirname "$0")/lib.sh"
plan 38

pool_start 0:1G 1:1G
# Brick 1's second 256 MiB is brick0's (the first is someone else's);
# port 0 reaches brick 1, port 1 nothing.
other=$(pool_tool -c other alloc 256M --brick 1)
seg=$(pool_tool -c rack alloc 256M --brick 1)
pool_tool -c rack grant "$seg" brick0 --writable
used=$(pool_used 1)
APPEND="memhp_default_state=online_movable dredbox.drv=1:10000000:10000000"
console_open rmc-driver    # the guest powers off when told
boot_bg rmc-driver rmc-driver \
    -machine "pool=$POOL/memd.sock,rmc-numa=on" -m 1G,maxmem=2G -S
CONSOLE_IN=/dev/null
qmp "{\"execute\": \"dredbox-rmc-attach-segment\", \"arguments\": {\"segment\": $seg}}" \
    '{"execute": "dredbox-rmc-connect", "arguments": {"port": 0, "brick": 1}}' \
    '{"execute": "dredbox-rmc-disconnect", "arguments": {"port": 1}}' \
    '{"execute": "dredbox-rmc-set-entry", "arguments": {"port": 2, "brick": 1, "start": 1073741824, "end": 1140850687, "offset": 1073741824, "add": false}}' \
    '{"execute": "cont"}' > /dev/null
# Port 1's link flaps while the guest hot-adds and removes memory on port
# 0: the driver's interrupt handler runs in the middle of memory hot-add,
# and must not sleep in hard interrupt context (the kernel log shows it).
flaps=0
if wait_step rounds; then
    while ! grep -q "^DREDBOX-STEP slow-commits" "$LOGDIR/rmc-driver.log" &&
          kill -0 "$BG_PID" 2> /dev/null; do
        qmp '{"execute": "dredbox-rmc-connect", "arguments": {"port": 1, "brick": 1}}' \
            '{"execute": "dredbox-rmc-disconnect", "arguments": {"port": 1}}' > /dev/null
        flaps=$((flaps + 1))
    done
fi
check_value "the host flapped port 1's link while the guest hot-added memory" \
    "$([ "$flaps" -gt 0 ] && echo yes)" yes
commit_delay() {    # commit_delay US STEP: at the guest's STEP
    wait_step "$2" || return 1
    qmp "{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"/machine/rmc\", \"property\": \"commit-delay-us\", \"value\": $1}}" > /dev/null
    console_say go
}
commit_delay 2000000 slow-commits
commit_delay 4294967295 stuck-commits
commit_delay 0 commits-back
if wait_step done; then
    rmc=$(qmp '{"execute": "query-dredbox-rmc"}')
    check_value "the RMC table holds only port 2's entry, set over QMP and left live" \
        "$(echo "$rmc" | jq -c '[.return.ports | to_entries[] | select(.value.live.enabled) | .key]')" "[2]"
    check_value "and no access ever faulted" \
        "$(echo "$rmc" | jq -c '[.return["unmapped-faults"], ([.return.ports[].faults] | add)]')" \
        "[0,0]"
fi
console_say go
console_close
boot_wait
check "the driver loads on the stock kernel" DRV_LOADED yes
check "it claims its register page: /dev/mem may not map it" DRV_DEVMEM \
    refused
check "user space maps it through the driver's regs file" DRV_REGS_ID \
    434d5244
check "a node per latency class" DRV_NODES \
    "tray-local=1 rack-local=2 inter-rack=3 "
check "the rack-local node is CPU-less" DRV_NODE_CPUS ""
check "with its distances" DRV_DISTANCE "30 30 10 50"
check "a port without a circuit is refused" DRV_NO_LINK \
    "Link has been severed"
check "a size that is not whole memory blocks is refused" DRV_BAD_SIZE \
    "Invalid argument"
check "an unknown latency class is refused" DRV_BAD_CLASS "Invalid argument"
check "a sixth field is refused" DRV_JUNK "Invalid argument"
check "a brick number past 32 bits is refused, not wrapped" DRV_OVERFLOW \
    "Numerical result out of range"
check "a port whose entry is live from QMP is refused" DRV_LIVE \
    "Device or resource busy"
check "detaching nothing is refused" DRV_NOT_ATTACHED \
    "No such file or directory"
check "attaching a port twice is refused" DRV_TWICE \
    "Device or resource busy"
check "memory that would stay offline or come online unmovable is refused" \
    "DRV_OFFLINE" "Operation not supported"
check "the same for ZONE_NORMAL" DRV_UNMOVABLE "Operation not supported"
check "and taken back out" DRV_UNMOVABLE_NODE "$(fact DRV_NODE_BEFORE)"
check "the rack-local node's memory is a tier of its own, after DRAM's" \
    DRV_TIERS "memory_tier13:2 memory_tier4:0"
check "under pressure on node 0, reclaim demotes pages to it, intact" \
    DRV_DEMOTED "yes some-off-node-0 intact"
check "attach grows the node by the 256 MiB" DRV_NODE_ATTACHED 262144
check "20 rounds of attach, mbind 64 MiB, detach" DRV_ROUNDS 20
check "in-use memory is migrated away on detach" DRV_INUSE detached
check "with commits that take 2 s the driver waits: attach, use, detach" \
    DRV_SLOW rc=0
check "the port's files answer while a detach waits for its commit" \
    DRV_READ_DURING_DETACH answered
check "a commit that never completes times out" DRV_STUCK \
    "Connection timed out"
check "and adds no memory" DRV_STUCK_NODE "$(fact DRV_NODE_BEFORE)"
check "the port stays out of use while the RMC has not completed it" \
    DRV_STUCK_AGAIN "Device or resource busy"
check "once the RMC completes it, the port serves again" DRV_BACK ok
check "and its process lives on" DRV_HOLDER_ALIVE yes
check "nothing is left in the node" DRV_NODE_END 0
check "nor on the port: link up, no memory, no node" DRV_PORT0_END "up 0 -1"
check "rmmod leaves IRQ_ENABLE as modprobe found it" DRV_IRQ_ENABLE_AFTER \
    "$(fact DRV_IRQ_ENABLE_BEFORE)"
check_guest_ok "the guest ran to the end"
check "no Oops, BUG, WARNING or call trace in the whole kernel log" \
    DRV_KERNEL_ERRORS 0
check_value "the pool lent nothing more" "$(pool_used 1)" "$used"
pool_stop
