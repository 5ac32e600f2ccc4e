# A CPU-less node of memory-brick memory: what the brick sees of it, and
# 64 MiB bound to it, written and read back.
numa-facts
numa-touch 1 64
