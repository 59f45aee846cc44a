#!/usr/bin/env bash
# Side-by-side benchmark of ferryd/ferry against vsftpd/curl/lftp, all on 127.0.0.1.
#
#   bench/run.sh [BIN_DIR]          (or: make bench)
#
# BIN_DIR (or $FERRY_BIN_DIR) holds release builds of ferry and ferryd. Without either, the script
# builds them itself with `swift build -c release --scratch-path .build-bench` in the repository.
#
# It installs vsftpd, curl and lftp from Debian's packages when they are missing (as root; otherwise
# it prints the apt-get command), creates a temporary directory (under $BENCH_DIR if set, else
# /tmp), generates the test data and both servers' configurations there, runs bench/bench.py, and
# on exit stops every server it started and removes the directory.
#
# Environment: BENCH_RUNS (default 3), BENCH_QUICK=1 (small, fast smoke run), BENCH_HOLD (seconds,
# workload 5), BENCH_OUT (also write the table as Markdown there), BENCH_DIR (parent of the
# temporary directory; it must be on a disk, and it must be reachable by the `ftp` user), BENCH_KEEP=1
# (keep the temporary directory, for debugging). See bench/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

# ---- tools ----------------------------------------------------------------------------------
missing=()
command -v vsftpd >/dev/null 2>&1 || [ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v lftp >/dev/null 2>&1 || missing+=(lftp)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v md5sum >/dev/null 2>&1 || missing+=(coreutils)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "bench: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # Installing vsftpd must not start the system's vsftpd on port 21: policy-rc.d (if any) or
        # the missing init system keeps it down; we stop nothing that we did not start.
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "bench: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi
export PATH="$PATH:/usr/sbin:/sbin"
if [ "$(id -u)" -ne 0 ]; then
    echo "bench: vsftpd must run as root (it chroots and drops to the ftp user); run as root" >&2
    exit 1
fi
if ! id ftp >/dev/null 2>&1; then
    echo "bench: the 'ftp' user (created by Debian's vsftpd package) is missing" >&2
    exit 1
fi

# ---- ferry binaries -------------------------------------------------------------------------
bin_dir="${1:-${FERRY_BIN_DIR:-}}"
if [ -z "$bin_dir" ]; then
    swift="$(command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)"
    "$repo/scripts/ensure-deps.sh"
    echo "bench: building release binaries into .build-bench" >&2
    (cd "$repo" && "$swift" build -c release --scratch-path .build-bench >&2)
    bin_dir="$repo/.build-bench/release"
fi
case "$bin_dir" in /*) ;; *) bin_dir="$repo/$bin_dir" ;; esac
for b in ferry ferryd; do
    if [ ! -x "$bin_dir/$b" ]; then
        echo "bench: $bin_dir/$b not found or not executable" >&2
        exit 1
    fi
done

# ---- scratch directory and clean-up ----------------------------------------------------------
parent="${BENCH_DIR:-/tmp}"
mkdir -p "$parent"
work="$(mktemp -d "$parent/ferry-bench.XXXXXX")"
chmod 755 "$work"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    # bench.py stops its servers itself; this is the backstop if it was killed. Only process groups
    # that bench.py recorded, and only while their command line still names our directory.
    if [ -f "$work/pids" ]; then
        while read -r pid; do
            [ -n "$pid" ] || continue
            if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$work"; then
                kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
                for _ in 1 2 3 4 5 6 7 8 9 10; do
                    [ -d "/proc/$pid" ] || break
                    sleep 0.5
                done
                kill -KILL -- "-$pid" 2>/dev/null || true
            fi
        done <"$work/pids"
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $work" >&2
    else
        chmod -R u+w "$work" 2>/dev/null || true
        rm -rf "$work"
    fi
    exit "$rc"
}
py=""
on_signal() {
    # Python started in the background ignores SIGINT, so every signal is passed on as SIGTERM.
    if [ -n "$py" ]; then
        kill -TERM "$py" 2>/dev/null || true
        wait "$py" 2>/dev/null || true
    fi
    exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "bench: binaries $bin_dir, scratch $work" >&2
# In the background so that a signal reaches the trap at once (bash runs traps between commands).
python3 "$here/bench.py" --bin-dir "$bin_dir" --work "$work" &
py=$!
set +e
wait "$py"
rc=$?
set -e
py=""
exit "$rc"
