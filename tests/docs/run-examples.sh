#!/bin/bash
# The docs' shell examples, run (docs/testing.md, "Docs"): each ```sh
# block of README.md and docs/*.md is marked, on the line before it, as
#   <!-- example: none -->    runnable as it is, from the repository's top
#   <!-- example: rack -->    runnable on the default rack, which this
#                             brings up in a scratch run directory
#                             (build/run/rack in the example names it)
#   <!-- example: not run: WHY -->
# A doc's runnable examples run in order, each with bash -e -o pipefail
# (a failing command fails it) and the rack tools on PATH; a line
# "#> TEXT" under a command is what it shows: each must be in what the
# example printed, in order, as a whole line, with <N> for a number and
# <...> for any text.  What the examples started is stopped after each doc.  TAP: one
# check per runnable example, one that every example is marked; the
# count of each kind is printed.  Arguments: docs to run (default all).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${DREDBOX_BUILD:-$top/build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dredbox-examples-XXXXXX")
rack_run=""
cleanup() {
    [ -z "$rack_run" ] ||
        DREDBOX_RUN=$rack_run launcher/dredbox-rack down > /dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
[ $# -gt 0 ] || set -- README.md docs/*.md

# Split the docs into $tmp/N.sh (the example), $tmp/N.where (FILE:LINE)
# and $tmp/N.kind (none, rack, not run: ..., or unmarked).
awk -v dir="$tmp" '
    FNR == 1 { prev = ""; inside = 0 }
    /^```sh$/ && !inside {
        n++; inside = 1; body = dir "/" n ".sh"
        kind = "unmarked"
        if (match(prev, /^<!-- example: .* -->$/))
            kind = substr(prev, 15, length(prev) - 18)
        print FILENAME ":" FNR > (dir "/" n ".where")
        print kind > (dir "/" n ".kind")
        printf "" > body
        next
    }
    /^```/ { if (inside) { inside = 0; close(body) } else fence = !fence
             prev = $0; next }
    inside { print > body; next }
    NF { prev = $0 }
' "$@"

total=$(find "$tmp" -name '*.kind' | wc -l)
unmarked=$(grep -lx unmarked "$tmp"/*.kind 2> /dev/null | sort -V)
runnable=$(grep -lxE 'none|rack' "$tmp"/*.kind 2> /dev/null | sort -V)
nrun=$(echo "$runnable" | grep -c .)
echo "1..$((nrun + 1))"
echo "# $total shell examples: $nrun run, $(grep -l '^not run' "$tmp"/*.kind 2> /dev/null | wc -l) marked not run, $(echo "$unmarked" | grep -c .) unmarked"
n=1
if [ -z "$unmarked" ]; then
    echo "ok $n - every shell example is marked runnable or not run"
else
    echo "not ok $n - every shell example is marked runnable or not run:"
    for k in $unmarked; do
        echo "#   $(cat "${k%.kind}.where") is unmarked"
    done
fi

# A regular expression for a whole output line TEXT: <N> a number,
# <...> any text
pattern() {
    printf '%s\n' "$1" | sed -e 's/[][\.*^$/+?(){}|]/\\&/g' \
        -e 's/<N>/[0-9]+/g' -e 's/<\\\.\\\.\\\.>/.*/g' -e 's/^/^/' -e 's/$/$/'
}

# Whether each "#> " line of example $1 is in its output $2, in order
shows() {
    rest=$2
    while IFS= read -r want; do
        re=$(pattern "$want")
        line=$(printf '%s\n' "$rest" | grep -nE -m1 -- "$re" | cut -d: -f1)
        if [ -z "$line" ]; then
            echo "#   it did not show: $want"
            return 1
        fi
        rest=$(printf '%s\n' "$rest" | tail -n "+$((line + 1))")
    done < <(sed -n 's/^ *#> //p' "$1")
}

export PATH="$build/tools/memory-brick:$build/tools/sdm-controller:$build/tools/fabric:$build/tools/launcher:$build/tools/accelerator-brick:$top/launcher:$PATH"
doc="" groups=""
# Stop what a doc's examples started (each ran in a process group of its
# own, with what it left in the background), and give back what they
# attached on the rack: the next doc's start from a rack as it came up.
stop_doc() {
    for g in $groups; do
        kill -TERM -- "-$g" 2> /dev/null
    done
    groups=""
    [ -n "$rack_run" ] || return 0
    DREDBOX_RUN=$rack_run dredboxctl --json status 2> /dev/null |
        jq -r '.allocations[] | "\(.compute) \(.id)"' 2> /dev/null |
    while read -r c id; do
        DREDBOX_RUN=$rack_run dredboxctl detach --brick "$c" \
            --allocation "$id" --force > /dev/null 2>&1
    done
}
for k in $runnable; do
    n=$((n + 1))
    ex=${k%.kind}
    where=$(cat "$ex.where")
    if [ "${where%%:*}" != "$doc" ]; then
        stop_doc
        doc=${where%%:*}
    fi
    if [ "$(cat "$k")" = rack ] && [ -z "$rack_run" ]; then
        rack_run=$tmp/rack
        DREDBOX_RUN=$rack_run launcher/dredbox-rack up racks/default.rack \
            > "$tmp/rack-up.log" 2>&1 ||
            echo "# the default rack did not come up: $(tail -n 3 "$tmp/rack-up.log")"
    fi
    { echo "set -e -o pipefail"
      [ "$(cat "$k")" != rack ] || echo "export DREDBOX_RUN=$rack_run"
      sed "s|build/run/rack|$rack_run|g" "$ex.sh"; } > "$ex.run"
    setsid bash "$ex.run" > "$ex.out" 2>&1 < /dev/null &
    g=$!
    groups="$groups $g"
    wait "$g"
    rc=$?
    out=$(cat "$ex.out")
    why=$( [ $rc = 0 ] || echo "#   it exited with status $rc"; shows "$ex.sh" "$out")
    if [ -z "$why" ]; then
        echo "ok $n - $where runs and shows what it says"
    else
        echo "not ok $n - $where runs and shows what it says:"
        echo "$why"
        printf '%s\n' "$out" | tail -n 15 | sed 's/^/#   | /'
    fi
done
stop_doc
exit 0
