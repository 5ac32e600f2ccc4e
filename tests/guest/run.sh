#!/bin/sh
# Run every guest test (tests/guest/t-*.sh) and count the TAP results.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
for t in "$dir"/t-*.sh; do
    echo "# guest test $(basename "$t")"
    out=$(sh "$t" 2>&1)
    echo "$out"
    pass=$((pass + $(echo "$out" | grep -c '^ok ')))
    fail=$((fail + $(echo "$out" | grep -c '^not ok ')))
    if ! echo "$out" | grep -q '^ok \|^not ok '; then
        fail=$((fail + 1))
        echo "not ok - $(basename "$t") produced no result"
    fi
done
echo "guest: $pass passed, $fail failed"
[ "$fail" = 0 ]
