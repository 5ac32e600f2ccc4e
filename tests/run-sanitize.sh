#!/bin/sh
# make check-sanitize: the unit tests (fuzzers included), the qtests and the
# guest tests (every rack and controller test among them), run against the AddressSanitizer + UBSan
# builds build/qemu-sanitize and build/tools-sanitize (make check-sanitize
# builds them first).  Every sanitizer report stops its process and fails
# the run: ASan and LeakSanitizer reports are kept in build/sanitize-reports
# (even one from a daemon whose death no test noticed); UBSan's go to the
# process's stderr (GCC's UBSan ignores log_path next to ASan), which the
# run's output and the guest tests' logs keep.  docs/testing.md,
# "Sanitizers".  Arguments: the guest tests to run (default all,
# tests/guest/t-*.sh).
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
export DREDBOX_QEMU_BUILD="$SRCDIR/build/qemu-sanitize"
export DREDBOX_TOOLS_BUILD="$SRCDIR/build/tools-sanitize"
export QEMU="$SRCDIR/tests/sanitize-qemu.sh"
export LOGDIR="$SRCDIR/build/test-logs/sanitize"
# ASan makes the tools and QEMU two to four times slower.
export DREDBOX_TIMEOUT_MULTIPLIER="${DREDBOX_TIMEOUT_MULTIPLIER:-4}"

REPORTS=$SRCDIR/build/sanitize-reports
rm -rf "$REPORTS" "$LOGDIR"
mkdir -p "$REPORTS" "$LOGDIR"
# ASan's reports go to REPORTS/asan.PID, and the process aborts.  Leaks
# are reported for our programs; QEMU's own are not: it does not free
# everything at exit, and upstream's CI runs its qtests with
# detect_leaks=0 too (tests/qtest/run.sh, and tests/sanitize-qemu.sh for
# the guest tests, turn it off for QEMU).
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
# GLib older than 2.76 has its own slab allocator, which hides errors.
export G_SLICE=always-malloc

out=$LOGDIR/run.log
"$SRCDIR/tests/run-all.sh" "$@" 2>&1 | tee "$out"
rc=0
tail -n 1 "$out" | grep -q ' 0 failed$' || rc=1

echo "=== sanitizer reports"
# Files holding only ASan's warning about QEMU's coroutines
# (makecontext/swapcontext) are no reports.
n=0
for f in "$REPORTS"/*; do
    grep -q 'ERROR: \|runtime error' "$f" 2> /dev/null || continue
    n=$((n + 1))
    echo "not ok - sanitizer report $f:"
    sed 's/^/#   /' "$f"
done
for f in "$LOGDIR"/*.log; do
    grep -q 'runtime error:' "$f" 2> /dev/null || continue
    n=$((n + 1))
    echo "not ok - UBSan report in $f:"
    grep -A 8 'runtime error:' "$f" | sed 's/^/#   /'
done
echo "$n sanitizer reports"
[ "$n" = 0 ] || rc=1
exit $rc
