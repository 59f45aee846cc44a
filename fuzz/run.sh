#!/usr/bin/env bash
# Builds the libFuzzer target for FerryWire (FrameDecoder, MessageCoder) and SharePath into
# .build-fuzz/, then fuzzes. See fuzz/README.md.
#
#   FUZZ_SECONDS=300   how long to fuzz (libFuzzer -max_total_time)
#   FUZZ_OPT=-O        optimisation for the build (-Onone gives clearer stack traces)
#   FUZZ_BUILD_ONLY=1  build, do not fuzz
#   extra arguments are passed to libFuzzer (e.g. a crash file to reproduce it: fuzz/run.sh crash-XXXX)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SWIFTC=${SWIFTC:-$(command -v swiftc 2>/dev/null || echo /opt/swift/usr/bin/swiftc)}
OUT=$ROOT/.build-fuzz
OPT=${FUZZ_OPT:--O}
FLAGS=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 "$OPT" -g -use-ld=lld)

mkdir -p "$OUT/modules" "$OUT/corpus-work" "$OUT/artifacts"

# FerryWire as its own module (instrumented), so that SharePath.swift's `import FerryWire` resolves.
echo "== building FerryWire ($OPT, fuzzer+address)" >&2
"$SWIFTC" "${FLAGS[@]}" -module-name FerryWire -wmo -c \
    -emit-module -emit-module-path "$OUT/modules/FerryWire.swiftmodule" \
    -o "$OUT/FerryWire.o" Sources/FerryWire/*.swift

echo "== building $OUT/fuzz-wire" >&2
"$SWIFTC" "${FLAGS[@]}" -module-name FerryFuzz -I "$OUT/modules" \
    -o "$OUT/fuzz-wire" \
    fuzz/FuzzWire.swift fuzz/TemporaryFileStub.swift Sources/FerryServer/SharePath.swift \
    "$OUT/FerryWire.o"

[[ ${FUZZ_BUILD_ONLY:-0} == 1 ]] && exit 0

# Reproduce mode: `fuzz/run.sh some-crash-file` runs just that input.
if [[ $# -gt 0 && -f ${1} ]]; then
    exec "$OUT/fuzz-wire" "$@"
fi

# Two large generated inputs are run once first, not fuzzed (they would slow every mutation down):
# over 64 KiB of small frames fed in pieces of up to 4 KiB, which makes FrameDecoder compact its
# buffer, and one frame of exactly Frame.maximumLength bytes fed one byte at a time.
mkdir -p "$OUT/large-inputs"
{ for ((i = 0; i < 3800; i++)); do printf '\x00\x00\x00\x0e{"type":"bye"}'; done; printf '\x03'; } \
    > "$OUT/large-inputs/many-frames"
{ printf '\x00\x01\x00\x00{"type":"ls","path":"'; head -c 65513 /dev/zero | tr '\0' a; printf '"}'; } \
    > "$OUT/large-inputs/largest-frame"
echo "== running the large inputs once" >&2
"$OUT/fuzz-wire" "$OUT"/large-inputs/* 2>&1 | grep -v '^INFO:' >&2

# The repository corpus stays small: fuzz into a scratch copy under .build-fuzz.
cp -n fuzz/corpus/* "$OUT/corpus-work/" 2>/dev/null || true
cd "$OUT"
echo "== fuzzing for ${FUZZ_SECONDS:-300}s (1 job); crashes land in $OUT/artifacts/" >&2
exec ./fuzz-wire -max_total_time="${FUZZ_SECONDS:-300}" -max_len=70000 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$ROOT/fuzz/wire.dict" -artifact_prefix="$OUT/artifacts/" "$@" corpus-work
