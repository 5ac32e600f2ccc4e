# Two processes store to the same local DRAM (t-trace.sh): one without
# end in the background, one a known pattern in rounds the host starts
# through the console.  dredbox.pattern=PHYS:STORES:LOADS:ROUNDS.
args=$(sed -n "s/.*dredbox\.pattern=\([^ ]*\).*/\1/p" /proc/cmdline | tr : " ")
phys=${args%% *}
mem-pattern "$phys" &
noise=$!
echo "NOISE_PID=$noise"
# shellcheck disable=SC2086
mem-pattern $args
echo "PATTERN_RC=$?"
kill "$noise"
