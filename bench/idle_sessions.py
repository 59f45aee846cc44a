#!/usr/bin/env python3
"""Hold N logged-in, idle Ferry sessions open for a while, then close them all.

Part of the benchmark (bench/run.sh, workload 5). Python standard library only.

It speaks just enough of the Ferry protocol (docs/PROTOCOL.md) to log in: frames are a 4-byte
big-endian length and one UTF-8 JSON object; login is SCRAM-SHA-256 (RFC 5802/7677) without channel
binding. The server's signature is checked, as the protocol requires.

Every session runs as a small state machine on one epoll selector, so N sockets need one thread.
SaltedPassword is computed once per salt and reused (all logins of one user share the salt), so
logging in a thousand sessions costs a thousand HMACs, not a thousand PBKDF2 runs.

Protocol on stdout, for the caller:
    READY <n> <seconds>        all n sessions are logged in (after <seconds>); the hold starts now
    DONE alive=<a> closed=<c>  the hold is over; <a> sessions were still open, <c> had been closed
Exit status: 0 if every session logged in and stayed open for the whole hold, 1 otherwise.

Usage: idle_sessions.py --port P --user U --password-env VAR --sessions N --hold SECONDS
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import resource
import selectors
import socket
import struct
import sys
import time

MAX_FRAME = 65536


def frame(obj):
    payload = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return struct.pack(">I", len(payload)) + payload


class ProtocolError(Exception):
    pass


class Session:
    """One connection: connect -> hello -> auth_start -> challenge -> auth_finish -> auth_ok -> idle."""

    def __init__(self, index, address, user, keys):
        self.index = index
        self.address = address
        self.user = user
        self.keys = keys  # shared dict: salt bytes + iterations -> SaltedPassword
        self.sock = None
        self.state = "connecting"
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.client_nonce = base64.b64encode(os.urandom(18)).decode("ascii")
        self.client_first_bare = "n=%s,r=%s" % (self.escaped_user(), self.client_nonce)
        self.auth_message = None
        self.salted = None
        self.error = None

    def escaped_user(self):
        return self.user.replace("=", "=3D").replace(",", "=2C")

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        err = self.sock.connect_ex(self.address)
        if err not in (0, 115, 11):  # 0, EINPROGRESS, EAGAIN
            raise OSError(err, os.strerror(err))

    def frames(self):
        while len(self.inbuf) >= 4:
            (n,) = struct.unpack(">I", self.inbuf[:4])
            if n == 0 or n > MAX_FRAME:
                raise ProtocolError("bad frame length %d" % n)
            if len(self.inbuf) < 4 + n:
                return
            payload = bytes(self.inbuf[4 : 4 + n])
            del self.inbuf[: 4 + n]
            yield json.loads(payload.decode("utf-8"))

    def handle(self, msg):
        kind = msg.get("type")
        if kind == "error":
            raise ProtocolError("server error %s: %s" % (msg.get("code"), msg.get("message")))
        if self.state == "hello":
            if kind != "hello" or msg.get("protocol") != 1:
                raise ProtocolError("unexpected first frame %r" % msg)
            if "SCRAM-SHA-256" not in msg.get("auth", []):
                raise ProtocolError("server offers no SCRAM-SHA-256")
            self.outbuf += frame(
                {"type": "auth_start", "mechanism": "SCRAM-SHA-256", "message": "n,," + self.client_first_bare}
            )
            self.state = "challenge"
        elif self.state == "challenge":
            if kind != "auth_challenge":
                raise ProtocolError("expected auth_challenge, got %r" % msg)
            server_first = msg["message"]
            attrs = dict(part.split("=", 1) for part in server_first.split(","))
            nonce, salt_b64, iterations = attrs["r"], attrs["s"], int(attrs["i"])
            if not nonce.startswith(self.client_nonce) or len(nonce) <= len(self.client_nonce):
                raise ProtocolError("server nonce does not extend ours")
            if iterations < 4096:
                raise ProtocolError("iteration count %d below 4096" % iterations)
            salt = base64.b64decode(salt_b64, validate=True)
            key = (salt, iterations)
            if key not in self.keys["salted"]:
                self.keys["salted"][key] = hashlib.pbkdf2_hmac("sha256", self.keys["password"], salt, iterations)
            self.salted = self.keys["salted"][key]
            final_without_proof = "c=biws,r=" + nonce
            self.auth_message = ",".join([self.client_first_bare, server_first, final_without_proof]).encode("utf-8")
            client_key = hmac.new(self.salted, b"Client Key", hashlib.sha256).digest()
            stored_key = hashlib.sha256(client_key).digest()
            signature = hmac.new(stored_key, self.auth_message, hashlib.sha256).digest()
            proof = bytes(a ^ b for a, b in zip(client_key, signature))
            self.outbuf += frame(
                {"type": "auth_finish", "message": final_without_proof + ",p=" + base64.b64encode(proof).decode()}
            )
            self.state = "ok"
        elif self.state == "ok":
            if kind != "auth_ok":
                raise ProtocolError("expected auth_ok, got %r" % msg)
            server_key = hmac.new(self.salted, b"Server Key", hashlib.sha256).digest()
            expected = "v=" + base64.b64encode(hmac.new(server_key, self.auth_message, hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(expected, msg.get("message", "")):
                raise ProtocolError("server signature does not verify")
            self.state = "idle"
        else:
            raise ProtocolError("unexpected message while idle: %r" % msg)

    def on_readable(self):
        data = self.sock.recv(65536)
        if not data:
            raise ProtocolError("server closed the connection in state %s" % self.state)
        self.inbuf += data
        for msg in self.frames():
            self.handle(msg)

    def on_writable(self):
        if self.state == "connecting":
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, os.strerror(err))
            self.state = "hello"
            return
        if self.outbuf:
            sent = self.sock.send(self.outbuf)
            del self.outbuf[:sent]

    def events(self):
        if self.state == "connecting" or self.outbuf:
            return selectors.EVENT_WRITE | selectors.EVENT_READ
        return selectors.EVENT_READ

    def close(self, say_bye):
        if self.sock is None:
            return
        if say_bye:
            try:
                self.sock.setblocking(True)
                self.sock.settimeout(1.0)
                self.sock.sendall(frame({"type": "bye"}))
            except OSError:
                pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.sock = None


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 64
    if soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(max(want, soft), hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-env", default="FERRY_PASSWORD", help="environment variable holding the password")
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--hold", type=float, default=10.0, help="seconds to hold the sessions once all are logged in")
    ap.add_argument("--login-deadline", type=float, default=60.0, help="give up if not all are in after this")
    ap.add_argument("--parallel", type=int, default=64, help="logins in flight at once")
    args = ap.parse_args()
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        sys.exit("idle_sessions: refusing a non-loopback host")
    password = os.environ.get(args.password_env)
    if password is None:
        sys.exit("idle_sessions: $%s is not set" % args.password_env)

    raise_fd_limit(args.sessions)
    keys = {"password": password.encode("utf-8"), "salted": {}}
    address = (args.host, args.port)
    sel = selectors.DefaultSelector()
    pending = [Session(i, address, args.user, keys) for i in range(args.sessions)]
    pending.reverse()
    in_flight = {}
    idle = []
    failed = []
    t0 = time.monotonic()

    def register(s):
        sel.register(s.sock, s.events(), s)

    # Phase 1: log everything in, at most `parallel` logins at a time (bounded by the deadline).
    while (pending or in_flight) and time.monotonic() - t0 < args.login_deadline:
        while pending and len(in_flight) < args.parallel:
            s = pending.pop()
            try:
                s.start()
                register(s)
                in_flight[s.index] = s
            except OSError as e:
                s.error = str(e)
                failed.append(s)
        for key, mask in sel.select(timeout=0.5):
            s = key.data
            try:
                if mask & selectors.EVENT_WRITE:
                    s.on_writable()
                if mask & selectors.EVENT_READ and s.sock is not None and s.state != "connecting":
                    s.on_readable()
            except (OSError, ProtocolError, ValueError, KeyError) as e:
                s.error = str(e)
                sel.unregister(s.sock)
                s.close(False)
                del in_flight[s.index]
                failed.append(s)
                continue
            if s.state == "idle":
                del in_flight[s.index]
                sel.modify(s.sock, selectors.EVENT_READ, s)
                idle.append(s)
            else:
                sel.modify(s.sock, s.events(), s)

    login_time = time.monotonic() - t0
    if failed or pending or in_flight:
        reasons = {}
        for s in failed:
            reasons[s.error] = reasons.get(s.error, 0) + 1
        print(
            "idle_sessions: %d of %d logged in after %.1f s; %d failed, %d unfinished; %s"
            % (len(idle), args.sessions, login_time, len(failed), len(pending) + len(in_flight), reasons),
            file=sys.stderr,
        )
        print("FAILED logged_in=%d" % len(idle), flush=True)
        for s in idle + list(in_flight.values()):
            s.close(False)
        return 1

    print("READY %d %.3f" % (len(idle), login_time), flush=True)

    # Phase 2: hold. An idle session should receive nothing; anything readable means the server
    # sent an error (e.g. a timeout) or closed the connection.
    closed = 0
    end = time.monotonic() + args.hold
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(timeout=min(left, 1.0)):
            s = key.data
            try:
                data = s.sock.recv(65536)
            except OSError:
                data = b""
            sel.unregister(s.sock)
            s.close(False)
            closed += 1
            if data:
                print("idle_sessions: session %d got %r" % (s.index, data[:120]), file=sys.stderr)
    alive = len(idle) - closed
    print("DONE alive=%d closed=%d" % (alive, closed), flush=True)
    for s in idle:
        s.close(True)
    sel.close()
    return 0 if closed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
