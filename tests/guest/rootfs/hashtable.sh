# Benchmark (bench/timing.sh): the hashtable workload (1M keys, a 32 MiB
# table) with its table on local node 0, then on node 1 if the brick has
# one (a remote node whose latency class the host chose).  One program
# at a time: in timing mode nothing else runs while it is timed.
set -e -o pipefail    # errors are fatal (docs/testing.md)
hashtable LOCAL 0 1048576
if [ -d /sys/devices/system/node/node1 ]; then
    hashtable REMOTE 1 1048576
fi
