"""Only members get the bytes: access tickets on the peer wire, end to end.

A raw client (Python's ssl, with key pairs of its own) logs in to the tracker
as a member, gets real tickets from `file_info`, and talks to a real seeder's
peer port:
- with a valid ticket it gets the handshake, the bitfield and piece 0 (the
  control: what the other cases are refused is really there to get);
- with no ticket, junk, a forged one (signed by another key), an expired
  one, another file's, or one issued to another key (stolen), nothing of the
  file comes back: not a handshake, not a bitfield;
- a raw plaintext client gets nothing either;
- a former member is refused at the tracker at once and by every seeder
  once its last ticket expires, and a live link whose ticket expires
  unrenewed is closed, while a link that sends a renewed ticket goes on;
- a new cluster key (rotated as SECURITY.md says) is refused by gsd naming
  both keys until the trackers file pins it, and then works;
- a non-member posing as a seeder (on the port of a listed seeder that
  died) is never asked for a piece: gsd refuses its handshake, whatever
  ticket it shows, and the download completes from the real seeder with
  identical bytes.
"""

import os
import socket
import sqlite3
import ssl
import struct
import threading
import time
import unittest

import tlsclient
from harness import wait_until
from peerwire import RawMember, ask_for_piece0, frame, handshake, make_ticket, read_frame
from test_transfer import PIECE, TransferCase, digest, make_file

TTL = 10  # ticket_ttl_seconds: the tracker's smallest


class TicketCase(TransferCase):
    TRACKER_TOML = f"ticket_ttl_seconds = {TTL}\n"

    def seeded(self, sizes=(3 * PIECE + 100,), extra_toml=""):
        """A seeder (owner of g) sharing one file per size; the files' paths."""
        self.owner = self.member("s", extra_toml=extra_toml)
        paths = []
        for i, size in enumerate(sizes):
            p = make_file(os.path.join(self.sb.dir, f"f{i}.bin"), size, seed=i + 1)
            self.owner.ok("upload_file", p, "g")
            paths.append(p)
        return paths

    def raw_member(self, user, identity=None):
        m = RawMember(self.sb.trackers[0].port, user, identity or tlsclient.Identity())
        self.addCleanup(m.close)
        self.assertTrue(m.call("join_group", token=m.token, group="g")["ok"])
        self.owner.ok("accept_request", "g", user)
        return m

    def first_piece(self, path):
        with open(path, "rb") as f:
            return f.read(PIECE)


class Tickets(TicketCase):
    def test_only_a_valid_ticket_of_the_connecting_daemon_gets_anything(self):
        f0, f1 = self.seeded(sizes=(3 * PIECE + 100, PIECE + 7))
        mal = self.raw_member("mal")
        other = tlsclient.Identity()
        ticket, file_id = mal.ticket("g", "f0.bin")
        ticket1, _ = mal.ticket("g", "f1.bin")
        port = self.owner.port

        # The control: the same client, with its own valid ticket, gets the bytes.
        got, piece = ask_for_piece0(port, file_id, ticket, mal.identity)
        self.assertEqual(got[0][:8], b"gs-peer\x01")
        self.assertEqual(piece, self.first_piece(f0))
        # The seeder proved its membership: a ticket for f0 held by its key.
        seeder_ticket = got[0][58:]
        self.assertEqual(seeder_ticket[:4], b"gst1")
        self.assertIn(b"\x01s\x01g" + file_id, seeder_ticket)

        forger = tlsclient.Identity()
        holder = mal.identity.public_key()
        expires = int(time.time()) + 300
        refused = {
            "no ticket": (b"", mal.identity),
            "junk": (os.urandom(64), mal.identity),
            "forged": (make_ticket("mal", "g", file_id, holder, expires, forger), mal.identity),
            "another file's": (ticket1, mal.identity),
            "stolen (another daemon's)": (ticket, other),
            "one byte changed": (ticket[:-1] + bytes([ticket[-1] ^ 1]), mal.identity),
        }
        for what, (t, identity) in refused.items():
            got, piece = ask_for_piece0(port, file_id, t, identity)
            self.assertEqual(got, [], f"{what}: the seeder sent {got[:1]!r}")
            self.assertIsNone(piece, what)
        log = self.owner.log()
        self.assertIn("ticket refused", log)

        # Over plaintext, to the TLS port: nothing comes back but a close.
        got, piece = ask_for_piece0(port, file_id, ticket, None, tls=False)
        self.assertEqual(got, [])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(frame(handshake(file_id, ticket)))
            s.settimeout(5)
            data = b""
            try:
                while len(data) < 1 << 16:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionError, socket.timeout):
                pass
            self.assertNotIn(b"gs-peer", data)

        # The seeder still serves the member after all that.
        got, piece = ask_for_piece0(port, file_id, ticket, mal.identity)
        self.assertEqual(piece, self.first_piece(f0))

    def test_an_expired_ticket_is_refused_and_an_unrenewed_link_is_closed_a_renewed_one_goes_on(self):
        f0, = self.seeded(sizes=(4 * PIECE,))
        mal = self.raw_member("mal")
        ticket, file_id = mal.ticket("g", "f0.bin")
        issued = time.time()
        port = self.owner.port

        def open_link(t):
            s = tlsclient.connect(port, timeout=5.0, identity=mal.identity)
            s.sendall(frame(handshake(file_id, t)))
            self.assertEqual(read_frame(s)[:8], b"gs-peer\x01")
            self.assertEqual(read_frame(s)[:1], b"\x01")  # bitfield
            return s

        stale = open_link(ticket)
        renewed = open_link(ticket)
        self.addCleanup(stale.close)
        self.addCleanup(renewed.close)
        # Halfway through its life: a new ticket from the tracker, sent as TICKET.
        mal.wait(TTL / 2)
        fresh, _ = mal.ticket("g", "f0.bin")
        self.assertNotEqual(fresh, ticket)
        renewed.sendall(frame(b"\x07" + fresh))
        # Past the first ticket's expiry: the stale link is closed by the seeder.
        # (It renews its own ticket meanwhile: TICKET frames come first.)
        stale.settimeout(TTL + 5)
        renewals = 0
        for _ in range(100):
            f = read_frame(stale)
            if f is None:
                break
            self.assertIn(f[:1], (b"\x07", b""), "the seeder sent more than renewals and keep-alives")
            renewals += f[:1] == b"\x07"
        self.assertIsNone(f, "the seeder kept a link whose ticket expired")
        self.assertGreaterEqual(renewals, 1, "the seeder never renewed its own ticket")
        closed_at = time.time()
        self.assertLess(closed_at - issued, TTL + 4)
        self.assertIn("ticket expired", self.owner.log())
        # The renewed link is served past that expiry.
        renewed.sendall(frame(b"\x03" + struct.pack(">I", 1)))
        renewed.settimeout(10)
        while True:
            f = read_frame(renewed)
            self.assertIsNotNone(f, "the seeder closed a link whose ticket was renewed")
            if f[:1] == b"\x04":
                break
        self.assertEqual(f[5:], _read(f0, 1))
        # A new link with the expired ticket: nothing.
        wait_until(lambda: time.time() > issued + TTL + 1, timeout=TTL + 5)
        got, piece = ask_for_piece0(port, file_id, ticket, mal.identity)
        self.assertEqual(got, [])

    def test_a_former_member_is_refused_at_the_tracker_and_at_every_seeder_within_a_ticket_lifetime(self):
        f0, = self.seeded()
        s2 = self.member("s2", owner=self.owner)
        s2.ok("upload_file", f0, "g")
        mal = self.raw_member("mal")
        ticket, file_id = mal.ticket("g", "f0.bin")
        issued = time.time()
        for seeder in (self.owner, s2):
            _, piece = ask_for_piece0(seeder.port, file_id, ticket, mal.identity)
            self.assertEqual(piece, self.first_piece(f0), seeder.name)
        left = mal.call("leave_group", token=mal.token, group="g")
        self.assertTrue(left["ok"], left)
        # At the tracker: at once.
        refused = mal.ticket("g", "f0.bin")
        self.assertIsInstance(refused, dict)
        self.assertEqual(refused["error"], "not_member")
        # At every seeder: once the last ticket it got has expired.
        wait_until(lambda: time.time() > issued + TTL + 1, timeout=TTL + 5)
        for seeder in (self.owner, s2):
            got, piece = ask_for_piece0(seeder.port, file_id, ticket, mal.identity)
            self.assertEqual(got, [], seeder.name)


class ClusterKey(TicketCase):
    def test_a_new_cluster_key_is_refused_naming_both_until_the_trackers_file_pins_it(self):
        f0, = self.seeded()
        wait_until(lambda: "cluster's ticket key is" in self.owner.log(), what="gsd pinning the cluster key")
        k1 = RawMember(self.sb.trackers[0].port, "k1", tlsclient.Identity())
        k1.close()
        first = k1.cluster_key.hex()
        self.assertIn(f"cluster_key={first}", self.owner.log())
        # Rotation as SECURITY.md says: stop the trackers, drop the key, start.
        t = self.sb.trackers[0]
        t.stop()
        db = sqlite3.connect(os.path.join(t.state_dir, "tracker.db"), timeout=10)
        with db:
            db.execute("DELETE FROM cluster_key")
        db.close()
        t.start()
        self.sb.wait_primary()
        k2 = RawMember(t.port, "k2", tlsclient.Identity())
        k2.close()
        second = k2.cluster_key.hex()
        self.assertNotEqual(first, second)
        # gsd refuses the trackers now, saying which key is which.
        r = self.owner.ctl("list_groups", timeout=60)
        self.assertNotEqual(r.returncode, 0)
        wait_until(lambda: second in self.owner.log() and "names the cluster key" in self.owner.log(),
                   what="gsd to refuse the new cluster key")
        line = [l for l in self.owner.log().splitlines() if "names the cluster key" in l][-1]
        self.assertIn(first, line)
        self.assertIn("cluster_key=", line)
        # Written in the trackers file, the new key is the one gsd takes.
        with open(self.sb.trackers_file, "a") as f:
            f.write(f"cluster_key={second}\n")
        self.owner.stop()
        self.owner.start()
        wait_until(lambda: self.owner.ctl("list_groups").returncode == 0, timeout=30,
                   what="gsd to use the trackers again")
        # And tickets signed by it work: a member downloads from the seeder.
        leech = self.member("l", owner=self.owner)
        out = os.path.join(self.sb.dir, "out")
        os.mkdir(out)
        leech.ok("download_file", "g", "f0.bin", out)
        self.wait_complete(leech, "f0.bin")
        self.assertEqual(digest(os.path.join(out, "f0.bin")), digest(f0))


def _read(path, index):
    with open(path, "rb") as f:
        f.seek(index * PIECE)
        return f.read(PIECE)


class Impostor(TicketCase):
    TTL = 60  # sessions: a killed seeder stays listed for the whole test

    def test_a_non_member_posing_as_a_seeder_never_delivers_a_byte(self):
        # Capped, so the downloads last long enough to meet the impostor.
        f0, = self.seeded(sizes=(6 * PIECE + 3,), extra_toml="max_upload_rate = 2097152\n")
        victim = self.member("s2", owner=self.owner)
        victim.ok("upload_file", f0, "g")
        port = victim.port
        # The listed seeder dies; a non-member takes its port. It has a key
        # of its own, a real ticket got for another key (mal's, a member's),
        # and a forged one; it shows one of them to each downloader.
        mal = self.raw_member("mal")
        stolen, file_id = mal.ticket("g", "f0.bin")
        impostor_id = tlsclient.Identity()
        forged = make_ticket("s2", "g", file_id, impostor_id.public_key(), int(time.time()) + 300,
                             tlsclient.Identity())
        victim.kill9()
        modes = [b"", stolen, forged]
        seen = {"handshakes": 0, "requests": 0, "modes": set()}
        stop = threading.Event()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(16)
        listener.settimeout(0.2)
        ctx = impostor_id.server_context()

        def serve_one(conn):
            try:
                with ctx.wrap_socket(conn, server_side=True) as s:
                    s.settimeout(5)
                    if read_frame(s) is None:
                        return
                    i = seen["handshakes"]
                    seen["handshakes"] += 1
                    seen["modes"].add(i % len(modes))
                    s.sendall(frame(handshake(file_id, modes[i % len(modes)], seat=b"\x66" * 16)))
                    s.sendall(frame(b"\x01" + b"\xff" * 1))  # "has" pieces 0-7 (7 pieces: bits past the end unset)
                    while not stop.is_set():
                        f = read_frame(s)
                        if f is None:
                            return
                        if f[:1] == b"\x03":
                            seen["requests"] += 1
                            s.sendall(frame(f[:1].replace(b"\x03", b"\x04") + f[1:5] + b"\0" * PIECE))
            except (OSError, ssl.SSLError):
                pass

        def accept_loop():
            deadline = time.time() + 120
            while not stop.is_set() and time.time() < deadline:
                try:
                    conn, _ = listener.accept()
                except socket.timeout:
                    continue
                except OSError:
                    return
                threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

        t = threading.Thread(target=accept_loop, daemon=True)
        t.start()
        self.addCleanup(listener.close)
        self.addCleanup(stop.set)

        # Three downloaders: between them, every kind of impostor answer.
        leechers = [self.member(f"l{i}", owner=self.owner) for i in range(3)]
        dests = []
        for i, leecher in enumerate(leechers):
            out = os.path.join(self.sb.dir, f"out{i}")
            os.mkdir(out)
            leecher.ok("download_file", "g", "f0.bin", out)
            dests.append(os.path.join(out, "f0.bin"))
        for leecher, dest in zip(leechers, dests):
            self.wait_complete(leecher, "f0.bin", timeout=90)
            self.assertEqual(digest(dest), digest(f0))
        wait_until(lambda: len(seen["modes"]) == len(modes), timeout=30,
                   what="every kind of impostor answer to have been tried")
        self.assertGreaterEqual(seen["handshakes"], len(modes))
        self.assertEqual(seen["requests"], 0, "a downloader asked the impostor for a piece")
        logs = "".join(l.log() for l in leechers)
        self.assertIn("its ticket is refused", logs)


if __name__ == "__main__":
    unittest.main()
