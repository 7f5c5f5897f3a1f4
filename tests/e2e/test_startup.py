"""Bad config, damaged state, busy ports: a clear one-line error and exit 1,
with nothing else touched."""

import os
import shutil
import subprocess
import unittest

from harness import GSD_BIN, TRACKER_BIN, GsTestCase, free_port

ASSETS = os.path.join(os.path.dirname(__file__), "..", "assets")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def run(argv, timeout=30):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class Startup(GsTestCase):
    def gsd_argv(self, name, *extra):
        return [GSD_BIN, "--state-dir", os.path.join(self.sb.dir, name),
                "--socket", os.path.join(self.sb.dir, f"{name}.sock"),
                "--listen", f"127.0.0.1:{free_port()}", "--trackers", self.sb.trackers_file, *extra]

    def test_damaged_state_files(self):
        state = os.path.join(self.sb.dir, "broken")
        os.makedirs(state)
        damaged = os.path.join(state, "gsd.db")
        shutil.copy(os.path.join(ASSETS, "not-a-database.db"), damaged)
        before = read(damaged)
        r = run(self.gsd_argv("broken"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("gsd.db", r.stderr)
        self.assertEqual(read(damaged), before, "the damaged file was modified")

        tstate = os.path.join(self.sb.dir, "tbroken")
        os.makedirs(tstate)
        shutil.copy(os.path.join(ASSETS, "not-a-database.db"), os.path.join(tstate, "tracker.db"))
        other = os.path.join(self.sb.dir, "trackers2.txt")
        with open(other, "w") as f:
            f.write(f"127.0.0.1 {free_port()}\n")
        r = run([TRACKER_BIN, other, "1", "--state-dir", tstate])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("tracker.db", r.stderr)

    def test_bad_config_names_file_line_and_key(self):
        bad = os.path.join(ASSETS, "bad-types.toml")
        r = run(self.gsd_argv("cfg", "--config", bad))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("bad-types.toml:2", r.stderr)
        self.assertIn("heartbeat_seconds", r.stderr)
        unknown = os.path.join(self.sb.dir, "unknown.toml")
        with open(unknown, "w") as f:
            f.write("[tracker]\n\nsesion_ttl_seconds = 5\n")
        r = run([TRACKER_BIN, self.sb.trackers_file, "1", "--state-dir",
                 os.path.join(self.sb.dir, "t9"), "--config", unknown])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("unknown.toml:3", r.stderr)
        self.assertIn("sesion_ttl_seconds", r.stderr)

    def test_bad_arguments_and_busy_ports(self):
        self.assertEqual(run([GSD_BIN, "--no-such-flag"]).returncode, 2)
        self.assertEqual(run([TRACKER_BIN]).returncode, 2)
        r = run([TRACKER_BIN, self.sb.trackers_file, "7"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("7", r.stderr)
        # Tracker 1 is running: a second one on the same line cannot listen.
        r = run([TRACKER_BIN, self.sb.trackers_file, "1", "--state-dir",
                 os.path.join(self.sb.dir, "t2")])
        self.assertEqual(r.returncode, 1, r.stderr)
        # Two daemons on one peer port: the second says so and exits.
        a = self.sb.daemon("a")
        r = run([GSD_BIN, "--state-dir", os.path.join(self.sb.dir, "b"),
                 "--socket", os.path.join(self.sb.dir, "b.sock"),
                 "--listen", f"127.0.0.1:{a.port}", "--trackers", self.sb.trackers_file])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(a.alive())

    def test_sigterm_exits_cleanly(self):
        a = self.sb.daemon("a")
        self.assertEqual(a.stop(), 0)
        self.assertFalse(os.path.exists(a.socket), "control socket left behind")
        self.assertEqual(self.sb.trackers[0].stop(), 0)


if __name__ == "__main__":
    unittest.main()
