# A CPU-less node of memory-brick memory: what the brick sees of it, and
# 64 MiB bound to it, written, read back and held for the host to find.
set -e -o pipefail    # errors are fatal (docs/testing.md)
numa-facts
numa-touch 1 64 hold
