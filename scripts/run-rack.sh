#!/bin/sh
# Bring up the default rack (racks/default.rack), say where everything is
# and, on a terminal, attach to compute brick 0's console.  The rack keeps
# running after you detach; `make down` stops it.
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
RACK=$SRCDIR/launcher/dredbox-rack
RUN=${DREDBOX_RUN:-$SRCDIR/build/run/rack}

"$RACK" down > /dev/null
"$RACK" up "${1:-$SRCDIR/racks/default.rack}"
cat <<EOM

The rack is up.  Fabric control: $RUN/fabric.sock, memory pool:
$RUN/pool/pool.json (docs/rack.md).  Stop it with 'make down'.
EOM
if [ -t 0 ] && [ -t 1 ]; then
    echo "Attaching to brick0's console; Ctrl-] detaches."
    printf '\n' | socat - "UNIX-CONNECT:$RUN/brick0.console" > /dev/null
    socat -,raw,echo=0,escape=0x1d "UNIX-CONNECT:$RUN/brick0.console"
    echo
    echo "Detached; the rack is still up ('make down' stops it)."
fi
