#!/bin/sh
# make check-sanitize: the unit tests (fuzzers included), the qtests and the
# rack and controller guest tests, run against the AddressSanitizer + UBSan
# builds build/qemu-sanitize and build/tools-sanitize (make check-sanitize
# builds them first).  Every sanitizer report stops its process and is kept
# in build/sanitize-reports; any report fails the run, even one from a
# daemon whose death no test noticed.  docs/testing.md, "Sanitizers".
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
export DREDBOX_QEMU_BUILD="$SRCDIR/build/qemu-sanitize"
export DREDBOX_TOOLS_BUILD="$SRCDIR/build/tools-sanitize"
export QEMU="$DREDBOX_QEMU_BUILD/qemu-system-aarch64"
export LOGDIR="$SRCDIR/build/test-logs/sanitize"

REPORTS=$SRCDIR/build/sanitize-reports
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
# Reports go to REPORTS/asan.PID and REPORTS/ubsan.PID, and the process
# aborts.  Leaks are reported for our programs; QEMU's own are not (its
# exit path does not free everything; upstream's CI runs its qtests with
# detect_leaks=0): tests/lsan.supp.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$REPORTS/ubsan"
export LSAN_OPTIONS="suppressions=$SRCDIR/tests/lsan.supp:print_suppressions=0"
# GLib older than 2.76 has its own slab allocator, which hides errors.
export G_SLICE=always-malloc

rc=0
"$SRCDIR/tests/run-all.sh" "$SRCDIR/tests/guest/t-sdm.sh" \
    "$SRCDIR/tests/guest/t-rack.sh" "$SRCDIR/tests/guest/t-accel.sh" || rc=1

echo "=== sanitizer reports"
n=0
for f in "$REPORTS"/*; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    echo "not ok - sanitizer report $f:"
    sed 's/^/#   /' "$f"
done
echo "$n sanitizer reports"
[ "$n" = 0 ] || rc=1
exit $rc
