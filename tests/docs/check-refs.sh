#!/bin/sh
# References in the docs that must resolve (docs/testing.md, "Docs"):
# every doc listed in the README's "Read on"; every relative link in
# README.md and docs/*.md pointing at a file that exists and, with an
# anchor, at one of its headings; every repository path named in the
# docs, the rack files and the sources existing (ours, or upstream QEMU's
# in build/qemu-src); every QMP command and event of qapi/dredbox.json
# documented, and every one the docs run or name existing; every
# rack-file attribute, every option of our tools and every patch of the
# QEMU patch queue documented; the RMC's device-tree binding a valid
# schema that the device tree of QEMU's compute brick follows; the guest
# modules' kernel-doc well formed and checkpatch.pl --strict clean.  TAP;
# each failing check lists what dangles.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
qemu_src=${DREDBOX_QEMU_SRC:-$top/build/qemu-src}
n=0
echo "1..10"

result() {    # result DESC LIST: ok if LIST is empty, else not ok with it
    n=$((n + 1))
    if [ -z "$2" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1:"
        echo "$2" | sed 's/^/#   /'
    fi
}

docs=$(ls docs/*.md)

# 1. The README's index names every doc.
missing=$(for d in $docs; do
    grep -q "](${d})" README.md || echo "$d is not in README.md's Read on"
done)
result "README.md's Read on lists every doc" "$missing"

# Heading anchors of markdown file $1, as GitHub makes them: lower case,
# punctuation dropped, spaces to '-'; a repeated one gets -1, -2, ...
# Lines in code fences are not headings.
anchors() {
    awk '/^```/ { fence = !fence; next }
         !fence && /^#+ / {
             h = tolower($0)
             sub(/^#+ /, "", h)
             gsub(/[^a-z0-9 _-]/, "", h)
             gsub(/ /, "-", h)
             if (seen[h]++) h = h "-" (seen[h] - 1)
             print h
         }' "$1"
}

# 2. Relative links: the file, and the anchor in it.
dangling=$(for f in README.md $docs; do
    dir=$(dirname "$f")
    # [text](target): not URLs; code spans may hold brackets, so only
    # what looks like a path or an anchor is taken.
    grep -o '\]([^) ]*)' "$f" | sed 's/^](//; s/)$//' |
        grep -v '^[a-z]*:' | sort -u |
    while read -r link; do
        path=${link%%#*}
        anchor=
        case $link in *"#"*) anchor=${link#*#} ;; esac
        target=$f
        [ -z "$path" ] || target=$dir/$path
        if [ ! -e "$target" ]; then
            echo "$f: $link: no file $target"
        elif [ -n "$anchor" ] && ! anchors "$target" | grep -qx "$anchor"; then
            echo "$f: $link: no heading #$anchor in $target"
        fi
    done
done)
result "every relative link in README.md and docs/ resolves, anchors too" \
    "$dangling"

# 3. Repository paths named in docs, rack files and source comments: a
# file (a dot in its name) or a directory (a trailing '/').  Upstream
# QEMU's own (hw/arm/virt.c, docs/devel/style.rst) are looked for in the
# QEMU source our tree overlays.  Patterns are not paths: a '*' or '{'
# in them, an upper-case placeholder (racks/NAME.rack), or one of the
# files the docs have users make (racks/my.rack).
tops='accelerator-brick|backends|bench|configs|docs|fabric|guest|hw|include|launcher|lib|memory-brick|patches|plugins|qapi|racks|scripts|sdm-controller|tests'
users_own='racks/my.rack'
# The text of @1 to look in: all of a doc or rack file; the comments of
# a source (the compiler checks its #includes, the shell its commands).
text_of() {
    case $1 in
    *.md|*.rack) cat "$1" ;;
    *.c|*.h) grep -vE '^ *# *include' "$1" | grep -E '/\*|^ *\*|//' ;;
    *) grep '#' "$1" ;;
    esac
}
files=$(git ls-files 'README.md' 'docs/*.md' 'racks/*.rack' '*.c' '*.h' \
        '*.sh' 'launcher/*' 'Makefile' '*.build' 'configs/*')
gone=$(for f in $files; do
    text_of "$f" |
        grep -oE "(^|[^A-Za-z0-9_./-])($tops)/[A-Za-z0-9_./-]*[A-Za-z0-9_/][*{-]?" |
        sed -E 's/^[^a-z]//' | sort -u |
    while read -r p; do
        case $p in
        *[*\{-]|*[A-Z][A-Z]*|*..*) continue ;;
        */) ;;
        *) case ${p##*/} in *.*) ;; *) continue ;; esac ;;
        esac
        echo " $users_own " | grep -q " $p " && continue
        [ -e "$p" ] || [ -e "$qemu_src/$p" ] || echo "$f: $p"
    done
done)
result "every repository path named in docs, rack files and sources exists" \
    "$gone"

# 4. QMP: the schema's commands and events in the docs; the docs' in the
# schema (ours) or QEMU's.
schema=$(sed -n "s/^{ '\(command\|event\)': '\([A-Za-z0-9_-]*\)'.*/\2/p" \
         qapi/dredbox.json)
upstream=$(cat "$qemu_src"/qapi/*.json 2> /dev/null |
           sed -n "s/^{ '\(command\|event\)': '\([A-Za-z0-9_-]*\)'.*/\2/p")
undocumented=$(for c in $schema; do
    grep -q -- "$c" $docs || echo "$c (qapi/dredbox.json) is in no doc"
done)
# Named: run ("execute"), or in quotes or backticks like our commands
# and events, except environment variables (read by a tool or a script)
# and test programs (tests/qtest/NAME.c).
envs=$(git ls-files '*.c' '*.sh' 'launcher/*' 'Makefile' '*Kbuild' |
       xargs grep -ohE 'getenv\("DREDBOX_[A-Z_]+"|\$[{(]?DREDBOX_[A-Z_]+' |
       grep -oE 'DREDBOX_[A-Z_]+' | sort -u)
named=$({ cat README.md $docs | grep -oE '"execute": *"[a-z_-]+"' |
          sed 's/.*"\([a-z_-]*\)"$/\1/'
          cat README.md $docs |
              grep -oE '(`|")(query-dredbox-[a-z-]+|dredbox-rmc-[a-z-]+|DREDBOX_[A-Z_]+)(`|")' |
              tr -d '`"'; } | sort -u)
unknown=$(for c in $named; do
    echo "$envs" | grep -qx -- "$c" && continue
    [ -e "tests/qtest/$c.c" ] && continue
    echo "$schema $upstream" | tr ' ' '\n' | grep -qx -- "$c" ||
        echo "$c is named in the docs but is no QMP command or event"
done)
result "every QMP command and event of ours is documented, every one named exists" \
    "$undocumented$unknown"

# 5. Rack-file attributes (lib/rackfile.c's key lists) in docs/rack.md.
keys=$(awk '/_keys\[\] = \{/, /\};/' lib/rackfile.c |
       grep -oE '"[a-z-]+"' | tr -d '"' | sort -u)
nodoc=$(for k in $keys; do
    grep -q -- "$k=" docs/rack.md || echo "rack attribute $k= is not in docs/rack.md"
done)
result "every rack-file attribute is documented in docs/rack.md" "$nodoc"

# 6. Our tools' options (GOptionEntry tables) in README.md or docs/.
opts=$(git ls-files '*.c' | grep -v '^tests/' |
       xargs grep -hoE '^ *\{ "[a-z][a-z0-9-]*", ('"'"'.'"'"'|0), [^,]*, G_OPTION_ARG' |
       sed -E 's/^ *\{ "([a-z0-9-]*)".*/\1/' | sort -u)
nodoc=$(for o in $opts; do
    grep -q -- "--$o" README.md $docs || echo "option --$o is in no doc"
done)
result "every option of our tools is documented" "$nodoc"

# 7. The patch queue, in docs/building.md's table.
nodoc=$(for p in patches/qemu/*.patch; do
    grep -q -- "\`${p##*/}\`" docs/building.md ||
        echo "${p##*/} is not in docs/building.md"
done)
result "every patch of the QEMU patch queue is in docs/building.md" "$nodoc"

# 8. The RMC's device-tree binding is a valid schema (dt-schema's
# meta-schemas), and the device tree a compute brick's QEMU generates
# follows it, and dt-schema's core schemas.
binding=guest/kernel/dredbox-rmc/dredbox,rmc.yaml
qemu=${DREDBOX_QEMU_BUILD:-$top/build/qemu}/qemu-system-aarch64
core=$(python3 -c 'import dtschema, os; print(os.path.dirname(dtschema.__file__))' 2> /dev/null)/schemas
tmp=$(mktemp -d)
bad=$(dt-doc-validate -u "$top/${binding%/*}" "$binding" 2>&1)
if [ -z "$bad" ]; then
    dt-mk-schema -j -o "$tmp/schema.json" "$core" "$binding" 2> /dev/null
    "$qemu" -machine dredbox-compute,rmc-numa=on,dumpdtb="$tmp/brick.dtb" \
        -m 1G,maxmem=2G -display none > /dev/null 2>&1
    if [ -s "$tmp/schema.json" ] && [ -s "$tmp/brick.dtb" ]; then
        bad=$(dt-validate -s "$tmp/schema.json" "$tmp/brick.dtb" 2>&1)
    else
        bad="no schema or no device tree to check (dt-schema installed? $qemu built?)"
    fi
fi
rm -rf "$tmp"
result "the RMC's device-tree binding is valid, and QEMU's device tree follows it" "$bad"

# 9. The guest modules' kernel-doc comments, by the guest kernel's own
# scripts/kernel-doc (make guest unpacks its headers): every parameter
# and member of a documented function or structure described.
kdoc=$(ls build/guest-kernel/root/usr/src/linux-headers-*-common/scripts/kernel-doc 2> /dev/null | head -n 1)
if [ -n "$kdoc" ]; then
    bad=$(perl "$kdoc" -none -Werror guest/kernel/*/*.c 2>&1)
else
    bad="no scripts/kernel-doc in build/guest-kernel (make guest unpacks it)"
fi
result "the guest modules' kernel-doc comments are complete" "$bad"

# 10. The guest modules as the kernel's maintainers read them: the guest
# kernel's own scripts/checkpatch.pl --strict (make guest unpacks it from
# linux-source) finds nothing.
checkpatch=build/guest-kernel/checkpatch/checkpatch.pl
if [ -f "$checkpatch" ]; then
    bad=$(for f in guest/kernel/*/*.c; do
        perl "$checkpatch" --strict --no-tree --quiet --terse --no-summary \
            -f "$f" 2>&1
    done)
else
    bad="no $checkpatch (make guest unpacks it)"
fi
result "the guest modules pass the kernel's checkpatch.pl --strict" "$bad"
