#!/bin/sh
# Regenerate docs/benchmarks.md's tables from the committed logs: each
# block between "<!-- bench:NAME -->" and "<!-- /bench -->" becomes the
# table of the newest bench/results/NAME-*.log (`bench/NAME.sh --table
# LOG`), under a line that names the log, its date, commit and host.
# Everything outside the markers is left alone.
#
#   bench/tables.sh            rewrite docs/benchmarks.md
#   bench/tables.sh --check    only say whether it is up to date (exit 1 if not)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
DOC=$SRCDIR/docs/benchmarks.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

header() {    # header LOG KEY: a "# KEY: value" line of the log
    sed -n "s/^# $2: //p" "$1" | head -n1
}

for name in $(sed -n 's/^<!-- bench:\([a-z0-9-]*\) -->$/\1/p' "$DOC"); do
    log=$(ls "$SRCDIR/bench/results/$name"-*.log 2> /dev/null | sort | tail -n1)
    if [ -z "$log" ]; then
        echo "tables: no bench/results/$name-*.log (run bench/$name.sh)" >&2
        exit 1
    fi
    rel=bench/results/$(basename "$log")
    {
        echo
        echo "From [\`$rel\`](../$rel): \`$(header "$log" command)\`," \
             "$(header "$log" date), commit $(header "$log" commit)," \
             "host $(header "$log" host), load average" \
             "$(header "$log" "load at start") at the start."
        echo
        sh "$SRCDIR/bench/$name.sh" --table "$log"
        echo
    } > "$tmp/$name"
done

awk -v dir="$tmp" '
/^<!-- bench:[a-z0-9-]+ -->$/ {
    print
    name = $2; sub(/^bench:/, "", name)
    file = dir "/" name
    while ((getline line < file) > 0) print line
    close(file)
    skip = 1
    next
}
/^<!-- \/bench -->$/ { skip = 0 }
!skip' "$DOC" > "$tmp/doc"

if [ "${1-}" = --check ]; then
    if cmp -s "$tmp/doc" "$DOC"; then
        echo "tables: docs/benchmarks.md matches bench/results/"
    else
        diff -u "$DOC" "$tmp/doc" || true
        echo "tables: docs/benchmarks.md differs from bench/results/" >&2
        exit 1
    fi
else
    cat "$tmp/doc" > "$DOC"
fi
