#!/usr/bin/env bash
# The TLS rows of the benchmark (bench/tls_bench.py): ferry over protocol 2 against vsftpd FTPS + curl
# and OpenSSH sftp on 127.0.0.1. Installs what is missing (Debian: vsftpd, openssh-server,
# openssh-client, curl, openssl; PyPI: pyOpenSSL) when run as root, else prints the commands.
#
#   bench/run-tls.sh [BIN_DIR]      (or: make bench-tls)
#
# Environment: BENCH_RUNS (default 3), BENCH_SIZE_MIB (default 1024), BENCH_SESSIONS (default 1000),
# BENCH_OUT (also write the table there).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
missing=()
[ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v sftp >/dev/null 2>&1 || missing+=(openssh-client)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench-tls: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The packages' own services do not start here (no init system); only what this script starts runs.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
python3 -c 'import OpenSSL' 2>/dev/null || python3 -m pip install -q pyopenssl
exec python3 "$here/tls_bench.py" --bin "${1:-${FERRY_BIN_DIR:-.build-bench/release}}" --runs "${BENCH_RUNS:-3}" \
    --size-mib "${BENCH_SIZE_MIB:-1024}" --sessions "${BENCH_SESSIONS:-1000}" ${BENCH_OUT:+--out "$BENCH_OUT"}
