#!/bin/sh
# A compute brick's software from the rack file (docs/rack.md, "Software"):
# a kernel named there boots (Debian's 6.12 from bookworm-backports, next
# to the bricks' 6.1) and says so; compute-defaults and a brick's own
# append= both reach the kernel's command line; a host folder (share=) is
# /share in the brick both ways; two bricks on one disk image (disk=) each
# keep their own changes in their overlays, across a down and an up, and
# the image stays as it was; a brick with an uplink reaches what the host
# reaches (a web server on the host's loopback, through QEMU's user-mode
# network), one without has no such NIC; `dredbox-rack exec` runs a
# command through the brick's QEMU guest agent with its output and exit
# status, `cp` copies a file in and out with its mode; a rack file naming a missing kernel, or
# another image under the overlays, is refused with what is wrong.
. "$(dirname "$0")/lib.sh"
plan 23

dir=$LOGDIR/rack-software
rm -rf "$dir" "$LOGDIR/rack-software-state"
mkdir -p "$dir/shared" "$dir/base"
kernel=$("$SRCDIR/scripts/debian-kernel.sh" bookworm-backports \
    2> "$LOGDIR/rack-software-kernel.log") ||
    echo "not ok - no Debian 6.12 kernel: see $LOGDIR/rack-software-kernel.log"
kver=$(basename "$(dirname "$kernel")" | sed 's/^linux-image-\([^_]*\)_.*/\1/')
echo "base image, untouched" > "$dir/base/base.txt"
mke2fs -q -t ext4 -d "$dir/base" "$dir/base.img" 64M > /dev/null
base_sum=$(md5sum < "$dir/base.img")
ln -sf "$kernel" "$dir/vmlinuz-6.12"

write_rack() {    # write_rack IMAGE
    cat > "$dir/software.rack" << EOT
rack software
compute-defaults disk=$1 append="dredbox.note=rack-wide"
compute 0 cpus=1 ram=256M ports=1 kernel=vmlinuz-6.12
compute 1 cpus=1 ram=256M ports=1 share=shared append=dredbox.own=one
compute 2 cpus=1 ram=256M ports=1 share=shared uplink=on
memory 0 size=512M
electrical-switch
EOT
}

# Refused before anything starts, at its line
sed 's/vmlinuz-6.12/vmlinuz-missing/' > "$dir/missing.rack" << EOT
rack software
compute 0 kernel=vmlinuz-6.12
EOT
err=$("$TOOLS_BUILD/launcher/dredbox-rack-check" "$dir/missing.rack" 2>&1)
check_value "a rack file naming a missing kernel is refused at its line" \
    "$err" "dredbox-rack-check: $dir/missing.rack:2: kernel=vmlinuz-missing: no such file ($dir/vmlinuz-missing)"

write_rack base.img
rack_up rack-software "$dir/software.rack"
check_value "the rack comes up" "$?" 0
check_value "brick 0 boots the kernel the rack file names" \
    "$(sed -n 's/^dReDBox compute brick .*, Linux \([^ ]*\).*/\1/p' "$RUN/brick0.log" | tr -d '\r')" "$kver"
brick_run "$RUN" 1 "cat /proc/cmdline"
check_value "brick 1's command line has the rack's append= and then its own" \
    "$(echo "$FACTS" | grep -o 'dredbox.note=rack-wide dredbox.own=one')" \
    "dredbox.note=rack-wide dredbox.own=one"
brick_run "$RUN" 1 "date +%s"
t=$(echo "$FACTS" | head -n 1) now=$(date +%s)
check_value "brick 1's clock is the host's, from its RTC (to 2 minutes)" \
    "$(case $t in *[!0-9]* | "") ;; *) echo $((t > now - 120 && t <= now + 1)) ;; esac)" 1

tag=software-$$-$(date +%s)
echo "$tag" > "$dir/shared/from-host"
brick_run "$RUN" 1 "cat /share/from-host && echo brick1-$tag > /share/from-brick1"
check_value "a file put in the shared folder on the host is read in the brick" \
    "$(echo "$FACTS" | tr '\n' ' ')" "$tag rc=0 "
check_value "one written in the brick appears on the host" \
    "$(cat "$dir/shared/from-brick1" 2> /dev/null)" "brick1-$tag"

# The host's web server on its loopback, at a port of its choosing
echo "$tag" > "$dir/shared/index.html"
timeout 600 python3 -c '
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.HTTPServer(("127.0.0.1", 0), h)
open(sys.argv[2], "w").write(str(s.server_port))
s.serve_forever()' "$dir/shared" "$dir/port" 2> /dev/null &
web=$!
wait_for 10 test -s "$dir/port"
brick_run "$RUN" 2 "wget -q -O - http://10.0.2.2:$(cat "$dir/port")/index.html"
check_value "brick 2 reaches a server on the host's loopback through its uplink" \
    "$(echo "$FACTS" | tr '\n' ' ')" "$tag rc=0 "
kill "$web"
brick_run "$RUN" 1 "ip -o link | grep -c 52:54:00:db:01:"
check_value "brick 1, without uplink=, has no uplink NIC" "$(echo "$FACTS" | head -n1)" 0

# The QEMU guest agent: commands and files
out=$("$RACK" exec 1 -- sh -c 'echo out; echo err >&2; exit 3' 2> "$dir/exec.err")
check_value "dredbox-rack exec returns a failing command's exit status" "$?" 3
check_value "and its output and error output" "$out/$(cat "$dir/exec.err")" "out/err"
"$RACK" exec 1 -- no-such-program > /dev/null 2> "$dir/exec.err"
check_value "a command the brick does not have: the tool's own failure, said" \
    "$?:$(grep -c 'no-such-program' "$dir/exec.err")" "125:1"
head -c 300000 /dev/urandom > "$dir/blob"
chmod 750 "$dir/blob"
"$RACK" cp "$dir/blob" 1:/tmp/blob && "$RACK" cp 1:/tmp/blob "$dir/blob.back"
check_value "dredbox-rack cp copies a file in and back, byte for byte" \
    "$?:$(cmp "$dir/blob" "$dir/blob.back" && echo same)" "0:same"
check_value "with its mode" "$("$RACK" exec 1 -- stat -c %a /tmp/blob)" 750

disk='i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; mkdir -p /mnt/d && mount /dev/vda /mnt/d'
brick_run "$RUN" 1 "$disk && cat /mnt/d/base.txt && echo one > /mnt/d/mine && umount /mnt/d"
check_value "brick 1 mounts the image and writes to it" \
    "$(echo "$FACTS" | tr '\n' ' ')" "base image, untouched rc=0 "
brick_run "$RUN" 2 "$disk && ls /mnt/d/mine; echo two > /mnt/d/mine && umount /mnt/d"
check_value "brick 2, on the same image, does not see brick 1's change" \
    "$(echo "$FACTS" | grep -c 'No such file')" 1
check_value "the image itself is unchanged" "$(md5sum < "$dir/base.img")" \
    "$base_sum"

"$RACK" down > /dev/null 2>&1
rack_up rack-software "$dir/software.rack"
check_value "after a down and an up" "$?" 0
brick_run "$RUN" 1 "$disk && cat /mnt/d/mine && umount /mnt/d"
one=$(echo "$FACTS" | head -n1)
brick_run "$RUN" 2 "$disk && cat /mnt/d/mine && umount /mnt/d"
check_value "each brick still has its own change" "$one $(echo "$FACTS" | head -n1)" \
    "one two"
"$RACK" down > /dev/null 2>&1

cp "$dir/base.img" "$dir/other.img"
write_rack other.img
rack_up rack-software "$dir/software.rack"
check_value "a rack file that puts another image under the overlays stops the up" \
    "$?" 1
check_value "saying how to keep or drop the changes" \
    "$(grep -c "compute brick 0's disk overlay .*brick0-disk.qcow2 was made on $dir/base.img.*'rm .*brick0-disk.qcow2'" \
       "$LOGDIR/rack-software-up.log")" 1
check_value "before any compute brick started" \
    "$(find "$RUN" -name 'brick*.out' | wc -l)" 0
check_value "and what had started is stopped, its logs kept" \
    "$(pgrep -f "$RUN/" | wc -l) $(tail -n 1 "$LOGDIR/rack-software-up.log")
$(ls "$RUN"/memd.out > /dev/null && echo kept)" \
    "0 dredbox-rack: the rack did not come up: what had started is stopped (its logs are in $RUN)
kept"
