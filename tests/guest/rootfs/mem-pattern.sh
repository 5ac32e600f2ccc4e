# Two processes store to the same local DRAM (t-trace.sh): one without
# end in the background, one a known pattern in rounds the host starts
# through the console.  dredbox.pattern=PHYS:STORES:LOADS:ROUNDS.
set -e -o pipefail    # errors are fatal (docs/testing.md)
args=$(sed -n "s/.*dredbox\.pattern=\([^ ]*\).*/\1/p" /proc/cmdline | tr : " ")
phys=${args%% *}
mem-pattern "$phys" &
noise=$!
echo "NOISE_PID=$noise"
# shellcheck disable=SC2086
rc=0
mem-pattern $args || rc=$?
echo "PATTERN_RC=$rc"
kill "$noise"    # it never ends by itself: it must still be there
exit "$rc"
