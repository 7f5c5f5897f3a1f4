"""State files written by the release (tests/assets/release-*.db) under the
real gs-tracker and gsd of this build: both start on them, upgrade them, and
serve what they hold; a state file from a newer build is refused untouched."""

import os
import shutil
import sqlite3
import subprocess
import unittest

import harness

ASSETS = os.path.join(os.path.dirname(__file__), "..", "assets")


def place(asset, directory, name):
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, name)
    shutil.copyfile(os.path.join(ASSETS, asset), path)
    os.chmod(path, 0o600)
    return path


def query(path, sql):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


class ReleaseState(unittest.TestCase):
    def setUp(self):
        for b in (harness.TRACKER_BIN, harness.GSD_BIN, harness.GSCTL_BIN):
            if not os.access(b, os.X_OK):
                self.fail(f"missing binary {b}; set GS_BIN_DIR to the build directory")
        self.sb = harness.Sandbox(trackers=1)
        self.addCleanup(self.sb.close)

    def test_release_files_open_upgrade_and_serve(self):
        tracker_db = place("release-tracker.db", self.sb.trackers[0].state_dir, "tracker.db")
        gsd_db = place("release-gsd.db", os.path.join(self.sb.dir, "bob"), "gsd.db")
        self.sb.start_trackers()
        bob = self.sb.daemon("bob")

        # bob's session in gsd.db is still one the tracker knows.
        harness.wait_until(lambda: bob.json("status").get("user") == "bob", what="bob's session to resume")
        self.assertEqual(bob.json("status")["seat"], "308af5151a3eceac9c47350030bd3674")
        # The tracker's accounts, groups and catalogue came through.
        bob.ok("logout")
        bob.ok("login", "bob", "pw-bob")
        groups = bob.ok("list_groups")
        self.assertIn("alice", groups)
        self.assertIn("a.bin", bob.ok("list_files", "g"))
        # So did gsd's shares (whose files are gone on this machine, so they
        # stop, and leave the catalogue) and its download record.
        for name in ("b.bin", "a-copy.bin"):
            self.assertIn(f"not sharing [g] {name}", bob.log())
        self.assertIn("[C] [g] a.bin", bob.ok("show_downloads"))

        bob.stop()
        self.sb.trackers[0].stop()
        for path, components in ((gsd_db, {"state", "shares", "downloads"}), (tracker_db, {"tracker", "replica"})):
            rows = dict(query(path, "SELECT component, version FROM schema_version"))
            self.assertEqual(set(rows), components, path)
            self.assertEqual(query(path, "PRAGMA user_version"), [(1000,)], path)

    def test_a_newer_state_file_is_refused_untouched(self):
        self.sb.start_trackers()
        state = os.path.join(self.sb.dir, "newer")
        gsd_db = place("release-gsd.db", state, "gsd.db")
        con = sqlite3.connect(gsd_db)
        con.execute("CREATE TABLE schema_version(component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        con.execute("INSERT INTO schema_version VALUES('state', 99)")
        con.commit()
        con.close()
        with open(gsd_db, "rb") as f:
            before = f.read()
        r = subprocess.run([harness.GSD_BIN, "--state-dir", state,
                            "--socket", os.path.join(self.sb.dir, "newer.sock"),
                            "--listen", f"127.0.0.1:{harness.free_port()}",
                            "--trackers", self.sb.trackers_file],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(gsd_db, r.stderr)
        self.assertIn("schema version 99", r.stderr)
        with open(gsd_db, "rb") as f:
            self.assertEqual(f.read(), before, "the refused file was modified")


if __name__ == "__main__":
    unittest.main()
