"""Hostile bytes on every port and on the control socket: the connection that
sent them is closed with a log line; the process and everyone else go on."""

import json
import os
import socket
import ssl
import stat
import struct
import time
import unittest

import tlsclient
from harness import GsTestCase, wait_until

GARBAGE = [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\xff\xff\xff\xff" + b"A" * 64,                 # header claims 4 GiB
    struct.pack(">I", 10) + b"not json!!",           # frame of non-JSON
    struct.pack(">I", 2) + b"[]",                    # JSON, but not an object
    os.urandom(4096),
    b"",                                             # connect and close
]


def send_and_drain(addr, payload, family=socket.AF_INET, timeout=5.0, tls=False):
    """Sends bytes (inside TLS with tls=True), reads until the peer closes or
    the timeout; returns what came back."""
    got = b""
    if tls:
        s = tlsclient.connect(addr[1], timeout=timeout)
    else:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
    try:
        if not tls:
            s.connect(addr)
        if payload:
            s.sendall(payload)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError, ssl.SSLError):
        pass
    finally:
        s.close()
    return got


def frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


class Garbage(GsTestCase):
    def setUp(self):
        super().setUp()
        self.a = self.logged_in("a", "alice")
        self.a.ok("create_group", "g")

    def still_works(self):
        self.assertTrue(self.sb.trackers[0].alive())
        self.assertTrue(self.a.alive())
        self.assertEqual([g["group"] for g in self.a.json("list_groups")], ["g"])

    def test_tracker_port(self):
        t = self.sb.trackers[0]
        # Garbage where the TLS handshake should be, and inside TLS.
        for g in GARBAGE:
            self.assertEqual(send_and_drain(("127.0.0.1", t.port), g, timeout=3), b"")
            send_and_drain(("127.0.0.1", t.port), g, timeout=3, tls=True)
        # A wrong protocol version gets an answer saying so, then a close.
        reply = send_and_drain(("127.0.0.1", t.port),
                               frame({"hello": "gs-tracker", "version": 999}), timeout=3, tls=True)
        self.assertIn(b"bad_version", reply)
        # After a good handshake, a malformed request is answered, not fatal.
        reply = send_and_drain(("127.0.0.1", t.port),
                               frame({"hello": "gs-tracker", "version": 1}) +
                               frame({"id": 1, "op": "login", "user": 5}), timeout=3, tls=True)
        self.assertIn(b"bad_request", reply)
        self.still_works()
        wait_until(lambda: "closing" in t.log(), what="a log line about the closed connection")

    def test_daemon_peer_port(self):
        for g in GARBAGE:
            self.assertEqual(send_and_drain(("127.0.0.1", self.a.port), g, timeout=3), b"")
            send_and_drain(("127.0.0.1", self.a.port), g, timeout=3, tls=True)
        self.still_works()

    def test_control_socket(self):
        sock = self.a.socket
        for g in [b"not json\n", b"[1,2]\n", b'{"cmd": 5}\n', b'{"cmd":"nope","args":{}}\n',
                  b"\x00\xff\xfe\n", b'{"cmd":"login","args":{"user":"x"}}\n',
                  b"{" * 100000 + b"\n", b"x" * (2 << 20)] + GARBAGE:
            reply = send_and_drain(sock, g, family=socket.AF_UNIX, timeout=3)
            if reply:
                answer = json.loads(reply.splitlines()[0])
                self.assertFalse(answer["ok"])
                self.assertIn(answer["error"], ("bad_request", "unknown_command"))
        self.still_works()

    def test_control_socket_is_private(self):
        mode = stat.S_IMODE(os.stat(self.a.socket).st_mode)
        self.assertEqual(mode, 0o600)


if __name__ == "__main__":
    unittest.main()
