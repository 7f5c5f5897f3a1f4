"""Limits with config keys: connections per source address at the tracker
and at gsd's peer port, and piece requests queued per peer. Every limit is
set small here; going over it closes the newcomer (or the peer), and the
log says so once, not once per event."""

import os
import socket
import ssl
import struct
import time
import unittest

import tlsclient
from harness import recv_frame, send_frame, wait_until
from peerwire import RawMember
from peerwire import handshake as peer_handshake
from test_transfer import PIECE, TransferCase, digest, make_file


def try_tls(port):
    """A TLS connection to 127.0.0.1:port, or None when the far end closed
    it before the handshake ended (a refused connection)."""
    try:
        return tlsclient.connect(port, timeout=5.0)
    except (OSError, ssl.SSLError):
        return None


def open_many(port, n):
    """n connections one after the other: (the live ones, how many refused)."""
    live, refused = [], 0
    for _ in range(n):
        s = try_tls(port)
        if s is None:
            refused += 1
        else:
            live.append(s)
    return live, refused


def has_room(port):
    s = try_tls(port)
    if s is None:
        return False
    s.close()
    return True


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def lines_with(log, fragment):
    return [line for line in log.splitlines() if fragment in line]


def peer_frame(payload):
    return struct.pack(">I", len(payload)) + payload


def recv_peer_frame(sock):
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            raise EOFError
        head += chunk
    (size,) = struct.unpack(">I", head)
    data = b""
    while len(data) < size:
        chunk = sock.recv(min(1 << 20, size - len(data)))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class TrackerPerAddress(TransferCase):
    TRACKER_TOML = "max_connections_per_address = 4\n"

    def test_connections_over_the_per_address_limit_are_closed_and_logged_once(self):
        tracker = self.sb.trackers[0]
        d = self.member("alice")  # its link to the tracker is one of the 4
        live, refused = open_many(tracker.port, 12)
        try:
            self.assertEqual(len(live), 3, tracker.log()[-2000:])
            self.assertEqual(refused, 9)
            # The ones let in are served.
            for s in live:
                send_frame(s, {"hello": "gs-tracker", "version": 1})
                self.assertIsInstance(recv_frame(s), dict)
            # gsd's link is one of them, and still works.
            d.ok("create_group", "g2")
            self.assertIn("g2", d.ok("list_groups"))
        finally:
            close_all(live)
        over = lines_with(tracker.log(), "max_connections_per_address")
        self.assertEqual(len(over), 1, "\n".join(over))
        self.assertIn("refusing connection from 127.0.0.1", over[0])
        self.assertIn("max_connections_per_address (4)", over[0])
        # Room again once those are gone: a second daemon logs in.
        wait_until(lambda: has_room(tracker.port), timeout=5, what="room at the tracker")
        self.member("bob", owner=d)
        d.ok("list_groups")


class PeerPortPerAddress(TransferCase):
    def test_peer_connections_over_the_per_address_limit_are_closed_and_logged_once(self):
        seeder = self.member("s", extra_toml="max_peer_connections_per_address = 3\n")
        src = make_file(os.path.join(self.sb.dir, "f.bin"), 3 * PIECE + 77)
        seeder.ok("upload_file", src, "g")
        live, refused = open_many(seeder.port, 10)
        try:
            self.assertEqual(len(live), 3, seeder.log()[-2000:])
            self.assertEqual(refused, 7)
        finally:
            close_all(live)
        over = lines_with(seeder.log(), "max_peer_connections_per_address")
        self.assertEqual(len(over), 1, "\n".join(over))
        self.assertIn("refusing peer connection from 127.0.0.1", over[0])
        self.assertIn("max_peer_connections_per_address (3)", over[0])
        # A real downloader from the same address still gets the file.
        leech = self.member("l", owner=seeder)
        dest = os.path.join(self.sb.dir, "out")
        os.mkdir(dest)
        leech.ok("download_file", "g", "f.bin", dest, "--wait")
        self.assertEqual(digest(os.path.join(dest, "f.bin")), digest(src))


class PendingRequests(TransferCase):
    def test_a_peer_queueing_more_requests_than_the_limit_is_closed(self):
        seeder = self.member("s", extra_toml="max_pending_requests_per_peer = 8\n")
        src = make_file(os.path.join(self.sb.dir, "p.bin"), 24 * PIECE)
        seeder.ok("upload_file", src, "g")
        # A member's raw client, with the ticket the tracker gives it.
        raw = RawMember(self.sb.trackers[0].port, "raw", tlsclient.Identity())
        self.addCleanup(raw.close)
        self.assertTrue(raw.call("join_group", token=raw.token, group="g")["ok"])
        seeder.ok("accept_request", "g", "raw")
        ticket, file_id = raw.ticket("g", "p.bin")

        def handshake():
            s = tlsclient.connect(seeder.port, timeout=10.0, identity=raw.identity)
            s.sendall(peer_frame(peer_handshake(file_id, ticket)))
            self.assertTrue(recv_peer_frame(s).startswith(b"gs-peer"))
            self.assertEqual(recv_peer_frame(s)[0], 1)  # BITFIELD
            return s

        # Within the limit: served in full.
        s = handshake()
        try:
            s.sendall(b"".join(peer_frame(b"\x03" + struct.pack(">I", i)) for i in range(8)))
            for _ in range(8):
                self.assertEqual(recv_peer_frame(s)[0], 4)  # PIECE
        finally:
            s.close()

        # 24 requests at once: 2 go into the output, 22 would wait: closed.
        s = handshake()
        received = 0
        try:
            s.sendall(b"".join(peer_frame(b"\x03" + struct.pack(">I", i)) for i in range(24)))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(1 << 20)
                except (ConnectionResetError, ssl.SSLError):
                    break
                if not chunk:
                    break
                received += len(chunk)
            else:
                self.fail("the peer over the limit was not closed")
        finally:
            s.close()
        self.assertLess(received, 24 * PIECE)
        over = lines_with(seeder.log(), "max_pending_requests_per_peer")
        self.assertEqual(len(over), 1, "\n".join(over))
        self.assertIn("max_pending_requests_per_peer (8)", over[0])
        # The seeder still serves a real downloader.
        leech = self.member("l", owner=seeder)
        dest = os.path.join(self.sb.dir, "out")
        os.mkdir(dest)
        leech.ok("download_file", "g", "p.bin", dest, "--wait")
        self.assertEqual(digest(os.path.join(dest, "p.bin")), digest(src))


if __name__ == "__main__":
    unittest.main()
