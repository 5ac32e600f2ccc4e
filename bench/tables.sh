#!/bin/sh
# Regenerate the docs' benchmark tables from the committed logs: in each
# docs/*.md, each block between "<!-- bench:NAME -->" and
# "<!-- /bench -->" becomes the table of the newest
# bench/results/NAME-*.log (`bench/NAME.sh --table LOG`), under a line
# that names the log, its date, commit and host.  Everything outside the
# markers is left alone.
#
#   bench/tables.sh            rewrite the docs
#   bench/tables.sh --check    only say whether they are up to date (exit 1 if not)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

header() {    # header LOG KEY: a "# KEY: value" line of the log
    sed -n "s/^# $2: //p" "$1" | head -n1
}

stale=0
for DOC in $(grep -l '^<!-- bench:' "$SRCDIR"/docs/*.md); do
    doc_name=$(basename "$DOC")
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
!skip' "$DOC" > "$tmp/$doc_name"

    if [ "${1-}" = --check ]; then
        if cmp -s "$tmp/$doc_name" "$DOC"; then
            echo "tables: docs/$doc_name matches bench/results/"
        else
            diff -u "$DOC" "$tmp/$doc_name" || true
            echo "tables: docs/$doc_name differs from bench/results/" >&2
            stale=1
        fi
    else
        cat "$tmp/$doc_name" > "$DOC"
    fi
done
[ $stale = 0 ]
