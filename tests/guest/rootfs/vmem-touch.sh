# Memory of a virtio-mem device the brick plugs at boot into node 1
# (t-remote-memory): waits until node 1 has the device's 256 MiB, then
# binds 16 MiB to it, writes and reads it back (numa-touch).
set -e -o pipefail    # errors are fatal (docs/testing.md)
blocks() {
    find /sys/devices/system/node/node1/ -maxdepth 1 -name 'memory[0-9]*' \
        2> /dev/null | wc -l
}
i=0
while [ "$(blocks)" -lt 2 ]; do
    if [ $i -ge 120 ]; then
        echo "node 1 has $(blocks) memory blocks after two minutes"
        exit 1
    fi
    sleep 1
    i=$((i + 1))
done
numa-touch 1 16
