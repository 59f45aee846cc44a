#!/usr/bin/env bash
# Builds the two libFuzzer targets into .build-fuzz/, then fuzzes each. See fuzz/README.md.
#
#   fuzz-wire    FrameDecoder, MessageCoder and SharePath, checked against a reference parse
#   fuzz-server  ferryd end to end: a real Server in-process, frames in over loopback, replies checked
#
#   FUZZ_SECONDS=300   how long to fuzz each target (libFuzzer -max_total_time)
#   FUZZ_TARGETS="wire server"   which targets to fuzz, in order
#   FUZZ_OPT=-O        optimisation for the build (-Onone gives clearer stack traces)
#   FUZZ_BUILD_ONLY=1  build, do not fuzz
#   extra arguments are passed to libFuzzer; a file as the first argument is run alone against the
#   first target in FUZZ_TARGETS (FUZZ_TARGETS=server fuzz/run.sh crash-XXXX reproduces a server finding)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SWIFTC=${SWIFTC:-$(command -v swiftc 2>/dev/null || echo /opt/swift/usr/bin/swiftc)}
SWIFT=${SWIFT:-$(command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)}
OUT=$ROOT/.build-fuzz
OPT=${FUZZ_OPT:--O}
TARGETS=${FUZZ_TARGETS:-wire server}
FLAGS=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 "$OPT" -g -use-ld=lld -I "$OUT/modules")

mkdir -p "$OUT/modules" "$OUT/artifacts"

# One module: compiled with whole-module optimisation into $OUT/NAME.o and $OUT/modules/NAME.swiftmodule.
module() {
    local name=$1
    shift
    echo "== building $name ($OPT, fuzzer+address)" >&2
    "$SWIFTC" "${FLAGS[@]}" -module-name "$name" -wmo -c -emit-module \
        -emit-module-path "$OUT/modules/$name.swiftmodule" -o "$OUT/$name.o" "$@"
}

module FerryWire Sources/FerryWire/*.swift
echo "== linking $OUT/fuzz-wire" >&2
"$SWIFTC" "${FLAGS[@]}" -module-name FerryFuzz -o "$OUT/fuzz-wire" \
    fuzz/FuzzWire.swift fuzz/TemporaryFileStub.swift Sources/FerryServer/SharePath.swift "$OUT/FerryWire.o"

# The server target needs every module ferryd is made of, swift-log included (resolved by SwiftPM).
"$SWIFT" package resolve >/dev/null
LOGGING=$("$SWIFT" package show-dependencies --format json | python3 -c \
    'import json,sys; print(next(d["path"] for d in json.load(sys.stdin)["dependencies"] if d["identity"] == "swift-log"))')
module Logging -package-name swift_log $(find "$LOGGING/Sources/Logging" -name '*.swift')
module FerryCrypto -I Sources/COpenSSL Sources/FerryCrypto/*.swift
module FerryPosix -I Sources/CLinux Sources/FerryPosix/*.swift
module FerryTransport -I Sources/COpenSSL -I Sources/CLinux Sources/FerryTransport/*.swift
module FerryTLS -I Sources/COpenSSL -I Sources/CLinux Sources/FerryTLS/*.swift
module FerryServer -I Sources/COpenSSL -I Sources/CLinux Sources/FerryServer/*.swift
echo "== linking $OUT/fuzz-server" >&2
"$SWIFTC" "${FLAGS[@]}" -module-name FerryFuzzServer -I Sources/COpenSSL -I Sources/CLinux -o "$OUT/fuzz-server" \
    fuzz/FuzzServer.swift "$OUT"/{Logging,FerryWire,FerryCrypto,FerryPosix,FerryTransport,FerryTLS,FerryServer}.o -lssl -lcrypto

[[ ${FUZZ_BUILD_ONLY:-0} == 1 ]] && exit 0

# Reproduce mode: run just the given input(s) against the first target.
if [[ $# -gt 0 && -f ${1} ]]; then
    exec "$OUT/fuzz-${TARGETS%% *}" "$@"
fi

for target in $TARGETS; do
    work=$OUT/corpus-$target
    mkdir -p "$work"
    case $target in
    wire)
        # Two large generated inputs are run once first, not fuzzed (they would slow every mutation
        # down): over 64 KiB of small frames fed in pieces of up to 4 KiB, which makes FrameDecoder
        # compact its buffer, and one frame of exactly Frame.maximumLength bytes fed one byte at a time.
        mkdir -p "$OUT/large-inputs"
        { for ((i = 0; i < 3800; i++)); do printf '\x00\x00\x00\x0e{"type":"bye"}'; done; printf '\x03'; } \
            > "$OUT/large-inputs/many-frames"
        { printf '\x00\x01\x00\x00{"type":"ls","path":"'; head -c 65513 /dev/zero | tr '\0' a; printf '"}'; } \
            > "$OUT/large-inputs/largest-frame"
        echo "== running the large inputs once" >&2
        "$OUT/fuzz-wire" "$OUT"/large-inputs/* 2>&1 | grep -v '^INFO:' >&2
        cp -n fuzz/corpus/* "$work/" 2>/dev/null || true
        ;;
    server)
        cp -n fuzz/corpus-server/* "$work/" 2>/dev/null || true
        ;;
    esac
    echo "== fuzzing $target for ${FUZZ_SECONDS:-300}s (1 job); crashes land in $OUT/artifacts/" >&2
    (cd "$OUT" && "./fuzz-$target" -max_total_time="${FUZZ_SECONDS:-300}" -max_len=70000 -rss_limit_mb=4096 \
        -timeout=30 -print_final_stats=1 -dict="$ROOT/fuzz/wire.dict" -artifact_prefix="$OUT/artifacts/$target-" \
        "$@" "$work")
done
