#!/usr/bin/env bash
# The soak (bench/soak.py): SOAK_CLIENTS clients (default 200) and a trickle of `ferry` binaries
# against one ferryd for SOAK_SECONDS (default 300), checking that nothing is lost and nothing leaks.
#
#   bench/soak.sh BIN_DIR           (or: make soak; make test runs a 30-second one)
#
# BIN_DIR holds ferry and ferryd. TLS needs pyOpenSSL (SCRAM-SHA-256-PLUS binds the login to the TLS
# exporter, which Python's own ssl module cannot give): it is installed with pip if missing, or with
# apt-get (python3-openssl) as root; without it the soak runs in clear text and says so.
# Environment: see bench/README.md, section "Soak".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="${1:?usage: bench/soak.sh BIN_DIR}"
command -v python3 >/dev/null 2>&1 || { echo "soak: python3 is missing" >&2; exit 1; }
if [ "${SOAK_TLS:-auto}" != 0 ] && ! python3 -c 'import OpenSSL' 2>/dev/null; then
    echo "soak: installing pyOpenSSL" >&2
    python3 -m pip install -q pyopenssl 2>/dev/null \
        || { [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-openssl >/dev/null 2>&1; } \
        || true
fi
# Two malloc arenas for the 200 client threads, and large buffers (file contents) mapped and
# unmapped, not kept: the harness holds what it uses, no more, over a long run (ferryd and ferry
# are started without this setting).
export MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=262144
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 "$here/soak.py" --bin-dir "$bin_dir"
