#!/usr/bin/env python3
"""Soak: many clients against one ferryd for a while, proving that nothing is lost or leaked.

Started by bench/soak.sh (`make soak`, and the short run at the end of `make test`); see
bench/README.md, section "Soak". Python standard library, plus pyOpenSSL for TLS (Python's own `ssl`
cannot export the keying material that SCRAM-SHA-256-PLUS binds to, docs/PROTOCOL.md 5.7).

One ferryd (the binaries of --bin-dir) serves a fresh share on a free 127.0.0.1 port, TLS on as
shipped (SOAK_TLS=0: clear text). Against it, for SOAK_SECONDS:

  * SOAK_CLIENTS threads, each a protocol client written from docs/PROTOCOL.md (framing, hello,
    SCRAM-SHA-256-PLUS with the tls-exporter binding, ls/stat/get/put, fetch/upload/commit):
    - most of them loop over random sessions of random commands with a pause between them: put and
      upload of new content to paths they own, get and fetch of those paths and of the seeded
      read-only files, ls and stat, a pipelined "get -r" of a seeded tree, gets of other clients'
      paths (which must be one of the versions put there, never a torn file), and cuts: a get, fetch,
      put or upload whose connection is closed in the middle of a body, then the same transfer again,
      which must resume (fetch: only the missing chunks; upload: the chunks verified before the cut are
      held) and end byte-equal; a cut put must leave the old file as it was;
    - a few are slow readers: a get read at a few KiB/s through a small receive buffer;
    - a few log in with wrong passwords or unknown names from 127.0.0.2 (so that the ban they earn
      there does not touch the others); the answer must be auth_failed or banned, never auth_ok;
  * SOAK_FERRY threads that run the real `ferry` binary: put then get, put -r then get -r, and the
    same cut by SIGKILL in the middle and run again (it must say "resuming" and end byte-equal).

Every client keeps the SHA-256 of what it put; every get is checked against it. At the end every
path whose last put was answered `stored` is read back from the share: a file that is missing or
different is a file lost. ferryd's RSS, open descriptors and threads are sampled every
SOAK_SAMPLE_SECONDS into a CSV; "flat" is defined in flat() below. The last line printed is the
verdict; the exit status is 0 only if it says PASS.

Environment: SOAK_SECONDS (300), SOAK_CLIENTS (200), SOAK_FERRY (2), SOAK_SAMPLE_SECONDS (10),
SOAK_TLS (auto: on if pyOpenSSL imports; 1; 0), SOAK_THINK (mean pause between commands, 3 s),
SOAK_CSV (where the samples go), SOAK_DIR (parent of the work directory, /tmp), SOAK_KEEP=1 (keep it),
SOAK_FERRYD_ENV (NAME=VALUE ... for ferryd's environment, to diagnose: e.g. MALLOC_MMAP_THRESHOLD_=131072).
"""

import argparse
import base64
import collections
import ctypes
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import KiB, MiB, GiB, free_port, terminate, verified_chunks  # noqa: E402  (the benchmark's helpers)

CHUNK = 4 * MiB  # the chunk grid of feature chunks (docs/PROTOCOL.md 6.6.1)
USER = "soak"
HOST = "127.0.0.1"
ATTACKER = "127.0.0.2"  # wrong passwords come from here: the ban they earn must not hit the others
IO_TIMEOUT = 120.0  # per read or write; ferryd's own stall timeout (60 s) comes first

# "Flat" (see flat()): mean of the last third of the load <= mean of the middle third x RATIO + SLACK.
FLAT_RATIO = 1.10
FLAT_SLACK = {"rss_kib": 16 * 1024, "fds": 16, "threads": 16}
IDLE_SLACK = 4  # descriptors or threads more than before the load, once it is over


def log(msg):
    print("[soak %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def human(n):
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            return "%.2f %s" % (n / size, unit)
    return "%d B" % n


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def chunk_digests(data):
    return [hashlib.sha256(data[i:i + CHUNK]).digest() for i in range(0, len(data), CHUNK)]


def content_hash(digests):
    return hashlib.sha256(b"".join(digests)).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * MiB), b""):
            h.update(block)
    return h.hexdigest()


def ranges(indices):
    """Sorted chunk indices as the protocol's [first, count] ranges."""
    out = []
    for i in sorted(indices):
        if out and out[-1][0] + out[-1][1] == i:
            out[-1][1] += 1
        else:
            out.append([i, 1])
    return out


def proc_status(pid):
    """(VmRSS KiB, threads) of a process, from /proc/PID/status; None if it is gone."""
    rss = threads = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
    except OSError:
        return None
    return rss, threads


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def under_way(record):
    """True if a .chunks record (a 64-byte header, then a 32-byte slot per chunk, non-zero once that
    chunk is verified) claims some chunks but not all: the moment to cut a transfer."""
    try:
        total = (os.path.getsize(record) - 64) // 32
    except OSError:
        return False
    return 0 < verified_chunks(record) < total


def die_with_parent():
    """In the child before exec: SIGKILL when the harness dies, however it dies (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


# ---------------------------------------------------------------------------------------------
# the wire (docs/PROTOCOL.md 2, 1.1)


class Refused(Exception):
    """The server answered a request with an `error` frame."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code


class ProtocolError(Exception):
    pass


class Mismatch(Exception):
    """Bytes that are not the ones put (already counted as a mismatch)."""


class Aborted(Exception):
    """The soak is over; what was in flight was cut by the harness."""


def connect_socket(port, source=HOST, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source != HOST:
            s.bind((source, 0))
        s.settimeout(15)
        s.connect((HOST, port))
        s.settimeout(IO_TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s
    except BaseException:
        s.close()
        raise


class PlainLink:
    """Protocol 1: the frames in clear text."""

    tls = False

    def __init__(self, sock):
        self.sock = sock

    def sendall(self, data):
        self.sock.sendall(data)

    def recv(self, n):
        return self.sock.recv(n)


class TlsLink:
    """Protocol 2: TLS 1.3 through pyOpenSSL with memory BIOs, so that the socket keeps Python's
    timeouts, another thread can cut it with shutdown(), and a refusal the server writes in clear text
    before any TLS (busy, banned: 1.1) is read as the frame it is."""

    tls = True

    def __init__(self, sock, ctx):
        from OpenSSL import SSL

        self.SSL = SSL
        self.sock = sock
        self.conn = SSL.Connection(ctx, None)
        self.conn.set_connect_state()
        first = True
        while True:
            try:
                self.conn.do_handshake()
                break
            except SSL.WantReadError:
                self.flush()
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("the server closed the connection during the TLS handshake")
                if first and data[:2] == b"\0\0" and len(data) > 4 and data[4:5] == b"{":
                    raise self.clear_refusal(data)
                first = False
                self.conn.bio_write(data)
        self.flush()
        self.binding = self.conn.export_keying_material(b"EXPORTER-Channel-Binding", 32)

    def clear_refusal(self, data):
        buf = bytearray(data)
        while True:
            (n,) = struct.unpack(">I", buf[:4])
            if len(buf) >= 4 + n:
                msg = json.loads(bytes(buf[4:4 + n]))
                return Refused(msg.get("code"), msg.get("message"))
            more = self.sock.recv(65536)
            if not more:
                return ConnectionError("a clear-text frame cut short before TLS")
            buf += more

    def flush(self):
        while True:
            try:
                out = self.conn.bio_read(262144)
            except self.SSL.WantReadError:
                return
            if not out:
                return
            self.sock.sendall(out)

    def sendall(self, data):
        view = memoryview(data)
        for i in range(0, len(view), 262144):  # TLS records of 16 KiB; the socket gets 256 KiB at a time
            self.conn.sendall(bytes(view[i:i + 262144]))
            self.flush()

    def recv(self, n):
        while True:
            try:
                return self.conn.recv(n)
            except self.SSL.WantReadError:
                self.flush()
                data = self.sock.recv(65536)
                if not data:
                    return b""
                self.conn.bio_write(data)
            except self.SSL.ZeroReturnError:
                return b""


class Session:
    """One connection: hello, login, then commands (docs/PROTOCOL.md 3-6)."""

    def __init__(self, soak, source=HOST, rcvbuf=None):
        self.soak = soak
        self.sock = connect_socket(soak.port, source, rcvbuf)
        soak.sessions.add(self)
        try:
            self.link = TlsLink(self.sock, soak.tls_ctx) if soak.tls else PlainLink(self.sock)
        except BaseException:
            self.close(bye=False)
            raise
        soak.stats.add("connections")
        self.hello = None

    # ---- framing

    def sendall(self, data):
        self.link.sendall(data)

    def send(self, msg):
        payload = json.dumps(msg, separators=(",", ":")).encode()
        self.link.sendall(struct.pack(">I", len(payload)) + payload)

    def read_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            b = self.link.recv(n - len(buf))
            if not b:
                if self.soak.stopping.is_set():
                    raise Aborted()
                raise ConnectionError("the server closed the connection (%d of %d bytes read)" % (len(buf), n))
            buf += b
        return bytes(buf)

    def frame(self):
        (n,) = struct.unpack(">I", self.read_exact(4))
        if not 1 <= n <= 65536:
            raise ProtocolError("frame length %d" % n)
        payload = self.read_exact(n)
        if payload[:1] != b"{":
            raise ProtocolError("a frame that is not a JSON object")
        return json.loads(payload)

    def expect(self, *types):
        """The next frame, which must be one of `types`; an error frame raises Refused."""
        msg = self.frame()
        kind = msg.get("type")
        if kind == "error":
            raise Refused(msg.get("code"), msg.get("message"))
        if kind not in types:
            raise ProtocolError("expected %s, got %s" % ("/".join(types), json.dumps(msg)[:300]))
        return msg

    def body(self, size, hashers=(), keep=None, rate=None, stop_at=None):
        """Reads `size` body bytes into the hashers (and the bytearray `keep`); `rate`: bytes per second
        at most; `stop_at`: cut after that many bytes (returns what was read)."""
        left, done, t0 = size, 0, time.monotonic()
        piece = 4096 if rate else 262144
        while left > 0:
            if stop_at is not None and done >= stop_at:
                return done
            b = self.link.recv(min(left, piece))
            if not b:
                if self.soak.stopping.is_set():
                    raise Aborted()
                raise ConnectionError("the server closed the connection inside a body (%d of %d bytes)" % (done, size))
            for h in hashers:
                h.update(b)
            if keep is not None:
                keep += b
            left -= len(b)
            done += len(b)
            if rate:
                if self.soak.stopping.is_set():
                    raise Aborted()
                ahead = done / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        return done

    # ---- login (5.2, 5.3, 5.7)

    def login(self, user, password):
        """auth_ok, or Refused (auth_failed, banned, busy...)."""
        self.hello = self.expect("hello")
        tls = self.link.tls
        mechanism = "SCRAM-SHA-256-PLUS" if tls else "SCRAM-SHA-256"
        if self.hello.get("protocol") != (2 if tls else 1) or mechanism not in self.hello.get("auth", []):
            raise ProtocolError("unexpected hello %r" % self.hello)
        gs2 = b"p=tls-exporter,," if tls else b"n,,"
        nonce = base64.b64encode(os.urandom(24)).decode()
        bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), nonce)
        self.send({"type": "auth_start", "mechanism": mechanism, "message": gs2.decode() + bare})
        first = self.expect("auth_challenge")["message"]
        parts = first.split(",")
        if len(parts) < 3 or not parts[0].startswith("r=" + nonce) or len(parts[0]) <= len(nonce) + 2:
            raise ProtocolError("malformed server-first %r" % first)
        r, s, i = parts[0][2:], parts[1][2:], int(parts[2][2:])
        if i < 4096:
            raise ProtocolError("iteration count %d" % i)
        salted = self.soak.salted(password, base64.b64decode(s, validate=True), i)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        channel = gs2 + (self.link.binding if tls else b"")
        without_proof = "c=%s,r=%s" % (base64.b64encode(channel).decode(), r)
        auth = ("%s,%s,%s" % (bare, first, without_proof)).encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.send({"type": "auth_finish", "message": without_proof + ",p=" + base64.b64encode(proof).decode()})
        ok = self.expect("auth_ok")
        expected = "v=" + base64.b64encode(hmac.new(server_key, auth, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(ok.get("message", ""), expected):
            raise ProtocolError("the server's signature does not verify")
        return ok

    # ---- commands (6)

    def listing(self, path):
        self.send({"type": "ls", "path": path})
        entries = []
        while True:
            page = self.expect("listing")
            entries += page["entries"]
            if not page["more"]:
                return entries

    def get_header(self):
        while True:
            msg = self.expect("preparing", "file")
            if msg["type"] == "file":
                return msg

    def get(self, path):
        """(bytes, header) of a whole get, the body checked against the header's MD5."""
        self.send({"type": "get", "path": path})
        header = self.get_header()
        data = bytearray()
        md5 = hashlib.md5()
        self.body(header["size"], (md5,), keep=data)
        if md5.hexdigest() != header["md5"]:
            raise ProtocolError("get %s: body MD5 %s, header says %s" % (path, md5.hexdigest(), header["md5"]))
        return bytes(data), header

    def put(self, path, data):
        """Returns the `stored` reply; Refused before `ready` means nothing was sent."""
        md5 = hashlib.md5(data).hexdigest()
        self.send({"type": "put", "path": path, "size": len(data), "md5": md5})
        self.expect("ready")
        self.sendall(data)
        stored = self.expect("stored")
        if stored.get("md5") != md5 or stored.get("size") != len(data):
            raise ProtocolError("put %s: stored %r" % (path, stored))
        return stored

    def manifest(self):
        """Pages of a manifest (after any preparing frames), checked (6.6.3)."""
        digests, head = [], None
        while True:
            page = self.expect("preparing", "manifest")
            if page["type"] == "preparing":
                continue
            if page["first"] != len(digests) or page["chunk_size"] != CHUNK:
                raise ProtocolError("manifest page out of order: %r" % {k: page[k] for k in ("first", "chunk_size")})
            head = head or page
            digests += [bytes.fromhex(d) for d in page["chunks"]]
            if not page["more"]:
                break
        if len(digests) != head["chunk_count"] or head["chunk_count"] != -(-head["size"] // CHUNK):
            raise ProtocolError("manifest of %d digests for %d chunks" % (len(digests), head["chunk_count"]))
        if content_hash(digests) != head["content_hash"]:
            raise ProtocolError("manifest digests do not add up to its content hash")
        return head, digests

    def read_chunk(self, index, digests, size, keep=None, stop_at=None):
        h = self.expect("chunk")
        length = min(CHUNK, size - index * CHUNK)
        if h["index"] != index or h["size"] != length or bytes.fromhex(h["sha256"]) != digests[index]:
            raise ProtocolError("chunk header %r, expected index %d of %d bytes" % (h, index, length))
        sha = hashlib.sha256()
        got = self.body(length, (sha,), keep=keep, stop_at=stop_at)
        if got == length and sha.digest() != digests[index]:
            raise ProtocolError("chunk %d does not match its digest" % index)
        return got

    def upload_start(self, path, size, patience=60):
        """`partial` pages of an upload, held chunks as {index: sha256 hex}. A `busy` answer (the cut
        upload's old session still holds the partial, 6.6.4) is retried for `patience` seconds."""
        deadline = time.monotonic() + patience
        while True:
            self.send({"type": "upload", "path": path, "size": size})
            try:
                page = self.expect("partial")
                break
            except Refused as e:
                if e.code != "busy" or time.monotonic() > deadline or self.soak.stopping.is_set():
                    raise
                self.soak.stats.add("upload_busy_retries")
                time.sleep(0.2)
        held = {}
        while True:
            if page["chunk_size"] != CHUNK or page["chunk_count"] != -(-size // CHUNK):
                raise ProtocolError("partial grid %r" % page)
            for h in page["held"]:
                held[h["index"]] = h["sha256"]
            if not page["more"]:
                return held
            page = self.expect("partial")

    def send_chunk(self, data, index, digest, cut_at=None):
        piece = data[index * CHUNK:(index + 1) * CHUNK]
        self.send({"type": "chunk", "index": index, "size": len(piece), "sha256": digest.hex()})
        self.sendall(piece if cut_at is None else piece[:cut_at])

    def close(self, bye=True):
        try:
            if bye:
                self.send({"type": "bye"})
        except Exception:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.soak.sessions.discard(self)

    def half_close(self):
        """Cut inside a body the way a dying client does: everything sent arrives, then EOF (a FIN, not
        a reset, so that the server sees exactly where the body stopped)."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(10)
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        self.close(bye=False)

    def abort(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# what was put where


MODEL_LOCK = threading.Lock()


class Slot:
    """A remote path with one writer. `stored` is the SHA-256 of the last put answered `stored` (and
    `size` its size); `maybe` holds the versions whose outcome the writer does not know (sent, then cut
    before the answer); `history` the last 64 versions sent there, for readers other than the writer."""

    def __init__(self, path):
        self.path = path
        self.stored = None
        self.size = None
        self.maybe = {}  # SHA-256 -> size
        self.history = collections.deque(maxlen=64)

    def begin(self, sha, size):
        with MODEL_LOCK:
            self.maybe[sha] = size
            self.history.append(sha)

    def commit(self, sha):
        with MODEL_LOCK:
            self.size = self.maybe.get(sha, self.size if sha == self.stored else None)
            self.stored = sha
            self.maybe.clear()

    def abort(self, sha):
        with MODEL_LOCK:
            self.maybe.pop(sha, None)

    def acceptable(self):
        with MODEL_LOCK:
            return ({self.stored} if self.stored else set()) | set(self.maybe)

    def versions(self):
        with MODEL_LOCK:
            return set(self.history)

    def certain(self):
        return not self.maybe


class LockedSet:
    """A set that threads add to and take from at once; snapshot() is a list of what it holds now."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items = set()

    def add(self, item):
        with self._lock:
            self._items.add(item)

    def discard(self, item):
        with self._lock:
            self._items.discard(item)

    def snapshot(self):
        with self._lock:
            return list(self._items)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()
        self.errors = []  # the first few, with detail
        self.mismatches = []

    def add(self, key, n=1):
        with self.lock:
            self.c[key] += n

    def transfer(self, kind, size):
        with self.lock:
            self.c["transfers"] += 1
            self.c["transfers_" + kind] += 1
            self.c["bytes"] += size

    def error(self, what):
        self._failure("errors", self.errors, "ERROR", what)

    def mismatch(self, what):
        self._failure("mismatches", self.mismatches, "MISMATCH", what)

    def _failure(self, counter, kept, label, what):
        """Counts a failure, keeps the first 40 with their detail, and logs it."""
        with self.lock:
            self.c[counter] += 1
            if len(kept) < 40:
                kept.append(what)
        log(label + " " + what)

    def get(self, key):
        with self.lock:
            return self.c[key]


# ---------------------------------------------------------------------------------------------
# the protocol clients


class Client:
    """A protocol client: random sessions of random commands, with a pause between commands."""

    OPS = [  # (weight, method)
        (14, "op_put"),
        (10, "op_upload"),
        (16, "op_get"),
        (12, "op_fetch"),
        (8, "op_ls"),
        (5, "op_stat"),
        (3, "op_tree"),
        (8, "op_cross"),
        (1, "op_cut_get"),
        (1, "op_cut_fetch"),
        (1, "op_cut_put"),
        (1, "op_cut_upload"),
    ]

    def __init__(self, soak, index):
        self.soak = soak
        self.index = index
        self.rnd = random.Random(secrets.randbits(64))
        self.name = "c%03d" % index
        self.slots = [soak.slot("%s/s%d" % (self.name, k)) for k in range(3)]
        self.ops, weights = zip(*[(m, w) for w, m in self.OPS])
        self.cum = list(itertools.accumulate(weights))

    def pause(self):
        self.soak.stopping.wait(self.rnd.expovariate(1.0 / self.soak.think))

    def run(self):
        session = None
        while not self.soak.stopping.is_set():
            try:
                if session is None:
                    session = self.soak.login()
                    left = self.rnd.randint(1, 20)
                op = self.rnd.choices(self.ops, cum_weights=self.cum)[0]
                getattr(self, op)(session)
                left -= 1
                if left <= 0:
                    session.close(bye=self.rnd.random() < 0.7)
                    session = None
            except (Aborted, Mismatch) as e:
                if session:
                    session.close(bye=False)
                session = None
                if isinstance(e, Aborted):
                    self.soak.stats.add("aborted_at_stop")
            except Exception as e:  # noqa: BLE001 - every unexpected outcome is counted and reported
                if session:
                    session.close(bye=False)
                session = None
                if self.soak.stopping.is_set():
                    self.soak.stats.add("aborted_at_stop")
                else:
                    self.soak.stats.error("%s %s: %r" % (self.name, getattr(self, "current", "?"), e))
                    self.soak.stopping.wait(1)
            self.pause()
        if session:
            session.close()

    # ---- helpers

    def stored_slot(self):
        have = [s for s in self.slots if s.stored and s.certain()]
        return self.rnd.choice(have) if have else None

    def verify(self, what, path, data, acceptable):
        got = sha256(data)
        if got not in acceptable:
            self.soak.stats.mismatch("%s %s: %d bytes with SHA-256 %s, expected %s" % (
                what, path, len(data), got[:16], " or ".join(a[:16] for a in acceptable) or "nothing"))
            raise Mismatch()

    def new_content(self, big=False):
        return self.soak.content(self.soak.pick_size(self.rnd, big))

    # ---- the commands

    def op_put(self, s):
        self.current = "put"
        slot = self.rnd.choice(self.slots)
        data = self.new_content()
        self.put(s, slot, data)

    def put(self, s, slot, data):
        sha = sha256(data)
        md5 = hashlib.md5(data).hexdigest()
        s.send({"type": "put", "path": slot.path, "size": len(data), "md5": md5})
        try:
            s.expect("ready")
        except Refused as e:
            raise Refused(e.code, "%s (put %s of %d bytes, before ready)" % (e, slot.path, len(data)))
        slot.begin(sha, len(data))
        s.sendall(data)
        try:
            stored = s.expect("stored")
        except Refused as e:
            slot.abort(sha)  # refused after the body: nothing was stored
            raise Refused(e.code, "%s (put %s of %d bytes, after the body)" % (e, slot.path, len(data)))
        if stored.get("md5") != md5 or stored.get("size") != len(data) or stored.get("path") != slot.path:
            raise ProtocolError("put %s: stored %r" % (slot.path, stored))
        slot.commit(sha)
        self.soak.stats.transfer("put", len(data))

    def op_upload(self, s):
        self.current = "upload"
        slot = self.rnd.choice(self.slots)
        data = self.new_content(big=self.rnd.random() < 0.05)
        self.upload(s, slot, data)

    def upload(self, s, slot, data, expect_held=()):
        """A whole upload (6.6.4); `expect_held`: chunks a cut attempt sent whole, which the server must
        hold now. Returns the bytes sent."""
        held = s.upload_start(slot.path, len(data))
        digests = chunk_digests(data)
        missing = [i for i in expect_held if held.get(i) != digests[i].hex()]
        if missing:
            raise ProtocolError("upload %s resumed without chunks %s that were sent whole before the cut (held %s)"
                                % (slot.path, missing, sorted(held)))
        todo = [i for i in range(len(digests)) if held.get(i) != digests[i].hex()]
        ch = content_hash(digests)
        sha = sha256(data)
        slot.begin(sha, len(data))
        sent = 0
        for i in todo:
            s.send_chunk(data, i, digests[i])
            sent += min(CHUNK, len(data) - i * CHUNK)
        commit = {"type": "commit", "content_hash": ch}
        if self.rnd.random() < 0.5:
            commit["md5"] = hashlib.md5(data).hexdigest()
        s.send(commit)
        try:
            stored = s.expect("stored")
        except Refused:
            slot.abort(sha)  # an error answer to commit: not stored (the partial may stay)
            raise
        if stored.get("content_hash") != ch or stored.get("size") != len(data) or stored.get("path") != slot.path:
            raise ProtocolError("upload %s: stored %r" % (slot.path, stored))
        slot.commit(sha)
        self.soak.stats.transfer("upload", len(data))
        return sent

    def op_get(self, s):
        self.current = "get"
        slot = self.stored_slot()
        if slot is None:
            return self.op_put(s)
        data, _ = s.get(slot.path)
        self.verify("get", slot.path, data, slot.acceptable())
        self.soak.stats.transfer("get", len(data))

    def fetch_all(self, s, path):
        s.send({"type": "fetch", "path": path})
        head, digests = s.manifest()
        data = bytearray()
        for i in range(len(digests)):
            s.read_chunk(i, digests, head["size"], keep=data)
        return bytes(data), head

    def op_fetch(self, s):
        self.current = "fetch"
        slot = self.stored_slot()
        if slot is None or self.rnd.random() < 0.4:
            # The seeded files; the three of 4 MiB and more one time in six.
            path, want = self.rnd.choice(self.soak.pub_files[:4] if self.rnd.random() < 0.83 else self.soak.pub_files[4:])
            acceptable = {want}
        else:
            path, acceptable = slot.path, slot.acceptable()
        data, _ = self.fetch_all(s, path)
        self.verify("fetch", path, data, acceptable)
        self.soak.stats.transfer("fetch", len(data))

    def op_ls(self, s):
        self.current = "ls"
        where = self.rnd.choice([self.name, self.name, "", "pub", "pub/tree"])
        entries = s.listing(where)
        if where == self.name:  # what this client stored must be listed, at its size
            sizes = {e["name"]: e["size"] for e in entries if e["kind"] == "file"}
            for slot in self.slots:
                if slot.stored and slot.certain():
                    name = slot.path.rsplit("/", 1)[1]
                    if name not in sizes or sizes[name] != slot.size:
                        self.soak.stats.mismatch("ls %s: %s listed as %r, stored %d bytes" % (
                            where, name, sizes.get(name), slot.size))
                        raise Mismatch()
        self.soak.stats.add("ls")

    def op_stat(self, s):
        self.current = "stat"
        slot = self.stored_slot()
        if slot is None:
            return self.op_ls(s)
        s.send({"type": "stat", "path": slot.path})
        entry = s.expect("entry")["entry"]
        if entry["kind"] != "file" or entry["size"] != slot.size:
            self.soak.stats.mismatch("stat %s: %r, stored %d bytes" % (slot.path, entry, slot.size))
            raise Mismatch()
        self.soak.stats.add("stat")

    def op_tree(self, s):
        """What `ferry get -r` does (3.1.1): list the tree, then pipeline a get per file, 16 ahead."""
        self.current = "get -r"
        files, todo = [], ["pub/tree"]
        while todo:
            d = todo.pop()
            for e in s.listing(d):
                p = d + "/" + e["name"]
                if e["kind"] == "directory":
                    todo.append(p)
                elif e["kind"] == "file":
                    files.append(p)
        if sorted(files) != sorted(self.soak.tree):
            self.soak.stats.mismatch("ls -R pub/tree: %d files, seeded %d" % (len(files), len(self.soak.tree)))
            raise Mismatch()
        window, sent, got = 16, 0, 0
        while got < len(files):
            while sent < len(files) and sent - got < window:
                s.send({"type": "get", "path": files[sent]})
                sent += 1
            header = s.get_header()
            sha, md5 = hashlib.sha256(), hashlib.md5()
            s.body(header["size"], (sha, md5))
            path = files[got]
            got += 1
            if md5.hexdigest() != header["md5"] or sha.hexdigest() != self.soak.tree[path]:
                self.soak.stats.mismatch("get -r %s: SHA-256 %s, seeded %s" % (path, sha.hexdigest()[:16], self.soak.tree[path][:16]))
                raise Mismatch()
            self.soak.stats.transfer("tree", header["size"])

    def op_cross(self, s):
        """Another client's path: any version ever sent there (a put racing with this get may land
        first), never a torn or foreign file."""
        self.current = "cross get"
        other = self.soak.slots_list[self.rnd.randrange(len(self.soak.slots_list))]
        if other.path.startswith(self.name + "/"):
            return
        before, landed = other.versions(), other.stored is not None
        try:
            data, _ = s.get(other.path)
        except Refused as e:
            if e.code == "not_found" and not landed:
                return  # no put there had been answered yet
            raise
        self.verify("cross get", other.path, data, before | other.versions())
        self.soak.stats.transfer("cross", len(data))

    # ---- cuts and resumes

    def op_cut_get(self, s):
        """A get cut in the middle of its body; the same get again returns the whole file."""
        self.current = "cut get"
        path, want = self.rnd.choice(self.soak.pub_files[1:])
        c = self.soak.login()
        try:
            c.send({"type": "get", "path": path})
            header = c.get_header()
            c.body(header["size"], stop_at=self.rnd.randrange(max(1, header["size"])))
        finally:
            c.close(bye=False)  # unread bytes: the kernel answers with a reset
        self.soak.stats.add("cuts")
        data, _ = s.get(path)
        self.verify("get after a cut get", path, data, {want})
        self.soak.stats.transfer("get", len(data))
        self.soak.stats.add("resumed")

    def op_cut_fetch(self, s):
        """A fetch cut inside its second chunk; the resume asks for the manifest, checks the content
        hash, fetches only the chunks it lacks (expect + manifest false), and the whole is byte-equal."""
        self.current = "cut fetch"
        path, want = self.soak.multi
        c = self.soak.login()
        kept = {}
        try:
            c.send({"type": "fetch", "path": path})
            head, digests = c.manifest()
            buf = bytearray()
            c.read_chunk(0, digests, head["size"], keep=buf)
            kept[0] = bytes(buf)
            c.read_chunk(1, digests, head["size"], stop_at=self.rnd.randrange(1, CHUNK // 2))
        finally:
            c.close(bye=False)
        self.soak.stats.add("cuts")
        s.send({"type": "fetch", "path": path, "chunks": []})
        now, digests = s.manifest()
        if now["content_hash"] != head["content_hash"]:
            raise ProtocolError("%s changed between the cut and the resume" % path)
        lack = [i for i in range(len(digests)) if i not in kept]
        s.send({"type": "fetch", "path": path, "chunks": ranges(lack), "expect": head["content_hash"], "manifest": False})
        moved = 0
        for i in lack:
            buf = bytearray()
            moved += s.read_chunk(i, digests, head["size"], keep=buf)
            kept[i] = bytes(buf)
        data = b"".join(kept[i] for i in range(len(digests)))
        self.verify("resumed fetch", path, data, {want})
        if moved >= head["size"]:
            raise ProtocolError("resumed fetch moved %d bytes of %d" % (moved, head["size"]))
        self.soak.stats.transfer("fetch", len(data))
        self.soak.stats.add("resumed")

    def op_cut_put(self, s):
        """A put cut inside its body stores nothing: the old file is still there, whole. Then the same
        put again stores the new one."""
        self.current = "cut put"
        slot = self.rnd.choice(self.slots)
        if not slot.certain():
            return
        data = self.new_content()
        if len(data) < 2:
            return
        c = self.soak.login()
        try:
            c.send({"type": "put", "path": slot.path, "size": len(data), "md5": hashlib.md5(data).hexdigest()})
            c.expect("ready")
            c.sendall(data[:self.rnd.randrange(1, len(data))])
        finally:
            c.half_close()
        self.soak.stats.add("cuts")
        try:
            old, _ = s.get(slot.path)
            self.verify("get after a cut put", slot.path, old, {slot.stored})
        except Refused as e:
            if e.code != "not_found" or slot.stored:
                raise
        self.put(s, slot, data)
        again, _ = s.get(slot.path)
        self.verify("get after a put that followed a cut one", slot.path, again, {sha256(data)})
        self.soak.stats.transfer("get", len(again))
        self.soak.stats.add("resumed")

    def op_cut_upload(self, s):
        """An upload cut inside its second chunk; the same upload again finds chunk 0 held, sends
        the rest, and stores the file, which then reads back byte-equal."""
        self.current = "cut upload"
        slot = self.rnd.choice(self.slots)
        if not slot.certain():
            return
        data = self.soak.content(self.rnd.randrange(CHUNK + 2, 2 * CHUNK + self.soak.big_extra))
        digests = chunk_digests(data)
        c = self.soak.login()
        try:
            c.upload_start(slot.path, len(data))
            c.send_chunk(data, 0, digests[0])
            c.send_chunk(data, 1, digests[1], cut_at=self.rnd.randrange(1, min(CHUNK, len(data) - CHUNK)))
        finally:
            c.half_close()
        self.soak.stats.add("cuts")
        self.upload(s, slot, data, expect_held=[0])
        out, _ = self.fetch_all(s, slot.path)
        self.verify("fetch after a resumed upload", slot.path, out, {sha256(data)})
        self.soak.stats.transfer("fetch", len(out))
        self.soak.stats.add("resumed")


class SlowReader:
    """Gets a file at a few KiB/s through a 4 KiB receive buffer, and checks it."""

    def __init__(self, soak, index):
        self.soak, self.index = soak, index
        self.rnd = random.Random(secrets.randbits(64))

    def run(self):
        while not self.soak.stopping.is_set():
            s = None
            try:
                s = self.soak.login(rcvbuf=4096)
                path, want, size = self.soak.slow
                rate = self.rnd.uniform(4 * KiB, 12 * KiB)
                s.send({"type": "get", "path": path})
                header = s.get_header()
                sha = hashlib.sha256()
                s.body(header["size"], (sha,), rate=rate)
                if sha.hexdigest() != want:
                    self.soak.stats.mismatch("slow get %s: SHA-256 %s, seeded %s" % (path, sha.hexdigest()[:16], want[:16]))
                else:
                    self.soak.stats.transfer("slow", size)
                s.close()
            except Aborted:
                self.soak.stats.add("aborted_at_stop")
            except Exception as e:  # noqa: BLE001
                if self.soak.stopping.is_set():
                    self.soak.stats.add("aborted_at_stop")
                else:
                    self.soak.stats.error("slow reader %d: %r" % (self.index, e))
            finally:
                if s:
                    s.close(bye=False)
            self.soak.stopping.wait(self.rnd.uniform(0.5, 3))


class WrongPassword:
    """Logs in from 127.0.0.2 with a wrong password, or as a user that does not exist. Each attempt
    must be answered auth_failed (after the failed-login delay) or banned, never auth_ok."""

    def __init__(self, soak, index):
        self.soak, self.index = soak, index
        self.rnd = random.Random(secrets.randbits(64))

    def run(self):
        while not self.soak.stopping.is_set():
            user = USER if self.index % 2 == 0 else "nobody%d" % self.rnd.randrange(4)
            s = None
            try:
                s = Session(self.soak, source=ATTACKER)
                s.login(user, "wrong-" + self.soak.password[:8])
                self.soak.stats.error("wrong password for %s was accepted" % user)
            except Refused as e:
                if e.code in ("auth_failed", "banned"):
                    self.soak.stats.add("refused_" + e.code)
                elif e.code == "busy" or self.soak.stopping.is_set():
                    self.soak.stats.add("refused_busy")
                else:
                    self.soak.stats.error("wrong password for %s answered %s" % (user, e))
            except Exception as e:  # noqa: BLE001
                if not self.soak.stopping.is_set():
                    # A ban closes the address's connections that have not logged in, without a message (5.4).
                    self.soak.stats.add("refused_closed")
                    if not isinstance(e, (ConnectionError, OSError)):
                        self.soak.stats.error("wrong password for %s: %r" % (user, e))
            finally:
                if s:
                    s.close(bye=False)
            self.soak.stopping.wait(self.rnd.uniform(0.3, 1.5))


# ---------------------------------------------------------------------------------------------
# the real client


class FerryWorker:
    """Runs the `ferry` binary: put/get, put -r/get -r, and each cut by SIGKILL and run again."""

    JOBS = [(3, "job_put_get"), (2, "job_trees"), (2, "job_cut_get"), (2, "job_cut_put"), (1, "job_cut_get_r"),
            (1, "job_cut_put_r"), (1, "job_ls")]

    def __init__(self, soak, index):
        self.soak, self.index = soak, index
        self.rnd = random.Random(secrets.randbits(64))
        self.remote = "bin/w%d" % index
        self.local = os.path.join(soak.work, "local", "w%d" % index)
        os.makedirs(self.local, exist_ok=True)
        self.jobs, weights = zip(*[(m, w) for w, m in self.JOBS])
        self.cum = list(itertools.accumulate(weights))

    def run(self):
        while not self.soak.stopping.is_set():
            job = self.rnd.choices(self.jobs, cum_weights=self.cum)[0]
            try:
                getattr(self, job)()
            except Aborted:
                self.soak.stats.add("aborted_at_stop")
            except Mismatch:
                pass
            except Exception as e:  # noqa: BLE001
                if self.soak.stopping.is_set():
                    self.soak.stats.add("aborted_at_stop")
                else:
                    self.soak.stats.error("ferry worker %d %s: %s" % (self.index, job, e))
            self.soak.stopping.wait(self.rnd.uniform(0.5, 2.5))

    # ---- running ferry

    def start(self, *args):
        p = subprocess.Popen([self.soak.ferry] + self.soak.ferry_args + list(args), env=self.soak.ferry_env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.local)
        self.soak.procs.add(p)
        return p

    def finish(self, p, timeout=300):
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            self.soak.procs.discard(p)
            raise RuntimeError("ferry %s timed out" % " ".join(p.args[-3:]))
        self.soak.procs.discard(p)
        return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def ferry(self, *args):
        p = self.start(*args)
        rc, out, err = self.finish(p)
        if rc != 0:
            if self.soak.stopping.is_set() and rc < 0:
                raise Aborted()
            raise RuntimeError("ferry %s exited %d: %s" % (" ".join(args), rc, err.strip()[-400:]))
        return out, err

    def cut_and_resume(self, args, record_glob, upload=None):
        """Starts ferry and SIGKILLs it as soon as one of the .chunks records matching record_glob
        claims some chunks but not all; then runs the same command again, which must say that it
        resumes, and succeed.

        A put's records are ferryd's (`upload` names the remote path): the client sends its chunks
        without waiting, so when it dies the server still verifies what was in the socket buffers, and
        may even complete the upload. So before the second run the harness waits for ferryd to log the
        end of the first in its transfer log; if that says "ok", the cut came too late and there is
        nothing to resume (counted as such). A get's records are the client's own and hold still once
        it is dead."""
        import glob

        log_from = os.path.getsize(self.soak.transfer_log) if os.path.exists(self.soak.transfer_log) else 0
        p = self.start(*args)
        deadline = time.monotonic() + 300
        while p.poll() is None and time.monotonic() < deadline:
            if any(under_way(r) for r in glob.glob(record_glob, recursive=True)):
                p.kill()
                break
            time.sleep(0.003)
        rc, _, err = self.finish(p)
        if rc == 0:
            self.soak.stats.add("cuts_missed")  # it finished before a record showed a chunk
            return
        if rc != -signal.SIGKILL:
            raise RuntimeError("ferry %s (to be cut) exited %d: %s" % (" ".join(args), rc, err.strip()[-400:]))
        self.soak.stats.add("cuts")
        if upload and self.soak.transfer_ended(upload, log_from) == "ok":
            self.soak.stats.add("cuts_late")
            self.ferry(*args)
            return
        held = {r: verified_chunks(r) for r in glob.glob(record_glob, recursive=True)}
        _, err = self.ferry(*args)
        if any(held.values()):
            if "resuming" not in err:
                raise RuntimeError("ferry %s after a cut (%d chunks verified) did not resume: %s" % (
                    " ".join(args[:2]), sum(held.values()), err.strip()[-300:]))
            self.soak.stats.add("resumed")
        else:
            self.soak.stats.add("cuts_late")

    def write_local(self, path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def check_local(self, what, path, acceptable):
        got = sha256_file(path)
        if got not in acceptable:
            self.soak.stats.mismatch("%s %s: SHA-256 %s, expected %s" % (what, path, got[:16], " or ".join(a[:16] for a in acceptable)))
            raise Mismatch()
        return os.path.getsize(path)

    def check_remote(self, what, slot):
        """The server's copy of a path, read from the share itself."""
        got = sha256_file(os.path.join(self.soak.share, slot.path))
        if got != slot.stored:
            self.soak.stats.mismatch("%s %s on the server: SHA-256 %s, put %s" % (what, slot.path, got[:16], slot.stored[:16]))
            raise Mismatch()

    # ---- jobs

    def job_put_get(self):
        k = self.rnd.randrange(3)
        slot = self.soak.slot("%s/f%d" % (self.remote, k))
        data = self.soak.content(self.soak.pick_size(self.rnd, big=self.rnd.random() < 0.2))
        src = os.path.join(self.local, "up-f%d" % k)
        self.write_local(src, data)
        sha = sha256(data)
        slot.begin(sha, len(data))
        self.ferry("put", src, slot.path)
        slot.commit(sha)
        self.soak.stats.transfer("ferry_put", len(data))
        dst = os.path.join(self.local, "down-f%d" % k)
        self.ferry("get", slot.path, dst)
        self.soak.stats.transfer("ferry_get", self.check_local("ferry get", dst, {sha}))
        os.remove(src)
        os.remove(dst)

    def make_tree(self, name, big):
        """A local tree: new content in about half of the files each time (the rest is unchanged, so
        put -r skips them), nested directories, an empty file, and a big one when `big`."""
        root = os.path.join(self.local, "trees", name)
        files, changed = {}, set()
        for i in range(12):
            rel = ("d%d/" % (i % 3) if i % 4 else "") + "f%02d" % i
            path = os.path.join(root, rel)
            if not os.path.exists(path) or self.rnd.random() < 0.5:
                self.write_local(path, self.soak.content(0 if i == 0 else self.rnd.randrange(1, 96 * KiB)))
                changed.add(rel)
            files[rel] = sha256_file(path)
        if big:
            path = os.path.join(root, "big.bin")
            self.write_local(path, self.soak.content(self.soak.tree_big))
            files["big.bin"] = sha256_file(path)
            changed.add("big.bin")
        return root, files, changed

    def put_tree(self, name, big, cut):
        root, files, changed = self.make_tree(name, big)
        remote = "%s/%s" % (self.remote, name)
        slots = {rel: self.soak.slot(remote + "/" + rel) for rel in files}
        for rel, sha in files.items():
            slots[rel].begin(sha, os.path.getsize(os.path.join(root, rel)))
        args = ("put", "-r", root, self.remote)  # an existing remote directory: into bin/wN/NAME
        if cut:
            self.cut_and_resume(args, os.path.join(self.soak.share, remote, "**", ".ferry-upload-resume-*.chunks"),
                                upload=remote + "/big.bin")
        else:
            self.ferry(*args)
        for rel, sha in files.items():
            slots[rel].commit(sha)
            self.check_remote("put -r", slots[rel])
            if rel in changed:  # the others were unchanged, and put -r skips them
                self.soak.stats.transfer("ferry_put_r", slots[rel].size)
        return remote, slots

    def get_tree(self, remote, slots, cut):
        dst = os.path.join(self.local, "got")
        shutil.rmtree(dst, ignore_errors=True)
        os.makedirs(dst)
        args = ("get", "-r", remote, dst)  # an existing local directory: into got/NAME
        if cut:
            self.cut_and_resume(args, os.path.join(dst, "**", ".*.ferrypart.chunks"))
        else:
            self.ferry(*args)
        base = os.path.join(dst, os.path.basename(remote))
        for rel, slot in slots.items():
            self.soak.stats.transfer("ferry_get_r", self.check_local("get -r", os.path.join(base, rel), {slot.stored}))
        left = [n for _, _, fs in os.walk(dst) for n in fs if n.startswith(".")]
        if left:
            raise RuntimeError("get -r left %s" % left[:3])
        shutil.rmtree(dst)

    def job_trees(self):
        remote, slots = self.put_tree("tree%d" % self.rnd.randrange(2), big=False, cut=False)
        self.get_tree(remote, slots, cut=False)

    def job_cut_put_r(self):
        self.put_tree("cuttree", big=True, cut=True)

    def job_cut_get_r(self):
        remote, slots = self.put_tree("bigtree", big=self.rnd.random() < 0.3 or not os.path.exists(
            os.path.join(self.soak.share, self.remote, "bigtree", "big.bin")), cut=False)
        slots.update({"big.bin": self.soak.slot("%s/bigtree/big.bin" % self.remote)})
        self.get_tree(remote, slots, cut=True)

    def job_cut_get(self):
        path, want = self.soak.big
        dst = os.path.join(self.local, "big.bin")
        if os.path.exists(dst):
            os.remove(dst)
        self.cut_and_resume(("get", path, dst), os.path.join(self.local, ".big.bin.ferrypart.chunks"))
        self.soak.stats.transfer("ferry_get", self.check_local("ferry get after a cut", dst, {want}))
        os.remove(dst)

    def job_cut_put(self):
        slot = self.soak.slot("%s/big" % self.remote)
        data = self.soak.content(self.soak.big_size)
        src = os.path.join(self.local, "up-big")
        self.write_local(src, data)
        sha = sha256(data)
        slot.begin(sha, len(data))
        self.cut_and_resume(("put", src, slot.path), os.path.join(self.soak.share, self.remote, ".ferry-upload-resume-*.chunks"),
                            upload=slot.path)
        slot.commit(sha)
        self.check_remote("put after a cut", slot)
        self.soak.stats.transfer("ferry_put", len(data))
        os.remove(src)

    def job_ls(self):
        out, _ = self.ferry("ls", self.remote)
        self.soak.stats.add("ls")


# ---------------------------------------------------------------------------------------------
# the soak


class Soak:
    def __init__(self, args):
        self.bin_dir = os.path.abspath(args.bin_dir)
        self.ferry = os.path.join(self.bin_dir, "ferry")
        self.ferryd = os.path.join(self.bin_dir, "ferryd")
        self.seconds = args.seconds
        self.nclients = args.clients
        self.nferry = args.ferry
        self.interval = args.sample
        self.think = args.think
        self.csv_path = os.path.abspath(args.csv)
        self.keep = args.keep
        self.short = self.seconds < 120
        # Sizes: a short soak uses smaller big files, so that its cuts and resumes fit in 30 s.
        # A put cut by SIGKILL needs more than the socket buffers hold, or it completes anyway.
        self.big_size = (16 if self.short else 28) * MiB + 12345  # ferry get/put cut by SIGKILL
        self.tree_big = (9 if self.short else 13) * MiB + 777  # the big file of a tree cut by SIGKILL
        self.big_extra = MiB if self.short else 3 * MiB  # a cut upload: 1 chunk + this, at most
        self.password = secrets.token_hex(16)
        self.tls = args.tls
        self.tls_ctx = None
        if self.tls:
            from OpenSSL import SSL

            self.tls_ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
            self.tls_ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
        self.work = tempfile.mkdtemp(prefix="ferry-soak.", dir=args.dir)
        # soak.sh tunes this process's malloc (MALLOC_*): ferryd and ferry run as shipped, with none of
        # that, unless SOAK_FERRYD_ENV asks for something (a diagnosis: see bench/README.md).
        self.child_env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        self.ferryd_env = dict(self.child_env, **dict(kv.split("=", 1) for kv in args.ferryd_env.split()))
        self.share = os.path.join(self.work, "share")
        self.stats = Stats()
        self.stopping = threading.Event()
        self.model_lock = threading.Lock()
        self.slots = {}
        self.slots_list = []
        self.salted_keys = {}
        self.salted_lock = threading.Lock()
        self.sessions = LockedSet()  # open Python sessions, aborted at the end
        self.procs = LockedSet()  # running ferry processes, killed at the end
        self.vids = itertools.count(1)
        self.pool = os.urandom(4 * MiB + 64 * KiB)
        self.samples = []  # (t, phase, rss_kib, fds, threads): 1800 s / 10 s = 180 rows
        self.ferryd_proc = None
        self.failed = True  # until a verdict says PASS

    # ---- shared state

    def slot(self, path):
        with self.model_lock:
            s = self.slots.get(path)
            if s is None:
                s = self.slots[path] = Slot(path)
                self.slots_list.append(s)
            return s

    def transfer_ended(self, path, offset, timeout=90):
        """The `result` of the first transfer of `path` that ferryd's transfer log records after byte
        `offset` (it writes a line when a transfer ends, well or not); None if none comes in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.transfer_log, "rb") as f:
                    f.seek(offset)
                    for line in f.read().splitlines():
                        try:
                            entry = json.loads(line)
                        except ValueError:
                            break  # a line being written
                        if entry.get("path") == path and entry.get("result") != "busy":
                            return entry.get("result")
            except OSError:
                pass
            time.sleep(0.1)
        return None

    def salted(self, password, salt, iterations):
        key = (password, salt, iterations)
        with self.salted_lock:
            v = self.salted_keys.get(key)
        if v is None:
            v = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
            with self.salted_lock:
                if len(self.salted_keys) < 64:
                    self.salted_keys[key] = v
        return v

    def content(self, size):
        """New bytes no one sent before: slices of a random pool, stamped every 64 KiB with a version
        number and the offset, so that no two versions share a chunk."""
        vid = next(self.vids)
        rnd = random.Random(vid)
        buf = bytearray(size)
        top = len(self.pool) - MiB
        for pos in range(0, size, MiB):
            n = min(MiB, size - pos)
            off = rnd.randrange(top)
            buf[pos:pos + n] = self.pool[off:off + n]
        for pos in range(0, size, 64 * KiB):
            stamp = struct.pack(">QQ", vid, pos)[:size - pos]
            buf[pos:pos + len(stamp)] = stamp
        return buf

    def pick_size(self, rnd, big=False):
        if big:
            return rnd.randrange(CHUNK - 1000, 2 * CHUNK + self.big_extra)
        r = rnd.random()
        if r < 0.05:
            return 0
        if r < 0.50:
            return rnd.randrange(1, 16 * KiB)
        if r < 0.85:
            return rnd.randrange(16 * KiB, 256 * KiB)
        return rnd.randrange(256 * KiB, 2 * MiB)

    def login(self, rcvbuf=None):
        """A logged-in session as the soak user. `busy` (a connection limit) is retried for a while:
        the limits are set far above the load, so it is counted, and an error only if it lasts."""
        deadline = time.monotonic() + 30
        while True:
            s = None
            try:
                s = Session(self, rcvbuf=rcvbuf)
                s.login(USER, self.password)
                return s
            except Refused as e:
                if s:
                    s.close(bye=False)
                if e.code != "busy" or time.monotonic() > deadline or self.stopping.is_set():
                    raise
                self.stats.add("busy")
                time.sleep(0.5)
            except BaseException:
                if s:
                    s.close(bye=False)
                raise

    # ---- set-up

    def seed(self):
        """Read-only files every client may fetch, known by their SHA-256."""
        pub = os.path.join(self.share, "pub")
        os.makedirs(os.path.join(pub, "tree", "a", "b"))
        self.pub_files = []
        for name, size in (("empty", 0), ("one", 1), ("page", 4096), ("quarter", 256 * KiB), ("chunk", CHUNK),
                           ("chunk1", CHUNK + 1), ("multi", 2 * CHUNK + 99999)):
            data = os.urandom(size)
            with open(os.path.join(pub, name), "wb") as f:
                f.write(data)
            self.pub_files.append(("pub/" + name, sha256(data)))
        self.multi = self.pub_files[-1]
        self.tree = {}
        for i in range(40):
            rel = ["", "a/", "a/b/"][i % 3] + "t%02d" % i
            data = os.urandom(random.randrange(0, 48 * KiB))
            with open(os.path.join(pub, "tree", rel), "wb") as f:
                f.write(data)
            self.tree["pub/tree/" + rel] = sha256(data)
        data = os.urandom(self.big_size)
        with open(os.path.join(pub, "big"), "wb") as f:
            f.write(data)
        self.big = ("pub/big", sha256(data))
        slow = int(12 * KiB * min(60, max(8, self.seconds / 5)))
        data = os.urandom(slow)
        with open(os.path.join(pub, "slow"), "wb") as f:
            f.write(data)
        self.slow = ("pub/slow", sha256(data), slow)
        self.pub_all = dict(self.pub_files + list(self.tree.items()) + [self.big, self.slow[:2]])
        for i in range(self.nclients):
            os.makedirs(os.path.join(self.share, "c%03d" % i))
        for i in range(self.nferry):
            os.makedirs(os.path.join(self.share, "bin", "w%d" % i))

    def start_ferryd(self):
        self.port = free_port()
        self.config = os.path.join(self.work, "ferryd.ini")
        self.transfer_log = os.path.join(self.work, "transfers.log")
        with open(self.config, "w") as f:
            f.write(
                "[server]\nlisten = 127.0.0.1\nport = %d\nroot = share\n"
                # Every client comes from 127.0.0.1 (the wrong passwords from 127.0.0.2): the limits per
                # address are the only ones that could bite, so they are far above the load.
                "max_connections = 4096\nmax_connections_per_address = 4096\n"
                "max_pending_logins = 1024\nmax_pending_logins_per_address = 1024\n"
                # The wrong-password clients get 127.0.0.2 banned within seconds; a short ban lets them
                # go round again and again: failures, ban, refusals, end of the ban.
                "ban_threshold = 10\nban_window = 60\nban_duration = 5\n"
                # One JSON line per transfer: the ferry workers wait there for the end of a cut upload.
                "transfer_log = transfers.log\ncache_dir = ferry-cache\n"
                "[tls]\nenabled = %s\n" % (self.port, "true" if self.tls else "false")
            )
        r = subprocess.run([self.ferryd, "adduser", USER, "--config", self.config], input=self.password + "\n",
                           text=True, capture_output=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("ferryd adduser failed: %s" % (r.stderr or r.stdout))
        self.ferryd_log = os.path.join(self.work, "ferryd.log")
        logf = open(self.ferryd_log, "w")
        # Started before any thread: preexec_fn is safe then, and PR_SET_PDEATHSIG is tied to this
        # (the main) thread, which lives until the end.
        self.ferryd_proc = subprocess.Popen([self.ferryd, "--config", self.config], stdin=subprocess.DEVNULL, env=self.ferryd_env,
                                            stdout=logf, stderr=logf, cwd=self.work, preexec_fn=die_with_parent,
                                            start_new_session=True)
        logf.close()
        want = "listening on 127.0.0.1:%d" % self.port
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            with open(self.ferryd_log, errors="replace") as f:
                text = f.read()
            if want in text:
                break
            if self.ferryd_proc.poll() is not None:
                raise RuntimeError("ferryd exited %s at start: %s" % (self.ferryd_proc.returncode, text[-1500:]))
            time.sleep(0.05)
        else:
            raise RuntimeError("ferryd did not start within 60 s: %s" % text[-1500:])
        self.ferry_args = ["--port", str(self.port), "--user", USER, "--timeout", "120"]
        if self.tls:
            r = subprocess.run([self.ferryd, "fingerprint", "--config", self.config], capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError("ferryd fingerprint: %s" % r.stderr)
            self.ferry_args += ["--fingerprint", r.stdout.strip()]
        else:
            self.ferry_args += ["--no-tls"]
        self.ferry_env = dict(self.child_env, FERRY_PASSWORD=self.password,
                              XDG_CACHE_HOME=os.path.join(self.work, "client-cache"),
                              XDG_CONFIG_HOME=os.path.join(self.work, "client-config"))

    def stop_ferryd(self):
        """SIGTERM by PID, then SIGKILL if it lingers. Returns its exit status."""
        p = self.ferryd_proc
        if p is None:
            return None
        if terminate(p, 20):
            return "killed after 20 s"
        return p.returncode

    # ---- sampling

    def sample(self, t, phase):
        pid = self.ferryd_proc.pid
        st = proc_status(pid)
        fds = open_fds(pid)
        if st is None or fds is None or self.ferryd_proc.poll() is not None:
            return None
        me = proc_status(os.getpid())
        row = (round(t, 1), phase, st[0], fds, st[1])
        self.samples.append(row)
        with self.stats.lock:
            c = dict(self.stats.c)
        open_sessions = len(self.sessions.snapshot())
        self.csv.write("%.1f,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.2f\n" % (
            t, phase, st[0], fds, st[1], c.get("connections", 0), open_sessions, c.get("transfers", 0), c.get("bytes", 0),
            c.get("mismatches", 0), c.get("errors", 0), me[0] if me else 0, os.getloadavg()[0]))
        self.csv.flush()
        return row

    # ---- the run

    def run(self):
        t_start = time.monotonic()
        self.seed()
        self.start_ferryd()
        self.csv = open(self.csv_path, "w")
        self.csv.write("seconds,phase,ferryd_rss_kib,ferryd_fds,ferryd_threads,connections_opened,sessions_open,"
                       "transfers,bytes,mismatches,errors,harness_rss_kib,load_1m\n")
        log("ferryd pid %d on 127.0.0.1:%d, %s; %d clients (%d slow readers, %d wrong passwords) and %d ferry "
            "worker(s) for %d s; work directory %s" % (
                self.ferryd_proc.pid, self.port, "TLS" if self.tls else "clear text", self.nclients, self.nslow(),
                self.nwrong(), self.nferry, self.seconds, self.work))
        self.idle_before = self.sample(0, "idle-before")
        threading.stack_size(512 * KiB)
        threads = []
        roles = []
        for i in range(self.nclients):
            if i < self.nslow():
                roles.append(SlowReader(self, i))
            elif i < self.nslow() + self.nwrong():
                roles.append(WrongPassword(self, i))
            else:
                roles.append(Client(self, i))
        roles += [FerryWorker(self, i) for i in range(self.nferry)]
        random.shuffle(roles)
        ramp = self.ramp = min(10.0, self.seconds / 10.0)
        t0 = time.monotonic()
        self.load_start = t0
        for k, role in enumerate(roles):
            t = threading.Thread(target=role.run, name=type(role).__name__, daemon=True)
            t.start()
            threads.append(t)
            time.sleep(max(0.0, t0 + ramp * (k + 1) / len(roles) - time.monotonic()))
        end = t0 + self.seconds
        next_sample = t0 + self.interval
        next_report = t0 + (10 if self.short else 30)
        died = False
        while True:
            now = time.monotonic()
            if now >= end:
                break
            time.sleep(max(0.0, min(next_sample, next_report, end) - now))
            now = time.monotonic()
            if now >= next_sample:
                if self.sample(now - t0, "load") is None:
                    died = True
                    break
                next_sample += self.interval
            if now >= next_report:
                self.report(now - t0)
                next_report += 10 if self.short else 30
        if not died and (not self.samples or self.samples[-1][0] < time.monotonic() - t0 - 0.5) \
                and self.sample(time.monotonic() - t0, "load") is None:
            died = True
        self.elapsed = time.monotonic() - t0
        # Stop: the clients finish what they are doing (a slow read stops at once); whatever is still
        # running after the drain time is cut, and a path whose put was cut may hold either version.
        self.stopping.set()
        log("stopping the clients")
        drain = time.monotonic() + (4 if self.short else 20)
        for t in threads:
            t.join(max(0.0, drain - time.monotonic()))
        for s in self.sessions.snapshot():
            s.abort()
        for p in self.procs.snapshot():
            try:
                p.kill()
            except OSError:
                pass
        for t in threads:
            t.join(15)
        stuck = sum(t.is_alive() for t in threads)
        # ferryd notices the closed connections within moments; then it should be back at its idle level.
        idle_after = None
        if not died and self.ferryd_proc.poll() is None:
            deadline = time.monotonic() + 10
            while True:
                idle_after = self.sample(time.monotonic() - t0, "idle-after")
                if idle_after is None or time.monotonic() > deadline or (self.idle_before and
                        idle_after[4] <= self.idle_before[4] + IDLE_SLACK and idle_after[3] <= self.idle_before[3] + IDLE_SLACK):
                    break
                time.sleep(0.5)
        died = died or self.ferryd_proc.poll() is not None
        lost, checked = self.check_files()
        status = self.stop_ferryd()
        self.csv.close()
        self.total = time.monotonic() - t_start
        return self.verdict(died, status, stuck, lost, checked, idle_after)

    def nslow(self):
        return max(2, round(self.nclients * 0.03))

    def nwrong(self):
        return max(2, round(self.nclients * 0.02))

    def report(self, t):
        c = self.stats
        last = self.samples[-1] if self.samples else None
        me = proc_status(os.getpid())
        log("%4.0f s: %d transfers, %s, %d mismatches, %d errors, %d cuts, %d resumed; ferryd %s RSS, %s fds, %s threads; "
            "harness RSS %s, load %.1f" % (
                t, c.get("transfers"), human(c.get("bytes")), c.get("mismatches"), c.get("errors"), c.get("cuts"),
                c.get("resumed"), human(last[2] * KiB) if last else "?", last[3] if last else "?", last[4] if last else "?",
                human(me[0] * KiB) if me else "?", os.getloadavg()[0]))

    def check_files(self):
        """Every path whose last put was answered `stored` must hold exactly that version now (or, if
        a later put to it was cut by the stop with its whole body sent, that one). And the seeded files
        must be unchanged."""
        lost = checked = 0
        with self.model_lock:
            slots = list(self.slots_list)
        for s in slots:
            ok = s.acceptable()
            if not ok:
                continue
            checked += 1
            path = os.path.join(self.share, s.path)
            try:
                got = sha256_file(path)
            except OSError as e:
                got = "missing (%s)" % e.strerror
                if s.stored is None and e.errno == 2:
                    continue  # its only put was cut before the answer: it may never have landed
            if got not in ok:
                lost += 1
                if lost <= 20:
                    log("LOST %s: %s, put %s" % (s.path, got[:16], " or ".join(a[:16] for a in ok)))
        for path, want in self.pub_all.items():
            checked += 1
            try:
                got = sha256_file(os.path.join(self.share, path))
            except OSError as e:
                got = "missing (%s)" % e.strerror
            if got != want:
                lost += 1
                log("LOST %s (seeded): %s" % (path, got[:16]))
        return lost, checked

    def flat(self, key_index, name):
        """The means of one series over the first, middle and last third of the load (samples taken
        after the ramp), and whether it is flat: last <= middle x FLAT_RATIO + FLAT_SLACK[name].

        Why the middle third and not the first: ferryd's RSS climbs during the first minutes of a load
        however well it frees its memory. glibc gives its threads up to 16 malloc arenas on 2 cores, and
        once a large buffer (a 4 MiB chunk) has been freed it raises its mmap threshold and keeps later
        ones in those arenas instead of unmapping them; each arena then holds its high-water mark. At
        200 clients that is a plateau of several hundred MiB reached within about 3 minutes (with
        SOAK_FERRYD_ENV=MALLOC_MMAP_THRESHOLD_=131072 the same load holds ~90 MiB, flat from the start).
        The first third is that warm-up; a leak goes on growing through the middle and last thirds, and
        that is what is compared. A short soak (under 120 s) is all warm-up: its RSS slack is three
        times larger, so that only a gross leak fails it. Descriptors and threads follow the number of open connections (one
        socket and one thread each, plus files during transfers), which the load keeps level: the slack
        absorbs sampling noise, and the idle check in verdict() catches a single leaked one exactly."""
        load = [r for r in self.samples if r[1] == "load" and r[0] >= self.ramp]
        n = len(load) // 3
        if n < 1:
            return None
        first = sum(r[key_index] for r in load[:n]) / n
        middle = sum(r[key_index] for r in load[n:-n]) / len(load[n:-n])
        last = sum(r[key_index] for r in load[-n:]) / n
        slack = FLAT_SLACK[name] * (3 if self.short and name == "rss_kib" else 1)
        return first, middle, last, last <= middle * FLAT_RATIO + slack

    def verdict(self, died, status, stuck, lost, checked, idle_after):
        c = self.stats
        problems = []
        if died:
            problems.append("ferryd died (status %s); see %s" % (self.ferryd_proc.returncode, self.ferryd_log))
        elif status != 0:
            problems.append("ferryd exited %s after SIGTERM" % status)
        if c.get("mismatches"):
            problems.append("%d mismatches" % c.get("mismatches"))
        if lost:
            problems.append("%d files lost" % lost)
        if c.get("errors"):
            problems.append("%d errors" % c.get("errors"))
        if stuck:
            problems.append("%d client threads did not stop" % stuck)
        if c.get("transfers") == 0:
            problems.append("no transfer completed")
        growth = []
        for idx, name, fmt in ((2, "rss_kib", lambda v: "%.1f MiB" % (v / 1024)), (3, "fds", lambda v: "%.0f" % v),
                               (4, "threads", lambda v: "%.0f" % v)):
            f = self.flat(idx, name)
            label = {"rss_kib": "RSS", "fds": "fds", "threads": "threads"}[name]
            if f is None:
                growth.append("%s ?" % label)
                problems.append("too few samples for %s" % label)
                continue
            first, middle, last, ok = f
            growth.append("%s %s/%s/%s (last third %+.1f%% on the first, %+.1f%% on the middle)" % (
                label, fmt(first), fmt(middle), fmt(last), 100.0 * (last - first) / first if first else 0,
                100.0 * (last - middle) / middle if middle else 0))
            if not ok:
                problems.append("%s grew" % label)
        # Once every client has gone, ferryd must be back at its idle descriptors and threads: one that
        # leaked per connection or per transfer would stay. (A few threads start on first use and stay:
        # the background MD5 worker, the expiry of upload partials.)
        if idle_after and self.idle_before:
            idle = "idle before/after: fds %d/%d, threads %d/%d" % (self.idle_before[3], idle_after[3], self.idle_before[4], idle_after[4])
            if idle_after[3] > self.idle_before[3] + IDLE_SLACK or idle_after[4] > self.idle_before[4] + IDLE_SLACK:
                problems.append("ferryd did not return to its idle descriptors and threads")
        else:
            idle = "idle after: ?"
            if not died:
                problems.append("no idle sample after the load")
        scan = self.scan_log()
        log("counts: %s" % ", ".join("%s %d" % kv for kv in sorted(c.c.items())))
        log("ferryd log: %s" % scan)
        for e in c.errors[:10]:
            log("first errors: %s" % e)
        for m in c.mismatches[:10]:
            log("first mismatches: %s" % m)
        log("samples in %s; run took %.0f s in all" % (self.csv_path, self.total))
        verdict = "SOAK %s: %.0f s, %d clients + %d ferry, %s: %d transfers (%d by ferry), %s; mismatches %d; files lost %d of %d; " \
                  "errors %d; cuts %d, resumed %d; wrong passwords refused %d; %s; %s%s" % (
                      "FAIL" if problems else "PASS", self.elapsed, self.nclients, self.nferry, "TLS" if self.tls else "clear text",
                      c.get("transfers"), sum(v for k, v in c.c.items() if k.startswith("transfers_ferry")), human(c.get("bytes")),
                      c.get("mismatches"), lost, checked, c.get("errors"), c.get("cuts"), c.get("resumed"),
                      c.get("refused_auth_failed") + c.get("refused_banned") + c.get("refused_closed"),
                      ", ".join(growth) + (" flat" if not any("grew" in p for p in problems) else ""), idle,
                      ("; " + "; ".join(problems)) if problems else "")
        self.failed = bool(problems)
        print(verdict, flush=True)
        return 1 if problems else 0

    def scan_log(self):
        """ferryd's warnings and errors, grouped (names and numbers taken out), for the record."""
        counts = collections.Counter()
        levels = collections.Counter()
        try:
            with open(self.ferryd_log, errors="replace") as f:
                for line in f:
                    m = re.search(r" (trace|debug|info|notice|warning|error|critical) ", line)
                    level = m.group(1) if m else "other"
                    levels[level] += 1
                    if level in ("warning", "error", "critical", "other"):
                        text = line[m.end():] if m else line
                        counts["%s: %s" % (level, re.sub(r"[0-9a-f]{8,}|\d+(\.\d+)?", "N", text.strip())[:120])] += 1
        except OSError:
            return "unreadable"
        top = "; ".join("%dx %s" % (n, t) for t, n in counts.most_common(6))
        return "%s%s" % (", ".join("%s %d" % kv for kv in sorted(levels.items())), (" | " + top) if top else "")

    def cleanup(self):
        self.stopping.set()
        for p in self.procs.snapshot():
            try:
                p.kill()
            except OSError:
                pass
        for s in self.sessions.snapshot():
            s.abort()
        if self.ferryd_proc is not None and self.ferryd_proc.poll() is None:
            self.stop_ferryd()
        if self.keep:
            log("kept %s" % self.work)
        else:
            if self.failed:  # ferryd's log and transfer log go next to the CSV, for the post-mortem
                for name in ("ferryd.log", "transfers.log"):
                    keep = os.path.splitext(self.csv_path)[0] + "." + name
                    try:
                        shutil.copyfile(os.path.join(self.work, name), keep)
                        log("kept %s" % keep)
                    except OSError:
                        pass
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True, help="directory with the ferry and ferryd binaries")
    env = os.environ.get
    ap.add_argument("--seconds", type=float, default=float(env("SOAK_SECONDS", "300")))
    ap.add_argument("--clients", type=int, default=int(env("SOAK_CLIENTS", "200")))
    ap.add_argument("--ferry", type=int, default=int(env("SOAK_FERRY", "2")), help="concurrent ferry binaries")
    ap.add_argument("--sample", type=float, default=float(env("SOAK_SAMPLE_SECONDS", "10")))
    ap.add_argument("--think", type=float, default=float(env("SOAK_THINK", "3")))
    ap.add_argument("--csv", default=env("SOAK_CSV", "/tmp/ferry-soak-samples.csv"))
    ap.add_argument("--dir", default=env("SOAK_DIR", "/tmp"))
    ap.add_argument("--tls", default=env("SOAK_TLS", "auto"), choices=["auto", "1", "0"])
    ap.add_argument("--ferryd-env", default=env("SOAK_FERRYD_ENV", ""), help="NAME=VALUE ... added to ferryd's environment")
    args = ap.parse_args()
    args.keep = env("SOAK_KEEP", "") not in ("", "0")
    if args.tls == "auto":
        import importlib.util

        args.tls = importlib.util.find_spec("OpenSSL") is not None
        if not args.tls:
            log("pyOpenSSL is not installed: clear text (protocol 1) this time; `pip install pyopenssl` for TLS")
            args.tls = False
    else:
        args.tls = args.tls == "1"
    if args.seconds < 10 or args.clients < 10 or args.ferry < 0 or args.sample <= 0:
        sys.exit("soak: SOAK_SECONDS >= 10, SOAK_CLIENTS >= 10, SOAK_FERRY >= 0, SOAK_SAMPLE_SECONDS > 0")
    for b in ("ferry", "ferryd"):
        if not os.access(os.path.join(args.bin_dir, b), os.X_OK):
            sys.exit("soak: %s/%s not found or not executable" % (args.bin_dir, b))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    soak = Soak(args)

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    # A watchdog: whatever hangs, the run ends (and ferryd is stopped) well after it should have.
    limit = args.seconds + 180

    def watchdog():
        time.sleep(limit)
        log("the run passed %.0f s: giving up" % limit)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watchdog, daemon=True).start()
    rc = 1
    try:
        rc = soak.run()
    except (SystemExit, KeyboardInterrupt) as e:
        print("SOAK FAIL: interrupted (%s)" % getattr(e, "code", "SIGINT"), flush=True)
        rc = 1
    except Exception as e:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        print("SOAK FAIL: %r" % e, flush=True)
        rc = 1
    finally:
        soak.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
