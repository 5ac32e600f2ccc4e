#!/bin/sh
# Every test suite: the docs' references, qtests, unit tests of the
# tools, the docs' examples, guest boot tests.
# Prints one closing line "N passed, N failed" over all suites and exits
# non-zero if anything failed, or if a suite ran no test at all.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log" "$log.rc"' EXIT
pass=0 fail=0

suite() {    # suite NAME COMMAND...: run, show, and count its results
    name=$1
    shift
    echo "=== $name"
    { "$@"; echo $? > "$log.rc"; } 2>&1 | tee "$log"
    rc=$(cat "$log.rc")
    # TAP lines from our runners; "Ok:/Fail:/Timeout:" totals of meson test.
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    mp=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
    mf=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
    mt=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
    p=$((p + ${mp:-0}))
    f=$((f + ${mf:-0} + ${mt:-0}))
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
        echo "not ok - $name exited with status $rc"
    fi
    # A suite that ran nothing (tests disabled in the build, no test
    # found) proved nothing.
    if [ $((p + f)) = 0 ]; then
        f=1
        echo "not ok - $name ran no tests"
    fi
    pass=$((pass + p))
    fail=$((fail + f))
}

suite docs "$dir/docs/check-refs.sh"
suite qtest "$dir/qtest/run.sh"
# DREDBOX_TIMEOUT_MULTIPLIER scales meson's test timeouts (sanitizer
# builds are slower; tests/run-sanitize.sh sets it).
suite unit meson test -C "${DREDBOX_TOOLS_BUILD:-$dir/../build/tools}" \
    --print-errorlogs -t "${DREDBOX_TIMEOUT_MULTIPLIER:-1}"
# Arguments: the guest tests to run (default: all, tests/guest/t-*.sh).
# The docs' runnable examples, on the tools and a rack of their own
suite examples "$dir/docs/run-examples.sh"
suite guest "$dir/guest/run.sh" "$@"

echo "=== total"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
