# A pointer chase on the memory of a virtio-mem device the brick plugs
# at boot (t-timing): waits until the device's 512 MiB are online (as
# ZONE_MOVABLE, memhp_default_state=online_movable, where user pages
# come from first), then chases over 64 MiB of fresh memory and waits
# for the host to read the counters (DREDBOX-STEP measured).
set -e -o pipefail    # errors are fatal (docs/testing.md)
movable() {    # pages present in the Movable zone
    awk '$1 == "Node" && $4 == "Movable" { z = 1; next }
         $1 == "Node" { z = 0 }
         z && $1 == "present" { n += $2 } END { print n + 0 }' /proc/zoneinfo
}
i=0
while [ "$(movable)" -lt 131072 ]; do
    if [ $i -ge 120 ]; then
        echo "only $(movable) movable pages after two minutes"
        exit 1
    fi
    sleep 1
    i=$((i + 1))
done
chase VMEM -1 65536 200000
echo "DREDBOX-STEP measured"
