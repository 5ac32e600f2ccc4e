# Print what the brick sees, one KEY=VALUE per line, for host-side checks.
echo "CPUS=$(nproc)"
echo "BRICK_ID=$(brick-id)"
numa-facts
