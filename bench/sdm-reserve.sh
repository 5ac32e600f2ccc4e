#!/bin/sh
# The SDM reservation engine alone (no pool, fabric or QMP), on synthetic
# racks of 1,000 and 10,000 bricks, both policies: placed decisions per
# second and the success rate (build/tools/bench/sdm-reserve-bench, see
# bench/sdm-reserve.c); medians over the rounds.
#
#   bench/sdm-reserve.sh [ROUNDS]      (default 3)
#   bench/sdm-reserve.sh --table LOG
set -eu
. "$(dirname "$0")/lib.sh"

table() {
    awk "$BENCH_AWK"'
    $1 == "build" { build = substr($0, 7); next }
    { k = $1 " " $2; add(k, $6); req[k] = $3; ok[k] = $4; bricks[$1] = 1 }
    function cell(b, p,   k) {
        k = b " " p
        return sprintf("%.0f | %.1f%%", med(k), 100 * ok[k] / req[k])
    }
    END {
        print "| bricks | first-fit (placed/s) | first-fit success | locality (placed/s) | locality success | rounds |"
        print "|---:|---:|---:|---:|---:|---:|"
        for (b = 1000; b <= 1000000; b *= 10)
            if (b in bricks)
                printf "| %d | %s | %s | %d |\n", b, cell(b, "first-fit"),
                       cell(b, "locality"), n(b " first-fit")
        print ""
        printf "Engine and bench built with %s.\n", build
    }'
}

bench_start sdm-reserve "$@"
rounds=${1:-3}
bin=$TOOLS_BUILD/bench/sdm-reserve-bench
"$bin" "$rounds" > "$LOGDIR/sdm-reserve.out"
cat "$LOGDIR/sdm-reserve.out"
build=$(sed -n 's/^engine //p' "$LOGDIR/sdm-reserve.out")
case " $build " in
*" optimization=0 "* | *" optimization=g "*)
    echo "bench: the engine is built without optimisation ($build);" \
         "make tools sets up $TOOLS_BUILD debugoptimized" >&2
    exit 1 ;;
*" sanitize=none "*) ;;
*)
    echo "bench: the engine is built with sanitizers ($build)," \
         "which is no measure of its speed" >&2
    exit 1 ;;
esac
result "build $build"
awk '$1 ~ /^[0-9]+$/ { print "result", $0 }' "$LOGDIR/sdm-reserve.out"
bench_end
