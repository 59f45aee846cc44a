#!/usr/bin/env python3
"""Side-by-side benchmark: ferryd + ferry against vsftpd + curl/lftp, on 127.0.0.1 only.

Started by bench/run.sh (which installs the packages, builds ferry and owns the work directory);
see bench/README.md. Python standard library only.

Environment:
  BENCH_RUNS=N     timed runs per workload and side (default 3); the sides alternate run by run
  BENCH_QUICK=1    smoke run: 64 MiB instead of 1 GiB (and instead of 256 MiB), 200 instead of
                   1000 small files and idle sessions, a 3 s hold
  BENCH_HOLD=S     seconds the idle sessions of workload 5 are held (default 10)
  BENCH_OUT=FILE   also write the results as Markdown to FILE
  BENCH_ONLY=1,3   run only these workloads (for development; the table shows the rest as skipped)

Every ferry client runs with XDG_CACHE_HOME inside the work directory (its digest cache), and every
ferryd starts without the digests an earlier one left on the shared files (forget_digests).
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
CHUNK = 4 * MiB  # ferry's chunk grid (docs/PROTOCOL.md 6.6.1): one SHA-256 per 4 MiB
MANIFEST_XATTR = "user.ferry.manifest"  # where ferryd keeps a file's chunk digests across restarts
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
USER = "bench"


# ---------------------------------------------------------------------------------------------
# small helpers


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def terminate(p, grace, kill=None):
    """Stops the process `p` by its PID: SIGTERM, then, if it has not exited within `grace` seconds,
    kill(p) (default: SIGKILL to it) and a wait. True when it had to be killed."""
    if p.poll() is not None:
        return False
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(grace)
        return False
    except subprocess.TimeoutExpired:
        (kill or (lambda q: q.kill()))(p)
        p.wait(10)
        return True


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def human_size(n):
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return "%d %s" % (n // size, unit)
    return "%d B" % n


def fmt_mib(kib):
    return "—" if kib is None else "%.1f MiB" % (kib / 1024.0)


def fmt_s(t):
    return "%.3f s" % t


def fmt_bytes(n):
    return "%.1f MiB" % (n / MiB)


UNITS = {"B": 1, "KiB": KiB, "MiB": MiB, "GiB": GiB, "TiB": 1 << 40}


def summary_bytes(err):
    """The SIZE of ferry's summary line, `NAME  SIZE in T s (RATE), SHA-256 verified` (ByteFormat:
    `512.0 MiB`, `1.00 GiB`, `4096 B`), in bytes (rounded as printed); None if there is no such line."""
    for line in reversed(err.splitlines()):
        m = re.search(r"\s(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB) in [\d.]+ s \(", line)
        if m:
            return int(float(m.group(1)) * UNITS[m.group(2)])
    return None


def verified_chunks(path):
    """How many chunks a `.chunks` record claims: a 64-byte header, then one 32-byte slot per chunk,
    non-zero once that chunk is verified. 0 while the record does not exist (yet)."""
    try:
        with open(path, "rb") as f:
            d = f.read()
    except OSError:
        return 0
    zero = bytes(32)
    return sum(1 for i in range(64, len(d) - 31, 32) if d[i:i + 32] != zero)


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), from /proc/PID/stat; None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        while True:
            b = f.read(4 * MiB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def same_bytes(a, b):
    """True if the two files hold the same bytes (a plain cmp, outside every timed section)."""
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
    except OSError:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x = fa.read(4 * MiB)
            y = fb.read(4 * MiB)
            if x != y:
                return False
            if not x:
                return True


def resident_kib(pid):
    """VmRSS of one process in KiB, read from /proc/PID/statm (cheaper than status)."""
    try:
        fd = os.open("/proc/%d/statm" % pid, os.O_RDONLY)
        try:
            return int(os.read(fd, 256).split()[1]) * PAGE_KIB
        finally:
            os.close(fd)
    except (OSError, IndexError, ValueError):
        return 0


def children(pid):
    """Direct children of a single-threaded process (its main thread's children file)."""
    try:
        fd = os.open("/proc/%d/task/%d/children" % (pid, pid), os.O_RDONLY)
        try:
            return [int(c) for c in os.read(fd, 1 << 16).split()]
        finally:
            os.close(fd)
    except (OSError, ValueError):
        return []


def disk_activity(path):
    """(I/Os in flight, sectors written, sectors discarded) of the disk holding path, from
    /proc/diskstats; None if it cannot be found (then settling is skipped)."""
    st = os.stat(path)
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    try:
        with open("/proc/diskstats") as f:
            for line in f:
                p = line.split()
                if int(p[0]) == major and int(p[1]) == minor:
                    return int(p[11]), int(p[9]), int(p[16]) if len(p) > 16 else 0
    except (OSError, ValueError, IndexError):
        pass
    return None


def settle_disk(path, quiet=1.5, timeout=120):
    """Waits until the disk holding path has had nothing in flight and written or discarded nothing
    for `quiet` seconds (at most `timeout`). Deleting gigabytes on a disk mounted with online discard
    keeps it busy for seconds after the delete returns; a timed run must not share the disk with
    that. Returns the seconds waited."""
    t0 = time.monotonic()
    last, still_since = disk_activity(path), time.monotonic()
    if last is None:
        return 0.0
    while time.monotonic() - t0 < timeout:
        time.sleep(0.25)
        now = disk_activity(path)
        if now is None:
            return time.monotonic() - t0
        if now[0] != 0 or now[1:] != last[1:]:
            still_since = time.monotonic()
        elif time.monotonic() - still_since >= quiet:
            break
        last = now
    return time.monotonic() - t0


def proc_status(pid, key):
    """A kB value from /proc/PID/status (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_io(pid):
    try:
        with open("/proc/%d/io" % pid) as f:
            return {k: int(v) for k, v in (line.split(":") for line in f)}
    except OSError:
        return {}


def descendants(pid):
    """pid and all its descendants, through /proc/PID/task/TID/children."""
    out, todo = [], [pid]
    while todo and len(out) < 10000:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


class RssSampler:
    """Samples VmRSS every `interval` seconds and keeps the peak (KiB). With tree=True the sum over the
    process and its descendants (vsftpd forks per connection; its processes are single-threaded)."""

    def __init__(self, root_pid, interval=0.05, tree=False):
        self.root = root_pid
        self.interval = interval
        self.tree = tree
        self.peak = 0
        self.samples = 0
        self.cost = 0.0
        self._stop = threading.Event()
        self._thread = None

    def sample(self):
        t0 = time.perf_counter()
        if self.tree:
            total, todo, seen = 0, [self.root], 0
            while todo and seen < 10000:
                p = todo.pop()
                seen += 1
                total += resident_kib(p)
                todo.extend(children(p))
        else:
            total = resident_kib(self.root)
        self.peak = max(self.peak, total)
        self.samples += 1
        self.cost += time.perf_counter() - t0

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()
        return False


def become_subreaper():
    """Orphaned descendants (a vsftpd connection process whose master exited first) are re-parented
    to us instead of to PID 1, so that reap_orphans() can collect them: no zombies are left behind."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def reap_orphans():
    """Collects every child left (after the servers were stopped); kills any that outlive 3 s."""
    deadline = time.monotonic() + 6
    killed = False
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        if not killed and time.monotonic() > deadline - 3:
            for p in descendants(os.getpid())[1:]:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            killed = True
        time.sleep(0.05)


class Failure(Exception):
    pass


def pair_ratios(res, a, b):
    """a_i / b_i for every run i in which both sides of the pair succeeded, in run order."""
    at = (res or {}).get("at", {})
    ta, tb = at.get(a, {}), at.get(b, {})
    return [ta[r] / tb[r] for r in sorted(ta) if tb.get(r)]


# ---------------------------------------------------------------------------------------------
# the benchmark


class Bench:
    def __init__(self, bin_dir, work, runs, quick, hold, out):
        self.bin_dir = os.path.abspath(bin_dir)
        self.ferry = os.path.join(self.bin_dir, "ferry")
        self.ferryd = os.path.join(self.bin_dir, "ferryd")
        self.work = os.path.abspath(work)
        self.runs = runs
        self.quick = quick
        self.hold = hold
        self.out = out
        self.big = 64 * MiB if quick else 1 * GiB
        self.mid = 16 * MiB
        self.quarter = 64 * MiB if quick else 256 * MiB
        self.nsmall = 200 if quick else 1000
        self.small = 4 * KiB
        self.nconc = 100
        self.nidle = 200 if quick else 1000
        self.password = secrets.token_hex(16)
        self.share = os.path.join(self.work, "share")  # ferryd's root
        self.ftp = os.path.join(self.work, "ftp")  # vsftpd's anonymous root: read-only, same inodes
        self.dst = os.path.join(self.work, "dst")  # where clients write
        self.pidfile = os.path.join(self.work, "pids")
        # Every ferry client gets XDG_CACHE_HOME here, so its digest cache ($XDG_CACHE_HOME/ferry/digests)
        # is the bench's own and not in the user's home. clear_dst empties it after every run.
        self.client_cache = os.path.join(self.work, "client-cache")
        self.ferryd_cache = os.path.join(self.work, "ferryd-cache")  # ferryd's cache_dir
        self.transfer_log = os.path.join(self.work, "transfers.log")  # ferryd's transfer_log, rows 7 and 8
        self.run_no = 0  # which timed run is going on: the sides of one run form a pair (rows() ratios)
        self.background = {}  # workload -> [seconds of CPU ferryd used after its clients had exited]
        self.ferryd_proc = None
        self.ferryd_port = None
        self.ferryd_starts = 0
        self.vsftpd_proc = None
        self.vsftpd_port = None
        self.clients = set()  # client Popens in flight, killed on cleanup
        self.results = {}  # workload id -> dict
        self.notes = []  # things seen along the way, printed under the table
        self.md5 = {}

    # ---- processes ------------------------------------------------------------------------

    def remember_pid(self, pid):
        with open(self.pidfile, "a") as f:
            f.write("%d\n" % pid)

    def ferry_env(self, cache=None):
        env = dict(os.environ)
        env["FERRY_USER"] = USER
        env["FERRY_PASSWORD"] = self.password
        env["XDG_CACHE_HOME"] = cache or self.client_cache
        return env

    def start_ferryd(self, transfer_log=False):
        """A fresh ferryd (empty digest cache, fresh VmHWM) on a free loopback port. ferryd keeps the
        chunk digests it computed in each file's user.ferry.manifest attribute and in its cache_dir,
        across restarts; both are removed first, so every workload starts as before its first get."""
        self.stop_ferryd()
        self.forget_digests()
        self.ferryd_starts += 1
        self.ferryd_port = free_port()
        self.write_ferryd_config(transfer_log)
        logpath = os.path.join(self.work, "ferryd-%02d.log" % self.ferryd_starts)
        logf = open(logpath, "w")
        self.ferryd_proc = subprocess.Popen(
            [self.ferryd, "--config", self.ferryd_conf],
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=logf,
            start_new_session=True,
            cwd=self.work,
        )
        logf.close()
        self.remember_pid(self.ferryd_proc.pid)
        want = "listening on 127.0.0.1:%d" % self.ferryd_port
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(logpath) as f:
                text = f.read()
            if want in text:
                return self.ferryd_proc.pid
            if self.ferryd_proc.poll() is not None:
                break
            time.sleep(0.05)
        raise Failure("ferryd did not start (see %s):\n%s" % (logpath, text[-2000:]))

    def stop_ferryd(self):
        p = self.ferryd_proc
        if p is None:
            return
        if p.poll() is None:
            if terminate(p, 15, kill=lambda q: os.killpg(q.pid, signal.SIGKILL)):
                self.notes.append("ferryd did not exit within 15 s of SIGTERM; it was killed.")
            if p.returncode not in (0, -signal.SIGKILL):
                self.notes.append("ferryd exited with status %s after SIGTERM." % p.returncode)
        self.ferryd_proc = None
        self.scan_ferryd_log()

    def forget_digests(self):
        """Removes what ferryd remembers of the files it served: the attribute on every file under
        share/ (the same inodes as ftp/) and the digest files in its cache_dir."""
        for d, _, files in os.walk(self.share):
            for n in files:
                try:
                    os.removexattr(os.path.join(d, n), MANIFEST_XATTR)
                except OSError:
                    pass
        shutil.rmtree(self.ferryd_cache, ignore_errors=True)

    def settle_ferryd(self, quiet=0.3, timeout=120):
        """Waits until ferryd has used no CPU to speak of for `quiet` seconds: after a get or put of a
        file over 64 MiB it works out the file's MD5 on a background thread, and that must not land in
        the next timed run (the other side's, most often). Returns the CPU seconds it used meanwhile."""
        p = self.ferryd_proc
        if p is None or p.poll() is not None:
            return 0.0
        t0 = time.monotonic()
        first = last = cpu_seconds(p.pid)
        still = t0
        while first is not None and time.monotonic() - t0 < timeout:
            time.sleep(0.1)
            now = cpu_seconds(p.pid)
            if now is None:
                break
            if now - last > 0.02:
                still = time.monotonic()
            elif time.monotonic() - still >= quiet:
                break
            last = now
        used = (last or 0.0) - (first or 0.0)
        if used >= 0.05:
            self.background.setdefault(self.current, []).append(used)
        return used

    def scan_ferryd_log(self):
        """Warnings and errors that ferryd logged during this workload go into the notes."""
        path = os.path.join(self.work, "ferryd-%02d.log" % self.ferryd_starts)
        try:
            with open(path, errors="replace") as f:
                bad = [l.strip() for l in f if any(" %s " % w in l for w in ("warning", "error", "critical"))]
        except OSError:
            return
        if bad:
            self.notes.append("ferryd logged %d warning/error line(s) during %s, e.g.: %s" % (len(bad), self.current, bad[0][:300]))

    def write_ferryd_config(self, transfer_log=False):
        self.ferryd_conf = os.path.join(self.work, "ferryd.ini")
        with open(self.ferryd_conf, "w") as f:
            f.write(
                "[server]\nlisten = 127.0.0.1\nport = %d\nroot = %s\n"
                "max_connections = 4096\nmax_connections_per_address = 4096\n"
                # Every bench client comes from 127.0.0.1, and row 4 starts 100 logins at once.
                "max_pending_logins_per_address = 256\n"
                "cache_dir = %s\n"
                # One JSON line per transfer, with the bytes it moved: rows 7 and 8 count them there.
                # Off elsewhere, as by default.
                "%s"
                # Clear text, like the FTP it is compared with here; bench/tls_bench.py has the TLS rows.
                "[tls]\nenabled = false\n"
                % (self.ferryd_port, self.share, self.ferryd_cache, "transfer_log = %s\n" % self.transfer_log if transfer_log else "")
            )
        r = subprocess.run(
            [self.ferryd, "adduser", USER, "--config", self.ferryd_conf],
            input=self.password + "\n",
            text=True,
            capture_output=True,
            timeout=60,
        )
        if r.returncode != 0:
            raise Failure("ferryd adduser failed: %s" % (r.stderr or r.stdout))

    def start_vsftpd(self):
        self.vsftpd_port = free_port()
        empty = os.path.join(self.work, "vsftpd-empty")
        os.makedirs(empty, exist_ok=True)
        conf = os.path.join(self.work, "vsftpd.conf")
        with open(conf, "w") as f:
            f.write(
                "\n".join(
                    [
                        "listen=YES",
                        "listen_ipv6=NO",
                        "listen_address=127.0.0.1",
                        "listen_port=%d" % self.vsftpd_port,
                        "background=NO",
                        "anonymous_enable=YES",
                        "local_enable=NO",
                        "no_anon_password=YES",
                        "anon_root=%s" % self.ftp,
                        "write_enable=YES",
                        "anon_upload_enable=YES",
                        "anon_mkdir_write_enable=YES",
                        "anon_other_write_enable=YES",
                        "anon_umask=022",
                        "secure_chroot_dir=%s" % empty,
                        "seccomp_sandbox=NO",
                        "pasv_enable=YES",
                        "pasv_address=127.0.0.1",
                        "connect_from_port_20=NO",
                        "max_clients=2000",
                        "max_per_ip=2000",
                        "xferlog_enable=NO",
                        "dirmessage_enable=NO",
                        "use_localtime=NO",
                        "pam_service_name=vsftpd",
                        "ftp_username=ftp",
                        "idle_session_timeout=600",
                        "data_connection_timeout=600",
                        "",
                    ]
                )
            )
        logf = open(os.path.join(self.work, "vsftpd.log"), "w")
        self.vsftpd_proc = subprocess.Popen(
            ["vsftpd", conf], stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True
        )
        logf.close()
        self.remember_pid(self.vsftpd_proc.pid)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.vsftpd_proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.vsftpd_port), timeout=1) as s:
                    if s.recv(64).startswith(b"220"):
                        return
            except OSError:
                time.sleep(0.05)
        with open(os.path.join(self.work, "vsftpd.log")) as f:
            raise Failure("vsftpd did not start: %s" % f.read()[-2000:])

    def stop_vsftpd(self):
        """Ends the connection processes first and lets the master reap them, then the master."""
        p = self.vsftpd_proc
        if p is None:
            return
        kids = descendants(p.pid)[1:]
        for pid in kids:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while kids and children(p.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
        self.vsftpd_proc = None

    def cleanup(self):
        servers = {p.pid for p in (self.ferryd_proc, self.vsftpd_proc) if p is not None}
        for pid in children(os.getpid()):  # clients, including one caught half-started by a signal
            if pid not in servers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for c in list(self.clients):
            if c.poll() is None:
                c.kill()
                try:
                    c.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        self.clients.clear()
        try:
            self.stop_ferryd()
        except Exception as e:  # keep cleaning up
            log("stopping ferryd: %s" % e)
        try:
            self.stop_vsftpd()
        except Exception as e:
            log("stopping vsftpd: %s" % e)
        reap_orphans()

    def spawn(self, cmd, env=None, stdin=None, stdout=subprocess.DEVNULL):
        p = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
        self.clients.add(p)
        return p

    def finish(self, p, timeout, stdin=None, keep=500):
        """Wait for p; returns (returncode, the last `keep` characters of its stderr). A time-out kills it
        and counts as failure."""
        try:
            _, err = p.communicate(input=stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            self.clients.discard(p)
            return 124, "timed out after %d s; %s" % (timeout, (err or b"").decode(errors="replace")[-300:])
        self.clients.discard(p)
        return p.returncode, (err or b"").decode(errors="replace").strip()[-keep:]

    def peak_rss(self, cmd, timeout=900):
        """Runs a ferry client command to the end; returns its peak RSS in KiB (ru_maxrss from wait4)."""
        p = self.spawn(cmd, env=self.ferry_env())
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                self.clients.discard(p)
                raise Failure("%s timed out" % " ".join(cmd[-3:]))
            time.sleep(0.01)
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode(errors="replace").strip()[-300:]
        p.stderr.close()
        self.clients.discard(p)
        if p.returncode != 0:
            raise Failure("ferry exited %d: %s" % (p.returncode, err))
        return usage.ru_maxrss

    def timed(self, cmd, timeout, env=None, stdin=None):
        """Runs one command; returns its wall time. Raises Failure on a non-zero exit."""
        return self.timed_err(cmd, timeout, env, stdin)[0]

    def timed_err(self, cmd, timeout, env=None, stdin=None):
        """timed(), also returning what the command wrote on stderr."""
        t0 = time.perf_counter()
        p = self.spawn(cmd, env=env, stdin=stdin)
        rc, err = self.finish(p, timeout, stdin, keep=20000)
        t = time.perf_counter() - t0
        if rc != 0:
            raise Failure("%s exited %d: %s" % (os.path.basename(cmd[0]), rc, err[-500:]))
        return t, err

    # ---- data -----------------------------------------------------------------------------

    def make_file(self, name, size):
        path = os.path.join(self.share, name)
        with open(path, "wb") as f:
            left = size
            while left > 0:
                n = min(left, 8 * MiB)
                f.write(os.urandom(n))
                left -= n
        os.link(path, os.path.join(self.ftp, name))
        os.chmod(path, 0o644)
        self.md5[name] = md5_file(path)

    def setup_data(self):
        os.chmod(self.work, 0o755)  # vsftpd's unprivileged process must reach ftp/
        for d in (self.share, self.ftp, self.dst, os.path.join(self.share, "up"), os.path.join(self.share, "small")):
            os.makedirs(d, exist_ok=True)
        os.makedirs(os.path.join(self.ftp, "small"), exist_ok=True)
        os.makedirs(os.path.join(self.ftp, "up"), exist_ok=True)
        os.chmod(os.path.join(self.ftp, "up"), 0o777)  # anonymous uploads go here
        log("creating test data in %s" % self.work)
        self.names = {"big": "big.bin", "mid": "mid.bin", "quarter": "quarter.bin"}
        self.make_file("big.bin", self.big)
        self.make_file("mid.bin", self.mid)
        if self.quarter == self.big:
            os.link(os.path.join(self.share, "big.bin"), os.path.join(self.share, "quarter.bin"))
            os.link(os.path.join(self.ftp, "big.bin"), os.path.join(self.ftp, "quarter.bin"))
            self.md5["quarter.bin"] = self.md5["big.bin"]
        else:
            self.make_file("quarter.bin", self.quarter)
        self.small_names = ["small/f%04d" % i for i in range(self.nsmall)]
        for n in self.small_names:
            with open(os.path.join(self.share, n), "wb") as f:
                f.write(os.urandom(self.small))
            os.link(os.path.join(self.share, n), os.path.join(self.ftp, n))
        os.chmod(self.ftp, 0o555)  # vsftpd refuses a writable anonymous root

    def warm(self, *names):
        for n in names:
            subprocess.run(["cat", os.path.join(self.share, n)], stdout=subprocess.DEVNULL, check=True, timeout=600)

    def clear_dst(self):
        """Deletes what the last run received, then waits until the disk is idle. Both halves matter on
        this kind of machine. The disk is mounted with online discard, so a 1 GiB delete keeps it busy
        for a while after unlink returns; a run that starts then competes with the discard. Keeping
        the files instead (to delete later) is worse: every run must then write into memory the page
        cache has not used before, and on this VM that made a 1 GiB write to the page cache take
        2.4-4.7 s instead of 0.3 s, on both sides. ferryd's own work after a transfer (the MD5 of a
        large file, on a background thread) is waited for first, for the same reason."""
        self.settle_ferryd()
        shutil.rmtree(self.client_cache, ignore_errors=True)
        shutil.rmtree(self.dst, ignore_errors=True)
        os.makedirs(self.dst, exist_ok=True)
        for d in ("up",):
            for base in (self.share, self.ftp):
                p = os.path.join(base, d)
                for n in os.listdir(p):
                    os.unlink(os.path.join(p, n))
        os.sync()  # nobody's write-back lands in the next timed section
        settle_disk(self.work)

    def smoke_test(self):
        """Both servers answer and deliver the right bytes before anything is timed."""
        probe = self.small_names[0]
        src = os.path.join(self.share, probe)
        self.timed(
            [self.ferry, "--port", str(self.ferryd_port), "--no-tls", "get", probe, os.path.join(self.dst, "probe-ferry"), "--quiet"],
            60,
            env=self.ferry_env(),
        )
        self.timed(["curl", "-sS", "-o", os.path.join(self.dst, "probe-ftp"), self.ftp_url(probe)], 60)
        for n in ("probe-ferry", "probe-ftp"):
            if not same_bytes(src, os.path.join(self.dst, n)):
                raise Failure("smoke test: %s differs from the source" % n)
        self.timed(["curl", "-sS", "-T", src, self.ftp_url("up/probe")], 60)
        if not same_bytes(src, os.path.join(self.ftp, "up", "probe")):
            raise Failure("smoke test: upload to vsftpd differs from the source")
        self.clear_dst()

    def ftp_url(self, path):
        return "ftp://127.0.0.1:%d/%s" % (self.vsftpd_port, path)

    # ---- one side of one run ----------------------------------------------------------------

    def ferry_cmd(self, *args, quiet=True):
        """A ferry command line. quiet=False keeps the summary line (`NAME  SIZE in T s ...`); the
        `ferry: ...` notices (resuming, unchanged files) come either way."""
        return [self.ferry, "--port", str(self.ferryd_port), "--no-tls"] + (["--quiet"] if quiet else []) + list(args)

    def check(self, ok, what):
        if not ok:
            raise Failure("bytes differ: %s" % what)

    def keep(self, res, side, t):
        """Keeps one side's time: in res[side] (for the medians) and under the run it belongs to, in
        res["at"][side][run] (for the ratio of each pair, see rows())."""
        res.setdefault(side, []).append(t)
        res.setdefault("at", {}).setdefault(side, {})[self.run_no] = t

    def record(self, res, side, fn, clear=True):
        """Runs fn() -> seconds for one side; keeps the time or the failure. clear=False leaves what it
        received in place (for a second run over it)."""
        try:
            t = fn()
            self.keep(res, side, t)
        except Failure as e:
            res.setdefault(side + "_fail", []).append(str(e))
            log("FAIL %s %s: %s" % (res["id"], side, e))
            t = None
        if clear:
            self.clear_dst()
        return t

    def peer_run(self, res, sampler, transfer, received, verify):
        """One timed vsftpd run: transfer() under the RSS sampler, then `sync` of the received files
        (informational: the disk write ferry pays with its fsync), then verify(). Records
        transfer + sync under "peer_sync" and returns the transfer's time alone."""
        with sampler:
            t0 = time.perf_counter()
            transfer()
            t1 = time.perf_counter()
        subprocess.run(["sync"] + received, check=True, timeout=600)
        t2 = time.perf_counter()
        verify()
        self.keep(res, "peer_sync", t2 - t0)
        return t1 - t0

    def alternate(self, res, wid, fns, labels=None):
        """The timed runs of one workload: every side once per run, in alternating order, each logged."""
        for r in range(self.runs):
            self.run_no = r
            for side, fn in self.sides(r, fns):
                t = self.record(res, side, fn)
                label = (labels or {}).get(side, side)
                log("workload %s run %d %-8s %s" % (wid, r + 1, label, "FAIL" if t is None else fmt_s(t)))

    def sides(self, r, fns):
        """fns: list of (side, fn). Alternates the order run by run (ABAB, then BABA...)."""
        return fns if r % 2 == 0 else list(reversed(fns))

    # ---- workloads --------------------------------------------------------------------------

    def w1_get(self):
        res = {"id": "1"}
        name = "big.bin"
        src = os.path.join(self.share, name)
        self.start_ferryd()
        self.warm(name)
        fsamp = RssSampler(self.ferryd_proc.pid)
        vsamp = RssSampler(self.vsftpd_proc.pid, tree=True)

        def ferry():
            out = os.path.join(self.dst, "big-ferry")
            with fsamp:
                t = self.timed(self.ferry_cmd("get", name, out), 900, env=self.ferry_env())
            self.check(same_bytes(src, out), "ferry get")
            return t

        def peer():
            out = os.path.join(self.dst, "big-curl")
            return self.peer_run(
                res, vsamp, lambda: self.timed(["curl", "-sS", "-o", out, self.ftp_url(name)], 900),
                [out], lambda: self.check(same_bytes(src, out), "curl -o"),
            )

        def md5sum():
            return self.timed(["md5sum", src], 600)

        def openssl():
            return self.timed(["openssl", "md5", src], 600)

        log("workload 1: warm-up (untimed): one get each, fills ferryd's digest cache and the page cache")
        self.record({"id": "1-warm"}, "ferry", ferry)
        self.record({"id": "1-warm"}, "peer", peer)
        res.pop("peer_sync", None)
        res.pop("at", None)
        self.alternate(res, "1", [("ferry", ferry), ("peer", peer), ("md5sum", md5sum), ("openssl", openssl)])
        log("workload 1: client memory (untimed): peak RSS of one get and one put of %s and of %s"
            % (human_size(self.big), human_size(self.mid)))
        for label, name, size in (("big", "big.bin", self.big), ("mid", "mid.bin", self.mid)):
            try:
                out = os.path.join(self.dst, "rss-" + name)
                res["client_get_" + label] = self.peak_rss(self.ferry_cmd("get", name, out))
                res["client_put_" + label] = self.peak_rss(self.ferry_cmd("put", out, "up/rss-" + name))
            except Failure as e:
                res["client_rss_fail"] = str(e)
                log("FAIL client memory: %s" % e)
            self.clear_dst()
        res["ferry_rss"] = proc_status(self.ferryd_proc.pid, "VmHWM")
        res["peer_rss"] = vsamp.peak
        self.stop_ferryd()
        self.results["1"] = res

    def w2_put(self):
        res = {"id": "2"}
        name = "big.bin"
        src = os.path.join(self.share, name)
        self.start_ferryd()
        self.warm(name)
        fsamp = RssSampler(self.ferryd_proc.pid)
        vsamp = RssSampler(self.vsftpd_proc.pid, tree=True)

        def ferry():
            with fsamp:
                t = self.timed(self.ferry_cmd("put", src, "up/put.bin"), 900, env=self.ferry_env())
            self.check(same_bytes(src, os.path.join(self.share, "up", "put.bin")), "ferry put")
            return t

        def peer():
            stored = os.path.join(self.ftp, "up", "put.bin")
            return self.peer_run(
                res, vsamp, lambda: self.timed(["curl", "-sS", "-T", src, self.ftp_url("up/put.bin")], 900),
                [stored], lambda: self.check(same_bytes(src, stored), "curl -T"),
            )

        self.alternate(res, "2", [("ferry", ferry), ("peer", peer)])
        res["ferry_rss"] = proc_status(self.ferryd_proc.pid, "VmHWM")
        res["peer_rss"] = vsamp.peak
        self.stop_ferryd()
        self.results["2"] = res

    def w3_small(self):
        res = {"id": "3"}
        self.start_ferryd()
        fsamp = RssSampler(self.ferryd_proc.pid)
        vsamp = RssSampler(self.vsftpd_proc.pid, tree=True)

        def compare(outdir):
            for n in self.small_names:
                if not same_bytes(os.path.join(self.share, n), os.path.join(outdir, os.path.basename(n))):
                    return False
            return len(os.listdir(outdir)) == len(self.small_names)

        # Each run writes into a directory of its own, removed only after the last run: deleting 1000
        # files just before a run makes ext4 slow to allocate inodes for the next ~30 s
        # (recently_deleted in find_inode_bit), which would charge both sides for the clean-up. The
        # files are small, so keeping them costs no memory worth mentioning.
        keep = os.path.join(self.work, "w3-out")
        os.makedirs(keep, exist_ok=True)
        runs = iter(range(10 ** 6))

        def ferry():
            out = os.path.join(keep, "ferry-%d" % next(runs))
            with fsamp:
                t = self.timed(self.ferry_cmd("get", "-r", "small", out), 900, env=self.ferry_env())
            self.check(compare(out), "ferry get -r")
            return t

        def peer():
            out = os.path.join(keep, "lftp-%d" % next(runs))
            script = (
                "set net:max-retries 2; set net:timeout 30; set net:reconnect-interval-base 1; "
                "set ftp:passive-mode on; set cmd:fail-exit yes; "
                "mirror -P 8 small %s; bye" % out
            )
            files = [os.path.join(out, os.path.basename(n)) for n in self.small_names]
            return self.peer_run(
                res, vsamp,
                lambda: self.timed(["lftp", "-e", script, "ftp://anonymous:x@127.0.0.1:%d" % self.vsftpd_port], 900),
                files, lambda: self.check(compare(out), "lftp mirror"),
            )

        self.alternate(res, "3", [("ferry", ferry), ("peer", peer)])
        res["ferry_rss"] = proc_status(self.ferryd_proc.pid, "VmHWM")
        res["peer_rss"] = vsamp.peak
        self.stop_ferryd()
        shutil.rmtree(keep, ignore_errors=True)
        self.results["3"] = res

    def concurrent(self, cmds, env, timeout):
        """Starts every command at once, waits for all; returns the wall time or raises Failure."""
        t0 = time.perf_counter()
        procs = [self.spawn(c, env=env) for c in cmds]
        bad = []
        deadline = time.monotonic() + timeout
        for p in procs:
            rc, err = self.finish(p, max(1, deadline - time.monotonic()))
            if rc != 0:
                bad.append("exit %d: %s" % (rc, err.splitlines()[-1] if err else ""))
        t = time.perf_counter() - t0
        if bad:
            raise Failure("%d of %d clients failed, e.g. %s" % (len(bad), len(cmds), bad[0]))
        return t

    def w4_concurrent(self):
        res = {"id": "4"}
        name = "mid.bin"
        self.start_ferryd()
        self.warm(name)
        fsamp = RssSampler(self.ferryd_proc.pid)
        vsamp = RssSampler(self.vsftpd_proc.pid, tree=True)

        def verify(prefix):
            bad = [i for i in range(self.nconc) if md5_file(os.path.join(self.dst, "%s%03d" % (prefix, i))) != self.md5[name]]
            self.check(not bad, "%d of %d %s downloads" % (len(bad), self.nconc, prefix))

        def ferry():
            cmds = [self.ferry_cmd("get", name, os.path.join(self.dst, "f%03d" % i)) for i in range(self.nconc)]
            with fsamp:
                t = self.concurrent(cmds, self.ferry_env(), 900)
            verify("f")
            return t

        def peer():
            files = [os.path.join(self.dst, "c%03d" % i) for i in range(self.nconc)]
            cmds = [["curl", "-sS", "-o", f, self.ftp_url(name)] for f in files]
            return self.peer_run(res, vsamp, lambda: self.concurrent(cmds, None, 900), files, lambda: verify("c"))

        log("workload 4: warm-up (untimed): one get each")
        self.record({"id": "4-warm"}, "ferry", lambda: self.timed(self.ferry_cmd("get", name, os.path.join(self.dst, "w")), 300, env=self.ferry_env()))
        self.record({"id": "4-warm"}, "peer", lambda: self.timed(["curl", "-sS", "-o", os.path.join(self.dst, "w"), self.ftp_url(name)], 300))
        self.alternate(res, "4", [("ferry", ferry), ("peer", peer)])
        res["ferry_rss"] = proc_status(self.ferryd_proc.pid, "VmHWM")
        res["peer_rss"] = vsamp.peak
        res["sampler"] = (vsamp.samples, vsamp.cost)
        self.stop_ferryd()
        self.results["4"] = res

    def w5_idle(self):
        res = {"id": "5"}
        name = "quarter.bin"
        src = os.path.join(self.share, name)
        self.start_ferryd()
        pid = self.ferryd_proc.pid
        self.warm(name)
        rss_during = []
        threads_during = []

        def get():
            out = os.path.join(self.dst, "quarter-ferry")
            t = self.timed(self.ferry_cmd("get", name, out), 600, env=self.ferry_env())
            self.check(same_bytes(src, out), "ferry get")
            return t

        def with_idle():
            env = self.ferry_env()
            holder = subprocess.Popen(
                [
                    sys.executable,
                    os.path.join(HERE, "idle_sessions.py"),
                    "--port", str(self.ferryd_port),
                    "--user", USER,
                    "--sessions", str(self.nidle),
                    "--hold", str(self.hold),
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self.clients.add(holder)
            try:
                line = holder.stdout.readline().split()  # READY n secs, or FAILED (bounded by its deadline)
                if not line or line[0] != "READY":
                    holder.wait(30)
                    raise Failure("idle sessions did not all log in: %s %s" % (" ".join(line), holder.stderr.read()[-300:]))
                log("workload 5: %s idle sessions logged in after %s s" % (line[1], line[2]))
                with RssSampler(pid) as samp:
                    threads_during.append(proc_status(pid, "Threads"))
                    t = get()
                    tail = holder.stdout.readline().split()  # DONE alive=.. closed=..
                    rc = holder.wait(self.hold + 30)
                rss_during.append(samp.peak)
                if rc != 0 or not tail or tail[0] != "DONE":
                    raise Failure("idle sessions: %s (exit %s) %s" % (" ".join(tail), rc, holder.stderr.read()[-300:]))
                if t > self.hold:
                    self.notes.append("workload 5: the active get (%.1f s) outlasted the %g s hold." % (t, self.hold))
                return t
            finally:
                if holder.poll() is None:
                    holder.kill()
                    holder.wait(5)
                self.clients.discard(holder)

        log("workload 5: warm-up (untimed) get")
        self.record({"id": "5-warm"}, "ferry", get)
        self.alternate(res, "5", [("ferry", with_idle), ("peer", get)], labels={"ferry": "idle", "peer": "alone"})
        res["ferry_rss"] = proc_status(pid, "VmHWM")
        res["rss_during"] = rss_during
        res["threads_during"] = threads_during
        self.stop_ferryd()
        self.results["5"] = res

    def w6_twice(self):
        res = {"id": "6"}
        name = "big.bin"
        src = os.path.join(self.share, name)
        self.warm(name)
        reads = {"first": [], "second": []}

        def one(label):
            pid = self.ferryd_proc.pid
            before = proc_io(pid)
            out = os.path.join(self.dst, "twice-" + label)
            t = self.timed(self.ferry_cmd("get", name, out), 900, env=self.ferry_env())
            # What ferryd reads for a get includes the MD5 it works out afterwards in the background.
            self.settle_ferryd()
            after = proc_io(pid)
            if before and after:
                reads[label].append(after.get("rchar", 0) - before.get("rchar", 0))
            self.check(same_bytes(src, out), "ferry get (%s)" % label)
            return t

        for r in range(self.runs):
            self.run_no = r
            self.start_ferryd()  # an empty digest cache every run
            self.warm(name)
            t1 = self.record(res, "first", lambda: one("first"))
            t2 = self.record(res, "second", lambda: one("second"))
            log("workload 6 run %d first %s second %s" % (r + 1, "FAIL" if t1 is None else fmt_s(t1), "FAIL" if t2 is None else fmt_s(t2)))
            res["ferry_rss"] = max(res.get("ferry_rss") or 0, proc_status(self.ferryd_proc.pid, "VmHWM") or 0)
            self.stop_ferryd()
        res["reads"] = reads
        self.results["6"] = res

    def cut(self, cmd, record, size):
        """Starts cmd (a ferry get or put of a file of `size` bytes) and sends it SIGKILL as soon as its
        `.chunks` record claims at least half of the file's chunks; record() names that file (None
        while it is not there). Returns the share of chunks claimed when the kill was sent."""
        count = math.ceil(size / CHUNK)
        p = self.spawn(cmd, env=self.ferry_env())
        deadline = time.monotonic() + 900
        claimed = 0
        try:
            while p.poll() is None and time.monotonic() < deadline:
                path = record()
                claimed = verified_chunks(path) if path else 0
                if 2 * claimed >= count:
                    p.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.002)
            else:
                if p.poll() is None:
                    raise Failure("%s was not half done after 900 s" % " ".join(cmd[-3:]))
        finally:
            if p.poll() is None and 2 * claimed < count:
                p.kill()
            rc, err = self.finish(p, 60)
        if rc != -signal.SIGKILL:
            raise Failure("%s ended (exit %s) before it could be cut at half: %s" % (" ".join(cmd[-3:]), rc, err[-300:]))
        return claimed / count

    def logged_bytes(self, offset, command, path, timeout=10):
        """The bytes ferryd's transfer log records for the successful transfers (`command` of `path`)
        that it appended after `offset`. ferryd writes the line once the transfer is over on its side,
        which may be just after the client exited, so it waits for at least one (at most `timeout` s)."""
        deadline = time.monotonic() + timeout
        while True:
            found = []
            with open(self.transfer_log, "rb") as f:
                f.seek(offset)
                for line in f.read().decode(errors="replace").splitlines():
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("result") == "ok" and rec.get("command") == command and rec.get("path", "").lstrip("/") == path:
                        found.append(int(rec.get("bytes", 0)))
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not found:
            raise Failure("ferryd's transfer log has no successful %s of %s" % (command, path))
        return sum(found)

    def resume_workload(self, wid, op):
        """Rows 7 (get) and 8 (put): a whole transfer of the big file, and one cut with SIGKILL at half
        (its .chunks record) and then run again, which resumes; the resumed attempt is timed. The two
        alternate run by run, and each run's pair gives one ratio. The bytes the resumed attempt moved
        come from ferryd's transfer log; its summary line is checked against them."""
        res = {"id": wid}
        name = "big.bin"
        src = os.path.join(self.share, name)
        self.start_ferryd(transfer_log=True)
        self.warm(name)
        fsamp = RssSampler(self.ferryd_proc.pid)
        up = os.path.join(self.share, "up")

        if op == "get":
            def command(label):
                return self.ferry_cmd("get", name, os.path.join(self.dst, label), quiet=False)

            def record_of(label):
                path = os.path.join(self.dst, ".%s.ferrypart.chunks" % label)
                return lambda: path

            def received(label):
                return os.path.join(self.dst, label)

            def leftovers(label):
                return [n for n in os.listdir(self.dst) if n.startswith("." + label + ".ferrypart")]

            logged = lambda label: name
        else:
            def command(label):
                return self.ferry_cmd("put", src, "up/" + label, quiet=False)

            def record_of(label):
                def find():
                    for n in os.listdir(up):
                        if n.startswith(".ferry-upload-resume-") and n.endswith(".chunks"):
                            return os.path.join(up, n)
                    return None
                return find

            def received(label):
                return os.path.join(up, label)

            def leftovers(label):
                return [n for n in os.listdir(up) if n.startswith(".ferry-upload-resume-")]

            logged = lambda label: "up/" + label

        def whole():
            with fsamp:
                t, _ = self.timed_err(command("whole"), 900, env=self.ferry_env())
            self.check(same_bytes(src, received("whole")), "ferry %s (whole)" % op)
            return t

        def resumed():
            label = "resumed"
            claimed = self.cut(command(label), record_of(label), self.big)
            res.setdefault("cut", []).append(claimed)
            if not leftovers(label):
                raise Failure("the cut %s left no partial behind" % op)
            # The kept half reaches the disk before the timed attempt, as it would have long before a
            # real resume; the whole transfer also starts on an idle disk.
            os.sync()
            settle_disk(self.work)
            # What is kept can be more than what the record claimed at the kill: ferryd goes on verifying
            # the chunks of a put that were already in the socket buffers.
            res.setdefault("kept", []).append(verified_chunks(record_of(label)() or "") / math.ceil(self.big / CHUNK))
            offset = os.path.getsize(self.transfer_log)
            with fsamp:
                t, err = self.timed_err(command(label), 900, env=self.ferry_env())
            moved = self.logged_bytes(offset, op, logged(label))
            self.check(same_bytes(src, received(label)), "ferry %s (resumed)" % op)
            if leftovers(label):
                raise Failure("the resumed %s left %s behind" % (op, ", ".join(leftovers(label))))
            said = summary_bytes(err)
            if said is None or abs(said - moved) > max(self.big // 100, MiB):
                self.notes.append("workload %s: the resumed %s's summary says %s moved, ferryd's transfer log %d bytes (%s)."
                                  % (wid, op, "nothing" if said is None else "%d bytes" % said, moved, err.splitlines()[-1][:200] if err else "no output"))
            if "ferry: resuming " not in err:
                self.notes.append("workload %s: the second %s did not say it was resuming: %s" % (wid, op, err[-200:]))
            res.setdefault("moved_at", {})[self.run_no] = moved
            return t

        log("workload %s: warm-up (untimed): one whole %s, so ferryd has the file's chunk digests" % (wid, op))
        self.record({"id": wid + "-warm"}, "whole", whole)
        self.alternate(res, wid, [("whole", whole), ("resumed", resumed)])
        res["ferry_rss"] = proc_status(self.ferryd_proc.pid, "VmHWM")
        self.stop_ferryd()
        self.results[wid] = res

    def w7_resume_get(self):
        self.resume_workload("7", "get")

    def w8_resume_put(self):
        self.resume_workload("8", "put")

    def w9_trees(self):
        """Row 9: `ferry put -r` of the tree of small files to a new directory, then the same command
        again; `ferry get -r` of it to a new local directory, then again. The first of each pair runs
        with empty digest caches (a fresh ferryd without the files' attributes, a new XDG_CACHE_HOME);
        the second right after, with the caches the first left. Each run writes to directories of its
        own, all removed after the last run (ext4 is slow to allocate inodes after many deletes)."""
        res = {"id": "9", "unchanged": {}}
        tree = os.path.join(self.share, "small")
        remote_parent = "tree9"
        local_parent = os.path.join(self.work, "tree9")
        os.makedirs(os.path.join(self.share, remote_parent), exist_ok=True)
        os.makedirs(local_parent, exist_ok=True)

        def compare(outdir):
            for n in self.small_names:
                if not same_bytes(os.path.join(self.share, n), os.path.join(outdir, os.path.basename(n))):
                    return False
            return len(os.listdir(outdir)) == len(self.small_names)

        def one(side, cmd, out, env):
            t, err = self.timed_err(cmd, 900, env=env)
            self.check(compare(out), "ferry %s (%s)" % (cmd[cmd.index("-r") - 1], side))
            m = re.search(r"ferry: (\d+) files? (?:was|were) unchanged", err)
            res["unchanged"].setdefault(side, []).append(int(m.group(1)) if m else 0)
            if side.endswith("2") and (not m or int(m.group(1)) != self.nsmall):
                self.notes.append("workload 9: the second %s -r skipped %s of %d files: %s" % (
                    side[:3], m.group(1) if m else "none", self.nsmall, err.splitlines()[-1][:200] if err else ""))
            return t

        for r in range(self.runs):
            self.run_no = r
            self.start_ferryd()  # no digests on the server side
            fsamp = RssSampler(self.ferryd_proc.pid)
            env = self.ferry_env(cache=os.path.join(self.work, "client-cache-9-%d" % r))  # none on ours
            remote = "%s/r%d" % (remote_parent, r)
            os.makedirs(os.path.join(self.share, remote))
            local = os.path.join(local_parent, "r%d" % r)
            os.makedirs(local)
            # REMOTE and LOCAL exist, so each receives a copy named `small`, both times (like cp -r).
            put = self.ferry_cmd("put", "-r", tree, remote, quiet=False)
            get = self.ferry_cmd("get", "-r", "small", local, quiet=False)
            put_out = os.path.join(self.share, remote, "small")
            get_out = os.path.join(local, "small")
            pairs = [
                (("put1", lambda: one("put1", put, put_out, env)), ("put2", lambda: one("put2", put, put_out, env))),
                (("get1", lambda: one("get1", get, get_out, env)), ("get2", lambda: one("get2", get, get_out, env))),
            ]
            times = {}
            with fsamp:
                for pair in self.sides(r, pairs):
                    for side, fn in pair:
                        times[side] = self.record(res, side, fn, clear=False)
                        self.settle_ferryd()
            log("workload 9 run %d put -r %s then %s; get -r %s then %s" % (r + 1, *("FAIL" if times[s] is None else fmt_s(times[s]) for s in ("put1", "put2", "get1", "get2"))))
            res["ferry_rss"] = max(res.get("ferry_rss") or 0, proc_status(self.ferryd_proc.pid, "VmHWM") or 0)
            self.stop_ferryd()
        shutil.rmtree(os.path.join(self.share, remote_parent), ignore_errors=True)
        shutil.rmtree(local_parent, ignore_errors=True)
        for r in range(self.runs):
            shutil.rmtree(os.path.join(self.work, "client-cache-9-%d" % r), ignore_errors=True)
        self.clear_dst()
        self.results["9"] = res

    # ---- report -----------------------------------------------------------------------------

    # Every side a workload can record, so that a workload that could not run shows FAIL everywhere.
    SIDES = ("ferry", "peer", "peer_sync", "md5sum", "openssl", "first", "second", "whole", "resumed", "put1", "put2", "get1", "get2")

    def rows(self):
        """The table: one dict per row."""
        rows = []
        R = self.results
        big, quarter = human_size(self.big), human_size(self.quarter)

        def med(res, side):
            if res is None or res.get(side + "_fail") or not res.get(side):
                return None
            return statistics.median(res[side])

        def failed(res, *sides):
            return res is None or any(res.get(s + "_fail") or not res.get(s) for s in sides)

        def ratio_of(res, a, b):
            """The median over the runs of a_i / b_i, each pair timed back to back in run i (this
            machine's speed drifts by a factor of two within minutes: a ratio of two medians, each
            taken from different minutes, would mislead). None if a side failed."""
            if med(res, a) is None or not med(res, b):
                return None
            rs = pair_ratios(res, a, b)
            return statistics.median(rs) if rs else None

        def verdict(ok, res, *sides):
            if res is None:
                return "skipped"
            if failed(res, *sides):
                return "FAIL"
            return "PASS" if ok else "MISS"

        def row(num, what, ref, res, a, b, target, limit, sides, a_label=None, b_label=None, rss=True, kind="ratio"):
            ta, tb = med(res, a), med(res, b)
            ratio = ratio_of(res, a, b)
            if kind == "info":
                result = "info" if ratio is not None else ("skipped" if res is None else "FAIL")
            else:
                result = verdict(ratio is not None and ratio <= limit, res, *sides)
            rows.append(
                {
                    "num": num,
                    "what": what,
                    "ref": ref,
                    "ferry": "FAIL" if res is not None and failed(res, a) else (fmt_s(ta) if ta is not None else "—"),
                    "peer": "FAIL" if res is not None and failed(res, b) else (fmt_s(tb) if tb is not None else "—"),
                    "ratio": "%.2f" % ratio if ratio is not None else "—",
                    "target": target,
                    "result": result,
                    "ferry_rss": fmt_mib(res.get("ferry_rss")) if res and rss else "",
                    "peer_rss": fmt_mib(res.get("peer_rss")) if res and rss and res.get("peer_rss") else "",
                }
            )

        r1 = R.get("1")
        row("1", "get %s to a file, verified" % big, "vsftpd + curl -o", r1, "ferry", "peer", "<= 0.80x", 0.80, ("ferry", "peer"))
        if r1 is not None:
            floor_side = "openssl"
            m_md5sum, m_openssl = med(r1, "md5sum"), med(r1, "openssl")
            if m_md5sum is not None and (m_openssl is None or m_md5sum < m_openssl):
                floor_side = "md5sum"
            r1["floor"] = r1.get(floor_side, [])
            r1.setdefault("at", {})["floor"] = r1.get("at", {}).get(floor_side, {})
            if r1.get(floor_side + "_fail"):
                r1["floor_fail"] = r1[floor_side + "_fail"]
            self.floor_tool = "md5sum" if floor_side == "md5sum" else "openssl md5"
        else:
            self.floor_tool = "openssl md5"
        row("1f", "get %s vs the MD5 floor" % big, "%s, same file" % self.floor_tool, r1, "ferry", "floor", "<= 1.15x", 1.15, ("ferry", "floor"), rss=False)
        row("1s", "(info) get %s vs curl + fsync" % big, "curl -o, then sync FILE", r1, "ferry", "peer_sync", "—", None, ("ferry", "peer_sync"), rss=False, kind="info")
        for num, op in (("1m", "get"), ("2m", "put")):
            a = r1.get("client_%s_big" % op) if r1 else None
            b = r1.get("client_%s_mid" % op) if r1 else None
            ratio = a / b if a and b else None
            rows.append(
                {
                    "num": num,
                    "what": "ferry client peak RSS, %s %s vs %s" % (op, big, human_size(self.mid)),
                    "ref": "the same %s of %s" % (op, human_size(self.mid)),
                    "ferry": fmt_mib(a) if a else "—",
                    "peer": fmt_mib(b) if b else "—",
                    "ratio": "%.2f" % ratio if ratio is not None else "—",
                    "target": "<= 1.10x (bounded)",
                    "result": "skipped" if r1 is None else ("FAIL" if ratio is None else ("PASS" if ratio <= 1.10 else "MISS")),
                    "ferry_rss": "",
                    "peer_rss": "",
                }
            )
        r2 = R.get("2")
        row("2", "put %s, verified, atomic, fsynced" % big, "vsftpd + curl -T", r2, "ferry", "peer", "<= 1.00x", 1.00, ("ferry", "peer"))
        row("2s", "(info) put %s vs curl + fsync" % big, "curl -T, then sync FILE", r2, "ferry", "peer_sync", "—", None, ("ferry", "peer_sync"), rss=False, kind="info")
        row("3", "%d x 4 KiB files, one session" % self.nsmall, "lftp mirror -P 8", R.get("3"), "ferry", "peer", "<= 0.10x (10x faster)", 0.10, ("ferry", "peer"))
        row("3s", "(info) %d small files vs lftp + fsync" % self.nsmall, "lftp, then sync FILES", R.get("3"), "ferry", "peer_sync", "—", None, ("ferry", "peer_sync"), rss=False, kind="info")
        row("4", "%d concurrent gets of 16 MiB" % self.nconc, "%d concurrent curls" % self.nconc, R.get("4"), "ferry", "peer", "<= 1.00x", 1.00, ("ferry", "peer"))
        row("4s", "(info) %d gets vs curls + fsync" % self.nconc, "curls, then sync FILES", R.get("4"), "ferry", "peer_sync", "—", None, ("ferry", "peer_sync"), rss=False, kind="info")
        r5 = R.get("5")
        row("5", "get %s with %d idle sessions" % (quarter, self.nidle), "the same get alone", r5, "ferry", "peer", "<= 1.20x", 1.20, ("ferry", "peer"), rss=False)
        if r5 is not None:
            hwm = r5.get("ferry_rss")
            ok = hwm is not None and hwm <= 100 * 1024
            rows.append(
                {
                    "num": "5m",
                    "what": "ferryd peak RSS, %d idle sessions" % self.nidle,
                    "ref": "VmHWM of ferryd",
                    "ferry": fmt_mib(hwm),
                    "peer": "—",
                    "ratio": "—",
                    "target": "<= 100 MiB",
                    "result": "PASS" if ok and not failed(r5, "ferry") else ("FAIL" if failed(r5, "ferry") else "MISS"),
                    "ferry_rss": fmt_mib(hwm),
                    "peer_rss": "",
                }
            )
        else:
            rows.append({"num": "5m", "what": "ferryd peak RSS, idle sessions", "ref": "VmHWM of ferryd", "ferry": "—", "peer": "—", "ratio": "—", "target": "<= 100 MiB", "result": "skipped", "ferry_rss": "", "peer_rss": ""})
        r6 = R.get("6")
        ok6 = False
        ratio6 = ratio_of(r6, "second", "first") if r6 is not None else None
        if r6 is not None and not failed(r6, "first", "second"):
            ok6 = ratio6 is not None and ratio6 < 1.0
            rd = r6["reads"]
            if rd["first"] and rd["second"]:
                # the first get reads the file to hash it; the second must not read it again for that
                ok6 = ok6 and statistics.median(rd["second"]) < statistics.median(rd["first"]) - self.big // 2
        rows.append(
            {
                "num": "6",
                "what": "get %s twice: 2nd vs 1st" % big,
                "ref": "1st get, fresh ferryd",
                "ferry": "FAIL" if r6 is not None and failed(r6, "second") else (fmt_s(med(r6, "second")) if r6 else "—"),
                "peer": "FAIL" if r6 is not None and failed(r6, "first") else (fmt_s(med(r6, "first")) if r6 else "—"),
                "ratio": "%.2f" % ratio6 if ratio6 is not None else "—",
                "target": "< 1.00x, no re-hash",
                "result": verdict(ok6, r6, "first", "second"),
                "ferry_rss": fmt_mib(r6.get("ferry_rss")) if r6 else "",
                "peer_rss": "",
            }
        )
        for wid, op in (("7", "get"), ("8", "put")):
            r = R.get(wid)
            row(wid, "%s %s cut at 50 %%, resumed" % (op, big), "whole %s, same run" % op, r, "resumed", "whole", "<= 0.60x", 0.60, ("resumed", "whole"))
            moved = sorted((r or {}).get("moved_at", {}).values())
            worst = moved[-1] if moved else None
            kept = (r or {}).get("kept") or []
            rows.append(
                {
                    "num": wid + "b",
                    "what": "bytes the resumed %s moved%s" % (op, " (%.0f-%.0f %% kept)" % (100 * min(kept), 100 * max(kept)) if kept else ""),
                    "ref": "the file's size",
                    "ferry": "FAIL" if r is not None and failed(r, "resumed") else (fmt_bytes(worst) if worst is not None else "—"),
                    "peer": fmt_bytes(self.big),
                    "ratio": "%.3f" % (worst / self.big) if worst is not None else "—",
                    "target": "<= 0.52x",
                    "result": "skipped" if r is None else ("FAIL" if failed(r, "resumed") or worst is None else ("PASS" if worst <= 0.52 * self.big else "MISS")),
                    "ferry_rss": "",
                    "peer_rss": "",
                }
            )
        r9 = R.get("9")
        for num, op, first, second in (("9p", "put -r", "put1", "put2"), ("9g", "get -r", "get1", "get2")):
            row(num, "2nd %s of %d unchanged files" % (op, self.nsmall), "1st %s, empty caches" % op, r9, second, first, "<= 0.10x", 0.10, (second, first), rss=num == "9p")
        return rows

    COLS = [
        ("num", "#"),
        ("what", "workload"),
        ("ferry", "ferry"),
        ("peer", "reference"),
        ("ref", "reference is"),
        ("ratio", "ratio"),
        ("target", "target"),
        ("result", "result"),
        ("ferry_rss", "ferryd RSS"),
        ("peer_rss", "vsftpd RSS"),
    ]

    def environment(self):
        def sh(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
            except Exception:
                return "?"

        cpu = "?"
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        cpu = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        rev = sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
        if sh(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "--", "Sources"]):
            rev += " (Sources/ modified)"
        return [
            ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
            ("machine", "%s CPU(s) (nproc), %s, %s GiB RAM" % (sh(["nproc"]), cpu, self.mem_gib())),
            ("kernel", "%s %s" % (platform.system(), platform.release())),
            ("ferry", "%s, commit %s, binaries in %s" % (sh([self.ferry, "--version"]), rev, os.path.relpath(self.bin_dir, REPO) if self.bin_dir.startswith(REPO) else self.bin_dir)),
            ("peers", "vsftpd %s, %s, %s" % (self.vsftpd_version(), sh(["curl", "--version"]).split("\n")[0].split(" (")[0], "lftp " + sh(["lftp", "--version"]).split("Version ")[-1].split(" ")[0])),
            ("runs", "%d timed runs per side, median shown; sides alternate; ratio = median of the per-run ratios%s" % (self.runs, "; QUICK mode (smaller data)" if self.quick else "")),
            ("data", "%s (temporary, on %s; page cache warm)" % (self.work, self.fs_of(self.work))),
            ("load", "load average (1/5/15 min) at the start: %s; at the end: %s (other work on the machine shows up here)" % (self.load_at_start, self.loadavg())),
        ]

    def loadavg(self):
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])

    def mem_gib(self):
        try:
            with open("/proc/meminfo") as f:
                return "%.0f" % (int(f.readline().split()[1]) / (1024 * 1024))
        except OSError:
            return "?"

    def fs_of(self, path):
        r = subprocess.run(["df", "--output=source,fstype", path], capture_output=True, text=True)
        lines = r.stdout.strip().splitlines()
        return " ".join(lines[-1].split()) if len(lines) > 1 else "?"

    def vsftpd_version(self):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "vsftpd"], capture_output=True, text=True)
        return r.stdout.strip() or "?"

    def pair_detail(self, res, a, b):
        rs = pair_ratios(res, a, b)
        return " ".join("%.2f" % x for x in rs) if rs else ""

    def footnotes(self):
        big = human_size(self.big)
        notes = [
            "Times are wall-clock medians of the timed runs, from starting the client process to its exit "
            "(process start, login and, for ferry, the chunk checks included). Both sides of a row run back to "
            "back in every run, as a pair (the order flips run by run); ratio is the median over the runs of "
            "ferry_i / reference_i, the ratio within each pair, not the ratio of the two medians shown: this "
            "machine's speed drifts by up to a factor of two within minutes. PASS/MISS compare the ratio with "
            "the target; FAIL means a client exited non-zero or the bytes "
            "received differed (every received file is compared with the source outside the timed section). "
            "After each run the received files are deleted, the bench waits until ferryd has used no CPU for "
            "0.3 s (it works out a large file's MD5 in the background after a transfer) and until /proc/diskstats "
            "shows the disk idle for 1.5 s (online discard keeps it busy after a large delete).",
            "ferry verifies every transfer chunk by chunk (SHA-256 of every 4 MiB chunk, checked as it arrives; "
            "the whole file's MD5 only with --md5, which the bench does not use) and fsyncs the file before "
            "renaming it into place (get and put). curl, lftp and vsftpd neither verify nor fsync. The (info) rows "
            "1s-4s time the same vsftpd runs up to the end of a `sync FILE...` (fsync of every received file) "
            "started right after the client exits, so that the disk write is paid on both sides; they have no target.",
            "Row 1: ferryd and vsftpd each served one untimed warm-up get first, so ferryd's digest cache is "
            "warm here: the server does not hash the file again; the client still hashes every byte. Row 6 "
            "shows the get with an empty digest cache.",
            "Row 1f: the floor is the faster of `md5sum` and `openssl md5` over the same %s file (page cache "
            "warm), measured in the same runs: %s. ferry's client no longer computes the MD5 by default (it "
            "checks the chunks' SHA-256, on all cores), so this row compares with what the MD5 check used to "
            "cost." % (big, self.floor_detail()),
            "Rows 1m and 2m: peak RSS (ru_maxrss from wait4) of one untimed `ferry get` and `ferry put` of the "
            "%s file and of the %s file. A transfer's memory is bounded by its buffers (a few chunks), "
            "not by the file's size, so the two should be about equal." % (big, human_size(self.mid)),
            "ferryd RSS is VmHWM of the ferryd process, which is restarted for each workload (so it is the peak "
            "of that workload). vsftpd forks processes per connection: its RSS is the peak over 50 ms samples "
            "of the summed VmRSS of the vsftpd master and all its descendants during the timed vsftpd runs "
            "(shared pages are counted once per process, so this overstates it).",
            "Row 3: ferry runs `ferry get -r` of the directory of %d files (one connection, one login, pipelined "
            "gets, files made durable in batches with syncfs); lftp runs `mirror -P 8` (8 parallel transfers) "
            "against vsftpd. Each run writes into a new directory, all removed after the last run: ext4 allocates "
            "inodes slowly for ~30 s after many files are deleted." % self.nsmall,
            "Row 4: %d client processes are started at once, each fetching the same 16 MiB file into its own "
            "file; the time runs until the last one exits; every download's MD5 is checked afterwards." % self.nconc,
            "Row 5: %d sessions are opened and logged in (SCRAM) by bench/idle_sessions.py and held idle for "
            "%g s; once all are in, one `ferry get` of the %s file is timed. 'reference' is the same get with "
            "no idle sessions, alternating with it. 5m is ferryd's VmHWM over the whole workload." % (self.nidle, self.hold, human_size(self.quarter)),
            "Row 6: ferryd is restarted before every run, with the user.ferry.manifest attribute of every shared "
            "file and its cache_dir removed (empty digest cache, page cache warm); the %s file is "
            "fetched twice in a row. 'reference' is the first get, 'ferry' the second. PASS needs the second to "
            "be faster and ferryd to read (rchar in /proc/PID/io) at least half a file less during it; the "
            "first get's reads are counted until ferryd is idle again, so they include its background MD5. %s"
            % (big, self.reads_detail()),
            "Rows 7 and 8: in every run, one whole `ferry get` (`ferry put`) of the %s file, and one that is sent "
            "SIGKILL as soon as its .chunks record (beside the destination; for a put, ferryd's "
            ".ferry-upload-resume-*.chunks in the target directory) claims half of the chunks, then run again: it "
            "resumes, and that second attempt is timed. The kept half is synced to disk first, and each pair's "
            "ratio is resumed / whole. ferryd served one untimed whole transfer first, so it knows the file's "
            "digests. Rows 7b and 8b: the bytes the resumed attempt moved, from ferryd's transfer_log (the "
            "`bytes` of its successful transfers), the largest over the runs, against the file's size; every "
            "received file is compared with the source. 'kept' is what the record claimed when the second attempt "
            "started; for a put it can be a little more than half, as ferryd goes on verifying the chunks that "
            "were already in the socket buffers when the client died." % big,
            "Rows 9p and 9g: `ferry put -r` of the directory of %d files to a new remote directory, then the same "
            "command again; `ferry get -r` of it into a new local directory, then again. Each first one runs on a "
            "freshly started ferryd without the files' digests and with a new, empty XDG_CACHE_HOME (the client's "
            "digest cache); the second right after, and it should skip every file (ferry says `N files were "
            "unchanged`). ratio = second / first. %s" % (self.nsmall, self.trees_detail()),
        ]
        for where, used in sorted(self.background.items()):
            notes.append("In %s, ferryd used %.1f s of CPU in all after its clients had exited (%d time(s), at most "
                         "%.1f s; the bench waited for it before the next run)." % (where, sum(used), len(used), max(used)))
        return notes + self.notes

    def trees_detail(self):
        r9 = self.results.get("9")
        if not r9 or not r9.get("unchanged"):
            return ""
        u = r9["unchanged"]
        names = {"put1": "1st put -r", "put2": "2nd put -r", "get1": "1st get -r", "get2": "2nd get -r"}
        return "Files ferry reported unchanged, run by run: %s." % "; ".join(
            "%s %s" % (names[side], "/".join(str(n) for n in u[side])) for side in ("put1", "put2", "get1", "get2") if side in u)

    def floor_detail(self):
        r1 = self.results.get("1")
        if not r1:
            return "not measured"
        parts = []
        for side, label in (("md5sum", "md5sum"), ("openssl", "openssl md5")):
            if r1.get(side):
                parts.append("%s %s" % (label, fmt_s(statistics.median(r1[side]))))
        return ", ".join(parts) or "failed"

    def reads_detail(self):
        r6 = self.results.get("6")
        if not r6 or not r6["reads"]["first"]:
            return ""
        rd = r6["reads"]
        f = statistics.median(rd["first"]) / MiB
        s = statistics.median(rd["second"]) / MiB if rd["second"] else float("nan")
        return "ferryd read %.0f MiB during the first get and %.0f MiB during the second (medians)." % (f, s)

    def details(self):
        """Every run's time, for the record."""
        lines = []
        labels = {
            "1": ["ferry", "peer", "peer_sync", "md5sum", "openssl"],
            "2": ["ferry", "peer", "peer_sync"],
            "3": ["ferry", "peer", "peer_sync"],
            "4": ["ferry", "peer", "peer_sync"],
            "5": ["ferry", "peer"],
            "6": ["first", "second"],
            "7": ["whole", "resumed"],
            "8": ["whole", "resumed"],
            "9": ["put1", "put2", "get1", "get2"],
        }
        pairs = {
            "1": [("ferry", "peer"), ("ferry", "floor"), ("ferry", "peer_sync")],
            "2": [("ferry", "peer"), ("ferry", "peer_sync")],
            "3": [("ferry", "peer"), ("ferry", "peer_sync")],
            "4": [("ferry", "peer"), ("ferry", "peer_sync")],
            "5": [("ferry", "peer")],
            "6": [("second", "first")],
            "7": [("resumed", "whole")],
            "8": [("resumed", "whole")],
            "9": [("put2", "put1"), ("get2", "get1")],
        }
        names = {"peer": "vsftpd", "peer_sync": "vsftpd+fsync", "put1": "1st put -r", "put2": "2nd put -r", "get1": "1st get -r", "get2": "2nd get -r"}
        for wid in sorted(self.results):
            res = self.results[wid]
            parts = []
            for side in labels.get(wid, []):
                name = names.get(side, side)
                if wid == "5":
                    name = {"ferry": "with idle", "peer": "alone"}[side]
                if res.get(side + "_fail"):
                    parts.append("%s FAIL (%s)" % (name, res[side + "_fail"][0][:200]))
                elif res.get(side):
                    parts.append("%s %s" % (name, " ".join("%.3f" % t for t in res[side])))
            for a, b in pairs.get(wid, []):
                rs = self.pair_detail(res, a, b)
                if rs:
                    pn = {"ferry": "with idle", "peer": "alone"} if wid == "5" else names
                    parts.append("%s/%s per run %s" % (pn.get(a, a), pn.get(b, b), rs))
            if res.get("moved_at"):
                parts.append("bytes the resumed attempt moved %s" % " ".join(str(res["moved_at"][r]) for r in sorted(res["moved_at"])))
            if res.get("cut"):
                parts.append("cut when the record claimed %s of the chunks" % " ".join("%.1f %%" % (100 * c) for c in res["cut"]))
            if res.get("kept"):
                parts.append("it claimed %s when the resumed attempt started" % " ".join("%.1f %%" % (100 * c) for c in res["kept"]))
            if wid == "5" and res.get("rss_during"):
                parts.append("ferryd RSS sampled while the sessions were idle: peak %s; threads %s" % (
                    fmt_mib(max(res["rss_during"])), "/".join(str(x) for x in res["threads_during"])))
            if res.get("sampler") and res["sampler"][0]:
                n, cost = res["sampler"]
                parts.append("the vsftpd RSS sampler took %.1f ms per sample (%d samples)" % (1000 * cost / n, n))
            lines.append("workload %s: %s" % (wid, "; ".join(parts)))
        return lines

    def render_text(self, rows):
        widths = {k: max(len(h), *(len(r[k]) for r in rows)) for k, h in self.COLS}
        out = []
        head = "  ".join(h.ljust(widths[k]) for k, h in self.COLS)
        out.append(head)
        out.append("  ".join("-" * widths[k] for k, _ in self.COLS))
        for r in rows:
            out.append("  ".join(r[k].ljust(widths[k]) for k, _ in self.COLS).rstrip())
        return out

    def render_markdown(self, rows, env, total):
        md = ["## Benchmark: ferry vs vsftpd (bench/run.sh)", ""]
        for k, v in env:
            md.append("- **%s**: %s" % (k, v))
        md.append("- **total run time**: %.0f s" % total)
        md.append("")
        md.append("| " + " | ".join(h for _, h in self.COLS) + " |")
        md.append("|" + "|".join("---" for _ in self.COLS) + "|")
        for r in rows:
            md.append("| " + " | ".join(r[k].replace("|", "\\|") for k, _ in self.COLS) + " |")
        md.append("")
        for i, n in enumerate(self.footnotes(), 1):
            md.append("%d. %s" % (i, n))
        md.append("")
        md.append("Every run (seconds):")
        md.append("")
        for line in self.details():
            md.append("- " + line)
        md.append("")
        return "\n".join(md)

    def report(self, total):
        rows = self.rows()
        env = self.environment()
        print()
        print("Ferry benchmark: ferryd/ferry vs vsftpd/curl/lftp on 127.0.0.1")
        for k, v in env:
            print("  %-8s %s" % (k + ":", v))
        print("  %-8s %.0f s" % ("total:", total))
        print()
        for line in self.render_text(rows):
            print(line)
        print()
        for i, n in enumerate(self.footnotes(), 1):
            print("%d. %s" % (i, n))
        print()
        print("Every run (seconds):")
        for line in self.details():
            print("  " + line)
        if self.out:
            with open(self.out, "w") as f:
                f.write(self.render_markdown(rows, env, total))
            print("\nMarkdown written to %s" % self.out)
        return rows

    # ---- main -------------------------------------------------------------------------------

    def run(self, only):
        t0 = time.monotonic()
        self.load_at_start = self.loadavg()
        self.current = "the smoke test"
        self.setup_data()
        os.sync()
        log("disk quiet after %.1f s" % settle_disk(self.work))
        self.start_vsftpd()
        self.start_ferryd()
        self.smoke_test()
        self.stop_ferryd()
        workloads = [
            ("1", self.w1_get),
            ("2", self.w2_put),
            ("3", self.w3_small),
            ("4", self.w4_concurrent),
            ("5", self.w5_idle),
            ("6", self.w6_twice),
            ("7", self.w7_resume_get),
            ("8", self.w8_resume_put),
            ("9", self.w9_trees),
        ]
        for wid, fn in workloads:
            if only and wid not in only:
                continue
            log("workload %s" % wid)
            self.current = "workload %s" % wid
            try:
                fn()
            except Failure as e:  # a server that would not start: that workload fails, the rest go on
                log("workload %s FAILED: %s" % (wid, e))
                self.results[wid] = dict({s + "_fail": [str(e)] for s in self.SIDES}, id=wid, reads={"first": [], "second": []})
                self.stop_ferryd()
        return self.report(time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True, help="directory with the ferry and ferryd binaries")
    ap.add_argument("--work", required=True, help="empty scratch directory (owned by the caller)")
    args = ap.parse_args()
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    if not 1 <= runs <= 50:
        sys.exit("BENCH_RUNS must be 1..50")
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    hold = float(os.environ.get("BENCH_HOLD", "3" if quick else "10"))
    if not 1 <= hold <= 600:
        sys.exit("BENCH_HOLD must be 1..600 seconds")
    out = os.environ.get("BENCH_OUT") or None
    if out:
        out = os.path.abspath(out)
    only = {w.strip() for w in os.environ.get("BENCH_ONLY", "").split(",") if w.strip()}

    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    become_subreaper()
    bench = Bench(args.bin_dir, args.work, runs, quick, hold, out)

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        rows = bench.run(only)
    finally:
        bench.cleanup()
    return 1 if any(r["result"] == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
