#!/bin/bash
# The docs' shell examples, run (docs/testing.md, "Docs"): each ```sh
# block of README.md and docs/*.md is marked, on the line before it, as
#   <!-- example: none -->    runnable as it is, from the repository's top
#   <!-- example: rack -->    runnable on the default rack, which this
#                             brings up in a scratch run directory
#                             (build/run/rack in the example names it)
#   <!-- example: brick N --> typed in brick N's shell on that rack: run
#                             there by dredbox-rack exec
#   <!-- example: boots -->   starts a brick on its terminal: runs in the
#                             background until the doc ends, done once
#                             it has shown its "#>" lines
#   <!-- example: console --> typed on the console of the brick the last
#                             "boots" example of the doc started
#   <!-- example: not run: WHY -->
# A doc's runnable examples run in order, each with -e and pipefail (a
# failing command fails it) and the rack tools on PATH; their /tmp is a
# scratch directory of the run.  A line "#> TEXT" under a
# command is what it shows: each must be in what the example printed, in
# order, as a whole line, with <N> for a number and <...> for any text.
# What the examples started is stopped after each doc.  TAP: one check
# per runnable example, one that every example is marked; the count of
# each kind is printed.  Arguments: docs to run (default all).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${DREDBOX_BUILD:-$top/build}
# The examples' /tmp is a scratch directory of the run, in a mount
# namespace of the runner's own (as root), so that the suite starts from
# an empty /tmp and leaves a user's /tmp/pool alone.
if [ -z "${DREDBOX_EXAMPLES_NS:-}" ] && unshare -m true 2> /dev/null; then
    DREDBOX_EXAMPLES_NS=1 exec unshare -m bash "$0" "$@"
fi
mkdir -p "$build"
tmp=$(mktemp -d "$build/examples.XXXXXX")
mkdir "$tmp/tmp"
if [ -n "${DREDBOX_EXAMPLES_NS:-}" ] && mount --bind "$tmp/tmp" /tmp; then
    unset DREDBOX_EXAMPLES_NS
else
    echo "# the examples share the host's /tmp: no mount namespace (run as root)"
fi
rack_run=""
# How long a brick may take to show what an example says it shows, or a
# command typed on its console to end: a hang, not a slow machine
deadline=${DREDBOX_EXAMPLE_DEADLINE:-300}
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
    /^ *```sh$/ && !inside {
        n++; inside = 1; body = dir "/" n ".sh"
        kind = "unmarked"
        sub(/^ */, "", prev)
        if (match(prev, /^<!-- example: .* -->$/))
            kind = substr(prev, 15, length(prev) - 18)
        print FILENAME ":" FNR > (dir "/" n ".where")
        print kind > (dir "/" n ".kind")
        printf "" > body
        next
    }
    /^ *```/ { if (inside) { inside = 0; close(body) } else fence = !fence
             prev = $0; next }
    inside { print > body; next }
    NF { prev = $0 }
' "$@"

total=$(find "$tmp" -name '*.kind' | wc -l)
unmarked=$(grep -lx unmarked "$tmp"/*.kind 2> /dev/null | sort -V)
runnable=$(grep -lxE 'none|rack|brick [0-9]+|boots|console' "$tmp"/*.kind 2> /dev/null |
    sort -V)
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

# Whether each "#> " line of example file $1 is in its output $2, in order
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
doc="" groups="" console="" console_out="" console_pid=""
# Stop what a doc's examples started (each ran in a process group of its
# own, with what it left in the background), and give back what they
# attached on the rack: the next doc's start from a rack as it came up.
stop_doc() {
    [ -z "$console" ] || exec {console}>&-
    console="" console_out="" console_pid=""
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

# What FILE printed from byte $2 on, without carriage returns (a
# console's, QMP's)
printed() {
    tail -c "+$(($2 + 1))" "$1" | tr -d '\r'
}

# Wait until FILE $2 shows from byte $3 on a line "$4<N>" (a status), or
# without $4 all "#> " lines of example $1, while process $5 runs
wait_shown() {
    local end=$((SECONDS + deadline)) out
    while [ $SECONDS -lt $end ]; do
        out=$(printed "$2" "$3")
        if [ -n "$4" ]; then
            printf '%s\n' "$out" | grep -qE "^$4[0-9]+$" && return 0
        elif shows "$1" "$out" > /dev/null; then
            return 0
        fi
        kill -0 "$5" 2> /dev/null || break
        sleep 0.5
    done
    return 1
}

for k in $runnable; do
    n=$((n + 1))
    ex=${k%.kind}
    kind=$(cat "$k")
    where=$(cat "$ex.where")
    if [ "${where%%:*}" != "$doc" ]; then
        stop_doc
        doc=${where%%:*}
    fi
    case $kind in rack | brick*)
        if [ -z "$rack_run" ]; then
            rack_run=$tmp/rack
            DREDBOX_RUN=$rack_run launcher/dredbox-rack up racks/default.rack \
                > "$tmp/rack-up.log" 2>&1 ||
                echo "# the default rack did not come up: $(tail -n 3 "$tmp/rack-up.log")"
        fi ;;
    esac
    sed "s|build/run/rack|$rack_run|g" "$ex.sh" > "$ex.sub"
    { echo "set -e -o pipefail"
      case $kind in rack | brick*) echo "export DREDBOX_RUN=$rack_run" ;; esac
      case $kind in
      brick*) echo "dredbox-rack exec ${kind#brick } --timeout $deadline --stdin" \
                   "-- sh -e -o pipefail -s < $ex.sub" ;;
      console) ;;
      *) cat "$ex.sub" ;;
      esac; } > "$ex.run"
    rc=0 why=""
    case $kind in
    boots)
        mkfifo "$ex.in"
        setsid bash "$ex.run" > "$ex.out" 2>&1 < "$ex.in" &
        g=$!
        groups="$groups $g"
        [ -z "$console" ] || exec {console}>&-
        exec {console}<> "$ex.in"
        console_out=$ex.out console_pid=$g
        wait_shown "$ex.sub" "$ex.out" 0 "" "$g" ||
            why="#   it did not show its lines within ${deadline} s or ended"
        out=$(printed "$ex.out" 0) ;;
    console)
        if [ -z "$console" ]; then
            why="#   no example of this doc booted a brick before it"
            out=""
        else
            start=$(stat -c %s "$console_out")
            { echo "sh -e -o pipefail << 'DREDBOX-EXAMPLE'"
              cat "$ex.sub"
              echo "DREDBOX-EXAMPLE"
              echo "echo \"example $n status \$?\""; } >&"$console"
            wait_shown "$ex.sub" "$console_out" "$start" "example $n status " "$console_pid" ||
                why="#   it did not end within ${deadline} s"
            out=$(printed "$console_out" "$start")
            rc=$(printf '%s\n' "$out" | sed -n "s/^example $n status \([0-9]*\)$/\1/p")
        fi ;;
    *)
        setsid bash "$ex.run" > "$ex.out" 2>&1 < /dev/null &
        g=$!
        groups="$groups $g"
        wait "$g"
        rc=$?
        out=$(printed "$ex.out" 0) ;;
    esac
    [ -n "$why" ] || why=$( [ "${rc:-0}" = 0 ] || echo "#   it exited with status $rc"
                            shows "$ex.sub" "$out")
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
