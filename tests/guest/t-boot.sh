#!/bin/sh
# Debian's stock arm64 kernel boots on dredbox-compute: all four CPUs come
# up, local DRAM has the size given with -m, the brick id reaches the
# guest, and -numa options give a CPU-less node at the requested distance;
# the brick's EL2 serves a hypervisor: KVM comes up in the kernel and runs
# a guest.
. "$(dirname "$0")/lib.sh"
plan 18

boot boot-default facts -machine brick-id=3
check_guest_ok "default brick boots to the test script"
check "4 CPUs online" CPUS 4
check "1 GiB of local DRAM" NODE0_BYTES 1073741824
check "brick id from the device tree" BRICK_ID 3

boot boot-custom facts -smp 2 -m 768M
check_guest_ok "-smp 2 -m 768M boots to the test script"
check "-smp 2 gives 2 CPUs" CPUS 2
check "-m 768M gives 768 MiB" NODE0_BYTES 805306368

boot boot-numa facts -m 1536M \
    -object memory-backend-ram,id=local,size=1G \
    -object memory-backend-ram,id=remote,size=512M \
    -numa node,nodeid=0,cpus=0-3,memdev=local \
    -numa node,nodeid=1,memdev=remote \
    -numa dist,src=0,dst=1,val=30
check_guest_ok "with two NUMA nodes it boots to the test script"
check "two NUMA nodes online" NODES 0-1
check "node 0 has the CPUs" NODE0_CPUS 0-3
check "node 1 is CPU-less" NODE1_CPUS ""
check "node 0 has 1 GiB" NODE0_BYTES 1073741824
check "node 1 has 512 MiB" NODE1_BYTES 536870912
check "node 0 distances" NODE0_DISTANCE "10 30"
check "node 1 distances" NODE1_DISTANCE "30 10"

boot boot-kvm kvm
check_guest_ok "the KVM test boots to its script"
check "KVM initialises at the brick's EL2" KVM_UP yes
check "and a KVM guest runs to its first exit, its MMIO write of 42" \
    KVM_RUN "mmio-write 0x20000 42"
