#!/usr/bin/env bash
# Times `ferry get` of a 1 GiB file for several chunk_size values (see docs/PERFORMANCE.md).
#
#   bench/chunk_sweep.sh [BIN_DIR]        default BIN_DIR: .build-bench/release (make bench builds it)
#
# Environment: CHUNKS (sizes in bytes, in the order to run; default "65536 262144 1048576 4194304"),
# ROUNDS (default 2), RUNS (timed gets per size and round, default 3). Each size gets a fresh ferryd
# and one untimed warm-up get (digest and page cache warm). Between runs the copy is deleted, synced,
# and the disk left to go idle (bench.py's settle_disk). Prints one line per size and round.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$(cd "${1:-$here/../.build-bench/release}" && pwd)"
work="$(mktemp -d /tmp/ferry-chunks.XXXXXX)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM HUP

settle() { python3 -c "
import importlib.util as u
s = u.spec_from_file_location('bench', '$here/bench.py'); b = u.module_from_spec(s); s.loader.exec_module(b)
b.settle_disk('$work')"; }

mkdir -p "$work/share"
head -c 1073741824 /dev/urandom > "$work/share/big.bin"
printf '[server]\nlisten = 127.0.0.1\nport = 0\nroot = share\n' > "$work/base.ini"
echo sweep-password | "$bin/ferryd" adduser sweep --config "$work/base.ini" > /dev/null
export FERRY_PASSWORD=sweep-password

for round in $(seq "${ROUNDS:-2}"); do
    for chunk in ${CHUNKS:-65536 262144 1048576 4194304}; do
        sed "s/^root = share$/root = share\nchunk_size = $chunk/" "$work/base.ini" > "$work/config.ini"
        "$bin/ferryd" --config "$work/config.ini" 2> "$work/ferryd.log" & pid=$!
        port=""
        for _ in $(seq 100); do
            port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/ferryd.log" | grep -o '[0-9]*$' || true)"
            [ -n "$port" ] && break
            sleep 0.1
        done
        [ -n "$port" ] || { echo "ferryd did not start:" >&2; cat "$work/ferryd.log" >&2; exit 1; }
        get() { "$bin/ferry" --port "$port" --user sweep --quiet get big.bin "$work/copy.bin"; }
        get && rm -f "$work/copy.bin"
        times=""
        for _ in $(seq "${RUNS:-3}"); do
            sync; settle
            start=$(date +%s.%N); get; end=$(date +%s.%N)
            times="$times $(python3 -c "print('%.2f' % ($end - $start))")"
            rm -f "$work/copy.bin"
        done
        kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
        echo "round $round  chunk_size $chunk:$times s"
    done
done
