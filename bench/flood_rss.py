#!/usr/bin/env python3
"""Floods a running ferryd with connections that each ask for a login challenge and wait, closes them
all, and prints ferryd's resident memory after each flood; at the end, what glibc's allocator holds
(mallinfo2 through gdb: bytes in use, bytes free inside its arenas, arena size).

Answers one question (issue 9): does RSS that grows over floods and stays up come from a leak (bytes
in use grow) or from the allocator keeping freed memory (bytes free in the arenas grow)?

    ferryd --config CONFIG &        # max_pending_logins(_per_address) raised, max_connections 4096
    bench/flood_rss.py --port PORT --pid PID --floods 11

Connections come from 127.0.0.2-21, so that per-address limits are spread; loopback only.
"""
import argparse
import json
import socket
import struct
import subprocess
import time


def frame(obj):
    payload = json.dumps(obj).encode()
    return struct.pack(">I", len(payload)) + payload


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return -1


def mallinfo_mib(pid):
    fields = ["uordblks", "fordblks", "arena"]
    command = ["gdb", "-p", str(pid), "-batch"] + sum((["-ex", "print (long)mallinfo2().%s" % f] for f in fields), [])
    out = subprocess.run(command, capture_output=True, text=True).stdout
    values = [int(line.split("=")[1]) / (1 << 20) for line in out.splitlines() if line.startswith("$")]
    return dict(zip(["in use", "free in arenas", "arenas"], values))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--floods", type=int, default=11)
    args = parser.parse_args()
    print("start: rss %d MiB" % rss_mib(args.pid))
    for flood in range(args.floods):
        count = 1500 + (flood * 100) % 1100
        held = []
        for index in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.%d" % (2 + index % 20), 0))
            sock.connect(("127.0.0.1", args.port))
            message = "n,,n=demo,r=flood%d" % index
            sock.sendall(frame({"type": "auth_start", "mechanism": "SCRAM-SHA-256", "message": message}))
            held.append(sock)
        time.sleep(1.0)
        for sock in held:
            sock.close()
        time.sleep(1.5)
        print("flood %2d: %d connections, all closed: rss %d MiB" % (flood + 1, count, rss_mib(args.pid)), flush=True)
    info = mallinfo_mib(args.pid)
    print("glibc malloc: " + ", ".join("%s %.1f MiB" % item for item in info.items()))


if __name__ == "__main__":
    main()
