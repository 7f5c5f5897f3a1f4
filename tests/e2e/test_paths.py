"""Paths and names: traversal names and control characters refused at every
entry point (gsctl, gsd's control socket, the tracker's port), and symbolic
links swapped in for a destination or a shared file never followed.

The swaps happen while a download runs (the seeder is capped, so it lasts a
few seconds) or while gsd is down (killed at a named crash point,
lib/crash_point.h, for a deterministic moment).
"""

import json
import os
import socket

from harness import wait_until
from peerwire import TrackerLink as TrackerClient
from test_crash_points import CAP
from test_transfer import PIECE, TransferCase, digest, make_file

# (name, what the refusal says): what no entry point may accept as a file name.
BAD_NAMES = [
    ("../x", "file name contains '/'"),
    ("a/b", "file name contains '/'"),
    ("..", "file name is '..'"),
    ("a\nb", "file name contains a control character (0x0a)"),
    ("\x1b[2J", "file name contains a control character (0x1b)"),
]


def control_request(sock_path, cmd, args, timeout=10):
    """One request on gsd's control socket; the answer as a dict."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return json.loads(data.splitlines()[0])
    finally:
        s.close()


class NamesRefused(TransferCase):
    def test_gsctl_refuses_traversal_and_control_characters(self):
        a = self.member("a")
        out = os.path.join(self.sb.dir, "out")
        os.mkdir(out)
        for name, problem in BAD_NAMES:
            for args in (["download_file", "g", "--", name, out], ["stop_share", "g", "--", name]):
                r = a.ctl(*args)
                self.assertEqual(r.returncode, 2, f"{args}: {r.returncode} {r.stderr}")
                self.assertIn(problem, r.stderr)
                self.assertNotIn("\x1b", r.stderr)
        # upload_file shares a file under the last part of its PATH.
        odd_dir = os.path.join(self.sb.dir, "odd")
        os.mkdir(odd_dir)
        newline = make_file(os.path.join(odd_dir, "a\nb"), 1000)
        r = a.ctl("upload_file", newline, "g")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("control character (0x0a)", r.stderr)
        r = a.ctl("upload_file", os.path.join(odd_dir, ".."), "g")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("file name is '..'", r.stderr)
        # A path through ".." to a good name is a path like any other.
        good = make_file(os.path.join(self.sb.dir, "good.bin"), 1000)
        a.ok("upload_file", os.path.join(odd_dir, "..", "good.bin"), "g")
        self.assertEqual([f["name"] for f in a.json("list_files", "g")], ["good.bin"])
        self.assertEqual(sorted(os.listdir(out)), [])
        self.assertTrue(os.path.exists(good))

    def test_the_control_socket_refuses_them_too(self):
        a = self.member("a")
        out = os.path.join(self.sb.dir, "out")
        os.mkdir(out)
        for name, problem in BAD_NAMES:
            for cmd, args in (("download_file", {"group": "g", "name": name, "dest": out}),
                              ("stop_share", {"group": "g", "name": name})):
                answer = control_request(a.socket, cmd, args)
                self.assertFalse(answer["ok"], answer)
                self.assertEqual(answer["error"], "bad_request", answer)
                self.assertIn(problem, answer["message"])
                self.assertNotIn("\x1b", answer["message"])
        odd_dir = os.path.join(self.sb.dir, "odd")
        os.mkdir(odd_dir)
        newline = make_file(os.path.join(odd_dir, "a\nb"), 1000)
        answer = control_request(a.socket, "upload_file", {"path": newline, "group": "g"})
        self.assertEqual(answer["error"], "bad_request", answer)
        self.assertIn("path contains a control character (0x0a)", answer["message"])
        answer = control_request(a.socket, "upload_file", {"path": odd_dir + "/..", "group": "g"})
        self.assertEqual(answer["error"], "bad_request", answer)
        self.assertIn("file name is '..'", answer["message"])
        # A destination whose last part is not a file name.
        answer = control_request(a.socket, "download_file",
                                 {"group": "g", "name": "x.bin", "dest": out + "/new\x07line"})
        self.assertEqual(answer["error"], "bad_request", answer)
        self.assertIn("destination contains a control character (0x07)", answer["message"])
        self.assertEqual(a.json("list_files", "g"), [])
        self.assertEqual(os.listdir(out), [])
        self.assertTrue(a.alive())

    def test_the_tracker_refuses_them_from_a_raw_client(self):
        t = self.sb.trackers[0]
        c = TrackerClient(t.port)
        try:
            self.assertTrue(c.call("create_user", user="raw", password="pw")["ok"])
            login = c.call("login", user="raw", password="pw", seat="ab" * 16)
            self.assertTrue(login["ok"], login)
            token = login["token"]
            self.assertTrue(c.call("create_group", token=token, group="rg")["ok"])
            meta = {"size": 0, "piece_size": PIECE, "hashes": "",
                    "file_id": "0" * 64}
            for name, problem in BAD_NAMES:
                for op, fields in (("share_file", dict(meta, group="rg", name=name)),
                                   ("file_info", {"group": "rg", "name": name}),
                                   ("stop_share", {"group": "rg", "name": name})):
                    answer = c.call(op, token=token, **fields)
                    self.assertFalse(answer["ok"], (op, name, answer))
                    self.assertEqual(answer["error"], "bad_request", answer)
                    self.assertIn("field 'name' is not a valid file name: " + problem, answer["message"])
                    self.assertNotIn("\x1b", answer["message"])
            files = c.call("list_files", token=token, group="rg")
            self.assertEqual(files["files"], [])
        finally:
            c.close()
        self.assertTrue(t.alive())


class DestinationSwaps(TransferCase):
    def seeded(self, size=12 * PIECE):
        seeder = self.member("seed", extra_toml=CAP)
        src = make_file(os.path.join(self.sb.dir, "c.bin"), size)
        seeder.ok("upload_file", src, "g")
        return seeder, src

    def failed(self, d, name="c.bin"):
        e = self.download(d, name)
        return e if e and e["state"] == "failed" else None

    def test_a_link_put_at_the_destination_is_never_written_through(self):
        seeder, src = self.seeded()
        leech = self.member("leech", owner=seeder)
        out = os.path.join(self.sb.dir, "out")
        os.mkdir(out)
        victim = os.path.join(self.sb.dir, "victim")
        with open(victim, "wb") as f:
            f.write(b"precious")
        dest = os.path.join(out, "c.bin")
        leech.ok("download_file", "g", "c.bin", dest)
        os.symlink(victim, dest)  # while the download runs
        entry = wait_until(lambda: self.failed(leech), timeout=60, interval=0.2,
                           what="the download to refuse the link")
        self.assertIn("appeared while downloading", entry["error"])
        self.assertTrue(os.path.islink(dest))
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), b"precious")
        # Forced: the link itself is replaced, its target untouched.
        leech.ok("download_file", "g", "c.bin", dest, "--force", "--wait")
        self.assertFalse(os.path.islink(dest))
        self.assertEqual(digest(dest), digest(src))
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), b"precious")

    def test_a_destination_directory_swapped_for_a_link_while_downloading(self):
        # The directory was opened when the download began: the file lands in
        # it, under whatever name it has now, and nothing goes to the link's target.
        seeder, src = self.seeded()
        leech = self.member("leech", owner=seeder)
        out = os.path.join(self.sb.dir, "out")
        os.mkdir(out)
        elsewhere = os.path.join(self.sb.dir, "elsewhere")
        os.mkdir(elsewhere)
        leech.ok("download_file", "g", "c.bin", out)
        moved = os.path.join(self.sb.dir, "moved")
        os.rename(out, moved)
        os.symlink(elsewhere, out)
        self.wait_complete(leech, "c.bin", timeout=90)
        self.assertEqual(digest(os.path.join(moved, "c.bin")), digest(src))
        self.assertEqual(sorted(os.listdir(moved)), ["c.bin"])
        self.assertEqual(os.listdir(elsewhere), [])

    def crashed_mid_download(self):
        """A leecher killed at a committed point halfway, with its out dir."""
        seeder, src = self.seeded()
        leech = self.member("leech", owner=seeder)
        leech.stop()
        leech.env = dict(os.environ, GS_TEST_CRASH_AT="progress_saved@2")
        leech.start()
        out = os.path.join(self.sb.dir, "out")
        os.mkdir(out)
        leech.ok("download_file", "g", "c.bin", out)
        wait_until(lambda: not leech.alive(), timeout=60, interval=0.05, what="gsd to die mid-download")
        self.assertIn("crash point reached", leech.log())
        leech.env = None
        self.assertEqual(os.listdir(out), ["c.bin.gs-part"])
        return leech, src, out

    def test_a_directory_swapped_while_gsd_was_down_is_not_followed(self):
        leech, src, out = self.crashed_mid_download()
        elsewhere = os.path.join(self.sb.dir, "elsewhere")
        os.mkdir(elsewhere)
        moved = os.path.join(self.sb.dir, "moved")
        os.rename(out, moved)
        os.symlink(elsewhere, out)
        leech.start()
        entry = wait_until(lambda: self.failed(leech), timeout=60, interval=0.2,
                           what="the resumed download to refuse the link")
        self.assertIn(out + " is a symbolic link", entry["error"])
        self.assertEqual(os.listdir(elsewhere), [], "written through the link")
        self.assertEqual(os.listdir(moved), ["c.bin.gs-part"])

    def test_a_partial_file_swapped_while_gsd_was_down_is_not_followed(self):
        leech, src, out = self.crashed_mid_download()
        victim = os.path.join(self.sb.dir, "victim")
        with open(victim, "wb") as f:
            f.write(b"precious" * 1000)
        part = os.path.join(out, "c.bin.gs-part")
        os.unlink(part)
        os.symlink(victim, part)
        leech.start()
        entry = wait_until(lambda: self.failed(leech), timeout=60, interval=0.2,
                           what="the resumed download to refuse the link")
        self.assertIn("is a symbolic link", entry["error"])
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), b"precious" * 1000)
        # Started again, the download makes a partial file of its own.
        leech.ok("download_file", "g", "c.bin", out, "--wait")
        self.assertEqual(digest(os.path.join(out, "c.bin")), digest(src))
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), b"precious" * 1000)


class SharedFileSwaps(TransferCase):
    def swap_for_a_link(self, path):
        """Replaces `path` by a link to a hard link of itself: the same bytes
        and inode, so only a check that never follows links notices."""
        aside = path + ".aside"
        os.link(path, aside)
        os.unlink(path)
        os.symlink(aside, path)

    def test_a_shared_file_replaced_by_a_link_is_not_served(self):
        seeder = self.member("seed")
        src = make_file(os.path.join(self.sb.dir, "s.bin"), 4 * PIECE)
        seeder.ok("upload_file", src, "g")
        self.swap_for_a_link(src)
        leech = self.member("leech", owner=seeder)
        out = os.path.join(self.sb.dir, "s.out")
        leech.ok("download_file", "g", "s.bin", out)
        wait_until(lambda: "file was replaced by a symbolic link" in seeder.log(), timeout=30,
                   what="the seeder to refuse the link")
        wait_until(lambda: seeder.json("list_files", "g") == [], timeout=30, interval=0.2,
                   what="the share to leave the catalogue")
        e = self.download(leech, "s.bin")
        self.assertEqual(e["done_bytes"], 0, e)
        self.assertFalse(os.path.exists(out))

    def test_a_link_swapped_in_while_gsd_was_down_is_not_shared_again(self):
        seeder = self.member("seed")
        src = make_file(os.path.join(self.sb.dir, "s.bin"), 4 * PIECE)
        seeder.ok("upload_file", src, "g")
        seeder.stop()
        self.swap_for_a_link(src)
        seeder.start()
        wait_until(lambda: "file was replaced by a symbolic link" in seeder.log(), timeout=30,
                   what="the restarted seeder to refuse the link")
        self.assertIn("not sharing [g] s.bin", seeder.log())
        # Whoever still finds it listed gets nothing from here.
        leech = self.member("leech", owner=seeder)
        out = os.path.join(self.sb.dir, "s.out")
        r = leech.ctl("download_file", "g", "s.bin", out)
        if r.returncode == 0:
            wait_until(lambda: "(user seed) closed" in leech.log(), timeout=30,
                       what="the seeder to turn the leecher away")
            self.assertEqual(self.download(leech, "s.bin")["done_bytes"], 0)
        else:
            self.assertIn("no such file", r.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    import unittest
    unittest.main()
