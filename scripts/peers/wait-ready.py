#!/usr/bin/python3
"""Waits until an AMQP 1.0 peer answers the SASL protocol header on a TCP port.

Usage: wait-ready.py HOST PORT TIMEOUT_SECONDS [PID] [--tls]

Every 200 ms: connect (through TLS with --tls, certificate not verified), send b"AMQP\\x03\\x01\\x00\\x00",
expect 8 bytes starting with b"AMQP".
Exits 0 when the peer answered, 1 on timeout, 2 when PID (the server process) exited first.
Uses only the standard library, so it runs before any peer package is importable.
"""

import os
import socket
import ssl
import sys
import time

SASL_HEADER = b"AMQP\x03\x01\x00\x00"
POLL_SECONDS = 0.2


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): look at /proc when it is there.
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().split(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        return True


def answers(host, port, tls):
    try:
        with socket.create_connection((host, port), timeout=1.0) as raw:
            sock = raw
            if tls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                sock = context.wrap_socket(raw, server_hostname=host)
            sock.settimeout(1.0)
            sock.sendall(SASL_HEADER)
            reply = b""
            while len(reply) < 8:
                chunk = sock.recv(8 - len(reply))
                if not chunk:
                    break
                reply += chunk
            return len(reply) == 8 and reply.startswith(b"AMQP")
    except OSError:
        return False


def main(argv):
    tls = "--tls" in argv
    argv = [a for a in argv if a != "--tls"]
    if len(argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 64
    host, port, timeout = argv[1], int(argv[2]), float(argv[3])
    pid = int(argv[4]) if len(argv) == 5 else None
    deadline = time.monotonic() + timeout
    while True:
        if answers(host, port, tls):
            return 0
        if pid is not None and not alive(pid):
            sys.stderr.write("process %d exited before %s:%d was ready\n" % (pid, host, port))
            return 2
        if time.monotonic() >= deadline:
            sys.stderr.write("%s:%d not ready after %.0f s\n" % (host, port, timeout))
            return 1
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
