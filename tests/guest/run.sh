#!/bin/sh
# Run every guest test (tests/guest/t-*.sh), or those named, and count
# the TAP results.
# Each test declares its plan (1..N, from lib.sh's plan); a missing plan,
# fewer results than planned (a test cut short) or more (a wrong plan)
# count as failures.  A test that runs longer than GUEST_TEST_TIMEOUT
# seconds (default 900: TCG on a loaded 2-core host, ten times the
# longest test alone) is stopped and fails.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
limit=${GUEST_TEST_TIMEOUT:-900}
pass=0 fail=0
[ $# -gt 0 ] || set -- "$dir"/t-*.sh    # or the tests named
for t in "$@"; do
    name=$(basename "$t")
    echo "# guest test $name"
    # SIGTERM lets the test's cleanup take its rack or pool down; SIGKILL
    # 30 s later if it does not.
    out=$(timeout -k 30 "$limit" sh "$t" 2>&1)
    rc=$?
    echo "$out"
    p=$(echo "$out" | grep -c '^ok ')
    f=$(echo "$out" | grep -c '^not ok ')
    planned=$(echo "$out" | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | head -n1)
    ran=$((p + f))
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        f=$((f + 1))
        echo "not ok - $name timed out after ${limit}s"
    fi
    if [ -z "$planned" ]; then
        f=$((f + 1))
        echo "not ok - $name declared no plan (1..N)"
    elif [ "$ran" -lt "$planned" ]; then
        f=$((f + planned - ran))
        echo "not ok - $name planned $planned checks, ran $ran: $((planned - ran)) counted as failed"
    elif [ "$ran" -gt "$planned" ]; then
        f=$((f + 1))
        echo "not ok - $name planned $planned checks, ran $ran (wrong plan)"
    fi
    pass=$((pass + p))
    fail=$((fail + f))
done
echo "guest: $pass passed, $fail failed"
[ "$fail" = 0 ]
