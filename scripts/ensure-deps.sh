#!/usr/bin/env bash
# Installs what building and testing Ferry needs and a fresh Debian machine may lack: OpenSSL's headers
# (libssl and libcrypto), libedit's (the shell's line editor), libcurl's (the S3 backend), pkg-config, and the openssl command (the
# TLS tests check versions with s_client) and curl (make run-s3 waits for SeaweedFS's bucket with it).
# With the argument `test` (make test), also what only the tests use: haproxy, the load balancer
# LoadBalancerTests runs in front of two ferryd (docs/SCALING.md).
# As root it runs apt-get; otherwise it prints the command to run.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! pkg-config --exists openssl 2>/dev/null; then missing+=(libssl-dev); fi
if ! pkg-config --exists libedit 2>/dev/null; then missing+=(libedit-dev); fi
if ! pkg-config --exists libcurl 2>/dev/null; then missing+=(libcurl4-openssl-dev); fi
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
haproxy=no
if [ "${1:-}" = test ] && ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
    missing+=(haproxy)
    haproxy=yes
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    echo "ensure-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts and enables haproxy.service with the package; the tests run haproxy themselves, with
    # a configuration of their own, so the system one installed just for them is stopped and disabled.
    if [ "$haproxy" = yes ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        echo "ensure-deps: haproxy is for the tests only: stopping and disabling haproxy.service" >&2
        systemctl disable --now haproxy.service >/dev/null 2>&1 || true
    fi
else
    echo "ensure-deps: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
