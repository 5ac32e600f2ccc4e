# A known access pattern for the memory-access plugin (t-trace.sh).  The
# host passes dredbox.count=BRICK_A:ADDR_A:BRICK_B:ADDR_B:N_A:N_B:M:LOCAL.
set -e -o pipefail    # errors are fatal (docs/testing.md)
args=$(sed -n "s/.*dredbox\.count=\([^ ]*\).*/\1/p" /proc/cmdline | tr : " ")
# shellcheck disable=SC2086
rmc-count $args
# The host reads the plugin's counts while the brick still runs, then
# says "go" on the console (two minutes at most).
echo "DREDBOX-STEP counted"
read -r -t 120 _ || { echo "no word from the host"; exit 1; }
