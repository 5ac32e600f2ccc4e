# Print what the brick sees, one KEY=VALUE per line, for host-side checks.
set -e -o pipefail    # errors are fatal (docs/testing.md)
cpus=$(nproc)
brick=$(brick-id)
echo "CPUS=$cpus"
echo "BRICK_ID=$brick"
numa-facts
