# Benchmark (bench/remote-memory.sh): bandwidth of local node 0 and
# remote node 1, interleaved.
set -e -o pipefail    # errors are fatal (docs/testing.md)
membw 64 9 0 1
