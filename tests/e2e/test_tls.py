"""TLS 1.3 on every link, with keys pinned instead of certificates checked.

- openssl s_client and Python's ssl see TLS 1.3 on the tracker's port and on
  gsd's peer port, and the tracker proves the key `gs-tracker --print-key`
  prints; a plaintext client gets nothing back.
- Key files are made on first start, private (0600), and kept.
- A tracker pinned in the trackers file (key=HEX) to another key than its
  own is refused by gsd with an error that names both keys; one trusted on
  first use that later shows another key is refused the same way.
- A tracker whose own line pins another key will not start.
- tls = false on both sides works and says so loudly in the logs.
"""

import os
import stat
import subprocess
import unittest

import tlsclient
from harness import TRACKER_BIN, GsTestCase, recv_frame, send_frame, wait_until


def print_key(tracker):
    r = subprocess.run([TRACKER_BIN, tracker.sb_trackers_file, str(tracker.index), "--print-key",
                        "--state-dir", tracker.state_dir], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def s_client(port):
    """What `openssl s_client` says of a handshake with 127.0.0.1:port."""
    cert, key = tlsclient.client_identity()
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief",
                        "-cert", cert, "-key", key],
                       input="", capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


class Tls(GsTestCase):
    def setUp(self):
        super().setUp()
        for t in self.sb.trackers:
            t.sb_trackers_file = self.sb.trackers_file

    def test_every_port_speaks_tls_1_3_and_proves_its_key(self):
        t = self.sb.trackers[0]
        d = self.sb.daemon("alice")
        # Logged in: gsd's peer port serves only then.
        d.ok("create_user", "alice", "pw-secret")
        d.ok("login", "alice", "pw-secret")
        for port in (t.port, d.port):
            out = s_client(port)
            self.assertIn("Protocol version: TLSv1.3", out, out)
        key = print_key(t)
        self.assertRegex(key, r"^[0-9a-f]{64}$")
        with tlsclient.connect(t.port) as s:
            self.assertEqual(s.version(), "TLSv1.3")
            self.assertEqual(tlsclient.server_key(s), key)
            send_frame(s, {"hello": "gs-tracker", "version": 1})
            self.assertEqual(recv_frame(s)["hello"], "gs-tracker")
        # The same hello in plaintext gets nothing back.
        with tlsclient.connect(t.port, tls=False) as s:
            send_frame(s, {"hello": "gs-tracker", "version": 1})
            try:
                self.assertEqual(s.recv(100), b"")
            except ConnectionResetError:
                pass
        # Key files: made on first start, private, and the tracker's in its log.
        for path in (os.path.join(t.state_dir, "tracker.key"), os.path.join(d.state_dir, "gsd.key")):
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, path)
        self.assertIn(f"(TLS, key {key})", t.log())

    def test_a_tracker_with_another_key_than_the_pinned_one_is_refused_naming_both(self):
        t = self.sb.trackers[0]
        real = print_key(t)
        wrong = "ab" * 32
        pinned = os.path.join(self.sb.dir, "pinned.txt")
        with open(pinned, "w") as f:
            f.write(f"127.0.0.1 {t.port} key={wrong}\n")
        d = self.sb.daemon("alice")
        d.stop()
        d.argv[d.argv.index("--trackers") + 1] = pinned
        d.start()
        r = d.ctl("create_user", "alice", "pw-secret", timeout=60)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        rows = d.json("trackers")
        self.assertFalse(rows[0]["reachable"], rows)
        self.assertIn(real, rows[0]["error"], rows)
        self.assertIn(wrong, rows[0]["error"], rows)
        wait_until(lambda: real in d.log() and wrong in d.log(), what="the refusal in gsd's log")
        # The right key pinned: it works.
        d.stop()
        with open(pinned, "w") as f:
            f.write(f"127.0.0.1 {t.port} key={real}\n")
        d.start()
        d.ok("create_user", "alice", "pw-secret")

    def test_trust_on_first_use_then_another_key_is_refused(self):
        t = self.sb.trackers[0]
        first = print_key(t)
        d = self.sb.daemon("alice")
        d.ok("create_user", "alice", "pw-secret")
        wait_until(lambda: "trusted on first use" in d.log(), what="gsd pinning the key")
        # The tracker gets a new key pair (its key file lost); gsd refuses it.
        t.stop()
        os.unlink(os.path.join(t.state_dir, "tracker.key"))
        t.start()
        second = print_key(t)
        self.assertNotEqual(first, second)
        rows = d.json("trackers")
        self.assertFalse(rows[0]["reachable"], rows)
        self.assertIn(second, rows[0]["error"], rows)
        self.assertIn(first, rows[0]["error"], rows)
        r = d.ctl("login", "alice", "pw-secret", timeout=60)
        self.assertNotEqual(r.returncode, 0)

    def test_a_tracker_pinned_to_another_key_in_its_own_line_does_not_start(self):
        t = self.sb.trackers[0]
        t.stop()
        with open(self.sb.trackers_file, "w") as f:
            f.write(f"127.0.0.1 {t.port} key={'cd' * 32}\n")
        r = subprocess.run(t.argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cd" * 32, r.stderr)
        self.assertIn("fix the trackers file", r.stderr)


class Plaintext(GsTestCase):
    TRACKER_TOML = "tls = false\n"

    def test_tls_off_on_both_sides_works_and_says_so(self):
        d = self.sb.daemon("alice", extra_toml="tls = false\n")
        d.ok("create_user", "alice", "pw-secret")
        d.ok("login", "alice", "pw-secret")
        self.assertIn("TLS IS OFF", d.log())
        self.assertIn("TLS IS OFF", self.sb.trackers[0].log())
        with tlsclient.connect(self.sb.trackers[0].port, tls=False) as s:
            send_frame(s, {"hello": "gs-tracker", "version": 1})
            self.assertEqual(recv_frame(s)["hello"], "gs-tracker")


if __name__ == "__main__":
    unittest.main()
