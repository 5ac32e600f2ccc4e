# shellcheck shell=sh
# QEMU options of a compute brick's software devices (docs/rack.md,
# "Software"), one per line, for the launcher and scripts/run-brick.sh,
# which source this file.

commas() {    # commas TEXT: TEXT inside a QEMU option (',' doubled)
    printf %s "$1" | sed 's/,/,,/g'
}

# disk_options FILE FORMAT [OPTIONS]: /dev/vda (virtio-blk)
disk_options() {
    printf '%s\n' -drive "if=none,id=disk,format=$2${3:+,$3},file=$(commas "$1")" \
        -device virtio-blk-pci,drive=disk
}

# share_options DIR: /share (virtio-9p, tag dredbox.share)
share_options() {
    printf '%s\n' -fsdev "local,id=share,security_model=none,path=$(commas "$1")" \
        -device virtio-9p-pci,fsdev=share,mount_tag=dredbox.share
}

# uplink_options ID: a NIC on QEMU's user-mode network, MAC 52:54:00:db:01:ID
uplink_options() {
    printf '%s\n' -netdev user,id=uplink -device \
        "virtio-net-pci,netdev=uplink,romfile=,mac=52:54:00:db:01:$(printf %02x "$1")"
}
