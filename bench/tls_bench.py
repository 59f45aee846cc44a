#!/usr/bin/env python3
"""TLS rows of the benchmark (issue 10): ferry over protocol 2 against vsftpd FTPS + curl and OpenSSH
sftp, on 127.0.0.1, with servers this script starts on free ports and stops at the end.

    bench/tls_bench.py --bin .build-bench/release [--runs 3] [--size-mib 1024] [--sessions 1000] [--out FILE]

Rows (each a median of --runs, the sides alternating, page cache warm, every received file compared
with its source afterwards, outside the timing):
  T1  get of a random file: `ferry get` (TLS 1.3, MD5 verified, fsynced, renamed) vs `curl --ssl-reqd -k`
      from vsftpd with ssl_enable=YES (TLS 1.3, no verification, no fsync) vs `sftp -b` from an sshd of
      the script's own (no verification beyond SSH's MAC).
  T2  put of the same file, the same three ways (ferry: verified, fsynced and renamed before `stored`).
  T3  1000 idle TLS sessions, logged in with SCRAM-SHA-256-PLUS and held (pyOpenSSL threads): ferryd's
      RSS; and a `ferry get` of the file beside them vs alone.
Needs vsftpd, openssh-server, openssh-client, curl, openssl (Debian) and pyOpenSSL (PyPI); bench/run-tls.sh
installs what is missing. Loopback only.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

USER, PASSWORD = "bench", "bench-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("%s exited at start" % what)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("%s did not listen on %d" % (what, port))


def same_file(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 22), fb.read(1 << 22)
            if x != y:
                return False
            if not x:
                return True


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="ferry-tls-bench-")
        os.chmod(self.work, 0o755)
        self.procs = []
        self.bin = os.path.abspath(args.bin)

    def run(self, cmd, env=None, check=True, timeout=900):
        started = time.monotonic()
        p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
        took = time.monotonic() - started
        if check and p.returncode != 0:
            raise SystemExit("%s failed: %s" % (" ".join(cmd[:3]), p.stderr.decode()[-500:]))
        return took

    def spawn(self, cmd, **kw):
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        shutil.rmtree(self.work, ignore_errors=True)

    # ---- servers -----------------------------------------------------------------------------

    def setup(self):
        w = self.work
        self.share, self.ftp, self.home, self.dst = (os.path.join(w, d) for d in ("share", "ftp", "home", "dst"))
        for d in (self.share, self.ftp, self.home, self.dst):
            os.makedirs(d)
        self.src = os.path.join(self.share, "big.bin")
        with open(self.src, "wb") as f:
            for _ in range(self.args.size_mib):
                f.write(os.urandom(1 << 20))
        os.link(self.src, os.path.join(self.ftp, "big.bin"))
        os.link(self.src, os.path.join(self.home, "big.bin"))
        os.makedirs(os.path.join(self.ftp, "up"))
        os.chmod(os.path.join(self.ftp, "up"), 0o777)
        os.chmod(self.ftp, 0o555)
        # A TLS certificate for vsftpd.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", os.path.join(w, "ftps.key"), "-out", os.path.join(w, "ftps.crt"), "-days", "2",
                        "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)

    def start_ferryd(self):
        self.ferryd_port = free_port()
        conf = os.path.join(self.work, "config.ini")
        with open(conf, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1\nport = %d\nroot = share\nmax_connections = 4096\n"
                    "max_connections_per_address = 4096\nmax_pending_logins = 4096\nmax_pending_logins_per_address = 4096\n"
                    % self.ferryd_port)
        subprocess.run([os.path.join(self.bin, "ferryd"), "adduser", USER, "--config", conf], input=PASSWORD + "\n",
                       text=True, check=True, capture_output=True)
        out = subprocess.run([os.path.join(self.bin, "ferryd"), "fingerprint", "--config", conf], text=True,
                             check=True, capture_output=True)
        self.fingerprint = out.stdout.strip()
        log = open(os.path.join(self.work, "ferryd.log"), "w")
        self.ferryd = self.spawn([os.path.join(self.bin, "ferryd"), "--config", conf, "--log-level", "warning"],
                                 stdout=log, stderr=log)
        wait_port(self.ferryd_port, self.ferryd, "ferryd")

    def start_vsftpd(self):
        self.ftp_port = free_port()
        empty = os.path.join(self.work, "empty")
        os.makedirs(empty)
        conf = os.path.join(self.work, "vsftpd.conf")
        lines = ["listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", "listen_port=%d" % self.ftp_port,
                 "background=NO", "anonymous_enable=YES", "local_enable=NO", "no_anon_password=YES",
                 "anon_root=%s" % self.ftp, "write_enable=YES", "anon_upload_enable=YES", "anon_umask=022",
                 "secure_chroot_dir=%s" % empty, "seccomp_sandbox=NO", "pasv_enable=YES", "pasv_address=127.0.0.1",
                 "connect_from_port_20=NO", "xferlog_enable=NO", "pam_service_name=vsftpd", "ftp_username=ftp",
                 "ssl_enable=YES", "allow_anon_ssl=YES", "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES",
                 "rsa_cert_file=%s" % os.path.join(self.work, "ftps.crt"),
                 "rsa_private_key_file=%s" % os.path.join(self.work, "ftps.key"),
                 "ssl_sslv2=NO", "ssl_sslv3=NO", "require_ssl_reuse=NO", "ssl_ciphers=HIGH", ""]
        with open(conf, "w") as f:
            f.write("\n".join(lines))
        log = open(os.path.join(self.work, "vsftpd.log"), "w")
        self.vsftpd = self.spawn(["vsftpd", conf], stdout=log, stderr=log)
        wait_port(self.ftp_port, self.vsftpd, "vsftpd")

    def start_sshd(self):
        self.ssh_port = free_port()
        w = self.work
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(w, "host_key")], check=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(w, "user_key")], check=True)
        auth = os.path.join(w, "authorized_keys")
        shutil.copy(os.path.join(w, "user_key.pub"), auth)
        os.chmod(auth, 0o600)
        conf = os.path.join(w, "sshd_config")
        with open(conf, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nPasswordAuthentication no\n"
                    "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nPidFile %s\n"
                    "Subsystem sftp internal-sftp\n" % (self.ssh_port, os.path.join(w, "host_key"), auth, os.path.join(w, "sshd.pid")))
        os.makedirs("/run/sshd", exist_ok=True)
        log = open(os.path.join(w, "sshd.log"), "w")
        self.sshd = self.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", conf], stdout=log, stderr=log)
        wait_port(self.ssh_port, self.sshd, "sshd")

    # ---- one side of a row -------------------------------------------------------------------

    def ferry(self, *args):
        env = dict(os.environ, FERRY_PASSWORD=PASSWORD)
        return self.run([os.path.join(self.bin, "ferry"), "--port", str(self.ferryd_port), "--user", USER,
                         "--fingerprint", self.fingerprint, "--quiet"] + list(args), env=env)

    def curl(self, *args):
        return self.run(["curl", "-sS", "--ssl-reqd", "-k", "--tlsv1.3"] + list(args))

    def sftp(self, command):
        batch = os.path.join(self.work, "batch")
        with open(batch, "w") as f:
            f.write(command + "\n")
        return self.run(["sftp", "-q", "-b", batch, "-P", str(self.ssh_port), "-i", os.path.join(self.work, "user_key"),
                         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                         "root@127.0.0.1"])

    def ftp_url(self, path):
        return "ftp://127.0.0.1:%d/%s" % (self.ftp_port, path)

    def fresh(self, path):
        if os.path.exists(path):
            os.unlink(path)
        subprocess.run(["sync"])
        return path

    def row_get(self):
        out = os.path.join(self.dst, "got.bin")
        sides = {
            "ferry": lambda: self.ferry("get", "big.bin", self.fresh(out)),
            "vsftpd FTPS + curl": lambda: self.curl("-o", self.fresh(out), self.ftp_url("big.bin")),
            "OpenSSH sftp": lambda: self.sftp("get %s %s" % (os.path.join(self.home, "big.bin"), self.fresh(out))),
        }
        return self.alternate(sides, lambda side: same_file(self.src, out))

    def row_put(self):
        targets = {
            "ferry": os.path.join(self.share, "put.bin"),
            "vsftpd FTPS + curl": os.path.join(self.ftp, "up", "put.bin"),
            "OpenSSH sftp": os.path.join(self.home, "put.bin"),
        }
        sides = {
            "ferry": lambda: self.ferry("put", self.src, "put.bin"),
            "vsftpd FTPS + curl": lambda: self.curl("-T", self.src, self.ftp_url("up/put.bin")),
            "OpenSSH sftp": lambda: self.sftp("put %s %s" % (self.src, targets["OpenSSH sftp"])),
        }
        for path in targets.values():
            if os.path.exists(path):
                os.unlink(path)

        def verified(side):
            ok = same_file(self.src, targets[side])
            os.unlink(targets[side])
            subprocess.run(["sync"])
            return ok
        return self.alternate(sides, verified)

    def alternate(self, sides, verify):
        times = {name: [] for name in sides}
        for name, fn in sides.items():  # warm-up, not counted
            fn()
            if not verify(name):
                raise SystemExit("%s: received file differs" % name)
        for _ in range(self.args.runs):
            for name, fn in sides.items():
                times[name].append(fn())
                if not verify(name):
                    raise SystemExit("%s: received file differs" % name)
        return {name: statistics.median(t) for name, t in times.items()}, times

    # ---- idle sessions -----------------------------------------------------------------------

    def idle_sessions(self):
        from OpenSSL import SSL

        salted = {}
        ready, failed, stop = [], [], threading.Event()
        lock = threading.Lock()

        def one(index):
            try:
                raw = socket.create_connection(("127.0.0.1", self.ferryd_port), timeout=60)
                raw.settimeout(None)  # pyOpenSSL wants a blocking socket
                ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
                ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
                conn = SSL.Connection(ctx, raw)
                conn.set_connect_state()
                conn.do_handshake()

                def send(msg):
                    data = json.dumps(msg).encode()
                    conn.sendall(struct.pack(">I", len(data)) + data)

                def recv():
                    head = b""
                    while len(head) < 4:
                        head += conn.recv(4 - len(head))
                    (n,) = struct.unpack(">I", head)
                    body = b""
                    while len(body) < n:
                        body += conn.recv(n - len(body))
                    return json.loads(body)

                hello = recv()
                assert hello["protocol"] == 2 and "SCRAM-SHA-256-PLUS" in hello["auth"], hello
                binding = conn.export_keying_material(b"EXPORTER-Channel-Binding", 32)
                gs2 = b"p=tls-exporter,,"
                nonce = base64.b64encode(os.urandom(18)).decode()
                bare = "n=%s,r=%s" % (USER, nonce)
                send({"type": "auth_start", "mechanism": "SCRAM-SHA-256-PLUS", "message": gs2.decode() + bare})
                first = recv()["message"]
                fields = dict(part.split("=", 1) for part in first.split(","))
                key = (fields["s"], fields["i"])
                with lock:
                    if key not in salted:
                        salted[key] = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
                    sp = salted[key]
                client_key = hmac.new(sp, b"Client Key", hashlib.sha256).digest()
                stored = hashlib.sha256(client_key).digest()
                without = "c=%s,r=%s" % (base64.b64encode(gs2 + binding).decode(), fields["r"])
                auth = ("%s,%s,%s" % (bare, first, without)).encode()
                proof = bytes(a ^ b for a, b in zip(client_key, hmac.new(stored, auth, hashlib.sha256).digest()))
                send({"type": "auth_finish", "message": without + ",p=" + base64.b64encode(proof).decode()})
                ok = recv()
                assert ok["type"] == "auth_ok", ok
                with lock:
                    ready.append(conn)
                stop.wait()
                send({"type": "bye"})
                conn.close()
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    failed.append(repr(e))

        threading.stack_size(256 * 1024)
        before = rss_kib(self.ferryd.pid)
        threads = []
        for i in range(self.args.sessions):
            t = threading.Thread(target=one, args=(i,), daemon=True)
            t.start()
            threads.append(t)
            if i % 50 == 49:
                time.sleep(0.05)
        deadline = time.monotonic() + 120
        while len(ready) + len(failed) < self.args.sessions and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        held = rss_kib(self.ferryd.pid)
        out = os.path.join(self.dst, "beside.bin")
        beside = [self.ferry("get", "big.bin", self.fresh(out)) for _ in range(self.args.runs)]
        ok = same_file(self.src, out)
        stop.set()
        for t in threads:
            t.join(10)
        time.sleep(1)
        alone = [self.ferry("get", "big.bin", self.fresh(out)) for _ in range(self.args.runs)]
        return {"sessions": len(ready), "failed": failed[:3], "failures": len(failed), "rss_before_kib": before,
                "rss_held_kib": held, "get_beside": statistics.median(beside), "get_alone": statistics.median(alone),
                "verified": ok}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="directory with release builds of ferry and ferryd")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--out", help="also write the table (Markdown) here")
    args = ap.parse_args()
    b = Bench(args)
    try:
        b.setup()
        b.start_ferryd()
        b.start_vsftpd()
        b.start_sshd()
        get, get_all = b.row_get()
        put, put_all = b.row_put()
        idle = b.idle_sessions()
    finally:
        b.stop()
    f, v, s = "ferry", "vsftpd FTPS + curl", "OpenSSH sftp"
    lines = [
        "TLS rows: %d MiB random file, %d runs each (median), loopback, %s" % (args.size_mib, args.runs, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
        "",
        "| row | ferry | vsftpd FTPS + curl | OpenSSH sftp | ferry / FTPS | ferry / sftp | targets |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        "| T1 get (TLS, verified) | %.2f s | %.2f s | %.2f s | %.2f | %.2f | <= 0.8, <= 0.5 |" % (get[f], get[v], get[s], get[f] / get[v], get[f] / get[s]),
        "| T2 put (TLS, verified, atomic) | %.2f s | %.2f s | %.2f s | %.2f | %.2f | <= 1.0, <= 0.5 |" % (put[f], put[v], put[s], put[f] / put[v], put[f] / put[s]),
        "| T3 %d idle TLS sessions: ferryd RSS | %.1f MiB (%.1f MiB before) | | | | | <= 150 MiB |" % (idle["sessions"], idle["rss_held_kib"] / 1024, idle["rss_before_kib"] / 1024),
        "| T3 get beside them vs alone | %.2f s vs %.2f s (%.2f) | | | | | <= 1.0 |" % (idle["get_beside"], idle["get_alone"], idle["get_beside"] / idle["get_alone"]),
        "",
        "All runs (s): get %s; put %s. Idle-session logins that failed: %d %s" % (
            json.dumps({k: [round(x, 2) for x in t] for k, t in get_all.items()}),
            json.dumps({k: [round(x, 2) for x in t] for k, t in put_all.items()}), idle["failures"], idle["failed"]),
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0 if idle["verified"] and idle["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
