#!/bin/sh
# The Debian userland (make image; docs/your-software.md): racks/debian.rack
# boots build/image/debian.qcow2 on every compute brick, each on an
# overlay of its own; systemd brings up the QEMU guest agent and our SDM
# agent; dpkg has every package the image was built with, numactl shows
# the brick's NUMA nodes, our RMC module and tools are there; a brick's
# change stays its own; `dredbox-rack exec` returns a failing command's
# status; apt-get update works through the uplink where the host reaches
# the archive.  (t-racks attaches memory on both paths and an
# accelerator on this rack too.)
. "$(dirname "$0")/../guest/lib.sh"
plan 14

# Overlays of an earlier run were made on an earlier image
rm -rf "$LOGDIR/debian-state"
rack_up debian "$SRCDIR/racks/debian.rack"
check_value "racks/debian.rack comes up" "$?" 0
ex() {    # ex N COMMAND: run a shell command in brick N, print its output
    "$RACK" exec "$1" -- sh -c "$2"
}
check_value "brick 0 runs Debian 12 under systemd" \
    "$(ex 0 'cut -d. -f1 /etc/debian_version; ps -o comm= -p 1')" \
    "$(printf '12\nsystemd')"
check_value "dpkg has every package the image was built with, installed" \
    "$(ex 0 'for p in $(cat /etc/dredbox-packages); do
                 dpkg-query -W -f="\${db:Status-Status}\n" "$p"; done | sort -u')" \
    installed
check_value "numactl --hardware shows the CPUs' node, a node per memory brick and the RMC's three" \
    "$(ex 1 'numactl --hardware | sed -n "s/^available: \([0-9]*\) nodes.*/\1/p"')" 6
check_value "the QEMU guest agent and our SDM agent run under systemd" \
    "$(ex 0 'systemctl is-active qemu-guest-agent dredbox-agent | sort -u')" active
check_value "the image has our RMC module, loaded, and our tools" \
    "$(ex 0 'modinfo -F name dredbox-rmc; grep -c "^dredbox_rmc " /proc/modules; command -v numa-facts')" \
    "$(printf 'dredbox_rmc\n1\n/usr/local/bin/numa-facts')"
ex 0 'echo zero > /root/mine' > /dev/null
check_value "a file brick 0 writes is not in brick 1's root" \
    "$(ex 1 'cat /root/mine 2>&1 | grep -c "No such file"')" 1
"$RACK" exec 1 -- sh -c 'exit 7'
check_value "dredbox-rack exec returns a failing command's status" "$?" 7
check_value "brick 1 is named by its brick id" "$(ex 1 hostname)" brick1
if timeout 10 bash -c 'exec 3<> /dev/tcp/deb.debian.org/80' 2> /dev/null; then
    check_value "apt-get update through the uplink" \
        "$(ex 0 'apt-get -q update > /tmp/apt.log 2>&1; echo $?')" 0
else
    echo "ok - apt-get update through the uplink # SKIP this host does not reach deb.debian.org"
fi
rack_operations debian.rack
